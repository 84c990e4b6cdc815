"""The reference broker's ``$SYS`` topics, subscribed with mosquitto_sub: mosquitto's
names, plausible values that move when clients connect and publish, retained for a late
subscriber, and none with ``--sys-interval 0``; no client may leave a Will there."""

from __future__ import annotations

import contextlib
import subprocess
import time

from .support import TIMEOUT, V5, V311, Client, broker_process, clients

#: The figures a mosquitto user reads (under $SYS/broker/).
TOPICS = [
    "version",
    "uptime",
    "clients/connected",
    "clients/disconnected",
    "clients/total",
    "clients/maximum",
    "messages/received",
    "messages/sent",
    "publish/messages/received",
    "publish/messages/sent",
    "publish/messages/dropped",
    "bytes/received",
    "bytes/sent",
    "subscriptions/count",
    "retained messages/count",
    "store/messages/count",
    *(
        f"load/{name}/{minutes}min"
        for name in (
            "messages/received",
            "messages/sent",
            "publish/received",
            "publish/sent",
            "publish/dropped",
            "bytes/received",
            "bytes/sent",
            "connections",
        )
        for minutes in (1, 5, 15)
    ),
]


def sys_values(port: int, seconds: float) -> dict[str, str]:
    """What mosquitto_sub reads on ``$SYS/#`` in ``seconds``: the last value of each."""
    command = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", "$SYS/#", "-v"]
    read = subprocess.run(
        [*command, "-W", str(int(seconds))],
        capture_output=True,
        text=True,
        timeout=seconds + TIMEOUT,
        check=False,
    )
    values: dict[str, str] = {}
    for line in read.stdout.splitlines():
        topic, _, value = line.partition(" ")
        if topic.startswith("$SYS/broker/"):
            # "retained messages/count": the topic has a space of its own.
            if topic == "$SYS/broker/retained":
                extra, _, value = value.partition(" ")
                topic = f"{topic} {extra}"
            values[topic.removeprefix("$SYS/broker/")] = value
    return values


def test_sys_topics_show_plausible_values_that_move() -> None:
    with broker_process("--sys-interval", "0.5") as broker:
        before = sys_values(broker.port, 2)
        assert set(TOPICS) <= set(before), sorted(set(TOPICS) - set(before))
        assert before["version"].startswith(("mqtt-common-broker ", "mqtt-tokio-broker "))
        assert before["uptime"].endswith(" seconds")
        assert before["clients/connected"] == "1", "mosquitto_sub itself"
        sub = Client(broker.port, "sys-sub", V5)
        pub = Client(broker.port, "sys-pub", V311)
        with clients(sub, pub):
            assert sub.subscribe("sys/test", qos=1) == [1]
            for n in range(5):
                pub.publish("sys/test", f"m{n}".encode(), qos=1)
            sub.wait_messages(5)
            time.sleep(0.6)  # one more publication of the figures
            during = sys_values(broker.port, 2)
        assert int(during["clients/connected"]) == 3, "with mosquitto_sub"
        assert int(during["clients/maximum"]) >= 3
        assert int(during["subscriptions/count"]) >= 2
        assert int(during["publish/messages/received"]) >= 5
        assert int(during["publish/messages/sent"]) > int(before["publish/messages/sent"])
        for name in ("bytes/received", "bytes/sent", "messages/received", "messages/sent"):
            assert int(during[name]) > int(before[name]), name
        assert float(during["load/publish/received/1min"]) > 0
        assert int(during["retained messages/count"]) >= len(TOPICS)
        # A client may not publish to $SYS: it is told so, and the figure stays.
        forger = Client(broker.port, "sys-forger", V5)
        with clients(forger):
            assert forger.publish_code("$SYS/broker/version", b"forged", qos=1) == 0x87
        assert sys_values(broker.port, 1)["version"] == before["version"]


def test_no_sys_topics_with_an_interval_of_0() -> None:
    with broker_process("--sys-interval", "0") as broker:
        assert sys_values(broker.port, 1) == {}


def test_a_will_to_sys_is_refused_with_not_authorized() -> None:
    with broker_process() as broker:
        for protocol in (V5, V311):
            forger = Client(
                broker.port,
                f"forger-{protocol}",
                protocol,
                will=("$SYS/broker/clients/connected", b"0", 0, True),
                connect=False,
            )
            with contextlib.suppress(AssertionError):
                forger.connect()
            assert forger.connack is not None
            # 3.1.1: return code 5, Not authorized (paho reports it as 0x87).
            assert int(forger.connack[1].value) == 0x87
        assert "$SYS" in broker.output()
