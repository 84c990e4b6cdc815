"""What a new user reads: error texts in Python's terms, Python-style reprs, one meaning of
None for limits, and the names the README promises in both languages."""

import pytest

from mqtt_common.models import Message, Subscription
from mqtt_common.models.errors import MalformedPacketError, ProtocolError, ValidationError
from mqtt_common.models.packets import Connect, Puback, Publish, Subscribe
from mqtt_common.src.storage import MemoryStorage
from mqtt_common.utils.codec import Decoder, decode, encode
from mqtt_common.utils.topic import SubscriptionIndex, merge_overlapping


@pytest.mark.parametrize(
    ("call", "text"),
    [
        (lambda: Message("a", qos=-1), "qos: -1 is not a valid QoS [MQTT-3.3.1-4]"),
        (
            lambda: Message("a", qos=1, message_id=70_000),
            "message_id: expected an integer from 0 to 65535, got 70000 [§1.5.2]",
        ),
        (
            lambda: Decoder(direction="x"),  # type: ignore[arg-type]
            "direction: expected one of 'from_client' or 'from_server', got 'x'",
        ),
        (
            lambda: Decoder().feed(None),  # type: ignore[arg-type]
            "data: expected bytes, bytearray or memoryview, got NoneType",
        ),
        (
            lambda: Decoder().feed("x"),  # type: ignore[arg-type]
            "data: expected bytes, bytearray or memoryview, got str",
        ),
        (
            lambda: MemoryStorage(queue_full="drop"),  # type: ignore[arg-type]
            "queue_full: expected one of 'reject', 'drop_oldest' or 'drop_newest', got 'drop'",
        ),
        (
            lambda: Message("a", properties={"colour": "red"}),
            "properties: unknown key 'colour'",
        ),
    ],
    ids=["qos", "range", "choice", "feed-none", "feed-str", "queue-full", "unknown-key"],
)
def test_errors_speak_python(call: object, text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        call()  # type: ignore[operator]
    assert str(caught.value) == text


def test_decoder_errors_are_sentences() -> None:
    with pytest.raises(MalformedPacketError) as caught:
        decode(b"", 4)
    assert str(caught.value) == (
        "malformed packet: the data ends after 0 bytes, before the packet does [§2.1.4]"
    )
    with pytest.raises(MalformedPacketError) as caught:
        Decoder().feed(b"\x10\x0d\x00\x04MQTT\x04\x03\x00\x3c\x00\x01c")
    assert str(caught.value) == (
        "malformed packet: the reserved bit of the CONNECT flags is set [MQTT-3.1.2-3]"
    )


def test_reprs_are_python_calls() -> None:
    assert repr(Puback(5)) == "Puback(packet_id=5)"
    assert repr(Connect("c", protocol_version=5, keep_alive=30)) == (
        "Connect(client_id='c', protocol_version=ProtocolVersion.V5, keep_alive=30)"
    )
    publish = Publish("a/b", b"hi", qos=1, packet_id=5)
    assert repr(publish) == (
        "Publish(topic='a/b', payload=b'hi', qos=QualityOfService.AT_LEAST_ONCE, packet_id=5)"
    )
    subscribe = Subscribe(3, [Subscription("a/#")])
    assert (
        repr(subscribe)
        == "Subscribe(packet_id=3, subscriptions=[Subscription(topic_filter='a/#')])"
    )
    message = Message("a", b"x", qos=2, message_id=9, dup=True)
    assert eval(repr(message), {"Message": Message, "QualityOfService": type(message.qos)}) == (
        message
    )


def test_none_means_no_limit_for_every_limit() -> None:
    big = encode(Publish("a", b"x" * (2 << 20)), 4)
    unlimited = Decoder(4, max_packet_size=None, direction="from_server")
    assert len(unlimited.feed(big)) == 1
    with pytest.raises(ProtocolError, match="larger than the maximum of 1048576"):
        Decoder(4, direction="from_server").feed(big)  # the default, 1 MiB
    index = SubscriptionIndex(max_topic_levels=None)
    index.subscribe("deep", Subscription("a/" * 500 + "#"))
    assert index.max_topic_levels is None
    storage = MemoryStorage(max_queue_length=None)
    for i in range(20_000):
        storage.enqueue("c", Message("q", str(i)))
    assert storage.queue_length("c") == 20_000


def test_the_same_names_in_both_languages() -> None:
    index = SubscriptionIndex()
    index.subscribe("c", Subscription("a/+", subscription_id=4))
    [delivery] = merge_overlapping(index.matches("a/b"))
    assert delivery.subscription_identifiers == [4]
    assert not hasattr(index, "match")
