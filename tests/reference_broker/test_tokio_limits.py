"""The reference broker's tests of limits, run against the tokio broker
(``tokio-broker/``)."""

import pytest

from .support import tokio_broker
from .test_limits import *  # noqa: F403

pytestmark = pytest.mark.usefixtures("tokio_broker")
_ = tokio_broker  # the fixture, imported for the mark above
