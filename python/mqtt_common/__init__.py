"""mqtt-common: the foundation of an MQTT broker, backed by Rust.

The message model, protocol constants, the error hierarchy and topic utilities, shared by
every broker module. It performs no I/O of its own.

>>> from mqtt_common import Message, QualityOfService, topic_matches
>>> Message("sensors/temperature", b"23.5", qos=QualityOfService.AT_LEAST_ONCE).qos
<QualityOfService.AT_LEAST_ONCE: 1>
>>> topic_matches("sensors/+", "sensors/temperature")
True
"""

from mqtt_common._core import __version__
from mqtt_common.models import (
    AuthenticationError,
    AuthorizationError,
    ConnectError,
    ConnectReturnCode,
    MalformedPacketError,
    Message,
    MQTTError,
    MQTTProtocol,
    PacketType,
    PropertyId,
    ProtocolError,
    ProtocolVersion,
    PublishProperties,
    QualityOfService,
    ReasonCode,
    RetainHandling,
    StateError,
    StorageError,
    Subscription,
    ValidationError,
)
from mqtt_common.utils.topic import (
    SubscriptionIndex,
    topic_matches,
    validate_topic_filter,
    validate_topic_name,
)

__all__ = [
    "AuthenticationError",
    "AuthorizationError",
    "ConnectError",
    "ConnectReturnCode",
    "MQTTError",
    "MQTTProtocol",
    "MalformedPacketError",
    "Message",
    "PacketType",
    "PropertyId",
    "ProtocolError",
    "ProtocolVersion",
    "PublishProperties",
    "QualityOfService",
    "ReasonCode",
    "RetainHandling",
    "StateError",
    "StorageError",
    "Subscription",
    "SubscriptionIndex",
    "ValidationError",
    "__version__",
    "topic_matches",
    "validate_topic_filter",
    "validate_topic_name",
]
