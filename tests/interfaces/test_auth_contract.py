"""The auth contract kit against a pure-Python provider, and broken ones."""

import pytest

from mqtt_common.src.auth import Action, AuthCredentials, AuthInterface
from mqtt_common.testing import AuthContract
from mqtt_common.utils.topic import topic_matches

ALICE = AuthCredentials("alice-phone", username="alice", password=b"s3cret")


class AclAuth(AuthInterface):
    """Passwords and per-user topic patterns, where '%u' stands for the user name."""

    def __init__(self, passwords: dict[str, bytes], patterns: list[str]) -> None:
        self.passwords = passwords
        self.patterns = patterns

    def authenticate(self, credentials: AuthCredentials) -> bool:
        expected = self.passwords.get(credentials.username or "")
        return expected is not None and expected == credentials.password

    def authorize(self, credentials: AuthCredentials, topic: str, action: Action) -> bool:
        user = credentials.username or ""
        if not user or "+" in user or "#" in user:  # never substitute wildcards
            return False
        return any(topic_matches(p.replace("%u", user), topic) for p in self.patterns)


def alice_only() -> AclAuth:
    """Alice, with her password and her own topics."""
    return AclAuth({"alice": b"s3cret"}, ["users/%u/#"])


class TestAclAuth(AuthContract):
    def make_auth(self) -> AuthInterface:
        return alice_only()

    def make_unconfigured_auth(self) -> AuthInterface:
        return AclAuth({}, [])

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


class EmptyAclAllowsAll(AclAuth):
    """Broken: no patterns at all is read as "allow everything" (CVE-2018-12550)."""

    def authorize(self, credentials: AuthCredentials, topic: str, action: Action) -> bool:
        return not self.patterns or super().authorize(credentials, topic, action)


class UnreadableLineIsAUser(AclAuth):
    """Broken: a password line without a password made a user who needs none
    (CVE-2018-12551)."""

    def __init__(self, passwords: dict[str, bytes], patterns: list[str]) -> None:
        super().__init__(passwords, patterns)
        self.without_password = set(passwords)

    def authenticate(self, credentials: AuthCredentials) -> bool:
        if credentials.username in self.without_password and not credentials.password:
            return True
        return super().authenticate(credentials)


class ReturnsInts(AclAuth):
    """Broken: returns 1 and 0 instead of bools."""

    def authenticate(self, credentials: AuthCredentials) -> bool:
        return int(super().authenticate(credentials))  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("broken", "failing_test"),
    [
        (SubstitutesWildcards, "test_cve_2017_7650_wildcards_in_identity_grant_nothing"),
        (EmptyAclAllowsAll, "test_cve_2018_12550_nothing_configured_allows_nothing"),
        (UnreadableLineIsAUser, "test_cve_2018_12551_a_missing_password_is_not_a_password"),
        (ReturnsInts, "test_authenticate"),
    ],
    ids=lambda x: getattr(x, "__name__", x),
)
def test_the_kit_fails_broken_providers(broken: type[AclAuth], failing_test: str) -> None:
    class Kit(TestAclAuth):
        def make_auth(self) -> AuthInterface:
            return broken({"alice": b"s3cret"}, ["users/%u/#"])

        def make_unconfigured_auth(self) -> AuthInterface:
            return broken({}, [])

    with pytest.raises(AssertionError):
        getattr(Kit(), failing_test)()
