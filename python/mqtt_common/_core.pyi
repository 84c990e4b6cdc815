"""Typing for the Rust extension module ``mqtt_common._core``.

Import from the public modules (``mqtt_common.models``, ``mqtt_common.utils.topic``)
rather than from here.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Self, TypeAlias, final

from typing_extensions import disjoint_base

from mqtt_common.models.constants import (
    ConnectReturnCode,
    PacketType,
    ProtocolVersion,
    QualityOfService,
    ReasonCode,
    RetainHandling,
)

__all__ = [
    "ACTION_MEMBERS",
    "CONNECTION_STATE_MEMBERS",
    "CONNECT_RETURN_CODE_MEMBERS",
    "PACKET_TYPE_MEMBERS",
    "PROPERTY_ID_MEMBERS",
    "PROTOCOL_INT_CONSTANTS",
    "PROTOCOL_STR_CONSTANTS",
    "PROTOCOL_VERSION_MEMBERS",
    "QOS_MEMBERS",
    "REASON_CODE_MEMBERS",
    "RETAIN_HANDLING_MEMBERS",
    "Auth",
    "AuthCredentials",
    "AuthInterface",
    "Connack",
    "Connect",
    "Decoder",
    "Delivery",
    "Disconnect",
    "MemorySessionStore",
    "MemoryStorage",
    "Message",
    "NetworkInterface",
    "Pingreq",
    "Pingresp",
    "Puback",
    "Pubcomp",
    "Publish",
    "PublishProperties",
    "Pubrec",
    "Pubrel",
    "Session",
    "SessionInterface",
    "StorageInterface",
    "Suback",
    "Subscribe",
    "Subscription",
    "SubscriptionIndex",
    "Unsuback",
    "Unsubscribe",
    "Will",
    "__version__",
    "decode",
    "encode",
    "merge_overlapping",
    "reason_code_is_error",
    "topic_matches",
    "validate_topic_filter",
    "validate_topic_name",
]

__version__: Final[str]

QOS_MEMBERS: Final[list[tuple[str, int]]]
ACTION_MEMBERS: Final[list[tuple[str, int]]]
CONNECTION_STATE_MEMBERS: Final[list[tuple[str, int]]]
PACKET_TYPE_MEMBERS: Final[list[tuple[str, int]]]
CONNECT_RETURN_CODE_MEMBERS: Final[list[tuple[str, int]]]
REASON_CODE_MEMBERS: Final[list[tuple[str, int]]]
RETAIN_HANDLING_MEMBERS: Final[list[tuple[str, int]]]
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

@final
class Subscription:
    """A subscription: a topic filter with its QoS and MQTT 5.0 options.

    Immutable and validated at construction (ValidationError names the field and the
    rule); No Local on a shared subscription is refused [MQTT-3.8.3-4].
    """

    def __new__(
        cls,
        topic_filter: str,
        qos: int | None = 0,
        *,
        no_local: bool | None = False,
        retain_as_published: bool | None = False,
        retain_handling: int | None = 0,
        subscription_id: int | None = None,
    ) -> Self: ...
    @property
    def topic_filter(self) -> str:
        """The topic filter, ``$share/<group>/`` prefix included."""
    @property
    def qos(self) -> QualityOfService:
        """The maximum QoS granted."""
    @property
    def no_local(self) -> bool:
        """No Local: do not forward the client's own messages back to it."""
    @property
    def retain_as_published(self) -> bool:
        """Retain As Published: keep the RETAIN flag when forwarding."""
    @property
    def retain_handling(self) -> RetainHandling:
        """When to send retained messages."""
    @property
    def subscription_id(self) -> int | None:
        """The Subscription Identifier, or None."""
    @property
    def share_group(self) -> str | None:
        """The share name of a shared subscription, or None."""
    def replace(
        self,
        *,
        topic_filter: str = ...,
        qos: int | None = ...,
        no_local: bool | None = ...,
        retain_as_published: bool | None = ...,
        retain_handling: int | None = ...,
        subscription_id: int | None = ...,
    ) -> Subscription:
        """Return a copy with some fields changed, validated like the constructor."""
    def __replace__(
        self,
        *,
        topic_filter: str = ...,
        qos: int | None = ...,
        no_local: bool | None = ...,
        retain_as_published: bool | None = ...,
        retain_handling: int | None = ...,
        subscription_id: int | None = ...,
    ) -> Subscription: ...
    def __getnewargs_ex__(self) -> tuple[tuple[str, int], dict[str, Any]]: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class SubscriptionIndex:
    """Every client's subscriptions, indexed by topic filter.

    ``match`` costs time that depends on the topic and the number of matches, not on how
    many subscriptions there are. A client holds one subscription per filter (compared
    character by character); subscribing again replaces it.
    """

    def __new__(
        cls, *, max_topic_levels: int | None = 128, max_subscriptions_per_client: int | None = None
    ) -> Self: ...
    @property
    def max_topic_levels(self) -> int | None:
        """The most levels a topic filter may have, or None for no limit."""
    @property
    def max_subscriptions_per_client(self) -> int | None:
        """The most subscriptions one client may hold, or None for no limit."""
    def subscribe(self, client_id: str, subscription: Subscription) -> bool:
        """Add a subscription; True when it replaced the client's one with that filter."""
    def unsubscribe(self, client_id: str, topic_filter: str) -> bool:
        """Remove the client's subscription with exactly this filter; True if it existed."""
    def unsubscribe_all(self, client_id: str) -> int:
        """Remove every subscription of the client; return how many there were."""
    def subscriptions(self, client_id: str) -> list[Subscription]:
        """Return the client's subscriptions, in no particular order."""
    def match(self, topic: str) -> list[tuple[str, Subscription]]:
        """Return every (client id, subscription) whose filter matches ``topic``.

        Shared subscriptions are included (see ``share_group``); No Local is left to the
        caller, as is merging one client's overlapping matches (``merge_overlapping``).
        """
    @property
    def node_count(self) -> int:
        """Trie nodes in use, the root included: 1 when the index is empty."""
    @property
    def client_count(self) -> int:
        """How many clients hold at least one subscription."""
    def __len__(self) -> int: ...

@final
class Delivery:
    """What to send one client for one PUBLISH when several subscriptions match."""

    @property
    def client_id(self) -> str:
        """The client to send to."""
    @property
    def qos(self) -> QualityOfService:
        """The highest QoS of the matching subscriptions [MQTT-3.3.4-2]."""
    @property
    def subscription_identifiers(self) -> list[int]:
        """Every Subscription Identifier of the matching subscriptions, ascending."""
    @property
    def retain_as_published(self) -> bool:
        """Whether any matching subscription asked for Retain As Published."""
    def __eq__(self, other: object, /) -> bool: ...

def merge_overlapping(
    matches: Iterable[tuple[str, Subscription]], publisher: str | None = None
) -> list[Delivery]:
    """Merge one topic's matches into one Delivery per client, in first-seen order.

    Shared subscriptions are left out (pick one member per group from the matches), and
    so are the publisher's own No Local subscriptions when ``publisher`` is given.
    """

@final
class AuthCredentials:
    """What a client presents when it connects; ``repr`` never shows the password."""

    def __new__(
        cls,
        client_id: str,
        username: str | None = None,
        password: _BytesLike | None = None,
        certificate: _BytesLike | None = None,
        peer: str | None = None,
    ) -> Self: ...
    @property
    def client_id(self) -> str:
        """The client identifier."""
    @property
    def username(self) -> str | None:
        """The user name, or None."""
    @property
    def password(self) -> bytes | None:
        """The password (binary data), or None."""
    @property
    def certificate(self) -> bytes | None:
        """The client certificate (DER or PEM), or None."""
    @property
    def peer(self) -> str | None:
        """The peer's address, or None."""
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@disjoint_base
class AuthInterface:
    """The Rust base of ``mqtt_common.src.auth.AuthInterface``."""

    def __new__(cls, *_args: Any, **_kwargs: Any) -> Self: ...

@disjoint_base
class StorageInterface:
    """The Rust base of ``mqtt_common.src.storage.StorageInterface``."""

    def __new__(cls, *_args: Any, **_kwargs: Any) -> Self: ...

@disjoint_base
class MemoryStorage(StorageInterface):
    """Retained messages, queues for offline clients and subscriptions, in memory."""

    def __new__(
        cls,
        *,
        max_queue_length: int | None = 10000,
        queue_full: str = "reject",
        max_topic_levels: int | None = 128,
        max_subscriptions_per_client: int | None = None,
    ) -> Self: ...
    def store_retained(self, message: Message) -> None:
        """Store a retained message; an empty payload deletes the topic's instead."""
    def get_retained(self, topic_filter: str) -> list[Message]:
        """Return every retained message whose topic matches the filter."""
    def delete_retained(self, topic: str) -> bool:
        """Delete the retained message of a topic; return whether there was one."""
    def enqueue(self, client_id: str, message: Message) -> None:
        """Append a message to a client's queue."""
    def dequeue(self, client_id: str, limit: int | None = None) -> list[Message]:
        """Remove and return up to ``limit`` messages from the front of a client's queue."""
    def queue_length(self, client_id: str) -> int:
        """Return how many messages a client's queue holds."""
    def add_subscription(self, client_id: str, subscription: Subscription) -> bool:
        """Add a subscription; True when it replaced the client's one with that filter."""
    def remove_subscription(self, client_id: str, topic_filter: str) -> bool:
        """Remove the client's subscription with exactly this filter; whether it existed."""
    def get_subscriptions(self, client_id: str) -> list[Subscription]:
        """Return a client's subscriptions."""
    def get_subscribers(self, topic: str) -> list[tuple[str, Subscription]]:
        """Return every (client id, subscription) whose filter matches the topic."""
    def close(self) -> None:
        """Release the storage; later calls raise StorageError."""

@final
class Will:
    """A Will Message and its delay (seconds, MQTT 5.0)."""

    def __new__(cls, message: Message, delay_interval: int | None = 0) -> Self: ...
    @property
    def message(self) -> Message:
        """The message to publish."""
    @property
    def delay_interval(self) -> int:
        """Seconds to wait after the connection ends."""
    def __getnewargs__(self) -> tuple[Message, int]: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Session:
    """A client's session: settings, expiry, and the QoS 1 and 2 flows in flight.

    Illegal transitions (an acknowledgement with nothing in flight, a QoS 2 identifier
    reused without DUP) raise ProtocolError and change nothing.
    """

    def __new__(
        cls,
        client_id: str,
        protocol_version: int | None = ProtocolVersion.V3_1_1,
        clean_start: bool | None = True,
        expiry_interval: int | None = 0,
    ) -> Self: ...
    @property
    def client_id(self) -> str:
        """The client identifier."""
    @property
    def protocol_version(self) -> ProtocolVersion:
        """The protocol version of the connection that last used the session."""
    @property
    def clean_start(self) -> bool:
        """Clean Start (3.1.1: Clean Session) of that connection."""
    @property
    def expiry_interval(self) -> int:
        """Session Expiry Interval in seconds (0: with the connection; 2**32-1: never)."""
    @expiry_interval.setter
    def expiry_interval(self, value: int) -> None: ...
    @property
    def receive_maximum(self) -> int:
        """The peer's Receive Maximum."""
    @property
    def local_receive_maximum(self) -> int:
        """The Receive Maximum of this side (how many QoS 2 flows the peer may open)."""
    def set_receive_maximums(self, peer: int, local: int) -> None:
        """Set both Receive Maximums (1..65535)."""
    @property
    def created_at(self) -> float:
        """When the session was created (POSIX seconds)."""
    @property
    def updated_at(self) -> float:
        """When the session last changed (POSIX seconds)."""
    @property
    def disconnected_at(self) -> float | None:
        """When its connection ended (POSIX seconds), or None while connected."""
    @property
    def expires_at(self) -> float | None:
        """When the session expires (POSIX seconds), or None."""
    def mark_disconnected(self, at: float | None = None) -> None:
        """Record that the connection ended at ``at`` (default: now)."""
    def is_expired(self, now: float | None = None) -> bool:
        """Return whether the session has expired by ``now`` (default: now)."""
    def resume(self, protocol_version: int, expiry_interval: int) -> None:
        """Take the settings of a new connection that resumes this session."""
    def next_packet_id(self) -> int:
        """Return a packet identifier for a new outgoing packet: non-zero, not in flight."""
    def send_publish(self, message: Message) -> Message:
        """Start the flow of an outgoing PUBLISH; return the message to send, with its id."""
    def puback_received(self, packet_id: int) -> Message:
        """End a QoS 1 flow; return the acknowledged message."""
    def pubrec_received(self, packet_id: int) -> None:
        """Record that the peer has the QoS 2 message; PUBREL comes next."""
    def pubcomp_received(self, packet_id: int) -> None:
        """End a QoS 2 flow."""
    def publish_received(self, message: Message) -> bool:
        """Record a PUBLISH from the peer; return True if it is new and must be delivered."""
    def pubrel_received(self, packet_id: int) -> None:
        """End an incoming QoS 2 flow."""
    def outgoing(self) -> list[tuple[int, PacketType, Message | None]]:
        """Return the outgoing flows: (packet id, packet awaited, message or None)."""
    def incoming(self) -> list[int]:
        """Return the incoming QoS 2 packet identifiers waiting for PUBREL."""
    def clear_in_flight(self) -> None:
        """Forget every flow in both directions."""
    def __eq__(self, other: object, /) -> bool: ...
    def __copy__(self) -> Session: ...
    def __deepcopy__(self, memo: Any, /) -> Session: ...

@disjoint_base
class SessionInterface:
    """The Rust base of ``mqtt_common.src.session.SessionInterface``."""

    def __new__(cls, *_args: Any, **_kwargs: Any) -> Self: ...

@disjoint_base
class MemorySessionStore(SessionInterface):
    """Sessions and Wills by client identifier, in memory, with an expiry sweep."""

    def __new__(cls) -> Self: ...
    def create_session(
        self,
        client_id: str,
        clean_start: bool,
        expiry_interval: int | None = 0,
        protocol_version: int | None = ProtocolVersion.V3_1_1,
    ) -> tuple[Session, bool]:
        """Return the session for a CONNECT and whether one was present (resumed)."""
    def get_session(self, client_id: str) -> Session | None:
        """Return the stored session of a client, or None."""
    def save_session(self, session: Session) -> None:
        """Store a session, replacing the client's previous one."""
    def delete_session(self, client_id: str) -> bool:
        """Delete a client's session and Will; return whether there was a session."""
    def set_will(self, client_id: str, will: Will) -> None:
        """Set the client's Will."""
    def get_will(self, client_id: str) -> Will | None:
        """Return the client's Will, or None."""
    def clear_will(self, client_id: str) -> Will | None:
        """Remove the client's Will; return it, or None."""
    def expire_sessions(self, now: float | None = None) -> list[str]:
        """Remove the sessions expired by ``now``; return their client ids."""
    def take_due_wills(self, now: float | None = None) -> list[tuple[str, Will]]:
        """Remove and return the Wills due by ``now``, as (client id, Will)."""
    def __len__(self) -> int: ...

#: MQTT 5.0 properties of CONNECT, CONNACK, DISCONNECT and AUTH, by snake_case name.
_PropertyDict: TypeAlias = dict[str, Any]

@final
class Connect:
    """CONNECT: the first packet of every connection."""

    def __new__(
        cls,
        client_id: str | None = "",
        *,
        protocol_version: int | None = ProtocolVersion.V3_1_1,
        clean_start: bool | None = True,
        keep_alive: int | None = 60,
        username: str | None = None,
        password: _BytesLike | None = None,
        will: Will | None = None,
        properties: _PropertyDict | None = None,
    ) -> Self: ...
    @property
    def client_id(self) -> str:
        """The client identifier ("" asks the server for one)."""
    @property
    def protocol_version(self) -> ProtocolVersion:
        """The protocol version."""
    @property
    def clean_start(self) -> bool:
        """Clean Start (3.1.1: Clean Session)."""
    @property
    def keep_alive(self) -> int:
        """Keep Alive, in seconds."""
    @property
    def username(self) -> str | None:
        """The user name, or None."""
    @property
    def password(self) -> bytes | None:
        """The password, or None."""
    @property
    def will(self) -> Will | None:
        """The Will, or None."""
    @property
    def properties(self) -> _PropertyDict:
        """The CONNECT properties (MQTT 5.0), by snake_case name."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class Connack:
    """CONNACK: the server's answer to CONNECT."""

    def __new__(
        cls,
        session_present: bool | None = False,
        reason_code: int | None = ReasonCode.SUCCESS,
        *,
        properties: _PropertyDict | None = None,
    ) -> Self: ...
    @property
    def session_present(self) -> bool:
        """Whether the server resumed a session."""
    @property
    def reason_code(self) -> ReasonCode:
        """The 5.0 reason code."""
    @property
    def return_code(self) -> ConnectReturnCode:
        """The 3.1.1 return code that goes with it."""
    @property
    def properties(self) -> _PropertyDict:
        """The CONNACK properties (MQTT 5.0), by snake_case name."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class Publish:
    """PUBLISH: an application message on the wire."""

    def __new__(
        cls,
        topic: str,
        payload: _BytesLike | None = b"",
        qos: int | None = 0,
        retain: bool | None = False,
        packet_id: int | None = None,
        *,
        dup: bool | None = False,
        properties: _PropertiesLike | None = None,
    ) -> Self: ...
    @staticmethod
    def from_message(message: Message) -> Publish:
        """Return the PUBLISH that carries a message (QoS 1 and 2 need a message_id)."""
    def to_message(self) -> Message | None:
        """Return the message, or None when only a Topic Alias names the topic."""
    def with_topic_alias(self, alias: int) -> Publish:
        """Return this PUBLISH with a Topic Alias (MQTT 5.0), the topic still sent."""
    def without_topic(self) -> Publish:
        """Return this PUBLISH named by its Topic Alias alone (MQTT 5.0)."""
    @property
    def topic(self) -> str:
        """The topic name ("" when only a Topic Alias names it)."""
    @property
    def payload(self) -> bytes:
        """The payload."""
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
    def packet_id(self) -> int | None:
        """The packet identifier, or None at QoS 0."""
    @property
    def properties(self) -> PublishProperties:
        """The PUBLISH properties (MQTT 5.0)."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class Puback:
    """PUBACK: the end of a QoS 1 flow."""

    def __new__(
        cls,
        packet_id: int,
        reason_code: int | None = ReasonCode.SUCCESS,
        *,
        reason_string: str | None = None,
        user_properties: Sequence[tuple[str, str]] | None = None,
    ) -> Self: ...
    @property
    def packet_id(self) -> int:
        """The packet identifier acknowledged."""
    @property
    def reason_code(self) -> ReasonCode:
        """The reason code (SUCCESS before 5.0)."""
    @property
    def reason_string(self) -> str | None:
        """The Reason String, or None."""
    @property
    def user_properties(self) -> list[tuple[str, str]]:
        """The User Properties."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class Pubrec:
    """PUBREC: the first answer in a QoS 2 flow."""

    def __new__(
        cls,
        packet_id: int,
        reason_code: int | None = ReasonCode.SUCCESS,
        *,
        reason_string: str | None = None,
        user_properties: Sequence[tuple[str, str]] | None = None,
    ) -> Self: ...
    @property
    def packet_id(self) -> int:
        """The packet identifier acknowledged."""
    @property
    def reason_code(self) -> ReasonCode:
        """The reason code (SUCCESS before 5.0)."""
    @property
    def reason_string(self) -> str | None:
        """The Reason String, or None."""
    @property
    def user_properties(self) -> list[tuple[str, str]]:
        """The User Properties."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class Pubrel:
    """PUBREL: the release of a QoS 2 message."""

    def __new__(
        cls,
        packet_id: int,
        reason_code: int | None = ReasonCode.SUCCESS,
        *,
        reason_string: str | None = None,
        user_properties: Sequence[tuple[str, str]] | None = None,
    ) -> Self: ...
    @property
    def packet_id(self) -> int:
        """The packet identifier acknowledged."""
    @property
    def reason_code(self) -> ReasonCode:
        """The reason code (SUCCESS before 5.0)."""
    @property
    def reason_string(self) -> str | None:
        """The Reason String, or None."""
    @property
    def user_properties(self) -> list[tuple[str, str]]:
        """The User Properties."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class Pubcomp:
    """PUBCOMP: the end of a QoS 2 flow."""

    def __new__(
        cls,
        packet_id: int,
        reason_code: int | None = ReasonCode.SUCCESS,
        *,
        reason_string: str | None = None,
        user_properties: Sequence[tuple[str, str]] | None = None,
    ) -> Self: ...
    @property
    def packet_id(self) -> int:
        """The packet identifier acknowledged."""
    @property
    def reason_code(self) -> ReasonCode:
        """The reason code (SUCCESS before 5.0)."""
    @property
    def reason_string(self) -> str | None:
        """The Reason String, or None."""
    @property
    def user_properties(self) -> list[tuple[str, str]]:
        """The User Properties."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class Subscribe:
    """SUBSCRIBE: one or more subscriptions, sharing the packet's Subscription Identifier."""

    def __new__(
        cls,
        packet_id: int,
        subscriptions: Sequence[Subscription],
        *,
        user_properties: Sequence[tuple[str, str]] | None = None,
    ) -> Self: ...
    @property
    def packet_id(self) -> int:
        """The packet identifier."""
    @property
    def subscriptions(self) -> list[Subscription]:
        """The subscriptions, in order."""
    @property
    def user_properties(self) -> list[tuple[str, str]]:
        """The User Properties."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class Suback:
    """SUBACK: one reason code per filter of the SUBSCRIBE, in order."""

    def __new__(
        cls,
        packet_id: int,
        reason_codes: Sequence[int],
        *,
        reason_string: str | None = None,
        user_properties: Sequence[tuple[str, str]] | None = None,
    ) -> Self: ...
    @staticmethod
    def answering(
        subscribe: Subscribe,
        reason_codes: Sequence[int],
        *,
        reason_string: str | None = None,
        user_properties: Sequence[tuple[str, str]] | None = None,
    ) -> Suback:
        """Answer ``subscribe``: its packet identifier, one reason code per filter, in order."""
    @property
    def packet_id(self) -> int:
        """The packet identifier."""
    @property
    def reason_codes(self) -> list[ReasonCode]:
        """One reason code per filter, in order."""
    @property
    def return_codes(self) -> list[int]:
        """The 3.1.1 return codes: granted QoS, or 0x80 for a failure."""
    @property
    def reason_string(self) -> str | None:
        """The Reason String, or None."""
    @property
    def user_properties(self) -> list[tuple[str, str]]:
        """The User Properties."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class Unsubscribe:
    """UNSUBSCRIBE: one or more topic filters."""

    def __new__(
        cls,
        packet_id: int,
        topic_filters: Sequence[str],
        *,
        user_properties: Sequence[tuple[str, str]] | None = None,
    ) -> Self: ...
    @property
    def packet_id(self) -> int:
        """The packet identifier."""
    @property
    def topic_filters(self) -> list[str]:
        """The topic filters, in order."""
    @property
    def user_properties(self) -> list[tuple[str, str]]:
        """The User Properties."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class Unsuback:
    """UNSUBACK: in 5.0, one reason code per filter; in 3.1.1, only the identifier."""

    def __new__(
        cls,
        packet_id: int,
        reason_codes: Sequence[int] | None = None,
        *,
        reason_string: str | None = None,
        user_properties: Sequence[tuple[str, str]] | None = None,
    ) -> Self: ...
    @staticmethod
    def answering(
        unsubscribe: Unsubscribe,
        reason_codes: Sequence[int],
        *,
        reason_string: str | None = None,
        user_properties: Sequence[tuple[str, str]] | None = None,
    ) -> Unsuback:
        """Answer ``unsubscribe``: its packet identifier, one reason code per filter.

        The codes follow the filters' order; 3.1.1 leaves them out on the wire.
        """
    @property
    def packet_id(self) -> int:
        """The packet identifier."""
    @property
    def reason_codes(self) -> list[ReasonCode]:
        """One reason code per filter (MQTT 5.0; empty before)."""
    @property
    def reason_string(self) -> str | None:
        """The Reason String, or None."""
    @property
    def user_properties(self) -> list[tuple[str, str]]:
        """The User Properties."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class Pingreq:
    """PINGREQ."""

    def __new__(cls) -> Self: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class Pingresp:
    """PINGRESP."""

    def __new__(cls) -> Self: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class Disconnect:
    """DISCONNECT: the end of a connection, with a reason in MQTT 5.0."""

    def __new__(
        cls,
        reason_code: int | None = ReasonCode.SUCCESS,
        *,
        properties: _PropertyDict | None = None,
    ) -> Self: ...
    @property
    def reason_code(self) -> ReasonCode:
        """The reason code."""
    @property
    def properties(self) -> _PropertyDict:
        """The DISCONNECT properties (MQTT 5.0), by snake_case name."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class Auth:
    """AUTH: a step of an extended authentication exchange (MQTT 5.0)."""

    def __new__(
        cls,
        reason_code: int | None = ReasonCode.SUCCESS,
        *,
        properties: _PropertyDict | None = None,
    ) -> Self: ...
    @property
    def reason_code(self) -> ReasonCode:
        """The reason code."""
    @property
    def properties(self) -> _PropertyDict:
        """The AUTH properties, by snake_case name."""
    def __eq__(self, other: object, /) -> bool: ...

_Packet: TypeAlias = (
    Connect
    | Connack
    | Publish
    | Puback
    | Pubrec
    | Pubrel
    | Pubcomp
    | Subscribe
    | Suback
    | Unsubscribe
    | Unsuback
    | Pingreq
    | Pingresp
    | Disconnect
    | Auth
)

@final
class Decoder:
    """A sans-I/O streaming decoder for one connection."""

    def __new__(
        cls,
        protocol_version: int | None = None,
        max_packet_size: int | None = 1048576,
        direction: str | None = "from_client",
        *,
        topic_alias_maximum: int | None = 0,
        strict_utf8: bool | None = True,
    ) -> Self: ...
    def feed(self, data: bytes | bytearray | memoryview) -> list[_Packet]:
        """Buffer ``data`` and return every complete packet; incomplete bytes wait.

        A bad packet raises, unless good packets came before it in this call: those are
        returned, and the next call raises the error.
        """
    @property
    def protocol_version(self) -> ProtocolVersion | None:
        """The protocol version, once known (given, or learned from CONNECT)."""
    @property
    def buffered(self) -> int:
        """Bytes buffered and not yet decoded."""
    def connack_sent(self) -> None:
        """Tell a server-side decoder the CONNACK has been sent (ends enhanced auth)."""
    @property
    def is_authenticating(self) -> bool:
        """Whether CONNECT named an Authentication Method and no CONNACK has been sent."""

def encode(packet: _Packet, protocol_version: int) -> bytes:
    """Encode a packet for a protocol version."""

def decode(
    data: bytes | bytearray | memoryview, protocol_version: int, direction: str | None = None
) -> _Packet:
    """Decode exactly one complete packet."""

@disjoint_base
class NetworkInterface:
    """The Rust base of ``mqtt_common.src.network.NetworkInterface``, with its helpers."""

    def __new__(cls, *_args: Any, **_kwargs: Any) -> Self: ...
    def is_connected(self, client_id: str) -> bool:
        """Return whether ``connection_state(client_id)`` is CONNECTED."""
    def deliver(self, client_id: str, message: Message) -> None:
        """Send a message to a client as a PUBLISH, through ``send``."""
