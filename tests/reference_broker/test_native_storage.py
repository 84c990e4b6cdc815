"""The reference broker on Rust asynchronous stores (``AsyncSqliteStorage`` and
``AsyncSqliteSessionStore``), with real clients: what a publisher was acknowledged for an
absent subscriber is there after the broker and its stores are closed and opened again."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mqtt_common.src.session import AsyncSqliteSessionStore
from mqtt_common.src.storage import AsyncSqliteStorage

from .support import V5, Broker, BrokerConfig, Client, broker_in_thread


def _broker(data_dir: Path) -> tuple[Broker, AsyncSqliteSessionStore, AsyncSqliteStorage]:
    sessions = AsyncSqliteSessionStore(data_dir / "sessions.db")
    storage = AsyncSqliteStorage(data_dir / "storage.db")
    broker = Broker(BrokerConfig(), sessions=sessions, storage=storage)
    return broker, sessions, storage


def _close(sessions: AsyncSqliteSessionStore, storage: AsyncSqliteStorage) -> None:
    async def close() -> None:
        await asyncio.gather(sessions.close(), storage.close())

    asyncio.run(close())


def test_queued_messages_survive_a_restart_on_the_native_storage(tmp_path: Path) -> None:
    session = {"SessionExpiryInterval": 3600}
    broker, sessions, storage = _broker(tmp_path)
    with broker_in_thread(broker) as listener:
        subscriber = Client(
            listener.port, "away", V5, clean_start=False, connect_properties=session
        )
        assert subscriber.subscribe("t", qos=1) == [1]
        subscriber.disconnect()
        publisher = Client(listener.port, "pub", V5)
        codes = [publisher.publish_code("t", f"m{n}".encode(), qos=1) for n in range(20)]
        assert codes == [0] * 20
        publisher.disconnect()
    _close(sessions, storage)

    broker, sessions, storage = _broker(tmp_path)
    restored: list[int] = []

    async def restore() -> None:
        restored.append(await broker.restore(await sessions.client_ids()))

    with broker_in_thread(broker, first=restore) as listener:
        assert restored == [1]
        subscriber = Client(
            listener.port, "away", V5, clean_start=False, connect_properties=session
        )
        assert subscriber.connack is not None
        assert subscriber.connack[0].session_present
        subscriber.wait_messages(20)
        assert subscriber.payloads() == [f"m{n}".encode() for n in range(20)]
        subscriber.disconnect()
    _close(sessions, storage)
