"""The codec from Python: packet classes, Decoder, encode and decode."""

import contextlib
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mqtt_common.models import (
    ConnectError,
    MalformedPacketError,
    Message,
    MQTTError,
    ProtocolError,
    PublishProperties,
    Subscription,
    ValidationError,
)
from mqtt_common.models.constants import (
    ConnectReturnCode,
    ProtocolVersion,
    QualityOfService,
    ReasonCode,
)
from mqtt_common.models.packets import (
    Auth,
    Connack,
    Connect,
    Disconnect,
    Packet,
    Pingreq,
    Pingresp,
    Puback,
    Pubcomp,
    Publish,
    Pubrec,
    Pubrel,
    Suback,
    Subscribe,
    Unsuback,
    Unsubscribe,
)
from mqtt_common.src.session import Will
from mqtt_common.utils.codec import Decoder, decode, encode

V311, V5 = ProtocolVersion.V3_1_1, ProtocolVersion.V5


def client_packets(version: ProtocolVersion) -> list[Packet]:
    packets: list[Packet] = [
        Connect(
            "c1",
            protocol_version=version,
            keep_alive=30,
            username="alice",
            password=b"pw",
            will=Will(Message("lwt", b"gone", qos=1), delay_interval=5 if version == V5 else 0),
            properties={"session_expiry_interval": 60} if version == V5 else None,
        ),
        Publish("a/b", b"x", qos=1, packet_id=3),
        Puback(1),
        Pubrec(2),
        Pubrel(3),
        Pubcomp(4),
        Subscribe(5, [Subscription("a/#", 1)]),
        Unsubscribe(6, ["a/#"]),
        Pingreq(),
        Disconnect(),
    ]
    return packets


def client_auth(version: ProtocolVersion) -> list[Packet]:
    """AUTH, which follows only a CONNECT naming an Authentication Method [MQTT-4.12.0-7]."""
    if version != V5:
        return []
    return [
        Auth(ReasonCode.CONTINUE_AUTHENTICATION, properties={"authentication_method": "SCRAM"})
    ]


def server_packets(version: ProtocolVersion) -> list[Packet]:
    return [
        Connack(True, ReasonCode.SUCCESS),
        Publish("a/b", b"x"),
        Suback(5, [ReasonCode.GRANTED_QOS_1]),
        Unsuback(6, [ReasonCode.SUCCESS] if version == V5 else []),
        Pingresp(),
    ]


@pytest.mark.parametrize("version", [ProtocolVersion.V3_1, V311, V5], ids=lambda v: v.name)
def test_every_packet_round_trips(version: ProtocolVersion) -> None:
    cases: list[tuple[list[Packet], Literal["from_client", "from_server"]]] = [
        (client_packets(version), "from_client"),
        (client_auth(version), "from_client"),
        (server_packets(version), "from_server"),
    ]
    for packets, direction in cases:
        for packet in packets:
            data = encode(packet, version)
            assert decode(data, version, direction) == packet
            assert encode(decode(data, version, direction), version) == data


def test_a_publish_built_in_python_keeps_the_callers_objects() -> None:
    """Publish() checks its fields and keeps the objects it was given: nothing is copied."""
    topic, payload = "sensors/" + "kitchen", bytes(300)
    properties = PublishProperties(content_type="text/plain")
    built = Publish(topic, payload, qos=1, packet_id=9, properties=properties)
    assert built.topic is topic
    assert built.payload is payload
    assert built.properties == properties
    message = built.to_message()
    assert message is not None
    assert message.payload is payload
    again = Publish.from_message(message)
    assert again.payload is payload
    assert again == built
    decoded = decode(encode(built, V5), V5)
    assert isinstance(decoded, Publish)
    assert decoded == built
    assert (decoded.topic, decoded.payload, decoded.properties) == (topic, payload, properties)
    assert repr(decoded) == repr(built)
    assert built != Publish(topic, payload, qos=1, packet_id=10, properties=properties)


def test_decoder_streams_whole_and_byte_by_byte() -> None:
    data = b"".join(encode(p, V5) for p in client_packets(V5))
    whole = Decoder()
    assert whole.feed(data) == client_packets(V5)
    assert whole.protocol_version is V5
    bytewise = Decoder()
    got = []
    for i in range(len(data)):
        got.extend(bytewise.feed(memoryview(data)[i : i + 1]))
    assert got == client_packets(V5)
    assert bytewise.buffered == 0


def test_errors_are_the_documented_classes() -> None:
    connect = encode(Connect("c"), V311)
    decoder = Decoder()
    decoder.feed(connect)
    with pytest.raises(ProtocolError) as protocol:
        decoder.feed(encode(Connack(), V311))  # a client may not send CONNACK
    assert protocol.value.spec_ref == "\u00a72.1.2"
    with pytest.raises(ProtocolError):
        decoder.feed(b"")  # the decoder stays failed
    with pytest.raises(MalformedPacketError) as malformed:
        Decoder().feed(b"\x10\x80\x80\x80\x80\x01")  # a 5-byte remaining length
    assert malformed.value.reason_code is ReasonCode.MALFORMED_PACKET
    with pytest.raises(ConnectError) as refused:
        Decoder().feed(b"\x10\x0d\x00\x04MQTT\x06\x02\x00\x3c\x00\x01c")
    assert refused.value.return_code is ConnectReturnCode.UNACCEPTABLE_PROTOCOL_VERSION
    assert refused.value.reason_code is ReasonCode.UNSUPPORTED_PROTOCOL_VERSION
    with pytest.raises(ProtocolError) as too_large:
        Decoder(max_packet_size=64).feed(b"\x30\x80\x80\x80\x60")
    assert too_large.value.reason_code is ReasonCode.PACKET_TOO_LARGE


def test_packets_before_an_error_are_not_lost() -> None:
    connect = encode(Connect("c"), V311)
    decoder = Decoder()
    # A CONNECT, then a PINGREQ with a reserved flag set, in one read.
    assert decoder.feed(connect + encode(Pingreq(), V311) + b"\xc1\x00") == [
        decode(connect, V311),
        Pingreq(),
    ]
    with pytest.raises(MalformedPacketError):
        decoder.feed(b"")
    with pytest.raises(MalformedPacketError):
        decoder.feed(encode(Pingreq(), V311))  # and it stays failed


def test_mqtt_3_1_2_33_only_auth_or_disconnect_until_connack() -> None:
    scram = {"authentication_method": "SCRAM"}
    connect = encode(Connect("c", protocol_version=V5, properties=scram), V5)
    auth = encode(Auth(ReasonCode.CONTINUE_AUTHENTICATION, properties=scram), V5)
    decoder = Decoder()
    assert decoder.feed(connect + auth) == [decode(connect, V5), decode(auth, V5)]
    assert decoder.is_authenticating
    with pytest.raises(ProtocolError) as refused:
        decoder.feed(encode(Pingreq(), V5))
    assert refused.value.spec_ref == "MQTT-3.1.2-33"

    decoder = Decoder()
    decoder.feed(connect)
    decoder.connack_sent()
    assert not decoder.is_authenticating
    assert decoder.feed(encode(Pingreq(), V5)) == [Pingreq()]


def test_publish_and_messages() -> None:
    message = Message(
        "a/b", b"payload", qos=2, retain=True, message_id=9, properties={"topic_alias": 2}
    )
    publish = Publish.from_message(message)
    assert (publish.topic, publish.qos, publish.packet_id, publish.retain) == (
        "a/b",
        QualityOfService.EXACTLY_ONCE,
        9,
        True,
    )
    assert publish.to_message() == message
    assert publish.properties.topic_alias == 2
    with pytest.raises(ValidationError, match="message_id"):
        Publish.from_message(Message("a", qos=1))
    with pytest.raises(ValidationError, match="wildcard"):
        Publish("a/#")


def test_properties_dicts() -> None:
    connect = Connect(
        "c",
        protocol_version=V5,
        properties={"receive_maximum": 10, "user_properties": [("k", "v")]},
    )
    assert connect.properties == {"receive_maximum": 10, "user_properties": [("k", "v")]}
    assert decode(encode(connect, V5), V5).properties == connect.properties  # type: ignore[union-attr]
    with pytest.raises(ValidationError, match="colour"):
        Connect("c", properties={"colour": 1})
    with pytest.raises(ValidationError, match="TOPIC_ALIAS"):
        Connect("c", properties={"topic_alias": 1})  # not a CONNECT property
    with pytest.raises(ValidationError):
        Connack(properties={"maximum_qos": 2})  # 0 or 1
    with pytest.raises(ValidationError, match="more than 65535"):
        Auth(properties={"authentication_method": "x", "authentication_data": bytes(65_536)})
    with pytest.raises(ValidationError):
        Disconnect(ReasonCode.NO_MATCHING_SUBSCRIBERS)  # not a DISCONNECT code


def test_mqtt_3_8_4_6_and_3_11_3_1_acks_answer_every_filter() -> None:
    """SUBACK and UNSUBACK built with ``answering`` carry one code per filter, in order."""
    subscribe = Subscribe(9, [Subscription("a/+", qos=1), Subscription("b/#")])
    suback = Suback.answering(
        subscribe, [ReasonCode.GRANTED_QOS_1, ReasonCode.NOT_AUTHORIZED], reason_string="no"
    )
    assert (suback.packet_id, suback.reason_codes, suback.reason_string) == (
        9,
        [ReasonCode.GRANTED_QOS_1, ReasonCode.NOT_AUTHORIZED],
        "no",
    )
    with pytest.raises(ValidationError) as caught:
        Suback.answering(subscribe, [ReasonCode.GRANTED_QOS_1])
    assert caught.value.spec_ref == "MQTT-3.8.4-6"
    assert str(caught.value).startswith("reason_codes: ")

    unsubscribe = Unsubscribe(10, ["a/+", "b/#"])
    unsuback = Unsuback.answering(
        unsubscribe, [ReasonCode.SUCCESS, ReasonCode.NO_SUBSCRIPTION_EXISTED]
    )
    assert encode(unsuback, V5) == b"\xb0\x05\x00\x0a\x00\x00\x11"
    with pytest.raises(ValidationError) as caught:
        Unsuback.answering(unsubscribe, [])
    assert caught.value.spec_ref == "MQTT-3.11.3-1"
    with pytest.raises(ValidationError):
        Suback.answering(unsubscribe, [ReasonCode.SUCCESS])  # type: ignore[arg-type]


def test_a_sender_names_the_topic_by_its_alias() -> None:
    """The first PUBLISH carries topic and alias; later ones the alias alone."""
    first = Publish("a/b", b"x").with_topic_alias(3)
    later = first.without_topic()
    assert (first.topic, later.topic, later.properties.topic_alias) == ("a/b", "", 3)
    assert later.to_message() is None
    server_side = Decoder(topic_alias_maximum=10)
    wire = encode(Connect("c", protocol_version=5), 5) + encode(first, 5) + encode(later, 5)
    _, *publishes = server_side.feed(wire)
    assert [p.topic for p in publishes if isinstance(p, Publish)] == ["a/b", "a/b"]
    with pytest.raises(ValidationError) as caught:
        encode(later, V311)  # no aliases before 5.0
    assert (
        str(caught.value) == "a PUBLISH named only by a topic alias cannot be sent in MQTT 3.1.1"
    )
    with pytest.raises(ValidationError):
        Publish("a/b").without_topic()  # nothing else names the topic
    with pytest.raises(ValidationError):
        Publish("a/b").with_topic_alias(0)


def test_v311_specifics() -> None:
    assert encode(Suback(1, [ReasonCode.QUOTA_EXCEEDED]), V311) == b"\x90\x03\x00\x01\x80"
    assert Suback(1, [ReasonCode.QUOTA_EXCEEDED]).return_codes == [0x80]
    banned = Connack(reason_code=ReasonCode.BANNED)
    assert banned.return_code is None  # 3.1.1 has no code with this meaning
    with pytest.raises(ValidationError, match=r"BANNED cannot be sent in MQTT 3\.1\.1"):
        encode(banned, V311)
    refused = Connack.refusing(ReasonCode.BANNED, V311)  # the closest code, asked for
    assert refused.return_code is ConnectReturnCode.NOT_AUTHORIZED
    assert encode(refused, V311) == b"\x20\x02\x00\x05"
    with pytest.raises(ValidationError):
        encode(Auth(), V311)


@pytest.mark.parametrize(
    "call",
    [
        lambda: Decoder(direction="sideways"),  # type: ignore[arg-type]
        lambda: Decoder(max_packet_size=-1),
        lambda: Decoder().feed("text"),  # type: ignore[arg-type]
        lambda: encode("not a packet", V5),  # type: ignore[arg-type]
        lambda: Puback(0),
        lambda: Subscribe(1, []),
        lambda: Subscribe(1, ["a"]),  # type: ignore[list-item]
        lambda: Unsubscribe(1, ["a/#/b"]),
    ],
    ids=[
        "direction",
        "max",
        "str-data",
        "not-packet",
        "id-0",
        "no-filters",
        "str-sub",
        "bad-filter",
    ],
)
def test_bad_arguments(call: object) -> None:
    with pytest.raises(ValidationError):
        call()  # type: ignore[operator]


@given(
    st.binary(max_size=200),
    st.sampled_from([None, 3, 4, 5]),
    st.sampled_from(["from_client", "from_server"]),
)
def test_arbitrary_bytes_raise_only_documented_errors(
    data: bytes, version: int | None, direction: Literal["from_client", "from_server"]
) -> None:
    decoder = Decoder(version, 4096, direction)
    with contextlib.suppress(MQTTError):
        decoder.feed(data)
