"""Message: every validation rule, value semantics, and never another exception."""

import contextlib
import copy
import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mqtt_common.models import Message, PublishProperties
from mqtt_common.models.constants import QualityOfService, ReasonCode
from mqtt_common.models.errors import ValidationError

MAX_TOPIC = "a" * 65_535


def _view(data: bytes) -> memoryview:
    return memoryview(data)


ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    ("minimal", {"topic": "a"}),
    ("seed", {"topic": "sensors/temperature", "payload": b"23.5", "qos": 1, "message_id": 12345}),
    ("qos-enum", {"topic": "a", "qos": QualityOfService.EXACTLY_ONCE, "message_id": 1}),
    ("qos-without-id", {"topic": "a", "qos": 2}),
    ("max-id", {"topic": "a", "qos": 1, "message_id": 65_535}),
    ("retain", {"topic": "a", "retain": True}),
    ("dup-qos1", {"topic": "a", "qos": 1, "dup": True}),
    ("longest-topic", {"topic": MAX_TOPIC}),
    ("empty-levels", {"topic": "//"}),
    ("dollar-topic", {"topic": "$SYS/uptime"}),
    ("bom", {"topic": "\ufeffa"}),
    ("non-ascii", {"topic": "caf\u00e9/\U0001f600"}),
    ("str-payload", {"topic": "a", "payload": "h\u00e9llo"}),
    ("bytearray", {"topic": "a", "payload": bytearray(b"xy")}),
    ("memoryview", {"topic": "a", "payload": memoryview(b"xyz")[1:]}),
    ("none-payload", {"topic": "a", "payload": None}),
    ("properties-dict", {"topic": "a", "properties": {"content_type": "text/plain"}}),
    ("properties-obj", {"topic": "a", "properties": PublishProperties(topic_alias=1)}),
]


@pytest.mark.parametrize(("kwargs"), [k for _, k in ACCEPTED], ids=[i for i, _ in ACCEPTED])
def test_accepted(kwargs: dict[str, Any]) -> None:
    message = Message(**kwargs)
    assert message.topic == kwargs["topic"]
    assert isinstance(message.qos, QualityOfService)


NOT_UTF8 = ReasonCode.TOPIC_NAME_INVALID
# (id, kwargs, field, reason code, spec ref)
REJECTED: list[tuple[str, dict[str, Any], str, ReasonCode, str | None]] = [
    ("empty-topic", {"topic": ""}, "topic", NOT_UTF8, "MQTT-4.7.3-1"),
    ("plus", {"topic": "a/+"}, "topic", NOT_UTF8, "MQTT-3.3.2-2"),
    ("hash", {"topic": "a/#"}, "topic", NOT_UTF8, "MQTT-3.3.2-2"),
    ("nul", {"topic": "a\x00"}, "topic", NOT_UTF8, "MQTT-4.7.3-2"),
    ("too-long", {"topic": "a" * 65_536}, "topic", NOT_UTF8, "MQTT-4.7.3-3"),
    ("long-utf8", {"topic": "\u00e9" * 32_768}, "topic", NOT_UTF8, "MQTT-4.7.3-3"),
    ("surrogate", {"topic": "a\udc80"}, "topic", NOT_UTF8, "MQTT-1.5.4-1"),
    ("topic-bytes", {"topic": b"a"}, "topic", ReasonCode.UNSPECIFIED_ERROR, None),
    ("topic-none", {"topic": None}, "topic", ReasonCode.UNSPECIFIED_ERROR, None),
    ("payload-int", {"topic": "a", "payload": 5}, "payload", ReasonCode.UNSPECIFIED_ERROR, None),
    (
        "payload-list",
        {"topic": "a", "payload": [1]},
        "payload",
        ReasonCode.UNSPECIFIED_ERROR,
        None,
    ),
    (
        "payload-surrogate",
        {"topic": "a", "payload": "\ud800"},
        "payload",
        ReasonCode.MALFORMED_PACKET,
        "MQTT-1.5.4-1",
    ),
    ("qos-3", {"topic": "a", "qos": 3}, "qos", ReasonCode.QOS_NOT_SUPPORTED, "MQTT-3.3.1-4"),
    ("qos-neg", {"topic": "a", "qos": -1}, "qos", ReasonCode.QOS_NOT_SUPPORTED, "MQTT-3.3.1-4"),
    (
        "qos-huge",
        {"topic": "a", "qos": 2**80},
        "qos",
        ReasonCode.QOS_NOT_SUPPORTED,
        "MQTT-3.3.1-4",
    ),
    ("qos-none", {"topic": "a", "qos": None}, "qos", ReasonCode.UNSPECIFIED_ERROR, None),
    ("retain-none", {"topic": "a", "retain": None}, "retain", ReasonCode.UNSPECIFIED_ERROR, None),
    ("qos-str", {"topic": "a", "qos": "1"}, "qos", ReasonCode.UNSPECIFIED_ERROR, None),
    ("qos-bool", {"topic": "a", "qos": True}, "qos", ReasonCode.UNSPECIFIED_ERROR, None),
    ("qos-float", {"topic": "a", "qos": 1.0}, "qos", ReasonCode.UNSPECIFIED_ERROR, None),
    ("retain-int", {"topic": "a", "retain": 1}, "retain", ReasonCode.UNSPECIFIED_ERROR, None),
    ("dup-str", {"topic": "a", "qos": 1, "dup": "yes"}, "dup", ReasonCode.UNSPECIFIED_ERROR, None),
    ("dup-qos0", {"topic": "a", "dup": True}, "dup", ReasonCode.PROTOCOL_ERROR, "MQTT-3.3.1-2"),
    (
        "id-qos0",
        {"topic": "a", "message_id": 1},
        "message_id",
        ReasonCode.PROTOCOL_ERROR,
        "MQTT-2.2.1-2",
    ),
    (
        "id-zero",
        {"topic": "a", "qos": 1, "message_id": 0},
        "message_id",
        ReasonCode.PROTOCOL_ERROR,
        "MQTT-2.2.1-3",
    ),
    (
        "id-65536",
        {"topic": "a", "qos": 1, "message_id": 65_536},
        "message_id",
        ReasonCode.UNSPECIFIED_ERROR,
        "\u00a71.5.2",
    ),
    (
        "id-str",
        {"topic": "a", "qos": 1, "message_id": "7"},
        "message_id",
        ReasonCode.UNSPECIFIED_ERROR,
        None,
    ),
    (
        "properties-list",
        {"topic": "a", "properties": [1]},
        "properties",
        ReasonCode.UNSPECIFIED_ERROR,
        None,
    ),
    (
        "properties-unknown",
        {"topic": "a", "properties": {"colour": "red"}},
        "properties",
        ReasonCode.UNSPECIFIED_ERROR,
        None,
    ),
]


@pytest.mark.parametrize(
    ("kwargs", "field", "reason_code", "spec_ref"),
    [case[1:] for case in REJECTED],
    ids=[case[0] for case in REJECTED],
)
def test_rejected(
    kwargs: dict[str, Any], field: str, reason_code: ReasonCode, spec_ref: str | None
) -> None:
    with pytest.raises(ValidationError) as info:
        Message(**kwargs)
    assert str(info.value).startswith(f"{field}: ")
    assert info.value.reason_code is reason_code
    assert info.value.spec_ref == spec_ref


def test_payload_limit() -> None:
    big = bytes(268_435_456)
    with pytest.raises(ValidationError) as info:
        Message("a", big)
    assert info.value.reason_code is ReasonCode.PACKET_TOO_LARGE
    assert info.value.spec_ref == "\u00a72.1.4"
    del big
    assert len(Message("a", bytes(268_435_455)).payload) == 268_435_455


def test_bytes_payload_is_kept_without_copy() -> None:
    payload = b"x" * 100_000
    assert Message("a", payload).payload is payload


def test_other_payloads_are_copied_into_bytes() -> None:
    source = bytearray(b"abc")
    message = Message("a", source)
    source[0] = ord("z")
    assert message.payload == b"abc"
    assert type(message.payload) is bytes
    assert Message("a", "\u00e9").payload == "\u00e9".encode()
    assert Message("a").payload == b""


def test_topic_is_returned_as_given() -> None:
    topic = "sensors/" + "x" * 50
    assert Message(topic).topic is topic


def test_read_only() -> None:
    message = Message("a")
    with pytest.raises(AttributeError):
        message.topic = "b"  # type: ignore[misc]


def test_value_equality_and_hash() -> None:
    a = Message(
        "a/b", b"payload", qos=1, message_id=3, properties={"user_properties": [("k", "v")]}
    )
    b = Message(
        "a/b",
        b"payload",
        qos=QualityOfService.AT_LEAST_ONCE,
        message_id=3,
        properties=PublishProperties(user_properties=[("k", "v")]),
    )
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != a.replace(retain=True)
    assert a != a.replace(properties=None)
    assert a != "a/b"
    assert Message("a", properties={}) == Message("a")


def test_repr_is_readable_and_truncates_long_payloads() -> None:
    message = Message("sensors/temperature", b"23.5", qos=1, message_id=12345)
    assert repr(message) == (
        "Message(topic='sensors/temperature', payload=b'23.5', "
        "qos=QualityOfService.AT_LEAST_ONCE, message_id=12345)"
    )
    assert repr(Message("a")) == "Message(topic='a')"
    long = repr(Message("a", b"x" * 10_000, qos=2, message_id=9, dup=True))
    assert "...(10000 bytes)" in long
    assert len(long) < 200
    assert "dup=True" in long
    with_props = repr(Message("a", properties={"topic_alias": 4}))
    assert with_props.endswith("properties=PublishProperties(topic_alias=4))")


def test_pickle_copy_deepcopy() -> None:
    message = Message(
        "a/b",
        b"\x00\xff",
        qos=2,
        retain=True,
        message_id=9,
        dup=True,
        properties={"correlation_data": b"id", "subscription_identifiers": [1, 2]},
    )
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        again = pickle.loads(pickle.dumps(message, protocol=protocol))
        assert again == message
        assert again.properties == message.properties
    assert copy.copy(message) is message
    assert copy.deepcopy(message) is message


def test_replace() -> None:
    message = Message("a", b"1", qos=1, message_id=5)
    changed = message.replace(topic="b", payload=b"2")
    assert (changed.topic, changed.payload, changed.qos, changed.message_id) == ("b", b"2", 1, 5)
    assert message.topic == "a"
    assert message.__replace__(retain=True).retain is True
    assert message.replace() == message
    with pytest.raises(ValidationError, match=r"MQTT-2\.2\.1-2"):
        message.replace(qos=0)
    with pytest.raises(TypeError, match="colour"):
        message.replace(colour="red")  # type: ignore[call-arg]


@given(
    topic=st.text(max_size=50),
    payload=st.one_of(
        st.binary(max_size=64),
        st.text(max_size=16),
        st.integers(),
        st.floats(),
        st.none(),
        st.lists(st.integers(0, 255), max_size=4),
        st.builds(bytearray, st.binary(max_size=8)),
        st.binary(max_size=8).map(_view),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    ),
    qos=st.one_of(st.integers(-3, 5), st.none(), st.booleans(), st.text(max_size=2)),
    message_id=st.one_of(st.none(), st.integers(-2, 70_000)),
)
def test_any_input_builds_or_raises_validation_error(
    topic: str, payload: object, qos: object, message_id: object
) -> None:
    try:
        message = Message(topic, payload, qos, False, message_id)  # type: ignore[arg-type]
    except ValidationError as err:
        failure: ValidationError | None = err
    else:
        failure = None
        assert message.topic == topic
    if failure is not None:
        assert str(failure)
        assert isinstance(failure.reason_code, ReasonCode)


@given(st.from_type(type).flatmap(st.from_type))
def test_any_object_as_payload(payload: object) -> None:
    with contextlib.suppress(ValidationError):
        Message("a", payload)  # type: ignore[arg-type]
