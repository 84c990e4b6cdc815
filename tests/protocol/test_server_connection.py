"""The Python face of the engine: argument checking, errors, events and snapshots.

The protocol rules themselves are the conversations' (``test_conversations.py``)."""

from __future__ import annotations

import pytest

from mqtt_common.models import Message, ReasonCode, Subscription
from mqtt_common.models.constants import ProtocolVersion, QualityOfService
from mqtt_common.models.errors import ProtocolError, StateError, ValidationError
from mqtt_common.protocol import (
    Closed,
    ConnectRequest,
    ServerConfig,
    ServerConnection,
    SubscribeRequest,
)
from mqtt_common.src.session import Session

CONNECT_311 = b"\x10\x0e\x00\x04MQTT\x04\x02\x00\x3c\x00\x02c1"


def connected() -> ServerConnection:
    connection = ServerConnection(now=0.0)
    [request] = connection.receive_data(CONNECT_311, 0.0)
    assert isinstance(request, ConnectRequest)
    connection.accept(Session("c1", request.protocol_version))
    assert connection.data_to_send() == b"\x20\x02\x00\x00"
    return connection


def test_config_defaults_and_repr() -> None:
    config = ServerConfig()
    assert (config.receive_maximum, config.topic_alias_maximum) == (100, 10)
    assert config.maximum_qos is QualityOfService.EXACTLY_ONCE
    assert config.max_keep_alive is None
    assert config.connect_timeout == 10.0
    assert repr(config) == "ServerConfig()"
    changed = ServerConfig(maximum_qos=1, retain_available=False, connect_timeout=2.5)
    assert repr(changed) == (
        "ServerConfig(maximum_qos=QualityOfService.AT_LEAST_ONCE, retain_available=False, "
        "connect_timeout=2.5)"
    )
    assert changed == ServerConfig(maximum_qos=1, retain_available=False, connect_timeout=2.5)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"maximum_qos": 3}, "maximum_qos"),
        ({"receive_maximum": 70_000}, "receive_maximum"),
        ({"retain_available": 1}, "retain_available"),
        ({"connect_timeout": -1.0}, "connect_timeout"),
        ({"connect_timeout": "10"}, "connect_timeout"),
        ({"max_keep_alive": -5}, "max_keep_alive"),
    ],
)
def test_config_refuses_bad_values_by_name(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=f"^{field}: "):
        ServerConfig(**kwargs)  # type: ignore[arg-type]


def test_a_limit_mqtt_forbids_is_refused_when_the_connection_is_made() -> None:
    with pytest.raises(ValidationError, match="receive_maximum: receive maximum is 0"):
        ServerConnection(ServerConfig(receive_maximum=0))


def test_arguments_are_checked() -> None:
    connection = ServerConnection()
    with pytest.raises(ValidationError, match=r"^data: expected bytes"):
        connection.receive_data("text", 0.0)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^now: "):
        connection.receive_data(b"", -1.0)
    with pytest.raises(ValidationError, match=r"^config: expected ServerConfig"):
        ServerConnection({"receive_maximum": 5})  # type: ignore[arg-type]


def test_calls_out_of_order_raise_state_error_and_change_nothing() -> None:
    connection = ServerConnection()
    with pytest.raises(StateError, match=r"^accept\(\) cannot be called now: the connection "):
        connection.accept(Session("c1"))
    phase: str = connection.phase
    assert phase == "awaiting_connect"
    connection.receive_data(CONNECT_311, 0.0)
    with pytest.raises(StateError, match="the session belongs to 'other'"):
        connection.accept(Session("other"))
    assert connection.phase == "connecting"
    assert isinstance(StateError("x"), Exception)


def test_a_protocol_error_ends_with_a_closed_event_carrying_the_error() -> None:
    connection = connected()
    [closed] = connection.receive_data(b"\x20\x02\x00\x00", 1.0)
    assert isinstance(closed, Closed)
    assert closed.initiator == "server"
    assert closed.reason_code is ReasonCode.PROTOCOL_ERROR
    assert isinstance(closed.error, ProtocolError)
    assert closed.error.spec_ref == "§2.1.2"
    assert closed.session is not None
    assert closed.session.client_id == "c1"
    assert connection.is_closed
    assert connection.next_deadline() is None
    assert connection.receive_data(b"\xc0\x00", 2.0) == []


def test_events_carry_python_objects() -> None:
    connection = connected()
    [request] = connection.receive_data(b"\x82\x08\x00\x01\x00\x03a/#\x01", 1.0)
    assert isinstance(request, SubscribeRequest)
    assert request.packet_id == 1
    assert request.subscriptions == [Subscription("a/#", qos=1)]
    assert repr(request) == "SubscribeRequest(packet_id=1, topic_filters=['a/#'])"
    connection.answer_subscribe(1, [ReasonCode.GRANTED_QOS_1])
    assert connection.data_to_send() == b"\x90\x03\x00\x01\x01"
    [message] = connection.receive_data(b"\x30\x07\x00\x03a/bhi", 1.0)
    assert message == Message("a/b", b"hi")


def test_the_session_is_a_snapshot() -> None:
    connection = connected()
    assert connection.deliver(Message("a/b", b"x", qos=1), Subscription("a/#", 1), 0.0) == "sent"
    session = connection.session
    assert session is not None
    assert session.outgoing_count == 1
    session.clear_in_flight()
    assert connection.session is not None
    assert connection.session.outgoing_count == 1
    assert connection.client_id == "c1"
    assert connection.keep_alive == 60
    assert connection.protocol_version is ProtocolVersion.V3_1_1
    assert repr(connection) == "<ServerConnection connected 'c1'>"


def test_deliver_takes_a_subscription_or_a_delivery_and_reports_the_outcome() -> None:
    connection = connected()
    with pytest.raises(ValidationError, match=r"^subscription: expected Subscription or Delivery"):
        connection.deliver(Message("a/b", b"x"), "a/#", 0.0)  # type: ignore[arg-type]
    closed = connection.disconnect(ReasonCode.ADMINISTRATIVE_ACTION)
    assert closed.reason_code is ReasonCode.ADMINISTRATIVE_ACTION
    assert connection.deliver(Message("a/b", b"x"), Subscription("a/#"), 0.0) == "closed"


def test_no_local_is_the_routers_to_apply_and_is_exposed() -> None:
    connection = ServerConnection(now=0.0)
    connection.receive_data(b"\x10\x0f\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x02c1", 0.0)
    connection.accept(Session("c1", 5))
    # SUBSCRIBE a/# with options 0x05: QoS 1 and No Local
    [request] = connection.receive_data(b"\x82\x09\x00\x01\x00\x00\x03a/#\x05", 0.0)
    assert isinstance(request, SubscribeRequest)
    [subscription] = request.subscriptions
    assert subscription.no_local
    assert subscription.qos is QualityOfService.AT_LEAST_ONCE
