"""The codec from Python against mqtt5 (Rust-backed) and paho-mqtt (pure Python).

Run with ``./dev.sh bench``: decode and encode of a 256-byte QoS 1 PUBLISH, MQTT 5.0 and
3.1.1, in one run: built from Python values, built once, and forwarded from a decoded
message (a broker's case). Each library gets its cheapest path: mqtt5's ``read`` and
``PublishPacket.write``; paho's own ``_packet.decode_publish`` on the bytes after the fixed
header (no framing, no socket) and ``Client._send_publish`` with the queueing step replaced
by a no-op. Medians over interleaved rounds; nothing is asserted.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import mqtt5
import paho.mqtt.client as paho
from paho.mqtt import _packet as paho_packet
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion

from mqtt_common.models.packets import Publish
from mqtt_common.utils.codec import Decoder, decode, encode

PAYLOAD = bytes(range(256))
TOPIC = "site/42/device/7/temperature"
ROUNDS = 9
CALLS = 20_000
QOS1 = mqtt5.QoS.AT_LEAST_ONCE
Call = Callable[[], object]


def per_call_ns(func: Callable[[], object]) -> float:
    """Median nanoseconds per call of ``func`` over ROUNDS rounds of CALLS calls."""
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        for _ in range(CALLS):
            func()
        samples.append((time.perf_counter_ns() - start) / CALLS)
    return statistics.median(samples)


class _NoSocket:
    """Stands in for paho's socket, which ``_send_publish`` only checks is not None."""

    def close(self) -> None:
        """Nothing to close."""


def paho_encoder(protocol: MQTTProtocolVersion) -> Callable[[], object]:
    """Return a call that builds a PUBLISH with paho and hands it to a no-op queue."""
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=protocol)
    client._sock = _NoSocket()  # type: ignore[assignment]
    client._packet_queue = lambda *args, **kwargs: MQTTErrorCode.MQTT_ERR_SUCCESS  # type: ignore[method-assign]
    topic = TOPIC.encode()

    def send() -> object:
        return client._send_publish(7, topic, PAYLOAD, 1)

    return send


def main() -> None:
    """Print the table."""
    v5 = encode(Publish(TOPIC, PAYLOAD, qos=1, packet_id=7), 5)
    v311 = encode(Publish(TOPIC, PAYLOAD, qos=1, packet_id=7), 4)
    view = memoryview(v5)
    header_len = 3  # one type byte and a two-byte remaining length for this size
    assert len(v5) - header_len == v5[1] - 0x80 + (v5[2] << 7)

    their = mqtt5.read(view)[0]
    assert isinstance(their, mqtt5.PublishPacket)
    assert (their.topic, their.payload, their.packet_id) == (TOPIC, PAYLOAD, 7)
    assert mqtt5.PublishPacket(TOPIC, PAYLOAD, qos=QOS1, packet_id=7).write() == v5
    paho_v5 = paho_packet.decode_publish(v5[0], v5[header_len:], MQTTProtocolVersion.MQTTv5)
    assert (paho_v5.topic, paho_v5.payload, paho_v5.mid) == (TOPIC.encode(), PAYLOAD, 7)

    ours_prebuilt = Publish(TOPIC, PAYLOAD, qos=1, packet_id=7)
    theirs_prebuilt = mqtt5.PublishPacket(TOPIC, PAYLOAD, qos=QOS1, packet_id=7)
    # What a broker forwards: a message it decoded. Ours is validated already, so the
    # PUBLISH is built from it without checking again; mqtt5 builds a packet from the
    # received one's fields.
    received = decode(v5, 5, "from_client")
    assert isinstance(received, Publish)
    message = received.to_message()
    assert message is not None

    def theirs_forward() -> object:
        return mqtt5.PublishPacket(
            their.topic, their.payload, qos=their.qos, packet_id=their.packet_id
        ).write()

    stream = Decoder(5, direction="from_server")

    rows: list[tuple[str, Call, Call, Call | None]] = [
        (
            "decode v5",
            lambda: decode(v5, 5, "from_server"),
            lambda: mqtt5.read(view),
            lambda: paho_packet.decode_publish(0x32, v5[header_len:], MQTTProtocolVersion.MQTTv5),
        ),
        (
            "Decoder.feed v5 (one packet)",
            lambda: stream.feed(v5),
            lambda: mqtt5.read(view),
            None,
        ),
        (
            "decode v3.1.1",
            lambda: decode(v311, 4, "from_server"),
            lambda: mqtt5.read(view),
            lambda: paho_packet.decode_publish(0x32, v311[2 + 1 :], MQTTProtocolVersion.MQTTv311),
        ),
        (
            "build + encode v5",
            lambda: encode(Publish(TOPIC, PAYLOAD, qos=1, packet_id=7), 5),
            lambda: mqtt5.PublishPacket(TOPIC, PAYLOAD, qos=QOS1, packet_id=7).write(),
            paho_encoder(MQTTProtocolVersion.MQTTv5),
        ),
        (
            "encode v5 (packet built once)",
            lambda: encode(ours_prebuilt, 5),
            # A lambda on both sides, so neither is spared a Python-level call.
            lambda: theirs_prebuilt.write(),  # noqa: PLW0108
            None,
        ),
        (
            "forward a decoded message v5",
            lambda: encode(Publish.from_message(message), 5),
            theirs_forward,
            None,
        ),
        (
            "build + encode v3.1.1",
            lambda: encode(Publish(TOPIC, PAYLOAD, qos=1, packet_id=7), 4),
            lambda: mqtt5.PublishPacket(TOPIC, PAYLOAD, qos=QOS1, packet_id=7).write(),
            paho_encoder(MQTTProtocolVersion.MQTTv311),
        ),
    ]
    print(f"256 B QoS 1 PUBLISH from Python; median ns per call, {ROUNDS} rounds of {CALLS:,}")
    print("(mqtt5 is v5-only: its v3.1.1 rows repeat its v5 figure)")
    header = f"{'operation':<30} {'ours':>8} {'mqtt5':>8} {'paho':>9}"
    header += f" {'vs mqtt5':>9} {'vs paho':>8}"
    print(header)
    print("-" * len(header))
    for label, ours, mqtt5_call, paho_call in rows:
        a, b = per_call_ns(ours), per_call_ns(mqtt5_call)
        if paho_call is None:
            print(f"{label:<30} {a:>8.0f} {b:>8.0f} {'-':>9} {b / a:>8.2f}x {'-':>8}")
        else:
            c = per_call_ns(paho_call)
            print(f"{label:<30} {a:>8.0f} {b:>8.0f} {c:>9.0f} {b / a:>8.2f}x {c / a:>7.1f}x")
    print("ratios > 1 mean ours is faster; targets: >= 1x mqtt5, >= 30x paho's v5 decode")


if __name__ == "__main__":
    main()
