"""Subscription: options, validation, value semantics."""

import copy
import pickle
from typing import Any

import pytest

from mqtt_common.models import Subscription
from mqtt_common.models.constants import QualityOfService, ReasonCode, RetainHandling
from mqtt_common.models.errors import ValidationError


def test_defaults_and_options() -> None:
    s = Subscription("a/+")
    assert (s.topic_filter, s.qos, s.no_local, s.retain_as_published) == ("a/+", 0, False, False)
    assert s.retain_handling is RetainHandling.SEND_AT_SUBSCRIBE
    assert s.subscription_id is None
    assert s.share_group is None
    full = Subscription(
        "$share/g/a/#",
        QualityOfService.EXACTLY_ONCE,
        retain_as_published=True,
        retain_handling=2,
        subscription_id=268_435_455,
    )
    assert full.qos is QualityOfService.EXACTLY_ONCE
    assert full.share_group == "g"
    assert full.retain_handling is RetainHandling.DO_NOT_SEND


REJECTED: list[tuple[str, dict[str, Any], str, ReasonCode, str | None]] = [
    (
        "bad-filter",
        {"topic_filter": "a/#/b"},
        "topic_filter",
        ReasonCode.TOPIC_FILTER_INVALID,
        "MQTT-4.7.1-1",
    ),
    (
        "share-no-filter",
        {"topic_filter": "$share/g"},
        "topic_filter",
        ReasonCode.TOPIC_FILTER_INVALID,
        "MQTT-4.8.2-2",
    ),
    ("filter-bytes", {"topic_filter": b"a"}, "topic_filter", ReasonCode.UNSPECIFIED_ERROR, None),
    (
        "qos-3",
        {"topic_filter": "a", "qos": 3},
        "qos",
        ReasonCode.QOS_NOT_SUPPORTED,
        "MQTT-3.3.1-4",
    ),
    (
        "retain-handling-3",
        {"topic_filter": "a", "retain_handling": 3},
        "retain_handling",
        ReasonCode.PROTOCOL_ERROR,
        "\u00a73.8.3.1",
    ),
    (
        "no-local-shared",
        {"topic_filter": "$share/g/a", "no_local": True},
        "no_local",
        ReasonCode.PROTOCOL_ERROR,
        "MQTT-3.8.3-4",
    ),
    (
        "no-local-int",
        {"topic_filter": "a", "no_local": 1},
        "no_local",
        ReasonCode.UNSPECIFIED_ERROR,
        None,
    ),
    (
        "sub-id-0",
        {"topic_filter": "a", "subscription_id": 0},
        "subscription_id",
        ReasonCode.PROTOCOL_ERROR,
        "\u00a73.8.2.1.2",
    ),
    (
        "sub-id-big",
        {"topic_filter": "a", "subscription_id": 268_435_456},
        "subscription_id",
        ReasonCode.PROTOCOL_ERROR,
        "\u00a73.8.2.1.2",
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
        Subscription(**kwargs)
    assert str(info.value).startswith(f"{field}: ")
    assert info.value.reason_code is reason_code
    assert info.value.spec_ref == spec_ref


def test_value_semantics() -> None:
    a = Subscription("a/#", 1, subscription_id=5)
    b = Subscription("a/#", QualityOfService.AT_LEAST_ONCE, subscription_id=5)
    assert a == b
    assert hash(a) == hash(b)
    assert a != a.replace(qos=2)
    assert a != "a/#"
    assert pickle.loads(pickle.dumps(a)) == a
    assert copy.copy(a) is a
    assert copy.deepcopy(a) is a
    assert repr(a) == (
        "Subscription(topic_filter='a/#', qos=QualityOfService.AT_LEAST_ONCE, subscription_id=5)"
    )
    assert a.__replace__(subscription_id=None).subscription_id is None
    with pytest.raises(ValidationError, match=r"MQTT-3\.8\.3-4"):
        Subscription("$share/g/a").replace(no_local=True)
    with pytest.raises(TypeError, match="colour"):
        a.replace(colour="red")  # type: ignore[call-arg]
