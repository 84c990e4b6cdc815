"""The models: messages, subscriptions, protocol constants and the error hierarchy."""

from mqtt_common.models.constants import (
    ConnectReturnCode,
    MQTTProtocol,
    PacketType,
    PropertyId,
    ProtocolVersion,
    QualityOfService,
    ReasonCode,
    RetainHandling,
)
from mqtt_common.models.errors import (
    AuthenticationError,
    AuthorizationError,
    ConnectError,
    MalformedPacketError,
    MQTTError,
    ProtocolError,
    StateError,
    StorageError,
    ValidationError,
)
from mqtt_common.models.message import Message, PublishProperties
from mqtt_common.models.subscription import Subscription

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
    "ValidationError",
]
