"""The server protocol engine from Python, against the bare codec doing the same by hand.

Run with ``./dev.sh bench``. Three cases, MQTT 5.0, 256-byte payloads, in one run:

* a QoS 1 PUBLISH received and its PUBACK queued: ``receive_data`` + ``data_to_send``,
  against ``Decoder.feed`` + ``encode(Puback)``;
* a message delivered to a QoS 1 subscriber and acknowledged: ``deliver`` +
  ``data_to_send`` + ``receive_data(PUBACK)``, against ``encode(Publish.from_message)``
  + ``Decoder.feed(PUBACK)``;
* the batch a fast broker lives on: one read holding 100 QoS 0 PUBLISH handed to
  ``receive_data`` at once, each message delivered to one subscriber's connection, and
  that connection's output drained with one ``data_to_send``; reported per message.

The engine also keeps the rules (flows in the session, Receive Maximum, aliases, expiry)
that the by-hand anchor leaves out. Medians over interleaved rounds; nothing is asserted.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from mqtt_common.models import Message, Subscription
from mqtt_common.models.packets import Connect, Puback, Publish
from mqtt_common.protocol import ConnectRequest, ServerConfig, ServerConnection
from mqtt_common.src.session import Session
from mqtt_common.utils.codec import Decoder, encode

PAYLOAD = bytes(range(256))
TOPIC = "site/42/device/7/temperature"
ROUNDS = 9
CALLS = 20_000
BATCH = 100
# The server's aliases and Receive Maximum out of the way of the measurement.
CONFIG = ServerConfig(receive_maximum=65535, topic_alias_maximum=0)


def connected(client_id: str = "c1") -> ServerConnection:
    """Return a 5.0 connection, accepted, with its CONNACK taken."""
    connection = ServerConnection(CONFIG, now=0.0)
    connect = encode(Connect(client_id, protocol_version=5, keep_alive=0), 5)
    [request] = connection.receive_data(connect, 0.0)
    assert isinstance(request, ConnectRequest)
    connection.accept(Session(client_id, 5))
    connection.data_to_send()
    return connection


def client_decoder() -> Decoder:
    """Return a server-side decoder that has read the client's CONNECT."""
    decoder = Decoder()
    decoder.feed(encode(Connect("c1", protocol_version=5, keep_alive=0), 5))
    return decoder


def per_call_ns(func: Callable[[], object], calls: int = CALLS) -> float:
    """Median nanoseconds per call of ``func`` over ROUNDS rounds of ``calls`` calls."""
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        for _ in range(calls):
            func()
        samples.append((time.perf_counter_ns() - start) / calls)
    return statistics.median(samples)


def receive_case() -> tuple[Callable[[], object], Callable[[], object]]:
    """Return the engine and the codec by hand for: a QoS 1 PUBLISH in, its PUBACK out."""
    publish = encode(Publish(TOPIC, PAYLOAD, qos=1, packet_id=7), 5)
    engine = connected()
    assert engine.receive_data(publish, 0.0)[0] == Message(TOPIC, PAYLOAD, qos=1, message_id=7)
    assert engine.data_to_send() == b"\x40\x02\x00\x07"
    decoder = client_decoder()

    def ours() -> object:
        engine.receive_data(publish, 0.0)
        return engine.data_to_send()

    # The decoder is typed to return any packet; this one reads only PUBLISH, and the
    # anchor stays free of checks the engine does not make either.
    def by_hand() -> object:
        [packet] = decoder.feed(publish)
        return encode(Puback(packet.packet_id), 5)  # type: ignore[union-attr,arg-type]

    return ours, by_hand


def deliver_case() -> tuple[Callable[[], object], Callable[[], object]]:
    """Return both sides for: a message to a QoS 1 subscriber, and its PUBACK back."""
    message = Message(TOPIC, PAYLOAD, qos=1)
    subscription = Subscription("site/#", qos=1)
    # Where the packet identifier sits: after the fixed header (a type byte and a
    # two-byte remaining length at this size) and the topic with its length.
    id_at = 3 + 2 + len(TOPIC)
    engine = connected()
    assert engine.deliver(message, subscription, 0.0) == "sent"
    first = engine.data_to_send()
    assert first == encode(Publish(TOPIC, PAYLOAD, qos=1, packet_id=1), 5)
    assert first[id_at : id_at + 2] == b"\x00\x01"
    engine.receive_data(b"\x40\x02\x00\x01", 0.0)
    decoder = Decoder(5, direction="from_server")
    session = Session("c1", 5)

    def ours() -> object:
        engine.deliver(message, subscription, 0.0)
        out = engine.data_to_send()
        engine.receive_data(b"\x40\x02" + out[id_at : id_at + 2], 0.0)
        return out

    def by_hand() -> object:
        sent = session.send_publish(message)
        packet_id = sent.message_id or 1
        out = encode(Publish.from_message(sent), 5)
        decoder.feed(b"\x40\x02" + packet_id.to_bytes(2, "big"))
        session.puback_received(packet_id)
        return out

    return ours, by_hand


def batch_case() -> tuple[Callable[[], object], Callable[[], object]]:
    """Return both sides for: 100 QoS 0 PUBLISH in one read, each routed, drained once."""
    one = encode(Publish(TOPIC, PAYLOAD, qos=0), 5)
    read = one * BATCH
    publisher, subscriber = connected("pub"), connected("sub")
    subscription = Subscription("site/#")
    decoder = client_decoder()

    # Both sides read only PUBLISH: the loops skip the type checks the union would ask.
    def ours() -> bytes:
        for message in publisher.receive_data(read, 0.0):
            subscriber.deliver(message, subscription, 0.0)  # type: ignore[arg-type]
        return subscriber.data_to_send()

    def by_hand() -> bytes:
        packets = decoder.feed(read)
        out = [encode(Publish.from_message(p.to_message()), 5) for p in packets]  # type: ignore[union-attr,arg-type]
        return b"".join(out)

    assert len(ours()) == len(read)
    assert by_hand() == read
    return ours, by_hand


def main() -> None:
    """Print the table."""
    rows = []
    for label, (ours, anchor), per in [
        ("QoS 1 PUBLISH in, PUBACK queued", receive_case(), 1),
        ("QoS 1 delivery out, PUBACK in", deliver_case(), 1),
        (f"batch: {BATCH} QoS 0 in, routed, drained", batch_case(), BATCH),
    ]:
        calls = CALLS // per
        ours_ns = anchor_ns = 0.0
        ours_samples, anchor_samples = [], []
        for _ in range(3):  # interleaved, so that drift hits both
            ours_samples.append(per_call_ns(ours, calls) / per)
            anchor_samples.append(per_call_ns(anchor, calls) / per)
        ours_ns, anchor_ns = statistics.median(ours_samples), statistics.median(anchor_samples)
        rows.append((label, ours_ns, anchor_ns))
    print(f"ServerConnection from Python, MQTT 5.0, {len(PAYLOAD)} B payloads; median ns")
    print(f"{'operation':42} {'engine':>8} {'by hand':>8} {'engine/by hand':>15}")
    print("-" * 76)
    for label, ours_ns, anchor_ns in rows:
        print(f"{label:42} {ours_ns:8.0f} {anchor_ns:8.0f} {ours_ns / anchor_ns:14.2f}x")
    print("by hand = Decoder.feed + encode of the same packets, no rules kept;")
    print("targets: engine/by hand <= 1.5x; batch <= 1000 ns per message")


if __name__ == "__main__":
    main()
