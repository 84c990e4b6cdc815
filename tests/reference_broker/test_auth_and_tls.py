"""The broker with a user's own ``async def`` auth provider and TLS listeners: refused
credentials, subscriptions refused per filter, publications refused, and the client
certificate reaching the provider."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from paho.mqtt.enums import MQTTProtocolVersion

from mqtt_common.src.auth import Action, AsyncAuthInterface, AuthCredentials, FileAuth
from mqtt_common.utils.topic import topic_matches

from .support import (
    V5,
    V311,
    Client,
    TlsOptions,
    broker_in_thread,
    clients,
    default_broker,
    make_certificates,
    wait_for,
)


class TeamAuth(AsyncAuthInterface):
    """Alice with her password and her own topics; everyone's credentials recorded."""

    def __init__(self) -> None:
        self.seen: list[AuthCredentials] = []

    async def authenticate(self, credentials: AuthCredentials) -> bool:
        await asyncio.sleep(0)  # as a provider asking a remote service would
        self.seen.append(credentials)
        if credentials.certificate is not None and credentials.username is None:
            return True  # identified by its certificate
        return credentials.username == "alice" and credentials.password == b"s3cret"

    async def authorize(self, credentials: AuthCredentials, topic: str, action: Action) -> bool:
        await asyncio.sleep(0)
        if credentials.username != "alice":
            return action is not Action.PUBLISH
        if action is Action.SUBSCRIBE:  # a filter: within alice/
            return topic.startswith("alice/")
        return topic_matches("alice/#", topic)


@pytest.fixture
def auth_broker() -> Iterator[tuple[int, TeamAuth]]:
    auth = TeamAuth()
    broker = default_broker(allow_anonymous=False)
    broker.auth = auth
    with broker_in_thread(broker) as listener:
        yield listener.port, auth


def refused_code(port: int, protocol: MQTTProtocolVersion, password: str) -> int:
    client = Client(port, "x", protocol, username="alice", password=password, connect=False)
    with contextlib.suppress(AssertionError):
        client.connect()
    assert client.connack is not None
    return int(client.connack[1].value)


def test_wrong_credentials_are_refused(auth_broker: tuple[int, TeamAuth]) -> None:
    port, _ = auth_broker
    assert refused_code(port, V5, "wrong") == 0x86  # Bad user name or password
    # paho reports 3.1.1's return code 4 as the 5.0 code of the same meaning.
    assert refused_code(port, V311, "wrong") == 0x86
    assert refused_code(port, V5, "s3cret") == 0


@pytest.mark.parametrize(("protocol", "refused"), [(V5, 0x87), (V311, 0x80)], ids=["5.0", "3.1.1"])
def test_subscriptions_refused_per_filter(
    auth_broker: tuple[int, TeamAuth], protocol: MQTTProtocolVersion, refused: int
) -> None:
    port, _ = auth_broker
    with clients(Client(port, "alice-1", protocol, username="alice", password="s3cret")) as (
        alice,
    ):
        codes = alice.subscribe("alice/#", qos=1)
        assert codes == [1]
        _result, mid = alice.paho.subscribe([("alice/x", 1), ("bob/x", 1)])
        assert mid is not None
        wait_for(lambda: mid in alice.subacks)
        assert alice.subacks[mid] == [1, refused]


def test_publications_refused_are_not_delivered(auth_broker: tuple[int, TeamAuth]) -> None:
    port, _ = auth_broker
    with clients(
        Client(port, "alice-2", username="alice", password="s3cret"),
        Client(port, "alice-3", username="alice", password="s3cret"),
    ) as (alice, watcher):
        watcher.subscribe("alice/#", qos=1)
        info = alice.paho.publish("elsewhere/x", b"no", qos=1)
        info.wait_for_publish(10)
        alice.publish("alice/x", b"yes", qos=1)
        wait_for(lambda: watcher.payloads() == [b"yes"])
        time.sleep(0.2)
        assert watcher.payloads() == [b"yes"]


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, by openssl."""
    return make_certificates(tmp_path_factory.mktemp("tls"))


def refused_without_certificate(port: int, ca: Path) -> bool:
    """Whether a TLS client without a certificate is turned away (TLS 1.3 reports it on
    the first read after the handshake)."""
    context = ssl.create_default_context(cafile=str(ca))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        try:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(b"\x10\x0f\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x02c1")
                return tls.recv(1) == b""
        except (ssl.SSLError, ConnectionResetError):
            return True


@pytest.mark.parametrize("require", [False, True], ids=["optional", "required"])
def test_tls_with_client_certificates(certificates: Path, require: bool) -> None:
    auth = TeamAuth()
    broker = default_broker(allow_anonymous=False)
    broker.auth = auth
    tls = TlsOptions(
        str(certificates / "server.pem"),
        str(certificates / "server.key"),
        str(certificates / "ca.pem"),
        require_certificate=require,
    )
    with broker_in_thread(broker, tls) as listener:
        client_tls = {
            "ca_certs": str(certificates / "ca.pem"),
            "certfile": str(certificates / "client.pem"),
            "keyfile": str(certificates / "client.key"),
        }
        with clients(Client(listener.port, "cert-1", tls=client_tls)) as (client,):
            assert client.connack is not None
            assert int(client.connack[1].value) == 0
        pem = (certificates / "client.pem").read_text()
        assert auth.seen[-1].certificate == ssl.PEM_cert_to_DER_cert(pem)
        without = {"ca_certs": str(certificates / "ca.pem")}
        if require:
            assert refused_without_certificate(listener.port, certificates / "ca.pem")
        else:
            with clients(
                Client(listener.port, "no-cert", tls=without, username="alice", password="s3cret")
            ) as (plain,):
                assert plain.connack is not None
                assert int(plain.connack[1].value) == 0


def test_the_certificate_names_the_user_for_the_acl(certificates: Path, tmp_path: Path) -> None:
    acl = tmp_path / "acl"
    acl.write_text("user sensor-7\ntopic readwrite sensors/7/#\n")
    broker = default_broker(allow_anonymous=False)
    broker.auth = AsyncAuthInterface.adapt(FileAuth(acl_file=acl, use_certificate="common_name"))
    tls = TlsOptions(
        str(certificates / "server.pem"),
        str(certificates / "server.key"),
        str(certificates / "ca.pem"),
        require_certificate=True,
    )
    with broker_in_thread(broker, tls) as listener:
        client_tls = {
            "ca_certs": str(certificates / "ca.pem"),
            "certfile": str(certificates / "client.pem"),
            "keyfile": str(certificates / "client.key"),
        }
        # The user name sent is not the one that counts: the certificate's CN is.
        sensor = Client(listener.port, "s7", tls=client_tls, username="admin", password="x")
        with clients(sensor):
            assert sensor.connack is not None
            assert int(sensor.connack[1].value) == 0
            sensor.subscribe("sensors/#", qos=1)
            sensor.publish("sensors/7/temp", b"21", qos=1)
            sensor.publish("sensors/8/temp", b"refused", qos=1)
            sensor.wait_messages(1)
            time.sleep(0.2)
            assert sensor.payloads() == [b"21"]
