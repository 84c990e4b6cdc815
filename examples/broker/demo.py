"""The README's main job: the reference broker, driven by real clients.

``python examples/broker/demo.py`` starts ``python examples/broker/`` on a free port of
127.0.0.1, then paho-mqtt clients (MQTT 3.1.1 and 5.0) connect, subscribe, publish at
QoS 0, 1 and 2, leave a retained message and a Will, and resume a persistent session;
then the broker is restarted on the same ``--data-dir`` and the session, a message
queued for it and the retained message are still there. It prints a transcript and
exits 0, or exits 1 naming what did not happen.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

BROKER = Path(__file__).resolve().parent
TIMEOUT = 10.0
V311, V5 = MQTTProtocolVersion.MQTTv311, MQTTProtocolVersion.MQTTv5


class DemoFailedError(Exception):
    """Something the transcript promised did not happen."""


def say(who: str, what: str) -> None:
    """Print one line of the transcript."""
    print(f"  {who:<22} {what}", flush=True)


def wait_for(what: str, condition: Callable[[], bool]) -> None:
    """Wait until ``condition()`` holds, or fail naming ``what``."""
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise DemoFailedError(what)
        time.sleep(0.01)


class Client:
    """A paho client that remembers what it received."""

    def __init__(
        self,
        port: int,
        name: str,
        protocol: MQTTProtocolVersion,
        *,
        persistent: bool = False,
        will: tuple[str, bytes] | None = None,
    ) -> None:
        self.name = f"{name} ({'5.0' if protocol == V5 else '3.1.1'})"
        kwargs: dict[str, Any] = {"client_id": name, "protocol": protocol}
        if protocol == V311:
            kwargs["clean_session"] = not persistent
        self.paho = mqtt.Client(CallbackAPIVersion.VERSION2, reconnect_on_failure=False, **kwargs)
        self.received: list[mqtt.MQTTMessage] = []
        self.shown = 0  # how many of them the transcript has shown
        self.session_present: bool | None = None
        self.paho.on_connect = self._on_connect
        self.paho.on_message = lambda c, u, message: self.received.append(message)
        if will is not None:
            self.paho.will_set(will[0], will[1], qos=1)
        connect: dict[str, Any] = {}
        if protocol == V5:
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = 300 if persistent else 0
            connect = {"clean_start": not persistent, "properties": properties}
        self.paho.connect("127.0.0.1", port, keepalive=30, **connect)
        self.paho.loop_start()
        wait_for(f"{self.name} connects", lambda: self.session_present is not None)

    def _on_connect(self, c: Any, u: Any, flags: Any, reason: Any, properties: Any) -> None:
        self.session_present = bool(flags.session_present)

    def subscribe(self, topic: str, qos: int) -> None:
        """Subscribe and wait for the SUBACK."""
        done = threading.Event()
        self.paho.on_subscribe = lambda *args: done.set()
        self.paho.subscribe(topic, qos)
        if not done.wait(TIMEOUT):
            raise DemoFailedError(f"{self.name} subscribes to {topic}")
        say(self.name, f"subscribed to {topic} at QoS {qos}")

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool = False) -> None:
        """Publish and wait until the broker has it (its QoS flow ends)."""
        self.paho.publish(topic, payload, qos, retain).wait_for_publish(TIMEOUT)
        flags = ", retained" if retain else ""
        say(self.name, f"published {topic} = {payload.decode()!r} (QoS {qos}{flags})")

    def show(self, messages: list[mqtt.MQTTMessage]) -> None:
        """Print what arrived."""
        for message in messages:
            flags = ", retained" if message.retain else ""
            say(
                self.name,
                f"got {message.topic} = {message.payload.decode()!r} (QoS {message.qos}{flags})",
            )

    def leave(self) -> None:
        """Disconnect normally."""
        self.paho.disconnect()
        self.paho.loop_stop()
        say(self.name, "disconnected")

    def vanish(self) -> None:
        """Drop the connection without DISCONNECT, as a crashed device would."""
        sock = self.paho.socket()
        if isinstance(sock, socket.socket):
            sock.shutdown(socket.SHUT_RDWR)
        self.paho.loop_stop()
        say(self.name, "lost its connection (no DISCONNECT)")


def new_messages(client: Client, count: int) -> list[mqtt.MQTTMessage]:
    """Wait for the next ``count`` messages of ``client``; return them."""
    start = client.shown
    wait_for(
        f"{client.name} receives {count} messages", lambda: len(client.received) >= start + count
    )
    client.shown += count
    return client.received[start : start + count]


def start_broker(data_dir: Path) -> tuple[subprocess.Popen[str], int]:
    """Start ``python examples/broker/ --port 0 --data-dir D``; return it and its port."""
    broker = subprocess.Popen(
        [
            sys.executable,
            str(BROKER),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
            "--log-level",
            "WARNING",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert broker.stdout is not None
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        line = broker.stdout.readline()
        found = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if found:
            return broker, int(found.group(1))
        if not line:
            break
    broker.kill()
    raise DemoFailedError("the broker starts")


def scenario(port: int) -> None:
    """Run what the clients do, printing what they see."""
    print("1. QoS 0, 1 and 2 between a 5.0 sensor and a 3.1.1 dashboard")
    dashboard = Client(port, "dashboard", V311)
    dashboard.subscribe("home/#", qos=2)
    sensor = Client(port, "sensor", V5, will=("home/status/sensor", b"offline"))
    for qos in (0, 1, 2):
        sensor.publish(f"home/kitchen/q{qos}", f"{20 + qos}.5".encode(), qos)
    dashboard.show(new_messages(dashboard, 3))

    print("2. A retained message reaches a subscriber that comes later")
    sensor.publish("home/kitchen/temperature", b"21.0", 1, retain=True)
    new_messages(dashboard, 1)
    phone = Client(port, "phone", V5)
    phone.subscribe("home/kitchen/temperature", qos=1)
    phone.show(new_messages(phone, 1))

    print("3. A Will: the sensor vanishes, the broker speaks for it")
    sensor.vanish()
    will = new_messages(dashboard, 1)
    dashboard.show(will)
    if will[0].topic != "home/status/sensor":
        raise DemoFailedError("the Will arrives")

    print("4. A persistent session: messages wait while the logger is away")
    logger = Client(port, "logger", V311, persistent=True)
    logger.subscribe("home/alarms", qos=1)
    logger.leave()
    phone.publish("home/alarms", b"door open", 1)
    phone.publish("home/alarms", b"door closed", 1)
    logger = Client(port, "logger", V311, persistent=True)
    say(logger.name, f"reconnected: session present = {logger.session_present}")
    if not logger.session_present:
        raise DemoFailedError("the session is resumed")
    logger.show(new_messages(logger, 2))
    logger.leave()
    phone.publish("home/alarms", b"smoke", 1)

    for client in (dashboard, phone):
        client.leave()


def after_restart(port: int) -> None:
    """Find the session, its queued message and the retained one after the restart."""
    logger = Client(port, "logger", V311, persistent=True)
    say(logger.name, f"reconnected: session present = {logger.session_present}")
    if not logger.session_present:
        raise DemoFailedError("the session survives the restart")
    logger.show(new_messages(logger, 1))
    tablet = Client(port, "tablet", V5)
    tablet.subscribe("home/kitchen/temperature", qos=1)
    tablet.show(new_messages(tablet, 1))
    for client in (logger, tablet):
        client.leave()


def stop(broker: subprocess.Popen[str]) -> int:
    """Stop the broker as an operator would (SIGTERM); return its exit status."""
    broker.send_signal(signal.SIGTERM)
    return broker.wait(timeout=TIMEOUT)


def main() -> int:
    """Run the demo; return the exit status."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch)
        broker, port = start_broker(data_dir)
        print(f"mqtt-common reference broker on 127.0.0.1:{port}, driven by paho-mqtt clients:")
        statuses = []
        try:
            scenario(port)
            statuses.append(stop(broker))
            print("5. A restart: the broker stops and starts again on the same --data-dir")
            broker, port = start_broker(data_dir)
            say("broker", f"restarted, now on port {port}; its data: {data_dir}")
            after_restart(port)
        except DemoFailedError as failure:
            print(f"FAILED: {failure} did not happen", file=sys.stderr)
            return 1
        finally:
            if broker.poll() is None:
                statuses.append(stop(broker))
    print(
        f"done in {time.monotonic() - started:.1f} s; the broker stopped cleanly twice "
        f"(exit statuses {statuses})"
    )
    return 0 if statuses == [0, 0] else 1


if __name__ == "__main__":
    sys.exit(main())
