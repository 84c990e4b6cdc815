"""ABC enforcement over Rust base classes (a PyO3 internal, so keep this regression test)."""

import pytest

from mqtt_common.src.auth import Action, AuthCredentials, AuthInterface
from mqtt_common.src.storage import MemoryStorage, StorageInterface


@pytest.mark.parametrize("interface", [AuthInterface, StorageInterface], ids=lambda c: c.__name__)
def test_incomplete_subclass_cannot_be_instantiated(interface: type) -> None:
    incomplete = type("Incomplete", (interface,), {})
    with pytest.raises(TypeError, match="abstract"):
        incomplete()


def test_complete_subclass_with_its_own_init() -> None:
    class Policy(AuthInterface):
        def __init__(self, users: dict[str, bytes], *, strict: bool = True) -> None:
            self.users = users
            self.strict = strict

        def authenticate(self, credentials: AuthCredentials) -> bool:
            return self.users.get(credentials.username or "") == credentials.password

        def authorize(self, credentials: AuthCredentials, topic: str, action: Action) -> bool:
            return not self.strict

    policy = Policy({"alice": b"pw"}, strict=False)
    assert policy.users == {"alice": b"pw"}
    assert policy.authenticate(AuthCredentials("c", username="alice", password=b"pw"))
    assert policy.authorize(AuthCredentials("c"), "t", Action.PUBLISH)
    assert isinstance(policy, AuthInterface)


def test_memory_storage_is_a_storage_interface() -> None:
    storage = MemoryStorage()
    assert isinstance(storage, StorageInterface)
    assert issubclass(MemoryStorage, StorageInterface)
    assert not MemoryStorage.__abstractmethods__


def test_credentials_hide_the_password() -> None:
    credentials = AuthCredentials("c1", username="alice", password=b"hunter2", peer="1.2.3.4")
    assert "hunter2" not in repr(credentials)
    assert credentials.password == b"hunter2"
    assert credentials == AuthCredentials("c1", "alice", b"hunter2", None, "1.2.3.4")
    assert hash(credentials) == hash(AuthCredentials("c1", "alice", b"hunter2", None, "1.2.3.4"))


def test_actions_are_int_enums() -> None:
    assert [(a.name, a.value) for a in Action] == [
        ("PUBLISH", 1),
        ("SUBSCRIBE", 2),
        ("RECEIVE", 3),
    ]
