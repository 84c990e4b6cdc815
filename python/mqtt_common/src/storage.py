"""Storage backends: retained messages, queues for offline clients, subscriptions.

For a ``Router`` a storage keeps facts and loads them at a restart: retained messages
with their arrival time (``store_retained(message, arrived_at)``,
``retained_messages()``), the messages a session is owed under the router's entry
numbers with their enqueue time (``enqueue_entry``, ``remove_queued``,
``queued_messages``), and subscriptions. ``persist(facts)`` takes the router's facts as
they come (the base class stores them through these methods; ``SqliteStorage`` stores a
batch in one transaction).

>>> from mqtt_common.models import Message, Subscription
>>> from mqtt_common.src.storage import MemoryStorage, StorageInterface
>>> storage = MemoryStorage(max_queue_length=100)
>>> isinstance(storage, StorageInterface)
True
>>> storage.store_retained(Message("site/1/temp", b"21.5", retain=True))
>>> [m.topic for m in storage.get_retained("site/+/temp")]
['site/1/temp']
>>> storage.add_subscription("c1", Subscription("site/#", qos=1))
False
>>> [(c, s.topic_filter) for c, s in storage.get_subscribers("site/1/temp")]
[('c1', 'site/#')]
"""

from __future__ import annotations

import abc

from mqtt_common import _core
from mqtt_common._core import Fact, Message, Subscription
from mqtt_common.src._asynchronous import AsynchronousInterface
from mqtt_common.src._synchronous import SynchronousInterface

__all__ = [
    "AsyncRedisStorage",
    "AsyncSqliteStorage",
    "AsyncStorageInterface",
    "MemoryStorage",
    "SqliteStorage",
    "StorageInterface",
    "Subscription",
]


class StorageInterface(_core.StorageInterface, SynchronousInterface, abc.ABC, interface=True):
    """A storage backend. Every method is synchronous and returns promptly.

    Failures raise ``StorageError``. Rust code calls a subclass through the
    ``StorageInterface`` trait; an exception you raise reaches its caller unchanged.
    """

    @abc.abstractmethod
    def store_retained(self, message: Message, arrived_at: float | None = None) -> None:
        """Store a retained message; one with an empty payload deletes the topic's instead.

        ``arrived_at`` (POSIX seconds; None: now) is when it arrived: its expiry counts
        from then.
        """

    @abc.abstractmethod
    def retained_messages(self) -> list[tuple[Message, float]]:
        """Return every retained message with its arrival time (POSIX seconds)."""

    @abc.abstractmethod
    def get_retained(self, topic_filter: str) -> list[Message]:
        """Return every retained message whose topic matches the filter."""

    @abc.abstractmethod
    def delete_retained(self, topic: str) -> bool:
        """Delete the retained message of a topic; return whether there was one."""

    @abc.abstractmethod
    def enqueue(self, client_id: str, message: Message) -> None:
        """Append a message to a client's queue."""

    @abc.abstractmethod
    def enqueue_entry(
        self, client_id: str, seq: int, message: Message, enqueued_at: float
    ) -> None:
        """Store a message a session is owed under the router's entry number ``seq``."""

    @abc.abstractmethod
    def remove_queued(self, client_id: str, seq: int) -> bool:
        """Remove the queued message with entry number ``seq``; return whether there was one."""

    @abc.abstractmethod
    def queued_messages(self, client_id: str) -> list[tuple[int, Message, float]]:
        """Return a client's queued messages as (entry number, message, enqueue time)."""

    @abc.abstractmethod
    def dequeue(self, client_id: str, limit: int | None = None) -> list[Message]:
        """Remove and return up to ``limit`` messages (all if None), oldest first."""

    @abc.abstractmethod
    def queue_length(self, client_id: str) -> int:
        """Return how many messages a client's queue holds."""

    @abc.abstractmethod
    def add_subscription(self, client_id: str, subscription: Subscription) -> bool:
        """Add a subscription; return True when it replaced the client's one with that filter."""

    @abc.abstractmethod
    def remove_subscription(self, client_id: str, topic_filter: str) -> bool:
        """Remove the client's subscription with exactly this filter; return whether it existed."""

    @abc.abstractmethod
    def get_subscriptions(self, client_id: str) -> list[Subscription]:
        """Return a client's subscriptions."""

    @abc.abstractmethod
    def get_subscribers(self, topic: str) -> list[tuple[str, Subscription]]:
        """Return every (client id, subscription) whose filter matches the topic."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the backend; later calls raise StorageError."""


class AsyncStorageInterface(AsynchronousInterface, abc.ABC, interface=True):
    """A storage backend for an asyncio broker: ``StorageInterface``'s methods as ``async def``.

    Any ``StorageInterface`` becomes one with ``AsyncStorageInterface.adapt(storage)``.
    """

    @abc.abstractmethod
    async def store_retained(self, message: Message, arrived_at: float | None = None) -> None:
        """Store a retained message; one with an empty payload deletes the topic's instead."""

    @abc.abstractmethod
    async def retained_messages(self) -> list[tuple[Message, float]]:
        """Return every retained message with its arrival time (POSIX seconds)."""

    @abc.abstractmethod
    async def get_retained(self, topic_filter: str) -> list[Message]:
        """Return every retained message whose topic matches the filter."""

    @abc.abstractmethod
    async def delete_retained(self, topic: str) -> bool:
        """Delete the retained message of a topic; return whether there was one."""

    @abc.abstractmethod
    async def enqueue(self, client_id: str, message: Message) -> None:
        """Append a message to a client's queue."""

    @abc.abstractmethod
    async def enqueue_entry(
        self, client_id: str, seq: int, message: Message, enqueued_at: float
    ) -> None:
        """Store a message a session is owed under the router's entry number ``seq``."""

    @abc.abstractmethod
    async def remove_queued(self, client_id: str, seq: int) -> bool:
        """Remove the queued message with entry number ``seq``; return whether there was one."""

    @abc.abstractmethod
    async def queued_messages(self, client_id: str) -> list[tuple[int, Message, float]]:
        """Return a client's queued messages as (entry number, message, enqueue time)."""

    async def persist(self, facts: list[Fact]) -> None:
        """Store the router's facts that concern this storage, in order.

        Each through its storage call (``Fact.storage_call()``); a backend that can store
        a batch in one transaction overrides this (the adapter of a synchronous storage
        calls its own ``persist``).
        """
        for fact in facts:
            call = fact.storage_call()
            if call is None:
                continue
            name, args = call
            if name == "forget_client":
                (client_id,) = args
                for subscription in await self.get_subscriptions(client_id):
                    await self.remove_subscription(client_id, subscription.topic_filter)
                await self.dequeue(client_id)
            else:
                await getattr(self, name)(*args)

    @abc.abstractmethod
    async def dequeue(self, client_id: str, limit: int | None = None) -> list[Message]:
        """Remove and return up to ``limit`` messages (all if None), oldest first."""

    @abc.abstractmethod
    async def queue_length(self, client_id: str) -> int:
        """Return how many messages a client's queue holds."""

    @abc.abstractmethod
    async def add_subscription(self, client_id: str, subscription: Subscription) -> bool:
        """Add a subscription; return True when it replaced the client's one with that filter."""

    @abc.abstractmethod
    async def remove_subscription(self, client_id: str, topic_filter: str) -> bool:
        """Remove the client's subscription with exactly this filter; return whether it existed."""

    @abc.abstractmethod
    async def get_subscriptions(self, client_id: str) -> list[Subscription]:
        """Return a client's subscriptions."""

    @abc.abstractmethod
    async def get_subscribers(self, topic: str) -> list[tuple[str, Subscription]]:
        """Return every (client id, subscription) whose filter matches the topic."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release the backend; later calls raise StorageError."""


class MemoryStorage(_core.MemoryStorage, StorageInterface):
    """The reference storage, in Rust: thread-safe, in memory, nothing survives the process.

    Retained messages live in a topic tree and subscriptions in a ``SubscriptionIndex``,
    so lookups do not scan. Options (keyword-only): ``max_queue_length`` (default
    10,000; None for no limit), ``queue_full`` ("reject", "drop_oldest" or
    "drop_newest"), ``max_topic_levels`` (128) and ``max_subscriptions_per_client``.
    """

    #: Calls return at once (no I/O): the async adapter calls them inline.
    blocking = False


class AsyncSqliteStorage(_core.AsyncSqliteStorage, AsyncStorageInterface):
    """``SqliteStorage`` as a native asynchronous storage, in Rust.

    ``AsyncSqliteStorage(path, *, durability="full", ...)`` takes ``SqliteStorage``'s
    options. Every method is a coroutine function: a write's returns once it is committed,
    and writes awaited together share one commit; reads are answered from memory. The
    calls run on the extension's shared tokio runtime (threads ``mqtt-common-rt``,
    started on first use, stopped at exit): no thread is started or held per call.
    ``await storage.close()`` releases the file.
    """

    _native_awaitables = True


class AsyncRedisStorage(_core.AsyncRedisStorage, AsyncStorageInterface):
    """``MemoryStorage``'s behaviour kept in Redis or a Redis Cluster, in Rust.

    ``AsyncRedisStorage(url, *, prefix="mqtt", replicas=0, replica_timeout=None, ...)``
    takes ``MemoryStorage``'s limits as well; it connects at once (``redis://`` or
    ``rediss://``; any node's URL for a cluster) and checks the key layout's version
    under ``prefix``. Every method is a coroutine function whose call returns once Redis
    acknowledged the write (and ``replicas`` replicas, if asked); what that survives is
    Redis' own setting (``appendfsync always``: a crash of Redis or its machine). The
    calls run on the extension's shared tokio runtime over one pipelined connection: no
    thread is started or held per call. A lost Redis fails calls with ``StorageError``
    naming the server while the connection comes back by itself.
    """

    _native_awaitables = True


class SqliteStorage(_core.SqliteStorage, StorageInterface):
    """Storage that survives a crash, in Rust: a SQLite file with an in-memory mirror.

    ``SqliteStorage(path, *, durability="full", ...)`` takes ``MemoryStorage``'s options
    as well. Reads are served from memory as fast as ``MemoryStorage``; a write returns
    once it is committed, and writes from many threads share one commit (group commit),
    waited for with the GIL released; through ``AsyncStorageInterface.adapt`` the
    writes of asyncio tasks share commits without a thread each. ``durability="full"``
    survives power loss, ``"process_crash_only"`` survives the process being killed.
    One process at a time
    holds the file: a second ``SqliteStorage`` on it raises ``StorageError``. Use it as
    a context manager or call ``close()``.
    """

    #: A write waits for the disk: the async adapter does not call it inline.
    blocking = True
    #: The writes the async adapter starts without a thread (``_start``): their commits
    #: are shared by every call started meanwhile.
    _startable = frozenset(
        {
            "store_retained",
            "delete_retained",
            "enqueue",
            "enqueue_entry",
            "remove_queued",
            "persist",
            "dequeue",
            "add_subscription",
            "remove_subscription",
        }
    )
