"""The reference broker on several listeners at once (``--port``, ``--tls-port``,
``--websockets-port``): paho over WebSockets (plain and over TLS) and mosquitto's
clients over TCP and TLS exchange messages through one broker; what a WebSocket
client gets wrong is refused as RFC 6455 says; ``--max-packet-size`` holds over
WebSockets as over TCP (``test_limits``)."""

from __future__ import annotations

import base64
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest

from .support import (
    TIMEOUT,
    V5,
    V311,
    BrokerProcess,
    Client,
    broker_process,
    clients,
    make_certificates,
    wait_for,
)
from .test_limits import check_large_publish


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_certificates(tmp_path_factory.mktemp("tls"))


def ports(broker: BrokerProcess) -> dict[str, int]:
    """The broker's ports by what they serve ("", "TLS", "WebSockets", ...)."""
    args = [str(a) for a in broker.process.args]  # type: ignore[union-attr]
    wanted = 1 + sum(o in args for o in ("--tls-port", "--websockets-port"))
    found: dict[str, int] = {}

    def listed() -> bool:
        for line in list(broker.lines):
            match = re.search(r"listening on 127\.0\.0\.1:(\d+)(?: \((.*)\))?", line)
            if match:
                found[match.group(2) or ""] = int(match.group(1))
        return len(found) >= wanted

    wait_for(listed)
    return found


def mosquitto(tool: str, port: int, *args: str, ca: Path | None = None) -> list[str]:
    command = [tool, "-h", "127.0.0.1", "-p", str(port), *args]
    if ca is not None:
        command += ["--cafile", str(ca)]
    return command


def test_websocket_tcp_and_tls_clients_share_one_broker(certificates: Path) -> None:
    tls = ["--tls-cert", str(certificates / "server.pem")]
    tls += ["--tls-key", str(certificates / "server.key")]
    options = ["--tls-port", "0", "--websockets-port", "0", *tls]
    with broker_process(*options) as broker:
        port = ports(broker)
        assert set(port) == {"", "TLS", "WebSockets, TLS"}
        ca = certificates / "ca.pem"
        web = Client(
            port["WebSockets, TLS"],
            "web-5",
            V5,
            transport="websockets",
            tls={"ca_certs": str(ca)},
        )
        with clients(web):
            assert web.subscribe("mixed/#", qos=1) == [1]
            # mosquitto_sub over TLS, waiting for two messages.
            listener = subprocess.Popen(
                mosquitto("mosquitto_sub", port["TLS"], "-t", "mixed/#", "-C", "2", ca=ca),
                stdout=subprocess.PIPE,
                text=True,
            )
            try:
                time.sleep(0.5)  # its SUBSCRIBE first
                subprocess.run(
                    mosquitto("mosquitto_pub", port[""], "-t", "mixed/tcp", "-m", "from tcp"),
                    check=True,
                    timeout=TIMEOUT,
                )
                web.publish("mixed/web", b"from websockets", qos=1)
                out, _ = listener.communicate(timeout=TIMEOUT)
            finally:
                listener.kill()
            assert sorted(out.split("\n")[:2]) == ["from tcp", "from websockets"]
            wait_for(lambda: len(web.payloads()) >= 2)
            assert sorted(web.payloads()) == [b"from tcp", b"from websockets"]


def test_plain_websockets_for_3_1_1_and_5_0() -> None:
    with broker_process("--websockets-port", "0") as broker:
        port = ports(broker)
        sub = Client(port["WebSockets"], "ws-311", V311, transport="websockets")
        pub = Client(port["WebSockets"], "ws-5", V5, transport="websockets")
        with clients(sub, pub):
            assert sub.subscribe("ws/+", qos=2) == [2]
            for qos in range(3):
                pub.publish("ws/x", f"q{qos}".encode(), qos=qos)
            sub.wait_messages(3)
            assert sorted(sub.payloads()) == [b"q0", b"q1", b"q2"]
            # A 100 KiB message spans many frames and reads.
            big = os.urandom(100 * 1024)
            pub.publish("ws/big", big, qos=1)
            wait_for(lambda: big in sub.payloads())
        assert "Traceback" not in broker.output()


def upgrade(port: int, path: str, protocol: str | None) -> bytes:
    """Send a WebSocket upgrade request; return the first line of the answer."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    if protocol is not None:
        lines.append(f"Sec-WebSocket-Protocol: {protocol}")
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
        return answer.split(b"\r\n", 1)[0]


def test_a_websocket_client_that_gets_it_wrong_is_refused() -> None:
    with broker_process("--websockets-port", "0") as broker:
        port = ports(broker)["WebSockets"]
        assert upgrade(port, "/mqtt", "mqtt").startswith(b"HTTP/1.1 101")
        assert upgrade(port, "/other", "mqtt").startswith(b"HTTP/1.1 404")
        assert upgrade(port, "/mqtt", None).startswith(b"HTTP/1.1 400")
        assert upgrade(port, "/mqtt", "chat").startswith(b"HTTP/1.1 400")
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
            sock.sendall(b"not http at all\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 400")
        # The broker goes on.
        client = Client(port, "after", V5, transport="websockets")
        with clients(client):
            assert client.subscribe("a", qos=0) == [0]
        output = broker.output()
        assert "asked for /other: only /mqtt is served" in output
        assert "offered no 'mqtt' subprotocol" in output
        assert "Traceback" not in output


@pytest.mark.parametrize("limit", [None, 2 << 20], ids=["default", "2MiB"])
def test_max_packet_size_over_websockets(limit: int | None) -> None:
    options = ["--websockets-port", "0"]
    if limit is not None:
        options += ["--max-packet-size", str(limit)]
    with broker_process(*options) as broker:
        port = ports(broker)["WebSockets"]
        check_large_publish(port, allowed=limit is not None, transport="websockets")
