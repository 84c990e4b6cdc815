"""Every feature of the reference broker, as real clients observe it: paho-mqtt 2.2
(3.1.1 and 5.0) and Debian's mosquitto_pub / mosquitto_sub against the broker started as
a program on 127.0.0.1. One test per feature; each asserts what the client sees."""

from __future__ import annotations

import functools
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from paho.mqtt.enums import MQTTProtocolVersion

from mqtt_common.models.packets import Publish
from mqtt_common.utils.codec import Decoder

from .support import V5, V311, BrokerProcess, Client, broker_process, clients, wait_for

PUB = shutil.which("mosquitto_pub") or "mosquitto_pub"
SUB = shutil.which("mosquitto_sub") or "mosquitto_sub"
VERSIONS = [pytest.param(V311, id="3.1.1"), pytest.param(V5, id="5.0")]
Version = MQTTProtocolVersion


@pytest.fixture(scope="module")
def broker() -> Iterator[BrokerProcess]:
    with broker_process() as running:
        yield running


def test_qos_0_1_2_both_ways_in_order(broker: BrokerProcess) -> None:
    for version in (V311, V5):
        name = "311" if version == V311 else "5"
        with clients(
            Client(broker.port, f"qos-sub-{name}", version),
            Client(broker.port, f"qos-pub-{name}", version),
        ) as (sub, pub):
            assert sub.subscribe(f"qos/{name}/#", qos=2) == [2]
            for qos in (0, 1, 2):
                for n in range(20):
                    pub.publish(f"qos/{name}/{qos}", f"{qos}-{n}".encode(), qos)
            messages = sub.wait_messages(60)
            for qos in (0, 1, 2):
                got = [m.payload for m in messages if m.topic == f"qos/{name}/{qos}"]
                assert got == [f"{qos}-{n}".encode() for n in range(20)]  # ordered per topic
                assert {m.qos for m in messages if m.topic == f"qos/{name}/{qos}"} == {qos}


@pytest.mark.parametrize("version", VERSIONS)
def test_retained_messages(broker: BrokerProcess, version: Version) -> None:
    tag = "311" if version == V311 else "5"
    with clients(Client(broker.port, f"ret-pub-{tag}", version)) as (pub,):
        pub.publish(f"ret/{tag}/a", b"kept", qos=1, retain=True)
        pub.publish(f"ret/{tag}/b", b"gone", qos=1, retain=True)
        pub.publish(f"ret/{tag}/b", b"", qos=1, retain=True)  # an empty payload deletes it
    with clients(Client(broker.port, f"ret-sub-{tag}", version)) as (sub,):
        sub.subscribe(f"ret/{tag}/#", qos=1)
        [message] = sub.wait_messages(1)
        time.sleep(0.2)
        assert len(sub.messages) == 1
        assert (message.topic, message.payload, message.retain) == (f"ret/{tag}/a", b"kept", True)


def test_retain_handling_0_1_2(broker: BrokerProcess) -> None:
    with clients(Client(broker.port, "rh-pub")) as (pub,):
        pub.publish("rh/t", b"r", qos=1, retain=True)
    with clients(Client(broker.port, "rh-sub")) as (sub,):
        sub.subscribe("rh/#", qos=1, retainHandling=2)  # never
        time.sleep(0.2)
        assert sub.payloads() == []
        sub.subscribe("rh/+", qos=1, retainHandling=1)  # a new subscription: sent
        wait_for(lambda: sub.payloads() == [b"r"])
        sub.subscribe("rh/+", qos=1, retainHandling=1)  # it existed: not again
        sub.subscribe("rh/t", qos=1, retainHandling=0)  # always
        wait_for(lambda: sub.payloads() == [b"r", b"r"])
        time.sleep(0.2)
        assert sub.payloads() == [b"r", b"r"]


def test_retain_as_published(broker: BrokerProcess) -> None:
    with clients(
        Client(broker.port, "rap-keep"), Client(broker.port, "rap-clear"), Client(broker.port)
    ) as (keep, clear, pub):
        keep.subscribe("rap/#", qos=1, retainAsPublished=True)
        clear.subscribe("rap/#", qos=1)
        pub.publish("rap/x", b"v", qos=1, retain=True)
        [kept] = keep.wait_messages(1)
        [cleared] = clear.wait_messages(1)
        assert kept.retain is True
        assert cleared.retain is False


@pytest.mark.parametrize("version", VERSIONS)
def test_will_on_unclean_end_and_not_on_disconnect(
    broker: BrokerProcess, version: Version
) -> None:
    tag = "311" if version == V311 else "5"
    with clients(Client(broker.port, f"will-watch-{tag}", version)) as (watcher,):
        watcher.subscribe(f"will/{tag}/#", qos=1)
        polite = Client(
            broker.port,
            f"will-polite-{tag}",
            version,
            will=(f"will/{tag}/polite", b"gone", 1, False),
        )
        polite.disconnect()
        rude = Client(
            broker.port, f"will-rude-{tag}", version, will=(f"will/{tag}/rude", b"gone", 1, False)
        )
        rude.drop()
        [message] = watcher.wait_messages(1)
        time.sleep(0.3)
        assert [m.topic for m in watcher.messages] == [f"will/{tag}/rude"]
        assert message.payload == b"gone"


def test_will_delay_and_a_reconnect_before_it(broker: BrokerProcess) -> None:
    with clients(Client(broker.port, "wd-watch")) as (watcher,):
        watcher.subscribe("wd/#", qos=1)
        session = {"SessionExpiryInterval": 60}
        delay = {"WillDelayInterval": 2}
        late = Client(
            broker.port,
            "wd-1",
            clean_start=False,
            connect_properties=session,
            will=("wd/1", b"late", 1, False),
            will_properties=delay,
        )
        back = Client(
            broker.port,
            "wd-2",
            clean_start=False,
            connect_properties=session,
            will=("wd/2", b"cancelled", 1, False),
            will_properties=delay,
        )
        dropped_at = time.monotonic()
        late.drop()
        back.drop()
        again = Client(broker.port, "wd-2", clean_start=False, connect_properties=session)
        assert time.monotonic() - dropped_at < 1.5
        time.sleep(0.5)
        assert watcher.payloads() == []  # not before the delay
        wait_for(lambda: watcher.payloads() == [b"late"], timeout=5)
        assert time.monotonic() - dropped_at >= 1.9
        time.sleep(0.5)
        assert watcher.payloads() == [b"late"]  # wd-2 came back in time: no Will
        again.disconnect()


@pytest.mark.parametrize("version", VERSIONS)
def test_persistent_session_queues_while_offline(broker: BrokerProcess, version: Version) -> None:
    tag = "311" if version == V311 else "5"
    session = {"SessionExpiryInterval": 300} if version == V5 else None
    sub = Client(broker.port, f"ps-{tag}", version, clean_start=False, connect_properties=session)
    sub.subscribe(f"ps/{tag}", qos=1)
    sub.disconnect()
    with clients(Client(broker.port, f"ps-pub-{tag}", version)) as (pub,):
        for n in range(5):
            pub.publish(f"ps/{tag}", f"m{n}".encode(), qos=1)
        pub.publish(f"ps/{tag}", b"qos0 is not kept", qos=0)
    back = Client(broker.port, f"ps-{tag}", version, clean_start=False, connect_properties=session)
    with clients(back):
        assert back.connack is not None
        assert back.connack[0].session_present is True
        back.wait_messages(5)
        time.sleep(0.2)
        assert back.payloads() == [f"m{n}".encode() for n in range(5)]


def test_session_expiry_ends_the_session(broker: BrokerProcess) -> None:
    short = {"SessionExpiryInterval": 1}
    sub = Client(broker.port, "se-1", clean_start=False, connect_properties=short)
    sub.subscribe("se/x", qos=1)
    sub.disconnect()
    time.sleep(1.5)
    with clients(Client(broker.port, "se-1", clean_start=False, connect_properties=short)) as (
        back,
    ):
        assert back.connack is not None
        assert back.connack[0].session_present is False


def test_overlapping_subscriptions_deliver_once_with_every_identifier(
    broker: BrokerProcess,
) -> None:
    with clients(Client(broker.port, "ov-sub"), Client(broker.port)) as (sub, pub):
        sub.subscribe("ov/#", qos=1, properties={"SubscriptionIdentifier": 3})
        sub.subscribe("ov/+/x", qos=2, properties={"SubscriptionIdentifier": 7})
        pub.publish("ov/a/x", b"once", qos=2)
        [message] = sub.wait_messages(1)
        time.sleep(0.2)
        assert len(sub.messages) == 1
        assert message.qos == 2
        assert sorted(message.properties.SubscriptionIdentifier) == [3, 7]  # type: ignore[union-attr]


def test_dollar_topics_are_not_matched_by_wildcards(broker: BrokerProcess) -> None:
    with clients(
        Client(broker.port, "dl-all"), Client(broker.port, "dl-sys"), Client(broker.port)
    ) as (
        everything,
        system,
        pub,
    ):
        everything.subscribe("#", qos=1)
        system.subscribe("$internal/#", qos=1)
        pub.publish("$internal/x", b"s", qos=1)
        wait_for(lambda: system.payloads() == [b"s"])
        time.sleep(0.2)
        assert b"s" not in everything.payloads()


def test_shared_subscriptions_deliver_to_one_member_in_turn(broker: BrokerProcess) -> None:
    with clients(
        Client(broker.port, "sh-a"), Client(broker.port, "sh-b"), Client(broker.port)
    ) as (a, b, pub):
        a.subscribe("$share/g/sh/#", qos=1)
        b.subscribe("$share/g/sh/#", qos=1)
        for n in range(10):
            pub.publish("sh/x", f"{n}".encode(), qos=1)
        wait_for(lambda: len(a.messages) + len(b.messages) == 10)
        time.sleep(0.2)
        assert len(a.messages) + len(b.messages) == 10
        assert len(a.messages) == len(b.messages) == 5  # rotating, one member each time


def test_no_local(broker: BrokerProcess) -> None:
    with clients(Client(broker.port, "nl-me"), Client(broker.port, "nl-other")) as (me, other):
        me.subscribe("nl/#", qos=1, noLocal=True)
        other.subscribe("nl/#", qos=1)
        me.publish("nl/x", b"mine", qos=1)
        wait_for(lambda: other.payloads() == [b"mine"])
        time.sleep(0.2)
        assert me.payloads() == []


def test_topic_aliases_both_ways(broker: BrokerProcess) -> None:
    with clients(
        # paho passes the Topic Alias Maximum it is given but resolves no inbound alias:
        # the server's aliases are checked with a raw client below.
        Client(broker.port, "ta-sub"),
        Client(broker.port, "ta-pub"),
    ) as (sub, pub):
        assert pub.connack is not None
        assert pub.connack[2].TopicAliasMaximum == 10  # the server's, announced
        sub.subscribe("ta/#", qos=1)
        # The client sets alias 1, then publishes by the alias alone.
        pub.publish("ta/long/topic/name", b"1", qos=1, properties={"TopicAlias": 1})
        pub.publish("", b"2", qos=1, properties={"TopicAlias": 1})
        messages = sub.wait_messages(2)
        assert [(m.topic, m.payload) for m in messages] == [
            ("ta/long/topic/name", b"1"),
            ("ta/long/topic/name", b"2"),
        ]
    # The server's aliases, seen on the wire by a raw client.
    with raw_v5(broker.port, "ta-raw", topic_alias_maximum=5) as raw:
        raw.sendall(b"\x82\x0b\x00\x01\x00\x00\x05ta2/#\x00")  # SUBSCRIBE ta2/# QoS 0
        read_exactly(raw, 6)  # SUBACK
        with clients(Client(broker.port)) as (pub,):
            pub.publish("ta2/abc", b"x")
            pub.publish("ta2/abc", b"y")
        first, second = read_packet(raw), read_packet(raw)
        assert first == b"\x30\x0e\x00\x07ta2/abc\x03\x23\x00\x01x"  # topic and alias 1
        assert second == b"\x30\x07\x00\x00\x03\x23\x00\x01y"  # the alias alone


def test_maximum_packet_size_of_the_client(broker: BrokerProcess) -> None:
    with clients(
        Client(broker.port, "mps-sub", connect_properties={"MaximumPacketSize": 64}),
        Client(broker.port),
    ) as (sub, pub):
        sub.subscribe("mps/#", qos=1)
        pub.publish("mps/big", b"x" * 200, qos=1)
        pub.publish("mps/small", b"ok", qos=1)
        wait_for(lambda: sub.payloads() == [b"ok"])  # the big one is dropped, not sent


def test_receive_maximum_flow_control(broker: BrokerProcess) -> None:
    with raw_v5(broker.port, "rm-raw", receive_maximum=1) as raw:
        raw.sendall(b"\x82\x0a\x00\x01\x00\x00\x04rm/#\x01")  # SUBSCRIBE rm/# QoS 1
        read_exactly(raw, 6)
        with clients(Client(broker.port)) as (pub,):
            pub.publish("rm/a", b"1", qos=1)
            pub.publish("rm/a", b"2", qos=1)
        first = read_packet(raw)
        assert first.endswith(b"1")
        raw.settimeout(0.5)
        with pytest.raises(TimeoutError):  # the second waits for our PUBACK
            raw.recv(1)
        raw.settimeout(5)
        topic_end = 4 + int.from_bytes(first[2:4], "big")
        raw.sendall(b"\x40\x02" + first[topic_end : topic_end + 2])  # PUBACK the first
        assert read_packet(raw).endswith(b"2")


def test_message_expiry_while_queued(broker: BrokerProcess) -> None:
    session = {"SessionExpiryInterval": 300}
    sub = Client(broker.port, "mx-sub", clean_start=False, connect_properties=session)
    sub.subscribe("mx/#", qos=1)
    sub.disconnect()
    with clients(Client(broker.port)) as (pub,):
        pub.publish("mx/short", b"expires", qos=1, properties={"MessageExpiryInterval": 1})
        pub.publish("mx/long", b"stays", qos=1, properties={"MessageExpiryInterval": 100})
    time.sleep(2.2)
    with clients(Client(broker.port, "mx-sub", clean_start=False, connect_properties=session)) as (
        back,
    ):
        [message] = back.wait_messages(1)
        time.sleep(0.2)
        assert back.payloads() == [b"stays"]
        assert 90 <= message.properties.MessageExpiryInterval <= 98  # type: ignore[union-attr]


def test_request_response_and_user_properties_pass_through(broker: BrokerProcess) -> None:
    with clients(Client(broker.port, "rr-sub"), Client(broker.port)) as (sub, pub):
        sub.subscribe("rr/#", qos=1)
        pub.publish(
            "rr/req",
            b"{}",
            qos=1,
            properties={
                "ResponseTopic": "rr/reply",
                "CorrelationData": b"\x00\x01",
                "UserProperty": [("k", "v"), ("k", "w")],
                "ContentType": "application/json",
                "PayloadFormatIndicator": 1,
            },
        )
        [message] = sub.wait_messages(1)
        properties = message.properties
        assert properties is not None
        got = {
            name: getattr(properties, name)
            for name in (
                "ResponseTopic",
                "CorrelationData",
                "UserProperty",
                "ContentType",
                "PayloadFormatIndicator",
            )
        }
        assert got == {
            "ResponseTopic": "rr/reply",
            "CorrelationData": b"\x00\x01",
            "UserProperty": [("k", "v"), ("k", "w")],
            "ContentType": "application/json",
            "PayloadFormatIndicator": 1,
        }


def test_assigned_client_identifier(broker: BrokerProcess) -> None:
    with clients(Client(broker.port, "")) as (anonymous,):
        assert anonymous.connack is not None
        assigned = anonymous.connack[2].AssignedClientIdentifier
        assert assigned.startswith("auto-")


def test_server_keep_alive() -> None:
    with (
        broker_process("--max-keep-alive", "10") as capped,
        clients(Client(capped.port, "ka", keepalive=120)) as (client,),
    ):
        assert client.connack is not None
        assert client.connack[2].ServerKeepAlive == 10


def test_a_silent_client_is_dropped_after_one_and_a_half_keep_alives(
    broker: BrokerProcess,
) -> None:
    """[MQTT-3.1.2-24]: nothing from the client for 1.5 times its Keep Alive ends the
    connection, and its Will is published."""

    def string(text: bytes) -> bytes:
        return len(text).to_bytes(2, "big") + text

    # 3.1.1, clean session, a QoS 0 Will, Keep Alive 1 s.
    body = string(b"MQTT") + bytes([4, 0x06]) + (1).to_bytes(2, "big")
    body += string(b"ka-silent") + string(b"ka/will") + string(b"gone")
    with clients(Client(broker.port, "ka-watch")) as (watcher,):
        assert watcher.subscribe("ka/will", qos=1) == [1]
        with socket.create_connection(("127.0.0.1", broker.port), timeout=10) as silent:
            silent.sendall(bytes([0x10, len(body)]) + body)
            started = time.monotonic()
            assert silent.recv(4) == b"\x20\x02\x00\x00"  # CONNACK, accepted
            while silent.recv(1024):  # nothing more is sent, until the end
                pass
            waited = time.monotonic() - started
        assert 1.4 < waited < 3.0
        assert [m.payload for m in watcher.wait_messages(1)] == [b"gone"]


def test_session_takeover(broker: BrokerProcess) -> None:
    first = Client(broker.port, "to-1")
    with clients(first, Client(broker.port, "to-1")):
        wait_for(lambda: first.disconnects != [])
        assert int(first.disconnects[0].value) == 0x8E  # Session taken over


def test_mosquitto_clients_both_versions(broker: BrokerProcess) -> None:
    for version in ("311", "5"):
        sub = subprocess.Popen(
            [
                SUB,
                "-p",
                str(broker.port),
                "-V",
                version,
                "-t",
                f"mq/{version}/#",
                "-q",
                "2",
                "-C",
                "3",
                "-v",
                "-i",
                f"mq-sub-{version}",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for(functools.partial(logged, broker, f"mq-sub-{version} connected"))
            time.sleep(0.1)
            for qos in (0, 1, 2):
                subprocess.run(
                    [
                        PUB,
                        "-p",
                        str(broker.port),
                        "-V",
                        version,
                        "-t",
                        f"mq/{version}/{qos}",
                        "-m",
                        f"q{qos}",
                        "-q",
                        str(qos),
                    ],
                    check=True,
                    timeout=10,
                )
            out, _ = sub.communicate(timeout=10)
        finally:
            if sub.poll() is None:
                sub.kill()
        assert out.split("\n")[:3] == [
            f"mq/{version}/0 q0",
            f"mq/{version}/1 q1",
            f"mq/{version}/2 q2",
        ]


def test_a_log_line_per_connection_event(broker: BrokerProcess) -> None:
    with clients(Client(broker.port, "log-me")):
        pass
    wait_for(
        lambda: re.search(
            r"client 'log-me' \(no user name, 127\.0\.0\.1:\d+\) disconnected by the client: "
            r"success \(0x00\)",
            broker.output(),
        )
    )
    assert "log-me connected from 127.0.0.1:" in broker.output()


def test_graceful_shutdown_on_sigterm() -> None:
    with broker_process() as running:
        client = Client(running.port, "bye")
        running.process.terminate()
        assert running.process.wait(timeout=10) == 0
        wait_for(lambda: client.disconnects != [])
        assert int(client.disconnects[0].value) == 0x8B  # Server shutting down
        client.paho.loop_stop()


def logged(broker: BrokerProcess, text: str) -> bool:
    """Return whether the broker printed ``text``."""
    return text in broker.output()


# ---- raw clients, for what paho hides ----


def read_exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise AssertionError("connection closed")
        data += chunk
    return data


def read_packet(sock: socket.socket) -> bytes:
    """Read one whole packet (remaining length below 128 here)."""
    header = read_exactly(sock, 2)
    return header + read_exactly(sock, header[1])


def raw_v5(port: int, client_id: str, **limits: int) -> socket.socket:
    """A 5.0 client on a plain socket, connected with these CONNECT properties."""
    codes = {"topic_alias_maximum": b"\x22", "receive_maximum": b"\x21"}
    properties = b"".join(codes[name] + value.to_bytes(2, "big") for name, value in limits.items())
    body = b"\x00\x04MQTT\x05\x02\x00\x3c" + bytes([len(properties)]) + properties
    body += len(client_id).to_bytes(2, "big") + client_id.encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(bytes([0x10, len(body)]) + body)
    connack = read_packet(sock)
    assert connack[:1] == b"\x20", connack
    assert connack[3] == 0, connack  # accepted
    return sock


def test_a_burst_beyond_the_unread_limit_reaches_a_client_that_reads_it() -> None:
    """The retained messages of a new ``#`` subscription may go over ``--max-unread``;
    a client that reads is not cut off for it; one that reads nothing is, a second
    later."""
    limit = 2 << 20
    # About 6.5 MB: what the kernel's buffers do not take (4 MB at most) still leaves
    # more than the limit waiting in the broker, and less than four times it.
    retained = 26_000
    with (
        broker_process("--max-unread", str(limit)) as broker,
        clients(Client(broker.port, "filler", V311)) as (filler,),
    ):
        for n in range(retained):
            filler.publish(f"burst/{n}", b"x" * 230, 0, retain=True)
        filler.publish_code("sync", b"", 1)  # the broker has read them all

        def subscriber(client_id: str) -> socket.socket:
            sock = socket.create_connection(("127.0.0.1", broker.port), timeout=5)
            body = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(client_id).to_bytes(2, "big")
            body += client_id.encode()
            sock.sendall(bytes([0x10, len(body)]) + body)
            assert read_packet(sock)[:2] == b"\x20\x02"
            sock.sendall(b"\x82\x06\x00\x01\x00\x01#\x00")  # SUBSCRIBE # at QoS 0
            return sock

        with subscriber("reader") as reader:
            time.sleep(0.5)  # the burst is written meanwhile; none of it is read yet
            decoder = Decoder(4, direction="from_server")
            got = 0
            while got < retained:
                chunk = reader.recv(1 << 20)
                assert chunk, f"disconnected after {got} messages"
                got += sum(isinstance(p, Publish) for p in decoder.feed(chunk))
        assert got == retained
        assert "reader does not read" not in broker.output()

        with subscriber("never-reads"):
            for _ in range(30):  # a trickle, far below four times the limit
                filler.publish("burst/live", b"y" * 100, 0)
                time.sleep(0.1)
            wait_for(lambda: "never-reads does not read" in broker.output())
