r"""Storage and session plugins for the reference broker: the SQLite stores, in files.

    mqtt-broker --storage-plugin sqlite_stores:Storage \
        --session-plugin sqlite_stores:Sessions \
        --plugin-opt storage_path=/var/lib/mqtt/storage.db \
        --plugin-opt sessions_path=/var/lib/mqtt/sessions.db

(with this directory on ``PYTHONPATH``). A plugin store is any ``StorageInterface``,
``AsyncStorageInterface``, ``SessionInterface`` or ``AsyncSessionInterface`` subclass;
these derive from the native asynchronous SQLite stores (no thread per call), and only
choose their files. The broker keeps its promise over a plugin as over ``--data-dir``:
an acknowledgement is sent once the stores hold what it promises.
"""

from __future__ import annotations

from typing import Self

from mqtt_common.src.session import AsyncSqliteSessionStore
from mqtt_common.src.storage import AsyncSqliteStorage


class Storage(AsyncSqliteStorage):
    """Retained messages, subscriptions and queues in ``storage_path``."""

    def __new__(cls, storage_path: str) -> Self:
        """Open (or make) the storage file."""
        # The broker bounds the queues itself (--max-queued): the file keeps them all.
        return super().__new__(cls, storage_path, max_queue_length=None)


class Sessions(AsyncSqliteSessionStore):
    """Sessions and Wills in ``sessions_path``."""

    def __new__(cls, sessions_path: str) -> Self:
        """Open (or make) the sessions file."""
        return super().__new__(cls, sessions_path)
