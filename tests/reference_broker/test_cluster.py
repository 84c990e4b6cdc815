"""Three broker nodes (``--node-id``) on one ``redis-server`` of the test's own,
with paho 5.0 and 3.1.1 clients: a message published on any node reaches the
subscribers of every node; retained messages, shared subscriptions and sessions are
the cluster's, not a node's; Redis restarted and a node killed lose nothing that was
acknowledged. ``test_tokio_cluster`` runs them against the tokio broker."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import pytest

from mqtt_common.src.auth import hash_password

from . import support
from .support import (
    V5,
    V311,
    BrokerProcess,
    Client,
    broker_process,
    clients,
    wait_for,
)

SESSION = {"SessionExpiryInterval": 300}
PREFIXES = count()


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[support.RedisServer]:
    with support.redis_server(tmp_path / "redis") as server:
        yield server


@dataclass(frozen=True)
class Store:
    """Where the nodes keep their state: a Redis (or Redis Cluster) URL and a prefix of
    the test's own."""

    url: str
    prefix: str


@pytest.fixture(scope="module")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One Redis Cluster of three masters for the module's tests (each under a prefix
    of its own): its URL."""
    with support.redis_cluster(tmp_path_factory.mktemp("cluster")) as nodes:
        yield nodes[0].url


@pytest.fixture(params=["redis", "redis-cluster"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A ``redis-server`` of the test's own, or the module's Redis Cluster."""
    prefix = f"t{next(PREFIXES)}"
    if request.param == "redis":
        with support.redis_server(tmp_path / "redis") as server:
            yield Store(server.url, prefix)
    else:
        yield Store(request.getfixturevalue("redis_cluster"), prefix)


@contextmanager
def node(store: Store, name: str, *options: str) -> Iterator[BrokerProcess]:
    """One node of the cluster."""
    where = ("--redis-url", store.url, "--redis-prefix", store.prefix, "--node-id", name)
    with broker_process(*where, *options) as broker:
        yield broker


@contextmanager
def cluster(store: Store, size: int = 3, *options: str) -> Iterator[list[BrokerProcess]]:
    """``size`` nodes, n1, n2, ..., stopped at the end."""
    with ExitStack() as stack:
        yield [stack.enter_context(node(store, f"n{i + 1}", *options)) for i in range(size)]


def routed(publisher: Client, topic: str, *subscribers: Client) -> None:
    """Wait until a QoS 0 probe published on ``topic`` reaches every subscriber (their
    subscriptions have reached the publisher's node), then forget the probes: call it
    before anything else is published to them."""
    deadline = time.monotonic() + support.TIMEOUT
    while time.monotonic() < deadline:
        publisher.publish(topic, b"probe")
        time.sleep(0.05)
        if all(b"probe" in s.payloads() for s in subscribers):
            time.sleep(0.2)  # the last probes still on their way
            for s in subscribers:
                with s.lock:
                    s.messages.clear()
            return
    raise AssertionError(f"the subscriptions to {topic} did not reach the publisher's node")


def test_a_message_published_on_any_node_reaches_every_node_with_its_qos(
    store: Store,
) -> None:
    with cluster(store) as (n1, n2, n3):
        five = Client(n2.port, "cl-five", V5)
        three = Client(n3.port, "cl-three", V311)
        local = Client(n1.port, "cl-local", V5)
        pub = Client(n1.port, "cl-pub", V5)
        with clients(five, three, local, pub):
            assert five.subscribe("cl/#", qos=2) == [2]
            assert three.subscribe("cl/+", qos=1) == [1]
            assert local.subscribe("cl/x", qos=0) == [0]
            routed(pub, "cl/x", five, three, local)
            for n in range(30):
                pub.publish("cl/x", f"m{n}".encode(), qos=n % 3)
            for subscriber in (five, three, local):
                subscriber.wait_messages(30)
                got = [int(m.payload[1:]) for m in subscriber.messages]
                assert sorted(got) == list(range(30)), "every one, once"
                # In order per QoS as published, as MQTT promises (paho hands a QoS 2
                # message over at its PUBREL, after a QoS 0 message sent behind it).
                for qos in range(3):
                    sent = [n for n in got if n % 3 == qos]
                    assert sent == sorted(sent), f"in order: {got}"
            assert all(m.qos == int(m.payload[1:]) % 3 for m in five.messages)
            assert all(m.qos == min(int(m.payload[1:]) % 3, 1) for m in three.messages)
            assert {m.qos for m in local.messages} == {0}
            # A 5.0 publisher is told when no node has a subscriber.
            assert pub.publish_code("nobody/here", b"x", qos=1) == 0x10
            assert pub.publish_code("cl/x", b"y", qos=1) == 0


def test_retained_messages_are_set_replaced_and_cleared_from_any_node(
    store: Store,
) -> None:

    def seen(port: int) -> list[bytes]:
        with clients(Client(port, "", V5)) as (late,):
            late.subscribe("cl/r", qos=1)
            time.sleep(0.2)
            return late.payloads()

    with cluster(store) as (n1, n2, n3):
        with clients(Client(n1.port, "r1"), Client(n2.port, "r2", V311)) as (one, two):
            one.publish("cl/r", b"first", qos=1, retain=True)
            two.publish("cl/r", b"second", qos=1, retain=True)
        wait_for(lambda: all(seen(n.port) == [b"second"] for n in (n1, n2, n3)))
        with clients(Client(n3.port, "r3")) as (three,):
            three.publish("cl/r", b"", qos=1, retain=True)
        wait_for(lambda: all(seen(n.port) == [] for n in (n1, n2, n3)))


def test_a_shared_group_with_members_on_two_nodes_gets_each_message_once(
    store: Store,
) -> None:
    with cluster(store) as (n1, n2, n3):
        a = Client(n1.port, "sh-a", V5)
        b = Client(n2.port, "sh-b", V5)
        c = Client(n2.port, "sh-c", V311)
        watcher = Client(n2.port, "sh-watch", V5)
        pub = Client(n3.port, "sh-pub", V5)
        with clients(a, b, c, watcher, pub):
            for member in (a, b, c):
                assert member.subscribe("$share/g/sh/#", qos=1) == [1]
            watcher.subscribe("sh/#", qos=1)
            routed(pub, "sh/1", watcher)
            time.sleep(0.3)  # n1's filter too
            for member in (a, b, c):
                with member.lock:
                    member.messages.clear()
            for n in range(60):
                pub.publish("sh/1", f"s{n}".encode(), qos=1)
            watcher.wait_messages(60)
            wait_for(lambda: sum(len(m.payloads()) for m in (a, b, c)) >= 60)
            time.sleep(0.3)
            got = [p for m in (a, b, c) for p in m.payloads()]
            assert sorted(got) == sorted(f"s{n}".encode() for n in range(60)), "each once"
            assert all(m.payloads() for m in (a, b, c)), "every member has some"


def test_each_node_asks_its_auth_files_who_may_receive_what_another_node_sends(
    redis: support.RedisServer, tmp_path: Path
) -> None:
    passwd, acl = tmp_path / "passwd", tmp_path / "acl"
    passwd.write_text(
        "".join(f"{user}:{hash_password('pw')}\n" for user in ("reader", "writer", "nosy"))
    )
    acl.write_text(
        "user reader\ntopic read public/#\n"
        "user writer\ntopic write #\n"
        "user nosy\ntopic read #\ntopic deny public/hidden\n"
    )
    auth = ("--password-file", str(passwd), "--acl-file", str(acl))
    with cluster(Store(redis.url, "acl"), 2, *auth) as (n1, n2):
        reader = Client(n2.port, "acl-reader", V5, username="reader", password="pw")
        nosy = Client(n2.port, "acl-nosy", V311, username="nosy", password="pw")
        writer = Client(n1.port, "acl-writer", V5, username="writer", password="pw")
        with clients(reader, nosy, writer):
            assert reader.subscribe("#", qos=1) == [1]  # allowed: ACLs decide receiving
            assert nosy.subscribe("#", qos=1) == [1]
            routed(writer, "public/probe", reader, nosy)
            for topic in ("public/a", "secret/b", "public/hidden"):
                assert writer.publish_code(topic, topic.encode(), qos=1) == 0
            wait_for(lambda: len(nosy.payloads()) >= 2 and len(reader.payloads()) >= 2)
            time.sleep(0.3)
            assert reader.payloads() == [b"public/a", b"public/hidden"]
            assert nosy.payloads() == [b"public/a", b"secret/b"]


def test_a_persistent_session_leaves_one_node_and_resumes_on_another(
    store: Store,
) -> None:
    with cluster(store) as (n1, n2, n3):
        away = Client(n1.port, "cl-away", V5, clean_start=False, connect_properties=SESSION)
        old = Client(n1.port, "cl-old", V311, clean_start=False)
        pub = Client(n3.port, "cl-pub2", V5)
        with clients(pub):
            assert away.subscribe("cl/q", qos=1) == [1]
            assert old.subscribe("cl/q", qos=2) == [2]
            routed(pub, "cl/q", away, old)
            away.disconnect()
            old.disconnect()
            codes = [pub.publish_code("cl/q", f"q{n}".encode(), qos=1) for n in range(10)]
            assert codes == [0] * 10
            back = Client(n2.port, "cl-away", V5, clean_start=False, connect_properties=SESSION)
            old_back = Client(n3.port, "cl-old", V311, clean_start=False)
            with clients(back, old_back):
                assert back.connack is not None
                assert back.connack[0].session_present is True
                assert old_back.connack is not None
                assert old_back.connack[0].session_present is True
                expected = [f"q{n}".encode() for n in range(10)]
                back.wait_messages(10)
                old_back.wait_messages(10)
                assert back.payloads() == expected
                assert old_back.payloads() == expected
                # And what is published from now on reaches them on their new nodes.
                pub.publish("cl/q", b"after", qos=1)
                back.wait_messages(11)
                old_back.wait_messages(11)
        assert "the session of cl-away comes from node n1" in n2.output()


def test_connecting_on_another_node_takes_the_session_over(
    store: Store,
) -> None:
    with cluster(store) as (n1, _n2, n3):
        first = Client(n1.port, "cl-taken", V5, clean_start=False, connect_properties=SESSION)
        first.subscribe("cl/t", qos=1)
        second = Client(n3.port, "cl-taken", V5, clean_start=False, connect_properties=SESSION)
        with clients(first, second):
            wait_for(lambda: first.disconnects)
            assert [int(reason.value) for reason in first.disconnects] == [0x8E]
            assert second.connack is not None
            assert second.connack[0].session_present is True
            with clients(Client(n1.port, "cl-pub3")) as (pub,):
                routed(pub, "cl/t", second)
                pub.publish("cl/t", b"to the new node", qos=1)
                second.wait_messages(1)
                assert second.payloads() == [b"to the new node"]
            assert first.payloads() == []


def test_redis_restarted_mid_run_is_survived(redis: support.RedisServer) -> None:
    """Redis is away longer than the nodes' lease (1 s): once it is back, no node takes
    another for dead (each first gives the others a lease to renew theirs)."""
    with cluster(Store(redis.url, "rr"), 2, "--node-lease", "1") as (n1, n2):
        sub = Client(n2.port, "cl-rsub", V5, clean_start=False, connect_properties=SESSION)
        with clients(Client(n1.port, "cl-rprobe", V5)) as (probe,):
            sub.subscribe("cl/r/#", qos=1)
            routed(probe, "cl/r/x", sub)
        sub.disconnect()
        redis.kill()
        time.sleep(2.5)
        redis.start()
        # Once the nodes have Redis again, a publication on one node reaches the
        # session on the other (a client the outage disconnected connects again).

        def delivered() -> bool:
            try:
                with clients(Client(n1.port, "cl-rpub", V5)) as (pub,):
                    if pub.publish_code("cl/r/x", b"after the restart", qos=1) != 0:
                        return False
            except (AssertionError, OSError, RuntimeError):
                return False
            return True

        wait_for(delivered, timeout=30)
        try:
            back = [Client(n2.port, "cl-rsub", V5, clean_start=False, connect_properties=SESSION)]
        except AssertionError:
            raise AssertionError(f"n1:\n{n1.output()}\n\nn2:\n{n2.output()}") from None

        def received() -> bool:
            if back[-1].disconnects:  # ended by a store the outage failed: again
                back.append(
                    Client(n2.port, "cl-rsub", V5, clean_start=False, connect_properties=SESSION)
                )
            return any(b"after the restart" in client.payloads() for client in back)

        try:
            wait_for(received, timeout=20)
        finally:
            with clients(*back):
                pass
        assert "cannot read" in n1.output() + n2.output(), "the outage was logged"
        time.sleep(1.5)
        for node_process in (n1, n2):
            assert node_process.process.poll() is None, node_process.output()
            assert "adopting" not in node_process.output()


def test_a_node_killed_under_qos_1_load_loses_no_acknowledged_message(
    store: Store,
) -> None:
    """The publisher's node, then the subscriber's node, SIGKILLed while publishing:
    every message a PUBACK acknowledged reaches the subscriber on the other node (the
    subscriber's node comes back, and reads its inbox from where it stopped)."""
    with cluster(store, 2) as (n1, n2):
        sub = Client(n2.port, "cl-ksub", V5, clean_start=False, connect_properties=SESSION)
        sub.subscribe("cl/k", qos=1)
        sub.disconnect()  # away: what it is owed is queued on n2, in Redis
        acknowledged: list[bytes] = []
        with clients(Client(n1.port, "cl-kpub-probe", V5)) as (probe,):
            assert probe.publish_code("cl/k", b"probe", qos=1) == 0
        acknowledged.append(b"probe")
        stop = threading.Event()

        def publish_until_dropped(port: int, prefix: str) -> None:
            pub = Client(port, f"cl-kpub-{prefix}", V5)
            n = 0
            try:
                while not stop.is_set() and pub.paho.is_connected():
                    payload = f"{prefix}{n}".encode()
                    info = pub.paho.publish("cl/k", payload, qos=1)
                    info.wait_for_publish(2)
                    if info.is_published() and pub.puback_codes.get(info.mid) == 0:
                        acknowledged.append(payload)
                    n += 1
            except (RuntimeError, ValueError):
                pass  # the broker went away mid-publication
            finally:
                pub.paho.loop_stop()

        # The publisher's node dies.
        loader = threading.Thread(target=publish_until_dropped, args=(n1.port, "a"))
        loader.start()
        time.sleep(1.0)
        n1.process.send_signal(signal.SIGKILL)
        loader.join(timeout=10)
        # The subscriber's node dies, with messages from a third node arriving.
        with node(store, "n3") as n3:
            stop.clear()
            loader = threading.Thread(target=publish_until_dropped, args=(n3.port, "b"))
            loader.start()
            time.sleep(1.0)
            n2.process.send_signal(signal.SIGKILL)
            n2.process.wait()
            time.sleep(0.3)
            stop.set()
            loader.join(timeout=10)
            with node(store, "n2") as n2_again:
                back = Client(
                    n2_again.port, "cl-ksub", V5, clean_start=False, connect_properties=SESSION
                )
                with clients(back):
                    want = set(acknowledged)
                    wait_for(lambda: want <= set(back.payloads()), timeout=30)
        assert len(acknowledged) > 50, f"too little load to mean anything: {len(acknowledged)}"


def test_a_dead_nodes_sessions_are_adopted_and_their_wills_fire_once(
    store: Store,
) -> None:
    """n1 is SIGKILLed: once its lease (2 s) ends, one survivor adopts its sessions. The
    Wills of its connected clients (a persistent session's and a clean one's) are
    published once, cluster-wide; a session that was away resumes on another node with
    everything published for it, before and after the death."""
    with ExitStack() as stack:
        n1, n2, n3 = stack.enter_context(cluster(store, 3, "--node-lease", "2"))
        watchers = [Client(n.port, f"ad-watch{i}", V5) for i, n in enumerate((n2, n3))]
        pub = Client(n2.port, "ad-pub", V5)
        stack.enter_context(clients(*watchers, pub))
        for watcher in watchers:
            watcher.subscribe("ad/will", qos=1)
        away = Client(n1.port, "ad-away", V5, clean_start=False, connect_properties=SESSION)
        away.subscribe("ad/q", qos=1)
        routed(pub, "ad/q", away)
        away.disconnect()
        Client(
            n1.port,
            "ad-holder",
            V5,
            clean_start=False,
            connect_properties=SESSION,
            will=("ad/will", b"n1 is gone", 1, False),
        )
        Client(n1.port, "ad-clean", V311, will=("ad/will", b"clean, gone too", 1, False))
        routed(pub, "ad/will", *watchers)
        before = [pub.publish_code("ad/q", f"b{n}".encode(), qos=1) for n in range(5)]
        assert before == [0] * 5
        n1.process.send_signal(signal.SIGKILL)
        n1.process.wait()
        after = [pub.publish_code("ad/q", f"a{n}".encode(), qos=1) for n in range(5)]
        assert after == [0] * 5
        for watcher in watchers:
            watcher.wait_messages(2)
        wait_for(lambda: any("adopting node n1" in n.output() for n in (n2, n3)), timeout=20)
        adopters = [n for n in (n2, n3) if "adopting node n1: 3 sessions" in n.output()]
        assert len(adopters) == 1, "one survivor adopts it"
        time.sleep(0.5)
        for watcher in watchers:
            wills = sorted(watcher.payloads())
            assert wills == [b"clean, gone too", b"n1 is gone"], "each Will, once"
        back = Client(n3.port, "ad-away", V5, clean_start=False, connect_properties=SESSION)
        with clients(back):
            assert back.connack is not None
            assert back.connack[0].session_present is True
            expected = {f"b{n}".encode() for n in range(5)} | {f"a{n}".encode() for n in range(5)}
            wait_for(lambda: expected <= set(back.payloads()))


def test_a_client_back_before_its_dead_node_is_adopted_waits_for_the_adoption(
    redis: support.RedisServer,
) -> None:
    """The subscriber's node dies while messages are sent to it; the subscriber comes
    back on another node at once. Until a survivor has adopted the dead node (and with
    it the session and what waits in the dead node's inbox), it is refused with Server
    unavailable; then it resumes the session with everything a publisher was
    acknowledged. (Taking the session as stored at once lost what waited in the dead
    node's inbox.)"""
    with cluster(Store(redis.url, "ab"), 3, "--node-lease", "2") as (n1, n2, n3):
        sub = Client(n2.port, "ab-sub", V5, clean_start=False, connect_properties=SESSION)
        pub = Client(n1.port, "ab-pub", V5)
        with clients(pub):
            sub.subscribe("ab/q", qos=1)
            routed(pub, "ab/q", sub)
            n2.process.send_signal(signal.SIGKILL)
            n2.process.wait()
            codes = [pub.publish_code("ab/q", f"m{n}".encode(), qos=1) for n in range(10)]
            assert codes == [0] * 10
            refusals: list[int] = []
            back: list[Client] = []

            def resumed() -> bool:
                client = Client(
                    n3.port, "ab-sub", V5, clean_start=False, connect_properties=SESSION
                )
                assert client.connack is not None
                code = int(client.connack[1].value)
                if code == 0:
                    back.append(client)
                    return True
                refusals.append(code)
                client.paho.loop_stop()
                return False

            wait_for(resumed, timeout=20)
            assert set(refusals) <= {0x88}, refusals
            with clients(*back):
                assert back[0].connack is not None
                assert back[0].connack[0].session_present is True
                want = {f"m{n}".encode() for n in range(10)}
                wait_for(lambda: want <= set(back[0].payloads()), timeout=15)
