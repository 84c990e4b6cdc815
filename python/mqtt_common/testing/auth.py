"""The contract of ``AuthInterface``."""

from __future__ import annotations

import abc

from mqtt_common.src.auth import Action, AuthCredentials, AuthInterface


class AuthContract(abc.ABC):
    """What every ``AuthInterface`` promises.

    Subclass as ``Test*`` and implement the factory and the examples of your policy; the
    suite checks them and the rules that hold for any policy.
    """

    @abc.abstractmethod
    def make_auth(self) -> AuthInterface:
        """Return the provider to test."""

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

    def test_wildcards_in_identity_grant_nothing(self) -> None:
        """A client id or user name of '+' or '#' widens no pattern (CVE-2017-7650)."""
        auth = self.make_auth()
        credentials, topic, action = self.denied()
        for client_id, username in [("c", "+"), ("#", credentials.username), ("+", "#")]:
            wild = AuthCredentials(client_id, username=username, password=credentials.password)
            assert auth.authorize(wild, topic, action) is False

    def test_decisions_are_stable(self) -> None:
        """Asking twice gives the same answer."""
        auth = self.make_auth()
        assert auth.authorize(*self.allowed()) is auth.authorize(*self.allowed())
        assert auth.authenticate(self.accepted_credentials()) is True
