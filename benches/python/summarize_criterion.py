"""Print the Rust benchmarks' medians (from criterion's estimates) beside their targets.

Run by ``./dev.sh bench`` after ``cargo bench``; reads ``target/criterion``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

CRITERION = Path(__file__).resolve().parents[2] / "target" / "criterion"

# (criterion group/function, parameter, target in ns or None)
ROWS: list[tuple[str, str, float | None]] = [
    ("index/match", "10000", None),
    ("index/match", "100000", 500.0),
    ("index/match", "1000000", 1500.0),
    ("index/insert", "10000", 1000.0),
    ("index/insert", "100000", 1000.0),
    ("index/insert", "1000000", 1000.0),
    ("index/remove", "10000", None),
    ("index/remove", "100000", None),
    ("index/remove", "1000000", None),
]
MEMORY_TARGET = 200.0
CODEC_SIZES = ["16B", "256B", "64KiB", "1MiB"]


def median_ns(bench: str, parameter: str) -> float | None:
    """Return the median estimate of one benchmark in ns, or None if it has not run."""
    path = CRITERION.joinpath(*bench.split("/"), parameter, "new", "estimates.json")
    if not path.exists():
        return None
    estimates = json.loads(path.read_text(encoding="utf-8"))
    return float(estimates["median"]["point_estimate"])


def main() -> int:
    """Print the table; exit 1 only if no results were found at all."""
    header = f"{'benchmark':<24} {'median':>10}  {'target':>10}  {'met':>4}"
    print(header)
    print("-" * len(header))
    found = 0
    for bench, parameter, target in ROWS:
        value = median_ns(bench, parameter)
        if value is None:
            continue
        found += 1
        shown = f"{target:.0f} ns" if target else "-"
        met = "" if target is None else ("yes" if value <= target else "NO")
        print(f"{bench + '/' + parameter:<24} {value:>7.0f} ns  {shown:>10}  {met:>4}")
    memory = CRITERION / "index_memory.json"
    if memory.exists():
        for size, per_filter in json.loads(memory.read_text(encoding="utf-8")).items():
            met = "yes" if per_filter <= MEMORY_TARGET else "NO"
            label = f"memory/{size}"
            print(f"{label:<24} {per_filter:>8.0f} B  {MEMORY_TARGET:>8.0f} B  {met:>4}")
    found += print_codec()
    return 0 if found else 1


def print_codec() -> int:
    """Print PUBLISH decode/encode medians beside rumqttc's; return how many were found."""
    print()
    header = f"{'codec benchmark':<26} {'ours':>11} {'rumqttc':>11} {'ours/rumqttc':>13}"
    print(header)
    print("-" * len(header))
    found = 0
    for group in ["publish_decode", "publish_encode"]:
        for version in ["v311", "v5"]:
            small = None
            for size in CODEC_SIZES:
                ours = median_ns(f"{group}_{version}/ours", size)
                theirs = median_ns(f"{group}_{version}/rumqttc", size)
                if ours is None or theirs is None:
                    continue
                found += 1
                label = f"{group}/{version}/{size}"
                print(f"{label:<26} {ours:>8.0f} ns {theirs:>8.0f} ns {ours / theirs:>12.2f}x")
                small = ours if size == "16B" else small
                if group == "publish_decode" and size == "64KiB" and small:
                    ratio = ours / small
                    print(f"{'  64KiB / our 16B decode':<26} {ratio:>10.2f}x (target <= 1.5x)")
    print("(ours/rumqttc below 1 means ours is faster; target: 16B decode <= 1x)")
    return found


if __name__ == "__main__":
    sys.exit(main())
