"""A clustered router from Python (``Router(node_id=...)``): its forwards and changes
carried between two routers by hand, then by ``RedisNode`` through a ``redis-server``
the test starts on loopback. The rules are tested in Rust (``tests/cluster_router.rs``);
these show the binding carries them, with the documented errors."""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mqtt_common.models import Message, ReasonCode, Subscription
from mqtt_common.models.errors import MQTTError, StateError, ValidationError
from mqtt_common.models.packets import Connect
from mqtt_common.protocol import ConnectRequest, ServerConnection
from mqtt_common.router import Change, Forward, Router
from mqtt_common.src.cluster import Inbox, InboxEntry, RedisNode
from mqtt_common.utils.codec import encode

TESTS = Path(__file__).resolve().parent.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from reference_broker.support import RedisServer, redis_server  # noqa: E402

PREFIXES = itertools.count()


def connected(
    router: Router, connection: int, client_id: str, expiry: int = 0
) -> ServerConnection:
    """A 5.0 client connected to ``router`` as ``client_id``, its engine attached."""
    engine = ServerConnection(now=0.0)
    properties = {"session_expiry_interval": expiry} if expiry else None
    packet = Connect(client_id, protocol_version=5, properties=properties)
    [request] = engine.receive_data(encode(packet, 5), 0.0)
    assert isinstance(request, ConnectRequest)
    accepted = router.connect(connection, request, client_id, request.credentials, time.time())
    assert accepted.session is not None
    engine.accept(accepted.session)
    router.attach(connection, engine, 0.0)
    engine.data_to_send()  # the CONNACK
    return engine


def apply_all(router: Router, changes: list[Change]) -> None:
    for change in changes:
        router.apply_change(change)


def test_a_message_goes_to_the_node_whose_clients_match_it() -> None:
    n1, n2 = Router(node_id="n1"), Router(node_id="n2")
    assert (n1.node_id, Router().node_id) == ("n1", None)
    engine = connected(n2, 1, "sub")
    subscribed = n2.subscribe(1, [Subscription("a/+", qos=1)], time.time())
    [change] = subscribed.changes
    assert (change.kind, change.node, change.topic_filter, change.present) == (
        "filter",
        "n2",
        "a/+",
        True,
    )
    assert n2.node_filters() == ["a/+"]
    apply_all(n1, subscribed.changes)
    assert n1.known_nodes() == ["n2"]

    published = n1.publish(Message("a/b", b"hi", qos=1), time.time(), 0.0, publisher="pub")
    assert published.matched
    [forward] = published.forwards
    assert isinstance(forward, Forward)
    assert (forward.node, forward.qos, forward.publisher, forward.client_id) == (
        "n2",
        1,
        "pub",
        None,
    )
    assert forward.message.payload == b"hi"
    received = n2.receive_forward(forward, time.time(), 0.0)
    assert received.touched == [1]
    assert b"a/b" in engine.data_to_send()
    # None of n1's own: no forward to a node without a match.
    assert not n1.publish(Message("b", b"x"), time.time(), 0.0).forwards
    # Receivers the broker allows: nobody.
    again = n1.publish(Message("a/c", b"x"), time.time(), 0.0).forwards
    assert not n2.receive_forward(again[0], time.time(), 0.0, receivers=[]).touched


def test_retained_messages_are_changes_every_node_applies() -> None:
    n1, n2 = Router(node_id="n1"), Router(node_id="n2")
    published = n1.publish(Message("r", b"kept", retain=True), time.time(), 0.0)
    [change] = published.changes
    assert (change.kind, change.topic, change.node) == ("retained", "r", None)
    assert change.message is not None
    assert change.message.payload == b"kept"
    assert change.arrived_at == pytest.approx(time.time(), abs=5)
    apply_all(n2, published.changes)
    connected(n2, 1, "late")
    retained = n2.subscribe(1, [Subscription("r")], time.time()).retained
    assert [out.message.payload for out in retained] == [b"kept"]
    cleared = n1.publish(Message("r", b"", retain=True), time.time(), 0.0).changes
    assert [(c.kind, c.topic) for c in cleared] == [("retained_cleared", "r")]
    apply_all(n2, cleared)
    assert n2.stats()["retained"] == 0


def test_a_released_session_leaves_and_its_messages_follow_it() -> None:
    n1 = Router(node_id="n1")
    engine = connected(n1, 1, "mover", expiry=300)
    n1.subscribe(1, [Subscription("m", qos=1)], time.time())
    with pytest.raises(StateError, match="connected here"):
        n1.release("mover", "n2", 30.0, time.time())
    closed = engine.disconnect(ReasonCode.SESSION_TAKEN_OVER)
    n1.closed(1, closed, time.time(), 0.0)
    n1.release("mover", "n2", 30.0, time.time())
    assert not n1.has_session("mover")
    assert n1.connection_of("mover") is None
    # Until the other nodes see its filter on n2, what it matches here follows it.
    [forward] = n1.publish(Message("m", b"late", qos=1), time.time(), 0.0).forwards
    assert (forward.node, forward.client_id) == ("n2", "mover")


def test_bad_input_gets_the_documented_errors() -> None:
    with pytest.raises(MQTTError):
        Router(node_id="a b")
    router = Router(node_id="n1")
    with pytest.raises(ValidationError, match="change"):
        router.apply_change("a/b")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="forward"):
        router.receive_forward(object(), time.time(), 0.0)  # type: ignore[arg-type]
    with pytest.raises(StateError, match="no cluster node"):
        Router().release("c", "n2", 1.0, time.time())


async def read_some(inbox: Inbox) -> list[InboxEntry]:
    """The next entries of an inbox (the first read returns its backlog: none here)."""
    for _ in range(5):
        entries = await inbox.read()
        if entries:
            return entries
    raise AssertionError("nothing came to the inbox")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with redis_server(tmp_path_factory.mktemp("redis")) as running:
        yield running


def test_two_nodes_carry_forwards_and_changes_through_redis(server: RedisServer) -> None:
    async def scenario() -> None:
        prefix = f"pyc{next(PREFIXES)}"
        one = await RedisNode.join(server.url, "n1", prefix=prefix, lease=3.0)
        two = await RedisNode.join(server.url, "n2", prefix=prefix, lease=3.0)
        assert (one.node.node_id, two.filters) == ("n1", [])
        n1, n2 = Router(node_id="n1"), Router(node_id="n2")
        engine = connected(n2, 1, "sub")
        subscribed = n2.subscribe(1, [Subscription("x/#", qos=1)], time.time())
        await two.node.send([], subscribed.changes, [])
        # n1 reads the change log (n2's filter), then routes to n2.
        for _ in range(10):
            apply_all(n1, await one.changes.read())
            if "n2" in n1.known_nodes():
                break
        published = n1.publish(Message("x/1", b"one", qos=1), time.time(), 0.0)
        await one.node.send(published.forwards, [], [])
        # The live feed subscribes on its first read: what was sent before is lost.
        live_read = asyncio.ensure_future(two.live.read())
        await asyncio.sleep(0.3)
        qos0 = n1.publish(Message("x/0", b"zero"), time.time(), 0.0)
        await one.node.publish_live(qos0.forwards)
        [entry] = await read_some(two.inbox)
        assert (entry.kind, entry.client_id, entry.error) == ("forwards", None, None)
        [forward] = entry.forwards
        n2.receive_forward(forward, time.time(), 0.0)
        await two.inbox.done([entry.id])
        [live] = await asyncio.wait_for(live_read, 10)
        n2.receive_forward(live, time.time(), 0.0)
        sent = engine.data_to_send()
        assert b"one" in sent
        assert b"zero" in sent
        # Sessions: n2 claims one, n1 sees the holder and asks for it.
        assert await two.node.claim("sub") is None
        assert await one.node.holder_of("sub") == "n2"
        assert await one.node.lease_of("n2") == "held"
        await one.node.ask_release("n2", "sub")
        [ask] = await read_some(two.inbox)
        assert (ask.kind, ask.client_id, ask.node) == ("release", "sub", "n1")
        assert await one.node.heartbeat() == []
        assert await one.node.adopt("n2") is None, "n2 is alive"
        with pytest.raises(ValidationError):
            await one.node.announce_all(["bad/#/filter"])

    asyncio.run(scenario())
