"""MemoryStorage from Python against a pure-Python storage on dicts and paho's MQTTMatcher.

Run with ``./dev.sh bench``: ``get_subscribers`` with 100,000 subscriptions and
``get_retained`` with 100,000 retained topics, in the topic index benchmark's mix.
Medians over interleaved rounds; nothing is asserted.
"""

from __future__ import annotations

import random

from bench_topic_index import METRICS, ROUNDS, per_call_ns, topics, workload
from paho.mqtt.matcher import MQTTMatcher

from mqtt_common import Message, Subscription, topic_matches
from mqtt_common.src.storage import MemoryStorage

SIZE = 100_000


class PythonStorage:
    """What a Python backend would do.

    Subscriptions live in paho's MQTTMatcher; retained messages in a dict, scanned with
    topic_matches for wildcard filters.
    """

    def __init__(self) -> None:
        self.matcher = MQTTMatcher()  # type: ignore[no-untyped-call]
        self.retained: dict[str, Message] = {}

    def add_subscription(self, client_id: str, subscription: Subscription) -> None:
        """Add a subscription under its filter."""
        try:
            subscribers = self.matcher[subscription.topic_filter]
        except KeyError:
            subscribers = self.matcher[subscription.topic_filter] = []
        subscribers.append((client_id, subscription))

    def get_subscribers(self, topic: str) -> list[tuple[str, Subscription]]:
        """Return every (client id, subscription) whose filter matches."""
        found = self.matcher.iter_match(topic)  # type: ignore[no-untyped-call]
        return [pair for subscribers in found for pair in subscribers]

    def store_retained(self, message: Message) -> None:
        """Store a retained message by topic."""
        self.retained[message.topic] = message

    def get_retained(self, topic_filter: str) -> list[Message]:
        """Return the retained messages whose topic matches the filter."""
        if "+" not in topic_filter and "#" not in topic_filter:
            found = self.retained.get(topic_filter)
            return [] if found is None else [found]
        return [m for t, m in self.retained.items() if topic_matches(topic_filter, t)]


def main() -> None:
    """Print the table."""
    rng = random.Random(11)
    sites = SIZE // 100
    ours, theirs = MemoryStorage(max_queue_length=None), PythonStorage()
    for i, (client_id, topic_filter) in enumerate(workload(SIZE, rng)):
        subscription = Subscription(topic_filter, 1)
        ours.add_subscription(client_id, subscription)
        theirs.add_subscription(client_id, subscription)
        metric = METRICS[i % len(METRICS)]
        retained = Message(f"site/{i % sites}/device/{i // sites}/{metric}", b"21.5", retain=True)
        ours.store_retained(retained)
        theirs.store_retained(retained)

    probe_topics = topics(SIZE, 1000, rng)
    exact = topics(SIZE, 1000, rng)
    plus = [f"site/{rng.randrange(sites)}/device/+/{rng.choice(METRICS)}" for _ in range(20)]
    hashes = [f"site/{rng.randrange(sites)}/#" for _ in range(20)]
    for probe in probe_topics[:100]:
        assert len(ours.get_subscribers(probe)) == len(theirs.get_subscribers(probe))
    for probe in plus[:5] + hashes[:5]:
        assert len(ours.get_retained(probe)) == len(theirs.get_retained(probe))

    print(f"Storage from Python at {SIZE:,} subscriptions / retained topics; median of {ROUNDS}")
    header = f"{'operation':<34} {'MemoryStorage':>14} {'Python+paho':>12} {'faster by':>10}"
    print(header)
    print("-" * len(header))
    rows = [
        ("get_subscribers(topic)", probe_topics, ours.get_subscribers, theirs.get_subscribers),
        ("get_retained(exact topic)", exact, ours.get_retained, theirs.get_retained),
        ("get_retained('site/N/device/+/m')", plus, ours.get_retained, theirs.get_retained),
        ("get_retained('site/N/#')", hashes, ours.get_retained, theirs.get_retained),
    ]
    for label, probes, mine, other in rows:
        a, b = per_call_ns(mine, probes) / 1000, per_call_ns(other, probes) / 1000
        print(f"{label:<34} {a:>11.2f} us {b:>9.2f} us {b / a:>9.1f}x")


if __name__ == "__main__":
    main()
