"""The broker: routing, sessions, retained messages, Wills, on mqtt_common's public API.

Every per-connection rule of MQTT is ``ServerConnection``'s; this module decides what a
broker decides: who may connect (an ``AsyncAuthInterface``), which sessions resume (an
``AsyncSessionInterface``), where a message goes (a ``SubscriptionIndex``), what is kept
for later (an ``AsyncStorageInterface``: retained messages, offline queues,
subscriptions), and when a Will or a session's end is due.

Speed comes from batches: one engine call per socket read, one socket write per
connection per event-loop turn, and nothing awaited on a message's path unless an
authorization provider must be asked.
"""

from __future__ import annotations

import asyncio
import ctypes
import functools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mqtt_common.models import Message, ReasonCode, Subscription
from mqtt_common.models.constants import ProtocolVersion
from mqtt_common.protocol import (
    AuthStep,
    Closed,
    ConnectRequest,
    Event,
    ServerConfig,
    SubscribeRequest,
    UnsubscribeRequest,
)
from mqtt_common.src.auth import Action, AsyncAuthInterface, AuthCredentials
from mqtt_common.src.session import AsyncSessionInterface, Session
from mqtt_common.src.storage import AsyncStorageInterface
from mqtt_common.utils.topic import Delivery, SubscriptionIndex, merge_overlapping

if TYPE_CHECKING:
    from .connection import ClientConnection

log = logging.getLogger("broker")

#: A session with this expiry never ends (3.1.1 without Clean Session).
NEVER = 0xFFFF_FFFF


@dataclass
class BrokerConfig:
    """What the broker allows and where it keeps its state."""

    server: ServerConfig = field(default_factory=ServerConfig)
    allow_anonymous: bool = True
    #: How many messages an offline session may queue (older ones are dropped first by
    #: the storage's own policy).
    max_offline_messages: int = 10_000
    #: How many bytes a client may leave unread before it is disconnected (0x97).
    max_unread_bytes: int = 16 << 20


class Broker:
    """The shared state of every connection, and the decisions a broker makes."""

    def __init__(
        self,
        config: BrokerConfig,
        sessions: AsyncSessionInterface,
        storage: AsyncStorageInterface,
        auth: AsyncAuthInterface | None = None,
    ) -> None:
        self.config = config
        self.sessions = sessions
        self.storage = storage
        self.auth = auth
        self.index: SubscriptionIndex = SubscriptionIndex()
        self.connections: dict[str, ClientConnection] = {}
        #: Offline sessions kept for later, and when each message of their queue waited
        #: since (for the Message Expiry Interval).
        self.offline: dict[str, deque[float]] = {}
        self.will_timers: dict[str, asyncio.TimerHandle] = {}
        self.expiry_timers: dict[str, asyncio.TimerHandle] = {}
        self.shared_turn: dict[str, int] = {}
        self.dirty: set[ClientConnection] = set()
        self._flush_scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Storage writes, in order: one worker awaits them one after another.
        self._writes: asyncio.Queue[Callable[[], Awaitable[object]]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self.delivered = 0
        self.dropped = 0
        self._handlers: dict[type, Callable[[ClientConnection, Any], Awaitable[None]]] = {
            ConnectRequest: self._connect,
            SubscribeRequest: self._subscribe,
            UnsubscribeRequest: self._unsubscribe,
            Closed: self._closed,
        }

    # ---- the event loop's side ----

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The running loop, learned on first use."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def now(self) -> float:
        """Seconds on the loop's monotonic clock: every engine's ``now``."""
        return self.loop.time()

    def mark_dirty(self, connection: ClientConnection) -> None:
        """Queue a connection's output for this loop turn's single write."""
        self.dirty.add(connection)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        """Write each dirty connection's output once."""
        self._flush_scheduled = False
        dirty, self.dirty = self.dirty, set()
        for connection in dirty:
            connection.write_pending()

    def write_later(self, operation: Callable[[], Awaitable[object]]) -> None:
        """Queue a storage write; the writer runs them in order."""
        self._writes.put_nowait(operation)
        if self._writer is None or self._writer.done():
            self._writer = self.loop.create_task(self._write_in_order())

    async def _write_in_order(self) -> None:
        while not self._writes.empty():
            operation = self._writes.get_nowait()
            try:
                await operation()
            except Exception:  # a failed write is logged; the broker keeps serving
                log.exception("storage write failed")

    async def drain_writes(self) -> None:
        """Wait until every queued storage write is done."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    # ---- events ----

    def handle(self, connection: ClientConnection, event: Event) -> Awaitable[None] | None:
        """Act on one event; return an awaitable when the answer must wait for I/O."""
        if type(event) is Message:  # the hot path first
            if self.auth is not None:
                return self._authorized_publish(connection, event)
            self.publish(event, connection.client_id)
            return None
        handler = self._handlers.get(type(event))
        if handler is not None:
            return handler(connection, event)
        if isinstance(event, AuthStep):
            # No enhanced authentication method is configured: refuse the exchange.
            connection.refuse_or_disconnect(ReasonCode.BAD_AUTHENTICATION_METHOD)
        return None  # Delivered: the session already knows

    # ---- CONNECT ----

    async def _connect(self, connection: ClientConnection, request: ConnectRequest) -> None:
        engine = connection.engine
        if request.authentication_method is not None:
            # Enhanced authentication needs a method this broker does not offer.
            connection.refuse(ReasonCode.BAD_AUTHENTICATION_METHOD)
            return
        credentials = request.credentials.replace(
            peer=connection.peer, certificate=connection.certificate
        )
        if not await self._authenticate(request, credentials):
            who = request.client_id or "a client without an id"
            log.info("refused %s from %s: not authorized", who, connection.peer)
            connection.refuse(
                ReasonCode.BAD_USER_NAME_OR_PASSWORD
                if request.username is not None or request.password is not None
                else ReasonCode.NOT_AUTHORIZED
            )
            return
        client_id = request.client_id or f"auto-{connection.serial}"
        previous = self.connections.get(client_id)
        if previous is not None and previous is not connection:
            log.info("session of %s taken over by a new connection", client_id)
            await previous.take_over()
        self._cancel_timers(client_id)
        session, present = await self.sessions.create_session(
            client_id,
            request.clean_start,
            request.session_expiry_interval,
            request.protocol_version,
        )
        present = present and not request.clean_start
        if engine.is_closed:  # the client left while we waited
            await self.sessions.save_session(session)
            return
        connection.client_id = client_id
        connection.credentials = credentials.replace(client_id=client_id)
        if not present:
            await self._forget_subscriptions(client_id)
        else:
            for subscription in await self.storage.get_subscriptions(client_id):
                self.index.subscribe(client_id, subscription)
        if request.will is not None:
            await self.sessions.set_will(client_id, request.will)
        if engine.is_closed:
            await self.sessions.save_session(session)
            return
        # From here to the end of the queue's delivery, messages for this client wait in
        # its backlog, so that they follow what its session queued while it was away.
        self.connections[client_id] = connection
        connection.backlog = []
        events = engine.accept(
            session,
            session_present=present,
            assigned_client_id=client_id if request.needs_client_id else None,
        )
        connection.authenticated = True
        queued_since = self.offline.pop(client_id, None)
        log.info(
            "%s connected from %s (MQTT %s, %s, keep alive %s s)",
            client_id,
            connection.peer,
            _version_name(request.protocol_version),
            "session resumed" if present else "new session",
            engine.keep_alive,
        )
        if present:
            await self.drain_writes()  # what was queued for it is stored
            await self._deliver_queued(connection, queued_since)
        now = self.now()
        for message, route in connection.backlog or ():
            connection.engine.deliver(message, route, now)
        connection.backlog = None
        self.mark_dirty(connection)
        connection.push_front(events)

    async def _authenticate(self, request: ConnectRequest, credentials: AuthCredentials) -> bool:
        if self.auth is None:
            return self.config.allow_anonymous or request.username is not None
        anonymous = request.username is None and request.password is None
        if anonymous and self.config.allow_anonymous:
            return True
        return await self.auth.authenticate(credentials)

    async def _deliver_queued(
        self, connection: ClientConnection, queued_since: deque[float] | None
    ) -> None:
        """Send what an offline session queued, in order, minus what expired."""
        messages = await self.storage.dequeue(connection.client_id)
        now = self.now()
        since = queued_since or deque()
        for message in messages:
            waited = now - since.popleft() if since else 0.0
            fresh = _count_down(message, waited)
            if fresh is None:
                continue
            route = self._route_for(connection.client_id, fresh)
            if route is not None:
                connection.engine.deliver(fresh, route, now)
        self.mark_dirty(connection)

    # ---- PUBLISH ----

    async def _authorized_publish(self, connection: ClientConnection, message: Message) -> None:
        assert self.auth is not None
        credentials = connection.credentials or AuthCredentials(connection.client_id or "?")
        allowed = await self.auth.authorize(credentials, message.topic, Action.PUBLISH)
        if not allowed:
            if message.message_id is not None:
                connection.engine.set_publish_reason(message.message_id, ReasonCode.NOT_AUTHORIZED)
            log.info("%s may not publish to %s", connection.client_id, message.topic)
            return
        await self._publish_authorized_receivers(message, connection.client_id)

    def publish(self, message: Message, publisher: str | None) -> None:
        """Route a message to every matching subscription (no authorization to ask)."""
        if message.retain:
            self._retain(message)
        matches = self.index.matches(message.topic)
        if not matches:
            return
        now = self.now()
        if len(matches) == 1:
            client_id, subscription = matches[0]
            if subscription.share_group is None and not (
                subscription.no_local and client_id == publisher
            ):
                self._deliver_to(client_id, message, subscription, now)
                return
        for delivery in merge_overlapping(matches, publisher=publisher):
            self._deliver_to(delivery.client_id, message, delivery, now)
        self._deliver_shared(matches, message, now)

    async def _publish_authorized_receivers(self, message: Message, publisher: str | None) -> None:
        """Route a message to the subscribers that may receive it."""
        assert self.auth is not None
        if message.retain:
            self._retain(message)
        matches = self.index.matches(message.topic)
        allowed = []
        for client_id, subscription in matches:
            target = self.connections.get(client_id)
            credentials = (target.credentials if target else None) or AuthCredentials(client_id)
            if await self.auth.authorize(credentials, message.topic, Action.RECEIVE):
                allowed.append((client_id, subscription))
        now = self.now()
        for delivery in merge_overlapping(allowed, publisher=publisher):
            self._deliver_to(delivery.client_id, message, delivery, now)
        self._deliver_shared(allowed, message, now)

    def _retain(self, message: Message) -> None:
        self.write_later(lambda: self.storage.store_retained(message))

    def _deliver_shared(
        self, matches: Iterable[tuple[str, Subscription]], message: Message, now: float
    ) -> None:
        """One member of each shared subscription's group gets the message, in turn."""
        groups: dict[str, list[tuple[str, Subscription]]] = {}
        for client_id, subscription in matches:
            if subscription.share_group is not None:
                groups.setdefault(subscription.topic_filter, []).append((client_id, subscription))
        for shared_filter, members in groups.items():
            online = [m for m in members if m[0] in self.connections] or members
            turn = self.shared_turn.get(shared_filter, 0)
            self.shared_turn[shared_filter] = turn + 1
            client_id, subscription = online[turn % len(online)]
            self._deliver_to(client_id, message, subscription, now)

    def _deliver_to(
        self,
        client_id: str,
        message: Message,
        route: Subscription | Delivery,
        now: float,
    ) -> None:
        connection = self.connections.get(client_id)
        if connection is not None and connection.backlog is not None:
            connection.backlog.append((message, route))
            return
        if connection is not None and connection.authenticated:
            outcome = connection.engine.deliver(message, route, now)
            if outcome == "queue_full":
                self.dropped += 1
                if self.dropped % 1000 == 1:
                    log.warning(
                        "%s reads too slowly: its queue is full, messages dropped", client_id
                    )
            if outcome != "closed":
                self.delivered += 1
                self.dirty.add(connection)
                if not self._flush_scheduled:
                    self._flush_scheduled = True
                    self.loop.call_soon(self.flush)
                return
        queue = self.offline.get(client_id)
        if queue is None or min(int(message.qos), int(route.qos)) == 0:
            return  # no session kept, or QoS 0: nothing to keep for later
        if len(queue) >= self.config.max_offline_messages:
            return
        queue.append(now)
        self.write_later(lambda: self.storage.enqueue(client_id, message))

    def _route_for(self, client_id: str, message: Message) -> Subscription | Delivery | None:
        """Return the route a queued message takes to a client: its matching subscriptions."""
        mine = [(c, s) for c, s in self.index.matches(message.topic) if c == client_id]
        if not mine:
            return None
        if len(mine) == 1:
            return mine[0][1]
        merged = merge_overlapping(mine)
        return merged[0] if merged else mine[0][1]

    # ---- SUBSCRIBE and UNSUBSCRIBE ----

    async def _subscribe(self, connection: ClientConnection, request: SubscribeRequest) -> None:
        client_id = connection.client_id
        codes: list[int] = []
        granted: list[tuple[Subscription, bool]] = []
        for subscription in request.subscriptions:
            credentials = connection.credentials or AuthCredentials(client_id or "?")
            if self.auth is not None and not await self.auth.authorize(
                credentials, subscription.topic_filter, Action.SUBSCRIBE
            ):
                codes.append(ReasonCode.NOT_AUTHORIZED)
                log.info("%s may not subscribe to %s", client_id, subscription.topic_filter)
                continue
            existed = any(
                s.topic_filter == subscription.topic_filter
                for s in self.index.subscriptions(client_id)
            )
            self.index.subscribe(client_id, subscription)
            self.write_later(
                functools.partial(self.storage.add_subscription, client_id, subscription)
            )
            codes.append(int(subscription.qos))
            granted.append((subscription, existed))
        connection.engine.answer_subscribe(request.packet_id, codes)
        self.mark_dirty(connection)
        now = self.now()
        for subscription, existed in granted:
            # Retain Handling: 0 sends retained messages, 1 only for a new subscription,
            # 2 never; a shared subscription never gets them [MQTT-3.3.1-10].
            handling = int(subscription.retain_handling)
            if (
                subscription.share_group is not None
                or handling == 2
                or (handling == 1 and existed)
            ):
                continue
            for message in await self.storage.get_retained(subscription.topic_filter):
                connection.engine.deliver(message, subscription, now, retained=True)
        self.mark_dirty(connection)

    async def _unsubscribe(
        self, connection: ClientConnection, request: UnsubscribeRequest
    ) -> None:
        client_id = connection.client_id
        codes = []
        for topic_filter in request.topic_filters:
            found = self.index.unsubscribe(client_id, topic_filter)
            self.write_later(
                functools.partial(self.storage.remove_subscription, client_id, topic_filter)
            )
            codes.append(ReasonCode.SUCCESS if found else ReasonCode.NO_SUBSCRIPTION_EXISTED)
        connection.engine.answer_unsubscribe(request.packet_id, codes)
        self.mark_dirty(connection)

    async def _forget_subscriptions(self, client_id: str) -> None:
        for subscription in self.index.subscriptions(client_id):
            self.write_later(
                functools.partial(
                    self.storage.remove_subscription, client_id, subscription.topic_filter
                )
            )
        self.index.unsubscribe_all(client_id)
        self.offline.pop(client_id, None)
        await self.storage.dequeue(client_id)

    # ---- the end of a connection ----

    async def _closed(self, connection: ClientConnection, closed: Closed) -> None:
        client_id = connection.client_id
        connection.closed_event_seen = True
        if not connection.authenticated:
            return
        if self.connections.get(client_id) is connection:
            del self.connections[client_id]
        reason = closed.reason_code.name.lower().replace("_", " ")
        detail = f": {closed.error}" if closed.error is not None else ""
        log.info("%s disconnected (%s, %s)%s", client_id, closed.initiator, reason, detail)
        session = closed.session
        if session is not None and closed.session_expiry_interval != 0:
            # The offline queue exists before anything is awaited: a message routed to
            # this client meanwhile is kept, not lost.
            queue = self.offline.setdefault(client_id, deque())
            now = self.now()
            for message in closed.undelivered:
                if message.qos:
                    queue.append(now)
                    self.write_later(functools.partial(self.storage.enqueue, client_id, message))
            await self.sessions.save_session(session)
            if closed.session_expiry_interval != NEVER:
                self.expiry_timers[client_id] = self.loop.call_later(
                    closed.session_expiry_interval, self._expire_session, client_id
                )
        elif session is not None:
            await self.sessions.delete_session(client_id)
            await self._forget_subscriptions(client_id)
        if closed.will is not None:
            will = closed.will
            if closed.will_delay == 0:
                self._publish_will(client_id, will.message)
            else:
                self.will_timers[client_id] = self.loop.call_later(
                    closed.will_delay, self._publish_will, client_id, will.message
                )
        else:
            self.write_later(lambda: self.sessions.clear_will(client_id))

    def _publish_will(self, client_id: str, message: Message) -> None:
        self.will_timers.pop(client_id, None)
        log.info("publishing the Will of %s to %s", client_id, message.topic)
        self.write_later(lambda: self.sessions.clear_will(client_id))
        if self.auth is not None:
            self.loop.create_task(self._publish_authorized_receivers(message, client_id))
        else:
            self.publish(message, client_id)

    def _expire_session(self, client_id: str) -> None:
        self.expiry_timers.pop(client_id, None)
        if client_id in self.connections:
            return
        log.info("session of %s expired", client_id)

        async def expire() -> None:
            await self.sessions.delete_session(client_id)
            await self._forget_subscriptions(client_id)

        self.loop.create_task(expire())

    def _cancel_timers(self, client_id: str) -> None:
        """Cancel the Will delay and session expiry of a client that comes back."""
        for timers in (self.will_timers, self.expiry_timers):
            timer = timers.pop(client_id, None)
            if timer is not None:
                timer.cancel()

    # ---- a restart ----

    async def restore(self, client_ids: Iterable[str]) -> int:
        """Take up the sessions a previous run left in the stores; return how many.

        Each stored session gets back its subscriptions in the index, its offline queue
        and its timers: its expiry, and the delayed Will of a client that left. A
        session whose broker stopped without recording the disconnection (a crash)
        counts as disconnected now; an expired one is deleted.
        """
        wall = time.time()
        restored = 0
        for client_id in client_ids:
            session = await self.sessions.get_session(client_id)
            if session is None:
                continue
            if session.disconnected_at is None:
                session.mark_disconnected(wall)
                await self.sessions.save_session(session)
            if session.is_expired(wall):
                await self.sessions.delete_session(client_id)
                for subscription in await self.storage.get_subscriptions(client_id):
                    await self.storage.remove_subscription(client_id, subscription.topic_filter)
                await self.storage.dequeue(client_id)
                continue
            for subscription in await self.storage.get_subscriptions(client_id):
                self.index.subscribe(client_id, subscription)
            # How long queued messages waited before the restart is not stored: their
            # Message Expiry Intervals count from now.
            waiting = await self.storage.queue_length(client_id)
            self.offline[client_id] = deque([self.now()] * waiting)
            expires_at = session.expires_at
            if expires_at is not None:
                self.expiry_timers[client_id] = self.loop.call_later(
                    expires_at - wall, self._expire_session, client_id
                )
            will = await self.sessions.get_will(client_id)
            left_at = session.disconnected_at
            if will is not None and left_at is not None:
                due = left_at + will.delay_interval
                if expires_at is not None:
                    due = min(due, expires_at)
                self.will_timers[client_id] = self.loop.call_later(
                    max(0.0, due - wall), self._publish_will, client_id, will.message
                )
            restored += 1
        return restored

    # ---- housekeeping ----

    async def give_back_memory(self, every: float = 10.0) -> None:
        """Return the memory a burst freed to the OS (glibc's ``malloc_trim``), now and then.

        Queued messages live in Rust and leave their heap pages free but mapped after a
        burst; without this the process would keep its peak size. Elsewhere a no-op.
        """
        trim = _malloc_trim()
        if trim is None:
            return
        while True:
            await asyncio.sleep(every)
            trim(0)

    # ---- shutting down ----

    async def shutdown(self) -> None:
        """Disconnect every client (Server shutting down), save sessions, close storage."""
        for connection in list(self.connections.values()):
            connection.shutdown()
        for _ in range(50):  # let the Closed events save their sessions
            if not self.connections:
                break
            await asyncio.sleep(0.01)
        await self.drain_writes()
        for timer in [*self.will_timers.values(), *self.expiry_timers.values()]:
            timer.cancel()
        await self.storage.close()


def _malloc_trim() -> Callable[[int], int] | None:
    """Return glibc's ``malloc_trim``, or None where there is none."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def _count_down(message: Message, waited: float) -> Message | None:
    """Return the message with its expiry counted down by ``waited`` s (None: expired)."""
    properties = message.properties
    interval = properties.message_expiry_interval if properties is not None else None
    if interval is None or waited < 1:
        return message
    if waited >= interval:
        return None
    assert properties is not None
    changed = properties.replace(message_expiry_interval=interval - int(waited))
    return message.replace(properties=changed)


def _version_name(version: ProtocolVersion) -> str:
    return {3: "3.1", 4: "3.1.1", 5: "5.0"}.get(int(version), str(int(version)))


def session_summary(session: Session | None) -> str:
    """Describe a session in a few words, for the log."""
    if session is None:
        return "no session"
    return f"{session.outgoing_count} out, {session.incoming_count} in flight"


__all__ = ["Broker", "BrokerConfig", "session_summary"]
