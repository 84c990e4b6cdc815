"""A Rust asynchronous backend seen from Python: ``AsyncSqliteStorage``.

Its calls run on the extension's one shared tokio runtime and come back as asyncio
futures: the async contract kit passes over it, no thread is started per call, writes
awaited together share commits, and errors are the documented classes.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from pathlib import Path

import pytest

from mqtt_common import _core
from mqtt_common.models import Message, Subscription
from mqtt_common.models.errors import StorageError, ValidationError
from mqtt_common.src.storage import AsyncSqliteStorage, AsyncStorageInterface
from mqtt_common.testing import AsyncStorageContract


def _thread_names() -> list[str]:
    """The names of this process's threads, native ones included (Linux)."""
    names = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/comm") as comm:
                names.append(comm.read().strip())
        except FileNotFoundError:  # ended meanwhile
            continue
    return names


class TestAsyncSqliteStorage(AsyncStorageContract):
    @pytest.fixture(autouse=True)
    def _files(self, tmp_path: Path) -> None:
        self._dir = tmp_path
        self._count = 0

    def make_async_storage(self) -> AsyncStorageInterface:
        self._count += 1
        path = self._dir / f"storage-{self._count}.db"
        return AsyncSqliteStorage(path, durability="process_crash_only")


def test_is_an_async_storage_interface_of_coroutine_functions(tmp_path: Path) -> None:
    """Its methods are coroutine functions, as the interface promises: asyncio.run and
    create_task take what they return, wherever it was made."""
    storage = AsyncSqliteStorage(tmp_path / "s.db")
    assert isinstance(storage, AsyncStorageInterface)
    for name in AsyncStorageInterface._interface_methods:
        assert inspect.iscoroutinefunction(getattr(AsyncSqliteStorage, name)), name
    assert AsyncSqliteStorage.get_retained.__doc__ == _core.AsyncSqliteStorage.get_retained.__doc__

    async def main() -> int:
        return await asyncio.create_task(storage.queue_length("c"))

    assert asyncio.run(main()) == 0
    asyncio.run(storage.close())


def test_no_thread_is_started_per_call(tmp_path: Path) -> None:
    async def main() -> tuple[int, int, list[str]]:
        storage = AsyncSqliteStorage(tmp_path / "s.db", durability="process_crash_only")
        await storage.store_retained(Message("warm/up", b"x", retain=True))
        before = len(_thread_names())
        for round_ in range(5):
            writes = [
                storage.enqueue("c", Message(f"t/{round_}/{i}", b"x", qos=1)) for i in range(200)
            ]
            await asyncio.gather(*writes)
            assert await storage.queue_length("c") == 200 * (round_ + 1)
        after = len(_thread_names())
        names = _thread_names()
        await storage.close()
        return before, after, names

    before, after, names = asyncio.run(main())
    # 1,000 writes, 200 at a time: no thread more after them than before (the earlier
    # tests' stores may have ended theirs meanwhile).
    assert after <= before, (before, after, names)
    assert any(name == "mqtt-common-rt" for name in names), names
    # At most two workers and the one thread that hands answers to Python.
    assert sum(name == "mqtt-common-rt" for name in names) <= 3, names


def test_writes_awaited_together_are_all_committed(tmp_path: Path) -> None:
    path = tmp_path / "s.db"

    async def write() -> None:
        storage = AsyncSqliteStorage(path)
        subscription = Subscription("a/#", qos=1)
        added = await asyncio.gather(
            *(storage.add_subscription(f"c{i}", subscription) for i in range(100))
        )
        assert added == [False] * 100
        await storage.close()

    async def read() -> list[tuple[str, Subscription]]:
        storage = AsyncSqliteStorage(path)
        found = await storage.get_subscribers("a/b")
        await storage.close()
        return found

    asyncio.run(write())
    assert sorted(client for client, _ in asyncio.run(read())) == sorted(
        f"c{i}" for i in range(100)
    )


def test_errors_are_the_documented_classes(tmp_path: Path) -> None:
    async def main() -> None:
        storage = AsyncSqliteStorage(tmp_path / "s.db")
        with pytest.raises(ValidationError):
            await storage.get_retained("a/#/b")
        await storage.close()
        with pytest.raises(StorageError):
            await storage.enqueue("c", Message("t", b"x", qos=1))

    asyncio.run(main())


def test_a_second_open_of_the_file_is_refused(tmp_path: Path) -> None:
    async def main() -> None:
        storage = AsyncSqliteStorage(tmp_path / "s.db")
        with pytest.raises(StorageError):
            AsyncSqliteStorage(tmp_path / "s.db")
        await storage.close()

    asyncio.run(main())


def test_the_runtime_stops_and_starts_again(tmp_path: Path) -> None:
    async def count(storage: AsyncSqliteStorage) -> int:
        return await storage.queue_length("c")

    storage = AsyncSqliteStorage(tmp_path / "s.db")
    assert asyncio.run(count(storage)) == 0
    _core.shutdown_runtime()
    assert "mqtt-common-rt" not in _thread_names()
    assert asyncio.run(count(storage)) == 0
    assert "mqtt-common-rt" in _thread_names()

    async def close() -> None:
        await storage.close()

    asyncio.run(close())
