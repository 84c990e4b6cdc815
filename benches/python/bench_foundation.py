"""Foundation benchmarks: Message construction and topic matching, against anchors.

Run with ``./dev.sh bench``. Every candidate is timed in the same process, in interleaved
rounds, and the table reports medians (ns per call) and ratios. Nothing here asserts a
timing: benchmarks report, tests decide.
"""

from __future__ import annotations

import statistics
import sys
import timeit
from collections.abc import Callable
from dataclasses import dataclass

from paho.mqtt.client import topic_matches_sub

from mqtt_common import Message, topic_matches

ROUNDS = 15
CALLS = 20_000


@dataclass(slots=True)
class PlainMessage:
    """The same fields as Message, no validation: the speed floor of a Python model."""

    topic: str
    payload: bytes = b""
    qos: int = 0
    retain: bool = False
    message_id: int | None = None
    dup: bool = False
    properties: dict[str, object] | None = None


@dataclass(slots=True)
class ValidatedMessage:
    """The same fields, with Message's checks written in Python."""

    topic: str
    payload: bytes | bytearray | memoryview | str = b""
    qos: int = 0
    retain: bool = False
    message_id: int | None = None
    dup: bool = False
    properties: dict[str, object] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.topic, str):
            raise TypeError("topic must be str")
        encoded = self.topic.encode("utf-8")  # raises on lone surrogates
        if not encoded or len(encoded) > 65_535:
            raise ValueError("topic length")
        if "\x00" in self.topic or "+" in self.topic or "#" in self.topic:
            raise ValueError("topic characters")
        if isinstance(self.payload, str):
            self.payload = self.payload.encode("utf-8")
        elif isinstance(self.payload, bytearray | memoryview):
            self.payload = bytes(self.payload)
        elif not isinstance(self.payload, bytes):
            raise TypeError("payload type")
        if len(self.payload) > 268_435_455:
            raise ValueError("payload too large")
        if (
            isinstance(self.qos, bool)
            or not isinstance(self.qos, int)
            or self.qos not in (0, 1, 2)
        ):
            raise ValueError("qos")
        if not isinstance(self.retain, bool) or not isinstance(self.dup, bool):
            raise TypeError("flags")
        if self.message_id is not None:
            if isinstance(self.message_id, bool) or not isinstance(self.message_id, int):
                raise TypeError("message_id")
            if not 1 <= self.message_id <= 65_535 or self.qos == 0:
                raise ValueError("message_id")
        if self.dup and self.qos == 0:
            raise ValueError("dup")


def measure(cases: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Median ns per call of each case, over interleaved rounds."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(ROUNDS):
        for name, func in cases.items():
            seconds = timeit.timeit(func, number=CALLS)
            samples[name].append(seconds / CALLS * 1e9)
    return {name: statistics.median(values) for name, values in samples.items()}


def message_rows() -> list[tuple[str, float, str, float]]:
    payload = b"23.5" * 25  # 100 B
    big = bytes(65_536)
    results = measure(
        {
            "ours-kw": lambda: Message(
                topic="sensors/temperature", payload=payload, qos=1, retain=False, message_id=1
            ),
            "plain-kw": lambda: PlainMessage(
                topic="sensors/temperature", payload=payload, qos=1, retain=False, message_id=1
            ),
            "valid-kw": lambda: ValidatedMessage(
                topic="sensors/temperature", payload=payload, qos=1, retain=False, message_id=1
            ),
            "ours-pos": lambda: Message("sensors/temperature", payload, 1, False, 1),
            "plain-pos": lambda: PlainMessage("sensors/temperature", payload, 1, False, 1),
            "valid-pos": lambda: ValidatedMessage("sensors/temperature", payload, 1, False, 1),
            "ours-64k": lambda: Message("sensors/temperature", big),
            "plain-64k": lambda: PlainMessage("sensors/temperature", big),
            "valid-64k": lambda: ValidatedMessage("sensors/temperature", big),
        }
    )
    rows = []
    for label, key in [
        ("Message(), keywords, 100 B", "kw"),
        ("Message(), positional, 100 B", "pos"),
        ("Message(), 64 KiB payload", "64k"),
    ]:
        ours = results[f"ours-{key}"]
        rows.append((label, ours, "dataclass(slots)", results[f"plain-{key}"]))
        rows.append((label, ours, "dataclass + __post_init__", results[f"valid-{key}"]))
    return rows


def _bind(func: Callable[[str, str], bool], first: str, second: str) -> Callable[[], bool]:
    return lambda: func(first, second)


def topic_rows() -> list[tuple[str, float, str, float]]:
    cases = [
        ("exact", "site/42/device/17/temp", "site/42/device/17/temp"),
        ("'+' match", "site/+/device/+/temp", "site/42/device/17/temp"),
        ("'#' match", "site/42/#", "site/42/device/17/temp"),
        ("mismatch", "site/+/device/+/humidity", "site/42/device/17/temp"),
    ]
    rows = []
    for label, topic_filter, topic in cases:
        assert topic_matches(topic_filter, topic) == topic_matches_sub(topic_filter, topic)
        results = measure(
            {
                "ours": _bind(topic_matches, topic_filter, topic),
                "paho": _bind(topic_matches_sub, topic_filter, topic),
            }
        )
        rows.append(
            (f"topic_matches, {label}", results["ours"], "paho topic_matches_sub", results["paho"])
        )
    return rows


def main() -> None:
    """Print the table."""
    print(f"Python {sys.version.split()[0]}; median of {ROUNDS} rounds x {CALLS} calls")
    header = f"{'operation':<32} {'ours ns':>9}  {'anchor':<27} {'anchor ns':>9}  {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for label, ours, anchor, theirs in message_rows() + topic_rows():
        print(f"{label:<32} {ours:>9.0f}  {anchor:<27} {theirs:>9.0f}  {ours / theirs:>6.2f}")
    print("ratio = ours / anchor (below 1.00: we are faster)")


if __name__ == "__main__":
    main()
