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
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

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

#: What to do with a message for an offline session whose queue is full.
QueueFull = Literal["drop_new", "drop_oldest"]


@dataclass
class BrokerConfig:
    """What the broker allows and where it keeps its state."""

    server: ServerConfig = field(default_factory=ServerConfig)
    #: Whether clients without a user name (or with an empty one) are accepted without
    #: asking the auth provider. None: only when there is no auth provider, as
    #: mosquitto 2.0 decides.
    allow_anonymous: bool | None = None
    #: How many messages an offline session may queue.
    max_offline_messages: int = 10_000
    #: A full offline queue drops the new message (mosquitto's way) or its oldest one.
    #: The storage must be made with the same policy and length (``queue_full=
    #: "drop_newest"`` or ``"drop_oldest"``, ``max_queue_length``).
    queue_full: QueueFull = "drop_new"
    #: How many bytes a client may leave unread before it is disconnected (0x97).
    max_unread_bytes: int = 16 << 20


class Throttle:
    """Say yes at most once per ``interval`` seconds, counting the times it said no.

    For warnings that a flood would repeat (a full queue, a failing provider): the first
    is logged, then one a while with how many were left out.
    """

    def __init__(self, interval: float = 10.0) -> None:
        self.interval = interval
        self._last = -interval
        self.suppressed = 0

    def ready(self) -> bool:
        """Return True if a line may be logged now."""
        now = time.monotonic()
        if now - self._last < self.interval:
            self.suppressed += 1
            return False
        self._last = now
        return True

    def take_suppressed(self) -> int:
        """Return how many lines were left out since the last one, and start over."""
        count, self.suppressed = self.suppressed, 0
        return count


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
        #: Who each offline session belongs to (user name, certificate): decisions for
        #: it while its client is away are its owner's.
        self.owners: dict[str, AuthCredentials] = {}
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
        #: Deliveries dropped because a connected client's queue was full.
        self.dropped = 0
        #: Messages dropped because an offline session's queue was full.
        self.offline_dropped = 0
        self._slow_reader_warning = Throttle()
        self._queue_full_warning = Throttle()
        self._provider_failure = Throttle()
        self._handlers: dict[type, Callable[[ClientConnection, Any], Awaitable[None]]] = {
            ConnectRequest: self._connect,
            SubscribeRequest: self._subscribe,
            UnsubscribeRequest: self._unsubscribe,
            Closed: self._closed,
        }

    # ---- the event loop's side ----

    @property
    def anonymous_allowed(self) -> bool:
        """Whether clients without a user name are accepted without asking the provider."""
        if self.config.allow_anonymous is None:
            return self.auth is None
        return self.config.allow_anonymous

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
            if not self.publish(event, connection.client_id) and event.message_id is not None:
                connection.engine.set_publish_reason(
                    event.message_id, ReasonCode.NO_MATCHING_SUBSCRIBERS
                )
            return None
        handler = self._handlers.get(type(event))
        if handler is not None:
            return handler(connection, event)
        if isinstance(event, AuthStep):
            # No enhanced authentication method is configured: refuse the exchange.
            connection.refuse_or_disconnect(
                ReasonCode.BAD_AUTHENTICATION_METHOD, "enhanced authentication is not offered"
            )
        return None  # Delivered: the session already knows

    # ---- CONNECT ----

    async def _admit(
        self, connection: ClientConnection, request: ConnectRequest
    ) -> AuthCredentials | None:
        """Return the credentials of a client allowed in; else refuse it and return None."""
        if request.authentication_method is not None:
            # Enhanced authentication needs a method this broker does not offer.
            connection.refuse(
                ReasonCode.BAD_AUTHENTICATION_METHOD,
                f"enhanced authentication ({request.authentication_method}) is not offered",
            )
            return None
        credentials = request.credentials.replace(
            peer=connection.peer, certificate=connection.certificate
        )
        try:
            allowed = await self._authenticate(request, credentials)
        except Exception:
            # Not the client's fault: it may try again later (3.1.1 return code 3).
            log.exception("the auth provider failed for %s", connection.describe())
            connection.refuse(ReasonCode.SERVER_UNAVAILABLE, "the auth provider failed")
            return None
        if allowed:
            return credentials
        if request.username:
            connection.refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD, "bad user name or password")
        else:
            connection.refuse(
                ReasonCode.NOT_AUTHORIZED, "not authorized (anonymous clients are refused)"
            )
        return None

    async def _connect(self, connection: ClientConnection, request: ConnectRequest) -> None:
        engine = connection.engine
        credentials = await self._admit(connection, request)
        if credentials is None:
            return
        client_id = request.client_id or await self._assign_client_id()
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
        session.set_owner(connection.credentials)
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
        if engine.is_closed:
            await self._refused_after_accept(connection, events)
            return
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

    async def _refused_after_accept(
        self, connection: ClientConnection, events: list[Event]
    ) -> None:
        """End a connection whose CONNACK did not fit the client's Maximum Packet Size.

        It is refused after all: its Closed event (logged as a refusal) hands back the
        session, which is kept as any other.
        """
        self.connections.pop(connection.client_id, None)
        connection.backlog = None
        for event in events:
            if isinstance(event, Closed) and event.session is not None:
                await self.sessions.save_session(event.session)
        connection.push_front(events)

    async def _authenticate(self, request: ConnectRequest, credentials: AuthCredentials) -> bool:
        # An empty user name is no user name, as mosquitto counts it.
        anonymous = not request.username
        if anonymous and self.anonymous_allowed:
            return True
        if self.auth is None:
            return not anonymous
        return await self.auth.authenticate(credentials)

    async def _assign_client_id(self) -> str:
        """Return a client id for a client that gave none: random, and no session's.

        128 random bits, as mosquitto's ``auto-<UUID>``: unique across restarts and
        nodes, so a stranger never resumes a stored session.
        """
        while True:
            client_id = f"auto-{str(uuid.uuid4()).upper()}"
            if client_id in self.connections or client_id in self.owners:
                continue
            if await self.sessions.get_session(client_id) is None:
                return client_id

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
        credentials = connection.credentials or AuthCredentials(connection.client_id or "?")
        allowed = await self._authorize(credentials, message.topic, Action.PUBLISH)
        reason = None
        if allowed is None:
            reason = ReasonCode.UNSPECIFIED_ERROR
        elif not allowed:
            reason = ReasonCode.NOT_AUTHORIZED
            log.info("%s may not publish to %s", connection.describe(), message.topic)
        elif not await self._publish_authorized_receivers(message, connection.client_id):
            reason = ReasonCode.NO_MATCHING_SUBSCRIBERS
        if reason is not None and message.message_id is not None:
            connection.engine.set_publish_reason(message.message_id, reason)

    async def _authorize(
        self, credentials: AuthCredentials, topic: str, action: Action
    ) -> bool | None:
        """Ask the provider; None if it failed (logged, a while apart in a flood)."""
        assert self.auth is not None
        try:
            return await self.auth.authorize(credentials, topic, action)
        except Exception:
            if self._provider_failure.ready():
                left_out = self._provider_failure.take_suppressed()
                more = f" ({left_out} more failures since the last report)" if left_out else ""
                log.exception(
                    "the auth provider failed to decide whether %s may %s %s%s",
                    credentials.client_id,
                    action.name.lower(),
                    topic,
                    more,
                )
            return None

    def publish(self, message: Message, publisher: str | None) -> bool:
        """Route a message to every matching subscription (no authorization to ask).

        Return whether any subscription matched (a 5.0 publisher is told 0x10 if none).
        """
        if message.retain:
            self._retain(message)
        matches = self.index.matches(message.topic)
        if not matches:
            return False
        now = self.now()
        if len(matches) == 1:
            client_id, subscription = matches[0]
            if subscription.share_group is None and not (
                subscription.no_local and client_id == publisher
            ):
                self._deliver_to(client_id, message, subscription, now)
                return True
        for delivery in merge_overlapping(matches, publisher=publisher):
            self._deliver_to(delivery.client_id, message, delivery, now)
        self._deliver_shared(matches, message, now)
        return True

    async def _publish_authorized_receivers(self, message: Message, publisher: str | None) -> bool:
        """Route a message to the subscribers that may receive it.

        Return whether any subscription matched, allowed to receive or not.
        """
        if message.retain:
            self._retain(message)
        matches = self.index.matches(message.topic)
        allowed = []
        for client_id, subscription in matches:
            if await self._authorize(self._owner(client_id), message.topic, Action.RECEIVE):
                allowed.append((client_id, subscription))
        now = self.now()
        for delivery in merge_overlapping(allowed, publisher=publisher):
            self._deliver_to(delivery.client_id, message, delivery, now)
        self._deliver_shared(allowed, message, now)
        return bool(matches)

    def _owner(self, client_id: str) -> AuthCredentials:
        """Return the credentials to decide by for a client.

        Its connection's while connected; its offline session's owner's while away.
        """
        target = self.connections.get(client_id)
        if target is not None and target.credentials is not None:
            return target.credentials
        return self.owners.get(client_id) or AuthCredentials(client_id)

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
                if self._slow_reader_warning.ready():
                    log.warning(
                        "%s reads too slowly: its queue is full, messages dropped (%d in all)",
                        client_id,
                        self.dropped,
                    )
            if outcome != "closed":
                self.delivered += 1
                self.dirty.add(connection)
                if not self._flush_scheduled:
                    self._flush_scheduled = True
                    self.loop.call_soon(self.flush)
                return
        if min(int(message.qos), int(route.qos)) == 0:
            return  # QoS 0: nothing to keep for later
        self._queue_offline(client_id, message, now)

    def _queue_offline(self, client_id: str, message: Message, now: float) -> None:
        """Keep a message for an offline session, as the queue-full policy allows."""
        queue = self.offline.get(client_id)
        if queue is None:
            return  # no session kept
        if len(queue) >= self.config.max_offline_messages:
            self.offline_dropped += 1
            newest = self.config.queue_full == "drop_new"
            if self._queue_full_warning.ready():
                log.warning(
                    "the offline queue of %s is full (%d messages): %s dropped "
                    "(%d dropped in all)",
                    client_id,
                    len(queue),
                    "the new message" if newest else "its oldest message",
                    self.offline_dropped,
                )
            if newest:
                return
            queue.popleft()  # the storage drops its oldest too: same policy, same length
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
            if self.auth is not None:
                allowed = await self._authorize(
                    credentials, subscription.topic_filter, Action.SUBSCRIBE
                )
                if not allowed:
                    codes.append(
                        ReasonCode.NOT_AUTHORIZED
                        if allowed is False
                        else ReasonCode.UNSPECIFIED_ERROR
                    )
                    if allowed is False:
                        log.info(
                            "%s may not subscribe to %s",
                            connection.describe(),
                            subscription.topic_filter,
                        )
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
        closed = connection.engine.answer_subscribe(request.packet_id, codes)
        self.mark_dirty(connection)
        if closed is not None:  # the SUBACK did not fit the client's Maximum Packet Size
            connection.process([closed])
            return
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
        closed = connection.engine.answer_unsubscribe(request.packet_id, codes)
        self.mark_dirty(connection)
        if closed is not None:
            connection.process([closed])

    async def _forget_subscriptions(self, client_id: str) -> None:
        for subscription in self.index.subscriptions(client_id):
            self.write_later(
                functools.partial(
                    self.storage.remove_subscription, client_id, subscription.topic_filter
                )
            )
        self.index.unsubscribe_all(client_id)
        self.offline.pop(client_id, None)
        self.owners.pop(client_id, None)
        await self.storage.dequeue(client_id)

    # ---- the end of a connection ----

    @staticmethod
    def _log_end(connection: ClientConnection, closed: Closed) -> None:
        """Log how a connection ended: refused, or disconnected, with who and why."""
        reason = _in_words(closed.reason_code)
        detail = f": {closed.error}" if closed.error is not None else ""
        if connection.authenticated:
            by = {"client": "by the client", "server": "by the server", "network": "(lost)"}
            log.info(
                "%s disconnected %s: %s%s",
                connection.describe(),
                by.get(closed.initiator, closed.initiator),
                reason,
                detail,
            )
        elif connection.refusal is not None:
            log.info("refused %s: %s", connection.describe(), connection.refusal)
        elif closed.initiator == "server":
            log.info("refused %s: %s%s", connection.describe(), reason, detail)
        else:
            log.info("%s closed before it was accepted", connection.describe())

    async def _closed(self, connection: ClientConnection, closed: Closed) -> None:
        client_id = connection.client_id
        connection.closed_event_seen = True
        self._log_end(connection, closed)
        if not connection.authenticated:
            return
        if self.connections.get(client_id) is connection:
            del self.connections[client_id]
        session = closed.session
        if session is not None and closed.session_expiry_interval != 0:
            # The offline queue exists before anything is awaited: a message routed to
            # this client meanwhile is kept, not lost.
            self.offline.setdefault(client_id, deque())
            self.owners[client_id] = session.owner
            now = self.now()
            for message in closed.undelivered:
                if message.qos:
                    self._queue_offline(client_id, message, now)
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
            owner = session.owner if session is not None else AuthCredentials(client_id)
            if closed.will_delay == 0:
                self._publish_will(client_id, will.message, owner)
            else:
                self.will_timers[client_id] = self.loop.call_later(
                    closed.will_delay, self._publish_will, client_id, will.message, owner
                )
        else:
            self.write_later(lambda: self.sessions.clear_will(client_id))

    def _publish_will(self, client_id: str, message: Message, owner: AuthCredentials) -> None:
        self.will_timers.pop(client_id, None)
        self.write_later(lambda: self.sessions.clear_will(client_id))
        if self.auth is not None:
            self.loop.create_task(self._publish_authorized_will(client_id, message, owner))
        else:
            log.info("publishing the Will of %s to %s", client_id, message.topic)
            self.publish(message, client_id)

    async def _publish_authorized_will(
        self, client_id: str, message: Message, owner: AuthCredentials
    ) -> None:
        """Publish a Will if its owner may publish to its topic (mosquitto asks then)."""
        if not await self._authorize(owner, message.topic, Action.PUBLISH):
            log.info(
                "the Will of %s is not published: it may not publish to %s",
                client_id,
                message.topic,
            )
            return
        log.info("publishing the Will of %s to %s", client_id, message.topic)
        await self._publish_authorized_receivers(message, client_id)

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
            self.owners[client_id] = session.owner
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
                    max(0.0, due - wall),
                    self._publish_will,
                    client_id,
                    will.message,
                    session.owner,
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


def _in_words(reason_code: ReasonCode) -> str:
    """Say a reason code as the log says it: "bad user name or password (0x86)"."""
    return f"{reason_code.name.lower().replace('_', ' ')} ({int(reason_code):#04x})"


def _version_name(version: ProtocolVersion) -> str:
    return {3: "3.1", 4: "3.1.1", 5: "5.0"}.get(int(version), str(int(version)))


def session_summary(session: Session | None) -> str:
    """Describe a session in a few words, for the log."""
    if session is None:
        return "no session"
    return f"{session.outgoing_count} out, {session.incoming_count} in flight"


__all__ = ["Broker", "BrokerConfig", "session_summary"]
