"""Rust asynchronous backends seen from Python: ``AsyncSqliteStorage`` and
``AsyncSqliteSessionStore``.

Its calls run on the extension's one shared tokio runtime and come back as asyncio
futures: the async contract kit passes over it, no thread is started per call, writes
awaited together share commits, and errors are the documented classes.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
from pathlib import Path

import pytest

from mqtt_common import _core
from mqtt_common.models import Message, Subscription
from mqtt_common.models.errors import StorageError, ValidationError
from mqtt_common.src.session import (
    AsyncSessionInterface,
    AsyncSqliteSessionStore,
    SqliteSessionStore,
    Will,
)
from mqtt_common.src.storage import AsyncSqliteStorage, AsyncStorageInterface
from mqtt_common.testing import AsyncSessionContract, AsyncStorageContract


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


class TestAsyncSqliteSessionStore(AsyncSessionContract):
    @pytest.fixture(autouse=True)
    def _files(self, tmp_path: Path) -> None:
        self._dir = tmp_path
        self._count = 0

    def make_async_store(self) -> AsyncSessionInterface:
        self._count += 1
        path = self._dir / f"sessions-{self._count}.db"
        return AsyncSqliteSessionStore(path, durability="process_crash_only")


def test_the_session_store_is_of_coroutine_functions(tmp_path: Path) -> None:
    store = AsyncSqliteSessionStore(tmp_path / "s.db")
    assert isinstance(store, AsyncSessionInterface)
    for name in AsyncSessionInterface._interface_methods:
        assert inspect.iscoroutinefunction(getattr(AsyncSqliteSessionStore, name)), name
    assert repr(store).startswith("<AsyncSqliteSessionStore ")

    async def main() -> None:
        session, present = await asyncio.create_task(store.create_session("c", False, 60))
        assert (session.client_id, present) == ("c", False)
        await store.close()
        with pytest.raises(StorageError):
            await store.get_session("c")

    asyncio.run(main())


def test_the_session_store_keeps_the_synchronous_store_s_file(tmp_path: Path) -> None:
    """What one writes, the other reads back: the same file, the same facts."""
    path = tmp_path / "s.db"

    async def write() -> None:
        store = AsyncSqliteSessionStore(path)
        changes = []
        for i in range(50):
            session, _ = await store.create_session(f"c{i}", False, 3600, 5)
            session.send_publish(Message(f"t/{i}", b"x", qos=1))
            changes.append(store.save_session(session))
            changes.append(store.set_will(f"c{i}", Will(Message(f"w/{i}", b"gone"), 30)))
        await asyncio.gather(*changes)
        assert await store.delete_session("c49")
        assert (await store.clear_will("c48")) == Will(Message("w/48", b"gone"), 30)
        await store.close()

    asyncio.run(write())
    with SqliteSessionStore(path) as synchronous:
        assert sorted(synchronous.client_ids()) == sorted(f"c{i}" for i in range(49))
        session = synchronous.get_session("c7")
        assert session is not None
        assert [packet_id for packet_id, _, _ in session.outgoing()] == [1]
        assert synchronous.get_will("c7") == Will(Message("w/7", b"gone"), 30)
        assert synchronous.get_will("c48") is None


def test_the_session_store_refuses_bad_input_with_the_documented_classes(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        store = AsyncSqliteSessionStore(tmp_path / "s.db")
        with pytest.raises(ValidationError):
            await store.create_session("c", False, -1)
        with pytest.raises(ValidationError):
            await store.get_will("a\x00b")
        with pytest.raises(ValidationError, match="expected Session"):
            await store.save_session("not a session")  # type: ignore[arg-type]
        with pytest.raises(StorageError):
            AsyncSqliteSessionStore(tmp_path / "s.db")
        await store.close()

    asyncio.run(main())


def test_a_finished_event_loop_frees_its_channel(tmp_path: Path) -> None:
    """Each loop's report channel (a socket pair) goes with the loop: many
    ``asyncio.run`` calls do not pile up file descriptors."""

    async def count(storage: AsyncSqliteStorage) -> int:
        return await storage.queue_length("c")

    storage = AsyncSqliteStorage(tmp_path / "s.db", durability="process_crash_only")
    asyncio.run(count(storage))
    gc.collect()
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(100):
        asyncio.run(count(storage))
    gc.collect()
    assert len(os.listdir("/proc/self/fd")) <= before + 2

    async def close() -> None:
        await storage.close()

    asyncio.run(close())
