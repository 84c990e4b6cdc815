"""The auth contract kit against a pure-Python provider, and broken ones."""

import pytest

from mqtt_common.src.auth import Action, AuthCredentials, AuthInterface
from mqtt_common.testing import AuthContract
from mqtt_common.utils.topic import topic_matches

ALICE = AuthCredentials("alice-phone", username="alice", password=b"s3cret")


class AclAuth(AuthInterface):
    """Passwords and per-user topic patterns, where '%u' stands for the user name."""

    def __init__(self) -> None:
        self.passwords = {"alice": b"s3cret"}
        self.patterns = ["users/%u/#"]

    def authenticate(self, credentials: AuthCredentials) -> bool:
        expected = self.passwords.get(credentials.username or "")
        return expected is not None and expected == credentials.password

    def authorize(self, credentials: AuthCredentials, topic: str, action: Action) -> bool:
        user = credentials.username or ""
        if not user or "+" in user or "#" in user:  # never substitute wildcards
            return False
        return any(topic_matches(p.replace("%u", user), topic) for p in self.patterns)


class TestAclAuth(AuthContract):
    def make_auth(self) -> AuthInterface:
        return AclAuth()

    def accepted_credentials(self) -> AuthCredentials:
        return ALICE

    def rejected_credentials(self) -> AuthCredentials:
        return AuthCredentials("x", username="alice", password=b"wrong")

    def allowed(self) -> tuple[AuthCredentials, str, Action]:
        return ALICE, "users/alice/inbox", Action.PUBLISH

    def denied(self) -> tuple[AuthCredentials, str, Action]:
        return ALICE, "users/bob/inbox", Action.PUBLISH


class SubstitutesWildcards(AclAuth):
    """Broken: substitutes a user name of '#' into 'users/%u/#' (CVE-2017-7650)."""

    def authorize(self, credentials: AuthCredentials, topic: str, action: Action) -> bool:
        user = credentials.username or ""
        return any(topic_matches(p.replace("%u", user), topic) for p in self.patterns)


class ReturnsInts(AclAuth):
    """Broken: returns 1 and 0 instead of bools."""

    def authenticate(self, credentials: AuthCredentials) -> bool:
        return int(super().authenticate(credentials))  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("broken", "failing_test"),
    [
        (SubstitutesWildcards, "test_wildcards_in_identity_grant_nothing"),
        (ReturnsInts, "test_authenticate"),
    ],
    ids=lambda x: getattr(x, "__name__", x),
)
def test_the_kit_fails_broken_providers(broken: type[AclAuth], failing_test: str) -> None:
    class Kit(TestAclAuth):
        def make_auth(self) -> AuthInterface:
            return broken()

    with pytest.raises(AssertionError):
        getattr(Kit(), failing_test)()
