"""The Redis stores from Python (``AsyncRedisStorage``, ``AsyncRedisSessionStore``):
Rust backends through the extension's shared runtime, against a ``redis-server`` and a
three-master Redis Cluster that the tests start on loopback (and stop by their process
ids). The async contract kits pass over both, on both; errors are the documented
classes."""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mqtt_common.models import Message, Subscription
from mqtt_common.models.errors import StorageError, ValidationError
from mqtt_common.src.session import AsyncRedisSessionStore, AsyncSessionInterface
from mqtt_common.src.storage import AsyncRedisStorage, AsyncStorageInterface
from mqtt_common.testing import AsyncSessionContract, AsyncStorageContract

TESTS = Path(__file__).resolve().parent.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from reference_broker.support import RedisServer, redis_cluster, redis_server  # noqa: E402

_PREFIXES = itertools.count()


def _prefix() -> str:
    """A key prefix of its own for each store: each starts empty."""
    return f"py{next(_PREFIXES)}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with redis_server(tmp_path_factory.mktemp("redis")) as running:
        yield running


@pytest.fixture(scope="module")
def cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_cluster(tmp_path_factory.mktemp("cluster")) as nodes:
        yield nodes[1].url


class TestAsyncRedisStorage(AsyncStorageContract):
    @pytest.fixture(autouse=True)
    def _server(self, server: RedisServer) -> None:
        self._url = server.url

    def make_async_storage(self) -> AsyncStorageInterface:
        return AsyncRedisStorage(self._url, prefix=_prefix())


class TestAsyncRedisSessionStore(AsyncSessionContract):
    @pytest.fixture(autouse=True)
    def _server(self, server: RedisServer) -> None:
        self._url = server.url

    def make_async_store(self) -> AsyncSessionInterface:
        return AsyncRedisSessionStore(self._url, prefix=_prefix())


class TestAsyncRedisStorageOnACluster(AsyncStorageContract):
    @pytest.fixture(autouse=True)
    def _cluster(self, cluster_url: str) -> None:
        self._url = cluster_url

    def make_async_storage(self) -> AsyncStorageInterface:
        storage = AsyncRedisStorage(self._url, prefix=_prefix())
        assert storage.is_cluster
        return storage


class TestAsyncRedisSessionStoreOnACluster(AsyncSessionContract):
    @pytest.fixture(autouse=True)
    def _cluster(self, cluster_url: str) -> None:
        self._url = cluster_url

    def make_async_store(self) -> AsyncSessionInterface:
        return AsyncRedisSessionStore(self._url, prefix=_prefix())


def test_writes_awaited_together_share_the_connection(server: RedisServer) -> None:
    async def main() -> list[tuple[str, Subscription]]:
        storage = AsyncRedisStorage(server.url, prefix=_prefix())
        subscription = Subscription("a/#", qos=1)
        added = await asyncio.gather(
            *(storage.add_subscription(f"c{i}", subscription) for i in range(200))
        )
        assert added == [False] * 200
        found = await storage.get_subscribers("a/b")
        await storage.close()
        return found

    found = asyncio.run(main())
    assert sorted(client for client, _ in found) == sorted(f"c{i}" for i in range(200))


def test_what_was_stored_survives_a_kill_of_redis(tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as running:
        prefix = _prefix()

        async def write() -> None:
            sessions = AsyncRedisSessionStore(running.url, prefix=prefix)
            storage = AsyncRedisStorage(running.url, prefix=prefix)
            await sessions.create_session("c", False, 3600, 5)
            await storage.enqueue("c", Message("t", b"kept", qos=1))

        asyncio.run(write())
        running.kill()
        running.start()

        async def read() -> tuple[list[str], int]:
            sessions = AsyncRedisSessionStore(running.url, prefix=prefix)
            storage = AsyncRedisStorage(running.url, prefix=prefix)
            return await sessions.client_ids(), await storage.queue_length("c")

        assert asyncio.run(read()) == (["c"], 1)


def test_errors_are_the_documented_classes(tmp_path: Path, server: RedisServer) -> None:
    with pytest.raises(StorageError, match="Connection refused"):
        AsyncRedisStorage("redis://127.0.0.1:1")
    with pytest.raises(StorageError, match="prefix"):
        AsyncRedisSessionStore(server.url, prefix="bad prefix")
    with pytest.raises(ValidationError):
        AsyncRedisStorage(server.url, replicas=1, replica_timeout=-1)

    async def main() -> None:
        storage = AsyncRedisStorage(server.url, prefix=_prefix(), replicas=1, replica_timeout=0.1)
        with pytest.raises(StorageError, match="replicas"):
            await storage.enqueue("c", Message("t", b"x", qos=1))
        with pytest.raises(ValidationError):
            await storage.get_retained("a/#/b")
        await storage.close()
        with pytest.raises(StorageError, match="closed"):
            await storage.queue_length("c")

    asyncio.run(main())
    with redis_server(tmp_path / "lost") as lost:
        storage = AsyncRedisStorage(lost.url, prefix=_prefix())
        lost.kill()

        async def during_the_outage() -> None:
            with pytest.raises(StorageError, match=lost.url):
                await storage.enqueue("c", Message("t", b"x", qos=1))

        asyncio.run(during_the_outage())
