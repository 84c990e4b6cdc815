"""Typing for the Rust extension module ``mqtt_common._core``.

Import from the public modules (``mqtt_common.models``, ``mqtt_common.utils.topic``)
rather than from here.
"""

import os
import pathlib
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
from mqtt_common.models.errors import MQTTError

# The union of packet classes is defined once, where users import it.
from mqtt_common.models.packets import Packet as _Packet
from mqtt_common.protocol import Event as _Event

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
    "AclFile",
    "Adopted",
    "AsyncRedisSessionStore",
    "AsyncRedisStorage",
    "AsyncSqliteSessionStore",
    "AsyncSqliteStorage",
    "Auth",
    "AuthChain",
    "AuthCredentials",
    "AuthInterface",
    "AuthStep",
    "Change",
    "ChangeLog",
    "Closed",
    "Connack",
    "Connect",
    "ConnectRequest",
    "Connected",
    "Decoder",
    "Delivered",
    "Delivery",
    "Discarded",
    "Disconnect",
    "Fact",
    "FileAuth",
    "Forward",
    "Inbox",
    "InboxEntry",
    "Joined",
    "LiveFeed",
    "MemorySessionStore",
    "MemoryStorage",
    "Message",
    "Metrics",
    "MetricsSnapshot",
    "NativeAsyncSessionStore",
    "NativeAsyncStorage",
    "NetworkInterface",
    "Outgoing",
    "PasswordFile",
    "Pingreq",
    "Pingresp",
    "Puback",
    "Pubcomp",
    "Publish",
    "PublishProperties",
    "Pubrec",
    "Pubrel",
    "RedisNode",
    "Routed",
    "Router",
    "ServerConfig",
    "ServerConnection",
    "Session",
    "SessionInterface",
    "SqliteSessionStore",
    "SqliteStorage",
    "StorageInterface",
    "Suback",
    "Subscribe",
    "SubscribeRequest",
    "Subscription",
    "SubscriptionIndex",
    "SysTopics",
    "Unsuback",
    "Unsubscribe",
    "UnsubscribeRequest",
    "Will",
    "_Completions",
    "__version__",
    "certificate_username",
    "decode",
    "encode",
    "hash_password",
    "merge_overlapping",
    "reason_code_is_error",
    "shutdown_runtime",
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

class _PublishPropertiesChanges(TypedDict, total=False):
    """The fields ``PublishProperties.replace`` may change."""

    payload_format_indicator: int | None
    message_expiry_interval: int | None
    content_type: str | None
    response_topic: str | None
    correlation_data: _BytesLike | None
    user_properties: Sequence[tuple[str, str]] | None
    subscription_identifiers: Sequence[int] | None
    topic_alias: int | None

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
    def replace(self, **changes: Unpack[_PublishPropertiesChanges]) -> PublishProperties:
        """Return a copy with these fields changed."""
    def __replace__(self, **changes: Unpack[_PublishPropertiesChanges]) -> PublishProperties: ...
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

class _AuthCredentialsChanges(TypedDict, total=False):
    """The fields ``AuthCredentials.replace`` may change."""

    client_id: str
    username: str | None
    password: _BytesLike | None
    certificate: _BytesLike | None
    peer: str | None

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
    def replace(self, **changes: Unpack[_AuthCredentialsChanges]) -> AuthCredentials:
        """Return a copy with these fields changed (the network's peer and certificate)."""
    def __replace__(self, **changes: Unpack[_AuthCredentialsChanges]) -> AuthCredentials: ...
    def __getnewargs_ex__(self) -> tuple[tuple[()], dict[str, Any]]: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@disjoint_base
class AuthInterface:
    """The Rust base of `mqtt_common.src.auth.AuthInterface`.

    The Python ABC declares the abstract methods.
    """

    def __new__(cls, *_args: Any, **_kwargs: Any) -> Self: ...

@final
class PasswordFile:
    """The users of a mosquitto password file.

    Lines are ``username:hash``, with ``$6$``, ``$7$`` or ``$argon2id$`` hashes. A file
    with any bad line is refused whole with an AuthenticationError that names every bad
    line by number: no line that fails to parse ever becomes a user.
    """

    @staticmethod
    def load(path: str | os.PathLike[str]) -> PasswordFile:
        """Read the password file at ``path``."""
    @staticmethod
    def parse(text: str) -> PasswordFile:
        """Read a password file's text."""
    def verify(self, username: str, password: _BytesLike) -> bool:
        """Whether ``password`` is the password of ``username``.

        False for an unknown user, after as much work as a wrong password costs.
        """
    @property
    def usernames(self) -> list[str]:
        """The user names, in file order."""
    def __len__(self) -> int: ...
    def __contains__(self, username: object, /) -> bool: ...

@final
class AclFile:
    """The rules of a mosquitto ACL file, deciding as mosquitto 2.0 does.

    A file with any bad line is refused whole with an AuthorizationError that names every
    bad line by number.
    """

    @staticmethod
    def load(path: str | os.PathLike[str]) -> AclFile:
        """Read the ACL file at ``path``."""
    @staticmethod
    def parse(text: str) -> AclFile:
        """Read an ACL file's text."""
    def allows(self, client_id: str, username: str | None, topic: str, action: int) -> bool:
        """Whether a client may perform ``action`` on ``topic`` (a filter for SUBSCRIBE)."""
    def __len__(self) -> int: ...

def hash_password(
    password: _BytesLike,
    kind: Literal["sha512-pbkdf2", "argon2id", "sha512"] = "sha512-pbkdf2",
    *,
    iterations: int = ...,
) -> str:
    """Hash a password as mosquitto_passwd does, with a fresh random salt.

    ``kind`` is "sha512-pbkdf2" (``$7$``, mosquitto's default; ``iterations`` applies,
    brought within 1 to 10,000,000), "argon2id" (mosquitto 2.1 reads it, 2.0 does not)
    or "sha512" (``$6$``, weak: for old files only).
    """

def certificate_username(
    certificate: _BytesLike, identity: Literal["common_name", "subject"] = "common_name"
) -> str:
    """Return the user name a client certificate (DER or PEM) gives, as mosquitto does.

    ``identity`` is "common_name" (the subject's first CN: ``use_identity_as_username``)
    or "subject" (the whole subject in RFC 2253 form, as OpenSSL prints it:
    ``use_subject_as_username``). A missing name, or one that is not UTF-8, raises
    AuthenticationError.
    """

@disjoint_base
class AuthChain(AuthInterface):
    """Several providers as one.

    With ``rule="first"`` the first provider that knows a client decides for it; with
    ``rule="all"`` every provider must agree.
    """

    def __new__(
        cls, providers: Iterable[AuthInterface], *, rule: Literal["first", "all"] = "first"
    ) -> Self: ...
    def authenticate(self, credentials: AuthCredentials) -> bool:
        """Whether the credentials are accepted."""
    def authorize(self, credentials: AuthCredentials, topic: str, action: int) -> bool:
        """Whether the client may perform ``action`` on ``topic``."""
    def knows(self, credentials: AuthCredentials) -> bool:
        """Whether any provider of the chain knows the client."""
    @property
    def providers(self) -> list[AuthInterface]:
        """The providers, in the order they are asked."""
    @property
    def rule(self) -> Literal["first", "all"]:
        """The rule: "first" or "all"."""

@disjoint_base
class FileAuth(AuthInterface):
    """Mosquitto 2.0's authentication and authorization, from the same files.

    It decides as mosquitto does with ``password_file``, ``acl_file`` and
    ``allow_anonymous``. A client without a user name is accepted only with
    ``allow_anonymous``. One with a user name, when there is a password file, only if
    the file holds it and the password matches; without a password file it is accepted,
    as mosquitto does. Without an ACL file every action is allowed. With
    ``use_certificate`` ("common_name" or "subject") the user name is the client
    certificate's, as mosquitto's ``use_identity_as_username`` and
    ``use_subject_as_username`` make it. ``reload()`` reads both files again; if either is
    bad it raises and the old rules stay.
    """

    def __new__(
        cls,
        password_file: str | os.PathLike[str] | None = None,
        acl_file: str | os.PathLike[str] | None = None,
        *,
        allow_anonymous: bool = False,
        use_certificate: Literal["common_name", "subject"] | None = None,
    ) -> Self: ...
    def knows(self, credentials: AuthCredentials) -> bool:
        """Whether the provider knows the client.

        It knows a user of its password file (any user without one), an anonymous client
        if allowed, or a certificate that gives a name.
        """
    @property
    def use_certificate(self) -> Literal["common_name", "subject"] | None:
        """Where the user name comes from: "common_name", "subject", or None (the client's)."""
    def authenticate(self, credentials: AuthCredentials) -> bool:
        """Whether the credentials are accepted."""
    def authorize(self, credentials: AuthCredentials, topic: str, action: int) -> bool:
        """Whether the client may perform ``action`` on ``topic``."""
    def reload(self) -> None:
        """Read the files again; keep the old rules if either new file is bad."""
    @property
    def passwords(self) -> PasswordFile | None:
        """The users of the password file in force, or None without one."""
    @property
    def password_file(self) -> pathlib.Path | None:
        """The password file's path, or None."""
    @property
    def acl_file(self) -> pathlib.Path | None:
        """The ACL file's path, or None."""
    @property
    def allow_anonymous(self) -> bool:
        """Whether clients without a user name are accepted."""

@disjoint_base
class StorageInterface:
    """The Rust base of `mqtt_common.src.storage.StorageInterface`.

    The Python ABC declares the abstract methods.
    """

    def __new__(cls, *_args: Any, **_kwargs: Any) -> Self: ...
    def persist(self, facts: Iterable[Fact]) -> None:
        """Store the router's facts that concern this storage, in order, through its methods."""

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
    def store_retained(self, message: Message, arrived_at: float | None = None) -> None:
        """Store a retained message; an empty payload deletes the topic's instead.

        ``arrived_at`` (POSIX seconds; default: now) is when it arrived: its expiry
        counts from then.
        """
    def retained_messages(self) -> list[tuple[Message, float]]:
        """Return every retained message with its arrival time (POSIX seconds)."""
    def enqueue_entry(
        self, client_id: str, seq: int, message: Message, enqueued_at: float
    ) -> None:
        """Store a message a session is owed under the router's entry number ``seq``."""
    def remove_queued(self, client_id: str, seq: int) -> bool:
        """Remove the queued message with entry number ``seq``; return whether there was one."""
    def queued_messages(self, client_id: str) -> list[tuple[int, Message, float]]:
        """Return a client's queued messages as (entry number, message, enqueue time)."""
    def persist(self, facts: Iterable[Fact]) -> None:
        """Store the router's facts that concern this storage, in order."""
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

@disjoint_base
class NativeAsyncStorage:
    """A storage implemented in Rust, asynchronous: every method returns an awaitable.

    The base of the native asynchronous storages (``AsyncSqliteStorage``,
    ``AsyncRedisStorage``); not made directly.
    """

    async def store_retained(self, message: Message, arrived_at: float | None = None) -> None:
        """Store a retained message; an empty payload deletes the topic's instead.

        ``arrived_at`` (POSIX seconds; default: now) is when it arrived.
        """
    async def retained_messages(self) -> list[tuple[Message, float]]:
        """Return every retained message with its arrival time (POSIX seconds)."""
    async def get_retained(self, topic_filter: str) -> list[Message]:
        """Return every retained message whose topic matches the filter."""
    async def delete_retained(self, topic: str) -> bool:
        """Delete the retained message of a topic; return whether there was one."""
    async def enqueue(self, client_id: str, message: Message) -> None:
        """Append a message to a client's queue."""
    async def enqueue_entry(
        self, client_id: str, seq: int, message: Message, enqueued_at: float
    ) -> None:
        """Store a message a session is owed under the router's entry number ``seq``."""
    async def remove_queued(self, client_id: str, seq: int) -> bool:
        """Remove the queued message with entry number ``seq``; return whether there was one."""
    async def queued_messages(self, client_id: str) -> list[tuple[int, Message, float]]:
        """Return a client's queued messages as (entry number, message, enqueue time)."""
    async def persist(self, facts: Iterable[Fact]) -> None:
        """Store the router's facts that concern this storage, in one transaction."""
    async def dequeue(self, client_id: str, limit: int | None = None) -> list[Message]:
        """Remove and return up to ``limit`` messages from the front of a client's queue.

        None takes all of them.
        """
    async def queue_length(self, client_id: str) -> int:
        """Return how many messages a client's queue holds."""
    async def add_subscription(self, client_id: str, subscription: Subscription) -> bool:
        """Add a subscription; return True when it replaced the client's one with that filter."""
    async def remove_subscription(self, client_id: str, topic_filter: str) -> bool:
        """Remove the client's subscription with exactly this filter; return whether it existed."""
    async def get_subscriptions(self, client_id: str) -> list[Subscription]:
        """Return a client's subscriptions."""
    async def get_subscribers(self, topic: str) -> list[tuple[str, Subscription]]:
        """Return every (client id, subscription) whose filter matches the topic."""
    async def close(self) -> None:
        """Store what is pending and release the backend; later calls raise StorageError."""

@disjoint_base
class AsyncSqliteStorage(NativeAsyncStorage):
    """SqliteStorage as an asynchronous storage: every method returns an awaitable.

    A write's awaitable resolves once the write is committed; writes awaited together
    share a commit. Reads are served from memory. No thread is started per call: the
    storage's writer completes each call on the extension's shared tokio runtime.
    """

    def __new__(
        cls,
        path: str | os.PathLike[str],
        *,
        max_queue_length: int | None = ...,
        queue_full: Literal["reject", "drop_oldest", "drop_newest"] = "reject",
        max_topic_levels: int | None = ...,
        max_subscriptions_per_client: int | None = None,
        durability: Literal["full", "process_crash_only"] = "full",
    ) -> Self: ...
    @property
    def path(self) -> pathlib.Path:
        """The database file."""
    @property
    def durability(self) -> Literal["full", "process_crash_only"]:
        """What a resolved write survives: "full" or "process_crash_only"."""
    def __repr__(self) -> str: ...

@disjoint_base
class AsyncRedisStorage(NativeAsyncStorage):
    """RedisStorage as an asynchronous storage: every method returns an awaitable.

    A write's awaitable resolves once Redis acknowledged it (and the replicas asked for,
    if any). The calls run on the extension's shared tokio runtime over one pipelined
    connection, with no thread per call. The constructor connects (the URL of any node
    of a Redis Cluster uses the cluster) and checks the key layout's version.
    """

    def __new__(
        cls,
        url: str,
        *,
        prefix: str = "mqtt",
        replicas: int = 0,
        replica_timeout: float | None = None,
        tls_ca: str | os.PathLike[str] | None = None,
        max_queue_length: int | None = ...,
        queue_full: Literal["reject", "drop_oldest", "drop_newest"] = "reject",
        max_topic_levels: int | None = ...,
        max_subscriptions_per_client: int | None = None,
    ) -> Self: ...
    @property
    def server(self) -> str:
        """The server's URL (without its password)."""
    @property
    def prefix(self) -> str:
        """What every key of this storage starts with."""
    @property
    def is_cluster(self) -> bool:
        """Whether the server is a Redis Cluster node (the cluster is used)."""

@final
class _Completions:
    """Where the calls started from one event loop report back."""

    def __new__(cls) -> Self: ...
    def fileno(self) -> int:
        """Return the file descriptor that becomes readable when answers wait."""
    def take(self) -> list[tuple[int, object, BaseException | None]]:
        """Take the answers waiting, as ``(token, value, error)``."""

def shutdown_runtime() -> None:
    """Stop the extension's tokio runtime, giving its tasks a moment to end.

    It starts again on next use. Registered with ``atexit`` when it starts.
    """

@disjoint_base
class SqliteStorage(StorageInterface):
    """MemoryStorage's behaviour and limits, kept in an SQLite file that survives the process.

    A call that changes something returns once the change is committed; concurrent calls
    share a commit. Reads are served from memory. The file is locked while open: a second
    open raises StorageError. ``durability`` is "full" (survives a power loss) or
    "process_crash_only" (faster; survives the process being killed, not an OS crash).
    """

    def __new__(
        cls,
        path: str | os.PathLike[str],
        *,
        max_queue_length: int | None = ...,
        queue_full: Literal["reject", "drop_oldest", "drop_newest"] = "reject",
        max_topic_levels: int | None = ...,
        max_subscriptions_per_client: int | None = None,
        durability: Literal["full", "process_crash_only"] = "full",
    ) -> Self: ...
    @property
    def path(self) -> pathlib.Path:
        """The database file."""
    @property
    def durability(self) -> Literal["full", "process_crash_only"]:
        """What a returned call survives: "full" or "process_crash_only"."""
    def __enter__(self) -> Self: ...
    def __exit__(self, *_exc_info: object) -> None: ...
    def store_retained(self, message: Message, arrived_at: float | None = None) -> None:
        """Store a retained message; an empty payload deletes the topic's instead.

        ``arrived_at`` (POSIX seconds; default: now) is when it arrived: its expiry
        counts from then.
        """
    def retained_messages(self) -> list[tuple[Message, float]]:
        """Return every retained message with its arrival time (POSIX seconds)."""
    def enqueue_entry(
        self, client_id: str, seq: int, message: Message, enqueued_at: float
    ) -> None:
        """Store a message a session is owed under the router's entry number ``seq``."""
    def remove_queued(self, client_id: str, seq: int) -> bool:
        """Remove the queued message with entry number ``seq``; return whether there was one."""
    def queued_messages(self, client_id: str) -> list[tuple[int, Message, float]]:
        """Return a client's queued messages as (entry number, message, enqueue time)."""
    def persist(self, facts: Iterable[Fact]) -> None:
        """Store the router's facts that concern this storage, in order."""
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
    def set_owner(self, credentials: AuthCredentials) -> None:
        """Record who the session belongs to: these credentials' user name and certificate.

        The password and peer address are not kept.
        """
    @property
    def owner(self) -> AuthCredentials:
        """The credentials to decide by while the client is away.

        The client identifier, with the owner's user name and certificate (no password).
        """
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
    def pubrec_failure_received(self, packet_id: int) -> None:
        """PUBREC with a failure reason received (MQTT 5.0): end the QoS 2 flow, no PUBREL."""
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
    def client_ids(self) -> list[str]:
        """Return the client ids of every stored session, sorted."""
    def __len__(self) -> int: ...

@disjoint_base
class NativeAsyncSessionStore:
    """A session store implemented in Rust, asynchronous: every method returns an awaitable.

    The base of the native asynchronous session stores (``AsyncSqliteSessionStore``,
    ``AsyncRedisSessionStore``); not made directly.
    """

    async def persist(self, facts: Iterable[Fact]) -> None:
        """Store the router's session facts in order; sent together where the store can.

        Sessions, Wills and the end of sessions; the storage's facts are left out.
        """
    async def create_session(
        self,
        client_id: str,
        clean_start: bool,
        expiry_interval: int = 0,
        protocol_version: int = 4,
    ) -> tuple[Session, bool]:
        """Return the session for a CONNECT and whether one was present (resumed)."""
    async def get_session(self, client_id: str) -> Session | None:
        """Return the stored session of a client, or None."""
    async def save_session(self, session: Session) -> None:
        """Store a session, replacing the client's previous one."""
    async def delete_session(self, client_id: str) -> bool:
        """Delete a client's session and Will; return whether there was a session."""
    async def set_will(self, client_id: str, will: Will) -> None:
        """Set the client's Will, replacing any other."""
    async def get_will(self, client_id: str) -> Will | None:
        """Return the client's Will, or None."""
    async def clear_will(self, client_id: str) -> Will | None:
        """Remove the client's Will (a normal DISCONNECT); return it, or None."""
    async def client_ids(self) -> list[str]:
        """Return the client ids of every stored session, sorted."""

@disjoint_base
class AsyncSqliteSessionStore(NativeAsyncSessionStore):
    """SqliteSessionStore as an asynchronous session store; every method is awaitable.

    A change's awaitable resolves once it is committed; changes awaited together share a
    commit. Reads are served from memory. No thread is started per call: the store's
    writer completes each call on the extension's shared tokio runtime.
    """

    def __new__(
        cls,
        path: str | os.PathLike[str],
        *,
        durability: Literal["full", "process_crash_only"] = "full",
    ) -> Self: ...
    @property
    def path(self) -> pathlib.Path:
        """The database file."""
    @property
    def durability(self) -> Literal["full", "process_crash_only"]:
        """What a resolved change survives: "full" or "process_crash_only"."""
    async def close(self) -> None:
        """Commit what is pending and release the file; later calls raise StorageError."""

@disjoint_base
class AsyncRedisSessionStore(NativeAsyncSessionStore):
    """RedisSessionStore as an asynchronous session store; every method is awaitable.

    A change's awaitable resolves once Redis acknowledged it (and the replicas asked
    for, if any). The calls run on the extension's shared tokio runtime over one
    pipelined connection, with no thread per call. The constructor connects and checks
    the key layout's version.
    """

    def __new__(
        cls,
        url: str,
        *,
        prefix: str = "mqtt",
        replicas: int = 0,
        replica_timeout: float | None = None,
        tls_ca: str | os.PathLike[str] | None = None,
    ) -> Self: ...
    @property
    def server(self) -> str:
        """The server's URL (without its password)."""
    @property
    def prefix(self) -> str:
        """What every key of this store starts with."""
    async def close(self) -> None:
        """Stop the store; later calls raise StorageError (every resolved change is stored)."""

@disjoint_base
class SqliteSessionStore(SessionInterface):
    """MemorySessionStore's behaviour, kept in an SQLite file that survives the process.

    It keeps sessions with their QoS 1 and 2 flows both ways and their expiry, and Wills
    with their delay.

    A call that changes something returns once the change is committed; concurrent calls
    share a commit. The file is locked while open: a second open raises StorageError.
    ``durability`` is "full" (survives a power loss) or "process_crash_only" (faster;
    survives the process being killed, not an OS crash).
    """

    def __new__(
        cls,
        path: str | os.PathLike[str],
        *,
        durability: Literal["full", "process_crash_only"] = "full",
    ) -> Self: ...
    @property
    def path(self) -> pathlib.Path:
        """The database file."""
    @property
    def durability(self) -> Literal["full", "process_crash_only"]:
        """What a returned call survives: "full" or "process_crash_only"."""
    def close(self) -> None:
        """Commit what is pending and release the file; later calls raise StorageError."""
    def __enter__(self) -> Self: ...
    def __exit__(self, *_exc_info: object) -> None: ...
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
    def client_ids(self) -> list[str]:
        """Return the client ids of every stored session, sorted."""
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

# ---- the server protocol engine (mqtt_common.protocol) ----

@final
class ServerConfig:
    """The server's limits, enforced by every ServerConnection.

    MQTT 5.0 clients are told them in the CONNACK. Each field is the Rust
    `ServerConfig`'s: Receive Maximum, Maximum QoS, Retain Available, Maximum Packet Size,
    Topic Alias Maximum, the three Available flags, the longest Keep Alive a client may
    choose (None: any), how long a new connection may take to send CONNECT, how many
    deliveries may wait for the client's Receive Maximum, how many packets a client
    may send before its CONNECT is answered, whether acknowledgements of received
    PUBLISH wait until the broker releases them (``hold_acknowledgements``), and how many
    PUBLISH a client may send per second (``max_publish_rate``; None: any).
    """

    def __new__(
        cls,
        *,
        receive_maximum: int = ...,
        maximum_qos: int = ...,
        retain_available: bool = ...,
        maximum_packet_size: int = ...,
        topic_alias_maximum: int = ...,
        wildcard_subscription_available: bool = ...,
        subscription_identifiers_available: bool = ...,
        shared_subscription_available: bool = ...,
        max_keep_alive: int | None = None,
        connect_timeout: float = ...,
        max_queued_messages: int = ...,
        max_packets_before_connack: int = ...,
        hold_acknowledgements: bool = ...,
        max_publish_rate: int | None = None,
    ) -> Self: ...
    @property
    def receive_maximum(self) -> int:
        """How many QoS 1 and 2 PUBLISH a client may leave unacknowledged towards us."""
    @property
    def maximum_qos(self) -> QualityOfService:
        """The highest QoS accepted in a PUBLISH or a Will."""
    @property
    def retain_available(self) -> bool:
        """Whether retained messages are accepted."""
    @property
    def maximum_packet_size(self) -> int:
        """The largest packet accepted, in bytes."""
    @property
    def topic_alias_maximum(self) -> int:
        """How many topic aliases a client may set (0: none)."""
    @property
    def wildcard_subscription_available(self) -> bool:
        """Whether subscriptions may use wildcards."""
    @property
    def subscription_identifiers_available(self) -> bool:
        """Whether subscriptions may carry a Subscription Identifier."""
    @property
    def shared_subscription_available(self) -> bool:
        """Whether shared subscriptions are accepted."""
    @property
    def max_keep_alive(self) -> int | None:
        """The longest Keep Alive a client may choose, in seconds, or None for any."""
    @property
    def connect_timeout(self) -> float:
        """How long a new connection may take to send CONNECT, in seconds."""
    @property
    def max_queued_messages(self) -> int:
        """How many deliveries may wait for a client's Receive Maximum."""
    @property
    def max_packets_before_connack(self) -> int:
        """How many packets a client may send before its CONNECT is answered."""
    @property
    def hold_acknowledgements(self) -> bool:
        """Whether acknowledgements of received PUBLISH wait for release_acknowledgements()."""
    @property
    def max_publish_rate(self) -> int | None:
        """How many PUBLISH a client may send per second (a burst of a second's worth)."""
    def replace(self, **changes: Any) -> ServerConfig:
        """Return a copy with these limits changed."""
    def __replace__(self, **changes: Any) -> ServerConfig: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class ConnectRequest:
    """A client asks to connect: answer with `accept`, `refuse` or `auth_continue`."""

    @property
    def client_id(self) -> str:
        """The client identifier asked for ("" when the server is to assign one)."""
    @property
    def protocol_version(self) -> ProtocolVersion:
        """The protocol version the client speaks."""
    @property
    def clean_start(self) -> bool:
        """Clean Start (3.1.1: Clean Session): the client wants no previous session."""
    @property
    def keep_alive(self) -> int:
        """The Keep Alive the client asked for, in seconds."""
    @property
    def username(self) -> str | None:
        """The user name, or None."""
    @property
    def password(self) -> bytes | None:
        """The password (binary), or None."""
    @property
    def will(self) -> Will | None:
        """The Will, or None."""
    @property
    def credentials(self) -> AuthCredentials:
        """The credentials for an AuthInterface; replace() adds peer and certificate."""
    @property
    def needs_client_id(self) -> bool:
        """Whether the client left its identifier empty: ``accept`` must assign one."""
    @property
    def session_expiry_interval(self) -> int:
        """The Session Expiry Interval asked for, in seconds.

        For 3.x it is 0 with Clean Session and 4294967295 (never) without.
        """
    @property
    def authentication_method(self) -> str | None:
        """The Authentication Method of an enhanced authentication, or None."""
    @property
    def authentication_data(self) -> bytes | None:
        """The Authentication Data sent with it, or None."""
    @property
    def connect(self) -> Connect:
        """The CONNECT packet as it arrived."""

@final
class AuthStep:
    """An AUTH from the client: a step of an enhanced authentication (MQTT 5.0)."""

    @property
    def reason_code(self) -> ReasonCode:
        """Continue authentication (0x18) or Re-authenticate (0x19)."""
    @property
    def authentication_method(self) -> str | None:
        """The Authentication Method."""
    @property
    def authentication_data(self) -> bytes | None:
        """The Authentication Data, or None."""

@final
class SubscribeRequest:
    """A SUBSCRIBE: answer with ``answer_subscribe``, one reason code per subscription."""

    @property
    def packet_id(self) -> int:
        """The packet identifier to answer."""
    @property
    def subscriptions(self) -> list[Subscription]:
        """The subscriptions, in the packet's order."""
    @property
    def user_properties(self) -> list[tuple[str, str]]:
        """The packet's User Properties."""

@final
class UnsubscribeRequest:
    """An UNSUBSCRIBE: answer with ``answer_unsubscribe``, one reason code per filter."""

    @property
    def packet_id(self) -> int:
        """The packet identifier to answer."""
    @property
    def topic_filters(self) -> list[str]:
        """The topic filters, in the packet's order."""
    @property
    def user_properties(self) -> list[tuple[str, str]]:
        """The packet's User Properties."""

@final
class Delivered:
    """The client has a message this connection delivered: its QoS 1 or 2 flow ended."""

    @property
    def packet_id(self) -> int:
        """The packet identifier, now free again."""
    @property
    def message(self) -> Message | None:
        """The message of a QoS 1 flow; None for QoS 2, which forgets it at PUBREC."""
    @property
    def tag(self) -> int | None:
        """The tag given with the delivery (``deliver(..., tag=...)``), or None."""

@final
class Discarded:
    """A tagged delivery ended without reaching the client.

    It expired or grew too large while it waited for the client's Receive Maximum, or a
    5.0 client refused it (PUBREC with a failure code).
    """

    @property
    def tag(self) -> int:
        """The tag given with the delivery."""

@final
class Closed:
    """How a connection ended, and what the broker still has to do about it."""

    @property
    def initiator(self) -> Literal["client", "server", "network"]:
        """Who ended it: "client", "server" or "network"."""
    @property
    def reason_code(self) -> ReasonCode:
        """Why: the client's or this side's DISCONNECT reason (lost: UNSPECIFIED_ERROR)."""
    @property
    def error(self) -> MQTTError | None:
        """The broken rule (an MQTTError), when a protocol error or a timeout ended it."""
    @property
    def will(self) -> Will | None:
        """The Will to publish after ``will_delay`` seconds, or None."""
    @property
    def will_delay(self) -> int:
        """Seconds to wait before publishing the Will: its delay, or the session's expiry."""
    @property
    def session_expiry_interval(self) -> int:
        """The Session Expiry Interval in force at the end."""
    @property
    def session(self) -> Session | None:
        """The session as the connection left it, to save; None if never accepted."""
    @property
    def undelivered(self) -> list[Message]:
        """Deliveries that waited for the client's Receive Maximum and were never sent."""

@final
class ServerConnection:
    """One client connection on a server, sans I/O: bytes in, events and bytes out.

    Feed it what the socket read with ``receive_data(data, now)`` and act on the events it
    returns: ``ConnectRequest`` (answer with ``accept`` or ``refuse``), ``Message`` (a
    message the client published, to route), ``SubscribeRequest`` and
    ``UnsubscribeRequest`` (answer with ``answer_subscribe`` / ``answer_unsubscribe``),
    ``AuthStep``, ``Delivered`` and ``Closed``. Write ``data_to_send()`` to the socket,
    and call ``handle_timeout(now)`` at ``next_deadline()``. ``now`` is seconds on one
    monotonic clock of your choice, such as ``time.monotonic()``. A call the state does
    not allow raises StateError and changes nothing.
    """

    def __new__(
        cls,
        config: ServerConfig | None = None,
        now: float = ...,
        *,
        metrics: Metrics | None = None,
    ) -> Self: ...
    def receive_data(self, data: bytes | bytearray | memoryview, now: float) -> list[_Event]:
        """Hand the connection the bytes the socket read; return the events they caused."""
    def data_to_send(self) -> bytes:
        """Take the bytes to write to the socket."""
    def next_deadline(self) -> float | None:
        """When ``handle_timeout`` must be called next, in seconds, or None."""
    def handle_timeout(self, now: float) -> list[_Event]:
        """Run the timers due at ``now`` (connect timeout, keep alive); return the events."""
    def connection_lost(self) -> Closed | None:
        """Report that the network connection was lost; return the Closed event.

        None if the connection had already ended.
        """
    def accept(
        self,
        session: Session,
        *,
        session_present: bool = False,
        assigned_client_id: str | None = None,
        authentication_data: bytes | bytearray | memoryview | None = None,
    ) -> list[_Event]:
        """Accept the CONNECT with ``session``; return the events of packets held until now."""
    def refuse(self, reason_code: int) -> Closed:
        """Refuse the CONNECT with ``reason_code``; return the Closed event."""
    def auth_continue(
        self, authentication_data: bytes | bytearray | memoryview | None = None
    ) -> None:
        """Send an AUTH with Continue authentication during an enhanced authentication."""
    def auth_success(
        self, authentication_data: bytes | bytearray | memoryview | None = None
    ) -> None:
        """End a re-authentication with success."""
    def set_publish_reason(self, packet_id: int, reason_code: int) -> None:
        """Give a received QoS 1 or 2 PUBLISH's acknowledgement another reason than Success."""
    def answer_subscribe(self, packet_id: int, reason_codes: Iterable[int]) -> Closed | None:
        """Answer a SUBSCRIBE with one reason code per subscription of its request.

        Return None, or the Closed event if the answer was larger than the client's
        Maximum Packet Size and the connection ended instead.
        """
    def answer_unsubscribe(self, packet_id: int, reason_codes: Iterable[int]) -> Closed | None:
        """Answer an UNSUBSCRIBE with one reason code per topic filter.

        Return None, or the Closed event if the answer was larger than the client's
        Maximum Packet Size and the connection ended instead.
        """
    def deliver(
        self,
        message: Message,
        subscription: Subscription | Delivery,
        now: float,
        *,
        retained: bool = False,
        tag: int | None = None,
    ) -> Literal["sent", "queued", "too_large", "expired", "queue_full", "closed"]:
        """Deliver a routed message through ``subscription`` (a Subscription or a Delivery).

        Return what became of it: "sent", "queued" (waiting for the client's Receive
        Maximum), "too_large", "expired", "queue_full" or "closed" (the connection has
        ended: queue it for the session). ``retained=True`` marks a retained message sent
        because of a new subscription. A ``tag`` (an int, a router's entry number) comes
        back in the Delivered or Discarded event that ends the delivery, and in the session.
        """
    def acknowledgement_mark(self) -> int:
        """Return the mark of every acknowledgement owed so far (for release_acknowledgements)."""
    def release_acknowledgements(self, mark: int) -> None:
        """Let data_to_send() write the acknowledgements held up to ``mark``."""
    def disconnect(self, reason_code: int = 0) -> Closed:
        """End the connection from this side with ``reason_code``; return the Closed event."""
    @property
    def phase(self) -> Literal["awaiting_connect", "connecting", "connected", "closed"]:
        """Where the connection stands: awaiting_connect, connecting, connected or closed."""
    @property
    def is_closed(self) -> bool:
        """Whether the connection ended: write the last data_to_send(), then close."""
    @property
    def protocol_version(self) -> ProtocolVersion | None:
        """The client's protocol version, once its CONNECT arrived; else None."""
    @property
    def client_id(self) -> str | None:
        """The client identifier in force (the assigned one, if any), once known."""
    @property
    def keep_alive(self) -> int | None:
        """The Keep Alive in force, in seconds, once the CONNECT arrived."""
    @property
    def username(self) -> str | None:
        """The user name of the CONNECT, once it arrived; else None."""
    @property
    def session(self) -> Session | None:
        """A copy of the session, once accepted; else None."""
    @property
    def queued_count(self) -> int:
        """How many deliveries wait for the client's Receive Maximum."""
    @property
    def config(self) -> ServerConfig:
        """The limits this connection enforces."""

# ---- the router (mqtt_common.router) ----

@final
class Fact:
    """A fact for the stores: what a restart needs.

    ``kind`` says which: "retained", "retained_cleared", "subscribed", "unsubscribed",
    "queued", "dequeued" (the storage's: ``StorageInterface.persist``), "session",
    "will" (the session store's), "session_ended" (both).
    """

    @property
    def kind(
        self,
    ) -> Literal[
        "retained",
        "retained_cleared",
        "subscribed",
        "unsubscribed",
        "queued",
        "dequeued",
        "session",
        "will",
        "session_ended",
    ]:
        """Which fact it is ("retained", "queued", "session", ...: see the class)."""
    @property
    def for_sessions(self) -> bool:
        """Whether the session store keeps it (a session, a Will, the end of a session)."""
    @property
    def for_storage(self) -> bool:
        """Whether the storage keeps it (everything but a session and a Will)."""
    @property
    def client_id(self) -> str | None:
        """The client it concerns, or None (retained messages)."""
    @property
    def message(self) -> Message | None:
        """The message of a "retained" or "queued" fact, else None."""
    @property
    def topic(self) -> str | None:
        """The topic of a "retained_cleared" fact, else None."""
    @property
    def subscription(self) -> Subscription | None:
        """The subscription of a "subscribed" fact, else None."""
    @property
    def topic_filter(self) -> str | None:
        """The filter of an "unsubscribed" fact, else None."""
    @property
    def seq(self) -> int | None:
        """The entry number of a "queued" or "dequeued" fact, else None."""
    @property
    def at(self) -> float | None:
        """When a retained message arrived, or a message was queued (POSIX seconds)."""
    @property
    def session(self) -> Session | None:
        """The session of a "session" fact, else None."""
    @property
    def will(self) -> Will | None:
        """The Will of a "will" fact (None: the client has none any more)."""
    def storage_call(self) -> tuple[str, tuple[Any, ...]] | None:
        """Return the storage call that stores it, as (method name, arguments), or None.

        None for the session store's facts. "forget_client" (client id,) means: remove
        each of the client's subscriptions, then dequeue all of its queue.
        """
    def session_call(self) -> tuple[str, tuple[Any, ...]] | None:
        """Return the session-store call that stores it, as (method name, arguments), or None.

        None for the storage's facts: "save_session" (session,), "set_will" (client id,
        will), "clear_will" (client id,) or "delete_session" (client id,).
        """

@final
class Outgoing:
    """A delivery to a connected client that the broker hands to its engine itself.

    A retained message for a new subscription, after checking the client may receive it.
    """

    @property
    def connection(self) -> int:
        """The connection to deliver on."""
    @property
    def client_id(self) -> str:
        """Its client."""
    @property
    def message(self) -> Message:
        """The message (its expiry counted down)."""
    @property
    def retained(self) -> bool:
        """Whether it is a retained message sent because of a new subscription."""

@final
class Routed:
    """What a router call decided, for the broker to carry out.

    Deliveries to attached engines are already made (``touched`` names their
    connections, whose output to write). ``facts`` are to be stored before the
    acknowledgements that promise them are released; ``wills`` are Wills now due (publish
    each with ``publish`` if its owner may); ``dropped`` names sessions whose full queue
    dropped a message.
    """

    @property
    def facts(self) -> list[Fact]:
        """The facts to store, in order."""
    @property
    def wills(self) -> list[tuple[str, AuthCredentials, Message]]:
        """Wills now due: (client id, owner's credentials, message)."""
    @property
    def dropped(self) -> list[str]:
        """Sessions whose full queue dropped a message (one entry per message)."""
    @property
    def touched(self) -> list[int]:
        """Connections given output."""
    @property
    def matched(self) -> bool:
        """For a publication: whether any subscription matched."""
    @property
    def reason_code(self) -> ReasonCode | None:
        """For a publication: the publisher's acknowledgement code if not Success, else None.

        0x97 Quota exceeded: refused, routed nowhere; 0x10 No matching subscribers.
        """
    @property
    def refused(self) -> list[str]:
        """For ``receive``: the topics of the messages refused (0x97), for the log."""
    @property
    def reason_codes(self) -> list[ReasonCode]:
        """For a SUBSCRIBE or UNSUBSCRIBE: one reason code per filter."""
    @property
    def retained(self) -> list[Outgoing]:
        """For a SUBSCRIBE: the retained messages to deliver (not yet delivered)."""
    @property
    def events(self) -> list[_Event]:
        """For ``receive``: the events left for the broker, in order."""
    @property
    def forwards(self) -> list[Forward]:
        """In a cluster: messages for other nodes, to send with the facts."""
    @property
    def changes(self) -> list[Change]:
        """In a cluster: changes every node must see, to send with the facts."""

@final
class Connected:
    """A connection the router accepted, or must first take over."""

    @property
    def take_over(self) -> int | None:
        """The connection to end first (0x8E), then connect again; None once accepted."""
    @property
    def session(self) -> Session | None:
        """The session to accept the CONNECT with (None with ``take_over``)."""
    @property
    def session_present(self) -> bool:
        """Whether it was resumed (CONNACK's Session Present)."""
    @property
    def facts(self) -> list[Fact]:
        """The facts to store (the new session, its Will)."""
    @property
    def changes(self) -> list[Change]:
        """In a cluster: changes every node must see, to send with the facts.

        The filters of a session a clean start ended.
        """

@final
class Forward:
    """A message published on this node for the subscribers another node has.

    Made by a clustered ``Router`` (``Routed.forwards``) and by the transport (what
    another node sent); routed with ``Router.receive_forward``.
    """

    @property
    def node(self) -> str:
        """The node it goes to."""
    @property
    def message(self) -> Message:
        """The message as published (its QoS and RETAIN flag)."""
    @property
    def qos(self) -> int:
        """The message's QoS (0 may go live, uncommitted)."""
    @property
    def publisher(self) -> str | None:
        """The client that published it (for No Local), or None for the broker's own."""
    @property
    def groups(self) -> list[str]:
        """The shared subscriptions (``$share/...`` filters) that node serves this message."""
    @property
    def client_id(self) -> str | None:
        """The one client it is for (a session that moved to that node), or None: all."""
    @property
    def published_at(self) -> float:
        """When it was published (POSIX seconds): its expiry counts down from then."""

@final
class Change:
    """A change every node of a cluster applies, in one order (``Router.apply_change``).

    ``kind`` says which: "filter" (a node's clients have, or no longer have, a filter),
    "retained" (a topic's retained message set), "retained_cleared".
    """

    @property
    def kind(self) -> Literal["filter", "retained", "retained_cleared"]:
        """Which change it is: "filter", "retained" or "retained_cleared"."""
    @property
    def node(self) -> str | None:
        """The node of a "filter" change, else None."""
    @property
    def topic_filter(self) -> str | None:
        """The topic filter of a "filter" change, else None."""
    @property
    def present(self) -> bool | None:
        """Whether the node has the filter now (a "filter" change), else None."""
    @property
    def message(self) -> Message | None:
        """The message of a "retained" change, else None."""
    @property
    def topic(self) -> str | None:
        """The topic of a "retained" or "retained_cleared" change, else None."""
    @property
    def arrived_at(self) -> float | None:
        """When a "retained" message arrived (POSIX seconds), else None."""

@final
class Router:
    """MQTT's rules between clients, sans I/O.

    Subscriptions, retained messages, sessions that outlive their connections and what
    they are owed, Wills, expiry, takeover.

    Time comes in twice: ``now``, the wall clock (``time.time()``: facts outlive the
    process), and ``clock``, the engines' clock (``loop.time()``), for deliveries.

    ``max_retained_messages`` and ``max_retained_bytes`` (topics and payloads) bound the
    retained messages outside ``$SYS``: one more is refused whole with 0x97
    (``Routed.reason_code``).
    ``max_connections`` bounds the clients connected (``connection_refusal``). None:
    no bound.
    """

    def __new__(
        cls,
        *,
        max_queued_messages: int = ...,
        queue_full: Literal["drop_new", "drop_oldest"] = "drop_new",
        shared_choice: Literal["round_robin", "random", "sticky"] = "round_robin",
        max_subscriptions_per_client: int | None = None,
        max_topic_levels: int | None = None,
        max_retained_messages: int | None = None,
        max_retained_bytes: int | None = None,
        max_connections: int | None = None,
        node_id: str | None = None,
    ) -> Self: ...
    def assign_client_id(self) -> str:
        """Return a client identifier for a client that gave none.

        ``auto-`` and a random UUID, never one a session here holds.
        """
    def has_session(self, client_id: str) -> bool:
        """Return whether a session (connected or away) holds this client identifier."""
    def owner(self, client_id: str) -> AuthCredentials | None:
        """Return the credentials of a client's session owner (no password), or None."""
    def set_bounds(
        self,
        *,
        max_retained_messages: int | None,
        max_retained_bytes: int | None,
        max_connections: int | None,
    ) -> None:
        """Change the bounds on retained messages and connections from now on (a reload).

        None: no bound. What is there already stays: past a lowered bound, only growth
        is refused.
        """
    def connection_refusal(self, client_id: str) -> ReasonCode | None:
        """Return why one more client may not connect as ``client_id``, or None if it may.

        0x97 Quota exceeded (for the CONNACK) when ``max_connections`` clients are
        connected; a client taking its own session over always may. Ask before
        ``connect``.
        """
    def client_of(self, connection: int) -> str | None:
        """Return the client identifier a connection holds, or None."""
    def restore_session(
        self,
        session: Session,
        will: Will | None,
        subscriptions: Iterable[Subscription],
        queue: Iterable[tuple[int, Message, float]],
        now: float,
    ) -> Routed:
        """Take back a session a store kept, with its Will, subscriptions and queue.

        The queue is (entry number, message, enqueue time) tuples. Call
        ``handle_timeout`` once every session and retained message is back.
        """
    def restore_retained(self, message: Message, arrived_at: float) -> None:
        """Take back a retained message a store kept, with its arrival time."""
    def connect(
        self,
        connection: int,
        request: ConnectRequest,
        client_id: str,
        owner: AuthCredentials,
        now: float,
    ) -> Connected:
        """Connect a client on ``connection`` as ``client_id``, authenticated as ``owner``.

        Return ``Connected``: the session to accept with, or the connection to take over
        first. The deliveries its queue owes are made once its engine is attached.
        """
    def attach(self, connection: int, engine: ServerConnection, clock: float) -> Routed:
        """Deliver to ``engine`` from now on what goes to ``connection``.

        Call it once the engine accepted the CONNECT: what the session's queue owes goes
        now. Return what that did.
        """
    def receive(
        self, connection: int, data: bytes | bytearray | memoryview, now: float, clock: float
    ) -> Routed:
        """Hand an attached connection's read to its engine; route what needs nobody else.

        Its QoS 0 and 1 messages are published, its tagged deliveries settled. Return
        what that did. ``events`` holds the events left for the broker, in order,
        from the first that needs it (a SUBSCRIBE, a QoS 2 message, the end of the
        connection). For a broker that authorizes nothing: one with an authorization
        provider calls the engine's ``receive_data`` and decides each publication.
        """
    def closed(self, connection: int, closed: Closed, now: float, clock: float) -> Routed:
        """Take note that a connection ended (its engine's Closed event).

        The session keeps what it is owed, or ends; its Will is due now or later. The
        engine is detached.
        """
    def settled(self, connection: int, tag: int) -> Routed:
        """Take note that a tagged delivery ended (Delivered or Discarded): no longer owed."""
    def publish(
        self,
        message: Message,
        now: float,
        clock: float,
        *,
        publisher: str | None = None,
        receivers: Iterable[str] | None = None,
    ) -> Routed:
        """Route a published message (a retained one is stored or cleared).

        ``publisher``: the client that published it (for No Local). ``receivers``: only
        these clients may receive it (the broker's authorization); None: any.
        """
    def receivers(self, topic: str) -> list[tuple[str, AuthCredentials]]:
        """Return the clients a message on ``topic`` would go to, with their owners' credentials.

        Ask which may receive it, then ``publish(..., receivers=...)``.
        """
    def subscribe(
        self,
        connection: int,
        subscriptions: Iterable[Subscription],
        now: float,
        *,
        refused: Iterable[int | None] | None = None,
    ) -> Routed:
        """Make the subscriptions of a SUBSCRIBE, now, in order.

        Except those ``refused`` (a reason code per subscription, None for allowed).
        Return the reason codes, the facts, and the retained messages to deliver
        (``deliver`` each the client may receive).
        """
    def unsubscribe(self, connection: int, topic_filters: Iterable[str]) -> Routed:
        """Remove the subscriptions of an UNSUBSCRIBE; return a reason code per filter."""
    def deliver(
        self, outgoing: Outgoing, clock: float
    ) -> Literal["sent", "queued", "too_large", "expired", "queue_full", "closed"]:
        """Deliver an Outgoing (a retained message ``subscribe`` returned) to its engine.

        Return the outcome ("sent", "queued", ...; "closed" if it is gone).
        """
    def next_deadline(self) -> float | None:
        """When ``handle_timeout`` is due next (POSIX seconds), or None."""
    def handle_timeout(self, now: float, clock: float) -> Routed:
        """Run what is due at ``now``: Wills, session expiry, retained messages' expiry."""
    def subscriptions(self, client_id: str) -> list[Subscription]:
        """Return a client's subscriptions."""
    def stats(self) -> dict[str, int]:
        """Return counts: sessions, connected, subscriptions, retained, queued, dropped.

        Also ``retained_bytes`` (their topics' and payloads' bytes) and
        ``retained_refused`` (retained messages refused for the bounds on them).
        """
    @property
    def node_id(self) -> str | None:
        """The router's node identifier, if it is a node of a cluster (``node_id=``)."""
    def node_filters(self) -> list[str]:
        """Return the topic filters this node's clients subscribe to, each once.

        What a node announces to the others when it starts.
        """
    def known_nodes(self) -> list[str]:
        """Return the nodes known to have subscribers, this one included."""
    def apply_change(self, change: Change) -> None:
        """Apply a change every node sees, in the order the transport gives.

        This node's own changes included: the order decides which of two nodes'
        retained messages on one topic stays. Nothing is stored (the node that made the
        change stored it).
        """
    def receive_forward(
        self,
        forward: Forward,
        now: float,
        clock: float,
        *,
        receivers: Iterable[str] | None = None,
    ) -> Routed:
        """Route a message another node forwarded to this node's clients.

        As ``publish``, to ``receivers`` only when given; its expiry counts down from
        its publication.
        """
    def receive_forwards(self, forwards: Iterable[Forward], now: float, clock: float) -> Routed:
        """Route messages other nodes forwarded to this node's clients, in order.

        As ``receive_forward`` for each, in one call: for a broker that authorizes
        nobody's receiving (one with an authorization provider asks for each message).
        """
    def release(self, client_id: str, node: str, grace: float, now: float) -> None:
        """Let another node have a client's session, which it resumes from the stores.

        Call it once the client's connection here ended and its facts are stored. For
        ``grace`` seconds its subscriptions still forward to ``node`` what they match.
        """
    def forget_node(self, node: str) -> None:
        """Forget the filters of a node that left the cluster."""
    def connection_of(self, client_id: str) -> int | None:
        """Return the connection that holds a client identifier, or None."""

@final
class RedisNode:
    """One broker process's part in a cluster on Redis.

    Made by ``await RedisNode.join(url, node_id)``, which returns a ``Joined``. Its
    leases run on Redis' clock; a node whose own lease another node took gets a
    ``StateError`` from ``heartbeat`` and must stop.
    """

    @staticmethod
    async def join(
        url: str,
        node_id: str,
        *,
        prefix: str = "mqtt",
        lease: float | None = None,
        tls_ca: str | os.PathLike[str] | None = None,
        replicas: int = 0,
        replica_timeout: float | None = None,
    ) -> Joined:
        """Join the cluster whose keys are under ``prefix``: return an awaitable ``Joined``.

        Takes a lease of ``lease`` seconds (10 if None; renew it every third of it
        with ``heartbeat``), makes the node's inbox (keeping what a previous run left
        unread), notes the change log's end, then reads the other nodes' filters.
        """
    @property
    def node_id(self) -> str:
        """The node's identifier."""
    async def heartbeat(self) -> list[str]:
        """Renew the lease; resolve to the other nodes whose lease has ended.

        A ``StateError`` if another node took this one's lease (it was taken for dead):
        the process must stop serving its clients.
        """
    async def adopt(self, dead: str) -> Adopted | None:
        """Adopt a node whose lease ended: resolve to ``Adopted``.

        None if another node adopts it (or it came back).
        """
    async def drain(self, dead: str, count: int) -> list[InboxEntry]:
        """Resolve to up to ``count`` entries left in an adopted node's inbox."""
    async def drained(self, dead: str, ids: Iterable[str]) -> None:
        """Delete entries of an adopted node's inbox, routed and stored."""
    async def forget(self, dead: str) -> None:
        """Forget an adopted node, once its inbox is drained."""
    async def announce_all(self, filters: Iterable[str]) -> None:
        """Announce every filter of this node's clients (``Router.node_filters``) at start."""
    async def client_ids(self) -> list[str]:
        """Resolve to the clients whose sessions this node holds (to take up at start)."""
    async def holder_of(self, client_id: str) -> str | None:
        """Resolve to the node that holds a client's session, or None."""
    async def lease_of(self, node_id: str) -> Literal["held", "ended", "none"]:
        """Resolve to where a node's lease stands: "held", "ended" (it died) or "none"."""
    async def is_alive(self, node_id: str) -> bool:
        """Resolve to whether a node's lease is held."""
    async def claim(self, client_id: str) -> str | None:
        """Make this node a client's session holder; resolve to the previous one, or None."""
    async def ask_release(self, holder: str, client_id: str) -> None:
        """Ask ``holder`` to let a client's session go (an inbox entry "release" there)."""
    async def released(self, node_id: str, client_id: str) -> None:
        """Tell ``node_id`` that a client's session it asked for is let go."""
    async def send(
        self, forwards: Iterable[Forward], changes: Iterable[Change], facts: Iterable[Fact]
    ) -> None:
        """Send a commit's forwards and changes, with its facts.

        The facts say which sessions this node holds begin or end. Resolves once Redis
        has them all: the publications they come from may then be acknowledged.
        """
    async def publish_live(self, forwards: Iterable[Forward]) -> None:
        """Send QoS 0 forwards to the other nodes' live feeds (nothing stored).

        Resolves once sent; to a node that has not read what it was sent before, only
        once it has (a slow node slows its senders rather than lose its feed).
        """
    async def leave(self, filters: Iterable[str]) -> None:
        """Leave the cluster: end the lease and withdraw these filters (the node's)."""

@final
class Joined:
    """What a node finds when it joins.

    Itself, the other nodes' filters, and the three feeds it reads for ever (its inbox,
    the change log, its live feed).
    """

    @property
    def node(self) -> RedisNode:
        """The node."""
    @property
    def filters(self) -> list[Change]:
        """The other nodes' filters, as changes to apply to the router before it routes."""
    @property
    def inbox(self) -> Inbox:
        """Its inbox: messages for its clients and session hand-overs."""
    @property
    def changes(self) -> ChangeLog:
        """The change log from the point it joined."""
    @property
    def live(self) -> LiveFeed:
        """Its live feed: QoS 0 messages for its clients."""

@final
class Inbox:
    """A node's inbox: messages forwarded to its clients, and session hand-overs.

    Read with ``read``, then ``done`` with the entries' ids once what they caused is
    stored (or ``read_again`` after a failure: at least once).
    """

    async def read(self) -> list[InboxEntry]:
        """Resolve to the next entries, oldest first (an empty list after a second).

        First those a previous run read and did not finish.
        """
    def read_again(self) -> None:
        """From the next read on, read again what was read and not ``done``.

        A ``StateError`` while a read or ``done`` is under way.
        """
    async def done(self, ids: Iterable[str]) -> None:
        """Acknowledge and delete entries whose effects are stored."""

@final
class InboxEntry:
    """One entry of an inbox (or of a dead node's, drained).

    ``kind`` says which: "forwards" (``forwards``, in order), "release" (``node`` takes
    over ``client_id``'s session: let it go, then ``RedisNode.released``), "released"
    (the session asked for is let go), or "unreadable" (``error`` says why; log it and
    acknowledge it as the rest).
    """

    @property
    def id(self) -> str:
        """The entry's id (for ``Inbox.done`` and ``RedisNode.drained``)."""
    @property
    def kind(self) -> Literal["forwards", "release", "released", "unreadable"]:
        """What it holds: "forwards", "release", "released" or "unreadable"."""
    @property
    def forwards(self) -> list[Forward]:
        """The messages of a "forwards" entry, in order (else empty)."""
    @property
    def client_id(self) -> str | None:
        """The client of a "release" or "released" entry, else None."""
    @property
    def node(self) -> str | None:
        """The node that asks for the session, in a "release" entry, else None."""
    @property
    def error(self) -> str | None:
        """Why an "unreadable" entry cannot be read, else None."""

@final
class ChangeLog:
    """The change log every node reads, in one order: apply each change to the router."""

    async def read(self) -> list[Change]:
        """Resolve to the changes after the last read, in the log's order.

        An empty list after a second with none.
        """

@final
class LiveFeed:
    """A node's live feed: the QoS 0 messages other nodes send it (nothing stored)."""

    async def read(self) -> list[Forward]:
        """Resolve to the next QoS 0 messages sent live, waiting for them.

        Call it again once they are routed: their sender is then told they were read.
        """

@final
class Adopted:
    """What adopting a dead node gives.

    Its sessions (take them up from the stores), and the changes that withdraw its
    filters (send them once this node announced its own).
    """

    @property
    def node(self) -> str:
        """The dead node."""
    @property
    def client_ids(self) -> list[str]:
        """The clients whose sessions it held."""
    @property
    def filters(self) -> list[Change]:
        """The changes that withdraw the dead node's filters."""

@final
class Metrics:
    """Counters shared by a broker's connections.

    Bytes, packets and PUBLISH messages in and out, deliveries dropped by cause,
    connections accepted and refused. Pass one to every ``ServerConnection``
    (``metrics=``); read them with ``snapshot``.
    """

    def __new__(cls) -> Self: ...
    def snapshot(self) -> MetricsSnapshot:
        """Return the counters now."""

@final
class SysTopics:
    """A broker's ``$SYS`` figures, with mosquitto's names and meanings.

    ``SysTopics(interval, version, *, node_id=None)``: every ``interval`` seconds call
    ``changed`` and publish the retained messages it returns through the router (a
    router keeps ``$SYS`` messages in memory only). The first call returns every figure,
    later ones those that changed; the load averages are per minute over 1, 5 and 15
    minutes, as mosquitto weighs them. ``ValidationError`` for an ``interval`` that is
    not above 0 seconds; ``StateError`` for a ``node_id`` no cluster node can have.
    """

    def __new__(cls, interval: float, version: str, *, node_id: str | None = None) -> Self: ...
    @property
    def prefix(self) -> str:
        """What every topic starts with: ``$SYS/broker/`` (``$SYS/broker/nodes/<id>/``)."""
    def changed(
        self,
        metrics: Metrics,
        router: Router,
        *,
        connected: int,
        max_connected: int,
        uptime: float,
    ) -> list[Message]:
        """Return the retained messages of the figures that changed since the last call.

        ``metrics``: the engines' counters; ``router``: for its counts; ``connected``:
        connections open now; ``max_connected``: the most at once; ``uptime``: seconds.
        """

@final
class MetricsSnapshot:
    """The counters at one moment (each counts since the ``Metrics`` was made)."""

    @property
    def bytes_received(self) -> int:
        """Bytes read from clients."""
    @property
    def bytes_sent(self) -> int:
        """Bytes written to clients."""
    @property
    def packets_received(self) -> int:
        """MQTT packets read from clients, of every type."""
    @property
    def packets_sent(self) -> int:
        """MQTT packets written to clients, of every type."""
    @property
    def messages_received(self) -> tuple[int, int, int]:
        """PUBLISH packets received from clients, by QoS: (QoS 0, QoS 1, QoS 2)."""
    @property
    def messages_sent(self) -> tuple[int, int, int]:
        """PUBLISH packets sent to clients, by QoS: (QoS 0, QoS 1, QoS 2)."""
    @property
    def dropped_too_large(self) -> int:
        """Deliveries dropped because they were larger than the client accepts."""
    @property
    def dropped_expired(self) -> int:
        """Deliveries dropped because their Message Expiry Interval ran out while waiting."""
    @property
    def dropped_queue_full(self) -> int:
        """Deliveries dropped because the connection's queue was full."""
    @property
    def connections_accepted(self) -> int:
        """CONNECTs accepted."""
    @property
    def connections_refused(self) -> int:
        """CONNECTs refused, for any reason."""
    @property
    def auth_refused(self) -> int:
        """CONNECTs refused for a bad user name or password, or as not authorized."""
