"""``Router.receive``: an attached connection's read goes to its engine, its publications
and settlements are routed in Rust, and the events that need the broker come back in
order."""

from __future__ import annotations

import pytest

from mqtt_common.models import Message, Subscription
from mqtt_common.models.constants import ReasonCode
from mqtt_common.models.errors import StateError
from mqtt_common.models.packets import Connect, Puback, Publish, Subscribe
from mqtt_common.protocol import (
    ConnectRequest,
    Delivered,
    ServerConnection,
    SubscribeRequest,
)
from mqtt_common.router import Router
from mqtt_common.utils.codec import Decoder, encode

NOW = 1_700_000_000.0
CLOCK = 5.0


def connect(router: Router, connection: int, client_id: str, expiry: int = 0) -> ServerConnection:
    """A 5.0 client accepted and attached on ``connection``; its CONNACK read."""
    engine = ServerConnection(now=CLOCK)
    properties = {"session_expiry_interval": expiry} if expiry else None
    [request] = engine.receive_data(
        encode(Connect(client_id, protocol_version=5, properties=properties), 5), CLOCK
    )
    assert isinstance(request, ConnectRequest)
    connected = router.connect(connection, request, client_id, request.credentials, NOW)
    assert connected.session is not None
    engine.accept(connected.session, session_present=connected.session_present)
    router.attach(connection, engine, CLOCK)
    engine.data_to_send()
    return engine


def packets(engine: ServerConnection) -> list[object]:
    """What the engine wrote, decoded as its client reads it."""
    return list(Decoder(5, direction="from_server").feed(engine.data_to_send()))


def one_read(*items: object) -> bytes:
    return b"".join(encode(item, 5) for item in items)  # type: ignore[arg-type]


def test_publications_are_routed_and_a_subscribe_comes_back_with_what_follows() -> None:
    router = Router()
    reader = connect(router, 1, "reader")
    router.subscribe(1, [Subscription("a/#", qos=1)], NOW)
    writer = connect(router, 2, "writer")
    data = one_read(
        Publish("a/1", b"first"),
        Publish("nobody/listens", b"lost", qos=1, packet_id=7),
        Subscribe(8, [Subscription("b/#")]),
        Publish("a/2", b"second"),
    )
    routed = router.receive(2, data, NOW, CLOCK)
    assert routed.touched == [1]
    [got] = packets(reader)
    assert isinstance(got, Publish)
    assert (got.topic, got.payload) == ("a/1", b"first")
    subscribe, message = routed.events
    assert isinstance(subscribe, SubscribeRequest)
    assert isinstance(message, Message)
    assert message.topic == "a/2"
    # The 5.0 publisher is told nobody subscribed (0x10).
    [ack] = packets(writer)
    assert isinstance(ack, Puback)
    assert (ack.packet_id, ack.reason_code) == (7, ReasonCode.NO_MATCHING_SUBSCRIBERS)


def test_a_settled_delivery_of_a_persistent_session_is_a_fact() -> None:
    router = Router()
    reader = connect(router, 1, "reader", expiry=3600)
    router.subscribe(1, [Subscription("a", qos=1)], NOW)
    routed = router.publish(Message("a", b"kept", qos=1), NOW, CLOCK)
    assert [fact.kind for fact in routed.facts] == ["queued"]
    [delivery] = packets(reader)
    assert isinstance(delivery, Publish)
    assert delivery.packet_id is not None
    settled = router.receive(1, encode(Puback(delivery.packet_id), 5), NOW, CLOCK)
    assert settled.events == []
    assert [fact.kind for fact in settled.facts] == ["dequeued"]


def test_the_end_of_the_connection_is_left_to_the_broker() -> None:
    router = Router()
    engine = connect(router, 1, "c1")
    routed = router.receive(1, b"\xe0\x00", NOW, CLOCK)  # DISCONNECT
    [closed] = routed.events
    assert type(closed).__name__ == "Closed"
    assert engine.is_closed
    assert not any(isinstance(event, Delivered) for event in routed.events)


def test_a_connection_without_an_engine_attached_is_refused() -> None:
    router = Router()
    with pytest.raises(StateError, match="no engine is attached"):
        router.receive(3, b"\xc0\x00", NOW, CLOCK)
