"""Nothing acknowledged is lost when the broker is killed: a crash test through real
clients.

Persistent subscribers (MQTT 5.0 and 3.1.1) are mostly away; now and then some connect,
receive, and leave part of what they got unacknowledged. Publishers send QoS 1 messages
and retained updates. The broker (``--data-dir``) is killed with SIGKILL at a random
moment, again and again. After the last restart every subscriber collects what it is
owed, and the run checks:

* every message a publisher got a PUBACK for reached every persistent subscriber, at
  some point of the run (duplicates are allowed at QoS 1, and counted);
* every retained topic holds the last value acknowledged to its publisher, or a later
  one.

With ``--store redis`` the broker keeps its state in a ``redis-server`` of the run's own
(``appendfsync always``) instead of ``--data-dir``, and in the middle cycle Redis
itself is killed with SIGKILL under the load, then restarted on the same append-only
file, before the broker is killed.

``python tests/persistence/broker_crash.py --cycles 100`` (``./dev.sh crash``); the test
command runs a few cycles (``tests/persistence/test_broker_crash.py``).
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from reference_broker import support  # noqa: E402
from reference_broker.support import broker_process  # noqa: E402

V5 = MQTTProtocolVersion.MQTTv5
V311 = MQTTProtocolVersion.MQTTv311
SUBSCRIBERS = [
    ("crash-sub-5a", V5),
    ("crash-sub-5b", V5),
    ("crash-sub-3a", V311),
    ("crash-sub-3b", V311),
]
RETAINED_KEYS = 3


@dataclass
class Record:
    """What the clients saw over the whole run."""

    acknowledged: set[str] = field(default_factory=set)
    received: dict[str, Counter[str]] = field(default_factory=dict)
    retained_acknowledged: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def got(self, client_id: str, payload: str) -> None:
        """Note a message a subscriber received."""
        with self.lock:
            self.received.setdefault(client_id, Counter())[payload] += 1


def session_properties() -> Properties:
    """A 5.0 CONNECT that keeps its session for an hour."""
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = 3600
    return properties


def make_client(client_id: str, version: MQTTProtocolVersion, **kwargs: Any) -> mqtt.Client:
    """A paho client that never reconnects by itself."""
    options: dict[str, Any] = {"client_id": client_id, "protocol": version}
    if version != V5:
        options["clean_session"] = False
    return mqtt.Client(
        CallbackAPIVersion.VERSION2, reconnect_on_failure=False, **options, **kwargs
    )


def connect(client: mqtt.Client, port: int, version: MQTTProtocolVersion) -> bool:
    """Connect (a persistent session); whether the CONNACK came."""
    done = threading.Event()
    client.on_connect = lambda *_: done.set()
    try:
        if version == V5:
            client.connect("127.0.0.1", port, clean_start=False, properties=session_properties())
        else:
            client.connect("127.0.0.1", port)
    except OSError:
        return False
    client.loop_start()
    return done.wait(5)


def subscriber(
    client_id: str,
    version: MQTTProtocolVersion,
    record: Record,
    ack_share: float,
    rng: random.Random,
) -> mqtt.Client:
    """A subscriber that records what it gets and acknowledges a share of it."""
    client = make_client(client_id, version, manual_ack=True)

    def on_message(c: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if message.topic.startswith("crash/m/"):
            record.got(client_id, message.payload.decode())
        if rng.random() < ack_share:
            c.ack(message.mid, message.qos)

    client.on_message = on_message
    return client


@dataclass
class Publisher:
    """A publishing client's name, version, and the number it publishes from."""

    name: str
    version: MQTTProtocolVersion
    number: int = 0


def publish_until_killed(
    port: int, publisher: Publisher, record: Record, stop: threading.Event
) -> None:
    """Publish QoS 1 messages and retained updates until ``stop``."""
    name, version = publisher.name, publisher.version
    client = make_client(f"crash-pub-{name}", version)
    client.max_inflight_messages_set(20)
    sent: dict[int, tuple[str, str, int]] = {}
    lock = threading.Lock()

    def on_publish(c: Any, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        with lock:
            kind, value, number = sent.pop(mid, ("", "", 0))
        code = int(getattr(reason, "value", reason))
        if kind and code < 0x80:
            with record.lock:
                if kind == "m":
                    record.acknowledged.add(value)
                else:
                    best = record.retained_acknowledged.get(value, -1)
                    record.retained_acknowledged[value] = max(best, number)

    client.on_publish = on_publish
    number = publisher.number
    if not connect(client, port, version):
        return
    try:
        while not stop.is_set() and client.is_connected():
            number += 1
            if number % 10 == 0:
                key = f"crash/r/{name}-{number % RETAINED_KEYS}"
                info = client.publish(key, str(number).encode(), qos=1, retain=True)
                entry = ("r", key, number)
            else:
                payload = f"{name}-{number}"
                info = client.publish(f"crash/m/{name}", payload.encode(), qos=1)
                entry = ("m", payload, number)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                break
            with lock:
                sent[info.mid] = entry
            time.sleep(0.002)
    finally:
        client.loop_stop()
        publisher.number = number


def subscribe_all(port: int, record: Record, rng: random.Random) -> None:
    """Make the subscribers' sessions and subscriptions, then leave."""
    for client_id, version in SUBSCRIBERS:
        client = subscriber(client_id, version, record, 1.0, rng)
        assert connect(client, port, version), f"{client_id} could not connect"
        done = threading.Event()
        client.on_subscribe = lambda *_, done=done: done.set()
        client.subscribe("crash/m/#", qos=1)
        assert done.wait(5), "no SUBACK"
        client.disconnect()
        client.loop_stop()


def one_cycle(
    port: int, kill: Any, publishers: list[Publisher], record: Record, rng: random.Random
) -> None:
    """Some subscribers connect, the publishers publish, and the broker is killed."""
    listeners = []
    for client_id, version in SUBSCRIBERS:
        if rng.random() < 0.3:
            client = subscriber(client_id, version, record, rng.choice([0.0, 0.5, 1.0]), rng)
            if connect(client, port, version):
                listeners.append(client)
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=publish_until_killed, args=(port, publisher, record, stop), daemon=True
        )
        for publisher in publishers
    ]
    for thread in threads:
        thread.start()
    time.sleep(rng.uniform(0.2, 1.2))
    kill()
    stop.set()
    for thread in threads:
        thread.join(10)
    for client in listeners:
        client.loop_stop()


def collect(port: int, record: Record, rng: random.Random) -> dict[str, int]:
    """Every subscriber takes what it is owed; return the retained values held."""
    listeners = []
    for client_id, version in SUBSCRIBERS:
        client = subscriber(client_id, version, record, 1.0, rng)
        assert connect(client, port, version), f"{client_id} could not reconnect"
        listeners.append(client)
    quiet_since, last_total = time.monotonic(), -1
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with record.lock:
            total = sum(sum(c.values()) for c in record.received.values())
        if total != last_total:
            quiet_since, last_total = time.monotonic(), total
        elif time.monotonic() - quiet_since > 2.0:
            break
        time.sleep(0.1)
    retained: dict[str, int] = {}
    checker = make_client("crash-checker", V5)
    checker.on_message = lambda c, u, m: retained.__setitem__(m.topic, int(m.payload))
    assert connect(checker, port, V5)
    checker.subscribe("crash/r/#", qos=1)
    time.sleep(1.0)
    checker.disconnect()
    checker.loop_stop()
    for client in listeners:
        client.disconnect()
        client.loop_stop()
    return retained


def report(
    record: Record, retained: dict[str, int], cycles: int, seed: int, elapsed: float
) -> tuple[bool, str]:
    """Check what reached whom; return whether nothing was lost, and the report."""
    lost = {
        client_id: sorted(record.acknowledged - set(record.received.get(client_id, {})))
        for client_id, _ in SUBSCRIBERS
    }
    stale = {
        key: (retained.get(key), number)
        for key, number in record.retained_acknowledged.items()
        if retained.get(key, -1) < number
    }
    duplicates = sum(
        count - 1 for counts in record.received.values() for count in counts.values() if count > 1
    )
    lines = [
        f"{cycles} kill -9 cycles in {elapsed:.0f} s (seed {seed}): "
        f"{len(record.acknowledged)} QoS 1 messages acknowledged, "
        f"{len(record.retained_acknowledged)} retained topics, "
        f"{len(SUBSCRIBERS)} persistent subscribers",
        f"acknowledged messages lost: {sum(len(v) for v in lost.values())}",
        f"retained topics behind their last acknowledged value: {len(stale)}",
        f"duplicates received (allowed at QoS 1): {duplicates}",
    ]
    for client_id, missing in lost.items():
        if missing:
            lines.append(f"  {client_id} never got {len(missing)}: {missing[:10]}")
    for key, (held, acked) in stale.items():
        lines.append(f"  {key} holds {held}, acknowledged {acked}")
    passed = not any(lost.values()) and not stale and bool(record.acknowledged)
    return passed, "\n".join(lines)


def run(
    cycles: int,
    seed: int,
    workdir: Path,
    *,
    verbose: bool = True,
    broker: str = "python",
    store: str = "sqlite",
) -> tuple[bool, str]:
    """Run the crash test against ``broker`` ("python" or "tokio") keeping its state in
    ``store`` ("sqlite": ``--data-dir``; "redis": ``--redis-url``); return whether it
    passed, and its report."""
    support.KIND = broker
    try:
        if store == "redis":
            with support.redis_server(workdir / "redis") as redis:
                options = ("--redis-url", redis.url, "--redis-prefix", "crash")
                return crash(cycles, seed, options, verbose, redis)
        return crash(cycles, seed, ("--data-dir", str(workdir / "data")), verbose, None)
    finally:
        support.KIND = "python"


def crash(
    cycles: int,
    seed: int,
    store_options: tuple[str, ...],
    verbose: bool,
    redis: support.RedisServer | None,
) -> tuple[bool, str]:
    """The crash test's cycles, against the broker ``support.KIND`` names."""
    rng = random.Random(seed)
    record = Record()
    started = time.monotonic()
    options = (*store_options, "--max-queued", "1000000", "--log-level", "WARNING")
    publishers = [Publisher("a", V5), Publisher("b", V311)]
    with broker_process(*options) as broker:
        subscribe_all(broker.port, record, rng)
    for cycle in range(cycles):
        with broker_process(*options) as broker:

            def kill(process: Any = broker.process) -> None:
                process.kill()
                process.wait()

            if redis is not None and cycle == cycles // 2:
                # Redis itself dies under the load; the broker fails the calls meanwhile
                # (nothing is acknowledged), then finds it again on the same files.
                def kill_redis_then_broker(process: Any = broker.process) -> None:
                    redis.kill()
                    time.sleep(0.3)
                    redis.start()
                    time.sleep(0.5)
                    process.kill()
                    process.wait()

                one_cycle(broker.port, kill_redis_then_broker, publishers, record, rng)
                if verbose:
                    print(f"cycle {cycle + 1}: redis-server killed and restarted", flush=True)
                continue
            one_cycle(broker.port, kill, publishers, record, rng)
        if verbose:
            print(
                f"cycle {cycle + 1}/{cycles}: {len(record.acknowledged)} acknowledged so far",
                flush=True,
            )
    with broker_process(*options) as broker:
        retained = collect(broker.port, record, rng)
    return report(record, retained, cycles, seed, time.monotonic() - started)


def main() -> int:
    """Run from the command line."""
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    parser.add_argument("--broker", choices=["python", "tokio"], default="python")
    parser.add_argument("--store", choices=["sqlite", "redis"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        passed, report = run(
            args.cycles, args.seed, Path(workdir), broker=args.broker, store=args.store
        )
    print(report)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
