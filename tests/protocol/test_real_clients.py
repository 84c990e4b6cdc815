"""Real clients against a server that is nothing but a socket loop around
``ServerConnection``: paho-mqtt 2.2 (3.1.1 and 5.0) and Debian's mosquitto_pub and
mosquitto_sub complete connect, subscribe, publish at QoS 0, 1 and 2, unsubscribe and
disconnect."""

from __future__ import annotations

import shutil
import subprocess
import threading
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from mqtt_common.models import Message
from mqtt_common.protocol import (
    Closed,
    ConnectRequest,
    Delivered,
    SubscribeRequest,
    UnsubscribeRequest,
)

from .loopback_server import loopback_server

# The test command installs mosquitto-clients; a missing program is a failure, not a skip.
PUB = shutil.which("mosquitto_pub") or "mosquitto_pub"
SUB = shutil.which("mosquitto_sub") or "mosquitto_sub"

PROTOCOLS = [MQTTProtocolVersion.MQTTv311, MQTTProtocolVersion.MQTTv5]


class PahoClient:
    """A paho client with its callbacks turned into waitable facts."""

    def __init__(self, client_id: str, protocol: MQTTProtocolVersion, port: int) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol
        )
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.unsubscribed = threading.Event()
        self.granted: list[int] = []
        self.messages: list[mqtt.MQTTMessage] = []
        self.lock = threading.Lock()
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_unsubscribe = self._on_unsubscribe
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        assert self.connected.wait(10), "no CONNACK"

    def _on_connect(self, *args: Any) -> None:
        self.connected.set()

    def _on_subscribe(
        self, c: mqtt.Client, userdata: object, mid: int, codes: list[Any], props: object
    ) -> None:
        self.granted.extend(int(code.value) for code in codes)
        self.subscribed.set()

    def _on_unsubscribe(self, *args: Any) -> None:
        self.unsubscribed.set()

    def _on_message(self, c: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.messages.append(message)

    def payloads(self) -> list[bytes]:
        with self.lock:
            return [bytes(m.payload) for m in self.messages]

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=["3.1.1", "5.0"])
def test_paho_connects_subscribes_publishes_and_unsubscribes(
    protocol: MQTTProtocolVersion,
) -> None:
    with loopback_server() as server:
        subscriber = PahoClient("sub", protocol, server.port)
        publisher = PahoClient("pub", protocol, server.port)
        try:
            subscriber.client.subscribe("t/#", qos=2)
            assert subscriber.subscribed.wait(10)
            assert subscriber.granted == [2]
            for qos in (0, 1, 2):
                info = publisher.client.publish("t/x", f"q{qos}".encode(), qos=qos)
                info.wait_for_publish(10)
            server.wait_for(lambda: sorted(subscriber.payloads()) == [b"q0", b"q1", b"q2"])
            assert sorted(m.qos for m in subscriber.messages) == [0, 1, 2]
            subscriber.client.unsubscribe("t/#")
            assert subscriber.unsubscribed.wait(10)
            publisher.client.publish("t/x", b"after", qos=1).wait_for_publish(10)
            server.wait_for(lambda: len(server.of_kind(Message)) == 4)
        finally:
            subscriber.stop()
            publisher.stop()
        server.wait_for(lambda: len(server.of_kind(Closed)) == 2)
    assert b"after" not in subscriber.payloads()
    assert {e.initiator for e in server.of_kind(Closed)} == {"client"}
    assert len(server.of_kind(ConnectRequest)) == 2
    assert len(server.of_kind(SubscribeRequest)) == 1
    assert len(server.of_kind(UnsubscribeRequest)) == 1
    # The subscriber acknowledged the QoS 1 and 2 deliveries.
    assert len(server.of_kind(Delivered)) == 2


@pytest.mark.parametrize("version", ["311", "5"])
def test_mosquitto_sub_and_pub(version: str) -> None:
    with loopback_server() as server:
        sub = subprocess.Popen(
            [
                SUB,
                "-h",
                "127.0.0.1",
                "-p",
                str(server.port),
                "-V",
                version,
                "-i",
                "msub",
                "-t",
                "m/#",
                "-q",
                "2",
                "-C",
                "3",
                "-v",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            server.wait_for(lambda: len(server.of_kind(SubscribeRequest)) == 1)
            for qos in (0, 1, 2):
                result = subprocess.run(
                    [
                        PUB,
                        "-h",
                        "127.0.0.1",
                        "-p",
                        str(server.port),
                        "-V",
                        version,
                        "-i",
                        f"mpub{qos}",
                        "-t",
                        f"m/q{qos}",
                        "-m",
                        f"v{qos}",
                        "-q",
                        str(qos),
                    ],
                    capture_output=True,
                    text=True,
                    timeout=20,
                    check=False,
                )
                assert result.returncode == 0, result.stderr
            out, err = sub.communicate(timeout=20)
        finally:
            if sub.poll() is None:
                sub.kill()
                sub.wait(timeout=5)
        assert sub.returncode == 0, err
        assert sorted(out.split("\n")[:3]) == ["m/q0 v0", "m/q1 v1", "m/q2 v2"]
        server.wait_for(lambda: len(server.of_kind(Closed)) == 4)
    publishers = [e for e in server.of_kind(Message) if e.topic.startswith("m/")]
    assert len(publishers) == 3


@pytest.mark.parametrize("version", ["311", "5"])
def test_mosquitto_sub_unsubscribes(version: str) -> None:
    with loopback_server() as server:
        result = subprocess.run(
            [
                SUB,
                "-h",
                "127.0.0.1",
                "-p",
                str(server.port),
                "-V",
                version,
                "-i",
                "munsub",
                "-t",
                "u/#",
                "-U",
                "u/#",
                "-E",
            ],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        server.wait_for(lambda: len(server.of_kind(Closed)) == 1)
    [unsubscribe] = server.of_kind(UnsubscribeRequest)
    assert unsubscribe.topic_filters == ["u/#"]
