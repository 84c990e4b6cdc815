//! The crate's error type.
//!
//! [`Error`] has one variant per Python exception class (see the table on [`Error`]).
//! The specific rule that was broken is a [`Violation`]: one check, one violation. The
//! entry point decides how to classify it: a model constructor reports a
//! [`Error::Validation`], while the decoder reports the same violation as
//! [`Error::MalformedPacket`] or [`Error::Protocol`]. Incomplete input is never an error.

use std::fmt;
use std::sync::Arc;

use crate::constants::{ConnectReturnCode, ReasonCode};

/// A `Result` whose error defaults to [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which kind of error this is: one kind per Python exception class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `ValidationError`: a value broke a rule of the model.
    Validation,
    /// `MalformedPacketError`: bytes that cannot be decoded.
    MalformedPacket,
    /// `ProtocolError`: a well-formed packet that breaks the protocol.
    Protocol,
    /// `ConnectError`: a connection attempt refused.
    Connect,
    /// `AuthenticationError`: credentials not accepted.
    Authentication,
    /// `AuthorizationError`: an action not permitted.
    Authorization,
    /// `StorageError`: a storage backend failed.
    Storage,
    /// An error raised by an implementation written in another language (a Python
    /// exception), which reaches its caller unchanged.
    Callback,
}

/// Every error this crate reports.
///
/// | variant | Python class | `reason_code()` |
/// | --- | --- | --- |
/// | [`Validation`](Error::Validation) | `ValidationError` | the violation's |
/// | [`MalformedPacket`](Error::MalformedPacket) | `MalformedPacketError` | 0x81 |
/// | [`Protocol`](Error::Protocol) | `ProtocolError` | the violation's own (0x91, 0x94, ...) or 0x82 |
/// | [`Connect`](Error::Connect) | `ConnectError` | the one given |
/// | [`Authentication`](Error::Authentication) | `AuthenticationError` | 0x86 |
/// | [`Authorization`](Error::Authorization) | `AuthorizationError` | 0x87 |
/// | [`Storage`](Error::Storage) | `StorageError` | 0x83 |
/// | [`Callback`](Error::Callback) | the original exception | 0x83 |
///
/// The `Display` text is lowercase and ends with the rule it enforces, e.g.
/// `topic: topic name contains a wildcard [MQTT-3.3.2-2]`.
///
/// # Examples
/// ```
/// use mqtt_common::{ErrorKind, ReasonCode, TopicName};
/// let err = TopicName::new("a/+").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Validation);
/// assert_eq!(err.reason_code(), ReasonCode::TopicNameInvalid);
/// assert_eq!(err.spec_ref(), Some("MQTT-3.3.2-2"));
/// assert_eq!(err.to_string(), "topic name contains a wildcard [MQTT-3.3.2-2]");
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value broke a rule of the model; `field` names the value when known.
    #[error("{}", violation.described(*field))]
    Validation {
        /// The field that holds the bad value (`"topic"`, `"properties.topic_alias"`).
        field: Option<&'static str>,
        /// The rule that was broken.
        violation: Violation,
    },
    /// Bytes that cannot be decoded as the packet they claim to be.
    #[error("malformed packet: {}", .0.described(None))]
    MalformedPacket(Violation),
    /// A packet that decodes but breaks the protocol.
    #[error("protocol error: {}", .0.described(None))]
    Protocol(Violation),
    /// The server refused the connection.
    #[error("connection refused: {message}")]
    Connect {
        /// The 3.1.1 CONNACK return code.
        return_code: ConnectReturnCode,
        /// The 5.0 CONNACK reason code.
        reason_code: ReasonCode,
        /// What happened, for people.
        message: String,
    },
    /// Credentials were not accepted.
    #[error("authentication failed: {message}")]
    Authentication {
        /// What happened, for people (never the secret itself).
        message: String,
    },
    /// The client may not perform an action.
    #[error("not authorized: {message}")]
    Authorization {
        /// What happened, for people.
        message: String,
    },
    /// An implementation written in another language failed (a Python exception
    /// raised by a Python `AuthInterface`, say); the bindings hand it back unchanged.
    #[error("{0}")]
    Callback(Arc<dyn std::error::Error + Send + Sync>),
    /// A storage backend failed.
    #[error("storage error: {message}")]
    Storage {
        /// What happened, for people.
        message: String,
        /// The backend's own error, if any.
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },
}

impl Error {
    /// A validation error for a named field.
    ///
    /// # Examples
    /// ```
    /// use mqtt_common::{Error, Violation};
    /// let err = Error::invalid("message_id", Violation::PacketIdZero);
    /// assert_eq!(err.to_string(), "message_id: packet identifier is 0 [MQTT-2.2.1-3]");
    /// ```
    pub fn invalid(field: &'static str, violation: Violation) -> Self {
        Self::Validation {
            field: Some(field),
            violation,
        }
    }

    /// Names the field of a validation error that has none yet; other errors are
    /// returned unchanged.
    pub fn in_field(self, field: &'static str) -> Self {
        match self {
            Self::Validation {
                field: None,
                violation,
            } => Self::invalid(field, violation),
            other => other,
        }
    }

    /// Which Python exception class this error becomes.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Validation { .. } => ErrorKind::Validation,
            Self::MalformedPacket(_) => ErrorKind::MalformedPacket,
            Self::Protocol(_) => ErrorKind::Protocol,
            Self::Connect { .. } => ErrorKind::Connect,
            Self::Authentication { .. } => ErrorKind::Authentication,
            Self::Authorization { .. } => ErrorKind::Authorization,
            Self::Storage { .. } => ErrorKind::Storage,
            Self::Callback(_) => ErrorKind::Callback,
        }
    }

    /// The MQTT 5.0 reason code a broker would report for this error.
    pub fn reason_code(&self) -> ReasonCode {
        match self {
            Self::Validation { violation, .. } => violation.reason_code(),
            Self::MalformedPacket(_) => ReasonCode::MalformedPacket,
            Self::Protocol(violation) => violation.protocol_reason_code(),
            Self::Connect { reason_code, .. } => *reason_code,
            Self::Authentication { .. } => ReasonCode::BadUserNameOrPassword,
            Self::Authorization { .. } => ReasonCode::NotAuthorized,
            Self::Storage { .. } | Self::Callback(_) => ReasonCode::ImplementationSpecificError,
        }
    }

    /// The normative statement or section this error enforces, e.g. `"MQTT-3.3.2-2"`.
    pub fn spec_ref(&self) -> Option<&'static str> {
        self.violation().and_then(Violation::spec_ref)
    }

    /// The broken rule, for the variants that carry one.
    pub fn violation(&self) -> Option<&Violation> {
        match self {
            Self::Validation { violation, .. }
            | Self::MalformedPacket(violation)
            | Self::Protocol(violation) => Some(violation),
            _ => None,
        }
    }

    /// The 3.1.1 CONNACK return code of a [`Error::Connect`].
    pub fn return_code(&self) -> Option<ConnectReturnCode> {
        match self {
            Self::Connect { return_code, .. } => Some(*return_code),
            _ => None,
        }
    }
}

impl From<Violation> for Error {
    fn from(violation: Violation) -> Self {
        Self::Validation {
            field: None,
            violation,
        }
    }
}

/// Writes `field: violation [spec ref]`.
struct Described<'a> {
    field: Option<&'static str>,
    violation: &'a Violation,
}

impl fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(field) = self.field {
            write!(f, "{field}: ")?;
        }
        write!(f, "{}", self.violation)?;
        if let Some(spec_ref) = self.violation.spec_ref() {
            write!(f, " [{spec_ref}]")?;
        }
        Ok(())
    }
}

/// Whether a topic rule concerns a topic name (PUBLISH) or a topic filter (SUBSCRIBE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TopicKind {
    /// A topic name, as in PUBLISH.
    Name,
    /// A topic filter, as in SUBSCRIBE and UNSUBSCRIBE.
    Filter,
}

impl fmt::Display for TopicKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Name => "topic name",
            Self::Filter => "topic filter",
        })
    }
}

/// One rule of MQTT, broken. `spec_ref()` names it; `Display` describes it.
///
/// Spec references use MQTT 5.0 numbering; where a rule has no numbered statement the
/// section is given (`§1.5.4`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Violation {
    /// A value outside a code table (QoS 3, packet type 0, reason code 0x03).
    #[error("{value:#04x} is not a valid {what}")]
    UnknownCode {
        /// Which table.
        what: &'static str,
        /// The value seen.
        value: u8,
        /// The rule that lists the valid values.
        spec_ref: &'static str,
    },
    /// A UTF-8 Encoded String that is not well-formed UTF-8 (or a surrogate from Python).
    #[error("string is not well-formed UTF-8")]
    InvalidUtf8,
    /// A UTF-8 Encoded String containing U+0000.
    #[error("string contains the null character U+0000")]
    StringContainsNull,
    /// A UTF-8 Encoded String longer than 65,535 bytes.
    #[error("string is {len} bytes long, more than 65535")]
    StringTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// Binary Data longer than 65,535 bytes.
    #[error("binary data is {len} bytes long, more than 65535")]
    BinaryTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// An empty topic name or filter.
    #[error("{kind} is empty")]
    TopicEmpty {
        /// Name or filter.
        kind: TopicKind,
    },
    /// A topic name or filter longer than 65,535 bytes.
    #[error("{kind} is {len} bytes long, more than 65535")]
    TopicTooLong {
        /// Name or filter.
        kind: TopicKind,
        /// Its length in bytes.
        len: usize,
    },
    /// A topic name or filter containing U+0000.
    #[error("{kind} contains the null character U+0000")]
    TopicContainsNull {
        /// Name or filter.
        kind: TopicKind,
    },
    /// A topic name or filter that is not well-formed UTF-8.
    #[error("{kind} is not well-formed UTF-8")]
    TopicInvalidUtf8 {
        /// Name or filter.
        kind: TopicKind,
    },
    /// A topic name containing `+` or `#`.
    #[error("topic name contains a wildcard")]
    TopicNameHasWildcard,
    /// A Response Topic containing `+` or `#`.
    #[error("response topic contains a wildcard")]
    ResponseTopicHasWildcard,
    /// `#` not alone in its level, or not in the last level.
    #[error("'#' must be the last level of a topic filter and stand alone in it")]
    MisplacedMultiLevelWildcard,
    /// `+` sharing a level with other characters.
    #[error("'+' must occupy a whole level of a topic filter")]
    MisplacedSingleLevelWildcard,
    /// `$share//filter`.
    #[error("shared subscription has an empty share name")]
    ShareNameEmpty,
    /// A share name containing `+` or `#`.
    #[error("share name contains a wildcard")]
    ShareNameHasWildcard,
    /// `$share/name` with no `/` and topic filter after the share name.
    #[error("shared subscription has no topic filter after the share name")]
    SharedFilterMissing,
    /// No Local set on a shared subscription.
    #[error("no_local is set on a shared subscription")]
    NoLocalOnSharedSubscription,
    /// A client holding as many subscriptions as the configured maximum.
    #[error("client already has {limit} subscriptions, the configured maximum")]
    TooManySubscriptions {
        /// The configured maximum.
        limit: usize,
    },
    /// A topic name or filter with more levels than the configured maximum.
    #[error("{kind} has {levels} levels, more than the configured maximum of {limit}")]
    TooManyLevels {
        /// Name or filter.
        kind: TopicKind,
        /// Its number of levels.
        levels: usize,
        /// The configured maximum.
        limit: usize,
    },
    /// A packet identifier that is already in flight ([MQTT-2.2.1-3]); a QoS 2 PUBLISH
    /// reusing one without DUP is refused rather than overwriting state (CVE-2023-28366).
    #[error("packet identifier {id} is already in use")]
    PacketIdInUse {
        /// The identifier.
        id: u16,
    },
    /// An acknowledgement for a packet identifier with nothing in flight.
    #[error("received {packet} for packet identifier {id}, which is not in flight")]
    PacketIdNotFound {
        /// The acknowledgement received.
        packet: crate::constants::PacketType,
        /// The identifier.
        id: u16,
    },
    /// An acknowledgement that does not fit the state of its packet identifier.
    #[error("received {packet} for packet identifier {id}, which is waiting for {expected}")]
    UnexpectedAck {
        /// The acknowledgement received.
        packet: crate::constants::PacketType,
        /// The identifier.
        id: u16,
        /// What the flow was waiting for.
        expected: crate::constants::PacketType,
    },
    /// More QoS 1 and 2 PUBLISH packets in flight than the Receive Maximum allows.
    #[error("the receive maximum of {limit} QoS 1 and 2 messages in flight is reached")]
    ReceiveMaximumExceeded {
        /// The Receive Maximum.
        limit: u16,
    },
    /// Every packet identifier is in flight.
    #[error("all 65535 packet identifiers are in flight")]
    PacketIdsExhausted,
    /// A field that runs past the end of its packet.
    #[error("{what} runs past the end of the packet")]
    Truncated {
        /// The field.
        what: &'static str,
    },
    /// Bytes left over after the last field of a packet.
    #[error("{len} bytes left over after the {what}")]
    TrailingBytes {
        /// The last field read.
        what: &'static str,
        /// How many bytes are left.
        len: usize,
    },
    /// A Variable Byte Integer of more than four bytes (CVE-2026-21888).
    #[error("variable byte integer is longer than 4 bytes")]
    VariableIntegerTooLong,
    /// A Variable Byte Integer not encoded in the fewest bytes.
    #[error("variable byte integer is not encoded in the fewest bytes")]
    VariableIntegerNotMinimal,
    /// A UTF-8 string with a control character or a non-character, which the receiver
    /// may refuse (§1.5.4); refused unless the decoder is told to allow them.
    #[error("string contains the control character or non-character U+{code_point:04X}")]
    StringHasControlCharacter {
        /// The code point.
        code_point: u32,
    },
    /// A packet type that does not exist in this protocol version (0, or 15 before 5.0).
    #[error("packet type {value} is reserved")]
    ReservedPacketType {
        /// The type bits.
        value: u8,
    },
    /// Fixed header flags that break the rule of their packet type.
    #[error("{packet} has fixed header flags {flags:#06b}")]
    InvalidFlags {
        /// The packet type.
        packet: crate::constants::PacketType,
        /// The flags seen.
        flags: u8,
    },
    /// A packet larger than the receiver's Maximum Packet Size.
    #[error("packet of {size} bytes is larger than the maximum of {max}")]
    PacketTooLarge {
        /// Its size, fixed header included.
        size: u64,
        /// The maximum.
        max: u32,
    },
    /// A property identifier that does not exist.
    #[error("property identifier {id:#04x} does not exist")]
    UnknownProperty {
        /// The identifier seen.
        id: u32,
    },
    /// A property the packet (or Will) may not carry.
    #[error("{property} is not allowed in {context}")]
    PropertyNotAllowed {
        /// The property.
        property: crate::constants::PropertyId,
        /// Where it appeared: a packet name, or "the Will Properties".
        context: &'static str,
    },
    /// A property that may appear once, given twice.
    #[error("{property} appears more than once")]
    DuplicateProperty {
        /// The property.
        property: crate::constants::PropertyId,
    },
    /// A property value outside its allowed range (a byte flag other than 0 or 1, a
    /// maximum of 0, ...).
    #[error("{property} has the value {value}, which is not allowed")]
    PropertyOutOfRange {
        /// The property.
        property: crate::constants::PropertyId,
        /// The value seen.
        value: u32,
    },
    /// Authentication Data without an Authentication Method.
    #[error("authentication data without an authentication method")]
    AuthenticationDataWithoutMethod,
    /// An empty topic name without a Topic Alias to stand for it.
    #[error("the topic name is empty and there is no topic alias")]
    EmptyTopicWithoutAlias,
    /// A Subscription Identifier in a PUBLISH sent by a client.
    #[error("a client's PUBLISH carries a subscription identifier")]
    SubscriptionIdFromClient,
    /// A reason code that the packet's own table does not list.
    #[error("{code} is not a reason code of {packet}")]
    ReasonCodeNotAllowed {
        /// The packet.
        packet: crate::constants::PacketType,
        /// The code seen.
        code: crate::constants::ReasonCode,
    },
    /// A SUBSCRIBE or UNSUBSCRIBE without any topic filter.
    #[error("{packet} has no topic filter")]
    NoTopicFilters {
        /// The packet.
        packet: crate::constants::PacketType,
    },
    /// A SUBACK or UNSUBACK without exactly one reason code per filter of the packet it
    /// answers.
    #[error(
        "expected one reason code per topic filter in {packet}: {filters} filter(s), {codes} code(s)"
    )]
    ReasonCodeCount {
        /// The answering packet.
        packet: crate::constants::PacketType,
        /// The filters in the SUBSCRIBE or UNSUBSCRIBE.
        filters: usize,
        /// The reason codes given.
        codes: usize,
    },
    /// A subscription options byte with reserved bits set, or (3.1.1) a QoS of 3.
    #[error("subscription options byte {options:#04x} has reserved bits set")]
    InvalidSubscriptionOptions {
        /// The byte seen.
        options: u8,
    },
    /// A SUBACK return code that MQTT 3.1.1 does not have (only 0, 1, 2 and 0x80).
    #[error("{value:#04x} is not a 3.1.1 SUBACK return code")]
    InvalidSubackReturnCode {
        /// The byte seen.
        value: u8,
    },
    /// Subscriptions of one SUBSCRIBE with different Subscription Identifiers: the
    /// identifier is a property of the whole packet.
    #[error("the subscriptions of one SUBSCRIBE carry different subscription identifiers")]
    MixedSubscriptionIds,
    /// A protocol name that is not the one its protocol level uses ("MQTT", or "MQIsdp"
    /// for 3.1).
    #[error("protocol name {name:?} does not go with protocol level {level}")]
    ProtocolNameMismatch {
        /// The name seen.
        name: String,
        /// The level seen.
        level: u8,
    },
    /// CONNECT flags that break a rule: the reserved bit, or Will QoS, Will Retain or
    /// the password without the flag they depend on.
    #[error("CONNECT flags {flags:#010b} break {rule}")]
    InvalidConnectFlags {
        /// The flags byte.
        flags: u8,
        /// The rule, as the spec states it.
        rule: &'static str,
        /// Its normative reference.
        spec_ref: &'static str,
    },
    /// CONNACK acknowledge flags with reserved bits set, or session present with a
    /// failure code.
    #[error("CONNACK flags {flags:#010b} are not valid with return code {code:#04x}")]
    InvalidConnackFlags {
        /// The flags byte.
        flags: u8,
        /// The return or reason code.
        code: u8,
    },
    /// A reason code or property that only the other side may send (a client sending
    /// DISCONNECT with "Server shutting down", say).
    #[error("{what} may not be sent by a {sender}")]
    WrongSender {
        /// The code or property.
        what: String,
        /// "client" or "server".
        sender: &'static str,
    },
    /// A packet the sender may not send: one for the other direction (a client sending
    /// CONNACK, CVE-2021-28166), anything before CONNECT, or a second CONNECT.
    #[error("{packet} may not arrive here: {why}")]
    UnexpectedPacket {
        /// The packet type.
        packet: crate::constants::PacketType,
        /// Why not.
        why: &'static str,
        /// The rule.
        spec_ref: &'static str,
    },
    /// A Topic Alias above the receiver's Topic Alias Maximum.
    #[error("topic alias {alias} is above the topic alias maximum of {maximum}")]
    TopicAliasTooLarge {
        /// The alias.
        alias: u16,
        /// The receiver's maximum (0: no aliases).
        maximum: u16,
    },
    /// An empty topic with a Topic Alias that has no mapping on this connection.
    #[error("topic alias {alias} has no topic on this connection")]
    UnknownTopicAlias {
        /// The alias.
        alias: u16,
    },
    /// A payload longer than the largest Remaining Length.
    #[error("payload is {len} bytes long, more than 268435455")]
    PayloadTooLarge {
        /// Its length in bytes.
        len: usize,
    },
    /// Packet identifier 0.
    #[error("packet identifier is 0")]
    PacketIdZero,
    /// A QoS 1 or 2 PUBLISH without a packet identifier.
    #[error("a QoS {} message needs a packet identifier", .qos.as_u8())]
    PacketIdMissing {
        /// The message's QoS.
        qos: crate::constants::QoS,
    },
    /// A packet identifier on a QoS 0 message.
    #[error("a QoS 0 message has no packet identifier")]
    PacketIdWithQoS0,
    /// The DUP flag on a QoS 0 message.
    #[error("the DUP flag must be 0 on a QoS 0 message")]
    DupWithQoS0,
    /// Topic Alias 0.
    #[error("topic alias is 0")]
    TopicAliasZero,
    /// A Subscription Identifier of 0 or above 268,435,455.
    #[error("subscription identifier {value} is outside 1..=268435455")]
    SubscriptionIdOutOfRange {
        /// The value seen.
        value: u64,
    },
    /// A Payload Format Indicator other than 0 or 1.
    #[error("payload format indicator {value} is neither 0 nor 1")]
    PayloadFormatIndicatorInvalid {
        /// The value seen.
        value: u64,
    },
    /// An integer outside the range of its field.
    #[error("{value} is outside {min}..={max}")]
    OutOfRange {
        /// The value seen, as text (it may not fit any Rust integer).
        value: String,
        /// Smallest valid value.
        min: u64,
        /// Largest valid value.
        max: u64,
        /// The rule that sets the range.
        spec_ref: &'static str,
    },
    /// A dynamically typed value (from Python) of the wrong type.
    #[error("expected {expected}, got {found}")]
    WrongType {
        /// What the field takes.
        expected: &'static str,
        /// The type seen.
        found: String,
    },
    /// A mapping key that names no known field.
    #[error("unknown field {name:?}")]
    UnknownField {
        /// The key seen.
        name: String,
    },
}

impl Violation {
    /// Displays `field: description [spec ref]`.
    fn described(&self, field: Option<&'static str>) -> Described<'_> {
        Described {
            field,
            violation: self,
        }
    }

    /// The normative statement or section of MQTT 5.0 this violation breaks.
    pub fn spec_ref(&self) -> Option<&'static str> {
        Some(match self {
            Self::UnknownCode { spec_ref, .. } | Self::OutOfRange { spec_ref, .. } => spec_ref,
            Self::InvalidUtf8 => "MQTT-1.5.4-1",
            Self::StringContainsNull => "MQTT-1.5.4-2",
            Self::StringTooLong { .. } => "§1.5.4",
            Self::BinaryTooLong { .. } => "§1.5.6",
            Self::TopicEmpty { .. } => "MQTT-4.7.3-1",
            Self::TopicContainsNull { .. } => "MQTT-4.7.3-2",
            Self::TopicTooLong { .. } => "MQTT-4.7.3-3",
            Self::TopicInvalidUtf8 { .. } => "MQTT-1.5.4-1",
            Self::TopicNameHasWildcard => "MQTT-3.3.2-2",
            Self::ResponseTopicHasWildcard => "MQTT-3.3.2-14",
            Self::MisplacedMultiLevelWildcard => "MQTT-4.7.1-1",
            Self::MisplacedSingleLevelWildcard => "MQTT-4.7.1-2",
            Self::ShareNameEmpty => "MQTT-4.8.2-1",
            Self::ShareNameHasWildcard | Self::SharedFilterMissing => "MQTT-4.8.2-2",
            Self::PayloadTooLarge { .. } => "§2.1.4",
            Self::Truncated { .. } | Self::TrailingBytes { .. } => "§2.1.4",
            Self::VariableIntegerTooLong => "§1.5.5",
            Self::VariableIntegerNotMinimal => "MQTT-1.5.5-1",
            Self::StringHasControlCharacter { .. } => "§1.5.4",
            Self::ReservedPacketType { .. } => "§2.1.2",
            Self::InvalidFlags { packet, flags } => match packet {
                // QoS bits 11 [MQTT-3.3.1-4]; otherwise DUP on QoS 0 [MQTT-3.3.1-2].
                crate::constants::PacketType::Publish if (flags >> 1) & 0b11 == 0b11 => {
                    "MQTT-3.3.1-4"
                }
                crate::constants::PacketType::Publish => "MQTT-3.3.1-2",
                _ => "MQTT-2.1.3-1",
            },
            Self::PacketTooLarge { .. } => "MQTT-3.2.2-15",
            Self::UnknownProperty { .. }
            | Self::PropertyNotAllowed { .. }
            | Self::DuplicateProperty { .. }
            | Self::PropertyOutOfRange { .. } => "§2.2.2.2",
            Self::AuthenticationDataWithoutMethod => "§3.1.2.11.10",
            Self::EmptyTopicWithoutAlias => "MQTT-4.7.3-1",
            Self::NoTopicFilters { packet } => match packet {
                crate::constants::PacketType::Unsubscribe => "MQTT-3.10.3-2",
                _ => "MQTT-3.8.3-2",
            },
            Self::ReasonCodeCount { packet, .. } => match packet {
                crate::constants::PacketType::Unsuback => "MQTT-3.11.3-1",
                _ => "MQTT-3.8.4-6",
            },
            Self::InvalidSubscriptionOptions { .. } => "MQTT-3.8.3-5",
            Self::MixedSubscriptionIds => "§3.8.2.1.2",
            Self::ProtocolNameMismatch { .. } => "MQTT-3.1.2-1",
            Self::WrongSender { .. } => "MQTT-3.14.2-1",
            Self::TopicAliasTooLarge { .. } => "MQTT-3.3.2-9",
            Self::UnknownTopicAlias { .. } => "§3.3.2.3.4",
            Self::UnexpectedPacket { spec_ref, .. } => spec_ref,
            Self::InvalidConnectFlags { spec_ref, .. } => spec_ref,
            Self::InvalidConnackFlags { .. } => "MQTT-3.2.2-1",
            Self::InvalidSubackReturnCode { .. } => "MQTT-3.9.3-2",
            Self::ReasonCodeNotAllowed { packet, .. } => match packet {
                crate::constants::PacketType::Connack => "MQTT-3.2.2-8",
                crate::constants::PacketType::Puback => "MQTT-3.4.2-1",
                crate::constants::PacketType::Pubrec => "MQTT-3.5.2-1",
                crate::constants::PacketType::Pubrel => "MQTT-3.6.2-1",
                crate::constants::PacketType::Pubcomp => "MQTT-3.7.2-1",
                crate::constants::PacketType::Suback => "MQTT-3.9.3-2",
                crate::constants::PacketType::Unsuback => "MQTT-3.11.3-2",
                crate::constants::PacketType::Disconnect => "MQTT-3.14.2-1",
                _ => "MQTT-3.15.2-1",
            },
            Self::SubscriptionIdFromClient => "MQTT-3.3.4-6",
            Self::NoLocalOnSharedSubscription => "MQTT-3.8.3-4",
            Self::PacketIdInUse { .. } | Self::PacketIdsExhausted => "MQTT-2.2.1-3",
            Self::PacketIdNotFound { .. } | Self::UnexpectedAck { .. } => "§4.3",
            Self::ReceiveMaximumExceeded { .. } => "§4.9",
            // A server may refuse a subscription it will not serve (SUBACK 0x97, 0x8F).
            Self::TooManySubscriptions { .. } => "§3.9.3",
            Self::TooManyLevels { .. } => "§3.9.3",
            Self::PacketIdZero | Self::PacketIdMissing { .. } => "MQTT-2.2.1-3",
            Self::PacketIdWithQoS0 => "MQTT-2.2.1-2",
            Self::DupWithQoS0 => "MQTT-3.3.1-2",
            Self::TopicAliasZero => "MQTT-3.3.2-8",
            Self::SubscriptionIdOutOfRange { .. } => "§3.3.2.3.8",
            Self::PayloadFormatIndicatorInvalid { .. } => "§3.3.2.3.2",
            Self::WrongType { .. } | Self::UnknownField { .. } => return None,
        })
    }

    /// The reason code when this violation is reported as a protocol error: its own
    /// where the spec has one (0x91 Packet Identifier in use, 0x94 Topic Alias invalid,
    /// ...), 0x82 Protocol Error otherwise.
    pub fn protocol_reason_code(&self) -> ReasonCode {
        match self.reason_code() {
            code @ (ReasonCode::PacketIdentifierInUse
            | ReasonCode::PacketIdentifierNotFound
            | ReasonCode::ReceiveMaximumExceeded
            | ReasonCode::TopicAliasInvalid
            | ReasonCode::PacketTooLarge
            | ReasonCode::QuotaExceeded
            | ReasonCode::TopicNameInvalid
            | ReasonCode::TopicFilterInvalid) => code,
            _ => ReasonCode::ProtocolError,
        }
    }

    /// The MQTT 5.0 reason code that fits this violation when it is reported as a
    /// validation error.
    pub fn reason_code(&self) -> ReasonCode {
        match self {
            Self::TopicEmpty {
                kind: TopicKind::Name,
            }
            | Self::TopicTooLong {
                kind: TopicKind::Name,
                ..
            }
            | Self::TopicContainsNull {
                kind: TopicKind::Name,
            }
            | Self::TopicInvalidUtf8 {
                kind: TopicKind::Name,
            }
            | Self::TooManyLevels {
                kind: TopicKind::Name,
                ..
            }
            | Self::TopicNameHasWildcard
            | Self::ResponseTopicHasWildcard => ReasonCode::TopicNameInvalid,
            Self::TopicEmpty { .. }
            | Self::TopicTooLong { .. }
            | Self::TopicContainsNull { .. }
            | Self::TopicInvalidUtf8 { .. }
            | Self::MisplacedMultiLevelWildcard
            | Self::MisplacedSingleLevelWildcard
            | Self::ShareNameEmpty
            | Self::ShareNameHasWildcard
            | Self::SharedFilterMissing
            | Self::TooManyLevels { .. } => ReasonCode::TopicFilterInvalid,
            Self::TooManySubscriptions { .. } | Self::PacketIdsExhausted => {
                ReasonCode::QuotaExceeded
            }
            Self::PacketIdInUse { .. } => ReasonCode::PacketIdentifierInUse,
            Self::PacketIdNotFound { .. } => ReasonCode::PacketIdentifierNotFound,
            Self::ReceiveMaximumExceeded { .. } => ReasonCode::ReceiveMaximumExceeded,
            Self::UnexpectedAck { .. } => ReasonCode::ProtocolError,
            Self::PayloadTooLarge { .. } | Self::PacketTooLarge { .. } => {
                ReasonCode::PacketTooLarge
            }
            Self::Truncated { .. }
            | Self::TrailingBytes { .. }
            | Self::VariableIntegerTooLong
            | Self::VariableIntegerNotMinimal
            | Self::StringHasControlCharacter { .. }
            | Self::ReservedPacketType { .. }
            | Self::InvalidFlags { .. }
            | Self::UnknownProperty { .. }
            | Self::PropertyNotAllowed { .. }
            | Self::ReasonCodeNotAllowed { .. }
            | Self::InvalidSubscriptionOptions { .. }
            | Self::InvalidSubackReturnCode { .. }
            | Self::InvalidConnectFlags { .. }
            | Self::InvalidConnackFlags { .. } => ReasonCode::MalformedPacket,
            Self::ProtocolNameMismatch { .. }
            | Self::WrongSender { .. }
            | Self::UnexpectedPacket { .. } => ReasonCode::ProtocolError,
            Self::NoTopicFilters { .. }
            | Self::ReasonCodeCount { .. }
            | Self::MixedSubscriptionIds => ReasonCode::ProtocolError,
            Self::DuplicateProperty { .. }
            | Self::PropertyOutOfRange { .. }
            | Self::AuthenticationDataWithoutMethod
            | Self::SubscriptionIdFromClient => ReasonCode::ProtocolError,
            Self::EmptyTopicWithoutAlias => ReasonCode::TopicNameInvalid,
            Self::TopicAliasZero | Self::TopicAliasTooLarge { .. } => ReasonCode::TopicAliasInvalid,
            Self::UnknownTopicAlias { .. } => ReasonCode::ProtocolError,
            Self::UnknownCode { .. }
            | Self::InvalidUtf8
            | Self::StringContainsNull
            | Self::StringTooLong { .. }
            | Self::BinaryTooLong { .. } => ReasonCode::MalformedPacket,
            Self::PacketIdZero
            | Self::PacketIdMissing { .. }
            | Self::PacketIdWithQoS0
            | Self::DupWithQoS0
            | Self::NoLocalOnSharedSubscription
            | Self::SubscriptionIdOutOfRange { .. }
            | Self::PayloadFormatIndicatorInvalid { .. } => ReasonCode::ProtocolError,
            Self::OutOfRange { .. } | Self::WrongType { .. } | Self::UnknownField { .. } => {
                ReasonCode::UnspecifiedError
            }
        }
    }
}
