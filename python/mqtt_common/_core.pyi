"""Typing for the Rust extension module ``mqtt_common._core``.

Import from the public modules (``mqtt_common.models``, ``mqtt_common.utils.topic``)
rather than from here.
"""

from collections.abc import Mapping, Sequence
from typing import Any, Final, Self, TypeAlias, final

from mqtt_common.models.constants import QualityOfService

__all__ = [
    "CONNECT_RETURN_CODE_MEMBERS",
    "PACKET_TYPE_MEMBERS",
    "PROPERTY_ID_MEMBERS",
    "PROTOCOL_INT_CONSTANTS",
    "PROTOCOL_STR_CONSTANTS",
    "PROTOCOL_VERSION_MEMBERS",
    "QOS_MEMBERS",
    "REASON_CODE_MEMBERS",
    "Message",
    "PublishProperties",
    "__version__",
    "reason_code_is_error",
    "topic_matches",
    "validate_topic_filter",
    "validate_topic_name",
]

__version__: Final[str]

QOS_MEMBERS: Final[list[tuple[str, int]]]
PACKET_TYPE_MEMBERS: Final[list[tuple[str, int]]]
CONNECT_RETURN_CODE_MEMBERS: Final[list[tuple[str, int]]]
REASON_CODE_MEMBERS: Final[list[tuple[str, int]]]
PROTOCOL_VERSION_MEMBERS: Final[list[tuple[str, int]]]
PROPERTY_ID_MEMBERS: Final[list[tuple[str, int]]]
PROTOCOL_INT_CONSTANTS: Final[list[tuple[str, int]]]
PROTOCOL_STR_CONSTANTS: Final[list[tuple[str, str]]]

#: What a payload or binary field accepts; a str is encoded as UTF-8.
_BytesLike: TypeAlias = bytes | bytearray | memoryview | str

def reason_code_is_error(value: int) -> bool:
    """Whether a reason code value reports a failure (0x80 and above)."""

def validate_topic_name(topic: str) -> None:
    """Raise ValidationError unless ``topic`` is a valid topic name.

    A topic name is 1 to 65,535 bytes of UTF-8 without U+0000, ``+`` or ``#``.
    """

def validate_topic_filter(topic_filter: str) -> None:
    """Raise ValidationError unless ``topic_filter`` is a valid topic filter.

    Wildcards must occupy whole levels and ``#`` must be last; a shared subscription
    ``$share/<name>/<filter>`` needs a non-empty name without wildcards and a filter.
    """

def topic_matches(topic_filter: str, topic: str) -> bool:
    """Whether ``topic_filter`` matches ``topic``; ValidationError if either is invalid."""

@final
class PublishProperties:
    """The MQTT 5.0 properties of a PUBLISH; immutable and validated at construction.

    >>> p = PublishProperties(content_type="text/plain", user_properties=[("k", "v")])
    >>> p.user_properties
    [('k', 'v')]
    """

    def __new__(
        cls,
        *,
        payload_format_indicator: int | None = None,
        message_expiry_interval: int | None = None,
        content_type: str | None = None,
        response_topic: str | None = None,
        correlation_data: _BytesLike | None = None,
        user_properties: Sequence[tuple[str, str]] | None = None,
        subscription_identifiers: Sequence[int] | None = None,
        topic_alias: int | None = None,
    ) -> Self: ...
    @property
    def payload_format_indicator(self) -> int | None:
        """Payload Format Indicator: 0 (bytes) or 1 (UTF-8), or None."""
    @property
    def message_expiry_interval(self) -> int | None:
        """Message Expiry Interval in seconds, or None."""
    @property
    def content_type(self) -> str | None:
        """Content Type, or None."""
    @property
    def response_topic(self) -> str | None:
        """Response Topic, or None."""
    @property
    def correlation_data(self) -> bytes | None:
        """Correlation Data, or None."""
    @property
    def user_properties(self) -> list[tuple[str, str]]:
        """User Properties, in order, as (name, value) pairs."""
    @property
    def subscription_identifiers(self) -> list[int]:
        """Subscription Identifiers."""
    @property
    def topic_alias(self) -> int | None:
        """Topic Alias, or None."""
    def to_dict(self) -> dict[str, Any]:
        """Return the properties that are set, as a dict of the constructor's keywords."""
    def __bool__(self) -> bool: ...
    def __getnewargs_ex__(self) -> tuple[tuple[()], dict[str, Any]]: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

#: What ``Message(properties=...)`` accepts.
_PropertiesLike: TypeAlias = PublishProperties | Mapping[str, Any]

@final
class Message:
    """An MQTT application message: immutable and validated at construction.

    Raises ValidationError (naming the field and the rule) for a bad value of any type.
    ``None`` for an optional argument means its default.

    >>> m = Message(topic="sensors/temperature", payload=b"23.5", qos=1, message_id=7)
    >>> m
    Message(topic='sensors/temperature', payload=b'23.5', qos=1, retain=False, message_id=7)
    """

    def __new__(
        cls,
        topic: str,
        payload: _BytesLike | None = b"",
        qos: int | None = 0,
        retain: bool | None = False,
        message_id: int | None = None,
        *,
        dup: bool | None = False,
        properties: _PropertiesLike | None = None,
    ) -> Self: ...
    @property
    def topic(self) -> str:
        """The topic name."""
    @property
    def payload(self) -> bytes:
        """The payload (the very ``bytes`` object given, when one was)."""
    @property
    def qos(self) -> QualityOfService:
        """The QoS level."""
    @property
    def retain(self) -> bool:
        """The RETAIN flag."""
    @property
    def dup(self) -> bool:
        """The DUP flag."""
    @property
    def message_id(self) -> int | None:
        """The packet identifier, or None."""
    @property
    def properties(self) -> PublishProperties:
        """The MQTT 5.0 PUBLISH properties (empty when there are none)."""
    def replace(
        self,
        *,
        topic: str = ...,
        payload: _BytesLike | None = ...,
        qos: int | None = ...,
        retain: bool | None = ...,
        message_id: int | None = ...,
        dup: bool | None = ...,
        properties: _PropertiesLike | None = ...,
    ) -> Message:
        """Return a copy with some fields changed, validated like the constructor."""
    def __replace__(
        self,
        *,
        topic: str = ...,
        payload: _BytesLike | None = ...,
        qos: int | None = ...,
        retain: bool | None = ...,
        message_id: int | None = ...,
        dup: bool | None = ...,
        properties: _PropertiesLike | None = ...,
    ) -> Message: ...
    def __getnewargs_ex__(
        self,
    ) -> tuple[tuple[str, bytes, int, bool, int | None], dict[str, Any]]: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...
