"""Message expiry through the broker, as paho clients see it: retained and queued
messages expire by their Message Expiry Interval, which counts down while they wait
[MQTT-3.3.2-5], [MQTT-3.3.2-6], in memory and across a restart."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from .support import V5, V311, Client, broker_process, clients

SESSION = {"SessionExpiryInterval": 600}


def expiry_of(message: object) -> int | None:
    """The Message Expiry Interval a client got, or None."""
    properties = getattr(message, "properties", None)
    return getattr(properties, "MessageExpiryInterval", None)


def publish_short_and_long(port: int, topic: str, retain: bool) -> None:
    with clients(Client(port, "exp-pub", V5)) as (pub,):
        pub.publish(topic, b"short", 1, retain, {"MessageExpiryInterval": 1})
        pub.publish(topic + "-long", b"long", 1, retain, {"MessageExpiryInterval": 30})


@pytest.mark.parametrize("restart", [None, "SIGTERM", "SIGKILL"])
def test_retained_messages_expire_and_count_down(tmp_path: Path, restart: str | None) -> None:
    run_expiry(tmp_path, restart, retained=True)


@pytest.mark.parametrize("restart", [None, "SIGKILL"])
def test_queued_messages_expire_and_count_down(tmp_path: Path, restart: str | None) -> None:
    run_expiry(tmp_path, restart, retained=False)


def run_expiry(tmp_path: Path, restart: str | None, *, retained: bool) -> None:
    """Publish messages with expiry 1 s and 30 s; after 2 s only the second is sent, with 28."""
    options = ("--data-dir", str(tmp_path)) if restart else ()
    with broker_process(*options) as first:
        if not retained:
            for away in (
                Client(first.port, "exp-away", V5, clean_start=False, connect_properties=SESSION),
                Client(first.port, "exp-away-3", V311, clean_start=False),
            ):
                away.subscribe("exp/#", qos=1)
                away.disconnect()
        publish_short_and_long(first.port, "exp/m", retain=retained)
        started = time.monotonic()
        if restart is None:
            check(first.port, started, retained=retained)
            return
        time.sleep(0.3)
        first.process.send_signal(getattr(signal, restart))
        first.process.wait()
    with broker_process(*options) as second:
        check(second.port, started, retained=retained)


def check(port: int, started: float, *, retained: bool) -> None:
    """After 2 s: the 1 s message is gone, the 30 s one comes with 28 left."""
    time.sleep(max(0.0, 2.1 - (time.monotonic() - started)))
    if retained:
        five = Client(port, "exp-sub-5", V5)
        three = Client(port, "exp-sub-3", V311)
        with clients(five, three):
            five.subscribe("exp/#", qos=1)
            three.subscribe("exp/#", qos=1)
            [got5] = five.wait_messages(1)
            [got3] = three.wait_messages(1)
            time.sleep(0.3)
            assert [bytes(m.payload) for m in five.messages] == [b"long"]
            assert [bytes(m.payload) for m in three.messages] == [b"long"]
            assert expiry_of(got5) == 28
            assert got5.retain
            assert got3.retain
        return
    back = Client(port, "exp-away", V5, clean_start=False, connect_properties=SESSION)
    back3 = Client(port, "exp-away-3", V311, clean_start=False)
    with clients(back, back3):
        [got] = back.wait_messages(1)
        back3.wait_messages(1)
        time.sleep(0.3)
        assert [bytes(m.payload) for m in back.messages] == [b"long"]
        assert [bytes(m.payload) for m in back3.messages] == [b"long"]
        assert expiry_of(got) == 28
