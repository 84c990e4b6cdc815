"""The broker: asyncio glue around mqtt_common's engine and router.

Every rule of MQTT is the library's: one connection's in ``ServerConnection``, those
between connections (subscriptions, retained messages, sessions and what they are
owed, Wills, expiry, takeover) in ``Router``. What is left here is what only a broker
can do: sockets (``connection.py``), awaiting the auth provider, writing the router's
facts to the stores, and timers.

Nothing acknowledged is lost: with stores, the engines hold each PUBACK and PUBREC (and
the broker holds each SUBACK) until the facts the packet caused are committed. The facts
of one event-loop turn share one commit (group commit); commits go one after another,
in order. Without stores nothing waits.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from mqtt_common.models import Message, ReasonCode, Subscription
from mqtt_common.models.constants import ProtocolVersion
from mqtt_common.protocol import (
    AuthStep,
    Closed,
    ConnectRequest,
    Delivered,
    Discarded,
    Event,
    Metrics,
    ServerConfig,
    SubscribeRequest,
    UnsubscribeRequest,
)
from mqtt_common.router import Change, Fact, Forward, Outgoing, Routed, Router
from mqtt_common.src.auth import Action, AsyncAuthInterface, AuthCredentials
from mqtt_common.src.session import AsyncSessionInterface, Session
from mqtt_common.src.storage import AsyncStorageInterface

from .metrics import CommitTimes

if TYPE_CHECKING:
    from .cluster import Cluster
    from .connection import ClientConnection

log = logging.getLogger("broker")

#: What to do with a message for an offline session whose queue is full.
QueueFull = Literal["drop_new", "drop_oldest"]


@dataclass
class BrokerConfig:
    """What the broker allows."""

    server: ServerConfig = field(default_factory=ServerConfig)
    #: Whether clients without a user name (or with an empty one) are accepted without
    #: asking the auth provider. None: only when there is no auth provider, as
    #: mosquitto 2.0 decides.
    allow_anonymous: bool | None = None
    #: How many messages one session may be owed (queued while away, unacknowledged).
    max_offline_messages: int = 10_000
    #: A full queue drops the new message (mosquitto's way) or its oldest one.
    queue_full: QueueFull = "drop_new"
    #: How a shared subscription's member is picked.
    shared_choice: Literal["round_robin", "random", "sticky"] = "round_robin"
    #: How many bytes a client may leave unread before it is disconnected (0x97) if it
    #: reads none of them for a second (four times as many in any case).
    max_unread_bytes: int = 16 << 20
    #: This broker's name as a node of a cluster (its stores in Redis); None: alone.
    node_id: str | None = None
    #: How many clients may be connected at once (a client taking its own session over
    #: is let in); None: no limit. Beyond it a CONNECT is refused with 0x97 Quota
    #: exceeded (3.1.1: Server unavailable).
    max_connections: int | None = None
    #: How many topics may hold a retained message; None: no limit. One more is
    #: refused whole: routed nowhere, 0x97 Quota exceeded to a 5.0 publisher (QoS 1 and
    #: 2), as an unauthorized publication is.
    max_retained_messages: int | None = None
    #: How many bytes of topics and payloads the retained messages may hold; None: no
    #: limit. A retained message that would pass it is refused as above.
    max_retained_bytes: int | None = None


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
    """The shared state of every connection: the router, the stores, the provider."""

    def __init__(
        self,
        config: BrokerConfig,
        sessions: AsyncSessionInterface | None = None,
        storage: AsyncStorageInterface | None = None,
        auth: AsyncAuthInterface | None = None,
    ) -> None:
        self.config = config
        self.sessions = sessions
        self.storage = storage
        self.auth = auth
        self.durable = sessions is not None and storage is not None
        if self.durable and not config.server.hold_acknowledgements:
            config.server = config.server.replace(hold_acknowledgements=True)
        self.router = Router(
            max_queued_messages=config.max_offline_messages,
            queue_full=config.queue_full,
            shared_choice=config.shared_choice,
            max_retained_messages=config.max_retained_messages,
            max_retained_bytes=config.max_retained_bytes,
            max_connections=config.max_connections,
            node_id=config.node_id,
        )
        #: With ``node_id``: this broker's part in the cluster (set once it joined).
        self.cluster: Cluster | None = None
        #: The counters every connection's engine adds to ($SYS, metrics).
        self.metrics = Metrics()
        #: The most clients connected at once since the start.
        self.max_connected = 0
        #: How long each commit to the stores took (for --metrics-port).
        self.commit_times = CommitTimes()
        #: Accepted connections, by the router's connection id.
        self.connections: dict[int, ClientConnection] = {}
        self.dirty: set[ClientConnection] = set()
        self._flush_scheduled = False
        #: A listener serves a batch of ready sockets (the flush waits for its end).
        self._batching = False
        self._loop: asyncio.AbstractEventLoop | None = None
        # ---- what waits for the next commit ----
        self._facts: list[Fact] = []
        # Connections whose session was accepted with facts waiting to be stored: if the
        # commit fails, they end too (their clients were told of a session that is not
        # stored).
        self._sessions_pending: set[ClientConnection] = set()
        self._sessions_to_save: dict[str, Session] = {}
        self._releases: dict[ClientConnection, int] = {}
        self._answers: list[tuple[ClientConnection, Callable[[], None]]] = []
        # In a cluster: QoS 1 and 2 messages for other nodes, and the changes every node
        # must see, sent with the facts of the same commit.
        self._forwards: list[Forward] = []
        self._changes: list[Change] = []
        # Tasks waiting for what is pending to be stored (told whether it was).
        self._waiters: list[asyncio.Future[bool]] = []
        self._committing: asyncio.Task[None] | None = None
        # Whether the last commit failed: the log says when the stores fail and when
        # they answer again, once each, not once per commit.
        self._store_failing = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        # ---- counts ----
        self.delivered = 0
        #: Deliveries dropped because a connected client's engine queue was full.
        self.dropped = 0
        #: Messages dropped because a session's queue was full.
        self.offline_dropped = 0
        self._queue_full_warning = Throttle()
        self._retained_warning = Throttle()
        self._provider_failure = Throttle()
        self._handlers: dict[type, Callable[[ClientConnection, Any], Awaitable[None] | None]] = {
            ConnectRequest: self._connect,
            SubscribeRequest: self._subscribe,
            UnsubscribeRequest: self._unsubscribe,
            Delivered: self._settled,
            Discarded: self._settled,
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
        self._flush_soon()

    def _flush_soon(self) -> None:
        """Flush at the end of this batch of reads, or else in the next loop turn."""
        if not self._flush_scheduled:
            self._flush_scheduled = True
            if not self._batching:
                self.loop.call_soon(self.flush)

    def begin_batch(self) -> None:
        """Start a batch of ready sockets (a listener serves them): flush at its end."""
        self._batching = True

    def end_batch(self) -> None:
        """End the batch: flush what it gave."""
        self._batching = False
        if self._flush_scheduled:
            self.flush()

    def flush(self) -> None:
        """End of a loop turn: start the commit of its facts, write each dirty connection."""
        self._flush_scheduled = False
        self._commit_soon()
        dirty, self.dirty = self.dirty, set()
        for connection in dirty:
            connection.write_pending()
        self._arm_timer()

    def act(self, routed: Routed) -> None:
        """Carry out what the router decided: output, facts, Wills, drops."""
        for serial in routed.touched:
            connection = self.connections.get(serial)
            if connection is not None:
                self.delivered += 1
                self.mark_dirty(connection)
        if routed.facts and self.durable:
            self._facts.extend(routed.facts)
            self._flush_soon()
        for client_id in routed.dropped:
            self._queue_full(client_id)
        for client_id, owner, message in routed.wills:
            self._publish_will(client_id, owner, message)
        if routed.forwards or routed.changes:
            self._to_other_nodes(routed.forwards, routed.changes)

    def _to_other_nodes(self, forwards: list[Forward], changes: list[Change]) -> None:
        """Hand a cluster's forwards (QoS 0 ones go live) and changes over."""
        if self.cluster is None:
            return
        self.cluster.post(forwards)
        if changes:
            self._changes.extend(changes)
            self._flush_soon()

    def forward_with_commit(self, forward: Forward) -> None:
        """Send a QoS 1 or 2 message to its node with the next commit."""
        self._forwards.append(forward)
        self._flush_soon()

    def timers_changed(self) -> None:
        """Look again at when the router's timers are due (after changes it applied)."""
        self._arm_timer()

    # ---- durability: facts, then the acknowledgements that promise them ----

    def hold_until_stored(self, connection: ClientConnection, answer: Callable[[], None]) -> None:
        """Run ``answer`` (a SUBACK, say) once what is pending is stored; now without stores."""
        if not self.durable:
            answer()
            return
        self._answers.append((connection, answer))
        self._flush_soon()

    def note_received(self, connection: ClientConnection, mark: int) -> None:
        """Release the acknowledgements its engine holds up to ``mark`` with the next commit.

        Call it once the events they acknowledge are handled (their facts are pending).
        """
        if self.durable:
            self._releases[connection] = mark
            self._flush_soon()

    def save_session_soon(self, session: Session) -> None:
        """Store a session with the next commit (a QoS 2 flow's state before its PUBREC)."""
        if self.durable:
            self._sessions_to_save[session.client_id] = session

    def _waiting(self) -> bool:
        return bool(
            self._facts
            or self._releases
            or self._answers
            or self._sessions_to_save
            or self._forwards
            or self._changes
            or self._waiters
        )

    async def stored(self) -> bool:
        """Wait until what is pending now is stored; return whether it was."""
        idle = self._committing is None or self._committing.done()
        if not self.durable or (idle and not self._waiting()):
            return True
        done: asyncio.Future[bool] = self.loop.create_future()
        self._waiters.append(done)
        self._flush_soon()
        return await done

    def _commit_soon(self) -> None:
        idle = self._committing is None or self._committing.done()
        if idle and self._waiting():
            self._committing = self.loop.create_task(self._commit())

    async def _commit(self) -> None:
        """Store what waits, in order, one batch at a time; then release what it promised."""
        while self._waiting():
            facts, self._facts = self._facts, []
            saves, self._sessions_to_save = self._sessions_to_save, {}
            releases, self._releases = self._releases, {}
            answers, self._answers = self._answers, []
            accepted, self._sessions_pending = self._sessions_pending, set()
            forwards, self._forwards = self._forwards, []
            changes, self._changes = self._changes, []
            waiters, self._waiters = self._waiters, []
            started = time.perf_counter()
            try:
                await self._store(facts, saves.values(), forwards, changes)
            except Exception:
                self.commit_times.observe(time.perf_counter() - started)
                # Nothing it promised is released: the clients' acknowledgements never
                # come, and they send again once they reconnect.
                if not self._store_failing:
                    log.exception(
                        "cannot store what was received (%d facts): their acknowledgements "
                        "are withheld and their connections end until the stores answer "
                        "again",
                        len(facts),
                    )
                    self._store_failing = True
                else:
                    log.debug("cannot store what was received (%d facts)", len(facts))
                # Their connections end: a later commit must not release it either, and
                # a SUBACK that will never come should not be waited for.
                for connection in {*releases, *(c for c, _ in answers), *accepted}:
                    connection.refuse_or_disconnect(
                        ReasonCode.UNSPECIFIED_ERROR, "the storage failed"
                    )
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(False)
                continue
            self.commit_times.observe(time.perf_counter() - started)
            if self._store_failing:
                log.warning("the stores answer again: what is received is stored")
                self._store_failing = False
            for connection, mark in releases.items():
                connection.engine.release_acknowledgements(mark)
                self.mark_dirty(connection)
            for _, answer in answers:
                answer()
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(True)

    async def _store(
        self,
        facts: list[Fact],
        sessions: Iterable[Session],
        forwards: list[Forward],
        changes: list[Change],
    ) -> None:
        """Write facts to the stores: the storage's in one call, the sessions' in order.

        In a cluster, the forwards and changes go to the other nodes at the same time:
        the acknowledgements wait for both.
        """
        assert self.storage is not None
        assert self.sessions is not None
        storing = [self.storage.persist(facts)] if any(f.for_storage for f in facts) else []
        if self.cluster is not None:
            sessions_facts = [f for f in facts if f.for_sessions]
            if forwards or changes or sessions_facts:
                storing.append(self.cluster.node.send(forwards, changes, sessions_facts))
        await asyncio.gather(*storing, self._store_sessions(facts, sessions))

    async def _store_sessions(self, facts: list[Fact], sessions: Iterable[Session]) -> None:
        assert self.sessions is not None
        await self.sessions.persist(facts)
        for session in sessions:
            await self.sessions.save_session(session)

    async def drain(self) -> None:
        """Wait until everything pending is stored."""
        self._commit_soon()
        while self._committing is not None and not self._committing.done():
            await asyncio.shield(self._committing)
            self._commit_soon()

    # ---- the router's timers ----

    def _arm_timer(self) -> None:
        deadline = self.router.next_deadline()
        if deadline == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = deadline
        if deadline is not None:
            delay = max(0.0, deadline - time.time())
            self._timer = self.loop.call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        self.act(self.router.handle_timeout(time.time(), self.now()))
        self._arm_timer()

    # ---- events ----

    def handle(self, connection: ClientConnection, event: Event) -> Awaitable[None] | None:
        """Act on one event; return an awaitable when the answer must wait for I/O."""
        if type(event) is Message:  # the hot path first
            if self.auth is not None:
                return self._authorized_publish(connection, event)
            self._route(connection, event, None)
            return None
        handler = self._handlers.get(type(event))
        if handler is not None:
            return handler(connection, event)
        if isinstance(event, AuthStep):
            # No enhanced authentication method is configured: refuse the exchange.
            connection.refuse_or_disconnect(
                ReasonCode.BAD_AUTHENTICATION_METHOD, "enhanced authentication is not offered"
            )
        return None

    def _route(
        self, connection: ClientConnection, message: Message, receivers: list[str] | None
    ) -> None:
        """Route a client's message (to ``receivers`` only, when given)."""
        routed = self.router.publish(
            message,
            time.time(),
            self.now(),
            publisher=connection.client_id,
            receivers=receivers,
        )
        self.act(routed)
        if routed.reason_code is not None:
            if routed.reason_code == ReasonCode.QUOTA_EXCEEDED:
                self.retained_refused(connection, message.topic)
            if message.message_id is not None:
                connection.engine.set_publish_reason(message.message_id, routed.reason_code)
        if message.qos == 2 and connection.session_persists:
            session = connection.engine.session
            if session is not None:
                self.save_session_soon(session)

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

    async def _authenticate(self, request: ConnectRequest, credentials: AuthCredentials) -> bool:
        # An empty user name is no user name, as mosquitto counts it.
        anonymous = not request.username
        if anonymous and self.anonymous_allowed:
            return True
        if self.auth is None:
            return not anonymous
        return await self.auth.authenticate(credentials)

    async def _connect(self, connection: ClientConnection, request: ConnectRequest) -> None:
        credentials = await self._admit(connection, request)
        if credentials is None or connection.engine.is_closed:
            return
        engine = connection.engine
        client_id = request.client_id or self.router.assign_client_id()
        refusal = self.router.connection_refusal(client_id)
        if refusal is not None:
            limit = self.config.max_connections
            log.warning("refusing %s: %s clients are connected", connection.describe(), limit)
            connection.refuse(refusal, f"the broker has its {limit} connections")
            return
        if self.cluster is not None:
            # The node that held the session lets it go first.
            refused = await self.cluster.take_session(client_id, request.clean_start)
            if refused is not None:
                log.warning("cannot take the session of %s: %s", client_id, refused)
                connection.refuse(ReasonCode.SERVER_UNAVAILABLE, refused)
                return
            if connection.engine.is_closed:
                return
        credentials = credentials.replace(client_id=client_id)
        connected = self.router.connect(
            connection.serial, request, client_id, credentials, time.time()
        )
        while connected.take_over is not None:
            previous = self.connections.get(connected.take_over)
            if previous is None:  # cannot happen: the router names accepted connections
                break
            log.info("session of %s taken over by a new connection", client_id)
            previous.take_over()
            connected = self.router.connect(
                connection.serial, request, client_id, credentials, time.time()
            )
        assert connected.session is not None
        events = engine.accept(
            connected.session,
            session_present=connected.session_present,
            assigned_client_id=client_id if request.needs_client_id else None,
        )
        connection.client_id = client_id
        # Kept for the provider's authorization questions; without one, nobody asks.
        connection.credentials = credentials if self.auth is not None else None
        connection.session_persists = request.session_expiry_interval != 0
        self.connections[connection.serial] = connection
        self.max_connected = max(self.max_connected, len(self.connections))
        connection.authenticated = not engine.is_closed
        if self.durable:
            self._facts.extend(connected.facts)
            if connected.facts:
                self._sessions_pending.add(connection)
        if connected.changes:
            self._to_other_nodes([], connected.changes)
        self.act(self.router.attach(connection.serial, engine, self.now()))
        if connection.authenticated:
            log.info(
                "%s connected from %s (MQTT %s, %s, keep alive %s s)",
                client_id,
                connection.peer,
                _version_name(request.protocol_version),
                "session resumed" if connected.session_present else "new session",
                engine.keep_alive,
            )
        self.mark_dirty(connection)
        connection.push_front(events)

    # ---- PUBLISH ----

    async def _authorized_publish(self, connection: ClientConnection, message: Message) -> None:
        credentials = connection.credentials or AuthCredentials(connection.client_id or "?")
        allowed = await self._authorize(credentials, message.topic, Action.PUBLISH)
        if allowed is None or not allowed:
            if allowed is False:
                log.info("%s may not publish to %s", connection.describe(), message.topic)
            if message.message_id is not None:
                connection.engine.set_publish_reason(
                    message.message_id,
                    ReasonCode.NOT_AUTHORIZED
                    if allowed is False
                    else ReasonCode.UNSPECIFIED_ERROR,
                )
            return
        receivers = await self.allowed_receivers(message.topic)
        self._route(connection, message, receivers)

    async def allowed_receivers(self, topic: str) -> list[str]:
        """Return the clients that would receive a message on ``topic`` and may."""
        allowed = []
        for client_id, owner in self.router.receivers(topic):
            if await self._authorize(owner, topic, Action.RECEIVE):
                allowed.append(client_id)
        return allowed

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

    def _publish_will(self, client_id: str, owner: AuthCredentials, message: Message) -> None:
        if self.auth is None:
            log.info("publishing the Will of %s to %s", client_id, message.topic)
            self.act(self.router.publish(message, time.time(), self.now(), publisher=client_id))
            return
        self.loop.create_task(self._publish_authorized_will(client_id, owner, message))

    async def _publish_authorized_will(
        self, client_id: str, owner: AuthCredentials, message: Message
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
        receivers = await self.allowed_receivers(message.topic)
        self.act(
            self.router.publish(
                message, time.time(), self.now(), publisher=client_id, receivers=receivers
            )
        )

    def retained_refused(self, connection: ClientConnection, topic: str) -> None:
        """Log a retained message refused for ``--max-retained`` or ``--max-retained-bytes``."""
        if self._retained_warning.ready():
            stats = self.router.stats()
            log.warning(
                "refused the retained message of %s to %s: the broker holds as many as "
                "allowed (--max-retained %s, --max-retained-bytes %s; %d bytes held outside "
                "$SYS, %d refused in all)",
                connection.describe(),
                topic,
                self.config.max_retained_messages,
                self.config.max_retained_bytes,
                stats["retained_bytes"],
                stats["retained_refused"],
            )

    def _queue_full(self, client_id: str) -> None:
        self.offline_dropped += 1
        if self._queue_full_warning.ready():
            newest = self.config.queue_full == "drop_new"
            log.warning(
                "the offline queue of %s is full (%d messages): %s dropped (%d dropped in all)",
                client_id,
                self.config.max_offline_messages,
                "the new message" if newest else "its oldest message",
                self.offline_dropped,
            )

    # ---- SUBSCRIBE and UNSUBSCRIBE ----

    def _subscribe(
        self, connection: ClientConnection, request: SubscribeRequest
    ) -> Awaitable[None] | None:
        """Apply a SUBSCRIBE now, in order with what was read before and after it.

        With a provider, once it has decided each filter (and each retained message).
        """
        if self.auth is not None:
            return self._authorized_subscribe(connection, request)
        clock = self.now()
        for outgoing in self._apply_subscribe(connection, request, None):
            self.router.deliver(outgoing, clock)
        return None

    async def _authorized_subscribe(
        self, connection: ClientConnection, request: SubscribeRequest
    ) -> None:
        credentials = connection.credentials or AuthCredentials(connection.client_id)
        refused: list[int | None] = []
        for subscription in request.subscriptions:
            topic_filter = subscription.topic_filter
            allowed = await self._authorize(credentials, topic_filter, Action.SUBSCRIBE)
            if allowed is False:
                log.info(
                    "%s may not subscribe to %s", connection.describe(), subscription.topic_filter
                )
            refused.append(
                None
                if allowed
                else ReasonCode.NOT_AUTHORIZED
                if allowed is False
                else ReasonCode.UNSPECIFIED_ERROR
            )
        if connection.engine.is_closed:
            return
        clock = self.now()
        for outgoing in self._apply_subscribe(connection, request, refused):
            if await self._authorize(credentials, outgoing.message.topic, Action.RECEIVE):
                self.router.deliver(outgoing, clock)
        self.mark_dirty(connection)

    def _apply_subscribe(
        self,
        connection: ClientConnection,
        request: SubscribeRequest,
        refused: list[int | None] | None,
    ) -> list[Outgoing]:
        """Subscribe in the router, answer once stored; return the retained to send."""
        routed = self.router.subscribe(
            connection.serial, request.subscriptions, time.time(), refused=refused
        )
        self.act(routed)
        codes = routed.reason_codes
        self.hold_until_stored(
            connection, lambda: self._answer(connection, request.packet_id, codes, subscribe=True)
        )
        self.mark_dirty(connection)
        return routed.retained

    def _answer(
        self,
        connection: ClientConnection,
        packet_id: int,
        codes: list[ReasonCode],
        *,
        subscribe: bool,
    ) -> None:
        engine = connection.engine
        closed = (
            engine.answer_subscribe(packet_id, codes)
            if subscribe
            else engine.answer_unsubscribe(packet_id, codes)
        )
        self.mark_dirty(connection)
        if closed is not None:  # the answer did not fit the client's Maximum Packet Size
            connection.process([closed])

    def _unsubscribe(self, connection: ClientConnection, request: UnsubscribeRequest) -> None:
        routed = self.router.unsubscribe(connection.serial, request.topic_filters)
        self.act(routed)
        codes = routed.reason_codes
        self.hold_until_stored(
            connection,
            lambda: self._answer(connection, request.packet_id, codes, subscribe=False),
        )

    # ---- acknowledgements of deliveries ----

    def _settled(self, connection: ClientConnection, event: Delivered | Discarded) -> None:
        if event.tag is not None:
            self.act(self.router.settled(connection.serial, event.tag))

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

    def _closed(self, connection: ClientConnection, closed: Closed) -> None:
        connection.closed_event_seen = True
        self._log_end(connection, closed)
        self._releases.pop(connection, None)
        if self.connections.pop(connection.serial, None) is None:
            return  # never accepted
        self.act(self.router.closed(connection.serial, closed, time.time(), self.now()))

    # ---- a restart ----

    async def restore(self, client_ids: Iterable[str]) -> int:
        """Take up what a previous run left in the stores; return how many sessions.

        Sessions with their Wills, subscriptions and owed messages, and retained messages
        with their arrival time, go back to the router; what became due meanwhile (an
        expired session, a Will) happens now.
        """
        assert self.storage is not None
        now = time.time()
        restored = await self.take_up(client_ids)
        for message, arrived_at in await self.storage.retained_messages():
            self.router.restore_retained(message, arrived_at)
        self.act(self.router.handle_timeout(now, self.now()))
        await self.drain()
        self._arm_timer()
        return restored

    async def take_up(self, client_ids: Iterable[str]) -> int:
        """Take sessions up from the stores (a restart's, another node's); return how many.

        Their due Wills are published at the next timer.
        """
        assert self.sessions is not None
        assert self.storage is not None
        now = time.time()
        restored = 0
        for client_id in client_ids:
            session = await self.sessions.get_session(client_id)
            if session is None:
                continue
            will = await self.sessions.get_will(client_id)
            subscriptions = await self.storage.get_subscriptions(client_id)
            queue = await self.storage.queued_messages(client_id)
            self.act(self.router.restore_session(session, will, subscriptions, queue, now))
            restored += 1
        self._arm_timer()
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
        """Disconnect every client (Server shutting down), store what is pending, close."""
        for connection in list(self.connections.values()):
            connection.shutdown()
        for _ in range(50):  # let the Closed events reach the router
            if not self.connections:
                break
            await asyncio.sleep(0.01)
        if self.durable:
            await self.drain()
        if self._timer is not None:
            self._timer.cancel()
        if self.storage is not None:
            await self.storage.close()


def _malloc_trim() -> Callable[[int], int] | None:
    """Return glibc's ``malloc_trim``, or None where there is none."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def _in_words(reason_code: ReasonCode) -> str:
    """Say a reason code as the log says it: "bad user name or password (0x86)"."""
    return f"{reason_code.name.lower().replace('_', ' ')} ({int(reason_code):#04x})"


def _version_name(version: ProtocolVersion) -> str:
    return {3: "3.1", 4: "3.1.1", 5: "5.0"}.get(int(version), str(int(version)))


__all__ = ["Broker", "BrokerConfig", "Subscription"]
