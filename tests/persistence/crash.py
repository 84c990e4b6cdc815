"""Crash test of the SQLite stores: kill -9 under load, reopen, find every reported state.

A child process stores under load from several threads: retained messages, queues it
fills and drains, subscriptions, and sessions whose QoS 1 and 2 flows move both ways,
with their Wills. Before each call it prints what the state will be once the call
has returned, and after the call that it returned. The parent kills it with SIGKILL at
a random moment, reopens the files and checks, worker by worker, that the stored state
is the last one reported, or the one of the call that was under way, and that every
message is intact. Cycles share the files: each cycle's workers use new keys, and the
states verified in earlier cycles must still be there, unchanged.

    python tests/persistence/crash.py --cycles 100      # the full run: ./dev.sh crash

The test command runs a short version (tests/persistence/test_crash.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from mqtt_common.models import Message, Subscription
from mqtt_common.models.constants import PacketType, ProtocolVersion
from mqtt_common.src.session import Session, SqliteSessionStore, Will
from mqtt_common.src.storage import SqliteStorage

STORAGE_FILE = "storage.db"
SESSIONS_FILE = "sessions.db"
WORKERS = {"retained": 2, "queue": 3, "subscriptions": 1, "session": 3}


# What every worker stores is a function of its name and a counter, so the parent can
# rebuild each message and compare it field by field.
def payload(worker: str, n: int) -> bytes:
    return f"{worker}#{n}:".encode() + bytes((n * 7 + i) % 256 for i in range(n % 300))


def message(worker: str, n: int, topic: str, qos: int, retain: bool = False) -> Message:
    properties = {"content_type": "test/crash", "user_properties": [("n", str(n))]}
    return Message(topic, payload(worker, n), qos=qos, retain=retain, properties=properties)


def number(m: Message) -> int:
    """The counter a message was made from."""
    return int(m.properties.user_properties[0][1])


def session_state(session: Session | None) -> Any:
    """What a session holds, as JSON: its in-flight flows both ways and its expiry."""
    if session is None:
        return None
    outgoing = [
        [packet_id, int(stage), None if m is None else [m.topic, number(m), int(m.qos)]]
        for packet_id, stage, m in session.outgoing()
    ]
    return {"out": outgoing, "in": session.incoming(), "expiry": session.expiry_interval}


def will_state(will: Will | None) -> Any:
    if will is None:
        return None
    return [will.message.topic, will.message.payload.hex(), will.delay_interval]


# ---------------------------------------------------------------------------- the child


class Reporter:
    """Prints one JSON line per event; a line shorter than PIPE_BUF is written whole."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __call__(self, **event: Any) -> None:
        line = (json.dumps(event, separators=(",", ":")) + "\n").encode()
        with self._lock:
            os.write(1, line)


def around(report: Reporter, worker: str, after: Any, call: Callable[[], Any]) -> Any:
    """Report the state ``after`` the call will leave, make the call, report it returned."""
    report(w=worker, k="B", s=after)
    result = call()
    report(w=worker, k="E")
    return result


def retained_worker(report: Reporter, storage: SqliteStorage, worker: str) -> None:
    topic = f"{worker}/last"
    for n in range(1, 1_000_000):
        m = message(worker, n, topic, qos=1, retain=True)
        around(report, worker, n, partial(storage.store_retained, m))


def queue_worker(
    report: Reporter, storage: SqliteStorage, worker: str, rng: random.Random
) -> None:
    queue: list[int] = []
    n = 0
    while True:
        if rng.random() < 0.65 or not queue:
            n += 1
            queue.append(n)
            m = message(worker, n, f"{worker}/q", qos=rng.choice([1, 2]))
            around(report, worker, queue, partial(storage.enqueue, worker, m))
        else:
            limit = rng.randint(1, 4)
            taken = around(report, worker, queue[limit:], partial(storage.dequeue, worker, limit))
            got = [number(m) for m in taken]
            if got != queue[:limit]:  # the parent sees the child die with this message
                raise AssertionError(f"{worker} dequeued {got}, expected {queue[:limit]}")
            del queue[:limit]


def subscriptions_worker(
    report: Reporter, storage: SqliteStorage, worker: str, rng: random.Random
) -> None:
    held: dict[str, int] = {}
    while True:
        topic_filter = f"{worker}/{rng.randint(0, 9)}/#"
        if topic_filter in held and rng.random() < 0.5:
            del held[topic_filter]
            around(
                report,
                worker,
                sorted(held.items()),
                partial(storage.remove_subscription, worker, topic_filter),
            )
        else:
            qos = rng.randint(0, 2)
            held[topic_filter] = qos
            sub = Subscription(topic_filter, qos)
            around(
                report,
                worker,
                sorted(held.items()),
                partial(storage.add_subscription, worker, sub),
            )


def session_worker(
    report: Reporter, store: SqliteSessionStore, worker: str, rng: random.Random
) -> None:
    fresh = {"out": [], "in": [], "expiry": 3600}
    session, _ = around(
        report,
        worker,
        fresh,
        lambda: store.create_session(worker, False, 3600, ProtocolVersion.V5),
    )
    n = 0
    next_incoming = 1
    while True:
        n += 1
        choice = rng.random()
        if choice < 0.08:
            will = Will(message(worker, n, f"{worker}/will", qos=1), delay_interval=n % 50)
            around(
                report, worker + "/will", will_state(will), partial(store.set_will, worker, will)
            )
            continue
        outgoing = session.outgoing()
        if choice < 0.4 or (not outgoing and choice < 0.7):
            session.send_publish(message(worker, n, f"{worker}/out", qos=rng.choice([1, 2])))
        elif choice < 0.7:
            packet_id, awaited, _ = outgoing[0]
            if awaited == PacketType.PUBACK:
                session.puback_received(packet_id)
            elif awaited == PacketType.PUBREC:
                session.pubrec_received(packet_id)
            else:
                session.pubcomp_received(packet_id)
        elif choice < 0.85 or not session.incoming():
            incoming = message(worker, n, f"{worker}/in", qos=2).replace(message_id=next_incoming)
            next_incoming = next_incoming % 65535 + 1
            session.publish_received(incoming)
        else:
            session.pubrel_received(session.incoming()[0])
        state = session_state(session)
        around(report, worker, state, lambda: store.save_session(session))


def child(directory: Path, cycle: int, seed: int) -> None:
    storage = SqliteStorage(directory / STORAGE_FILE, max_queue_length=None)
    sessions = SqliteSessionStore(directory / SESSIONS_FILE)
    report = Reporter()
    threads = []
    for kind, count in WORKERS.items():
        for i in range(count):
            worker = f"c{cycle}-{kind}-{i}"
            rng = random.Random(f"{seed}/{worker}")
            target: Callable[..., None]
            args: tuple[Any, ...]
            if kind == "retained":
                target, args = retained_worker, (report, storage, worker)
            elif kind == "queue":
                target, args = queue_worker, (report, storage, worker, rng)
            elif kind == "subscriptions":
                target, args = subscriptions_worker, (report, storage, worker, rng)
            else:
                target, args = session_worker, (report, sessions, worker, rng)
            threads.append(threading.Thread(target=target, args=args, daemon=True))
    report(k="ready")
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# --------------------------------------------------------------------------- the parent


@dataclass
class Worker:
    """One worker's reported history: its last returned state and the call under way."""

    confirmed: Any = None
    pending: Any = None
    in_flight: bool = False
    calls: int = 0


def stored_state(worker: str, storage: SqliteStorage, sessions: SqliteSessionStore) -> Any:
    """Read a worker's state back from the stores, checking each message is intact."""
    kind = worker.split("-")[1]
    if worker.endswith("/will"):
        return will_state(sessions.get_will(worker.removesuffix("/will")))
    if kind == "retained":
        found = storage.get_retained(f"{worker}/last")
        if not found:
            return None
        (m,) = found
        n = number(m)
        assert m == message(worker, n, f"{worker}/last", qos=1, retain=True), m
        return n
    if kind == "queue":
        # Reading a queue drains it: put the messages back, in order, once checked.
        taken = storage.dequeue(worker)
        numbers = []
        for m in taken:
            n = number(m)
            assert m == message(worker, n, f"{worker}/q", qos=int(m.qos)), m
            numbers.append(n)
            storage.enqueue(worker, m)
        return numbers or None
    if kind == "subscriptions":
        held = sorted([s.topic_filter, int(s.qos)] for s in storage.get_subscriptions(worker))
        return held or None
    session = sessions.get_session(worker)
    if session is not None:
        for _, _, sent in session.outgoing():
            if sent is not None:
                expected = message(worker, number(sent), f"{worker}/out", qos=int(sent.qos))
                assert sent.replace(message_id=None, dup=False) == expected, sent
    return session_state(session)


def normalise(state: Any) -> Any:
    """A reported state as it reads back: an empty queue or subscription list is None."""
    if state == [] or state is None:
        return None
    return json.loads(json.dumps(state))


def short(state: Any) -> str:
    text = repr(state)
    return text if len(text) < 400 else text[:200] + " ... " + text[-200:]


@dataclass
class CrashReport:
    """What the crash test saw."""

    cycles: int = 0
    calls_confirmed: int = 0
    in_flight_at_kill: int = 0
    in_flight_landed: int = 0
    failures: list[str] = field(default_factory=list)


def kill_under_load(
    directory: Path, cycle: int, seed: int, wait: float
) -> tuple[list[bytes], str]:
    """Start a child storing under load, SIGKILL it ``wait`` s after it is ready; return
    the lines it printed and its stderr."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", str(directory), str(cycle), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stdout = proc.stdout
    assert stdout is not None
    lines: list[bytes] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(stdout.readline, b"")))
    reader.start()
    deadline = time.monotonic() + 20
    while not lines and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    time.sleep(wait)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    reader.join(timeout=10)
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    return lines, stderr


def replay(lines: list[bytes]) -> dict[str, Worker]:
    """Each worker's last returned state and the call it had under way, from its lines."""
    workers: dict[str, Worker] = {}
    for raw in lines:
        if not raw.endswith(b"\n"):
            continue  # cut by the kill: the call it announced never began for us
        event = json.loads(raw)
        worker = workers.setdefault(event["w"], Worker())
        if event["k"] == "B":
            worker.pending, worker.in_flight = event["s"], True
        else:
            worker.confirmed, worker.in_flight = worker.pending, False
            worker.calls += 1
    return workers


def check(
    directory: Path,
    cycle: int,
    workers: dict[str, Worker],
    report: CrashReport,
    verified: dict[str, Any],
) -> None:
    """Reopen the stores: each worker's state is its last reported one, or the one of the
    call under way; the states verified in earlier cycles are unchanged."""
    with (
        SqliteStorage(directory / STORAGE_FILE, max_queue_length=None) as storage,
        SqliteSessionStore(directory / SESSIONS_FILE) as sessions,
    ):
        for name, worker in sorted(workers.items()):
            found = normalise(stored_state(name, storage, sessions))
            allowed = [normalise(worker.confirmed)]
            if worker.in_flight:
                report.in_flight_at_kill += 1
                allowed.append(normalise(worker.pending))
            if found not in allowed:
                report.failures.append(
                    f"cycle {cycle}: {name} holds {short(found)}, reported {short(allowed)}"
                )
            elif worker.in_flight and found == allowed[1] != allowed[0]:
                report.in_flight_landed += 1
            verified[name] = found
        for name, expected in verified.items():
            if name in workers:
                continue
            found = normalise(stored_state(name, storage, sessions))
            if found != expected:
                report.failures.append(
                    f"cycle {cycle}: {name} from an earlier cycle changed to {short(found)}"
                )


def run_cycle(
    directory: Path, cycle: int, rng: random.Random, report: CrashReport, verified: dict[str, Any]
) -> None:
    """One cycle: kill a child under load, then check what it reported against the files."""
    lines, stderr = kill_under_load(
        directory, cycle, rng.randrange(1 << 30), rng.uniform(0.2, 1.2)
    )
    if not lines or json.loads(lines[0]) != {"k": "ready"}:
        report.failures.append(f"cycle {cycle}: the child did not start: {stderr[-2000:]}")
        return
    if "Traceback" in stderr:
        report.failures.append(f"cycle {cycle}: the child failed: {stderr[-2000:]}")
    workers = replay(lines[1:])
    report.calls_confirmed += sum(w.calls for w in workers.values())
    check(directory, cycle, workers, report, verified)
    report.cycles += 1


def run(directory: Path, cycles: int, seed: int = 0) -> CrashReport:
    """Run ``cycles`` kill-and-check cycles on the stores in ``directory``."""
    rng = random.Random(seed)
    report = CrashReport()
    verified: dict[str, Any] = {}
    for cycle in range(cycles):
        run_cycle(directory, cycle, rng, report, verified)
    return report


def main() -> int:
    """The full run: print the figures; exit 1 on any lost or damaged state."""
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--dir", type=Path, help="where the files go (default: a temp dir)")
    args = parser.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        directory = args.dir or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        report = run(directory, args.cycles, args.seed)
        took = time.monotonic() - started
    print(
        f"{report.cycles} kill -9 cycles in {took:.0f} s (seed {args.seed}): "
        f"{report.calls_confirmed} calls returned and checked, {report.in_flight_at_kill} "
        f"calls under way at the kill ({report.in_flight_landed} of them landed)"
    )
    for failure in report.failures:
        print("FAILED:", failure)
    print(f"lost or damaged states: {len(report.failures)}")
    return 0 if not report.failures and report.cycles == args.cycles else 1


if __name__ == "__main__":
    sys.exit(main())
