"""The synchronous interfaces refuse ``async def`` methods when the class is created.

A coroutine is truthy: an ``async def authenticate`` called as ``if auth.authenticate(c):``
would let everyone in. And only ``True`` grants.
"""

from typing import Any

import pytest

from mqtt_common.src.auth import Action, AuthCredentials, AuthInterface
from mqtt_common.src.network import NetworkInterface
from mqtt_common.src.session import SessionInterface
from mqtt_common.src.storage import StorageInterface

# (interface, one of its methods)
CASES = [
    (AuthInterface, "authenticate"),
    (AuthInterface, "authorize"),
    (StorageInterface, "get_retained"),
    (StorageInterface, "close"),
    (SessionInterface, "create_session"),
    (SessionInterface, "clear_will"),
    (NetworkInterface, "send"),
    (NetworkInterface, "deliver"),  # a helper of the Rust base, overridden
]


@pytest.mark.parametrize(
    ("interface", "method"), CASES, ids=[f"{i.__name__}.{m}" for i, m in CASES]
)
def test_an_async_method_fails_at_class_creation(interface: type, method: str) -> None:
    async def coroutine(self: Any, *args: Any) -> Any:
        return True

    with pytest.raises(TypeError, match=rf"Broken\.{method} is an async def"):
        type("Broken", (interface,), {method: coroutine})


def test_an_async_generator_is_refused_too() -> None:
    async def generator(self: Any, topic_filter: str) -> Any:
        yield None

    with pytest.raises(TypeError, match="async def"):
        type("Broken", (StorageInterface,), {"get_retained": generator})


def test_async_helpers_that_are_not_interface_methods_are_left_alone() -> None:
    class Auth(AuthInterface):
        def authenticate(self, credentials: AuthCredentials) -> bool:
            return True

        def authorize(self, credentials: AuthCredentials, topic: str, action: Action) -> bool:
            return True

        async def warm_up(self) -> None:
            """An extra method of this implementation, not of the interface."""

    assert Auth().authenticate(AuthCredentials("c")) is True


def test_only_true_grants() -> None:
    class Sloppy(AuthInterface):
        def authenticate(self, credentials: AuthCredentials) -> bool:
            return "yes"  # type: ignore[return-value]

        def authorize(self, credentials: AuthCredentials, topic: str, action: Action) -> bool:
            return 1  # type: ignore[return-value]

    sloppy = Sloppy()
    assert sloppy.authenticate(AuthCredentials("c")) is False
    assert sloppy.authorize(AuthCredentials("c"), "t", Action.PUBLISH) is False
    assert Sloppy.authenticate.__name__ == "authenticate"  # still looks like itself
