"""The reference broker's ``$SYS`` tests, run against the tokio broker
(``tokio-broker/``): the same figures, computed by the library for both."""

import subprocess

import pytest

from .support import TOKIO_BROKER, tokio_broker
from .test_sys import *  # noqa: F403

pytestmark = pytest.mark.usefixtures("tokio_broker")
_ = tokio_broker  # the fixture, imported for the mark above


@pytest.mark.parametrize("interval", ["1e300", "-1", "soon"])
def test_a_sys_interval_that_is_no_duration_is_one_line(interval: str) -> None:
    done = subprocess.run(
        [str(TOKIO_BROKER), "--port", "0", f"--sys-interval={interval}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "not a number of seconds" in done.stderr
    assert "panicked" not in done.stderr
