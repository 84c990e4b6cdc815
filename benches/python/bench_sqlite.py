"""SqliteStorage against Python's sqlite3 with one commit per call, and MemoryStorage.

Run with ``./dev.sh bench`` (or ``python benches/python/bench_sqlite.py``). Durable
writes per second with 1, 8 and 64 threads writing at once, each call returning only
once its data is on the disk: ``SqliteStorage`` (group commit, ``durability="full"``)
against the same statements through ``sqlite3`` with one commit per call (WAL,
``synchronous=FULL``, a connection per thread) and against ``MemoryStorage`` (no disk at
all); "no fsync" is ``SqliteStorage(durability="process_crash_only")``, which shows
what the threads themselves cost. Then the same writes from 1, 8 and 64 asyncio tasks
through ``AsyncStorageInterface.adapt``, which starts SQLite writes without a thread
per call, against the same sqlite3 figures. Then the hot-path reads against ``MemoryStorage``, on
100,000 subscriptions and retained topics, after a reopen of the file. Nothing is
asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench_topic_index import METRICS, topics, workload

from mqtt_common import Message, Subscription
from mqtt_common.src.storage import (
    AsyncStorageInterface,
    MemoryStorage,
    SqliteStorage,
    StorageInterface,
)

WRITERS = (1, 8, 64)
PAYLOAD = bytes(range(248))


def payload(n: int) -> bytes:
    """256 bytes that differ from call to call, as a sensor's readings do."""
    return PAYLOAD + n.to_bytes(8, "big")


# One operation of a writer thread: (thread number, counter) -> None.
Operation = Callable[[int, int], None]


class Sqlite3OneCommitPerCall:
    """What a Python backend on sqlite3 does: each call its own transaction.

    The same tables and statements as ``SqliteStorage`` writes (storing the payload
    alone, not an encoded message), a connection per thread (sqlite3 connections are not
    shared between threads), WAL and ``synchronous=FULL`` for the same durability.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.local = threading.local()
        db = self.connection()
        db.execute(
            "CREATE TABLE retained (topic TEXT PRIMARY KEY NOT NULL, message BLOB NOT NULL) "
            "WITHOUT ROWID"
        )
        db.execute(
            "CREATE TABLE queued (id INTEGER PRIMARY KEY, client_id TEXT NOT NULL, "
            "message BLOB NOT NULL)"
        )
        db.execute("CREATE INDEX queued_by_client ON queued (client_id, id)")

    def connection(self) -> sqlite3.Connection:
        """Return this thread's connection, opening it on first use."""
        db: sqlite3.Connection | None = getattr(self.local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=600, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            self.local.db = db
        return db

    def store_retained(self, message: Message) -> None:
        """Store a retained message, in its own transaction."""
        db = self.connection()
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            "INSERT OR REPLACE INTO retained (topic, message) VALUES (?, ?)",
            (message.topic, message.payload),
        )
        db.execute("COMMIT")

    def enqueue(self, client_id: str, message: Message) -> None:
        """Queue a message, in its own transaction."""
        db = self.connection()
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            "INSERT INTO queued (client_id, message) VALUES (?, ?)", (client_id, message.payload)
        )
        db.execute("COMMIT")

    def dequeue(self, client_id: str, limit: int) -> list[bytes]:
        """Take the oldest messages of a queue, in one transaction."""
        db = self.connection()
        db.execute("BEGIN IMMEDIATE")
        rows = db.execute(
            "SELECT message FROM queued WHERE client_id = ? ORDER BY id LIMIT ?",
            (client_id, limit),
        ).fetchall()
        db.execute(
            "DELETE FROM queued WHERE id IN "
            "(SELECT id FROM queued WHERE client_id = ? ORDER BY id LIMIT ?)",
            (client_id, limit),
        )
        db.execute("COMMIT")
        return [message for (message,) in rows]


def enqueue_dequeue(storage: StorageInterface | Sqlite3OneCommitPerCall) -> Operation:
    """Queue a message for an offline client, then take it when the client is back."""

    def operation(thread: int, n: int) -> None:
        client = f"client-{thread}"
        storage.enqueue(client, Message(f"q/{thread}", payload(n), qos=1))
        storage.dequeue(client, 1)

    return operation


def store_retained(storage: StorageInterface | Sqlite3OneCommitPerCall) -> Operation:
    """Store a retained message in place of its topic's previous one."""

    def operation(thread: int, n: int) -> None:
        topic = f"r/{thread}/{n % 16}"
        storage.store_retained(Message(topic, payload(n), qos=1, retain=True))

    return operation


def per_second(operation: Operation, writers: int, seconds: float) -> float:
    """Operations per second, ``writers`` threads each running it back to back."""
    stop = time.perf_counter() + seconds
    counts = [0] * writers
    start_line = threading.Barrier(writers + 1)

    def writer(thread: int) -> None:
        start_line.wait()
        n = 0
        while time.perf_counter() < stop:
            operation(thread, n)
            n += 1
        counts[thread] = n

    with ThreadPoolExecutor(writers) as pool:
        futures = [pool.submit(writer, t) for t in range(writers)]
        began = time.perf_counter()
        start_line.wait()
        for future in futures:
            future.result()
        took = time.perf_counter() - began
    return sum(counts) / took


def paired_us(
    mine: Callable[[str], object], other: Callable[[str], object], probes: list[str]
) -> tuple[float, float]:
    """Return the median microseconds per call of each.

    The rounds alternate between them (after a warm-up round of each), so that both see
    the same machine.
    """
    samples: tuple[list[float], list[float]] = ([], [])
    for round_ in range(16):
        for func, times in ((mine, samples[0]), (other, samples[1])):
            start = time.perf_counter_ns()
            for topic in probes:
                func(topic)
            if round_:
                times.append((time.perf_counter_ns() - start) / len(probes) / 1000)
    return statistics.median(samples[0]), statistics.median(samples[1])


def bench_writes(directory: Path, seconds: float) -> dict[tuple[str, int], float]:
    """Print the threads table; return the sqlite3 figures, the anchors of the next."""
    anchors: dict[tuple[str, int], float] = {}
    header = (
        f"{'durable writes per second':<26} {'writers':>7} {'SqliteStorage':>13} "
        f"{'sqlite3':>8} {'ratio':>6} {'no fsync':>9} {'Memory':>9}"
    )
    print(header)
    print("-" * len(header))
    for label, make in (
        ("enqueue + dequeue", enqueue_dequeue),
        ("store_retained", store_retained),
    ):
        for writers in WRITERS:
            tag = f"{make.__name__}-{writers}"
            ours = SqliteStorage(directory / f"ours-{tag}.db", max_queue_length=None)
            anchor = Sqlite3OneCommitPerCall(directory / f"sqlite3-{tag}.db")
            weaker = SqliteStorage(
                directory / f"weaker-{tag}.db",
                max_queue_length=None,
                durability="process_crash_only",
            )
            memory = MemoryStorage(max_queue_length=None)
            mine = per_second(make(ours), writers, seconds)
            theirs = per_second(make(anchor), writers, seconds)
            unsynced = per_second(make(weaker), writers, seconds)
            fastest = per_second(make(memory), writers, seconds)
            ours.close()
            weaker.close()
            anchors[(label, writers)] = theirs
            print(
                f"{label:<26} {writers:>7} {mine:>13,.0f} {theirs:>8,.0f} "
                f"{mine / theirs:>5.1f}x {unsynced:>9,.0f} {fastest:>9,.0f}"
            )
    return anchors


async def async_per_second(
    storage: StorageInterface, kind: str, writers: int, seconds: float
) -> float:
    """Operations per second, ``writers`` asyncio tasks awaiting the adapted storage."""
    adapted = AsyncStorageInterface.adapt(storage)
    stop = time.perf_counter() + seconds
    counts = [0] * writers

    async def writer(task: int) -> None:
        n = 0
        while time.perf_counter() < stop:
            if kind == "enqueue + dequeue":
                message = Message(f"q/{task}", payload(n), qos=1)
                await adapted.enqueue(f"client-{task}", message)
                await adapted.dequeue(f"client-{task}", 1)
            else:
                topic = f"r/{task}/{n % 16}"
                await adapted.store_retained(Message(topic, payload(n), qos=1, retain=True))
            n += 1
        counts[task] = n

    began = time.perf_counter()
    await asyncio.gather(*(writer(task) for task in range(writers)))
    return sum(counts) / (time.perf_counter() - began)


def bench_async_writes(
    directory: Path, seconds: float, anchors: dict[tuple[str, int], float]
) -> None:
    header = (
        f"{'asyncio writers (adapted)':<26} {'tasks':>7} {'SqliteStorage':>13} "
        f"{'sqlite3':>8} {'ratio':>6} {'Memory':>9}"
    )
    print()
    print(header)
    print("-" * len(header))
    for kind in ("enqueue + dequeue", "store_retained"):
        for writers in WRITERS:
            ours = SqliteStorage(
                directory / f"async-{kind[:5]}-{writers}.db", max_queue_length=None
            )
            mine = asyncio.run(async_per_second(ours, kind, writers, seconds))
            ours.close()
            memory = MemoryStorage(max_queue_length=None)
            fastest = asyncio.run(async_per_second(memory, kind, writers, seconds))
            theirs = anchors[(kind, writers)]
            print(
                f"{kind:<26} {writers:>7} {mine:>13,.0f} {theirs:>8,.0f} "
                f"{mine / theirs:>5.1f}x {fastest:>9,.0f}"
            )


def bench_reads(directory: Path, size: int) -> None:
    rng = random.Random(11)
    sites = max(size // 100, 1)
    path = directory / "reads.db"
    memory = MemoryStorage(max_queue_length=None)
    pairs = workload(size, rng)
    retained = [
        Message(
            f"site/{i % sites}/device/{i // sites}/{METRICS[i % len(METRICS)]}",
            b"21.5",
            retain=True,
        )
        for i in range(size)
    ]
    for (client_id, topic_filter), message in zip(pairs, retained, strict=True):
        memory.add_subscription(client_id, Subscription(topic_filter, 1))
        memory.store_retained(message)
    began = time.perf_counter()
    with SqliteStorage(path, max_queue_length=None, durability="process_crash_only") as loading:

        def load(part: int) -> None:
            for (client_id, topic_filter), message in zip(
                pairs[part::8], retained[part::8], strict=True
            ):
                loading.add_subscription(client_id, Subscription(topic_filter, 1))
                loading.store_retained(message)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(load, range(8)))
    loaded = time.perf_counter() - began
    began = time.perf_counter()
    ours = SqliteStorage(path, max_queue_length=None)
    opened = time.perf_counter() - began
    print(
        f"\n{size:,} subscriptions and retained messages: written by 8 threads in "
        f"{loaded:.1f} s; the file reopened (index and retained tree rebuilt) in "
        f"{opened * 1000:.0f} ms"
    )
    probe_topics = topics(size, 1000, rng)
    exact = topics(size, 1000, rng)
    plus = [f"site/{rng.randrange(sites)}/device/+/{rng.choice(METRICS)}" for _ in range(20)]
    hashes = [f"site/{rng.randrange(sites)}/#" for _ in range(20)]
    for probe in probe_topics[:100]:
        assert len(ours.get_subscribers(probe)) == len(memory.get_subscribers(probe))
    header = f"{'hot-path read':<34} {'SqliteStorage':>13} {'MemoryStorage':>13} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    rows = [
        ("get_subscribers(topic)", probe_topics, ours.get_subscribers, memory.get_subscribers),
        ("get_retained(exact topic)", exact, ours.get_retained, memory.get_retained),
        ("get_retained('site/N/device/+/m')", plus, ours.get_retained, memory.get_retained),
        ("get_retained('site/N/#')", hashes, ours.get_retained, memory.get_retained),
    ]
    for label, probes, mine, other in rows:
        a, b = paired_us(mine, other, probes)
        print(f"{label:<34} {a:>10.2f} us {b:>10.2f} us {a / b:>6.2f}x")
    ours.close()


def main() -> None:
    """Print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    parser.add_argument("--size", type=int, default=100_000, help="for the reads")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.cwd() / "target") as scratch:
        print(f"SQLite storage, files in {Path(scratch).parent} ({args.seconds:.0f} s each)")
        anchors = bench_writes(Path(scratch), args.seconds)
        bench_async_writes(Path(scratch), args.seconds, anchors)
        bench_reads(Path(scratch), args.size)


if __name__ == "__main__":
    main()
