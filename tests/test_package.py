"""Import paths of DESIGN.md section 3, re-exports and the seed's example."""

import importlib

import pytest

import mqtt_common

IMPORT_PATHS = {
    "mqtt_common.models": ["Message", "PublishProperties", "Subscription"],
    "mqtt_common.models.subscription": ["Subscription"],
    "mqtt_common.models.message": ["Message", "PublishProperties"],
    "mqtt_common.models.constants": [
        "MQTTProtocol",
        "ProtocolVersion",
        "QualityOfService",
        "PacketType",
        "ConnectReturnCode",
        "ReasonCode",
        "PropertyId",
        "RetainHandling",
    ],
    "mqtt_common.models.errors": [
        "MQTTError",
        "ProtocolError",
        "MalformedPacketError",
        "ConnectError",
        "AuthenticationError",
        "AuthorizationError",
        "StorageError",
        "ValidationError",
    ],
    "mqtt_common.utils.topic": [
        "validate_topic_name",
        "validate_topic_filter",
        "topic_matches",
        "SubscriptionIndex",
        "Subscription",
        "merge_overlapping",
        "Delivery",
    ],
}


@pytest.mark.parametrize("module_name", sorted(IMPORT_PATHS))
def test_import_paths(module_name: str) -> None:
    module = importlib.import_module(module_name)
    for name in IMPORT_PATHS[module_name]:
        assert hasattr(module, name), f"{module_name}.{name}"
        assert name in module.__all__


# Helpers that stay in their module rather than at the top level.
NOT_AT_TOP_LEVEL = {"merge_overlapping", "Delivery"}


def test_top_level_reexports_the_main_names() -> None:
    for names in IMPORT_PATHS.values():
        for name in set(names) - NOT_AT_TOP_LEVEL:
            assert getattr(mqtt_common, name) is not None
            assert name in mqtt_common.__all__
    for name in mqtt_common.__all__:
        assert hasattr(mqtt_common, name)


def test_version_is_the_crate_version() -> None:
    assert isinstance(mqtt_common.__version__, str)
    assert mqtt_common.__version__.count(".") == 2


def test_seed_example_runs_verbatim() -> None:
    from mqtt_common.models import Message

    message = Message(
        topic="sensors/temperature", payload=b"23.5", qos=1, retain=False, message_id=12345
    )
    assert message.topic == "sensors/temperature"
    assert message.payload == b"23.5"
    assert message.qos == 1
    assert message.retain is False
    assert message.message_id == 12345


def test_classes_report_their_public_module() -> None:
    from mqtt_common.models import Message, PublishProperties, ValidationError

    assert Message.__module__ == "mqtt_common.models.message"
    assert PublishProperties.__module__ == "mqtt_common.models.message"
    assert ValidationError.__module__ == "mqtt_common.models.errors"
