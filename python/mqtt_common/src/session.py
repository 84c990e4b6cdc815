"""Session stores: client sessions (with their QoS 1 and 2 flows) and Will Messages.

>>> from mqtt_common.models import Message
>>> from mqtt_common.src.session import MemorySessionStore, Will
>>> store = MemorySessionStore()
>>> session, present = store.create_session("sensor-1", clean_start=False, expiry_interval=60)
>>> present
False
>>> sent = session.send_publish(Message("cmd/reboot", b"now", qos=1))
>>> sent.message_id
1
>>> store.save_session(session)
>>> resumed, present = store.create_session("sensor-1", clean_start=False, expiry_interval=60)
>>> present, [packet_id for packet_id, _, _ in resumed.outgoing()]
(True, [1])
>>> store.set_will("sensor-1", Will(Message("status/sensor-1", b"offline"), delay_interval=30))
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

from mqtt_common import _core
from mqtt_common._core import Session, Will
from mqtt_common.models.constants import ProtocolVersion
from mqtt_common.src._asynchronous import AsynchronousInterface
from mqtt_common.src._synchronous import SynchronousInterface

if TYPE_CHECKING:
    from mqtt_common.router import Fact

__all__ = [
    "AsyncRedisSessionStore",
    "AsyncSessionInterface",
    "AsyncSqliteSessionStore",
    "MemorySessionStore",
    "Session",
    "SessionInterface",
    "SqliteSessionStore",
    "Will",
]


class SessionInterface(_core.SessionInterface, SynchronousInterface, abc.ABC, interface=True):
    """A session store. Every method is synchronous and returns promptly."""

    @abc.abstractmethod
    def create_session(
        self,
        client_id: str,
        clean_start: bool,
        expiry_interval: int = 0,
        protocol_version: ProtocolVersion = ProtocolVersion.V3_1_1,
    ) -> tuple[Session, bool]:
        """Return the session for a CONNECT and whether one was present.

        With ``clean_start`` any stored session is discarded and a new one begins; without,
        a stored, unexpired session is resumed with the new expiry interval
        ([MQTT-3.1.2-4..6]). A Will waiting from the last connection is cancelled.
        """

    @abc.abstractmethod
    def get_session(self, client_id: str) -> Session | None:
        """Return the stored session of a client, or None."""

    @abc.abstractmethod
    def save_session(self, session: Session) -> None:
        """Store a session, replacing the client's previous one."""

    @abc.abstractmethod
    def delete_session(self, client_id: str) -> bool:
        """Delete a client's session and Will; return whether there was a session."""

    @abc.abstractmethod
    def set_will(self, client_id: str, will: Will) -> None:
        """Set the client's Will, replacing any other."""

    @abc.abstractmethod
    def get_will(self, client_id: str) -> Will | None:
        """Return the client's Will, or None."""

    @abc.abstractmethod
    def clear_will(self, client_id: str) -> Will | None:
        """Remove the client's Will (a normal DISCONNECT); return it, or None."""

    @abc.abstractmethod
    def client_ids(self) -> list[str]:
        """Return the client ids of every stored session, sorted.

        What a broker that restarts over a persistent store takes up again.
        """

    def persist(self, facts: list[Fact]) -> None:
        """Store the router's facts that concern this store, in order.

        Sessions, Wills and the end of sessions, each through its call
        (``Fact.session_call()``); the storage's facts are left out.
        """
        for fact in facts:
            call = fact.session_call()
            if call is not None:
                name, args = call
                getattr(self, name)(*args)


class AsyncSessionInterface(AsynchronousInterface, abc.ABC, interface=True):
    """A session store for an asyncio broker: ``SessionInterface``'s methods as ``async def``.

    Any ``SessionInterface`` becomes one with ``AsyncSessionInterface.adapt(store)``.
    """

    @abc.abstractmethod
    async def create_session(
        self,
        client_id: str,
        clean_start: bool,
        expiry_interval: int = 0,
        protocol_version: ProtocolVersion = ProtocolVersion.V3_1_1,
    ) -> tuple[Session, bool]:
        """Return the session for a CONNECT and whether one was present."""

    @abc.abstractmethod
    async def get_session(self, client_id: str) -> Session | None:
        """Return the stored session of a client, or None."""

    @abc.abstractmethod
    async def save_session(self, session: Session) -> None:
        """Store a session, replacing the client's previous one."""

    @abc.abstractmethod
    async def delete_session(self, client_id: str) -> bool:
        """Delete a client's session and Will; return whether there was a session."""

    @abc.abstractmethod
    async def set_will(self, client_id: str, will: Will) -> None:
        """Set the client's Will, replacing any other."""

    @abc.abstractmethod
    async def get_will(self, client_id: str) -> Will | None:
        """Return the client's Will, or None."""

    @abc.abstractmethod
    async def clear_will(self, client_id: str) -> Will | None:
        """Remove the client's Will (a normal DISCONNECT); return it, or None."""

    @abc.abstractmethod
    async def client_ids(self) -> list[str]:
        """Return the client ids of every stored session, sorted."""

    async def persist(self, facts: list[Fact]) -> None:
        """Store the router's facts that concern this store, in order.

        Each through its call (``Fact.session_call()``), awaited in turn (the adapter of
        a synchronous store calls its own ``persist``).
        """
        for fact in facts:
            call = fact.session_call()
            if call is not None:
                name, args = call
                await getattr(self, name)(*args)


class MemorySessionStore(_core.MemorySessionStore, SessionInterface):
    """The reference session store, in Rust: thread-safe, in memory.

    ``expire_sessions(now=None)`` removes expired sessions and ``take_due_wills(now=None)``
    hands out the Wills that are due (at the earlier of their delay and the session's
    expiry).
    """

    #: Calls return at once: the async adapter calls them inline.
    blocking = False


class AsyncRedisSessionStore(_core.AsyncRedisSessionStore, AsyncSessionInterface):
    """Sessions (with their QoS flows both ways) and Wills kept in Redis, in Rust.

    ``AsyncRedisSessionStore(url, *, prefix="mqtt", replicas=0, replica_timeout=None)``
    connects at once and checks the key layout's version; ``await store.client_ids()``
    lists the stored sessions for a restart. Every method is a coroutine function whose
    call returns once Redis acknowledged the change, on the extension's shared tokio
    runtime: no thread is started or held per call.
    """

    _native_awaitables = True


class AsyncSqliteSessionStore(_core.AsyncSqliteSessionStore, AsyncSessionInterface):
    """``SqliteSessionStore`` as a native asynchronous session store, in Rust.

    ``AsyncSqliteSessionStore(path, *, durability="full")`` keeps what
    ``SqliteSessionStore`` keeps, in the same file format. Every method is a coroutine
    function: a change's returns once it is committed, and changes awaited together share
    one commit; reads are answered from memory. The calls run on the extension's shared
    tokio runtime (threads ``mqtt-common-rt``, started on first use, stopped at exit): no
    thread is started or held per call. ``await store.close()`` releases the file.
    """

    _native_awaitables = True


class SqliteSessionStore(_core.SqliteSessionStore, SessionInterface):
    """A session store that survives a crash, in Rust: a SQLite file with an in-memory mirror.

    ``SqliteSessionStore(path, *, durability="full")`` keeps sessions, their QoS 1 and 2
    flows and Wills; ``save_session`` writes only the flows that changed. Expiry, Wills
    and ``client_ids()`` behave as in ``MemorySessionStore``, so a broker restarted on
    the same file finds every session where it was. Use it as a context manager or call
    ``close()``.
    """

    #: A write waits for the disk: the async adapter runs calls in a worker thread.
    blocking = True
