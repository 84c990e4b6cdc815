"""Cross-checks with the mqtt5 package (0.8, v5 only): our encodings decode there to
equal fields, theirs decode here, byte-identical where both encodings are canonical."""

import mqtt5

from mqtt_common.models import Message, Subscription
from mqtt_common.models.constants import ReasonCode
from mqtt_common.models.packets import (
    Connack,
    Connect,
    Disconnect,
    Pingreq,
    Puback,
    Publish,
    Suback,
    Subscribe,
    Unsubscribe,
)
from mqtt_common.src.session import Will
from mqtt_common.utils.codec import decode, encode


def theirs(data: bytes) -> object:
    packet, size = mqtt5.read(memoryview(data))
    assert size == len(data)
    return packet


def test_publish_both_ways() -> None:
    ours = Publish(
        "sensors/t",
        b"21.5",
        1,
        True,
        7,
        properties={
            "message_expiry_interval": 60,
            "content_type": "text/plain",
            "user_properties": [("a", "1"), ("a", "2")],
        },
    )
    data = encode(ours, 5)
    p = theirs(data)
    assert isinstance(p, mqtt5.PublishPacket)
    assert (p.topic, p.payload, int(p.qos), p.retain, p.packet_id) == (
        "sensors/t",
        b"21.5",
        1,
        True,
        7,
    )
    assert (p.message_expiry_interval, p.content_type) == (60, "text/plain")
    assert p.user_properties == [("a", "1"), ("a", "2")]
    their_bytes = mqtt5.PublishPacket(
        "sensors/t",
        b"21.5",
        qos=mqtt5.QoS.AT_LEAST_ONCE,
        retain=True,
        packet_id=7,
        message_expiry_interval=60,
        content_type="text/plain",
        user_properties=[("a", "1"), ("a", "2")],
    ).write()
    assert decode(their_bytes, 5, "from_server") == ours
    assert their_bytes == data, "byte-identical"


def test_acks_and_small_packets_are_byte_identical() -> None:
    assert encode(Puback(7), 5) == mqtt5.PubAckPacket(7).write()
    assert encode(Pingreq(), 5) == mqtt5.PingReqPacket().write()
    assert encode(Disconnect(), 5) == mqtt5.DisconnectPacket().write()
    not_authorized = Puback(7, ReasonCode.NOT_AUTHORIZED)
    their = mqtt5.PubAckPacket(7, reason_code=mqtt5.PubAckReasonCode.NOT_AUTHORIZED).write()
    assert decode(their, 5, "from_server") == not_authorized
    assert encode(not_authorized, 5) == their


def test_subscribe_and_suback() -> None:
    ours = Subscribe(
        3,
        [Subscription("a/+", 1, retain_as_published=True), Subscription("b/#", 2, no_local=True)],
    )
    p = theirs(encode(ours, 5))
    assert isinstance(p, mqtt5.SubscribePacket)
    assert [
        (f.pattern, int(f.max_qos), f.no_local, f.retain_as_published) for f in p.topic_filters
    ] == [
        ("a/+", 1, False, True),
        ("b/#", 2, True, False),
    ]
    filters = [
        mqtt5.TopicFilter("a/+", max_qos=mqtt5.QoS.AT_LEAST_ONCE, retain_as_published=True),
        mqtt5.TopicFilter(
            "b/#", max_qos=mqtt5.QoS.EXACTLY_ONCE, no_local=True, retain_as_published=False
        ),
    ]
    their = mqtt5.SubscribePacket(3, filters).write()
    assert decode(their, 5) == ours
    suback = Suback(3, [ReasonCode.GRANTED_QOS_1, ReasonCode.NOT_AUTHORIZED])
    s = theirs(encode(suback, 5))
    assert isinstance(s, mqtt5.SubAckPacket)
    assert [int(c) for c in s.reason_codes] == [1, 0x87]
    unsubscribe = Unsubscribe(4, ["a/+"])
    u = theirs(encode(unsubscribe, 5))
    assert isinstance(u, mqtt5.UnsubscribePacket)
    assert u.packet_id == 4


def test_connect_and_connack() -> None:
    will = Will(Message("lwt/c1", b"gone", qos=1, retain=True), delay_interval=5)
    ours = Connect(
        "c1",
        protocol_version=5,
        clean_start=True,
        keep_alive=30,
        username="alice",
        password=b"pw",
        will=will,
        properties={"session_expiry_interval": 60},
    )
    p = theirs(encode(ours, 5))
    assert isinstance(p, mqtt5.ConnectPacket)
    assert (p.client_id, p.username, p.password, p.clean_start, p.keep_alive) == (
        "c1",
        "alice",
        b"pw",
        True,
        30,
    )
    assert p.session_expiry_interval == 60
    assert p.will is not None
    assert (
        p.will.topic,
        p.will.payload,
        int(p.will.qos),
        p.will.retain,
        p.will.will_delay_interval,
    ) == (
        "lwt/c1",
        b"gone",
        1,
        True,
        5,
    )
    their_will = mqtt5.Will(
        "lwt/c1", payload=b"gone", qos=mqtt5.QoS.AT_LEAST_ONCE, retain=True, will_delay_interval=5
    )
    their = mqtt5.ConnectPacket(
        "c1",
        username="alice",
        password=b"pw",
        clean_start=True,
        will=their_will,
        keep_alive=30,
        session_expiry_interval=60,
    ).write()
    decoded = decode(their, 5)
    assert isinstance(decoded, Connect)
    assert (decoded.client_id, decoded.username, decoded.password, decoded.keep_alive) == (
        "c1",
        "alice",
        b"pw",
        30,
    )
    assert decoded.will == will
    assert decoded.properties["session_expiry_interval"] == 60
    connack = theirs(encode(Connack(True), 5))
    assert isinstance(connack, mqtt5.ConnAckPacket)
    assert connack.session_present is True
    assert decode(mqtt5.ConnAckPacket(session_present=True).write(), 5, "from_server") == Connack(
        True
    )
