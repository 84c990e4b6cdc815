"""With ``--node-id``: this broker as one node of a cluster on Redis.

The router is clustered (``Router(node_id=...)``): it names the forwards and changes
each call makes, which the broker's commit sends with the facts, before the
acknowledgements that promise them. The tasks here take in what the other nodes send:
the inbox (messages for this node's clients, session hand-overs), the live feed (QoS 0
messages), the change log (the nodes' filters, retained messages), and the lease, with
the adoption of nodes that died. The tokio broker's ``cluster.rs`` does the same, in
the same order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from mqtt_common.models.errors import MQTTError, StateError, StorageError
from mqtt_common.router import Change, Forward
from mqtt_common.src.cluster import InboxEntry, Joined

from .broker import Throttle

if TYPE_CHECKING:
    from .broker import Broker

log = logging.getLogger("broker")

#: What a feed's read gives.
T = TypeVar("T")


class _Readable(Protocol):
    """What a connection that publishes offers: its reading paused and resumed."""

    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...


#: How long to wait before trying Redis again after a failed call.
RETRY = 1.0
#: How long a node waits for another to let a session go.
RELEASE_WAIT = 5.0
#: How long a session that moved to another node keeps its subscriptions here,
#: forwarding what they match to it (the time the other nodes take to see its filters
#: on the new node, with room to spare).
MOVE_GRACE = 30.0
#: How long an adopted node's inbox is still drained after its filters are withdrawn:
#: what other nodes sent it before they saw the withdrawal.
DRAIN_GRACE = 5.0
#: Past this many QoS 0 messages waiting to go live to other nodes, the connections that
#: add to them pause their reading until fewer than ``LIVE_LOW`` wait: a node that
#: publishes faster than the others read slows its publishers, as a slow subscriber does.
LIVE_HIGH = 20_000
LIVE_LOW = 5_000
#: The most that may wait (the broker's own publications do not pause); beyond it new
#: ones are dropped (QoS 0 allows it), logged a while apart.
MAX_LIVE_WAITING = 100_000
#: The exit status of a node whose lease another node took.
LEASE_TAKEN = 3


class _Adoption:
    """Held for writing while this node adopts a dead one, for reading by session moves.

    A session being taken up from a dead node is neither claimed nor let go until it is
    in the router.
    """

    def __init__(self) -> None:
        self._readers = 0
        self._writing = False
        self._changed = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: not self._writing)
            self._readers += 1
        try:
            yield
        finally:
            async with self._changed:
                self._readers -= 1
                self._changed.notify_all()

    @contextlib.asynccontextmanager
    async def writing(self) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: not self._writing and self._readers == 0)
            self._writing = True
        try:
            yield
        finally:
            async with self._changed:
                self._writing = False
                self._changed.notify_all()


class Cluster:
    """The broker's part in a cluster: what it sends live, and the tasks that take in."""

    def __init__(self, broker: Broker, joined: Joined, lease: float) -> None:
        self.broker = broker
        self.node = joined.node
        self._joined = joined
        self._lease = lease
        #: Sessions asked of other nodes, each with the future the answer resolves (to
        #: a future to resolve once the session is taken up: the inbox waits for that
        #: before it routes what came after the answer).
        self._asked: dict[str, asyncio.Future[asyncio.Future[None]]] = {}
        self._adoption = _Adoption()
        self._live: list[Forward] = []
        self._live_posted = asyncio.Event()
        self._live_dropped = Throttle()
        #: Connections paused until the live messages waiting drain.
        self._paused: list[_Readable] = []
        self._tasks: set[asyncio.Task[None]] = set()
        for change in joined.filters:
            broker.router.apply_change(change)

    # ---- starting and stopping ----

    async def start(self) -> None:
        """Announce this node's filters; start taking in what the other nodes send."""
        await self.node.announce_all(self.broker.router.node_filters())
        self._spawn(self._take_inbox())
        self._spawn(self._take_live())
        self._spawn(self._send_live())
        self._spawn(self._follow_changes())
        self._spawn(self._keep_lease(self._lease / 3))

    def stop(self) -> None:
        """Stop the tasks (the lease then ends by itself; a restart resumes the node)."""
        for task in self._tasks:
            task.cancel()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- what the broker hands over ----

    def post(self, forwards: list[Forward]) -> None:
        """Send a call's forwards: QoS 0 live now, the others with the next commit."""
        for forward in forwards:
            if forward.qos:
                self.broker.forward_with_commit(forward)
            elif len(self._live) < MAX_LIVE_WAITING:
                self._live.append(forward)
            elif self._live_dropped.ready():
                log.warning(
                    "QoS 0 messages for other nodes are dropped: %d wait to be sent",
                    len(self._live),
                )
        if self._live:
            self._live_posted.set()

    @property
    def congested(self) -> bool:
        """Whether so many QoS 0 messages wait to go live that publishers must pause."""
        return len(self._live) >= LIVE_HIGH

    def pause(self, reader: _Readable) -> None:
        """Pause a publisher's reading until the live messages waiting drain."""
        reader.pause_reading()
        self._paused.append(reader)

    def _resume_paused(self) -> None:
        paused, self._paused = self._paused, []
        for reader in paused:
            reader.resume_reading()

    async def _send_live(self) -> None:
        """Send the QoS 0 messages posted to the other nodes' live feeds, in order."""
        failing = False
        while True:
            await self._live_posted.wait()
            self._live_posted.clear()
            batch, self._live = self._live, []
            if not batch:
                continue
            try:
                # A little at a time, so that paused publishers go on once it drains.
                for start in range(0, len(batch), LIVE_LOW):
                    await self.node.publish_live(batch[start : start + LIVE_LOW])
                    if self._paused and len(self._live) + len(batch) - start < LIVE_LOW:
                        self._resume_paused()
            except MQTTError as err:
                if not failing:
                    log.error("QoS 0 messages for other nodes are dropped: %s", err)
                    failing = True
                self._resume_paused()
                continue
            if failing:
                log.warning("QoS 0 messages reach the other nodes again")
                failing = False

    # ---- sessions moving between nodes ----

    async def take_session(self, client_id: str, clean_start: bool) -> str | None:
        """Make this node the holder of a client's session before it connects here.

        If another node held it, that node is asked to let it go, and the session is
        taken up from the stores, with its queue. Return None when done, or why the
        connection must be refused (Server unavailable; the client comes back later):
        a holder that does not answer within ``RELEASE_WAIT``, or that died and is not
        yet adopted, keeps the session (taking it as stored would lose what that node's
        inbox still holds for it, or serve it twice).
        """
        broker = self.broker
        taken_up: asyncio.Future[None] | None = None
        try:
            async with self._adoption.reading():
                holder = await self.node.holder_of(client_id)
                if holder is not None:
                    lease = await self.node.lease_of(holder)
                    if lease == "held":
                        taken_up = await self._ask(holder, client_id)
                        if taken_up is None:
                            return (
                                f"node {holder} holds the session and did not let it go "
                                f"within {RELEASE_WAIT:g} s"
                            )
                    elif lease == "ended":
                        # What its inbox holds for the session is routed by the node
                        # that adopts it: the session must be there then, not here.
                        return f"node {holder} held the session and died: it is being adopted"
                await self.node.claim(client_id)
                # Here already; or a clean start with no other holder: nothing to take
                # up. (A session held here in the stores but not in the router, as when
                # an adopting node let it go to this one, is taken up.)
                if broker.router.has_session(client_id) or (clean_start and holder is None):
                    return None
                if holder is not None:
                    log.info("the session of %s comes from node %s", client_id, holder)
                await broker.take_up([client_id])
                return None
        except MQTTError as err:
            return f"the cluster cannot hand the session over: {err}"
        finally:
            if taken_up is not None and not taken_up.done():
                taken_up.set_result(None)

    async def _ask(self, holder: str, client_id: str) -> asyncio.Future[None] | None:
        """Ask ``holder`` to let a session go.

        Return the future to resolve once it is taken up here, or None if the holder
        did not answer in time.
        """
        answer: asyncio.Future[asyncio.Future[None]] = asyncio.get_running_loop().create_future()
        self._asked[client_id] = answer
        try:
            await self.node.ask_release(holder, client_id)
            return await asyncio.wait_for(answer, RELEASE_WAIT)
        except TimeoutError:
            return None
        finally:
            self._asked.pop(client_id, None)

    async def release_session(self, client_id: str, to: str) -> None:
        """Let node ``to`` take a client's session over.

        End its connection here (0x8E), store what that leaves, let the session go from
        the router, and tell ``to``.
        """
        broker = self.broker
        async with self._adoption.reading():
            held = broker.router.connection_of(client_id)
            connection = broker.connections.get(held) if held is not None else None
            if connection is not None:
                log.info("session of %s taken over on node %s", client_id, to)
                connection.take_over()
            broker.router.release(client_id, to, MOVE_GRACE, time.time())
            if not await broker.stored():
                raise StorageError(f"what the session of {client_id} left could not be stored")
            await self.node.released(to, client_id)

    async def _session_released(self, client_id: str) -> None:
        """Hand a session the node asked for let go to the connection that asked.

        Wait (a little) until that connection has taken it up, so that what the node
        forwards for it next, behind the answer in the inbox, finds it here.
        """
        waiting = self._asked.pop(client_id, None)
        if waiting is None or waiting.done():
            return
        taken_up: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiting.set_result(taken_up)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(taken_up, RELEASE_WAIT)

    # ---- the inbox ----

    async def _take_inbox(self) -> None:
        """Route what other nodes forward to this node's clients, for ever.

        An entry is acknowledged once what it queued is stored; one whose store failed
        is read again.
        """
        inbox = self._joined.inbox

        async def routed(entries: list[InboxEntry]) -> None:
            if not entries:
                return
            ids, stored = await self._route_entries(entries)
            if not stored:
                inbox.read_again()
                await asyncio.sleep(RETRY)
                return
            try:
                await inbox.done(ids)
            except MQTTError as err:
                log.warning("cannot acknowledge the inbox (its entries come again): %s", err)
                inbox.read_again()

        await _read_for_ever(inbox.read, "this node's inbox", routed)

    async def _route_entries(self, entries: list[InboxEntry]) -> tuple[list[str], bool]:
        """Route inbox entries in order; return their ids, and whether all is stored.

        A release comes after what came before it is stored.
        """
        broker = self.broker
        stored = True
        for entry in entries:
            kind = entry.kind
            if kind == "forwards":
                await self._route_forwards(entry.forwards)
            elif kind == "release" and entry.client_id and entry.node:
                # What came before it is stored first: the session leaves with it.
                stored &= await broker.stored()
                try:
                    await self.release_session(entry.client_id, entry.node)
                except MQTTError as err:
                    log.error("cannot let the session of %s go: %s", entry.client_id, err)
            elif kind == "released" and entry.client_id:
                stored &= await broker.stored()
                await self._session_released(entry.client_id)
            else:
                log.warning("an inbox entry this version cannot read is dropped: %s", entry.error)
        stored &= await broker.stored()
        return [entry.id for entry in entries], stored

    async def _route_forwards(self, forwards: list[Forward]) -> None:
        """Route forwarded messages to this node's clients, in order.

        Each receiver allowed by the auth provider, if there is one.
        """
        broker = self.broker
        router = broker.router
        if broker.auth is None:
            broker.act(router.receive_forwards(forwards, time.time(), broker.now()))
            return
        for forward in forwards:
            receivers = await broker.allowed_receivers(forward.message.topic)
            now, clock = time.time(), broker.now()
            broker.act(router.receive_forward(forward, now, clock, receivers=receivers))

    async def _take_live(self) -> None:
        """Route the QoS 0 messages other nodes send live, for ever."""
        await _read_for_ever(self._joined.live.read, "the live feed", self._route_forwards)

    # ---- the change log ----

    async def _follow_changes(self) -> None:
        """Apply the change log to the router, in order, for ever.

        Other nodes' filters, every node's retained messages.
        """
        router = self.broker.router

        async def applied(changes: list[Change]) -> None:
            for change in changes:
                try:
                    router.apply_change(change)
                except MQTTError as err:
                    log.warning("a change of the log is not applied: %s", err)
            if changes:
                self.broker.timers_changed()

        await _read_for_ever(self._joined.changes.read, "the change log", applied)

    # ---- leases and adoption ----

    async def _keep_lease(self, every: float) -> None:
        """Renew this node's lease, for ever, and adopt the nodes whose lease ends.

        One survivor adopts each. A node whose own lease another node took stops the
        process: its sessions are that node's now, and serving them here too would
        split them.
        """
        loop = asyncio.get_running_loop()
        silent: list[str] = []
        failing = False
        # After Redis was away, every node's lease may have ended meanwhile: the others
        # get a whole lease to renew theirs before this node takes a silent one for dead.
        trust_from = loop.time()
        while True:
            await asyncio.sleep(every)
            try:
                ended = await self.node.heartbeat()
            except StateError as err:
                log.error("%s: this process stops (start it again to rejoin)", err)
                logging.shutdown()
                os._exit(LEASE_TAKEN)
            except MQTTError as err:
                if not failing:
                    log.error("cannot renew this node's lease: %s", err)
                    failing = True
                trust_from = loop.time() + 3 * every
                continue
            if failing:
                log.warning("this node's lease is renewed again")
                failing = False
                # Redis is back now (a call may have waited for it all along): the
                # others get a whole lease from now to renew theirs.
                trust_from = loop.time() + 3 * every
            if loop.time() < trust_from:
                silent = []
                continue
            for other in ended:
                if other not in silent:
                    log.warning("node %s has not renewed its lease", other)
                    self._spawn(self._adopt(other))
            silent = ended

    async def _adopt(self, dead: str) -> None:
        """Adopt a node whose lease ended, if this node is the one that does.

        Take up its sessions (their due Wills are then published, once, by this node's
        timers), withdraw its filters, route what is left in its inbox, and forget it.
        """
        broker = self.broker
        async with self._adoption.writing():
            while True:
                try:
                    adopted = await self.node.adopt(dead)
                    break
                except MQTTError as err:
                    log.error("cannot adopt node %s (trying again): %s", dead, err)
                    await asyncio.sleep(RETRY)
            if adopted is None:
                return  # another node adopts it, or it came back
            log.warning("adopting node %s: %d sessions", dead, len(adopted.client_ids))
            try:
                await broker.take_up(adopted.client_ids)
            except MQTTError as err:
                log.error("cannot take up the sessions of node %s: %s", dead, err)
        # This node's filters for them are announced before the old ones are withdrawn.
        await broker.stored()
        while True:
            try:
                await self.node.send([], adopted.filters, [])
                break
            except MQTTError as err:
                log.error("cannot withdraw the filters of node %s (trying again): %s", dead, err)
                await asyncio.sleep(RETRY)
        await self._drain(dead)
        try:
            await self.node.forget(dead)
        except MQTTError as err:
            log.error("cannot forget node %s: %s", dead, err)
        else:
            log.info("node %s adopted", dead)

    async def _drain(self, dead: str) -> None:
        """Route what is left in an adopted node's inbox, until it stays empty a while."""
        loop = asyncio.get_running_loop()
        quiet_since = loop.time()
        while loop.time() - quiet_since < DRAIN_GRACE:
            try:
                entries = await self.node.drain(dead, 1000)
            except MQTTError as err:
                log.error("cannot drain the inbox of node %s: %s", dead, err)
                await asyncio.sleep(RETRY)
                continue
            if not entries:
                await asyncio.sleep(0.1)
                continue
            quiet_since = loop.time()
            ids, stored = await self._route_entries(entries)
            try:
                if not stored:
                    raise StorageError("what the entries queued is not stored")
                await self.node.drained(dead, ids)
            except MQTTError:
                await asyncio.sleep(RETRY)


async def _read_for_ever(
    read: Callable[[], Awaitable[T]], what: str, handle: Callable[[T], Awaitable[None]]
) -> None:
    """Read from Redis and handle what was read, for ever.

    A failed read is tried again after ``RETRY``: logged when it starts failing, and
    when it reads again.
    """
    failing = False
    while True:
        try:
            got = await read()
        except MQTTError as err:
            if not failing:
                log.error("cannot read %s (trying again): %s", what, err)
                failing = True
            await asyncio.sleep(RETRY)
            continue
        if failing:
            log.warning("%s is read again", what)
            failing = False
        await handle(got)
