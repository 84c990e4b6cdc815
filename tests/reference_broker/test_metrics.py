"""The reference broker's ``--metrics-port``: ``/metrics`` read by prometheus_client's
text parser, its counters moving as expected under a short load of real clients."""

from __future__ import annotations

import re
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from .support import TIMEOUT, V5, V311, BrokerProcess, Client, broker_process, clients, wait_for

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def metrics_port(broker: BrokerProcess) -> int:
    """The port the broker printed for its metrics."""
    found: list[int] = []

    def printed() -> bool:
        for line in list(broker.lines):
            match = re.search(r"listening on 127\.0\.0\.1:(\d+) \(metrics\)", line)
            if match:
                found.append(int(match.group(1)))
        return bool(found)

    wait_for(printed)
    return found[0]


def scrape(port: int) -> Samples:
    """Every sample of /metrics, by name and labels."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=TIMEOUT) as got:
        assert got.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = got.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_move_under_a_short_load(tmp_path: Path) -> None:
    options = ("--metrics-port", "0", "--data-dir", str(tmp_path / "data"))
    with broker_process(*options) as broker:
        port = metrics_port(broker)
        before = scrape(port)
        assert before[("mqtt_connections", ())] == 0
        sub = Client(broker.port, "m-sub", V5, connect_properties={"SessionExpiryInterval": 60})
        pub = Client(broker.port, "m-pub", V311)
        with clients(sub, pub):
            assert sub.subscribe("m/#", qos=1) == [1]
            for n in range(20):
                pub.publish("m/x", f"{n}".encode(), qos=1)
            for n in range(10):
                pub.publish("m/y", f"{n}".encode(), qos=0)
            sub.wait_messages(30)
            during = scrape(port)
        assert during[("mqtt_connections", ())] == 2
        assert during[("mqtt_subscriptions", ())] == 1
        received = ("mqtt_messages_received_total", (("qos", "1"),))
        assert during[received] - before[received] == 20
        qos0 = ("mqtt_messages_received_total", (("qos", "0"),))
        assert during[qos0] - before[qos0] == 10
        sent = sum(during[("mqtt_messages_sent_total", (("qos", q),))] for q in "012")
        assert sent >= 30
        for name in ("mqtt_bytes_received_total", "mqtt_bytes_sent_total"):
            assert during[(name, ())] > before[(name, ())]
        assert during[("mqtt_connections_accepted_total", ())] == 2
        # Commits to the stores (--data-dir): the histogram counts them.
        commits = during[("mqtt_storage_commit_seconds_count", ())]
        assert commits > 0
        assert during[("mqtt_storage_commit_seconds_bucket", (("le", "+Inf"),))] == commits
        assert during[("mqtt_storage_commit_seconds_sum", ())] > 0
        # A refused client is counted: 3.1.1, no client id and no clean session.
        with socket.create_connection(("127.0.0.1", broker.port), timeout=TIMEOUT) as raw:
            raw.sendall(b"\x10\x0c\x00\x04MQTT\x04\x00\x00\x3c\x00\x00")
            assert raw.recv(4) == b"\x20\x02\x00\x02"  # identifier rejected
        after = scrape(port)
        assert after[("mqtt_connections_refused_total", ())] == 1
        assert after[("mqtt_sessions", ())] == 1, "the persistent session stays"


def test_only_get_metrics_is_served() -> None:
    with broker_process("--metrics-port", "0") as broker:
        port = metrics_port(broker)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/other", timeout=TIMEOUT)
        assert refused.value.code == 404
        scrape(port)  # still served
