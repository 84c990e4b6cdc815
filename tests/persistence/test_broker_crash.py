"""The broker crash test, short: a few kill -9 cycles of the reference broker and of the
tokio broker under QoS 1 load, and nothing acknowledged lost; both on Redis too, with
Redis itself killed in the middle cycle (``./dev.sh crash-broker`` runs 100 of each, and
20 of each on Redis)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from .broker_crash import run


@pytest.mark.parametrize(
    ("broker", "store"),
    [("python", "sqlite"), ("tokio", "sqlite"), ("python", "redis"), ("tokio", "redis")],
)
def test_nothing_acknowledged_is_lost_across_kill_9(
    tmp_path: Path, broker: str, store: str
) -> None:
    seed = random.randrange(1 << 30)
    passed, report = run(
        cycles=4, seed=seed, workdir=tmp_path, verbose=False, broker=broker, store=store
    )
    assert passed, report
