"""Client-certificate identities (checked against OpenSSL's own printing, which is what
mosquitto uses) and chains of providers."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mqtt_common.models import AuthenticationError, ValidationError
from mqtt_common.src.auth import (
    Action,
    AuthChain,
    AuthCredentials,
    AuthInterface,
    FileAuth,
    certificate_username,
    hash_password,
)

SUBJECTS = [
    "/CN=sensor-7",
    "/C=GB/O=Example Ltd/OU=Field, North/CN=sensor-8",
    '/CN=with+plus/O=a;b<c>d"e\\f',
    "/CN= padded /O=#hash",
    "/DC=org/DC=example/UID=u42/CN=Jürgen Müller/emailAddress=j@example.org",
    "/CN=first/CN=second",
    "/O=no common name",
]


def make_certificate(directory: Path, name: str, subject: str) -> Path:
    """A self-signed certificate with this subject, by openssl."""
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"),
            *("-nodes", "-days", "2", "-keyout", f"{name}.key", "-out", f"{name}.pem"),
            *("-subj", subject, "-utf8"),
        ],
        cwd=directory,
        check=True,
        capture_output=True,
    )
    return directory / f"{name}.pem"


def openssl_subject(path: Path) -> str:
    """The subject as OpenSSL prints it in RFC 2253 form, as mosquitto takes it."""
    printed = subprocess.run(
        ["openssl", "x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.rstrip("\n")
    return printed.removeprefix("subject=")


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    directory = tmp_path_factory.mktemp("certificates")
    return [make_certificate(directory, f"c{i}", s) for i, s in enumerate(SUBJECTS)]


@pytest.mark.parametrize("index", range(len(SUBJECTS)), ids=SUBJECTS)
def test_the_subject_is_openssls_rfc2253_form(certificates: list[Path], index: int) -> None:
    pem = certificates[index].read_bytes()
    expected = openssl_subject(certificates[index])
    assert certificate_username(pem, "subject") == expected
    der = subprocess.run(
        ["openssl", "x509", "-outform", "DER", "-in", str(certificates[index])],
        check=True,
        capture_output=True,
    ).stdout
    assert certificate_username(der, "subject") == expected


def test_the_common_name_is_the_first_one(certificates: list[Path]) -> None:
    names = [c.read_bytes() for c in certificates]
    assert certificate_username(names[0]) == "sensor-7"
    assert certificate_username(names[1]) == "sensor-8"
    assert certificate_username(names[4]) == "Jürgen Müller"
    assert certificate_username(names[5]) == "first"
    with pytest.raises(AuthenticationError, match="no Common Name"):
        certificate_username(names[6])
    with pytest.raises(AuthenticationError, match="not a certificate"):
        certificate_username(b"garbage")
    with pytest.raises(AuthenticationError, match="not a certificate"):
        certificate_username(b"-----BEGIN CERTIFICATE-----\nnot base64\n")
    with pytest.raises(ValidationError, match="identity"):
        certificate_username(names[0], "serial")  # type: ignore[arg-type]


def test_file_auth_takes_the_name_from_the_certificate(
    certificates: list[Path], tmp_path: Path
) -> None:
    acl = tmp_path / "acl"
    acl.write_text("user sensor-7\ntopic write sensors/7/#\n")
    auth = FileAuth(acl_file=acl, use_certificate="common_name")
    assert auth.use_certificate == "common_name"
    sensor = AuthCredentials("c", certificate=certificates[0].read_bytes())
    assert auth.authenticate(sensor) is True
    assert auth.authenticate(AuthCredentials("c", username="sensor-7")) is False
    assert (
        auth.authenticate(AuthCredentials("c", certificate=certificates[6].read_bytes())) is False
    )
    # The certificate's name decides, whatever user name the client sent.
    claimed = sensor.replace(username="someone-else")
    assert auth.authorize(claimed, "sensors/7/temp", Action.PUBLISH) is True
    assert auth.authorize(claimed, "sensors/8/temp", Action.PUBLISH) is False


class Static(AuthInterface):
    """A provider that knows one user and answers fixed things."""

    def __init__(self, user: str, accept: bool, allow: bool) -> None:
        self.user, self.accept, self.allow = user, accept, allow

    def authenticate(self, credentials: AuthCredentials) -> bool:
        return self.accept

    def authorize(self, credentials: AuthCredentials, topic: str, action: Action) -> bool:
        return self.allow

    def knows(self, credentials: AuthCredentials) -> bool:
        return credentials.username == self.user


def test_a_chain_asks_the_first_provider_that_knows_the_client(tmp_path: Path) -> None:
    passwd = tmp_path / "passwd"
    passwd.write_text(f"alice:{hash_password('s3cret')}\n")
    chain = AuthChain([FileAuth(passwd), Static("bob", accept=True, allow=False)])
    alice = AuthCredentials("a", username="alice", password=b"s3cret")
    bob = AuthCredentials("b", username="bob")
    assert chain.rule == "first"
    assert chain.authenticate(alice) is True
    assert chain.authenticate(alice.replace(password=b"x")) is False  # no fall-through
    assert chain.authenticate(bob) is True
    assert chain.authorize(bob, "t", Action.PUBLISH) is False
    assert chain.authorize(alice, "t", Action.PUBLISH) is True
    assert chain.authenticate(AuthCredentials("c", username="carol")) is False
    assert chain.knows(bob) is True
    assert len(chain.providers) == 2


def test_a_chain_where_all_must_agree() -> None:
    both = AuthChain(
        [Static("u", accept=True, allow=True), Static("u", accept=True, allow=False)],
        rule="all",
    )
    user = AuthCredentials("c", username="u")
    assert both.authenticate(user) is True
    assert both.authorize(user, "t", Action.RECEIVE) is False
    assert AuthChain([], rule="all").authenticate(user) is False
    with pytest.raises(TypeError, match="AuthInterface"):
        AuthChain([object()])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="rule"):
        AuthChain([], rule="any")  # type: ignore[arg-type]
