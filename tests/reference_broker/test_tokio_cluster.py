"""The reference broker's cluster tests (``--node-id``), run against the tokio broker
(``tokio-broker/``)."""

import pytest

from .support import tokio_broker
from .test_cluster import *  # noqa: F403

pytestmark = pytest.mark.usefixtures("tokio_broker")
_ = tokio_broker  # the fixture, imported for the mark above
