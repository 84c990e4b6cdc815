"""Typing for the Rust extension module ``mqtt_common._core``.

Import from the public modules (``mqtt_common.models``, ``mqtt_common.utils.topic``)
rather than from here.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Final, Literal, Self, TypeAlias, TypedDict, final

from typing_extensions import Unpack, disjoint_base

from mqtt_common.models.constants import (
    ConnectReturnCode,
    PacketType,
    ProtocolVersion,
    QualityOfService,
    ReasonCode,
    RetainHandling,
)

# The union of packet classes is defined once, where users import it.
from mqtt_common.models.packets import Packet as _Packet

__all__ = [
    "ACTION_MEMBERS",
    "CONNECTION_STATE_MEMBERS",
    "CONNECT_RETURN_CODE_MEMBERS",
    "ERROR_CLASSES",
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
ERROR_CLASSES: Final[list[tuple[str, int]]]

#: What a payload or binary field accepts; a str is encoded as UTF-8.
_BytesLike: TypeAlias = bytes | bytearray | memoryview | str

def reason_code_is_error(value: int) -> bool:
    """Return whether a reason code value reports a failure; backs `ReasonCode.is_error`."""

def validate_topic_name(topic: str) -> None:
    """Raise ValidationError unless `topic` is a valid topic name."""

def validate_topic_filter(topic_filter: str) -> None:
    """Raise ValidationError unless `topic_filter` is a valid topic filter."""

def topic_matches(topic_filter: str, topic: str) -> bool:
    """Return whether `topic_filter` matches `topic`; ValidationError if either is invalid."""

@final
class PublishProperties:
    """The MQTT 5.0 properties of a PUBLISH."""

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

class _MessageChanges(TypedDict, total=False):
    """The fields ``Message.replace`` may change."""

    topic: str
    payload: _BytesLike | None
    qos: int
    retain: bool
    message_id: int | None
    dup: bool
    properties: _PropertiesLike | None

class _SubscriptionChanges(TypedDict, total=False):
    """The fields ``Subscription.replace`` may change."""

    topic_filter: str
    qos: int
    no_local: bool
    retain_as_published: bool
    retain_handling: int
    subscription_id: int | None

@final
class Message:
    """An MQTT application message: immutable and validated at construction.

    A bad value of any type raises ValidationError, naming the field and the rule. The
    payload may be ``bytes`` (kept without a copy), ``bytearray``, ``memoryview`` or
    ``str`` (UTF-8); None means an empty payload.
    """

    def __new__(
        cls,
        topic: str,
        payload: _BytesLike | None = None,
        qos: int = 0,
        retain: bool = False,
        message_id: int | None = None,
        *,
        dup: bool = False,
        properties: _PropertiesLike | None = None,
    ) -> Self: ...
    @property
    def topic(self) -> str:
        """The topic name."""
    @property
    def payload(self) -> bytes:
        """The payload (the very `bytes` object given, when one was)."""
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
    def replace(self, **changes: Unpack[_MessageChanges]) -> Message:
        """Return a copy with some fields changed, validated like the constructor."""
    def __replace__(self, **changes: Unpack[_MessageChanges]) -> Message: ...
    def __getnewargs_ex__(self) -> tuple[tuple[()], dict[str, Any]]: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Subscription:
    """A subscription: a topic filter with its QoS and MQTT 5.0 options."""

    def __new__(
        cls,
        topic_filter: str,
        qos: int = 0,
        *,
        no_local: bool = False,
        retain_as_published: bool = False,
        retain_handling: int = 0,
        subscription_id: int | None = None,
    ) -> Self: ...
    @property
    def topic_filter(self) -> str:
        """The topic filter, `$share/<group>/` prefix included."""
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
        """The share name of a shared subscription (`$share/<group>/...`), or None."""
    def replace(self, **changes: Unpack[_SubscriptionChanges]) -> Subscription:
        """Return a copy with some fields changed, validated like the constructor."""
    def __replace__(self, **changes: Unpack[_SubscriptionChanges]) -> Subscription: ...
    def __getnewargs_ex__(self) -> tuple[tuple[()], dict[str, Any]]: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class SubscriptionIndex:
    """Every client's subscriptions, indexed by topic filter.

    ``matches`` costs time that depends on the topic and the number of matches, not on
    how many subscriptions there are. A client holds one subscription per filter
    (compared character by character); subscribing again replaces it. The limits refuse
    hostile input; None means no limit.
    """

    #: The default of ``max_topic_levels``.
    DEFAULT_MAX_TOPIC_LEVELS: ClassVar[int]

    def __new__(
        cls, *, max_topic_levels: int | None = ..., max_subscriptions_per_client: int | None = None
    ) -> Self: ...
    @property
    def max_topic_levels(self) -> int | None:
        """The most levels a topic filter may have, or None for no limit."""
    @property
    def max_subscriptions_per_client(self) -> int | None:
        """The most subscriptions one client may hold, or None for no limit."""
    def subscribe(self, client_id: str, subscription: Subscription) -> bool:
        """Add a subscription; True when it replaced the client's one with the same filter."""
    def unsubscribe(self, client_id: str, topic_filter: str) -> bool:
        """Remove the client's subscription with exactly this filter; True if it existed."""
    def unsubscribe_all(self, client_id: str) -> int:
        """Remove every subscription of the client; return how many there were."""
    def subscriptions(self, client_id: str) -> list[Subscription]:
        """Return the client's subscriptions, in no particular order."""
    def matches(self, topic: str) -> list[tuple[str, Subscription]]:
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
    """What to send one client for one PUBLISH when several of its subscriptions match."""

    @property
    def client_id(self) -> str:
        """The client to send to."""
    @property
    def qos(self) -> QualityOfService:
        """The highest QoS of the matching subscriptions."""
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
    """Merge the matches of one topic into one Delivery per client.

    Shared subscriptions are left out (pick one member of each group from the matches),
    and so are the publisher's own No Local subscriptions when `publisher` is given.
    """

@final
class AuthCredentials:
    """What a client presents when it connects; `repr` never shows the password."""

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
    def __getnewargs_ex__(self) -> tuple[tuple[()], dict[str, Any]]: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@disjoint_base
class AuthInterface:
    """The Rust base of `mqtt_common.src.auth.AuthInterface`.

    The Python ABC declares the abstract methods.
    """

    def __new__(cls, *_args: Any, **_kwargs: Any) -> Self: ...

@disjoint_base
class StorageInterface:
    """The Rust base of `mqtt_common.src.storage.StorageInterface`.

    The Python ABC declares the abstract methods.
    """

    def __new__(cls, *_args: Any, **_kwargs: Any) -> Self: ...

@disjoint_base
class MemoryStorage(StorageInterface):
    """Retained messages, queues for offline clients and subscriptions, in memory.

    The limits refuse hostile input; None means no limit. ``queue_full`` says what
    ``enqueue`` does when a client's queue is full.
    """

    #: The default of ``max_queue_length``.
    DEFAULT_MAX_QUEUE_LENGTH: ClassVar[int]
    #: The default of ``max_topic_levels``.
    DEFAULT_MAX_TOPIC_LEVELS: ClassVar[int]

    def __new__(
        cls,
        *,
        max_queue_length: int | None = ...,
        queue_full: Literal["reject", "drop_oldest", "drop_newest"] = "reject",
        max_topic_levels: int | None = ...,
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
        """Remove and return up to `limit` messages from the front of a client's queue.

        None takes all of them.
        """
    def queue_length(self, client_id: str) -> int:
        """Return how many messages a client's queue holds."""
    def add_subscription(self, client_id: str, subscription: Subscription) -> bool:
        """Add a subscription; return True when it replaced the client's one with that filter."""
    def remove_subscription(self, client_id: str, topic_filter: str) -> bool:
        """Remove the client's subscription with exactly this filter; return whether it existed."""
    def get_subscriptions(self, client_id: str) -> list[Subscription]:
        """Return a client's subscriptions."""
    def get_subscribers(self, topic: str) -> list[tuple[str, Subscription]]:
        """Return every (client id, subscription) whose filter matches the topic."""
    def close(self) -> None:
        """Release the storage; later calls raise StorageError."""

@final
class Will:
    """A Will Message and its delay."""

    def __new__(cls, message: Message, delay_interval: int = 0) -> Self: ...
    @property
    def message(self) -> Message:
        """The message to publish."""
    @property
    def delay_interval(self) -> int:
        """Seconds to wait after the connection ends (MQTT 5.0)."""
    def __getnewargs_ex__(self) -> tuple[tuple[()], dict[str, Any]]: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Session:
    """A client's session: settings, expiry, and the QoS 1 and 2 flows in flight both ways.

    Threads may share one: a reader acknowledging while a writer sends is the normal
    broker layout. Each method takes the session's lock only around the core call; Python
    objects are converted before and after, so holding the lock never needs the GIL.
    """

    def __new__(
        cls,
        client_id: str,
        protocol_version: int = 4,
        clean_start: bool = True,
        expiry_interval: int = 0,
    ) -> Self: ...
    @property
    def client_id(self) -> str:
        """The client identifier."""
    @property
    def protocol_version(self) -> ProtocolVersion:
        """The protocol version of the connection that last used the session."""
    @property
    def clean_start(self) -> bool:
        """Clean Start (3.1.1: Clean Session) of the connection that last used the session."""
    @property
    def expiry_interval(self) -> int:
        """Session Expiry Interval in seconds (0: ends with the connection; 2**32-1: never)."""
    @expiry_interval.setter
    def expiry_interval(self, value: int) -> None:
        """Session Expiry Interval in seconds (0: ends with the connection; 2**32-1: never)."""
    @property
    def receive_maximum(self) -> int:
        """The peer's Receive Maximum."""
    @property
    def local_receive_maximum(self) -> int:
        """The Receive Maximum of this side (how many QoS 2 flows the peer may open)."""
    def set_receive_maximums(self, peer: int, local: int) -> None:
        """Set both Receive Maximums (neither may be 0)."""
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
        """Record that the connection ended at `at` (default: now)."""
    def is_expired(self, now: float | None = None) -> bool:
        """Return whether the session has expired by `now` (default: now)."""
    def resume(self, protocol_version: int, expiry_interval: int) -> None:
        """Take the settings of a new connection that resumes this session."""
    def next_packet_id(self) -> int:
        """Return a packet identifier for a new outgoing packet: non-zero and not in flight."""
    def send_publish(self, message: Message) -> Message:
        """Start the flow of an outgoing PUBLISH; return the message to send (with its id)."""
    def puback_received(self, packet_id: int) -> Message:
        """PUBACK received: end a QoS 1 flow; return the acknowledged message."""
    def pubrec_received(self, packet_id: int) -> None:
        """PUBREC received: the peer has the QoS 2 message; send PUBREL next."""
    def pubcomp_received(self, packet_id: int) -> None:
        """PUBCOMP received: end a QoS 2 flow."""
    def publish_received(self, message: Message) -> bool:
        """Record a PUBLISH received from the peer; True if it is new and must be delivered."""
    def pubrel_received(self, packet_id: int) -> None:
        """PUBREL received: end an incoming QoS 2 flow."""
    def outgoing(self) -> list[tuple[int, PacketType, Message | None]]:
        """Return the outgoing flows in flight: (packet id, packet awaited, message or None)."""
    def incoming(self) -> list[int]:
        """Return the incoming QoS 2 packet identifiers waiting for PUBREL."""
    @property
    def outgoing_count(self) -> int:
        """How many outgoing messages are in flight."""
    @property
    def incoming_count(self) -> int:
        """How many incoming QoS 2 messages wait for PUBREL."""
    def clear_in_flight(self) -> None:
        """Forget every flow in both directions."""
    def __eq__(self, other: object, /) -> bool: ...
    def __copy__(self) -> Session: ...
    def __deepcopy__(self, memo: Any, /) -> Session: ...

@disjoint_base
class SessionInterface:
    """The Rust base of `mqtt_common.src.session.SessionInterface`."""

    def __new__(cls, *_args: Any, **_kwargs: Any) -> Self: ...

@disjoint_base
class MemorySessionStore(SessionInterface):
    """Sessions and Wills by client identifier, in memory, with an expiry sweep."""

    def __new__(cls) -> Self: ...
    def create_session(
        self,
        client_id: str,
        clean_start: bool,
        expiry_interval: int = 0,
        protocol_version: int = 4,
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
        """Remove the client's Will (a normal DISCONNECT); return it, or None."""
    def expire_sessions(self, now: float | None = None) -> list[str]:
        """Remove the sessions expired by `now` (default: now); return their client ids."""
    def take_due_wills(self, now: float | None = None) -> list[tuple[str, Will]]:
        """Remove and return the Wills due by `now` (default: now), as (client id, Will)."""
    def __len__(self) -> int: ...

#: MQTT 5.0 properties of CONNECT, CONNACK, DISCONNECT and AUTH, by snake_case name.
_PropertyDict: TypeAlias = dict[str, Any]

@final
class Connect:
    """CONNECT: the first packet of every connection."""

    def __new__(
        cls,
        client_id: str | None = None,
        *,
        protocol_version: int = 4,
        clean_start: bool = True,
        keep_alive: int = 60,
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
        session_present: bool = False,
        reason_code: int = 0,
        *,
        properties: _PropertyDict | None = None,
    ) -> Self: ...
    @staticmethod
    def refusing(reason_code: int, protocol_version: int) -> Connack:
        """Return the CONNACK that refuses a client of `protocol_version` for `reason_code`.

        It carries the code itself in 5.0, and the closest 3.1.1 return code before: a
        lossy conversion the server asks for explicitly.
        """
    @property
    def session_present(self) -> bool:
        """Whether the server resumed a session."""
    @property
    def reason_code(self) -> ReasonCode:
        """The 5.0 reason code."""
    @property
    def return_code(self) -> ConnectReturnCode | None:
        """The 3.1.1 return code with the reason code's meaning, or None if 3.1.1 has none."""
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
        payload: _BytesLike | None = None,
        qos: int = 0,
        retain: bool = False,
        packet_id: int | None = None,
        *,
        dup: bool = False,
        properties: _PropertiesLike | None = None,
    ) -> Self: ...
    @staticmethod
    def from_message(message: Message) -> Publish:
        """Return the PUBLISH that carries a message (QoS 1 and 2 need a message_id)."""
    def to_message(self) -> Message | None:
        """Return the message it carries, or None when only an unresolved Topic Alias names it."""
    def with_topic_alias(self, alias: int) -> Publish:
        """Return this PUBLISH with a Topic Alias (MQTT 5.0), the topic still sent.

        The receiver maps the alias to the topic; later packets may name it by the alias
        alone (`without_topic`).
        """
    def without_topic(self) -> Publish:
        """Return this PUBLISH named by its Topic Alias alone (MQTT 5.0).

        For a receiver that already maps the alias to the topic.
        """
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
        reason_code: int = 0,
        *,
        reason_string: str | None = None,
        user_properties: Sequence[tuple[str, str]] | None = None,
    ) -> Self: ...
    @property
    def packet_id(self) -> int:
        """The packet identifier acknowledged."""
    @property
    def reason_code(self) -> ReasonCode:
        """The reason code (Success before 5.0)."""
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
        reason_code: int = 0,
        *,
        reason_string: str | None = None,
        user_properties: Sequence[tuple[str, str]] | None = None,
    ) -> Self: ...
    @property
    def packet_id(self) -> int:
        """The packet identifier acknowledged."""
    @property
    def reason_code(self) -> ReasonCode:
        """The reason code (Success before 5.0)."""
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
        reason_code: int = 0,
        *,
        reason_string: str | None = None,
        user_properties: Sequence[tuple[str, str]] | None = None,
    ) -> Self: ...
    @property
    def packet_id(self) -> int:
        """The packet identifier acknowledged."""
    @property
    def reason_code(self) -> ReasonCode:
        """The reason code (Success before 5.0)."""
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
        reason_code: int = 0,
        *,
        reason_string: str | None = None,
        user_properties: Sequence[tuple[str, str]] | None = None,
    ) -> Self: ...
    @property
    def packet_id(self) -> int:
        """The packet identifier acknowledged."""
    @property
    def reason_code(self) -> ReasonCode:
        """The reason code (Success before 5.0)."""
    @property
    def reason_string(self) -> str | None:
        """The Reason String, or None."""
    @property
    def user_properties(self) -> list[tuple[str, str]]:
        """The User Properties."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class Subscribe:
    """SUBSCRIBE: a packet identifier and one or more subscriptions."""

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
        """Return the SUBACK that answers `subscribe`.

        It carries the SUBSCRIBE's packet identifier and exactly one reason code per
        filter, in order.
        """
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
    """UNSUBSCRIBE: a packet identifier and one or more topic filters."""

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
    """UNSUBACK: the answer to UNSUBSCRIBE.

    In 5.0 it has one reason code per filter of the UNSUBSCRIBE; in 3.1.1 only the packet
    identifier.
    """

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
        """Return the UNSUBACK that answers `unsubscribe`.

        It carries the UNSUBSCRIBE's packet identifier and exactly one reason code per
        filter, in order (3.1.1 leaves the codes out on the wire).
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
    """PINGREQ: a client's keep-alive probe, without a body."""

    def __new__(cls) -> Self: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class Pingresp:
    """PINGRESP: the server's answer to PINGREQ, without a body."""

    def __new__(cls) -> Self: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class Disconnect:
    """DISCONNECT: the end of a connection, with a reason in MQTT 5.0."""

    def __new__(
        cls,
        reason_code: int = 0,
        *,
        properties: _PropertyDict | None = None,
    ) -> Self: ...
    @property
    def reason_code(self) -> ReasonCode:
        """The reason code."""
    @property
    def properties(self) -> _PropertyDict:
        """The properties (MQTT 5.0), by snake_case name."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class Auth:
    """AUTH: a step of an enhanced authentication exchange (MQTT 5.0)."""

    def __new__(
        cls,
        reason_code: int = 0,
        *,
        properties: _PropertyDict | None = None,
    ) -> Self: ...
    @property
    def reason_code(self) -> ReasonCode:
        """The reason code."""
    @property
    def properties(self) -> _PropertyDict:
        """The properties (MQTT 5.0), by snake_case name."""
    def __eq__(self, other: object, /) -> bool: ...

#: Who sends what is decoded: a client (what a server reads) or a server.
_Direction: TypeAlias = Literal["from_client", "from_server"]

@final
class Decoder:
    """A sans-I/O streaming decoder for one connection.

    ``max_packet_size`` bounds every packet, fixed header included (None: no limit);
    ``direction`` is who sends what is decoded; ``topic_alias_maximum`` is the highest
    Topic Alias this side accepts.
    """

    #: The default of ``max_packet_size``: 1 MiB.
    DEFAULT_MAX_PACKET_SIZE: ClassVar[int]

    def __new__(
        cls,
        protocol_version: int | None = None,
        max_packet_size: int | None = ...,
        direction: _Direction = "from_client",
        *,
        topic_alias_maximum: int = 0,
        strict_utf8: bool = True,
    ) -> Self: ...
    def feed(self, data: bytes | bytearray | memoryview) -> list[_Packet]:
        """Buffer `data` and return every complete packet; incomplete bytes wait for more.

        A bad packet raises, unless good packets came before it in this call: those are
        returned, and the error is raised by the next call (the decoder stays failed).
        """
    @property
    def protocol_version(self) -> ProtocolVersion | None:
        """The protocol version, once known (given, or learned from CONNECT)."""
    @property
    def buffered(self) -> int:
        """Bytes buffered and not yet decoded."""
    def connack_sent(self) -> None:
        """Tell a server-side decoder the CONNACK has been sent.

        That ends an enhanced authentication exchange: until then only AUTH and DISCONNECT
        are accepted.
        """
    @property
    def is_authenticating(self) -> bool:
        """Whether CONNECT named an Authentication Method and no CONNACK has been sent."""

def encode(packet: _Packet, protocol_version: int) -> bytes:
    """Encode a packet for a protocol version."""

def decode(
    data: bytes | bytearray | memoryview,
    protocol_version: int,
    direction: _Direction = "from_client",
) -> _Packet:
    """Decode exactly one complete packet."""

@disjoint_base
class NetworkInterface:
    """The Rust base of `mqtt_common.src.network.NetworkInterface`.

    The Python ABC declares the abstract methods; the helpers here are built on them.
    """

    def __new__(cls, *_args: Any, **_kwargs: Any) -> Self: ...
    def is_connected(self, client_id: str) -> bool:
        """Return whether a client is connected: `connection_state(client_id) == CONNECTED`."""
    def deliver(self, client_id: str, message: Message) -> None:
        """Send a message to a client as a PUBLISH, through `send`.

        QoS 1 and 2 messages need their message_id.
        """
