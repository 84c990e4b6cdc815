"""Contract test suites for implementations of the interfaces.

Each suite is a plain class of ``test_*`` methods: subclass it in your pytest suite as a
``Test*`` class and give it a factory, and pytest runs every behaviour the interface
promises against your implementation::

    from mqtt_common.testing import StorageContract

    class TestMyStorage(StorageContract):
        def make_storage(self) -> MyStorage:
            return MyStorage()

The suites check the contract, not an implementation: they pass for ours and must pass
for yours. The ``Async*`` suites check the asynchronous family with the same tests, each
call awaited: implement ``make_async_storage`` (and so on) instead.
"""

try:
    import pytest
except ImportError:  # the suites also run under a plain assert, without pytest's report
    pass
else:
    # An installed package's asserts are not rewritten unless registered before import:
    # without this a failing contract shows a bare AssertionError instead of the values.
    pytest.register_assert_rewrite(
        "mqtt_common.testing._blocking",
        "mqtt_common.testing.auth",
        "mqtt_common.testing.network",
        "mqtt_common.testing.session",
        "mqtt_common.testing.storage",
    )

from mqtt_common.testing.auth import AsyncAuthContract, AuthContract
from mqtt_common.testing.network import NetworkContract
from mqtt_common.testing.session import AsyncSessionContract, SessionContract
from mqtt_common.testing.storage import AsyncStorageContract, StorageContract

__all__ = [
    "AsyncAuthContract",
    "AsyncSessionContract",
    "AsyncStorageContract",
    "AuthContract",
    "NetworkContract",
    "SessionContract",
    "StorageContract",
]
