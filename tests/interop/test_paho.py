"""paho-mqtt 2.2 clients (3.1.1 and 5.0) against the capture server: every packet they
send decodes to the expected values, and they accept what we encode."""

import threading
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from mqtt_common.models.constants import ProtocolVersion, QualityOfService
from mqtt_common.models.packets import Connect, Disconnect, Publish, Pubrel, Subscribe

from .conftest import GREETING, GREETING_TOPIC, CaptureBroker


@pytest.mark.parametrize(
    "protocol", [MQTTProtocolVersion.MQTTv311, MQTTProtocolVersion.MQTTv5], ids=["3.1.1", "5.0"]
)
def test_paho_round_trip(broker: CaptureBroker, protocol: MQTTProtocolVersion) -> None:
    v5 = protocol == MQTTProtocolVersion.MQTTv5
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="paho-1", protocol=protocol)
    client.username_pw_set("alice", "s3cret")
    client.will_set("lwt/paho-1", b"gone", qos=1, retain=True)
    connected, subscribed, got = threading.Event(), threading.Event(), threading.Event()
    granted: list[int] = []
    messages: list[mqtt.MQTTMessage] = []

    def on_connect(
        c: mqtt.Client, userdata: object, flags: object, reason: object, props: object
    ) -> None:
        connected.set()

    def on_subscribe(
        c: mqtt.Client, userdata: object, mid: int, codes: list[Any], props: object
    ) -> None:
        granted.extend(int(code.value) for code in codes)
        subscribed.set()

    def on_message(c: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        messages.append(message)
        got.set()

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect("127.0.0.1", broker.port, keepalive=30)
    client.loop_start()
    try:
        assert connected.wait(10)
        client.subscribe("t/#", qos=2)
        assert subscribed.wait(10)
        assert got.wait(10)
        properties = None
        if v5:
            properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            properties.UserProperty = [("trace", "abc")]
        for qos in (0, 1, 2):
            info = client.publish(
                f"data/q{qos}", f"payload {qos}".encode(), qos=qos, properties=properties
            )
            info.wait_for_publish(10)
        broker.wait_for(
            lambda: len(broker.packets(Publish)) == 3 and len(broker.packets(Pubrel)) == 1
        )
    finally:
        client.disconnect()
        client.loop_stop()
    broker.wait_for(lambda: len(broker.packets(Disconnect)) == 1)

    # What paho sent, decoded by us.
    [connect] = broker.packets(Connect)
    assert connect.client_id == "paho-1"
    assert connect.protocol_version is (ProtocolVersion.V5 if v5 else ProtocolVersion.V3_1_1)
    assert (connect.username, connect.password, connect.keep_alive) == ("alice", b"s3cret", 30)
    assert connect.will is not None
    assert (connect.will.message.topic, connect.will.message.payload) == ("lwt/paho-1", b"gone")
    assert (connect.will.message.qos, connect.will.message.retain) == (
        QualityOfService.AT_LEAST_ONCE,
        True,
    )
    [subscribe] = broker.packets(Subscribe)
    assert [(s.topic_filter, s.qos) for s in subscribe.subscriptions] == [("t/#", 2)]
    publishes = broker.packets(Publish)
    assert [(p.topic, p.payload, int(p.qos)) for p in publishes] == [
        (f"data/q{q}", f"payload {q}".encode(), q) for q in (0, 1, 2)
    ]
    if v5:
        assert all(p.properties.user_properties == [("trace", "abc")] for p in publishes)
    # What we encoded, accepted by paho: the grant and the message.
    assert granted == [2]
    [message] = messages
    assert (message.topic, message.payload, message.qos) == (GREETING_TOPIC, GREETING, 1)
    if v5:
        assert message.properties.UserProperty == [("origin", "capture")]  # type: ignore[union-attr]
