"""The broker crash test, short: a few kill -9 cycles of the reference broker under
QoS 1 load, and nothing acknowledged lost (``./dev.sh crash-broker`` runs 100)."""

from __future__ import annotations

import random
from pathlib import Path

from .broker_crash import run


def test_nothing_acknowledged_is_lost_across_kill_9(tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)
    passed, report = run(cycles=4, seed=seed, workdir=tmp_path, verbose=False)
    assert passed, report
