"""SubscriptionIndex from Python: differential tests against a brute-force loop over
topic_matches, rebuild equality after random operations, limits and hostile input."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mqtt_common.models import Subscription
from mqtt_common.models.constants import ReasonCode
from mqtt_common.models.errors import ValidationError
from mqtt_common.utils.topic import (
    Delivery,
    SubscriptionIndex,
    merge_overlapping,
    topic_matches,
)

LEVEL = st.sampled_from(["", "a", "b", "$s", "\u00e9"])
TOPICS = st.lists(LEVEL, min_size=1, max_size=4).map("/".join).filter(bool)
FILTERS = st.builds(
    lambda levels, hash_, share: (
        {0: "$share/g/", 1: "$share/h/"}.get(share, "")
        + "/".join(levels + (["#"] if hash_ else []))
    ),
    st.lists(st.one_of(LEVEL, st.just("+")), min_size=1, max_size=4),
    st.booleans(),
    st.integers(0, 3),
).filter(lambda f: f.rstrip("/") not in ("", "$share/g", "$share/h"))
CLIENTS = st.sampled_from(["c0", "c1", "c2"])


def matched(index: SubscriptionIndex, topic: str) -> set[tuple[str, str]]:
    return {(client, s.topic_filter) for client, s in index.matches(topic)}


def snapshot(index: SubscriptionIndex, clients: list[str]) -> set[tuple[str, str, int]]:
    return {(c, s.topic_filter, int(s.qos)) for c in clients for s in index.subscriptions(c)}


@given(st.lists(st.tuples(CLIENTS, FILTERS), max_size=30), st.lists(TOPICS, min_size=1))
def test_match_equals_brute_force(subs: list[tuple[str, str]], topics: list[str]) -> None:
    index = SubscriptionIndex(max_topic_levels=None)
    model: set[tuple[str, str]] = set()
    for client, topic_filter in subs:
        index.subscribe(client, Subscription(topic_filter))
        model.add((client, topic_filter))
    assert len(index) == len(model)
    for topic in topics:
        expected = {(c, f) for c, f in model if topic_matches(f, topic)}
        assert matched(index, topic) == expected, topic


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("sub"), CLIENTS, FILTERS, st.integers(0, 2)),
        st.tuples(st.just("unsub"), CLIENTS, FILTERS, st.just(0)),
        st.tuples(st.just("unsub_all"), CLIENTS, st.just(""), st.just(0)),
    ),
    max_size=60,
)


@settings(max_examples=200)
@given(OPS)
def test_random_operations_equal_a_rebuilt_index(ops: list[tuple[str, str, str, int]]) -> None:
    index = SubscriptionIndex(max_topic_levels=None)
    for op, client, topic_filter, qos in ops:
        if op == "sub":
            index.subscribe(client, Subscription(topic_filter, qos))
        elif op == "unsub":
            index.unsubscribe(client, topic_filter)
        else:
            index.unsubscribe_all(client)
    clients = ["c0", "c1", "c2"]
    rebuilt = SubscriptionIndex(max_topic_levels=None)
    for client in clients:
        for subscription in index.subscriptions(client):
            rebuilt.subscribe(client, subscription)
    assert snapshot(index, clients) == snapshot(rebuilt, clients)
    assert len(index) == len(rebuilt)
    assert index.node_count == rebuilt.node_count
    assert index.client_count == rebuilt.client_count


def test_subscribe_replace_and_unsubscribe() -> None:
    index = SubscriptionIndex()
    assert index.subscribe("c", Subscription("a/b")) is False
    assert index.subscribe("c", Subscription("a/b", 2)) is True
    assert index.subscribe("c", Subscription("$share/g/a/b")) is False
    assert len(index) == 2
    assert index.unsubscribe("c", "a/+") is False  # character by character
    assert index.unsubscribe("c", "a/b") is True
    assert index.unsubscribe("nobody", "a/b") is False
    assert index.unsubscribe_all("c") == 1
    assert len(index) == 0
    assert index.node_count == 1
    assert repr(index) == "<SubscriptionIndex of 0 subscriptions from 0 clients>"


def test_match_returns_the_stored_objects() -> None:
    index = SubscriptionIndex()
    client = "client-" + "x" * 20
    subscription = Subscription("sensors/+")
    index.subscribe(client, subscription)
    [(found_client, found)] = index.matches("sensors/t")
    assert found is subscription
    assert found_client is client


def test_dollar_topics_and_shared_groups() -> None:
    index = SubscriptionIndex()
    index.subscribe("all", Subscription("#"))
    index.subscribe("sys", Subscription("$SYS/#"))
    index.subscribe("w1", Subscription("$share/workers/jobs/+"))
    index.subscribe("w2", Subscription("$share/workers/jobs/+"))
    assert {c for c, _ in index.matches("$SYS/uptime")} == {"sys"}
    groups = {(c, s.share_group) for c, s in index.matches("jobs/7")}
    assert groups == {("all", None), ("w1", "workers"), ("w2", "workers")}


def test_merge_overlapping() -> None:
    index = SubscriptionIndex()
    index.subscribe("c1", Subscription("a/#", 0, subscription_id=3))
    index.subscribe("c1", Subscription("a/+", 2, subscription_id=1, retain_as_published=True))
    index.subscribe("me", Subscription("a/b", 1, no_local=True))
    index.subscribe("w", Subscription("$share/g/a/b"))
    deliveries = sorted(merge_overlapping(index.matches("a/b"), publisher="me"), key=repr)
    assert len(deliveries) == 1
    [delivery] = deliveries
    assert isinstance(delivery, Delivery)
    assert (delivery.client_id, delivery.qos, delivery.subscription_identifiers) == (
        "c1",
        2,
        [1, 3],
    )
    assert delivery.retain_as_published is True
    assert len(merge_overlapping(index.matches("a/b"))) == 2
    with pytest.raises(ValidationError, match="matches"):
        merge_overlapping([("c", "not a subscription")])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="matches"):
        merge_overlapping(5)  # type: ignore[arg-type]


def test_limits() -> None:
    index = SubscriptionIndex(max_topic_levels=3, max_subscriptions_per_client=2)
    assert (index.max_topic_levels, index.max_subscriptions_per_client) == (3, 2)
    with pytest.raises(ValidationError) as info:
        index.subscribe("c", Subscription("a/b/c/d"))
    assert info.value.reason_code is ReasonCode.TOPIC_FILTER_INVALID
    assert "configured maximum of 3" in str(info.value)
    index.subscribe("c", Subscription("a"))
    index.subscribe("c", Subscription("b"))
    with pytest.raises(ValidationError) as info:
        index.subscribe("c", Subscription("c"))
    assert info.value.reason_code is ReasonCode.QUOTA_EXCEEDED
    assert len(index) == 2
    assert SubscriptionIndex().max_topic_levels == 128
    assert SubscriptionIndex(max_topic_levels=None).max_topic_levels is None
    with pytest.raises(ValidationError):
        SubscriptionIndex(max_topic_levels=-1)
    with pytest.raises(TypeError, match="colour"):
        SubscriptionIndex(colour=1)  # type: ignore[call-arg]


def test_a_million_subscriptions_by_one_client_stop_at_the_limit() -> None:
    index = SubscriptionIndex(max_subscriptions_per_client=1000)
    refused = 0
    for i in range(1_000_000):
        try:
            index.subscribe("greedy", Subscription(f"flood/{i}"))
        except ValidationError:
            refused += 1
            if refused == 10_000:  # the rest would be refused the same way
                break
    assert len(index) == 1000
    assert index.unsubscribe_all("greedy") == 1000
    assert index.node_count == 1


def test_deep_filters_and_topics() -> None:
    deep = "+/" * 32_767 + "+"
    with pytest.raises(ValidationError, match="32768 levels"):
        SubscriptionIndex().subscribe("c", Subscription(deep))
    index = SubscriptionIndex(max_topic_levels=None)
    index.subscribe("deep", Subscription(deep))
    index.subscribe("empty", Subscription("/" * 65_534))
    assert {c for c, _ in index.matches("a/" * 32_767 + "a")} == {"deep"}
    assert {c for c, _ in index.matches("/" * 65_534)} == {"empty"}
    index.unsubscribe_all("deep")
    index.unsubscribe_all("empty")
    assert index.node_count == 1


@pytest.mark.parametrize(
    "call",
    [
        lambda i: i.subscribe(1, Subscription("a")),
        lambda i: i.subscribe("c", "a"),
        lambda i: i.subscribe("c\x00", Subscription("a")),
        lambda i: i.unsubscribe("c", "a/#/b"),
        lambda i: i.matches("a/+"),
        lambda i: i.matches(None),
        lambda i: i.subscriptions(b"c"),
    ],
    ids=["client-int", "sub-str", "client-nul", "bad-filter", "wildcard-topic", "none", "bytes"],
)
def test_bad_arguments_are_validation_errors(call: object) -> None:
    with pytest.raises(ValidationError):
        call(SubscriptionIndex())  # type: ignore[operator]
