"""The reference broker's ``$SYS`` tests, run against the tokio broker
(``tokio-broker/``): the same figures, computed by the library for both."""

import pytest

from .support import tokio_broker
from .test_sys import *  # noqa: F403

pytestmark = pytest.mark.usefixtures("tokio_broker")
_ = tokio_broker  # the fixture, imported for the mark above
