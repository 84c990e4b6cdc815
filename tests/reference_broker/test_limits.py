"""The limits an operator sets, each met by real clients with the reason code they are
told: ``--max-packet-size`` lets a 1.5 MiB PUBLISH through, or ends the connection that
sends it with 0x95 Packet too large (``test_listeners`` does it over WebSockets);
``--max-connections`` refuses a CONNECT with 0x97 Quota exceeded (3.1.1: Server
unavailable); ``--max-inflight`` is the Receive Maximum clients are told, and a client
that goes past it is disconnected with 0x93; ``--max-publish-rate`` disconnects a client
that publishes faster with 0x96; ``--max-retained`` and ``--max-retained-bytes`` refuse
one more retained message whole, with 0x97 Quota exceeded for a 5.0 publisher.
``test_tokio_limits`` runs them against the tokio broker."""

from __future__ import annotations

import os
import time

import pytest

from .support import V5, V311, Client, broker_process, clients, connack_code, wait_for


def check_large_publish(port: int, allowed: bool, transport: str = "tcp") -> None:
    """A 1.5 MiB PUBLISH (over the default 1 MiB) goes through when ``allowed``; else its
    connection ends with 0x95 and nobody gets it."""
    large = os.urandom(1536 * 1024)
    sub = Client(port, "big-sub", V5, transport=transport)
    pub = Client(port, "big-pub", V5, transport=transport)
    with clients(sub, pub):
        assert sub.subscribe("big", qos=1) == [1]
        pub.paho.publish("big", large, qos=1)
        if allowed:
            wait_for(lambda: sub.payloads() == [large])
        else:
            wait_for(lambda: bool(pub.disconnects))
            assert [int(reason.value) for reason in pub.disconnects] == [0x95]
            assert sub.payloads() == []


@pytest.mark.parametrize("limit", [None, 2 << 20], ids=["default", "2MiB"])
def test_max_packet_size_lets_a_large_publish_through_or_refuses_it(limit: int | None) -> None:
    options = [] if limit is None else ["--max-packet-size", str(limit)]
    with broker_process(*options) as broker:
        check_large_publish(broker.port, allowed=limit is not None)


def test_max_connections_refuses_the_next_client_with_quota_exceeded() -> None:
    with broker_process("--max-connections", "2") as broker:
        first = Client(broker.port, "lim-1", V5)
        second = Client(broker.port, "lim-2", V311)
        with clients(first, second):
            assert connack_code(broker.port, "lim-3", V5) == 0x97
            # 3.1.1: return code 3, Server unavailable (paho reports it as 0x88).
            assert connack_code(broker.port, "lim-3", V311) == 0x88
            # A client taking its own session over is let in (its old connection ends).
            again = Client(broker.port, "lim-1", V5)
            with clients(again):
                wait_for(lambda: bool(first.disconnects))
            wait_for(lambda: connack_code(broker.port, "lim-4", V5) == 0)
        assert "2 clients are connected" in broker.output()


def test_max_inflight_is_the_receive_maximum_clients_are_told() -> None:
    with broker_process("--max-inflight", "2") as broker:
        sub = Client(broker.port, "if-sub", V5)
        # A client that keeps within it gets every message through.
        pub = Client(broker.port, "if-pub", V5, connect=False)
        pub.paho.max_inflight_messages_set(2)
        pub.connect()
        with clients(sub, pub):
            assert pub.connack is not None
            assert pub.connack[2].ReceiveMaximum == 2
            assert sub.subscribe("if", qos=1) == [1]
            for n in range(30):
                pub.paho.publish("if", f"m{n}".encode(), qos=1)
            sub.wait_messages(30)
        # paho's default (20 in flight) goes past it: the broker ends the connection.
        eager = Client(broker.port, "if-eager", V5)
        with clients(eager):
            for n in range(20):
                eager.paho.publish("if", f"e{n}".encode(), qos=1)
            wait_for(lambda: bool(eager.disconnects))
            assert [int(reason.value) for reason in eager.disconnects] == [0x93]


def test_max_publish_rate_disconnects_a_client_that_publishes_faster() -> None:
    with broker_process("--max-publish-rate", "5") as broker:
        sub = Client(broker.port, "rate-sub", V5)
        calm = Client(broker.port, "rate-calm", V5)
        fast = Client(broker.port, "rate-fast", V5)
        fast_311 = Client(broker.port, "rate-fast-311", V311)
        with clients(sub, calm, fast, fast_311):
            assert sub.subscribe("rate/#", qos=0) == [0]
            # Within the rate (a burst of 5, then 5 per second): all go through.
            for n in range(8):
                calm.publish("rate/calm", f"c{n}".encode())
                time.sleep(0.25)
            wait_for(lambda: len(sub.payloads()) >= 8)
            for n in range(20):
                fast.paho.publish("rate/fast", f"f{n}".encode())
                fast_311.paho.publish("rate/fast", f"g{n}".encode())
            wait_for(lambda: bool(fast.disconnects) and bool(fast_311.disconnects))
            assert [int(reason.value) for reason in fast.disconnects] == [0x96]
            assert not calm.disconnects
        assert "0x96" in broker.output() or "message rate too high" in broker.output()


def test_max_retained_refuses_one_more_retained_message_with_quota_exceeded() -> None:
    with broker_process("--max-retained", "2", "--max-retained-bytes", "1000") as broker:
        sub = Client(broker.port, "ret-sub", V5)
        pub = Client(broker.port, "ret-pub", V5)
        pub_311 = Client(broker.port, "ret-pub-311", V311)
        with clients(sub, pub, pub_311):
            assert sub.subscribe("ret/#", qos=1) == [1]
            assert pub.publish_code("ret/a", b"one", 1, retain=True) == 0
            assert pub.publish_code("ret/b", b"two", 1, retain=True) == 0
            # A third topic: refused whole, at QoS 1 and 2.
            assert pub.publish_code("ret/c", b"three", 1, retain=True) == 0x97
            # (paho answers a PUBREC 0x97 with a PUBREL all the same, and reports the
            # PUBCOMP's 0x92 Packet identifier not found.)
            assert pub.publish_code("ret/c", b"three", 2, retain=True) in (0x97, 0x92)
            # 3.1.1 cannot be told: acknowledged, and dropped as an unauthorized one is.
            pub_311.publish("ret/d", b"four", qos=1, retain=True)
            # Replacing a topic's message is always allowed; a message not retained
            # goes through whatever the store holds.
            assert pub.publish_code("ret/a", b"uno", 1, retain=True) == 0
            assert pub.publish_code("ret/live", b"live", 1) == 0
            # Past the bytes: 2 topics of 5 bytes and "uno", "two" hold 16 of 1000.
            assert pub.publish_code("ret/b", os.urandom(1000), 1, retain=True) == 0x97
            wait_for(lambda: len(sub.payloads()) >= 4)
            time.sleep(0.2)
            assert sub.payloads() == [b"one", b"two", b"uno", b"live"]
        late = Client(broker.port, "ret-late", V5)
        with clients(late):
            assert late.subscribe("ret/#", qos=1) == [1]
            late.wait_messages(2)
            time.sleep(0.2)
            assert sorted(late.payloads()) == [b"two", b"uno"]
        assert "refused the retained message" in broker.output()
