"""PublishProperties: each property's rule, accepted and rejected, and value semantics."""

import pickle
from typing import Any

import pytest

from mqtt_common.models import Message, PublishProperties
from mqtt_common.models.constants import ReasonCode
from mqtt_common.models.errors import ValidationError

FULL: dict[str, Any] = {
    "payload_format_indicator": 1,
    "message_expiry_interval": 4_294_967_295,
    "content_type": "application/json",
    "response_topic": "replies/42",
    "correlation_data": b"\x00\xff",
    "user_properties": [("a", "1"), ("a", "2"), ("", "")],
    "subscription_identifiers": [1, 268_435_455],
    "topic_alias": 65_535,
}


def test_all_properties_round_trip() -> None:
    properties = PublishProperties(**FULL)
    assert properties.to_dict() == FULL
    assert properties.user_properties == [("a", "1"), ("a", "2"), ("", "")]
    message = Message("a", properties=FULL)
    assert message.properties == properties
    assert bool(properties)
    assert not PublishProperties()
    assert Message("a").properties == PublishProperties()


def test_tuple_sequences_are_accepted() -> None:
    properties = PublishProperties(user_properties=(("k", "v"),), subscription_identifiers=(3,))
    assert properties.user_properties == [("k", "v")]
    assert properties.subscription_identifiers == [3]


F = "properties."
REJECTED: list[tuple[str, dict[str, Any], str, ReasonCode, str | None]] = [
    (
        "pfi-2",
        {"payload_format_indicator": 2},
        "payload_format_indicator",
        ReasonCode.PROTOCOL_ERROR,
        "\u00a73.3.2.3.2",
    ),
    (
        "expiry-neg",
        {"message_expiry_interval": -1},
        "message_expiry_interval",
        ReasonCode.UNSPECIFIED_ERROR,
        "\u00a71.5.3",
    ),
    (
        "expiry-big",
        {"message_expiry_interval": 2**32},
        "message_expiry_interval",
        ReasonCode.UNSPECIFIED_ERROR,
        "\u00a71.5.3",
    ),
    (
        "content-nul",
        {"content_type": "a\x00"},
        "content_type",
        ReasonCode.MALFORMED_PACKET,
        "MQTT-1.5.4-2",
    ),
    (
        "content-surrogate",
        {"content_type": "\ud800"},
        "content_type",
        ReasonCode.MALFORMED_PACKET,
        "MQTT-1.5.4-1",
    ),
    (
        "content-long",
        {"content_type": "a" * 65_536},
        "content_type",
        ReasonCode.MALFORMED_PACKET,
        "\u00a71.5.4",
    ),
    ("content-bytes", {"content_type": b"x"}, "content_type", ReasonCode.UNSPECIFIED_ERROR, None),
    (
        "response-wildcard",
        {"response_topic": "a/+"},
        "response_topic",
        ReasonCode.TOPIC_NAME_INVALID,
        "MQTT-3.3.2-14",
    ),
    (
        "response-empty",
        {"response_topic": ""},
        "response_topic",
        ReasonCode.TOPIC_NAME_INVALID,
        "MQTT-4.7.3-1",
    ),
    (
        "correlation-long",
        {"correlation_data": bytes(65_536)},
        "correlation_data",
        ReasonCode.MALFORMED_PACKET,
        "\u00a71.5.6",
    ),
    (
        "correlation-int",
        {"correlation_data": 1},
        "correlation_data",
        ReasonCode.UNSPECIFIED_ERROR,
        None,
    ),
    (
        "user-dict",
        {"user_properties": {"k": "v"}},
        "user_properties",
        ReasonCode.UNSPECIFIED_ERROR,
        None,
    ),
    (
        "user-triple",
        {"user_properties": [("a", "b", "c")]},
        "user_properties",
        ReasonCode.UNSPECIFIED_ERROR,
        None,
    ),
    (
        "user-nonstr",
        {"user_properties": [("a", 1)]},
        "user_properties",
        ReasonCode.UNSPECIFIED_ERROR,
        None,
    ),
    (
        "user-nul",
        {"user_properties": [("a\x00", "b")]},
        "user_properties",
        ReasonCode.MALFORMED_PACKET,
        "MQTT-1.5.4-2",
    ),
    ("user-str", {"user_properties": "ab"}, "user_properties", ReasonCode.UNSPECIFIED_ERROR, None),
    (
        "subid-0",
        {"subscription_identifiers": [0]},
        "subscription_identifiers",
        ReasonCode.PROTOCOL_ERROR,
        "\u00a73.8.2.1.2",
    ),
    (
        "subid-big",
        {"subscription_identifiers": [268_435_456]},
        "subscription_identifiers",
        ReasonCode.PROTOCOL_ERROR,
        "\u00a73.8.2.1.2",
    ),
    (
        "subid-int",
        {"subscription_identifiers": 5},
        "subscription_identifiers",
        ReasonCode.UNSPECIFIED_ERROR,
        None,
    ),
    ("alias-0", {"topic_alias": 0}, "topic_alias", ReasonCode.TOPIC_ALIAS_INVALID, "MQTT-3.3.2-8"),
    (
        "alias-big",
        {"topic_alias": 65_536},
        "topic_alias",
        ReasonCode.UNSPECIFIED_ERROR,
        "\u00a71.5.2",
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
    for build in (lambda: PublishProperties(**kwargs), lambda: Message("a", properties=kwargs)):
        with pytest.raises(ValidationError) as info:
            build()
        assert str(info.value).startswith(F + field + ": ")
        assert info.value.reason_code is reason_code
        assert info.value.spec_ref == spec_ref


def test_value_semantics() -> None:
    a = PublishProperties(**FULL)
    b = PublishProperties(**FULL)
    assert a == b
    assert hash(a) == hash(b)
    assert a != PublishProperties(topic_alias=1)
    assert pickle.loads(pickle.dumps(a)) == a
    assert repr(PublishProperties(topic_alias=2)) == "PublishProperties(topic_alias=2)"
    with pytest.raises(TypeError):
        PublishProperties(1)  # type: ignore[call-arg]
