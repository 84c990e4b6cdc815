"""TLS on the tokio broker (rustls): paho clients over TLS, with and without client
certificates, and a client without one turned away when one is required."""

from __future__ import annotations

from pathlib import Path

import pytest

from .support import V5, V311, Client, broker_process, clients, tokio_broker
from .test_auth_and_tls import certificates, refused_without_certificate

pytestmark = pytest.mark.usefixtures("tokio_broker")
_ = (tokio_broker, certificates)  # the fixtures, imported for the tests below


@pytest.mark.parametrize("protocol", [V311, V5], ids=["3.1.1", "5.0"])
def test_messages_over_tls(certificates: Path, protocol: object) -> None:
    options = ["--tls-cert", str(certificates / "server.pem")]
    options += ["--tls-key", str(certificates / "server.key")]
    with broker_process(*options) as broker:
        trusted = {"ca_certs": str(certificates / "ca.pem")}
        subscriber = Client(broker.port, "tls-sub", protocol, tls=trusted)  # type: ignore[arg-type]
        publisher = Client(broker.port, "tls-pub", protocol, tls=trusted)  # type: ignore[arg-type]
        with clients(subscriber, publisher):
            subscriber.subscribe("tls/#", qos=1)
            for qos in (0, 1, 2):
                publisher.publish("tls/t", f"qos {qos}".encode(), qos=qos)
            subscriber.wait_messages(3)
            assert sorted(subscriber.payloads()) == [b"qos 0", b"qos 1", b"qos 2"]


@pytest.mark.parametrize("require", [False, True], ids=["optional", "required"])
def test_client_certificates(certificates: Path, require: bool) -> None:
    options = ["--tls-cert", str(certificates / "server.pem")]
    options += ["--tls-key", str(certificates / "server.key")]
    options += ["--tls-ca", str(certificates / "ca.pem")]
    options += ["--require-certificate"] if require else []
    with broker_process(*options) as broker:
        with_certificate = {
            "ca_certs": str(certificates / "ca.pem"),
            "certfile": str(certificates / "client.pem"),
            "keyfile": str(certificates / "client.key"),
        }
        with clients(Client(broker.port, "cert-1", tls=with_certificate)) as (client,):
            assert client.connack is not None
            assert int(client.connack[1].value) == 0
        if require:
            assert refused_without_certificate(broker.port, certificates / "ca.pem")
        else:
            without = {"ca_certs": str(certificates / "ca.pem")}
            with clients(Client(broker.port, "no-cert", tls=without)) as (plain,):
                assert plain.connack is not None
                assert int(plain.connack[1].value) == 0
