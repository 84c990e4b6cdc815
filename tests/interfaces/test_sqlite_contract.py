"""The contract kits, synchronous and asynchronous, against the SQLite stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mqtt_common.src.session import AsyncSessionInterface, SessionInterface, SqliteSessionStore
from mqtt_common.src.storage import AsyncStorageInterface, SqliteStorage, StorageInterface
from mqtt_common.testing import (
    AsyncSessionContract,
    AsyncStorageContract,
    SessionContract,
    StorageContract,
)


class _InTmpPath:
    """Each store a kit asks for is a new file under the test's tmp_path, closed after."""

    @pytest.fixture(autouse=True)
    def _files(self, tmp_path: Path) -> Iterator[None]:
        self._dir = tmp_path
        self._opened: list[SqliteStorage | SqliteSessionStore] = []
        yield
        for store in self._opened:
            store.close()

    def _path(self, name: str) -> Path:
        return self._dir / f"{name}-{len(self._opened)}.db"

    def _storage(self) -> SqliteStorage:
        storage = SqliteStorage(self._path("storage"), durability="process_crash_only")
        self._opened.append(storage)
        return storage

    def _sessions(self) -> SqliteSessionStore:
        store = SqliteSessionStore(self._path("sessions"), durability="process_crash_only")
        self._opened.append(store)
        return store


class TestSqliteStorage(_InTmpPath, StorageContract):
    def make_storage(self) -> StorageInterface:
        return self._storage()


class TestSqliteSessionStore(_InTmpPath, SessionContract):
    def make_store(self) -> SessionInterface:
        return self._sessions()


class TestAdaptedSqliteStorage(_InTmpPath, AsyncStorageContract):
    def make_async_storage(self) -> AsyncStorageInterface:
        return AsyncStorageInterface.adapt(self._storage())


class TestAdaptedSqliteSessionStore(_InTmpPath, AsyncSessionContract):
    def make_async_store(self) -> AsyncSessionInterface:
        return AsyncSessionInterface.adapt(self._sessions())
