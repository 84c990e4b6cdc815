"""The reference broker's feature tests (paho-mqtt 3.1.1 and 5.0, mosquitto clients),
run against the tokio broker (``tokio-broker/``)."""

import pytest

from .support import tokio_broker
from .test_features import *  # noqa: F403
from .test_features import broker  # noqa: F401  (the module's broker fixture)

pytestmark = pytest.mark.usefixtures("tokio_broker")
_ = tokio_broker  # the fixture, imported for the mark above

# Not an option of the tokio broker: a client that reads nothing is dropped when a write
# to it waits for 10 s, or when more than 100,000 deliveries wait for it.
del test_a_burst_beyond_the_unread_limit_reaches_a_client_that_reads_it  # noqa: F821
