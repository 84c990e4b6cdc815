"""The limits an operator sets, each met by real clients with the reason code they are
told: ``--max-packet-size`` lets a 1.5 MiB PUBLISH through, or ends the connection that
sends it with 0x95 Packet too large (``test_listeners`` does it over WebSockets).
``test_tokio_limits`` runs them against the tokio broker."""

from __future__ import annotations

import os

import pytest

from .support import V5, Client, broker_process, clients, wait_for


@pytest.mark.parametrize("limit", [None, 2 << 20], ids=["default", "2MiB"])
def test_max_packet_size_lets_a_large_publish_through_or_refuses_it(limit: int | None) -> None:
    large = os.urandom(1536 * 1024)  # 1.5 MiB: over the default 1 MiB
    options = [] if limit is None else ["--max-packet-size", str(limit)]
    with broker_process(*options) as broker:
        sub = Client(broker.port, "big-sub", V5)
        pub = Client(broker.port, "big-pub", V5)
        with clients(sub, pub):
            assert sub.subscribe("big", qos=1) == [1]
            pub.paho.publish("big", large, qos=1)
            if limit is not None:
                wait_for(lambda: sub.payloads() == [large])
            else:
                wait_for(lambda: bool(pub.disconnects))
                assert [int(reason.value) for reason in pub.disconnects] == [0x95]
                assert sub.payloads() == []
