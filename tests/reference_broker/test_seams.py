"""Trust where the broker's parts meet, as real clients and operators see it: secure
defaults, one identity per session, a session's owner remembered while it is away, the
queue-full policy, the protocol seams peers' suites found, and startup mistakes and
refusals an operator can act on."""

from __future__ import annotations

import contextlib
import logging
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from paho.mqtt.enums import MQTTProtocolVersion

from mqtt_common.src.auth import Action, AsyncAuthInterface, AuthCredentials, hash_password

from .support import (
    EXAMPLES,
    V5,
    V311,
    BrokerProcess,
    Client,
    broker_in_thread,
    broker_process,
    clients,
    default_broker,
    wait_for,
)

SESSION = {"SessionExpiryInterval": 300}
MOSQUITTO_PUB = "mosquitto_pub"


def connack_code(
    port: int,
    username: str | None = None,
    password: str | None = None,
    protocol: MQTTProtocolVersion = V5,
) -> int:
    """Connect with paho and return the CONNACK's code (paho reports 3.1.1's as 5.0's)."""
    client = Client(port, "probe", protocol, username=username, password=password, connect=False)
    with contextlib.suppress(AssertionError):
        client.connect()
    assert client.connack is not None, "no CONNACK"
    code = int(client.connack[1].value)
    client.paho.disconnect()
    client.paho.loop_stop()
    return code


def mosquitto_pub(port: int, *options: str) -> subprocess.CompletedProcess[str]:
    """Run Debian's mosquitto_pub against the broker."""
    return subprocess.run(
        [MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", str(port), "-t", "t", "-m", "m", *options],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.fixture
def passwd(tmp_path: Path) -> Path:
    path = tmp_path / "passwd"
    path.write_text(
        f"alice:{hash_password('s3cret')}\nbob:{hash_password('b0b')}\n"
        f"writer:{hash_password('w')}\n"
    )
    return path


# ---- secure by default ----


def test_anonymous_clients_are_refused_beside_a_password_file(passwd: Path) -> None:
    with broker_process("--password-file", str(passwd)) as broker:
        assert connack_code(broker.port) == 0x87  # Not authorized
        assert connack_code(broker.port, protocol=V311) == 0x87  # return code 5
        # An empty user name is no user name, whatever the password.
        assert connack_code(broker.port, "", "s3cret") == 0x87
        assert connack_code(broker.port, "alice", "s3cret") == 0
        assert mosquitto_pub(broker.port).returncode != 0
        assert mosquitto_pub(broker.port, "-u", "alice", "-P", "s3cret").returncode == 0
        wait_for(lambda: "refused a client without an id (no user name" in broker.output())
    with broker_process("--password-file", str(passwd), "--allow-anonymous") as broker:
        assert connack_code(broker.port) == 0
        assert connack_code(broker.port, "", "anything") == 0
        assert connack_code(broker.port, "alice", "wrong") == 0x86


def test_an_acl_file_alone_refuses_anonymous_clients_too(tmp_path: Path) -> None:
    acl = tmp_path / "acl"
    acl.write_text("topic read #\n")
    with broker_process("--acl-file", str(acl)) as broker:
        assert connack_code(broker.port) == 0x87
        assert connack_code(broker.port, "anyone", "x") == 0  # no password file: as mosquitto
    with broker_process("--acl-file", str(acl), "--allow-anonymous") as broker:
        assert connack_code(broker.port) == 0


def test_without_an_auth_source_only_loopback_is_served() -> None:
    refused = subprocess.run(
        [sys.executable, str(EXAMPLES / "broker"), "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr.count("\n") == 1
    assert "--allow-anonymous" in refused.stderr
    # Told to, it serves every address (no traffic is sent: it is stopped at once).
    command = [sys.executable, str(EXAMPLES / "broker"), "--host", "0.0.0.0", "--port", "0"]
    started = subprocess.Popen(
        [*command, "--allow-anonymous"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert started.stdout is not None
        assert "listening on 0.0.0.0:" in started.stdout.readline()
    finally:
        started.send_signal(signal.SIGTERM)
        assert started.wait(timeout=10) == 0
        assert started.stdout is not None
        started.stdout.close()


def test_no_allow_anonymous_without_an_auth_source_refuses_anonymous_only() -> None:
    with broker_process("--no-allow-anonymous") as broker:
        assert connack_code(broker.port) == 0x87
        assert connack_code(broker.port, "someone", "x") == 0


# ---- one identity per session ----


def test_assigned_client_ids_never_reuse_a_stored_session(tmp_path: Path) -> None:
    with broker_process("--data-dir", str(tmp_path)) as broker:
        first = Client(broker.port, "", V5, clean_start=False, connect_properties=SESSION)
        assert first.connack is not None
        first_id = first.connack[2].AssignedClientIdentifier
        assert re.fullmatch(r"auto-[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}", first_id)
        first.subscribe("mine/#", qos=1)
        first.disconnect()
        with clients(Client(broker.port, "pub", V5)) as (pub,):
            pub.publish("mine/1", b"for the first client only", qos=1)
    with broker_process("--data-dir", str(tmp_path)) as broker:
        second = Client(broker.port, "", V5, clean_start=False, connect_properties=SESSION)
        with clients(second):
            assert second.connack is not None
            assert second.connack[2].AssignedClientIdentifier != first_id
            assert second.connack[0].session_present is False
            time.sleep(0.3)
            assert second.payloads() == []


# ---- a session remembers who owns it ----


def test_a_user_acl_session_gets_its_queue_while_away_and_after_a_restart(
    tmp_path: Path, passwd: Path
) -> None:
    acl = tmp_path / "acl"
    acl.write_text("user bob\ntopic read bob/#\nuser writer\ntopic write #\n")
    data = tmp_path / "data"
    options = ("--password-file", str(passwd), "--acl-file", str(acl), "--data-dir", str(data))

    def bob(port: int) -> Client:
        return Client(port, "bob-phone", V311, clean_start=False, username="bob", password="b0b")

    def write(port: int, payload: bytes) -> None:
        with clients(Client(port, "w", V5, username="writer", password="w")) as (writer,):
            assert writer.publish_code("bob/inbox", payload, 1) == 0

    with broker_process(*options) as broker:
        away = bob(broker.port)
        away.subscribe("bob/#", qos=1)
        away.disconnect()
        write(broker.port, b"while bob was away")
    with broker_process(*options) as broker:
        write(broker.port, b"after the restart")
        back = bob(broker.port)
        with clients(back):
            back.wait_messages(2)
            assert back.payloads() == [b"while bob was away", b"after the restart"]


# ---- queue overflow as documented ----


@pytest.mark.parametrize(
    ("policy", "kept"),
    [("drop-new", [b"m0", b"m1", b"m2"]), ("drop-oldest", [b"m2", b"m3", b"m4"])],
)
def test_a_full_offline_queue_drops_by_policy_and_says_so(policy: str, kept: list[bytes]) -> None:
    with broker_process("--max-queued", "3", "--queue-full", policy) as broker:
        away = Client(broker.port, "q-away", V5, clean_start=False, connect_properties=SESSION)
        away.subscribe("q/#", qos=1)
        away.disconnect()
        with clients(Client(broker.port, "q-pub", V5)) as (pub,):
            for n in range(5):
                pub.publish("q/x", f"m{n}".encode(), qos=1)
        back = Client(broker.port, "q-away", V5, clean_start=False, connect_properties=SESSION)
        with clients(back):
            back.wait_messages(3)
            time.sleep(0.2)
            assert back.payloads() == kept
        wait_for(lambda: "the offline queue of q-away is full (3 messages)" in broker.output())
        assert "WARNING" in broker.output()


# ---- protocol seams ----


def connect_v5(client_id: bytes, properties: bytes = b"") -> bytes:
    """A 5.0 CONNECT, clean start, keep alive 60."""
    body = (
        b"\x00\x04MQTT\x05\x02\x00\x3c"
        + bytes([len(properties)])
        + properties
        + len(client_id).to_bytes(2, "big")
        + client_id
    )
    return bytes([0x10, len(body)]) + body


def publish_v5(topic: bytes, packet_id: int, payload: bytes) -> bytes:
    """A 5.0 QoS 1 PUBLISH without properties."""
    body = len(topic).to_bytes(2, "big") + topic + packet_id.to_bytes(2, "big") + b"\x00" + payload
    return bytes([0x32, len(body)]) + body


def read_all(sock: socket.socket) -> bytes:
    """Read until the broker closes its side; a reset fails the test."""
    sock.settimeout(10)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_a_client_flooding_past_receive_maximum_reads_disconnect_0x93() -> None:
    with broker_process() as broker:
        sock = socket.create_connection(("127.0.0.1", broker.port))
        with sock:
            sock.sendall(connect_v5(b"flood"))
            assert sock.recv(64).startswith(b"\x20")
            # One more unacknowledged QoS 1 PUBLISH than the broker's Receive Maximum
            # (100), then more bytes still: they are in flight when the broker ends it.
            flood = b"".join(publish_v5(b"f", n, b"x" * 100) for n in range(1, 400))
            sock.sendall(flood)
            received = read_all(sock)
        assert received.endswith(b"\xe0\x01\x93"), received[-8:]
        wait_for(lambda: "receive maximum exceeded (0x93)" in broker.output())


def test_a_connack_larger_than_the_clients_maximum_packet_size_is_not_sent() -> None:
    with broker_process() as broker:
        client = Client(broker.port, "tiny", V5, connect=False)
        client.connect_properties = None
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.MaximumPacketSize = 5
        client.paho.connect("127.0.0.1", broker.port, properties=properties)
        client.paho.loop_start()
        try:
            wait_for(lambda: client.disconnects)
            assert client.connack is None
        finally:
            client.paho.loop_stop()
        wait_for(lambda: "Maximum Packet Size of 5" in broker.output())
        assert "refused client 'tiny'" in broker.output()


def test_an_mqtt31_connect_with_flags_mqtt31_does_not_reserve_is_accepted() -> None:
    body = b"\x00\x06MQIsdp\x03" + bytes([0x02 | 0x01]) + b"\x00\x3c" + b"\x00\x04v31c"
    with broker_process() as broker:
        for first_byte in (0x12, 0x10):  # fixed header flags QoS 1; and none
            with socket.create_connection(("127.0.0.1", broker.port)) as sock:
                sock.settimeout(10)
                sock.sendall(bytes([first_byte, len(body)]) + body)
                assert sock.recv(4) == b"\x20\x02\x00\x00"
        assert mosquitto_pub(broker.port, "-V", "mqttv31", "-q", "1").returncode == 0


def test_a_message_nobody_subscribed_to_is_answered_0x10(passwd: Path) -> None:
    for options in ((), ("--password-file", str(passwd), "--allow-anonymous")):
        with broker_process(*options) as broker:
            publisher = Client(broker.port, "nobody-pub", V5)
            listener = Client(broker.port, "listener", V5)
            with clients(publisher, listener):
                assert publisher.publish_code("void/x", b"m", 1) == 0x10
                assert publisher.publish_code("void/x", b"m", 1, retain=True) == 0x10
                listener.subscribe("heard/#")
                assert publisher.publish_code("heard/x", b"m", 1) == 0
            # QoS 2: the PUBREC carries it (paho and mosquitto_pub do not show it).
            with socket.create_connection(("127.0.0.1", broker.port)) as sock:
                sock.settimeout(10)
                sock.sendall(connect_v5(b"qos2-pub"))
                assert sock.recv(64).startswith(b"\x20")
                sock.sendall(b"\x34\x0b\x00\x06void/y\x00\x01\x00")  # no payload
                assert sock.recv(64) == b"\x50\x03\x00\x01\x10"
            # 3.1.1 has no reason codes: a plain PUBACK.
            plain = mosquitto_pub(broker.port, "-V", "311", "-q", "1", "-d", "-t", "void/z")
            assert plain.returncode == 0
            assert "received PUBACK (Mid: 1, RC:0)" in plain.stdout, plain.stdout


# ---- operator-grade errors ----


@pytest.fixture
def port_in_use() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


STARTUP_MISTAKES = {
    "port-in-use": (["--port", "{busy}"], 1, "the port is in use"),
    "port-out-of-range": (["--port", "99999"], 2, "--port: 99999 is not a port number"),
    "log-level": (["--log-level", "bogus"], 2, "'bogus' is not a log level"),
    "keep-alive": (["--max-keep-alive", "-5"], 2, "--max-keep-alive: -5 is not"),
    "sys-interval-too-long": (
        ["--sys-interval", "1e300"],
        2,
        "--sys-interval: 1e300 is not a number of seconds",
    ),
    "tls-file": (
        ["--tls-cert", "{tmp}/missing.pem", "--tls-key", "{tmp}/missing.key"],
        1,
        "cannot read the TLS certificate (--tls-cert) {tmp}/missing.pem",
    ),
    "data-dir-is-a-file": (["--data-dir", "{tmp}/a-file"], 1, "--data-dir {tmp}/a-file is a file"),
    "public-without-auth": (["--host", "0.0.0.0"], 1, "give --allow-anonymous"),
}


@pytest.mark.parametrize("mistake", STARTUP_MISTAKES, ids=str)
def test_a_startup_mistake_is_one_line_and_an_exit_status(
    mistake: str, tmp_path: Path, port_in_use: int
) -> None:
    options, status, words = STARTUP_MISTAKES[mistake]
    (tmp_path / "a-file").write_text("not a directory")

    def fill(text: str) -> str:
        return text.format(busy=port_in_use, tmp=tmp_path)

    args = ["--host", "127.0.0.1", "--port", "0", *map(fill, options)]
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "broker"), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == status, done.stderr
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert fill(words) in done.stderr
    assert "Traceback" not in done.stderr


def refused_line(broker: BrokerProcess, *words: str) -> str:
    """Wait for the INFO line of a refusal holding every one of ``words``; return it."""

    def found() -> str | None:
        for line in broker.output().split("\n"):
            if " INFO refused " in line and all(word in line for word in words):
                return line
        return None

    wait_for(found)
    line = found()
    assert line is not None
    return line


def raw_exchange(port: int, data: bytes) -> bytes:
    """Send bytes on a new connection; return what comes back before the broker closes."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(data)
        return read_all(sock)


def test_every_refused_connection_is_logged_with_who_and_why(passwd: Path) -> None:
    options = ("--password-file", str(passwd), "--max-keep-alive", "60", "--allow-anonymous")
    with broker_process(*options) as broker:
        # Keep alive above the maximum (3.1.1 cannot be told: refused, return code 2).
        client = Client(broker.port, "slow-ka", V311, keepalive=120, connect=False)
        with contextlib.suppress(AssertionError):
            client.connect()
        client.paho.loop_stop()
        line = refused_line(broker, "client 'slow-ka'", "no user name", "127.0.0.1:")
        assert "keep alive 120 s is above the server's maximum of 60 s" in line
        # An empty client id without Clean Session (3.1.1): return code 2.
        body = b"\x00\x04MQTT\x04\x00\x00\x3c\x00\x00"
        assert raw_exchange(broker.port, bytes([0x10, len(body)]) + body) == b"\x20\x02\x00\x02"
        refused_line(broker, "a connection from 127.0.0.1:", "needs clean session [MQTT-3.1.3-8]")
        # Not MQTT at all.
        raw_exchange(broker.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        refused_line(broker, "a connection from 127.0.0.1:", "malformed packet (0x81)")
        # A wrong password names the user.
        assert connack_code(broker.port, "alice", "wrong") == 0x86
        refused_line(broker, "client 'probe' (user 'alice'", "bad user name or password")


class FailingAuth(AsyncAuthInterface):
    """A provider whose backend is down."""

    async def authenticate(self, credentials: AuthCredentials) -> bool:
        raise ConnectionError("the user database is unreachable")

    async def authorize(self, credentials: AuthCredentials, topic: str, action: Action) -> bool:
        raise ConnectionError("the user database is unreachable")


def test_an_auth_provider_that_raises_answers_server_unavailable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = default_broker()
    broker.auth = FailingAuth()
    with caplog.at_level(logging.INFO, logger="broker"), broker_in_thread(broker) as listener:
        assert connack_code(listener.port, "alice", "x") == 0x88  # Server unavailable
        assert connack_code(listener.port, "alice", "x", V311) == 0x88  # return code 3
        wait_for(lambda: len([r for r in caplog.records if r.exc_info]) >= 2)
    failures = [record for record in caplog.records if record.exc_info]
    assert len(failures) == 2, "one report per failed CONNECT"
    assert all("the auth provider failed" in record.getMessage() for record in failures)
    assert any("refused client 'probe'" in r.getMessage() for r in caplog.records)


def test_the_broker_is_its_own_distribution_with_a_command() -> None:
    import shutil

    import mqtt_broker

    command = shutil.which("mqtt-broker", path=str(Path(sys.executable).parent))
    assert command is not None, "pip install ./broker gives the mqtt-broker command"
    done = subprocess.run(
        [command, "--help"], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0
    assert done.stdout.startswith("usage: mqtt-broker")
    assert mqtt_broker.Broker is not None


@pytest.mark.parametrize("options", [(), ("--allow-anonymous", "--acl-file", "ACL")])
def test_a_subscription_takes_effect_before_what_is_read_after_it(
    options: tuple[str, ...], tmp_path: Path
) -> None:
    """A SUBSCRIBE and another client's PUBLISH read in the same loop turn: the
    subscription is in place for the message (eclipse paho's interop suite lost the
    message here; mosquitto applies a subscription the moment it reads it)."""
    acl = tmp_path / "acl"
    acl.write_text("topic readwrite #\n")
    options = tuple(str(acl) if option == "ACL" else option for option in options)
    with broker_process(*options) as broker:
        subscriber = socket.create_connection(("127.0.0.1", broker.port), timeout=10)
        publisher = socket.create_connection(("127.0.0.1", broker.port), timeout=10)
        with subscriber, publisher:
            for sock, name in ((subscriber, b"race-sub"), (publisher, b"race-pub")):
                sock.sendall(connect_v5(name))
                assert sock.recv(64).startswith(b"\x20")
            # Both packets wait in the sockets while the broker is stopped: it reads
            # them in one batch, the SUBSCRIBE first.
            broker.process.send_signal(signal.SIGSTOP)
            try:
                subscriber.sendall(b"\x82\x0a\x00\x01\x00\x00\x04race\x01")
                time.sleep(0.05)
                publisher.sendall(publish_v5(b"race", 1, b"first"))
                time.sleep(0.05)
            finally:
                broker.process.send_signal(signal.SIGCONT)
            received = b""
            deadline = time.monotonic() + 5
            while b"first" not in received and time.monotonic() < deadline:
                with contextlib.suppress(TimeoutError):
                    subscriber.settimeout(0.5)
                    received += subscriber.recv(65536)
            assert received.startswith(b"\x90"), received  # the SUBACK first
            assert b"first" in received, received
