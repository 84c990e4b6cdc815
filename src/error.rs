//! The crate's error type, and the one table of the rules it reports.
//!
//! Theory of operation: every rule of MQTT this crate checks is one [`Violation`]
//! variant, declared once in the table below with its message, the normative statement
//! it enforces, the reason code it carries as a validation error, and how it is
//! classified when the bytes a peer sent break it (a malformed packet, a protocol error
//! with its reason code, or a refused connection with its CONNACK codes). One check, one
//! violation; the entry point decides which error it becomes:
//!
//! * constructors and builders report [`Error::invalid`] (a `ValidationError` naming
//!   the field), so `Message::new` with a bad topic raises the same violation a decoder
//!   meets in a PUBLISH, but as a validation error;
//! * the decoder and the session state machines report [`Error::received`], which
//!   classifies the violation by its row ([MQTT-4.13.1-1], §4.13.2).
//!
//! [`Error`] keeps its parts private, so a violation cannot be paired with a class its
//! row does not give it. Incomplete input is never an error.

use std::fmt;
use std::sync::Arc;

use crate::constants::{
    ConnectReturnCode, IntegerWidth, PacketType, PropertyId, ProtocolVersion, QoS, ReasonCode,
    UnknownCode,
};

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
    /// `StateError`: a call the state of a connection does not allow (`accept` twice,
    /// `deliver` before `accept` or after the end). Nothing changes.
    State,
}

impl ErrorKind {
    /// Every kind that has its own Python class, with the class name and the reason code
    /// an error of that class carries unless it says otherwise: the table the Python
    /// exception classes are checked against at import.
    pub const PYTHON_CLASSES: &'static [(&'static str, Self, ReasonCode)] = &[
        ("MQTTError", Self::Callback, ReasonCode::UnspecifiedError),
        (
            "ValidationError",
            Self::Validation,
            ReasonCode::UnspecifiedError,
        ),
        (
            "MalformedPacketError",
            Self::MalformedPacket,
            ReasonCode::MalformedPacket,
        ),
        ("ProtocolError", Self::Protocol, ReasonCode::ProtocolError),
        ("ConnectError", Self::Connect, ReasonCode::UnspecifiedError),
        (
            "AuthenticationError",
            Self::Authentication,
            ReasonCode::BadUserNameOrPassword,
        ),
        (
            "AuthorizationError",
            Self::Authorization,
            ReasonCode::NotAuthorized,
        ),
        (
            "StorageError",
            Self::Storage,
            ReasonCode::ImplementationSpecificError,
        ),
        (
            "StateError",
            Self::State,
            ReasonCode::ImplementationSpecificError,
        ),
    ];

    /// The Python exception class this kind becomes.
    pub fn python_class(self) -> &'static str {
        Self::PYTHON_CLASSES
            .iter()
            .find(|(_, kind, _)| *kind == self)
            .map_or("MQTTError", |(name, _, _)| name)
    }

    /// The reason code of this kind when the error itself names none.
    fn default_reason_code(self) -> ReasonCode {
        Self::PYTHON_CLASSES
            .iter()
            .find(|(_, kind, _)| *kind == self)
            .map_or(ReasonCode::UnspecifiedError, |(_, _, code)| *code)
    }
}

/// Every error this crate reports.
///
/// | kind | Python class | `reason_code()` |
/// | --- | --- | --- |
/// | [`ErrorKind::Validation`] | `ValidationError` | the violation's |
/// | [`ErrorKind::MalformedPacket`] | `MalformedPacketError` | 0x81 |
/// | [`ErrorKind::Protocol`] | `ProtocolError` | the violation's own (0x91, 0x94, ...) or 0x82 |
/// | [`ErrorKind::Connect`] | `ConnectError` | the violation's CONNACK code |
/// | [`ErrorKind::Authentication`] | `AuthenticationError` | 0x86 |
/// | [`ErrorKind::Authorization`] | `AuthorizationError` | 0x87 |
/// | [`ErrorKind::Storage`] | `StorageError` | 0x83 |
/// | [`ErrorKind::Callback`] | the original exception | 0x80 |
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
#[error(transparent)]
pub struct Error(Box<Repr>);

/// A source error of another library or language.
type Source = Arc<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, thiserror::Error)]
enum Repr {
    #[error("{}", Described { field: *field, violation })]
    Invalid {
        field: Option<&'static str>,
        violation: Violation,
    },
    #[error("{}: {}", violation.received().label(), Described { field: None, violation })]
    Received { violation: Violation },
    #[error("authentication failed: {0}")]
    Authentication(String),
    #[error("not authorized: {0}")]
    Authorization(String),
    #[error("storage error: {message}")]
    Storage {
        message: String,
        #[source]
        source: Option<Source>,
    },
    #[error("{0}")]
    Callback(Source),
    #[error("{call}() cannot be called now: {why}")]
    State { call: &'static str, why: String },
}

impl Error {
    /// A validation error: `violation` broken by the value of `field`.
    ///
    /// # Examples
    /// ```
    /// use mqtt_common::{Error, Violation};
    /// let err = Error::invalid("message_id", Violation::PacketIdZero);
    /// assert_eq!(err.to_string(), "message_id: packet identifier is 0 [MQTT-2.2.1-3]");
    /// ```
    pub fn invalid(field: &'static str, violation: Violation) -> Self {
        Self(Box::new(Repr::Invalid {
            field: Some(field),
            violation,
        }))
    }

    /// A rule broken by what a peer sent: a malformed packet, a protocol error or a
    /// refused connection, as the violation's row says.
    ///
    /// # Examples
    /// ```
    /// use mqtt_common::{Error, ErrorKind, ReasonCode, Violation};
    /// let err = Error::received(Violation::TopicAliasZero);
    /// assert_eq!(err.kind(), ErrorKind::Protocol);
    /// assert_eq!(err.reason_code(), ReasonCode::TopicAliasInvalid);
    /// let err = Error::received(Violation::InvalidUtf8);
    /// assert_eq!(err.kind(), ErrorKind::MalformedPacket);
    /// ```
    pub fn received(violation: Violation) -> Self {
        Self(Box::new(Repr::Received { violation }))
    }

    /// Credentials that were not accepted; `message` never holds the secret itself.
    pub fn authentication(message: impl Into<String>) -> Self {
        Self(Box::new(Repr::Authentication(message.into())))
    }

    /// An action the client may not perform.
    pub fn authorization(message: impl Into<String>) -> Self {
        Self(Box::new(Repr::Authorization(message.into())))
    }

    /// A storage backend that failed.
    pub fn storage(message: impl Into<String>) -> Self {
        Self(Box::new(Repr::Storage {
            message: message.into(),
            source: None,
        }))
    }

    /// A storage backend that failed because of another library's error.
    pub fn storage_caused_by(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self(Box::new(Repr::Storage {
            message: message.into(),
            source: Some(Arc::new(source)),
        }))
    }

    /// A call that the state of a connection does not allow: `call` names it, `why`
    /// says what stands in the way ("the connection is closed").
    pub fn state(call: &'static str, why: impl Into<String>) -> Self {
        Self(Box::new(Repr::State {
            call,
            why: why.into(),
        }))
    }

    /// An implementation written in another language failed (a Python exception raised
    /// by a Python `AuthInterface`, say); the bindings hand it back unchanged.
    pub fn callback(source: Arc<dyn std::error::Error + Send + Sync>) -> Self {
        Self(Box::new(Repr::Callback(source)))
    }

    /// Names the field of a validation error that has none yet; other errors are
    /// returned unchanged.
    #[must_use]
    pub fn in_field(mut self, field: &'static str) -> Self {
        if let Repr::Invalid {
            field: slot @ None, ..
        } = &mut *self.0
        {
            *slot = Some(field);
        }
        self
    }

    /// Which Python exception class this error becomes.
    pub fn kind(&self) -> ErrorKind {
        match &*self.0 {
            Repr::Invalid { .. } => ErrorKind::Validation,
            Repr::Received { violation } => violation.received().kind(),
            Repr::Authentication(_) => ErrorKind::Authentication,
            Repr::Authorization(_) => ErrorKind::Authorization,
            Repr::Storage { .. } => ErrorKind::Storage,
            Repr::Callback(_) => ErrorKind::Callback,
            Repr::State { .. } => ErrorKind::State,
        }
    }

    /// The MQTT 5.0 reason code a broker would report for this error.
    pub fn reason_code(&self) -> ReasonCode {
        match &*self.0 {
            Repr::Invalid { violation, .. } => violation.reason_code(),
            Repr::Received { violation } => violation.received().reason_code(),
            _ => self.kind().default_reason_code(),
        }
    }

    /// The 3.1.1 CONNACK return code of a refused connection.
    pub fn return_code(&self) -> Option<ConnectReturnCode> {
        match &*self.0 {
            Repr::Received { violation } => match violation.received() {
                Received::Refused(return_code, _) => Some(return_code),
                _ => None,
            },
            _ => None,
        }
    }

    /// The normative statement or section this error enforces, e.g. `"MQTT-3.3.2-2"`.
    pub fn spec_ref(&self) -> Option<&'static str> {
        self.violation().and_then(Violation::spec_ref)
    }

    /// The broken rule, for the errors that carry one.
    pub fn violation(&self) -> Option<&Violation> {
        match &*self.0 {
            Repr::Invalid { violation, .. } | Repr::Received { violation } => Some(violation),
            _ => None,
        }
    }

    /// The field a validation error names, if it names one.
    pub fn field(&self) -> Option<&'static str> {
        match &*self.0 {
            Repr::Invalid { field, .. } => *field,
            _ => None,
        }
    }

    /// The other language's error that a [`ErrorKind::Callback`] carries.
    pub fn callback_source(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match &*self.0 {
            Repr::Callback(source) => Some(source.as_ref()),
            _ => None,
        }
    }

    /// The broken rule, taken out of the error: for a decoder that meets a model's
    /// validation error in received bytes and reports it as received.
    pub(crate) fn into_violation(self) -> Option<Violation> {
        match *self.0 {
            Repr::Invalid { violation, .. } | Repr::Received { violation } => Some(violation),
            _ => None,
        }
    }
}

impl From<Violation> for Error {
    /// A validation error that names no field yet (see [`Error::in_field`]).
    fn from(violation: Violation) -> Self {
        Self(Box::new(Repr::Invalid {
            field: None,
            violation,
        }))
    }
}

impl From<UnknownCode> for Violation {
    fn from(code: UnknownCode) -> Self {
        Self::UnknownCode { code }
    }
}

impl From<UnknownCode> for Error {
    fn from(code: UnknownCode) -> Self {
        Violation::from(code).into()
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

impl TopicKind {
    /// The reason code for an invalid topic of this kind.
    const fn invalid(self) -> ReasonCode {
        match self {
            Self::Name => ReasonCode::TopicNameInvalid,
            Self::Filter => ReasonCode::TopicFilterInvalid,
        }
    }
}

impl fmt::Display for TopicKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Name => "topic name",
            Self::Filter => "topic filter",
        })
    }
}

/// Which side of a connection sent something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The client.
    Client,
    /// The server.
    Server,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Client => "client",
            Self::Server => "server",
        })
    }
}

/// How a violation is reported when a peer's bytes break it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Received {
    /// A Malformed Packet (0x81).
    Malformed,
    /// A Protocol Error, with its reason code (0x82, or a more specific one).
    Protocol(ReasonCode),
    /// A CONNECT refused with these CONNACK codes (3.1.1 return code, 5.0 reason code).
    Refused(ConnectReturnCode, ReasonCode),
}

impl Received {
    fn kind(self) -> ErrorKind {
        match self {
            Self::Malformed => ErrorKind::MalformedPacket,
            Self::Protocol(_) => ErrorKind::Protocol,
            Self::Refused(..) => ErrorKind::Connect,
        }
    }

    fn reason_code(self) -> ReasonCode {
        match self {
            Self::Malformed => ReasonCode::MalformedPacket,
            Self::Protocol(code) | Self::Refused(_, code) => code,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Malformed => "malformed packet",
            Self::Protocol(_) => "protocol error",
            Self::Refused(..) => "connection refused",
        }
    }
}

/// A protocol error with the generic reason code, 0x82.
const PROTOCOL: Received = Received::Protocol(ReasonCode::ProtocolError);
/// A malformed packet, 0x81.
const MALFORMED: Received = Received::Malformed;

/// Declares [`Violation`] from its table: each row is a variant, its message, its spec
/// reference, its reason code as a validation error, and its class when received.
macro_rules! violations {
    ($(
        $(#[$meta:meta])*
        $variant:ident $({ $( $(#[$field_meta:meta])* $field:ident : $type:ty ),* $(,)? })?
            => [$($message:tt)*]
            spec $spec:expr,
            reason $reason:expr,
            received $received:expr;
    )+) => {
        /// One rule of MQTT, broken: `Display` describes it, [`spec_ref`](Self::spec_ref)
        /// names it and [`reason_code`](Self::reason_code) is the code it carries as a
        /// validation error.
        ///
        /// Spec references use MQTT 5.0 numbering; where a rule has no numbered statement
        /// the section is given (`§1.5.4`). Limits of this implementation and type errors
        /// of a dynamically typed caller cite no rule.
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[non_exhaustive]
        pub enum Violation {
            $(
                $(#[$meta])*
                #[error($($message)*)]
                $variant $({ $( $(#[$field_meta])* $field : $type ),* })?,
            )+
        }

        impl Violation {
            /// The normative statement or section of MQTT 5.0 this violation breaks.
            #[allow(unused_variables)]
            pub fn spec_ref(&self) -> Option<&'static str> {
                match self {
                    $( Self::$variant $({ $($field),* })? => $spec, )+
                }
            }

            /// The MQTT 5.0 reason code of this violation as a validation error.
            #[allow(unused_variables)]
            pub fn reason_code(&self) -> ReasonCode {
                match self {
                    $( Self::$variant $({ $($field),* })? => $reason, )+
                }
            }

            /// How this violation is reported when a peer's bytes break it.
            #[allow(unused_variables)]
            fn received(&self) -> Received {
                match self {
                    $( Self::$variant $({ $($field),* })? => $received, )+
                }
            }

            /// One example of every variant, for the tests that walk the table.
            #[cfg(test)]
            fn examples() -> Vec<Self> {
                vec![$( Self::$variant $({ $($field: tests::Example::example()),* })? ),+]
            }
        }
    };
}

violations! {
    /// A value outside a code table (QoS 3, packet type 0, reason code 0x03).
    UnknownCode {
        /// The table and the value.
        code: UnknownCode,
    } => ["{code}"]
        spec Some(code.table.spec_ref()),
        reason match code.table {
            crate::constants::CodeTable::QoS => ReasonCode::QoSNotSupported,
            crate::constants::CodeTable::RetainHandling => ReasonCode::ProtocolError,
            _ => ReasonCode::MalformedPacket,
        },
        // A v5 SUBSCRIBE's Maximum QoS or Retain Handling of 3 is a Protocol Error
        // (§3.8.3.1); any other unknown code is a Malformed Packet.
        received match code.table {
            crate::constants::CodeTable::QoS | crate::constants::CodeTable::RetainHandling => {
                PROTOCOL
            }
            _ => MALFORMED,
        };

    /// A UTF-8 Encoded String that is not well-formed UTF-8 (or a surrogate from Python).
    InvalidUtf8 => ["string is not well-formed UTF-8"]
        spec Some("MQTT-1.5.4-1"), reason ReasonCode::MalformedPacket, received MALFORMED;

    /// A UTF-8 Encoded String containing U+0000.
    StringContainsNull => ["string contains the null character U+0000"]
        spec Some("MQTT-1.5.4-2"), reason ReasonCode::MalformedPacket, received MALFORMED;

    /// A UTF-8 Encoded String longer than 65,535 bytes.
    StringTooLong {
        /// Its length in bytes.
        len: usize,
    } => ["string is {len} bytes long, more than 65535"]
        spec Some("§1.5.4"), reason ReasonCode::MalformedPacket, received MALFORMED;

    /// Binary Data longer than 65,535 bytes.
    BinaryTooLong {
        /// Its length in bytes.
        len: usize,
    } => ["binary data is {len} bytes long, more than 65535"]
        spec Some("§1.5.6"), reason ReasonCode::MalformedPacket, received MALFORMED;

    /// A UTF-8 Encoded String with a control character or non-character, which senders
    /// SHOULD NOT send and receivers MAY refuse (refused under the strict policy).
    StringHasControlCharacter {
        /// The code point.
        code_point: u32,
    } => ["string contains the control character or non-character U+{code_point:04X}"]
        spec Some("§1.5.4"), reason ReasonCode::MalformedPacket, received MALFORMED;

    /// An empty topic name or filter.
    TopicEmpty {
        /// Name or filter.
        kind: TopicKind,
    } => ["{kind} is empty"]
        spec Some("MQTT-4.7.3-1"), reason kind.invalid(), received MALFORMED;

    /// A topic name or filter longer than 65,535 bytes.
    TopicTooLong {
        /// Name or filter.
        kind: TopicKind,
        /// Its length in bytes.
        len: usize,
    } => ["{kind} is {len} bytes long, more than 65535"]
        spec Some("MQTT-4.7.3-3"), reason kind.invalid(), received MALFORMED;

    /// A topic name or filter containing U+0000.
    TopicContainsNull {
        /// Name or filter.
        kind: TopicKind,
    } => ["{kind} contains the null character U+0000"]
        spec Some("MQTT-4.7.3-2"), reason kind.invalid(), received MALFORMED;

    /// A topic name or filter that is not well-formed UTF-8.
    TopicInvalidUtf8 {
        /// Name or filter.
        kind: TopicKind,
    } => ["{kind} is not well-formed UTF-8"]
        spec Some("MQTT-1.5.4-1"), reason kind.invalid(), received MALFORMED;

    /// A topic name containing `+` or `#`.
    TopicNameHasWildcard => ["topic name contains a wildcard"]
        spec Some("MQTT-3.3.2-2"), reason ReasonCode::TopicNameInvalid, received MALFORMED;

    /// A Response Topic containing `+` or `#`.
    ResponseTopicHasWildcard => ["response topic contains a wildcard"]
        spec Some("MQTT-3.3.2-14"),
        reason ReasonCode::TopicNameInvalid,
        received Received::Protocol(ReasonCode::TopicNameInvalid);

    /// `#` that is not alone in the last level of a filter.
    MisplacedMultiLevelWildcard => ["'#' must be the last level and alone in it"]
        spec Some("MQTT-4.7.1-1"), reason ReasonCode::TopicFilterInvalid, received MALFORMED;

    /// `+` that does not occupy a whole level.
    MisplacedSingleLevelWildcard => ["'+' must occupy a whole level"]
        spec Some("MQTT-4.7.1-2"), reason ReasonCode::TopicFilterInvalid, received MALFORMED;

    /// A shared subscription with an empty share name (`$share//a`).
    ShareNameEmpty => ["the share name of a shared subscription is empty"]
        spec Some("MQTT-4.8.2-1"), reason ReasonCode::TopicFilterInvalid, received MALFORMED;

    /// A share name containing `+` or `#`.
    ShareNameHasWildcard => ["the share name of a shared subscription contains a wildcard"]
        spec Some("MQTT-4.8.2-2"), reason ReasonCode::TopicFilterInvalid, received MALFORMED;

    /// A shared subscription without a filter after its share name (`$share/g`).
    SharedFilterMissing => ["a shared subscription needs a topic filter after its share name"]
        spec Some("MQTT-4.8.2-2"), reason ReasonCode::TopicFilterInvalid, received MALFORMED;

    /// A topic with more levels than the configured limit (against CVE-2019-11779).
    TooManyLevels {
        /// Name or filter.
        kind: TopicKind,
        /// Its levels.
        levels: usize,
        /// The limit.
        limit: usize,
    } => ["{kind} has {levels} levels, more than the configured maximum of {limit}"]
        spec None, reason kind.invalid(), received Received::Protocol(kind.invalid());

    /// A client that publishes faster than the configured rate.
    MessageRateTooHigh {
        /// The rate, in PUBLISH packets per second.
        limit: u32,
    } => ["more than the configured {limit} PUBLISH packets per second"]
        spec None,
        reason ReasonCode::MessageRateTooHigh,
        received Received::Protocol(ReasonCode::MessageRateTooHigh);

    /// A client past the configured limit of subscriptions.
    TooManySubscriptions {
        /// The limit.
        limit: usize,
    } => ["the client already has {limit} subscriptions, the configured maximum"]
        spec None,
        reason ReasonCode::QuotaExceeded,
        received Received::Protocol(ReasonCode::QuotaExceeded);

    /// A field that runs past the end of its packet.
    Truncated {
        /// The field.
        what: &'static str,
    } => ["the packet ends in the middle of its {what}"]
        spec Some("§2.1.4"), reason ReasonCode::MalformedPacket, received MALFORMED;

    /// Bytes left over after the last field of a packet: the Remaining Length and the
    /// fields disagree.
    TrailingBytes {
        /// The last field read.
        what: &'static str,
        /// How many bytes are left.
        len: usize,
    } => ["{len} unexpected bytes after the {what}"]
        spec Some("§2.1.4"), reason ReasonCode::MalformedPacket, received MALFORMED;

    /// Data given as one packet that ends before the packet does.
    IncompletePacket {
        /// How many bytes there are.
        len: usize,
    } => ["the data ends after {len} bytes, before the packet does"]
        spec Some("§2.1.4"), reason ReasonCode::MalformedPacket, received MALFORMED;

    /// A Variable Byte Integer of more than four bytes (CVE-2026-21888).
    VariableIntegerTooLong => ["variable byte integer is longer than 4 bytes"]
        spec Some("§1.5.5"), reason ReasonCode::MalformedPacket, received MALFORMED;

    /// A Variable Byte Integer in more bytes than its value needs.
    VariableIntegerNotMinimal => ["variable byte integer is not in its fewest bytes"]
        spec Some("MQTT-1.5.5-1"), reason ReasonCode::MalformedPacket, received MALFORMED;

    /// A packet type that does not exist in this protocol version (0, or 15 before 5.0).
    ReservedPacketType {
        /// The type bits.
        value: u8,
    } => ["packet type {value} is reserved"]
        spec Some("§2.1.2"), reason ReasonCode::MalformedPacket, received MALFORMED;

    /// Fixed header flags that break the rule of their packet type.
    InvalidFlags {
        /// The packet type.
        packet: PacketType,
        /// The flags seen.
        flags: u8,
    } => ["{packet} has fixed header flags {flags:#06b}"]
        spec Some(match packet {
            // QoS bits 11 [MQTT-3.3.1-4]; otherwise DUP on QoS 0 [MQTT-3.3.1-2].
            PacketType::Publish if (flags >> 1) & 0b11 == 0b11 => "MQTT-3.3.1-4",
            PacketType::Publish => "MQTT-3.3.1-2",
            _ => "MQTT-2.1.3-1",
        }),
        reason ReasonCode::MalformedPacket,
        received MALFORMED;

    /// A packet larger than the receiver's Maximum Packet Size.
    PacketTooLarge {
        /// Its size, fixed header included.
        size: u64,
        /// The maximum.
        max: u32,
    } => ["packet of {size} bytes is larger than the maximum of {max}"]
        spec Some("MQTT-3.2.2-15"),
        reason ReasonCode::PacketTooLarge,
        received Received::Protocol(ReasonCode::PacketTooLarge);

    /// An answer this side must not send: larger than the client's Maximum Packet Size.
    AnswerTooLarge {
        /// The packet that did not fit.
        packet: PacketType,
        /// Its size, fixed header included.
        size: usize,
        /// The client's Maximum Packet Size.
        max: u32,
    } => ["the {packet} ({size} bytes) is larger than the client's Maximum Packet Size of {max}"]
        spec Some("MQTT-3.1.2-24"),
        reason ReasonCode::PacketTooLarge,
        received Received::Protocol(ReasonCode::PacketTooLarge);

    /// A payload longer than the largest Remaining Length.
    PayloadTooLarge {
        /// Its length in bytes.
        len: usize,
    } => ["payload is {len} bytes long, more than 268435455"]
        spec Some("§2.1.4"),
        reason ReasonCode::PacketTooLarge,
        received Received::Protocol(ReasonCode::PacketTooLarge);

    /// A property identifier that does not exist.
    UnknownProperty {
        /// The identifier seen.
        id: u32,
    } => ["property identifier {id:#04x} does not exist"]
        spec Some("§2.2.2.2"), reason ReasonCode::MalformedPacket, received MALFORMED;

    /// A property the packet (or Will) may not carry.
    PropertyNotAllowed {
        /// The property.
        property: PropertyId,
        /// Where it appeared: a packet name, or "the Will Properties".
        context: &'static str,
    } => ["{property} is not allowed in {context}"]
        spec Some("§2.2.2.2"), reason ReasonCode::MalformedPacket, received MALFORMED;

    /// A property value of the wrong type for its identifier.
    PropertyWrongType {
        /// The property.
        property: PropertyId,
    } => ["{property} has a value of the wrong type"]
        spec Some("§2.2.2.2"), reason ReasonCode::MalformedPacket, received MALFORMED;

    /// A property that may appear once, given twice.
    DuplicateProperty {
        /// The property.
        property: PropertyId,
    } => ["{property} appears more than once"]
        spec Some("§2.2.2.2"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// A property value outside its allowed range (a byte flag other than 0 or 1, a
    /// maximum of 0, ...).
    PropertyOutOfRange {
        /// The property.
        property: PropertyId,
        /// The value seen.
        value: u32,
    } => ["{property} has the value {value}, which is not allowed"]
        spec Some("§2.2.2.2"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// Authentication Data without an Authentication Method.
    AuthenticationDataWithoutMethod => ["authentication data without an authentication method"]
        spec Some("§3.1.2.11.10"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// An empty topic name without a Topic Alias to stand for it.
    EmptyTopicWithoutAlias => ["the topic name is empty and there is no topic alias"]
        spec Some("MQTT-4.7.3-1"),
        reason ReasonCode::TopicNameInvalid,
        received Received::Protocol(ReasonCode::TopicNameInvalid);

    /// A PUBLISH whose topic only a Topic Alias names, which nobody has resolved.
    TopicAliasUnresolved {
        /// The alias.
        alias: u16,
    } => ["the topic is named only by topic alias {alias}, which has not been resolved"]
        spec Some("§3.3.2.3.4"), reason ReasonCode::TopicNameInvalid, received PROTOCOL;

    /// A Subscription Identifier in a PUBLISH sent by a client.
    SubscriptionIdFromClient => ["a client's PUBLISH carries a subscription identifier"]
        spec Some("MQTT-3.3.4-6"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// A reason code that the packet's own table does not list.
    ReasonCodeNotAllowed {
        /// The packet.
        packet: PacketType,
        /// The code seen.
        code: ReasonCode,
    } => ["{code} is not a reason code of {packet}"]
        spec Some(match packet {
            PacketType::Connack => "MQTT-3.2.2-8",
            PacketType::Puback => "MQTT-3.4.2-1",
            PacketType::Pubrec => "MQTT-3.5.2-1",
            PacketType::Pubrel => "MQTT-3.6.2-1",
            PacketType::Pubcomp => "MQTT-3.7.2-1",
            PacketType::Suback => "MQTT-3.9.3-2",
            PacketType::Unsuback => "MQTT-3.11.3-2",
            PacketType::Disconnect => "MQTT-3.14.2-1",
            _ => "MQTT-3.15.2-1",
        }),
        reason ReasonCode::MalformedPacket,
        received MALFORMED;

    /// A SUBSCRIBE or UNSUBSCRIBE without any topic filter.
    NoTopicFilters {
        /// The packet.
        packet: PacketType,
    } => ["{packet} has no topic filter"]
        spec Some(match packet {
            PacketType::Unsubscribe | PacketType::Unsuback => "MQTT-3.10.3-2",
            _ => "MQTT-3.8.3-2",
        }),
        reason ReasonCode::ProtocolError,
        received PROTOCOL;

    /// A SUBACK or UNSUBACK without exactly one reason code per filter of the packet it
    /// answers.
    ReasonCodeCount {
        /// The answering packet.
        packet: PacketType,
        /// The filters in the SUBSCRIBE or UNSUBSCRIBE.
        filters: usize,
        /// The reason codes given.
        codes: usize,
    } => ["{packet} needs one reason code per topic filter: {filters} filter(s), {codes} code(s)"]
        spec Some(match packet {
            PacketType::Unsuback => "MQTT-3.11.3-1",
            _ => "MQTT-3.8.4-6",
        }),
        reason ReasonCode::ProtocolError,
        received PROTOCOL;

    /// A subscription options byte with reserved bits set, or (3.1.1) a QoS of 3.
    InvalidSubscriptionOptions {
        /// The byte seen.
        options: u8,
    } => ["subscription options byte {options:#04x} has reserved bits set"]
        spec Some("MQTT-3.8.3-5"), reason ReasonCode::MalformedPacket, received MALFORMED;

    /// A SUBACK return code that MQTT 3.1.1 does not have (only 0, 1, 2 and 0x80).
    InvalidSubackReturnCode {
        /// The byte seen.
        value: u8,
    } => ["{value:#04x} is not a 3.1.1 SUBACK return code"]
        spec Some("MQTT-3.9.3-2"), reason ReasonCode::MalformedPacket, received MALFORMED;

    /// Subscriptions of one SUBSCRIBE with different Subscription Identifiers: the
    /// identifier is a property of the whole packet.
    MixedSubscriptionIds => ["the subscriptions of one SUBSCRIBE carry different subscription identifiers"]
        spec Some("§3.8.2.1.2"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// A No Local subscription to a shared subscription.
    NoLocalOnSharedSubscription => ["no_local cannot be set on a shared subscription"]
        spec Some("MQTT-3.8.3-4"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// A protocol level this crate does not speak.
    UnsupportedProtocolLevel {
        /// The level seen.
        level: u8,
    } => ["protocol level {level} is not 3, 4 or 5"]
        spec Some("MQTT-3.1.2-2"),
        reason ReasonCode::UnsupportedProtocolVersion,
        received Received::Refused(
            ConnectReturnCode::UnacceptableProtocolVersion,
            ReasonCode::UnsupportedProtocolVersion,
        );

    /// A protocol name that is not the one its protocol level uses ("MQTT", or "MQIsdp"
    /// for 3.1).
    ProtocolNameMismatch {
        /// The name seen.
        name: String,
        /// The level seen.
        level: u8,
    } => ["protocol name {name:?} does not go with protocol level {level}"]
        spec Some("MQTT-3.1.2-1"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// The reserved bit of the CONNECT flags set (3.1.1 and 5.0).
    ConnectReservedFlag => ["the reserved bit of the CONNECT flags is set"]
        spec Some("MQTT-3.1.2-3"), reason ReasonCode::MalformedPacket, received MALFORMED;

    /// Will QoS set without the Will flag.
    WillQoSWithoutWill => ["the CONNECT flags set a Will QoS without the Will flag"]
        spec Some("MQTT-3.1.2-11"), reason ReasonCode::MalformedPacket, received MALFORMED;

    /// Will Retain set without the Will flag.
    WillRetainWithoutWill => ["the CONNECT flags set Will Retain without the Will flag"]
        spec Some("MQTT-3.1.2-13"), reason ReasonCode::MalformedPacket, received MALFORMED;

    /// A Will QoS of 3.
    WillQoS3 => ["the CONNECT flags set a Will QoS of 3"]
        spec Some("MQTT-3.1.2-14"), reason ReasonCode::MalformedPacket, received MALFORMED;

    /// The password flag without the user name flag (3.1 and 3.1.1).
    PasswordWithoutUsername => ["the CONNECT flags give a password without a user name"]
        spec Some("MQTT-3.1.2-22"), reason ReasonCode::MalformedPacket, received MALFORMED;

    /// An empty client identifier without Clean Session (3.1.1).
    EmptyClientIdWithoutCleanSession => ["an empty client identifier needs clean session"]
        spec Some("MQTT-3.1.3-8"),
        reason ReasonCode::ClientIdentifierNotValid,
        received Received::Refused(
            ConnectReturnCode::IdentifierRejected,
            ReasonCode::ClientIdentifierNotValid,
        );

    /// An MQTT 3.1 client identifier that is not 1 to 23 characters long.
    ClientIdLengthV31 {
        /// Its length in characters.
        len: usize,
    } => ["an MQTT 3.1 client identifier has 1 to 23 characters, not {len}"]
        spec Some("MQTT 3.1 §3.1"),
        reason ReasonCode::ClientIdentifierNotValid,
        received Received::Refused(
            ConnectReturnCode::IdentifierRejected,
            ReasonCode::ClientIdentifierNotValid,
        );

    /// CONNACK acknowledge flags with reserved bits set, or session present with a
    /// failure code.
    InvalidConnackFlags {
        /// The flags byte.
        flags: u8,
        /// The return or reason code.
        code: u8,
    } => ["CONNACK flags {flags:#010b} are not valid with return code {code:#04x}"]
        spec Some("MQTT-3.2.2-1"), reason ReasonCode::MalformedPacket, received MALFORMED;

    /// A reason code or property that only the other side may send (a client sending
    /// DISCONNECT with "Server shutting down", say).
    WrongSender {
        /// The code or property, by its spec name.
        what: &'static str,
        /// The side that sent it.
        sender: Side,
    } => ["{what} may not be sent by a {sender}"]
        spec Some(if *what == PropertyId::SessionExpiryInterval.name() {
            "MQTT-3.14.2-2"
        } else {
            "MQTT-3.14.2-1"
        }),
        reason ReasonCode::ProtocolError,
        received PROTOCOL;

    /// A packet the sender's side never sends (a client's CONNACK, CVE-2021-28166).
    PacketFromWrongSide {
        /// The packet type.
        packet: PacketType,
        /// The side that sent it.
        sender: Side,
    } => ["{packet} may not be sent by a {sender}"]
        spec Some("§2.1.2"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// A packet other than CONNECT first.
    FirstPacketNotConnect {
        /// The packet type.
        packet: PacketType,
    } => ["the first packet must be CONNECT, not {packet}"]
        spec Some("MQTT-3.1.0-1"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// A second CONNECT on one connection.
    SecondConnect => ["a connection sends CONNECT only once"]
        spec Some("MQTT-3.1.0-2"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// A packet other than AUTH or DISCONNECT during an enhanced authentication
    /// exchange, before CONNACK.
    PacketDuringAuthentication {
        /// The packet type.
        packet: PacketType,
    } => ["only AUTH or DISCONNECT may follow a CONNECT with an authentication method until CONNACK, not {packet}"]
        spec Some("MQTT-3.1.2-33"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// An AUTH from a client whose CONNECT named no Authentication Method.
    AuthWithoutMethod => ["AUTH after a CONNECT without an authentication method"]
        spec Some("MQTT-4.12.0-7"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// A packet other than CONNECT before the protocol version is known.
    VersionUnknown {
        /// The packet type.
        packet: PacketType,
    } => ["{packet} before the protocol version is known"]
        spec Some("§3.1.2.2"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// A DISCONNECT that sets a non-zero Session Expiry Interval after a CONNECT whose
    /// interval was 0.
    SessionExpiryAfterZero {
        /// The interval the DISCONNECT asks for.
        interval: u32,
    } => ["DISCONNECT sets a session expiry interval of {interval} after CONNECT set 0"]
        spec Some("§3.14.2.2.2"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// A Topic Alias above the receiver's Topic Alias Maximum.
    TopicAliasTooLarge {
        /// The alias.
        alias: u16,
        /// The receiver's maximum (0: no aliases).
        maximum: u16,
    } => ["topic alias {alias} is above the topic alias maximum of {maximum}"]
        spec Some("MQTT-3.3.2-9"),
        reason ReasonCode::TopicAliasInvalid,
        received Received::Protocol(ReasonCode::TopicAliasInvalid);

    /// An empty topic with a Topic Alias that has no mapping on this connection.
    UnknownTopicAlias {
        /// The alias.
        alias: u16,
    } => ["topic alias {alias} has no topic on this connection"]
        spec Some("§3.3.2.3.4"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// Topic Alias 0.
    TopicAliasZero => ["topic alias is 0"]
        spec Some("MQTT-3.3.2-8"),
        reason ReasonCode::TopicAliasInvalid,
        received Received::Protocol(ReasonCode::TopicAliasInvalid);

    /// Packet identifier 0.
    PacketIdZero => ["packet identifier is 0"]
        spec Some("MQTT-2.2.1-3"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// A QoS 1 or 2 PUBLISH without a packet identifier.
    PacketIdMissing {
        /// The message's QoS.
        qos: QoS,
    } => ["a QoS {} message needs a packet identifier", qos.as_u8()]
        spec Some("MQTT-2.2.1-3"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// A packet identifier on a QoS 0 message.
    PacketIdWithQoS0 => ["a QoS 0 message has no packet identifier"]
        spec Some("MQTT-2.2.1-2"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// The DUP flag on a QoS 0 message.
    DupWithQoS0 => ["the DUP flag must be 0 on a QoS 0 message"]
        spec Some("MQTT-3.3.1-2"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// A packet identifier that is already in flight.
    PacketIdInUse {
        /// The identifier.
        id: u16,
    } => ["packet identifier {id} is already in use"]
        spec Some("MQTT-2.2.1-3"),
        reason ReasonCode::PacketIdentifierInUse,
        received Received::Protocol(ReasonCode::PacketIdentifierInUse);

    /// Every packet identifier is in flight.
    PacketIdsExhausted => ["all 65535 packet identifiers are in flight"]
        spec Some("MQTT-2.2.1-3"),
        reason ReasonCode::QuotaExceeded,
        received Received::Protocol(ReasonCode::QuotaExceeded);

    /// An acknowledgement for a packet identifier with nothing in flight.
    PacketIdNotFound {
        /// The acknowledgement.
        packet: PacketType,
        /// The identifier.
        id: u16,
    } => ["{packet} for packet identifier {id}, which has nothing in flight"]
        spec Some("§4.3"),
        reason ReasonCode::PacketIdentifierNotFound,
        received Received::Protocol(ReasonCode::PacketIdentifierNotFound);

    /// An acknowledgement that does not fit the state of its flow (PUBCOMP before
    /// PUBREC, say).
    UnexpectedAck {
        /// The acknowledgement.
        packet: PacketType,
        /// The identifier.
        id: u16,
        /// What the flow waits for.
        expected: PacketType,
    } => ["{packet} for packet identifier {id}, whose flow waits for {expected}"]
        spec Some("§4.3"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// More QoS 1 and 2 messages in flight than the receiver's Receive Maximum.
    ReceiveMaximumExceeded {
        /// The Receive Maximum.
        limit: u16,
    } => ["more than the receive maximum of {limit} messages in flight"]
        spec Some("§4.9"),
        reason ReasonCode::ReceiveMaximumExceeded,
        received Received::Protocol(ReasonCode::ReceiveMaximumExceeded);

    /// A Receive Maximum of 0.
    ReceiveMaximumZero => ["receive maximum is 0"]
        spec Some("§3.1.2.11.3"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// A Subscription Identifier of 0 or above 268,435,455.
    SubscriptionIdOutOfRange {
        /// The value seen.
        value: i128,
    } => ["subscription identifier {value} is not between 1 and 268435455"]
        spec Some("§3.8.2.1.2"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// A Payload Format Indicator other than 0 or 1.
    PayloadFormatIndicatorInvalid {
        /// The value seen.
        value: i128,
    } => ["payload format indicator {value} is neither 0 nor 1"]
        spec Some("§3.3.2.3.2"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// An integer that its field's representation cannot hold.
    OutOfRange {
        /// The value seen.
        value: i128,
        /// The representation it must fit.
        width: IntegerWidth,
    } => ["expected an integer from {} to {}, got {value}", width.range().0, width.range().1]
        spec width.spec_ref(), reason ReasonCode::UnspecifiedError, received MALFORMED;

    /// A field the protocol version being written has no place for (MQTT 5.0 properties
    /// in a 3.1.1 packet, say): it would be lost.
    NotInVersion {
        /// What would be lost.
        what: &'static str,
        /// The version.
        version: ProtocolVersion,
    } => ["{what} cannot be sent in MQTT {}", version.as_str()]
        spec None, reason ReasonCode::UnspecifiedError, received MALFORMED;

    /// A dynamically typed value (from Python) of the wrong type.
    WrongType {
        /// What the field takes.
        expected: &'static str,
        /// The type seen.
        found: String,
    } => ["expected {expected}, got {found}"]
        spec None, reason ReasonCode::UnspecifiedError, received MALFORMED;

    /// A string that is not one of the choices its field offers.
    NotOneOf {
        /// The value seen, as the caller's language quotes it.
        value: String,
        /// The choices.
        choices: &'static [&'static str],
    } => ["expected one of {}, got {value}", QuotedChoices(choices)]
        spec None, reason ReasonCode::UnspecifiedError, received MALFORMED;

    /// A mapping key that names no known field.
    UnknownField {
        /// The key seen.
        name: String,
    } => ["unknown key '{name}'"]
        spec None, reason ReasonCode::UnspecifiedError, received MALFORMED;

    /// A PUBLISH, or a Will, with a QoS above the server's Maximum QoS.
    QoSAboveMaximum {
        /// The QoS asked for.
        qos: QoS,
        /// The server's Maximum QoS.
        maximum: QoS,
    } => ["a QoS of {} is above the server's maximum QoS of {}", qos.as_u8(), maximum.as_u8()]
        spec Some("MQTT-3.2.2-11"),
        reason ReasonCode::QoSNotSupported,
        received Received::Protocol(ReasonCode::QoSNotSupported);

    /// A Will to a `$SYS` topic, which is the server's: a client could forge the
    /// server's figures with it.
    WillToServerTopic => ["a Will to a $SYS topic, which is the server's"]
        spec Some("§4.7.2"),
        reason ReasonCode::NotAuthorized,
        received Received::Refused(ConnectReturnCode::NotAuthorized, ReasonCode::NotAuthorized);

    /// A retained PUBLISH, or a retained Will, to a server without Retain Available.
    RetainNotAvailable => ["the server does not support retained messages"]
        spec Some("MQTT-3.2.2-14"),
        reason ReasonCode::RetainNotSupported,
        received Received::Protocol(ReasonCode::RetainNotSupported);

    /// A wildcard subscription to a server without Wildcard Subscription Available.
    WildcardSubscriptionsNotAvailable => ["the server does not support wildcard subscriptions"]
        spec Some("§3.2.2.3.11"),
        reason ReasonCode::WildcardSubscriptionsNotSupported,
        received Received::Protocol(ReasonCode::WildcardSubscriptionsNotSupported);

    /// A Subscription Identifier sent to a server without Subscription Identifiers
    /// Available.
    SubscriptionIdentifiersNotAvailable => ["the server does not support subscription identifiers"]
        spec Some("§3.2.2.3.12"),
        reason ReasonCode::SubscriptionIdentifiersNotSupported,
        received Received::Protocol(ReasonCode::SubscriptionIdentifiersNotSupported);

    /// A shared subscription to a server without Shared Subscription Available.
    SharedSubscriptionsNotAvailable => ["the server does not support shared subscriptions"]
        spec Some("§3.2.2.3.13"),
        reason ReasonCode::SharedSubscriptionsNotSupported,
        received Received::Protocol(ReasonCode::SharedSubscriptionsNotSupported);

    /// Nothing received for one and a half times the Keep Alive.
    KeepAliveTimeout {
        /// The Keep Alive in force, in seconds.
        keep_alive: u16,
    } => ["nothing received for 1.5 times the keep alive of {keep_alive} s"]
        spec Some("MQTT-3.1.2-22"),
        reason ReasonCode::KeepAliveTimeout,
        received Received::Protocol(ReasonCode::KeepAliveTimeout);

    /// A 3.x client's Keep Alive above the server's maximum, which 3.x cannot be told
    /// (5.0 clients get Server Keep Alive instead). Refused as mosquitto refuses it.
    KeepAliveAboveMaximum {
        /// The client's Keep Alive.
        keep_alive: u16,
        /// The server's maximum.
        maximum: u16,
    } => ["keep alive {keep_alive} s is above the server's maximum of {maximum} s"]
        spec None,
        reason ReasonCode::ClientIdentifierNotValid,
        received Received::Refused(
            ConnectReturnCode::IdentifierRejected,
            ReasonCode::ClientIdentifierNotValid,
        );

    /// No CONNECT within the time the server allows a new connection.
    ConnectTimeout {
        /// The time allowed, in seconds.
        seconds: u64,
    } => ["no CONNECT within {seconds} s"]
        spec None, reason ReasonCode::MaximumConnectTime, received PROTOCOL;

    /// An AUTH whose Authentication Method is not the CONNECT's.
    AuthenticationMethodChanged => ["AUTH names another authentication method than CONNECT"]
        spec Some("MQTT-4.12.0-5"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// An AUTH whose reason does not fit the exchange: Re-authenticate before CONNACK,
    /// Continue authentication with no exchange under way, or Success from a client.
    UnexpectedAuth {
        /// The AUTH's reason code.
        reason: ReasonCode,
    } => ["AUTH with reason {reason} does not fit the authentication under way"]
        spec Some("§4.12"), reason ReasonCode::ProtocolError, received PROTOCOL;

    /// More packets held before CONNACK than the server keeps.
    TooManyPacketsBeforeConnack {
        /// How many the server keeps.
        limit: usize,
    } => ["more than {limit} packets sent before CONNACK"]
        spec None,
        reason ReasonCode::QuotaExceeded,
        received Received::Protocol(ReasonCode::QuotaExceeded);
}

/// Writes choices as `'a', 'b' or 'c'`.
struct QuotedChoices<'a>(&'a [&'a str]);

impl fmt::Display for QuotedChoices<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, choice) in self.0.iter().enumerate() {
            match i {
                0 => {}
                i if i + 1 == self.0.len() => f.write_str(" or ")?,
                _ => f.write_str(", ")?,
            }
            write!(f, "'{choice}'")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constants::CodeTable;

    /// A value of each field type of [`Violation`], for [`Violation::examples`].
    pub(super) trait Example {
        fn example() -> Self;
    }

    macro_rules! examples {
        ($($type:ty => $value:expr),+ $(,)?) => {
            $(impl Example for $type {
                fn example() -> Self {
                    $value
                }
            })+
        };
    }

    examples! {
        usize => 70_000,
        u8 => 0x2A,
        u16 => 7,
        u32 => 9,
        u64 => 1 << 20,
        i128 => -1,
        &'static str => "field",
        &'static [&'static str] => &["from_client", "from_server"],
        String => "text".to_owned(),
        UnknownCode => UnknownCode { table: CodeTable::QoS, value: 3 },
        TopicKind => TopicKind::Filter,
        Side => Side::Client,
        PacketType => PacketType::Subscribe,
        PropertyId => PropertyId::TopicAlias,
        ReasonCode => ReasonCode::QuotaExceeded,
        QoS => QoS::AtLeastOnce,
        IntegerWidth => IntegerWidth::TwoByte,
        ProtocolVersion => ProtocolVersion::V311,
    }

    /// A spec reference is a numbered statement, a section, or a 3.1 section.
    fn well_formed_ref(spec_ref: &str) -> bool {
        let numbered = spec_ref.strip_prefix("MQTT-").is_some_and(|rest| {
            rest.split(['.', '-'])
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        });
        let section = |s: &str| {
            s.strip_prefix('§').is_some_and(|rest| {
                rest.split('.')
                    .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
            })
        };
        numbered || section(spec_ref) || spec_ref.strip_prefix("MQTT 3.1 ").is_some_and(section)
    }

    #[test]
    fn every_violation_has_a_message_a_rule_and_a_class() {
        let examples = Violation::examples();
        // The macro makes one example per row: the count is the table's.
        assert!(examples.len() > 60, "{}", examples.len());
        for violation in examples {
            let text = violation.to_string();
            assert!(
                !text.is_empty() && !text.ends_with('.'),
                "{violation:?}: {text}"
            );
            // Lowercase, unless it starts with a name the spec writes in capitals.
            let first_word = text.split_whitespace().next().unwrap_or_default();
            let lowercase = first_word.chars().next().is_some_and(|c| !c.is_uppercase());
            let capitals = first_word.chars().all(|c| !c.is_lowercase());
            assert!(lowercase || capitals, "{violation:?}: {text}");
            if let Some(spec_ref) = violation.spec_ref() {
                assert!(well_formed_ref(spec_ref), "{violation:?}: {spec_ref}");
            } else {
                // Only limits of this implementation and type errors cite no rule.
                assert!(
                    matches!(
                        violation,
                        Violation::TooManyLevels { .. }
                            | Violation::TooManySubscriptions { .. }
                            | Violation::MessageRateTooHigh { .. }
                            | Violation::OutOfRange {
                                width: IntegerWidth::Count,
                                ..
                            }
                            | Violation::NotInVersion { .. }
                            | Violation::KeepAliveAboveMaximum { .. }
                            | Violation::ConnectTimeout { .. }
                            | Violation::TooManyPacketsBeforeConnack { .. }
                            | Violation::WrongType { .. }
                            | Violation::NotOneOf { .. }
                            | Violation::UnknownField { .. }
                    ),
                    "{violation:?} cites no rule"
                );
            }
            let received = Error::received(violation.clone());
            match received.kind() {
                ErrorKind::MalformedPacket => {
                    assert_eq!(received.reason_code(), ReasonCode::MalformedPacket);
                }
                ErrorKind::Protocol => assert!(received.reason_code().is_error()),
                ErrorKind::Connect => assert!(received.return_code().is_some()),
                other => panic!("{violation:?} is received as {other:?}"),
            }
            let invalid = Error::invalid("field", violation.clone());
            assert_eq!(invalid.kind(), ErrorKind::Validation);
            assert!(invalid.to_string().starts_with("field: "), "{invalid}");
        }
    }

    #[test]
    fn choices_read_as_a_sentence() {
        let violation = Violation::NotOneOf {
            value: "'x'".into(),
            choices: &["a", "b", "c"],
        };
        assert_eq!(
            violation.to_string(),
            "expected one of 'a', 'b' or 'c', got 'x'"
        );
    }

    #[test]
    fn errors_are_small() {
        // Boxed: a `Result<(), Error>` costs a pointer on the happy path.
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }
}
