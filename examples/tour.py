"""A tour of the Python API: run with ``./dev.sh example``."""

import copy
import pickle

from mqtt_common import (
    Message,
    MQTTError,
    QualityOfService,
    ReasonCode,
    Subscription,
    SubscriptionIndex,
    ValidationError,
    topic_matches,
    validate_topic_filter,
)
from mqtt_common.models.packets import Connect, Publish
from mqtt_common.protocol import Closed, ConnectRequest, ServerConfig, ServerConnection
from mqtt_common.src.session import Session
from mqtt_common.utils.codec import encode
from mqtt_common.utils.topic import merge_overlapping


def main() -> None:
    """Walk through messages, errors and topic matching."""
    # The seed's example, verbatim.
    message = Message(
        topic="sensors/temperature", payload=b"23.5", qos=1, retain=False, message_id=12345
    )
    print(message)
    print("qos is a real IntEnum:", repr(message.qos), message.qos == 1)

    # Immutable values: equality, hashing, pickling, copying, replace().
    again = pickle.loads(pickle.dumps(message))
    print("pickle round trip equal:", again == message, "same hash:", hash(again) == hash(message))
    print("copy.copy returns the same immutable object:", copy.copy(message) is message)
    lowered = message.replace(qos=QualityOfService.AT_MOST_ONCE, message_id=None)
    print("replaced:", lowered)

    # MQTT 5.0 properties, given as a dict or a PublishProperties.
    request = Message(
        "rpc/calc",
        '{"op": "add", "args": [1, 2]}',
        properties={
            "content_type": "application/json",
            "response_topic": "rpc/replies/42",
            "correlation_data": b"\x00\x01",
            "user_properties": [("trace", "abc"), ("trace", "def")],
        },
    )
    print("properties:", request.properties)

    # Long payloads are truncated in the repr.
    print(Message("bulk/upload", bytes(range(256)) * 40))

    # Bad input raises ValidationError naming the field and the rule.
    bad_inputs: list[dict[str, object]] = [
        {"topic": "sensors/#"},
        {"topic": "a", "qos": 3},
        {"topic": "a", "qos": 0, "message_id": 7},
        {"topic": "a", "payload": 3.14},
        {"topic": "a", "properties": {"topic_alias": 0}},
    ]
    for kwargs in bad_inputs:
        try:
            Message(**kwargs)  # type: ignore[arg-type]
        except ValidationError as err:
            print(f"{kwargs} -> {err.reason_code.name}: {err}")

    # Every error is an MQTTError with a reason code and a spec reference.
    try:
        validate_topic_filter("$share//sensors")
    except MQTTError as err:
        print("shared filter:", err.spec_ref, err.reason_code is ReasonCode.TOPIC_FILTER_INVALID)

    # Topic matching, with the spec's corner cases.
    for topic_filter, topic in [
        ("sport/tennis/#", "sport/tennis"),
        ("sport/+", "sport/"),
        ("+/monitor/Clients", "$SYS/monitor/Clients"),
        ("$share/workers/jobs/+", "jobs/17"),
    ]:
        print(f"topic_matches({topic_filter!r}, {topic!r}) = {topic_matches(topic_filter, topic)}")

    # Routing: which subscriptions match a topic, without scanning them all.
    index = SubscriptionIndex(max_subscriptions_per_client=100)
    index.subscribe("thermostat", Subscription("site/+/temp", qos=1, subscription_id=4))
    index.subscribe("thermostat", Subscription("site/#", qos=2, subscription_id=9))
    index.subscribe("dashboard", Subscription("site/7/temp", no_local=True))
    index.subscribe("worker-a", Subscription("$share/workers/site/+/temp"))
    matches = index.matches("site/7/temp")
    print(f"{len(matches)} subscriptions match site/7/temp:")
    for client_id, subscription in sorted(matches, key=repr):
        print(f"  {client_id}: {subscription}")
    for delivery in merge_overlapping(matches, publisher="dashboard"):
        print("  deliver:", delivery)

    engine_tour()


def engine_tour() -> None:
    """Show the server protocol engine: a client connects and publishes, then errs."""
    connection = ServerConnection(ServerConfig(max_keep_alive=30), now=0.0)
    read = encode(Connect("sensor-9", protocol_version=5, keep_alive=120), 5)
    read += encode(Publish("site/9/temp", b"20.5", qos=1, packet_id=1), 5)
    [request] = connection.receive_data(read, 0.0)
    assert isinstance(request, ConnectRequest)
    print("engine:", request, "asks for keep alive", request.keep_alive)
    # The PUBLISH after the CONNECT waited for the answer; accepting hands it over.
    held = connection.accept(Session(request.client_id, request.protocol_version))
    print("  after accept:", held)
    print("  the server writes", connection.data_to_send().hex(" "))
    print(
        "  keep alive in force:",
        connection.keep_alive,
        "next deadline:",
        connection.next_deadline(),
    )
    [closed] = connection.receive_data(b"\x82\x00", 1.0)  # SUBSCRIBE with nothing in it
    assert isinstance(closed, Closed)
    print("  a broken rule ends it:", closed, closed.error)


if __name__ == "__main__":
    main()
