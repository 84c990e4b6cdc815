"""One TCP (or TLS) connection: an asyncio protocol around a ``ServerConnection``.

Bytes read go to the engine in one call; its events go to the broker in order (one
that must wait for I/O holds the ones behind it); the engine's output is written once
per event-loop turn. The keep-alive timer is the engine's ``next_deadline``.

A connection the server ends closes gracefully: its last bytes (a DISCONNECT with the
reason, say) are written, the sending side is shut down, and what the client still
sends is read and discarded for a short while. Closing at once while the client's bytes
are unread would make the kernel answer with a reset, and the client would never read
the reason.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from mqtt_common.models import ReasonCode
from mqtt_common.protocol import Closed, Event, ServerConnection
from mqtt_common.src.auth import AuthCredentials

if TYPE_CHECKING:
    from .broker import Broker

log = logging.getLogger("broker")

_serials = itertools.count(1)

#: How long a connection the server ended waits for the client to close its side.
LINGER = 2.0
#: How long a client may read nothing while more than the limit waits unread for it.
STALL = 1.0


class ClientConnection(asyncio.Protocol):
    """The broker's side of one client connection."""

    # Slots, and nothing made before it is needed: an idle connection costs what its
    # engine, its socket and these few fields cost (a few KiB in all).
    __slots__ = (
        "authenticated",
        "broker",
        "certificate",
        "client_id",
        "closed_event_seen",
        "closing",
        "credentials",
        "engine",
        "owed",
        "peer",
        "pending",
        "refusal",
        "serial",
        "session_persists",
        "stalled_since",
        "timer",
        "transport",
        "unread",
        "worker",
    )

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.engine = ServerConnection(
            broker.config.server, now=broker.now(), metrics=broker.metrics
        )
        #: The router's name for this connection.
        self.serial = next(_serials)
        self.client_id = ""
        #: Whether the client's session outlives the connection (its QoS 2 flows are
        #: then stored before their PUBREC).
        self.session_persists = False
        #: The client's credentials, once it is accepted (for authorization).
        self.credentials: AuthCredentials | None = None
        self.authenticated = False
        #: Why the broker refused the CONNECT, in words, for the log.
        self.refusal: str | None = None
        self.closed_event_seen = False
        #: The engine's acknowledgement mark last passed on for release (durable only).
        self.owed = 0
        #: Since when more than the limit is unread with nothing of it read, and how
        #: much was unread after the last write (see ``_does_not_read``).
        self.stalled_since: float | None = None
        self.unread = 0
        #: The engine has ended and the socket is closing gracefully.
        self.closing = False
        self.peer = "?"
        self.certificate: bytes | None = None
        self.transport: asyncio.Transport | None = None
        self.pending: deque[Event | _Release] | None = None
        self.worker: asyncio.Task[None] | None = None
        self.timer: asyncio.TimerHandle | None = None

    # ---- asyncio.Protocol ----

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Note the peer (and its certificate, over TLS); start the CONNECT timer."""
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        host, port, *_ = transport.get_extra_info("peername") or ("?", 0)
        self.peer = f"{host}:{port}"
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            self.certificate = ssl_object.getpeercert(binary_form=True)
        self._arm_timer()

    def data_received(self, data: bytes) -> None:
        """Hand the read to the engine; act on its events; write once this turn.

        Once the client is accepted, and when no provider decides who may publish, the
        router takes the read: its publications and settlements are routed in Rust, and
        only the events left (a SUBSCRIBE, say) come back here.
        """
        broker = self.broker
        if (
            self.worker is None
            and self.authenticated
            and not self.closed_event_seen
            and broker.auth is None
        ):
            routed = broker.router.receive(self.serial, data, time.time(), broker.now())
            broker.act(routed)
            for topic in routed.refused:
                broker.retained_refused(self, topic)
            events = routed.events
        else:
            events = self.engine.receive_data(data, broker.now())
        if events:
            self.process(events)
        cluster = broker.cluster
        if cluster is not None and cluster.congested and self.transport is not None:
            # What it published waits to go to other nodes: it waits too.
            cluster.pause(self.transport)
        if broker.durable:
            mark = self.engine.acknowledgement_mark()
            if mark != self.owed:
                # The acknowledgements this read owes are released once what it caused
                # is stored: once its events are all handled, with the next commit.
                self.owed = mark
                self._release_after(mark)
        broker.mark_dirty(self)

    def _release_after(self, mark: int) -> None:
        if self.worker is None:
            self.broker.note_received(self, mark)
        else:
            self._queue().append(_Release(mark))

    def eof_received(self) -> bool:
        """Close on EOF: a half-open MQTT connection has nothing more to say."""
        return False

    def describe(self) -> str:
        """Name the client for the log: its id, user name and address, as far as known."""
        if not self.engine.protocol_version:
            return f"a connection from {self.peer}"  # no CONNECT read
        client_id = self.client_id or self.engine.client_id
        who = f"client {client_id!r}" if client_id else "a client without an id"
        username = self.credentials.username if self.credentials else self.engine.username
        user = f"user {username!r}" if username else "no user name"
        return f"{who} ({user}, {self.peer})"

    def connection_lost(self, exc: Exception | None) -> None:
        """Tell the engine the socket is gone; it says what that means (the Will, say)."""
        if self.timer is not None:
            self.timer.cancel()
        closed = self.engine.connection_lost()
        if closed is not None:
            self.process([closed])

    # ---- events, in order ----

    def process(self, events: list[Event]) -> None:
        """Act on events in order; one that waits for I/O holds the ones behind it."""
        if self.worker is not None:
            self._queue().extend(events)
            return
        handle = self.broker.handle
        for position, event in enumerate(events):
            waiting = handle(self, event)
            if waiting is not None:
                self._queue().extend(events[position + 1 :])
                self.worker = asyncio.get_running_loop().create_task(self._drain(waiting))
                return

    def _queue(self) -> deque[Event | _Release]:
        if self.pending is None:
            self.pending = deque()
        return self.pending

    def push_front(self, events: list[Event]) -> None:
        """Queue events that come before everything pending (those ``accept`` returns)."""
        self._queue().extendleft(reversed(events))

    async def _drain(self, first: Awaitable[None]) -> None:
        try:
            await first
            while self.pending:
                item = self.pending.popleft()
                if isinstance(item, _Release):
                    self.broker.note_received(self, item.mark)
                    continue
                waiting = self.broker.handle(self, item)
                if waiting is not None:
                    await waiting
        except Exception:
            log.exception("error while serving %s", self.client_id or self.peer)
            self.abort()
        finally:
            self.worker = None
            self.pending = None
            self.broker.mark_dirty(self)

    # ---- output ----

    def write_pending(self) -> None:
        """Write what the engine has queued; close once it has ended.

        While an event waits for I/O (an authorization, say), nothing is written: the
        acknowledgement of a PUBLISH must carry the answer, so it waits for it.
        """
        transport = self.transport
        if transport is None or self.closing or transport.is_closing() or self.worker is not None:
            return
        waited = transport.get_write_buffer_size()
        data = self.engine.data_to_send()
        if data:
            transport.write(data)
        if self.engine.is_closed:
            self._close_gracefully(transport)
        elif self._does_not_read(waited, transport.get_write_buffer_size()):
            # A client that does not read: what waits for it is bounded, and it goes.
            log.info("%s does not read what it is sent: disconnected", self.client_id)
            closed = self.engine.disconnect(ReasonCode.QUOTA_EXCEEDED)
            transport.abort()
            self.process([closed])
        self._arm_timer()

    def _does_not_read(self, waited: int, unread: int) -> bool:
        """Return whether the client leaves too much unread.

        Too much: more than the limit with nothing of it read for ``STALL`` seconds, or
        four times the limit in any case. ``waited`` is what was unread before this
        write, ``unread`` what is after it. A burst (the retained messages of a new
        subscription to ``#``) may go over the limit for a client that reads it.
        """
        limit = self.broker.config.max_unread_bytes
        if unread <= limit:
            self.stalled_since = None
            return False
        now = self.broker.now()
        if self.stalled_since is None or waited < self.unread:
            self.stalled_since = now  # over the limit just now, or it read since
        self.unread = unread
        return unread > 4 * limit or now - self.stalled_since >= STALL

    def _close_gracefully(self, transport: asyncio.Transport) -> None:
        """Shut down the sending side; close once the client closes, or after LINGER."""
        self.closing = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if not transport.can_write_eof():  # TLS: its own close sends close_notify
            transport.close()
            return
        transport.write_eof()
        # Whatever the client still sends is read (the engine ignores it) until it
        # closes its side; a client that never does is closed after LINGER seconds.
        self.timer = asyncio.get_running_loop().call_later(LINGER, transport.close)

    def _arm_timer(self) -> None:
        deadline = self.engine.next_deadline()
        if deadline is None:
            return
        if self.timer is not None:
            if self.timer.when() <= deadline:
                return  # it fires first, and re-arms then
            self.timer.cancel()
        self.timer = asyncio.get_running_loop().call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self.timer = None
        events = self.engine.handle_timeout(self.broker.now())
        if events:
            self.process(events)
        self.broker.mark_dirty(self)
        self._arm_timer()

    # ---- ending it from this side ----

    def refuse(self, reason_code: ReasonCode, why: str) -> None:
        """Refuse the CONNECT (``why`` says it in words, for the log); Closed follows."""
        self.refusal = why
        closed = self.engine.refuse(reason_code)
        self.broker.mark_dirty(self)
        self.process([closed])

    def refuse_or_disconnect(self, reason_code: ReasonCode, why: str) -> None:
        """End the connection with ``reason_code``, whatever its phase."""
        if self.engine.phase == "connecting":
            self.refuse(reason_code, why)
        elif self.engine.phase == "connected":
            self.disconnect(reason_code)

    def disconnect(self, reason_code: ReasonCode) -> Closed | None:
        """Disconnect an accepted connection; the Closed event follows."""
        if self.engine.phase != "connected":
            return None
        closed = self.engine.disconnect(reason_code)
        self.broker.mark_dirty(self)
        self.process([closed])
        return closed

    def take_over(self) -> None:
        """Another connection takes this client's session: end this one now (0x8E).

        Its Closed event is handled at once, even if earlier events still wait for I/O:
        the new connection needs the session now.
        """
        closed: Closed | None = None
        if self.engine.phase == "connected":
            closed = self.engine.disconnect(ReasonCode.SESSION_TAKEN_OVER)
            self.broker.mark_dirty(self)
        elif self.pending:  # it ended already; its Closed waits behind other events
            closed = next((e for e in self.pending if isinstance(e, Closed)), None)
            if closed is not None:
                self.pending.remove(closed)
        if closed is not None:
            self.broker.handle(self, closed)

    def shutdown(self) -> None:
        """Disconnect: the server is shutting down (0x8B)."""
        if self.engine.phase == "connected":
            self.disconnect(ReasonCode.SERVER_SHUTTING_DOWN)
        elif self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Drop the connection at once."""
        if self.transport is not None:
            self.transport.abort()


class _Release:
    """In a connection's queue of events: release the acknowledgements owed up to here."""

    __slots__ = ("mark",)

    def __init__(self, mark: int) -> None:
        self.mark = mark
