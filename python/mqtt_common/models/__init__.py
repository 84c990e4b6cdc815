"""The models: the application message, protocol constants and the error hierarchy."""

from mqtt_common.models.constants import (
    ConnectReturnCode,
    MQTTProtocol,
    PacketType,
    PropertyId,
    ProtocolVersion,
    QualityOfService,
    ReasonCode,
)
from mqtt_common.models.errors import (
    AuthenticationError,
    AuthorizationError,
    ConnectError,
    MalformedPacketError,
    MQTTError,
    ProtocolError,
    StorageError,
    ValidationError,
)
from mqtt_common.models.message import Message, PublishProperties

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
    "StorageError",
    "ValidationError",
]
