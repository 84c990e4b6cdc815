"""Protocol constants as real ``enum.IntEnum`` classes.

Each enum is written out here so that type checkers see its members, and checked
against the Rust tables (``mqtt_common._core.*_MEMBERS``) when this module is imported,
so the two languages cannot drift apart.

>>> from mqtt_common.models.constants import QualityOfService, ReasonCode
>>> QualityOfService(1)
<QualityOfService.AT_LEAST_ONCE: 1>
>>> ReasonCode.MALFORMED_PACKET.is_error
True
"""

from __future__ import annotations

import enum
from typing import Final, final

from mqtt_common import _core
from mqtt_common._rust_tables import require_rust_members

__all__ = [
    "ConnectReturnCode",
    "MQTTProtocol",
    "PacketType",
    "PropertyId",
    "ProtocolVersion",
    "QualityOfService",
    "ReasonCode",
    "RetainHandling",
]


class QualityOfService(enum.IntEnum):
    """Quality of Service level of a PUBLISH (MQTT 5.0 section 4.3)."""

    #: At most once delivery: fire and forget.
    AT_MOST_ONCE = 0
    #: At least once delivery: PUBLISH, PUBACK.
    AT_LEAST_ONCE = 1
    #: Exactly once delivery: PUBLISH, PUBREC, PUBREL, PUBCOMP.
    EXACTLY_ONCE = 2


class PacketType(enum.IntEnum):
    """MQTT Control Packet type: the upper four bits of the fixed header."""

    #: Client request to connect to the server.
    CONNECT = 1
    #: Connect acknowledgment.
    CONNACK = 2
    #: Publish message.
    PUBLISH = 3
    #: Publish acknowledgment (QoS 1).
    PUBACK = 4
    #: Publish received (QoS 2, part 1).
    PUBREC = 5
    #: Publish release (QoS 2, part 2).
    PUBREL = 6
    #: Publish complete (QoS 2, part 3).
    PUBCOMP = 7
    #: Subscribe request.
    SUBSCRIBE = 8
    #: Subscribe acknowledgment.
    SUBACK = 9
    #: Unsubscribe request.
    UNSUBSCRIBE = 10
    #: Unsubscribe acknowledgment.
    UNSUBACK = 11
    #: PING request.
    PINGREQ = 12
    #: PING response.
    PINGRESP = 13
    #: Disconnect notification.
    DISCONNECT = 14
    #: Authentication exchange (5.0 only).
    AUTH = 15


class ConnectReturnCode(enum.IntEnum):
    """CONNACK return code of MQTT 3.1 and 3.1.1."""

    #: Connection accepted.
    ACCEPTED = 0
    #: The server does not support the requested protocol level.
    UNACCEPTABLE_PROTOCOL_VERSION = 1
    #: The client identifier is correct UTF-8 but not allowed by the server.
    IDENTIFIER_REJECTED = 2
    #: The network connection has been made but the MQTT service is unavailable.
    SERVER_UNAVAILABLE = 3
    #: The data in the user name or password is malformed.
    BAD_USERNAME_OR_PASSWORD = 4
    #: The client is not authorized to connect.
    NOT_AUTHORIZED = 5


class ReasonCode(enum.IntEnum):
    """Reason code of MQTT 5.0 (section 2.4); values of 0x80 and above are errors.

    ``NORMAL_DISCONNECTION`` and ``GRANTED_QOS_0`` are aliases of ``SUCCESS`` (0x00),
    as in the specification.
    """

    #: Success (also Normal disconnection, Granted QoS 0).
    SUCCESS = 0x00
    #: Granted QoS 1 (SUBACK).
    GRANTED_QOS_1 = 0x01
    #: Granted QoS 2 (SUBACK).
    GRANTED_QOS_2 = 0x02
    #: Disconnect with Will Message (DISCONNECT).
    DISCONNECT_WITH_WILL_MESSAGE = 0x04
    #: No matching subscribers (PUBACK, PUBREC).
    NO_MATCHING_SUBSCRIBERS = 0x10
    #: No subscription existed (UNSUBACK).
    NO_SUBSCRIPTION_EXISTED = 0x11
    #: Continue authentication (AUTH).
    CONTINUE_AUTHENTICATION = 0x18
    #: Re-authenticate (AUTH).
    RE_AUTHENTICATE = 0x19
    #: Unspecified error.
    UNSPECIFIED_ERROR = 0x80
    #: Malformed Packet.
    MALFORMED_PACKET = 0x81
    #: Protocol Error.
    PROTOCOL_ERROR = 0x82
    #: Implementation specific error.
    IMPLEMENTATION_SPECIFIC_ERROR = 0x83
    #: Unsupported Protocol Version (CONNACK).
    UNSUPPORTED_PROTOCOL_VERSION = 0x84
    #: Client Identifier not valid (CONNACK).
    CLIENT_IDENTIFIER_NOT_VALID = 0x85
    #: Bad User Name or Password (CONNACK).
    BAD_USER_NAME_OR_PASSWORD = 0x86
    #: Not authorized.
    NOT_AUTHORIZED = 0x87
    #: Server unavailable (CONNACK).
    SERVER_UNAVAILABLE = 0x88
    #: Server busy.
    SERVER_BUSY = 0x89
    #: Banned (CONNACK).
    BANNED = 0x8A
    #: Server shutting down (DISCONNECT).
    SERVER_SHUTTING_DOWN = 0x8B
    #: Bad authentication method.
    BAD_AUTHENTICATION_METHOD = 0x8C
    #: Keep Alive timeout (DISCONNECT).
    KEEP_ALIVE_TIMEOUT = 0x8D
    #: Session taken over (DISCONNECT).
    SESSION_TAKEN_OVER = 0x8E
    #: Topic Filter invalid.
    TOPIC_FILTER_INVALID = 0x8F
    #: Topic Name invalid.
    TOPIC_NAME_INVALID = 0x90
    #: Packet Identifier in use.
    PACKET_IDENTIFIER_IN_USE = 0x91
    #: Packet Identifier not found.
    PACKET_IDENTIFIER_NOT_FOUND = 0x92
    #: Receive Maximum exceeded (DISCONNECT).
    RECEIVE_MAXIMUM_EXCEEDED = 0x93
    #: Topic Alias invalid (DISCONNECT).
    TOPIC_ALIAS_INVALID = 0x94
    #: Packet too large.
    PACKET_TOO_LARGE = 0x95
    #: Message rate too high (DISCONNECT).
    MESSAGE_RATE_TOO_HIGH = 0x96
    #: Quota exceeded.
    QUOTA_EXCEEDED = 0x97
    #: Administrative action (DISCONNECT).
    ADMINISTRATIVE_ACTION = 0x98
    #: Payload format invalid.
    PAYLOAD_FORMAT_INVALID = 0x99
    #: Retain not supported.
    RETAIN_NOT_SUPPORTED = 0x9A
    #: QoS not supported.
    QOS_NOT_SUPPORTED = 0x9B
    #: Use another server.
    USE_ANOTHER_SERVER = 0x9C
    #: Server moved.
    SERVER_MOVED = 0x9D
    #: Shared Subscriptions not supported.
    SHARED_SUBSCRIPTIONS_NOT_SUPPORTED = 0x9E
    #: Connection rate exceeded.
    CONNECTION_RATE_EXCEEDED = 0x9F
    #: Maximum connect time (DISCONNECT).
    MAXIMUM_CONNECT_TIME = 0xA0
    #: Subscription Identifiers not supported.
    SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED = 0xA1
    #: Wildcard Subscriptions not supported.
    WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED = 0xA2
    #: Normal disconnection (DISCONNECT), an alias of SUCCESS.
    NORMAL_DISCONNECTION = 0x00
    #: Granted QoS 0 (SUBACK), an alias of SUCCESS.
    GRANTED_QOS_0 = 0x00

    @property
    def is_error(self) -> bool:
        """Whether this code reports a failure (0x80 and above).

        >>> ReasonCode.NO_MATCHING_SUBSCRIBERS.is_error
        False
        """
        return _core.reason_code_is_error(self.value)


class RetainHandling(enum.IntEnum):
    """Retain Handling subscription option of MQTT 5.0 (3 is a Protocol Error)."""

    #: Send retained messages at the time of the subscribe.
    SEND_AT_SUBSCRIBE = 0
    #: Send retained messages only if the subscription did not already exist.
    SEND_IF_NEW_SUBSCRIPTION = 1
    #: Do not send retained messages at the time of the subscribe.
    DO_NOT_SEND = 2


class ProtocolVersion(enum.IntEnum):
    """Protocol level byte of CONNECT."""

    #: MQTT 3.1, protocol name "MQIsdp".
    V3_1 = 3
    #: MQTT 3.1.1, protocol name "MQTT".
    V3_1_1 = 4
    #: MQTT 5.0, protocol name "MQTT".
    V5 = 5


class PropertyId(enum.IntEnum):
    """Property identifier of MQTT 5.0 (section 2.2.2.2)."""

    #: Payload Format Indicator (byte): PUBLISH, Will.
    PAYLOAD_FORMAT_INDICATOR = 0x01
    #: Message Expiry Interval (u32): PUBLISH, Will.
    MESSAGE_EXPIRY_INTERVAL = 0x02
    #: Content Type (UTF-8): PUBLISH, Will.
    CONTENT_TYPE = 0x03
    #: Response Topic (UTF-8): PUBLISH, Will.
    RESPONSE_TOPIC = 0x08
    #: Correlation Data (binary): PUBLISH, Will.
    CORRELATION_DATA = 0x09
    #: Subscription Identifier (VBI): PUBLISH, SUBSCRIBE.
    SUBSCRIPTION_IDENTIFIER = 0x0B
    #: Session Expiry Interval (u32): CONNECT, CONNACK, DISCONNECT.
    SESSION_EXPIRY_INTERVAL = 0x11
    #: Assigned Client Identifier (UTF-8): CONNACK.
    ASSIGNED_CLIENT_IDENTIFIER = 0x12
    #: Server Keep Alive (u16): CONNACK.
    SERVER_KEEP_ALIVE = 0x13
    #: Authentication Method (UTF-8): CONNECT, CONNACK, AUTH.
    AUTHENTICATION_METHOD = 0x15
    #: Authentication Data (binary): CONNECT, CONNACK, AUTH.
    AUTHENTICATION_DATA = 0x16
    #: Request Problem Information (byte): CONNECT.
    REQUEST_PROBLEM_INFORMATION = 0x17
    #: Will Delay Interval (u32): Will.
    WILL_DELAY_INTERVAL = 0x18
    #: Request Response Information (byte): CONNECT.
    REQUEST_RESPONSE_INFORMATION = 0x19
    #: Response Information (UTF-8): CONNACK.
    RESPONSE_INFORMATION = 0x1A
    #: Server Reference (UTF-8): CONNACK, DISCONNECT.
    SERVER_REFERENCE = 0x1C
    #: Reason String (UTF-8): acks, DISCONNECT, AUTH.
    REASON_STRING = 0x1F
    #: Receive Maximum (u16): CONNECT, CONNACK.
    RECEIVE_MAXIMUM = 0x21
    #: Topic Alias Maximum (u16): CONNECT, CONNACK.
    TOPIC_ALIAS_MAXIMUM = 0x22
    #: Topic Alias (u16): PUBLISH.
    TOPIC_ALIAS = 0x23
    #: Maximum QoS (byte): CONNACK.
    MAXIMUM_QOS = 0x24
    #: Retain Available (byte): CONNACK.
    RETAIN_AVAILABLE = 0x25
    #: User Property (string pair): every packet with properties, and Will.
    USER_PROPERTY = 0x26
    #: Maximum Packet Size (u32): CONNECT, CONNACK.
    MAXIMUM_PACKET_SIZE = 0x27
    #: Wildcard Subscription Available (byte): CONNACK.
    WILDCARD_SUBSCRIPTION_AVAILABLE = 0x28
    #: Subscription Identifier Available (byte): CONNACK.
    SUBSCRIPTION_IDENTIFIER_AVAILABLE = 0x29
    #: Shared Subscription Available (byte): CONNACK.
    SHARED_SUBSCRIPTION_AVAILABLE = 0x2A


@final
class MQTTProtocol:
    """Protocol-wide constants (a namespace; not meant to be instantiated).

    >>> MQTTProtocol.MAX_REMAINING_LENGTH
    268435455
    """

    __slots__ = ()

    #: Protocol name of MQTT 3.1.1 and 5.0 CONNECT.
    PROTOCOL_NAME: Final = "MQTT"
    #: Protocol name of MQTT 3.1 CONNECT.
    PROTOCOL_NAME_V31: Final = "MQIsdp"
    #: IANA port for MQTT over TCP.
    DEFAULT_PORT: Final = 1883
    #: IANA port for MQTT over TLS.
    DEFAULT_TLS_PORT: Final = 8883
    #: Largest Remaining Length / Variable Byte Integer.
    MAX_REMAINING_LENGTH: Final = 268_435_455
    #: Largest packet on the wire (fixed header included).
    MAX_PACKET_SIZE: Final = 268_435_460
    #: Largest payload a Message may carry.
    MAX_PAYLOAD_SIZE: Final = 268_435_455
    #: Largest UTF-8 Encoded String, in bytes.
    MAX_STRING_LENGTH: Final = 65_535
    #: Largest Binary Data, in bytes.
    MAX_BINARY_LENGTH: Final = 65_535
    #: Largest topic name or filter, in bytes.
    MAX_TOPIC_LENGTH: Final = 65_535
    #: Largest packet identifier (0 is not valid).
    MAX_PACKET_ID: Final = 65_535
    #: Largest Keep Alive, in seconds.
    MAX_KEEP_ALIVE: Final = 65_535
    #: Largest Subscription Identifier.
    MAX_SUBSCRIPTION_ID: Final = 268_435_455
    #: Largest Topic Alias (0 is not valid).
    MAX_TOPIC_ALIAS: Final = 65_535
    #: Client identifier length every server must accept.
    MAX_CLIENT_ID_LENGTH_GUARANTEED: Final = 23
    #: Topic level separator.
    TOPIC_LEVEL_SEPARATOR: Final = "/"
    #: Single-level wildcard.
    SINGLE_LEVEL_WILDCARD: Final = "+"
    #: Multi-level wildcard.
    MULTI_LEVEL_WILDCARD: Final = "#"
    #: Prefix of a shared subscription's topic filter.
    SHARED_SUBSCRIPTION_PREFIX: Final = "$share/"


def _check_against_rust() -> None:
    """Fail the import if any table here differs from the Rust one."""
    tables: list[tuple[type[enum.IntEnum], list[tuple[str, int]]]] = [
        (QualityOfService, _core.QOS_MEMBERS),
        (PacketType, _core.PACKET_TYPE_MEMBERS),
        (ConnectReturnCode, _core.CONNECT_RETURN_CODE_MEMBERS),
        (ReasonCode, _core.REASON_CODE_MEMBERS),
        (RetainHandling, _core.RETAIN_HANDLING_MEMBERS),
        (ProtocolVersion, _core.PROTOCOL_VERSION_MEMBERS),
        (PropertyId, _core.PROPERTY_ID_MEMBERS),
    ]
    for cls, rust_members in tables:
        require_rust_members(cls, rust_members)
    constants: list[tuple[str, int | str]] = [
        *_core.PROTOCOL_INT_CONSTANTS,
        *_core.PROTOCOL_STR_CONSTANTS,
    ]
    for name, value in constants:
        if getattr(MQTTProtocol, name, None) != value:
            msg = f"MQTTProtocol.{name} differs from the Rust value {value!r}"
            raise ImportError(msg)


_check_against_rust()
