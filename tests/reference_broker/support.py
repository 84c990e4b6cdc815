"""What the broker tests share: the broker as a process or in a thread, and a paho client
whose callbacks become facts to wait for."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from mqtt_broker import Broker, BrokerConfig, Listener, TlsOptions, listen

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "examples"

__all__ = ["Broker", "BrokerConfig", "Listener", "TlsOptions", "listen"]

V311 = MQTTProtocolVersion.MQTTv311
V5 = MQTTProtocolVersion.MQTTv5
TIMEOUT = 10.0


def wait_for(condition: Callable[[], object], timeout: float = TIMEOUT) -> None:
    """Wait until ``condition()`` is true, or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


@dataclass
class BrokerProcess:
    """A broker started as a program: ``python examples/broker/ ...``."""

    process: subprocess.Popen[str]
    port: int
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        """Return everything the broker printed so far."""
        return "\n".join(self.lines)


#: The tokio broker (``./dev.sh test`` builds it before the tests run).
TOKIO_BROKER = ROOT / "target" / "release" / "mqtt-tokio-broker"
#: Which broker ``broker_process`` starts: "python" (the reference broker) or "tokio".
#: ``tests/tokio_broker`` runs the reference broker's tests with "tokio".
KIND = "python"


@pytest.fixture(scope="module")
def tokio_broker() -> Iterator[None]:
    """Start the tokio broker wherever this module's tests start a broker.

    The ``test_tokio_*`` modules import a reference-broker test module's tests and use
    this fixture (autouse), so that the same tests run against both brokers.
    """
    global KIND  # noqa: PLW0603  (the one switch the tests share)
    KIND = "tokio"
    try:
        yield
    finally:
        KIND = "python"


@dataclass
class RedisServer:
    """A ``redis-server`` of a test's own on 127.0.0.1 (Debian's; ``./dev.sh test``
    installs it), with its append-only file written before each answer
    (``appendfsync always``): what it acknowledged survives its own ``kill -9``."""

    port: int
    directory: Path
    cluster: bool = False
    #: TLS only, with ``server.pem``, ``server.key`` and ``ca.pem`` from this directory.
    tls: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Its URL, for ``--redis-url``."""
        scheme = "rediss" if self.tls is not None else "redis"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start it (again, on the same port and files) and wait until it answers."""
        command = ["redis-server", "--bind", "127.0.0.1"]
        if self.tls is None:
            command += ["--port", str(self.port)]
        else:
            command += ["--port", "0", "--tls-port", str(self.port), "--tls-auth-clients", "no"]
            command += ["--tls-cert-file", str(self.tls / "server.pem")]
            command += ["--tls-key-file", str(self.tls / "server.key")]
            command += ["--tls-ca-cert-file", str(self.tls / "ca.pem")]
        command += ["--save", "", "--appendonly", "yes", "--appendfsync", "always"]
        command += ["--dir", str(self.directory)]
        if self.cluster:
            command += ["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if self.tls is not None:
                        return  # listening: the handshake is the clients' to make
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"redis-server did not answer on port {self.port}")
            time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL it, by its process id."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    """Run a ``redis-server`` keeping its files in ``directory``; stop it at the end."""
    directory.mkdir(parents=True, exist_ok=True)
    server = RedisServer(free_port(), directory)
    server.start()
    try:
        yield server
    finally:
        server.kill()


def free_port(below: int = 65536) -> int:
    """Return a free TCP port on 127.0.0.1 (below ``below``)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port < below:
            return port


def _cluster_ok(port: int) -> bool:
    """Whether the cluster node on ``port`` says the cluster is ready."""
    info = subprocess.run(
        ["redis-cli", "-p", str(port), "cluster", "info"], capture_output=True, check=False
    )
    return b"cluster_state:ok" in info.stdout


@contextmanager
def redis_cluster(directory: Path) -> Iterator[list[RedisServer]]:
    """Run a Redis Cluster of three masters on loopback (``redis-cli --cluster create``),
    its nodes' files in ``directory``; stop them at the end."""
    nodes: list[RedisServer] = []
    try:
        for n in range(3):
            # A port whose cluster bus port (+10000) is free too.
            while True:
                port = free_port(below=55_000)
                with socket.socket() as bus:
                    try:
                        bus.bind(("127.0.0.1", port + 10_000))
                    except OSError:
                        continue
                break
            node = RedisServer(port, directory / f"node{n}", cluster=True)
            node.directory.mkdir(parents=True, exist_ok=True)
            node.start()
            nodes.append(node)
        subprocess.run(
            ["redis-cli", "--cluster", "create"]
            + [f"127.0.0.1:{node.port}" for node in nodes]
            + ["--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=30,
        )
        for node in nodes:
            wait_for(partial(_cluster_ok, node.port), timeout=20)
        yield nodes
    finally:
        for node in nodes:
            node.kill()


def broker_command() -> list[str]:
    """Return the command that starts the broker under test (without its options)."""
    if KIND == "tokio":
        assert TOKIO_BROKER.exists(), f"build the tokio broker first: {TOKIO_BROKER} is missing"
        return [str(TOKIO_BROKER)]
    return [sys.executable, str(EXAMPLES / "broker")]


@contextmanager
def broker_process(*options: str) -> Iterator[BrokerProcess]:
    """Start the broker on 127.0.0.1 and a free port; stop it by its process id."""
    process = subprocess.Popen(
        [*broker_command(), "--host", "127.0.0.1", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    lines: list[str] = []
    port = 0
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline and not port:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        found = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if found:
            port = int(found.group(1))
    if not port:
        process.kill()
        raise AssertionError("the broker did not start:\n" + "\n".join(lines))
    running = BrokerProcess(process, port, lines)
    reader = threading.Thread(target=_read_lines, args=(process, lines), daemon=True)
    reader.start()
    try:
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(timeout=TIMEOUT)


def _read_lines(process: subprocess.Popen[str], lines: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line.rstrip())


@contextmanager
def broker_in_thread(
    broker: Broker,
    tls: TlsOptions | None = None,
    first: Callable[[], Coroutine[Any, Any, object]] | None = None,
) -> Iterator[Listener]:
    """Serve ``broker`` on 127.0.0.1 from an event loop on a thread of this process.

    ``first`` (a restore, say) is awaited on that loop before it listens.
    """
    loop = asyncio.new_event_loop()
    ready: list[Listener] = []
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        if first is not None:
            loop.run_until_complete(first())
        ready.append(loop.run_until_complete(listen(broker, "127.0.0.1", 0, tls)))
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(TIMEOUT), "the broker did not start"
    try:
        yield ready[0]
    finally:
        asyncio.run_coroutine_threadsafe(ready[0].close(), loop).result(TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(TIMEOUT)
        loop.close()


def default_broker(**config: Any) -> Broker:
    """A broker without stores (the router's memory is all), as the command line builds it."""
    return Broker(BrokerConfig(**config))


class Client:
    """A paho client (2.2, callback API 2) whose callbacks are recorded."""

    def __init__(
        self,
        port: int,
        client_id: str = "",
        protocol: MQTTProtocolVersion = V5,
        *,
        clean_start: bool = True,
        connect_properties: dict[str, Any] | None = None,
        will: tuple[str, bytes, int, bool] | None = None,
        will_properties: dict[str, Any] | None = None,
        username: str | None = None,
        password: str | None = None,
        keepalive: int = 30,
        connect: bool = True,
        tls: dict[str, Any] | None = None,
        transport: str = "tcp",
    ) -> None:
        self.protocol = protocol
        self.port = port
        # A test client never reconnects on its own: a drop must stay a drop.
        kwargs: dict[str, Any] = {
            "client_id": client_id,
            "protocol": protocol,
            "reconnect_on_failure": False,
            "transport": transport,
        }
        if protocol != V5:
            kwargs["clean_session"] = clean_start
        self.paho = mqtt.Client(CallbackAPIVersion.VERSION2, **kwargs)
        self.clean_start = clean_start
        self.lock = threading.Lock()
        self.messages: list[mqtt.MQTTMessage] = []
        self.connack: tuple[Any, Any, Any] | None = None
        self.disconnects: list[Any] = []
        self.subacks: dict[int, list[int]] = {}
        self.unsubacks: dict[int, list[int]] = {}
        #: The reason code of each finished QoS 1 or 2 publication, by message id.
        self.puback_codes: dict[int, int] = {}
        self.connected = threading.Event()
        self.paho.on_connect = self._on_connect
        self.paho.on_message = self._on_message
        self.paho.on_subscribe = self._on_subscribe
        self.paho.on_unsubscribe = self._on_unsubscribe
        self.paho.on_disconnect = self._on_disconnect
        self.paho.on_publish = self._on_publish
        if username is not None:
            self.paho.username_pw_set(username, password)
        if will is not None:
            topic, payload, qos, retain = will
            self.paho.will_set(
                topic,
                payload,
                qos,
                retain,
                properties=props(PacketTypes.WILLMESSAGE, will_properties),
            )
        if tls is not None:
            self.paho.tls_set(**tls)
        self.connect_properties = props(PacketTypes.CONNECT, connect_properties)
        self.keepalive = keepalive
        if connect:
            self.connect()

    def connect(self) -> None:
        """Connect and wait for the CONNACK."""
        self.connected.clear()
        kwargs: dict[str, Any] = {"keepalive": self.keepalive}
        if self.protocol == V5:
            kwargs["clean_start"] = self.clean_start
            kwargs["properties"] = self.connect_properties
        self.paho.connect("127.0.0.1", self.port, **kwargs)
        self.paho.loop_start()
        assert self.connected.wait(TIMEOUT), "no CONNACK"

    def _on_connect(self, c: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self.connack = (flags, reason, properties)
        self.connected.set()

    def _on_message(self, c: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.messages.append(message)

    def _on_subscribe(self, c: Any, u: Any, mid: int, codes: list[Any], p: Any) -> None:
        self.subacks[mid] = [int(code.value) for code in codes]

    def _on_unsubscribe(self, c: Any, u: Any, mid: int, codes: list[Any], p: Any) -> None:
        self.unsubacks[mid] = [int(code.value) for code in codes]

    def _on_publish(self, c: Any, u: Any, mid: int, reason: Any, p: Any) -> None:
        self.puback_codes[mid] = int(reason.value)

    def _on_disconnect(self, c: Any, u: Any, flags: Any, reason: Any, p: Any) -> None:
        self.disconnects.append(reason)

    def subscribe(
        self, topic: str, qos: int = 0, properties: dict[str, Any] | None = None, **options: Any
    ) -> list[int]:
        """Subscribe and return the SUBACK's codes."""
        if self.protocol == V5:
            _, mid = self.paho.subscribe(
                topic,
                options=SubscribeOptions(qos=qos, **options),
                properties=props(PacketTypes.SUBSCRIBE, properties),
            )
        else:
            _result, mid = self.paho.subscribe(topic, qos)
        assert mid is not None
        wait_for(lambda: mid in self.subacks)
        return self.subacks[mid]

    def unsubscribe(self, topic: str) -> list[int]:
        """Unsubscribe and return the UNSUBACK's codes (empty in 3.1.1)."""
        _result, mid = self.paho.unsubscribe(topic)
        assert mid is not None
        wait_for(lambda: mid in self.unsubacks)
        return self.unsubacks[mid]

    def publish(
        self,
        topic: str,
        payload: bytes,
        qos: int = 0,
        retain: bool = False,
        properties: dict[str, Any] | None = None,
    ) -> None:
        """Publish and wait for the flow to end."""
        info = self.paho.publish(
            topic, payload, qos, retain, properties=props(PacketTypes.PUBLISH, properties)
        )
        info.wait_for_publish(TIMEOUT)

    def publish_code(self, topic: str, payload: bytes, qos: int, retain: bool = False) -> int:
        """Publish at QoS 1 or 2 and return the reason code of the PUBACK or PUBREC."""
        info = self.paho.publish(topic, payload, qos, retain)
        info.wait_for_publish(TIMEOUT)
        wait_for(lambda: info.mid in self.puback_codes)
        return self.puback_codes[info.mid]

    def payloads(self) -> list[bytes]:
        """Return the payloads received, in order."""
        with self.lock:
            return [bytes(m.payload) for m in self.messages]

    def wait_messages(self, count: int) -> list[mqtt.MQTTMessage]:
        """Wait for ``count`` messages; return them."""
        wait_for(lambda: len(self.messages) >= count)
        with self.lock:
            return list(self.messages)

    def disconnect(self) -> None:
        """Disconnect normally."""
        self.paho.disconnect()
        self.paho.loop_stop()

    def drop(self) -> None:
        """Close the socket without DISCONNECT (an unclean end: the Will is due)."""
        sock = self.paho.socket()
        if isinstance(sock, socket.socket):
            sock.shutdown(socket.SHUT_RDWR)
        self.paho.loop_stop()


def props(packet_type: int, values: dict[str, Any] | None) -> Properties | None:
    """paho Properties from ``{"MessageExpiryInterval": 10, ...}``."""
    if not values:
        return None
    properties = Properties(packet_type)  # type: ignore[no-untyped-call]
    for name, value in values.items():
        setattr(properties, name, value)
    return properties


@contextmanager
def clients(*made: Client) -> Iterator[tuple[Client, ...]]:
    """Disconnect the clients at the end, whatever happened."""
    try:
        yield made
    finally:
        for client in made:
            try:
                client.paho.disconnect()
            finally:
                client.paho.loop_stop()


def make_certificates(directory: Path) -> Path:
    """Make a CA, a server certificate for 127.0.0.1 and a client certificate (openssl)
    in ``directory``: ``ca.pem``, ``server.pem``/``.key``, ``client.pem``/``.key``."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-subj",
        "/CN=test CA",
    )
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    # An extension makes it an X.509 v3 certificate: rustls (the tokio broker) refuses v1.
    (directory / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for name, subject in (("server", "/CN=127.0.0.1"), ("client", "/CN=sensor-7")):
        openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            f"{name}.key",
            "-out",
            f"{name}.csr",
            "-subj",
            subject,
        )
        extra = ["-extfile", "san.ext" if name == "server" else "client.ext"]
        openssl(
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            f"{name}.pem",
            *extra,
        )
    return directory


def connack_code(
    port: int,
    client_id: str = "x",
    protocol: MQTTProtocolVersion = V5,
    *,
    username: str | None = None,
    password: str | None = None,
) -> int:
    """The CONNACK's reason (5.0) or return code (3.1.1, as paho reports it) a client
    gets; an accepted client disconnects at once."""
    client = Client(port, client_id, protocol, username=username, password=password, connect=False)
    with contextlib.suppress(AssertionError):
        client.connect()
    assert client.connack is not None
    code = int(client.connack[1].value)
    if code == 0:
        client.disconnect()
    return code
