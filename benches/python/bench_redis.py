"""The Redis stores against redis-py's asyncio client issuing the same commands.

Run with ``./dev.sh bench`` (or ``python benches/python/bench_redis.py``). Operations
per second with 1, 8 and 64 asyncio tasks calling at once, against a ``redis-server``
of the run's own on loopback (``appendfsync everysec``: Redis' own cost per write stays
small, so what is compared is the clients): a queued message stored
(``AsyncRedisStorage.enqueue_entry``; redis-py: ``HSET`` of a record of the same size
into the same kind of key) and a queue's length read (``queue_length``; ``HLEN``).
redis-py gets a connection pool (a connection per task that waits); the stores share
one pipelined connection on the extension's runtime. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import redis.asyncio as redis_py

from mqtt_common import Message
from mqtt_common.src.storage import AsyncRedisStorage

TESTS = Path(__file__).resolve().parent.parent.parent / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from reference_broker.support import redis_server  # noqa: E402

TASKS = (1, 8, 64)
PAYLOAD = b"x" * 256


async def rate(calls: int, tasks: int, call: Callable[[int], Awaitable[object]]) -> float:
    """Return the calls per second of ``tasks`` tasks sharing ``calls`` calls."""
    each = calls // tasks

    async def worker(first: int) -> None:
        for n in range(first, first + each):
            await call(n)

    started = time.perf_counter()
    await asyncio.gather(*(worker(t * each) for t in range(tasks)))
    return each * tasks / (time.perf_counter() - started)


async def measure(url: str, port: int, calls: int) -> list[tuple[str, int, float, float]]:
    """Rows of (operation, tasks, ours, redis-py)."""
    ours = AsyncRedisStorage(url, prefix="bench", max_queue_length=None)
    theirs = redis_py.Redis(host="127.0.0.1", port=port)
    message = Message("bench/queue", PAYLOAD, qos=1)
    # The record the store writes: about the message's size and a prefix.
    record = b"\x01" + b"\x00" * 8 + b"\x01" * 12 + PAYLOAD
    now = time.time()
    rows = []
    for tasks in TASKS:

        async def store(n: int, tasks: int = tasks) -> None:
            await ours.enqueue_entry(f"ours-{tasks}", n + 1, message, now)

        async def hset(n: int, tasks: int = tasks) -> None:
            await theirs.hset(f"theirs:queue:{{c{tasks}}}", str(n + 1), record)

        rows.append(
            (
                "store a queued message",
                tasks,
                await rate(calls, tasks, store),
                await rate(calls, tasks, hset),
            )
        )
    for tasks in TASKS:

        async def length(n: int, tasks: int = tasks) -> None:
            await ours.queue_length(f"ours-{tasks}")

        async def hlen(n: int, tasks: int = tasks) -> None:
            await theirs.hlen(f"theirs:queue:{{c{tasks}}}")

        rows.append(
            (
                "read a queue's length",
                tasks,
                await rate(calls, tasks, length),
                await rate(calls, tasks, hlen),
            )
        )
    await theirs.aclose()
    await ours.close()
    return rows


def main() -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir, redis_server(Path(workdir)) as server:
        # Every write to the append-only file, synced once a second (Redis' default
        # with AOF): the comparison is of the clients, not of the disk.
        subprocess.run(
            ["redis-cli", "-p", str(server.port), "config", "set", "appendfsync", "everysec"],
            check=True,
            capture_output=True,
        )
        rows = asyncio.run(measure(server.url, server.port, args.calls))
    print(
        f"Redis stores against redis-py {redis_py.__name__.split('.')[0]} (asyncio), "
        f"{args.calls} calls per row, loopback"
    )
    print(f"{'operation':26}{'tasks':>6}{'ours/s':>12}{'redis-py/s':>12}{'ratio':>8}")
    for operation, tasks, ours, theirs in rows:
        print(f"{operation:26}{tasks:6}{ours:12.0f}{theirs:12.0f}{ours / theirs:7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
