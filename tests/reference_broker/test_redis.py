"""The reference broker with ``--redis-url``: real clients' sessions, queues and
retained messages kept in a ``redis-server`` of the test's own, across a restart of the
broker; and Redis lost mid-run: the broker logs it, clients get errors rather than
silence, and everything works again once Redis is back. (``test_tokio_redis.py`` runs
them against the tokio broker.)"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import support
from .support import V5, V311, Client, broker_process, clients, wait_for
from .test_auth_and_tls import certificates

SESSION = {"SessionExpiryInterval": 300}
_ = certificates  # the fixture, imported for the tests that take it


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[support.RedisServer]:
    with support.redis_server(tmp_path / "redis") as server:
        yield server


def test_sessions_queues_and_retained_messages_are_kept_in_redis(
    redis: support.RedisServer,
) -> None:
    options = ("--redis-url", redis.url, "--redis-prefix", "t1")
    with broker_process(*options) as broker:
        assert f"state kept in Redis at {redis.url}" in broker.output()
        away = Client(broker.port, "rd-away", V5, clean_start=False, connect_properties=SESSION)
        assert away.subscribe("rd/q", qos=1) == [1]
        away.disconnect()
        old = Client(broker.port, "rd-old", V311, clean_start=False)
        assert old.subscribe("rd/q", qos=1) == [1]
        old.disconnect()
        with clients(Client(broker.port, "rd-pub", V5)) as (pub,):
            codes = [pub.publish_code("rd/q", f"m{n}".encode(), qos=1) for n in range(5)]
            assert codes == [0] * 5
            pub.publish("rd/retained", b"kept", qos=1, retain=True)
    with broker_process(*options) as broker:
        assert f"stored sessions taken up from {redis.url}: 2" in broker.output()
        back = Client(broker.port, "rd-away", V5, clean_start=False, connect_properties=SESSION)
        old = Client(broker.port, "rd-old", V311, clean_start=False)
        with clients(back, old, Client(broker.port, "rd-late", V5)) as (_, _, late):
            assert back.connack is not None
            assert back.connack[0].session_present is True
            back.wait_messages(5)
            old.wait_messages(5)
            expected = [f"m{n}".encode() for n in range(5)]
            assert back.payloads() == expected
            assert old.payloads() == expected
            late.subscribe("rd/retained", qos=1)
            late.wait_messages(1)
            assert late.payloads() == [b"kept"]


def test_redis_lost_mid_run_gives_errors_then_everything_works_again(
    redis: support.RedisServer,
) -> None:
    options = ("--redis-url", redis.url, "--redis-prefix", "t2", "--log-level", "INFO")
    with broker_process(*options) as broker:
        away = Client(broker.port, "rd-sub", V5, clean_start=False, connect_properties=SESSION)
        assert away.subscribe("rd/x", qos=1) == [1]
        away.disconnect()
        redis.kill()
        # A QoS 1 PUBLISH that cannot be stored is not acknowledged: its connection is
        # ended (0x80), and its client sends it again later.
        pub = Client(broker.port, "rd-pub", V5)
        pub.paho.publish("rd/x", b"while redis is down", qos=1)
        wait_for(lambda: pub.disconnects, timeout=15)
        assert [int(reason.value) for reason in pub.disconnects] == [0x80]
        assert pub.puback_codes == {}
        wait_for(lambda: "cannot store what was received" in broker.output())
        # A client whose session cannot be stored is told so too, not left waiting.
        late = Client(broker.port, "rd-late", V5, clean_start=False, connect_properties=SESSION)
        wait_for(lambda: late.disconnects, timeout=15)
        assert [int(reason.value) for reason in late.disconnects] == [0x80]
        late.drop()
        redis.start()
        # The connection to Redis comes back by itself: new work is stored again.
        deadline = time.monotonic() + 20
        while not _acknowledged(broker.port, "rd/x", b"after redis is back"):
            assert time.monotonic() < deadline, "Redis was not found again"
            time.sleep(0.2)
        wait_for(lambda: "the stores answer again" in broker.output())
        back = Client(broker.port, "rd-sub", V5, clean_start=False, connect_properties=SESSION)
        with clients(back):
            # What was acknowledged arrives. (What was routed but never acknowledged may
            # arrive too: its publisher was not told it is stored, and sends it again.)
            wait_for(lambda: b"after redis is back" in back.payloads())


def test_a_redis_over_tls_with_a_ca_of_its_own(tmp_path: Path, certificates: Path) -> None:
    redis = support.RedisServer(support.free_port(), tmp_path / "tls-redis", tls=certificates)
    redis.directory.mkdir()
    redis.start()
    try:
        options = ("--redis-url", redis.url, "--redis-ca", str(certificates / "ca.pem"))
        with broker_process(*options) as broker:
            away = Client(
                broker.port, "tls-away", V5, clean_start=False, connect_properties=SESSION
            )
            assert away.subscribe("tls/q", qos=1) == [1]
            away.disconnect()
            with clients(Client(broker.port, "tls-pub", V5)) as (pub,):
                assert pub.publish_code("tls/q", b"over TLS", qos=1) == 0
        with broker_process(*options) as broker:
            back = Client(
                broker.port, "tls-away", V5, clean_start=False, connect_properties=SESSION
            )
            with clients(back):
                back.wait_messages(1)
                assert back.payloads() == [b"over TLS"]
    finally:
        redis.kill()


def _acknowledged(port: int, topic: str, payload: bytes) -> bool:
    """Publish at QoS 1 from a new client; whether it got a PUBACK (0) rather than the
    end of its connection."""
    client = Client(port, "rd-pub-2", V5)
    info = client.paho.publish(topic, payload, qos=1)
    wait_for(lambda: info.mid in client.puback_codes or client.disconnects, timeout=15)
    acknowledged = client.puback_codes.get(info.mid) == 0
    client.drop()
    return acknowledged


def test_a_redis_that_cannot_be_reached_stops_the_start_clearly(tmp_path: Path) -> None:

    url = f"redis://127.0.0.1:{support.free_port()}"
    started = subprocess.run(
        [*support.broker_command(), "--port", "0", "--redis-url", url],
        capture_output=True,
        check=False,
        text=True,
        timeout=30,
    )
    assert started.returncode == 1
    assert f"Redis at {url}: Connection refused" in started.stderr
