"""Topic validation and matching from Python: every topic row of SPEC-CHECKLIST.md, and a
hypothesis differential test against a level-by-level reference."""

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mqtt_common.models.constants import ReasonCode
from mqtt_common.models.errors import ValidationError
from mqtt_common.utils.topic import topic_matches, validate_topic_filter, validate_topic_name

NAME = ReasonCode.TOPIC_NAME_INVALID
FILTER = ReasonCode.TOPIC_FILTER_INVALID

VALID_NAMES = [
    "a",
    "/",
    "a//b",
    "$SYS/uptime",
    "\ufeffbom",
    "with space",
    "caf\u00e9",
    "a" * 65_535,
]
INVALID_NAMES = [
    ("empty", "", "MQTT-4.7.3-1"),
    ("plus", "a/+", "MQTT-3.3.2-2"),
    ("hash", "#", "MQTT-3.3.2-2"),
    ("embedded-plus", "a+b", "MQTT-3.3.2-2"),
    ("nul", "a\x00b", "MQTT-4.7.3-2"),
    ("too-long", "a" * 65_536, "MQTT-4.7.3-3"),
    ("surrogate", "\udfff", "MQTT-1.5.4-1"),
]
VALID_FILTERS = ["#", "+", "+/+", "a/#", "a/+/b", "$SYS/#", "$share/g/a/#", "$share/g/+", "a//#"]
INVALID_FILTERS = [
    ("empty", "", "MQTT-4.7.3-1"),
    ("hash-not-last", "a/#/b", "MQTT-4.7.1-1"),
    ("hash-in-level", "a#", "MQTT-4.7.1-1"),
    ("plus-in-level", "a+/b", "MQTT-4.7.1-2"),
    ("nul", "\x00", "MQTT-4.7.3-2"),
    ("too-long", "+" * 65_536, "MQTT-4.7.3-3"),
    ("share-empty-name", "$share//a", "MQTT-4.8.2-1"),
    ("share-wildcard-name", "$share/a+/b", "MQTT-4.8.2-2"),
    ("share-no-filter", "$share/group", "MQTT-4.8.2-2"),
    ("share-empty-filter", "$share/group/", "MQTT-4.8.2-2"),
    ("surrogate", "\ud800/#", "MQTT-1.5.4-1"),
]


@pytest.mark.parametrize("topic", VALID_NAMES, ids=range(len(VALID_NAMES)))
def test_valid_names(topic: str) -> None:
    validate_topic_name(topic)


@pytest.mark.parametrize(
    ("topic", "spec_ref"), [c[1:] for c in INVALID_NAMES], ids=[c[0] for c in INVALID_NAMES]
)
def test_invalid_names(topic: str, spec_ref: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_topic_name(topic)
    assert info.value.spec_ref == spec_ref
    assert info.value.reason_code is NAME
    assert str(info.value).startswith("topic: ")


@pytest.mark.parametrize("topic_filter", VALID_FILTERS)
def test_valid_filters(topic_filter: str) -> None:
    validate_topic_filter(topic_filter)


@pytest.mark.parametrize(
    ("topic_filter", "spec_ref"),
    [c[1:] for c in INVALID_FILTERS],
    ids=[c[0] for c in INVALID_FILTERS],
)
def test_invalid_filters(topic_filter: str, spec_ref: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_topic_filter(topic_filter)
    assert info.value.spec_ref == spec_ref
    assert info.value.reason_code is FILTER
    assert str(info.value).startswith("topic_filter: ")


@pytest.mark.parametrize("value", [None, 1, b"a/b", ["a"]], ids=repr)
def test_wrong_types_are_validation_errors(value: object) -> None:
    for call in (
        lambda: validate_topic_name(value),  # type: ignore[arg-type]
        lambda: validate_topic_filter(value),  # type: ignore[arg-type]
        lambda: topic_matches(value, "a"),  # type: ignore[arg-type]
        lambda: topic_matches("a", value),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValidationError, match="expected str"):
            call()


MATCHES = [
    ("sport/tennis/player1/#", "sport/tennis/player1", True),
    ("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", True),
    ("sport/#", "sport", True),
    ("#", "a/b/c", True),
    ("sport/tennis/+", "sport/tennis/player1/ranking", False),
    ("sport/+", "sport", False),
    ("sport/+", "sport/", True),
    ("+", "/finance", False),
    ("+/+", "/finance", True),
    ("/+", "/finance", True),
    ("#", "$SYS/monitor/Clients", False),
    ("+/monitor/Clients", "$SYS/monitor/Clients", False),
    ("$SYS/#", "$SYS/monitor/Clients", True),
    ("$SYS/+/Clients", "$SYS/monitor/Clients", True),
    ("ACCOUNTS", "Accounts", False),
    ("caf\u00e9", "cafe\u0301", False),
    ("$share/g/sport/#", "sport/tennis", True),
    ("$share/g/#", "$SYS/x", False),
]


@pytest.mark.parametrize(
    ("topic_filter", "topic", "expected"), MATCHES, ids=[f"{f}~{t}" for f, t, _ in MATCHES]
)
def test_matching(topic_filter: str, topic: str, expected: bool) -> None:
    assert topic_matches(topic_filter, topic) is expected


def test_invalid_arguments_to_topic_matches() -> None:
    with pytest.raises(ValidationError, match=r"^topic_filter: "):
        topic_matches("a/#/b", "a")
    with pytest.raises(ValidationError, match=r"^topic: "):
        topic_matches("#", "a/+")


def test_deep_topics() -> None:
    topic = "a/" * 32_767 + "a"
    assert topic_matches("+/" * 32_767 + "+", topic)
    assert topic_matches("a/#", topic)
    assert topic_matches("#", "/" * 65_534)


def reference(topic_filter: str, topic: str) -> bool:
    """Section 4.7 transcribed: compare level lists left to right."""
    if topic_filter.startswith("$share/"):
        topic_filter = topic_filter.split("/", 2)[2]
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    f_levels, t_levels = topic_filter.split("/"), topic.split("/")
    for i, level in enumerate(f_levels):
        if level == "#":
            return True
        if i >= len(t_levels) or (level != "+" and level != t_levels[i]):
            return False
    return len(f_levels) == len(t_levels)


LEVEL = st.sampled_from(["", "a", "b", "$SYS", "A", "\u00e9"])
TOPICS = st.lists(LEVEL, min_size=1, max_size=5).map("/".join).filter(bool)
FILTERS = st.builds(
    lambda levels, hash_, shared: (
        ("$share/g/" if shared else "") + "/".join(levels + (["#"] if hash_ else []))
    ),
    st.lists(st.one_of(LEVEL, st.just("+")), min_size=1, max_size=5),
    st.booleans(),
    st.booleans(),
).filter(lambda f: f not in ("", "$share/g/"))


@given(FILTERS, TOPICS)
def test_matches_the_reference(topic_filter: str, topic: str) -> None:
    assert topic_matches(topic_filter, topic) is reference(topic_filter, topic)


@given(st.text(max_size=30), st.text(max_size=30))
def test_arbitrary_text_never_raises_anything_else(topic_filter: str, topic: str) -> None:
    with contextlib.suppress(ValidationError):
        topic_matches(topic_filter, topic)
