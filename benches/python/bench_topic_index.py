"""SubscriptionIndex.matches from Python, against paho-mqtt's MQTTMatcher and a linear scan.

Run with ``./dev.sh bench``. The workload is the Rust benchmark's: filters of which 80%
are exact, 15% have ``+`` and 5% have ``#``, over topics like ``site/42/device/17/temp``,
about ten subscriptions per client and one or two matches per topic. Timings are
medians over interleaved rounds; nothing is asserted.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

from paho.mqtt.matcher import MQTTMatcher

from mqtt_common import Subscription, SubscriptionIndex, topic_matches

METRICS = ["temp", "humidity", "pressure", "battery", "status"]
METRICS += ["rssi", "voltage", "current", "co2", "light"]
ROUNDS = 7


def workload(size: int, rng: random.Random) -> list[tuple[str, str]]:
    """(client id, filter) pairs in the benchmark mix."""
    sites = max(size // 100, 1)
    pairs = []
    for _ in range(size):
        site, device, metric = rng.randrange(sites), rng.randrange(100), rng.choice(METRICS)
        roll = rng.randrange(100)
        if roll < 80:
            topic_filter = f"site/{site}/device/{device}/{metric}"
        elif roll < 95:
            topic_filter = f"site/{site}/device/+/{metric}"
        else:
            topic_filter = f"site/{site}/device/{device}/#"
        pairs.append((f"client-{rng.randrange(max(size // 10, 1))}", topic_filter))
    return pairs


def topics(size: int, count: int, rng: random.Random) -> list[str]:
    sites = max(size // 100, 1)
    return [
        f"site/{rng.randrange(sites)}/device/{rng.randrange(100)}/{rng.choice(METRICS)}"
        for _ in range(count)
    ]


def per_call_ns(func: Callable[[str], object], probes: list[str]) -> float:
    """Median over rounds of the mean ns per call across the probe topics."""
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        for topic in probes:
            func(topic)
        samples.append((time.perf_counter_ns() - start) / len(probes))
    return statistics.median(samples)


def bench_size(size: int) -> None:
    """Time the three candidates on one index size and print their rows."""
    rng = random.Random(7)
    pairs = workload(size, rng)
    index = SubscriptionIndex()
    matcher = MQTTMatcher()  # type: ignore[no-untyped-call]
    for client, topic_filter in pairs:
        subscription = Subscription(topic_filter, 1)
        index.subscribe(client, subscription)
        try:
            matcher[topic_filter].append((client, subscription))
        except KeyError:
            matcher[topic_filter] = [(client, subscription)]
    probes = topics(size, 2000, rng)
    scan_probes = probes[: max(20, 200_000 // size)]

    ours = index.matches  # the bound method, as a broker would call it

    def paho(topic: str) -> list[tuple[str, Subscription]]:
        found = matcher.iter_match(topic)  # type: ignore[no-untyped-call]
        return [pair for subscribers in found for pair in subscribers]

    def scan(topic: str) -> list[tuple[str, str]]:
        return [(c, f) for c, f in pairs if topic_matches(f, topic)]

    for topic in probes[:200]:
        expected = {(c, s.topic_filter) for c, s in paho(topic)}
        assert {(c, s.topic_filter) for c, s in ours(topic)} == expected
        assert set(scan(topic)) == expected
    results = [
        ("SubscriptionIndex.matches", per_call_ns(ours, probes)),
        ("paho MQTTMatcher.iter_match", per_call_ns(paho, probes)),
        ("linear scan, topic_matches", per_call_ns(scan, scan_probes)),
    ]
    mean_matches = sum(len(index.matches(t)) for t in probes) / len(probes)
    ours_ns = results[0][1]
    for name, ns in results:
        speedup = "" if name.startswith("Subscription") else f"{ns / ours_ns:.1f}x"
        print(f"{size:>8} {name:<28} {ns:>10.0f} {speedup:>15}")
    print(f"{'':>8} ({mean_matches:.2f} matches per topic)")


def main() -> None:
    """Print the table."""
    print(f"SubscriptionIndex.matches vs anchors; median of {ROUNDS} rounds")
    header = f"{'filters':>8} {'candidate':<28} {'ns/match':>10} {'ours faster by':>15}"
    print(header)
    print("-" * len(header))
    for size in (10_000, 100_000):
        bench_size(size)


if __name__ == "__main__":
    main()
