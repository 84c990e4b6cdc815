"""The contract of ``AuthInterface``."""

from __future__ import annotations

import abc

from mqtt_common.src.auth import Action, AsyncAuthInterface, AuthCredentials, AuthInterface
from mqtt_common.testing._blocking import blocking_view


class AuthContract(abc.ABC):
    """What every ``AuthInterface`` promises.

    Subclass as ``Test*`` and implement the factory and the examples of your policy; the
    suite checks them and the rules that hold for any policy.
    """

    @abc.abstractmethod
    def make_auth(self) -> AuthInterface:
        """Return the provider to test."""

    @abc.abstractmethod
    def make_unconfigured_auth(self) -> AuthInterface:
        """Return the provider with nothing configured: no users and no rules.

        For a file-based provider: an empty password file and an empty ACL.
        """

    @abc.abstractmethod
    def accepted_credentials(self) -> AuthCredentials:
        """Return credentials the provider accepts."""

    @abc.abstractmethod
    def rejected_credentials(self) -> AuthCredentials:
        """Return credentials the provider rejects."""

    @abc.abstractmethod
    def allowed(self) -> tuple[AuthCredentials, str, Action]:
        """Return a (credentials, topic, action) the provider allows."""

    @abc.abstractmethod
    def denied(self) -> tuple[AuthCredentials, str, Action]:
        """Return a (credentials, topic, action) the provider denies."""

    def test_is_an_auth_interface(self) -> None:
        """The implementation derives from the ABC."""
        assert isinstance(self.make_auth(), AuthInterface)

    def test_authenticate(self) -> None:
        """Accepted credentials give True, rejected ones False: real bools."""
        auth = self.make_auth()
        assert auth.authenticate(self.accepted_credentials()) is True
        assert auth.authenticate(self.rejected_credentials()) is False

    def test_authorize(self) -> None:
        """The allowed example gives True and the denied one False: real bools."""
        auth = self.make_auth()
        assert auth.authorize(*self.allowed()) is True
        assert auth.authorize(*self.denied()) is False

    def test_cve_2017_7650_wildcards_in_identity_grant_nothing(self) -> None:
        """A client id or user name of '+' or '#' widens no pattern (CVE-2017-7650)."""
        auth = self.make_auth()
        credentials, topic, action = self.denied()
        for client_id, username in [("c", "+"), ("#", credentials.username), ("+", "#")]:
            wild = AuthCredentials(client_id, username=username, password=credentials.password)
            assert auth.authorize(wild, topic, action) is False

    def test_cve_2018_12550_nothing_configured_allows_nothing(self) -> None:
        """With nothing configured, every login and topic is refused (CVE-2018-12550).

        An empty ACL never means "allow all".
        """
        auth = self.make_unconfigured_auth()
        assert auth.authenticate(self.accepted_credentials()) is False
        assert auth.authenticate(AuthCredentials("anyone")) is False
        assert auth.authorize(*self.allowed()) is False

    def test_cve_2018_12551_a_missing_password_is_not_a_password(self) -> None:
        """A known user without a password, or an empty one, is refused (CVE-2018-12551).

        An entry the provider could not read must never become a user who needs none. A
        provider whose accepted credentials carry no password has none to lose, and
        only the other checks of this kit apply to it.
        """
        auth = self.make_auth()
        accepted = self.accepted_credentials()
        if accepted.password is None:
            return
        for password in (None, b""):
            bare = AuthCredentials(
                accepted.client_id, username=accepted.username, password=password
            )
            assert auth.authenticate(bare) is False

    def test_decisions_are_stable(self) -> None:
        """Asking twice gives the same answer."""
        auth = self.make_auth()
        assert auth.authorize(*self.allowed()) is auth.authorize(*self.allowed())
        assert auth.authenticate(self.accepted_credentials()) is True


class AsyncAuthContract(AuthContract):
    """What every ``AsyncAuthInterface`` promises.

    The same as the synchronous family's, each call awaited.

    Subclass as ``Test*`` and implement the two async factories and the examples.
    """

    @abc.abstractmethod
    def make_async_auth(self) -> AsyncAuthInterface:
        """Return the asynchronous provider to test."""

    @abc.abstractmethod
    def make_unconfigured_async_auth(self) -> AsyncAuthInterface:
        """Return the asynchronous provider with nothing configured."""

    def make_auth(self) -> AuthInterface:
        """Return the asynchronous provider behind a synchronous view, for the suite."""
        return blocking_view(self.make_async_auth(), AuthInterface)

    def make_unconfigured_auth(self) -> AuthInterface:
        """Return the unconfigured asynchronous provider behind a synchronous view."""
        return blocking_view(self.make_unconfigured_async_auth(), AuthInterface)

    def test_is_an_auth_interface(self) -> None:
        """The implementation derives from the asynchronous ABC."""
        assert isinstance(self.make_async_auth(), AsyncAuthInterface)
