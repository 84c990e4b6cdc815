"""The examples run as documented: the tour and the README's main job (the broker demo)."""

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(script: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_python_tour_runs() -> None:
    result = run(EXAMPLES / "tour.py")
    assert result.returncode == 0, result.stderr
    assert "engine:" in result.stdout


def test_the_main_job_drives_the_broker_with_real_clients() -> None:
    result = run(EXAMPLES / "broker" / "demo.py")
    assert result.returncode == 0, result.stdout + result.stderr
    for seen in (
        "dashboard (3.1.1)      got home/kitchen/q2 = '22.5' (QoS 2)",
        "phone (5.0)            got home/kitchen/temperature = '21.0' (QoS 1, retained)",
        "dashboard (3.1.1)      got home/status/sensor = 'offline' (QoS 1)",
        "logger (3.1.1)         reconnected: session present = True",
        "logger (3.1.1)         got home/alarms = 'door closed' (QoS 1)",
        "5. A restart: the broker stops and starts again on the same --data-dir",
        "logger (3.1.1)         got home/alarms = 'smoke' (QoS 1)",
        "tablet (5.0)           got home/kitchen/temperature = '21.0' (QoS 1, retained)",
        "the broker stopped cleanly twice (exit statuses [0, 0])",
    ):
        assert seen in result.stdout
