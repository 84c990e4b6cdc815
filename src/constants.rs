//! Protocol constants: QoS levels, packet types, return and reason codes, protocol
//! versions and property identifiers.
//!
//! Each code type comes from one table (the private `code_enum!` macro) that yields the enum,
//! `from_u8`/`TryFrom<u8>`, `as_u8`, the spec name and the member list that the Python
//! `IntEnum`s are checked against at import time, so the two languages cannot drift.
//!
//! This module is a leaf: it imports nothing from the rest of the crate, so every other
//! module can use it. A value outside a table is an [`UnknownCode`], which the crate's
//! [`Violation`](crate::Violation) wraps.

use std::fmt;

/// The code tables of this module, named for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CodeTable {
    /// [`QoS`].
    QoS,
    /// [`PacketType`].
    PacketType,
    /// [`ConnectReturnCode`].
    ConnectReturnCode,
    /// [`ReasonCode`].
    ReasonCode,
    /// [`RetainHandling`].
    RetainHandling,
    /// [`ProtocolVersion`].
    ProtocolVersion,
    /// [`PropertyId`].
    PropertyId,
}

impl CodeTable {
    /// The table's name, as error messages write it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::QoS => "QoS",
            Self::PacketType => "packet type",
            Self::ConnectReturnCode => "CONNACK return code",
            Self::ReasonCode => "reason code",
            Self::RetainHandling => "retain handling option",
            Self::ProtocolVersion => "protocol version",
            Self::PropertyId => "property identifier",
        }
    }

    /// The rule or section that lists the table's values.
    pub const fn spec_ref(self) -> &'static str {
        match self {
            Self::QoS => "MQTT-3.3.1-4",
            Self::PacketType => "§2.1.2",
            Self::ConnectReturnCode => "§3.2.2.3",
            Self::ReasonCode => "§2.4",
            Self::RetainHandling => "§3.8.3.1",
            Self::ProtocolVersion => "MQTT-3.1.2-2",
            Self::PropertyId => "§2.2.2.2",
        }
    }

    /// Whether its values are written in hexadecimal (as the specification does).
    const fn hexadecimal(self) -> bool {
        matches!(self, Self::ReasonCode | Self::PropertyId)
    }
}

/// A value that is not a member of a code table (QoS 3, packet type 0, reason code 0x03).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UnknownCode {
    /// Which table.
    pub table: CodeTable,
    /// The value seen (it may come from a caller in another language, so any integer).
    pub value: i128,
}

impl fmt::Display for UnknownCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.table.hexadecimal() && (0..=0xFF).contains(&self.value) {
            write!(
                f,
                "{:#04x} is not a valid {}",
                self.value,
                self.table.name()
            )
        } else {
            write!(f, "{} is not a valid {}", self.value, self.table.name())
        }
    }
}

impl std::error::Error for UnknownCode {}

/// Declares a `u8` code enum from a table of `Variant = value => "SPEC_NAME"` rows.
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[doc = $doc:literal])* $variant:ident = $value:literal => $py_name:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum $name {
            $( $(#[doc = $doc])* $variant = $value, )+
        }

        impl $name {
            /// Every member, in ascending order of value.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// `(spec name, value)` of every member: the table the Python `IntEnum` is
            /// checked against.
            pub const MEMBERS: &'static [(&'static str, u8)] = &[$(($py_name, $value)),+];

            /// The member with this wire value, if there is one.
            ///
            /// # Examples
            /// ```
            #[doc = concat!("use mqtt_common::", stringify!($name), ";")]
            #[doc = concat!("let first = ", stringify!($name), "::ALL[0];")]
            #[doc = concat!("assert_eq!(", stringify!($name), "::from_u8(first.as_u8()), Some(first));")]
            /// ```
            #[inline]
            pub const fn from_u8(value: u8) -> Option<Self> {
                match value {
                    $( $value => Some(Self::$variant), )+
                    _ => None,
                }
            }

            /// The wire value.
            #[inline]
            pub const fn as_u8(self) -> u8 {
                self as u8
            }

            /// The name used by the specification, in UPPER_SNAKE case (the Python member name).
            pub const fn name(self) -> &'static str {
                match self {
                    $( Self::$variant => $py_name, )+
                }
            }

            /// The member with this value, for callers whose integers may be of any size
            /// (Python's).
            ///
            /// # Errors
            /// [`UnknownCode`] for a value that is not a member.
            pub fn from_int(value: i128) -> Result<Self, UnknownCode> {
                u8::try_from(value)
                    .ok()
                    .and_then(Self::from_u8)
                    .ok_or(UnknownCode { table: CodeTable::$name, value })
            }
        }

        impl TryFrom<u8> for $name {
            type Error = UnknownCode;

            fn try_from(value: u8) -> Result<Self, UnknownCode> {
                Self::from_u8(value).ok_or(UnknownCode {
                    table: CodeTable::$name,
                    value: value.into(),
                })
            }
        }

        impl From<$name> for u8 {
            #[inline]
            fn from(code: $name) -> u8 {
                code.as_u8()
            }
        }

        impl PartialEq<u8> for $name {
            fn eq(&self, other: &u8) -> bool {
                self.as_u8() == *other
            }
        }

        impl PartialEq<$name> for u8 {
            fn eq(&self, other: &$name) -> bool {
                *self == other.as_u8()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

code_enum! {
    /// Quality of Service level of a PUBLISH (MQTT 5.0 §4.3).
    pub enum QoS {
        /// At most once delivery: fire and forget.
        AtMostOnce = 0 => "AT_MOST_ONCE",
        /// At least once delivery: PUBLISH, PUBACK.
        AtLeastOnce = 1 => "AT_LEAST_ONCE",
        /// Exactly once delivery: PUBLISH, PUBREC, PUBREL, PUBCOMP.
        ExactlyOnce = 2 => "EXACTLY_ONCE",
    }
}

code_enum! {
    /// MQTT Control Packet type, the upper four bits of the fixed header (MQTT 5.0 §2.1.2).
    ///
    /// Type 0 is reserved; type 15 is AUTH in 5.0 and reserved in 3.1.1.
    pub enum PacketType {
        /// Client request to connect to the server.
        Connect = 1 => "CONNECT",
        /// Connect acknowledgment.
        Connack = 2 => "CONNACK",
        /// Publish message.
        Publish = 3 => "PUBLISH",
        /// Publish acknowledgment (QoS 1).
        Puback = 4 => "PUBACK",
        /// Publish received (QoS 2, part 1).
        Pubrec = 5 => "PUBREC",
        /// Publish release (QoS 2, part 2).
        Pubrel = 6 => "PUBREL",
        /// Publish complete (QoS 2, part 3).
        Pubcomp = 7 => "PUBCOMP",
        /// Subscribe request.
        Subscribe = 8 => "SUBSCRIBE",
        /// Subscribe acknowledgment.
        Suback = 9 => "SUBACK",
        /// Unsubscribe request.
        Unsubscribe = 10 => "UNSUBSCRIBE",
        /// Unsubscribe acknowledgment.
        Unsuback = 11 => "UNSUBACK",
        /// PING request.
        Pingreq = 12 => "PINGREQ",
        /// PING response.
        Pingresp = 13 => "PINGRESP",
        /// Disconnect notification.
        Disconnect = 14 => "DISCONNECT",
        /// Authentication exchange (5.0 only).
        Auth = 15 => "AUTH",
    }
}

code_enum! {
    /// CONNACK return code of MQTT 3.1 and 3.1.1 (3.1.1 §3.2.2.3).
    pub enum ConnectReturnCode {
        /// Connection accepted.
        Accepted = 0 => "ACCEPTED",
        /// The server does not support the requested protocol level.
        UnacceptableProtocolVersion = 1 => "UNACCEPTABLE_PROTOCOL_VERSION",
        /// The client identifier is correct UTF-8 but not allowed by the server.
        IdentifierRejected = 2 => "IDENTIFIER_REJECTED",
        /// The network connection has been made but the MQTT service is unavailable.
        ServerUnavailable = 3 => "SERVER_UNAVAILABLE",
        /// The data in the user name or password is malformed.
        BadUsernameOrPassword = 4 => "BAD_USERNAME_OR_PASSWORD",
        /// The client is not authorized to connect.
        NotAuthorized = 5 => "NOT_AUTHORIZED",
    }
}

impl ConnectReturnCode {
    /// The MQTT 5.0 CONNACK reason code with the same meaning.
    ///
    /// # Examples
    /// ```
    /// use mqtt_common::{ConnectReturnCode, ReasonCode};
    /// assert_eq!(ConnectReturnCode::IdentifierRejected.reason_code(), ReasonCode::ClientIdentifierNotValid);
    /// ```
    pub const fn reason_code(self) -> ReasonCode {
        match self {
            Self::Accepted => ReasonCode::Success,
            Self::UnacceptableProtocolVersion => ReasonCode::UnsupportedProtocolVersion,
            Self::IdentifierRejected => ReasonCode::ClientIdentifierNotValid,
            Self::ServerUnavailable => ReasonCode::ServerUnavailable,
            Self::BadUsernameOrPassword => ReasonCode::BadUserNameOrPassword,
            Self::NotAuthorized => ReasonCode::NotAuthorized,
        }
    }
}

code_enum! {
    /// Reason code of MQTT 5.0 (§2.4); values of 0x80 and above are errors.
    ///
    /// The spec gives value 0x00 three names (Success, Normal disconnection, Granted QoS 0),
    /// and 0x01/0x02 a second one; those are the associated constants
    /// [`ReasonCode::NORMAL_DISCONNECTION`], [`ReasonCode::GRANTED_QOS_0`], ...
    #[non_exhaustive]
    pub enum ReasonCode {
        /// Success (also Normal disconnection, Granted QoS 0).
        Success = 0x00 => "SUCCESS",
        /// Granted QoS 1 (SUBACK).
        GrantedQoS1 = 0x01 => "GRANTED_QOS_1",
        /// Granted QoS 2 (SUBACK).
        GrantedQoS2 = 0x02 => "GRANTED_QOS_2",
        /// Disconnect with Will Message (DISCONNECT).
        DisconnectWithWillMessage = 0x04 => "DISCONNECT_WITH_WILL_MESSAGE",
        /// No matching subscribers (PUBACK, PUBREC).
        NoMatchingSubscribers = 0x10 => "NO_MATCHING_SUBSCRIBERS",
        /// No subscription existed (UNSUBACK).
        NoSubscriptionExisted = 0x11 => "NO_SUBSCRIPTION_EXISTED",
        /// Continue authentication (AUTH).
        ContinueAuthentication = 0x18 => "CONTINUE_AUTHENTICATION",
        /// Re-authenticate (AUTH).
        ReAuthenticate = 0x19 => "RE_AUTHENTICATE",
        /// Unspecified error.
        UnspecifiedError = 0x80 => "UNSPECIFIED_ERROR",
        /// Malformed Packet.
        MalformedPacket = 0x81 => "MALFORMED_PACKET",
        /// Protocol Error.
        ProtocolError = 0x82 => "PROTOCOL_ERROR",
        /// Implementation specific error.
        ImplementationSpecificError = 0x83 => "IMPLEMENTATION_SPECIFIC_ERROR",
        /// Unsupported Protocol Version (CONNACK).
        UnsupportedProtocolVersion = 0x84 => "UNSUPPORTED_PROTOCOL_VERSION",
        /// Client Identifier not valid (CONNACK).
        ClientIdentifierNotValid = 0x85 => "CLIENT_IDENTIFIER_NOT_VALID",
        /// Bad User Name or Password (CONNACK).
        BadUserNameOrPassword = 0x86 => "BAD_USER_NAME_OR_PASSWORD",
        /// Not authorized.
        NotAuthorized = 0x87 => "NOT_AUTHORIZED",
        /// Server unavailable (CONNACK).
        ServerUnavailable = 0x88 => "SERVER_UNAVAILABLE",
        /// Server busy.
        ServerBusy = 0x89 => "SERVER_BUSY",
        /// Banned (CONNACK).
        Banned = 0x8A => "BANNED",
        /// Server shutting down (DISCONNECT).
        ServerShuttingDown = 0x8B => "SERVER_SHUTTING_DOWN",
        /// Bad authentication method.
        BadAuthenticationMethod = 0x8C => "BAD_AUTHENTICATION_METHOD",
        /// Keep Alive timeout (DISCONNECT).
        KeepAliveTimeout = 0x8D => "KEEP_ALIVE_TIMEOUT",
        /// Session taken over (DISCONNECT).
        SessionTakenOver = 0x8E => "SESSION_TAKEN_OVER",
        /// Topic Filter invalid.
        TopicFilterInvalid = 0x8F => "TOPIC_FILTER_INVALID",
        /// Topic Name invalid.
        TopicNameInvalid = 0x90 => "TOPIC_NAME_INVALID",
        /// Packet Identifier in use.
        PacketIdentifierInUse = 0x91 => "PACKET_IDENTIFIER_IN_USE",
        /// Packet Identifier not found.
        PacketIdentifierNotFound = 0x92 => "PACKET_IDENTIFIER_NOT_FOUND",
        /// Receive Maximum exceeded (DISCONNECT).
        ReceiveMaximumExceeded = 0x93 => "RECEIVE_MAXIMUM_EXCEEDED",
        /// Topic Alias invalid (DISCONNECT).
        TopicAliasInvalid = 0x94 => "TOPIC_ALIAS_INVALID",
        /// Packet too large.
        PacketTooLarge = 0x95 => "PACKET_TOO_LARGE",
        /// Message rate too high (DISCONNECT).
        MessageRateTooHigh = 0x96 => "MESSAGE_RATE_TOO_HIGH",
        /// Quota exceeded.
        QuotaExceeded = 0x97 => "QUOTA_EXCEEDED",
        /// Administrative action (DISCONNECT).
        AdministrativeAction = 0x98 => "ADMINISTRATIVE_ACTION",
        /// Payload format invalid.
        PayloadFormatInvalid = 0x99 => "PAYLOAD_FORMAT_INVALID",
        /// Retain not supported.
        RetainNotSupported = 0x9A => "RETAIN_NOT_SUPPORTED",
        /// QoS not supported.
        QoSNotSupported = 0x9B => "QOS_NOT_SUPPORTED",
        /// Use another server.
        UseAnotherServer = 0x9C => "USE_ANOTHER_SERVER",
        /// Server moved.
        ServerMoved = 0x9D => "SERVER_MOVED",
        /// Shared Subscriptions not supported.
        SharedSubscriptionsNotSupported = 0x9E => "SHARED_SUBSCRIPTIONS_NOT_SUPPORTED",
        /// Connection rate exceeded.
        ConnectionRateExceeded = 0x9F => "CONNECTION_RATE_EXCEEDED",
        /// Maximum connect time (DISCONNECT).
        MaximumConnectTime = 0xA0 => "MAXIMUM_CONNECT_TIME",
        /// Subscription Identifiers not supported.
        SubscriptionIdentifiersNotSupported = 0xA1 => "SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED",
        /// Wildcard Subscriptions not supported.
        WildcardSubscriptionsNotSupported = 0xA2 => "WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED",
    }
}

impl ReasonCode {
    /// 0x00 as the reason code of DISCONNECT.
    pub const NORMAL_DISCONNECTION: Self = Self::Success;
    /// 0x00 as a SUBACK reason code.
    pub const GRANTED_QOS_0: Self = Self::Success;

    /// The spec's second names for values that already have a member, as
    /// `(spec name, value)`; the Python `IntEnum` has them as aliases.
    pub const ALIASES: &'static [(&'static str, u8)] =
        &[("NORMAL_DISCONNECTION", 0x00), ("GRANTED_QOS_0", 0x00)];

    /// Whether the code is in `packet`'s own table (MQTT 5.0 §3.2.2.2, §3.4.2.1, ...).
    ///
    /// # Examples
    /// ```
    /// use mqtt_common::{PacketType, ReasonCode};
    /// assert!(ReasonCode::NoMatchingSubscribers.allowed_in(PacketType::Puback));
    /// assert!(!ReasonCode::NoMatchingSubscribers.allowed_in(PacketType::Pubrel));
    /// ```
    pub const fn allowed_in(self, packet: PacketType) -> bool {
        use PacketType as P;
        match packet {
            P::Puback | P::Pubrec => matches!(
                self,
                Self::Success
                    | Self::NoMatchingSubscribers
                    | Self::UnspecifiedError
                    | Self::ImplementationSpecificError
                    | Self::NotAuthorized
                    | Self::TopicNameInvalid
                    | Self::PacketIdentifierInUse
                    | Self::QuotaExceeded
                    | Self::PayloadFormatInvalid
            ),
            P::Connack => matches!(
                self,
                Self::Success
                    | Self::UnspecifiedError
                    | Self::MalformedPacket
                    | Self::ProtocolError
                    | Self::ImplementationSpecificError
                    | Self::UnsupportedProtocolVersion
                    | Self::ClientIdentifierNotValid
                    | Self::BadUserNameOrPassword
                    | Self::NotAuthorized
                    | Self::ServerUnavailable
                    | Self::ServerBusy
                    | Self::Banned
                    | Self::BadAuthenticationMethod
                    | Self::TopicNameInvalid
                    | Self::PacketTooLarge
                    | Self::QuotaExceeded
                    | Self::PayloadFormatInvalid
                    | Self::RetainNotSupported
                    | Self::QoSNotSupported
                    | Self::UseAnotherServer
                    | Self::ServerMoved
                    | Self::ConnectionRateExceeded
            ),
            P::Disconnect => matches!(
                self,
                Self::Success
                    | Self::DisconnectWithWillMessage
                    | Self::UnspecifiedError
                    | Self::MalformedPacket
                    | Self::ProtocolError
                    | Self::ImplementationSpecificError
                    | Self::NotAuthorized
                    | Self::ServerBusy
                    | Self::ServerShuttingDown
                    | Self::KeepAliveTimeout
                    | Self::SessionTakenOver
                    | Self::TopicFilterInvalid
                    | Self::TopicNameInvalid
                    | Self::ReceiveMaximumExceeded
                    | Self::TopicAliasInvalid
                    | Self::PacketTooLarge
                    | Self::MessageRateTooHigh
                    | Self::QuotaExceeded
                    | Self::AdministrativeAction
                    | Self::PayloadFormatInvalid
                    | Self::RetainNotSupported
                    | Self::QoSNotSupported
                    | Self::UseAnotherServer
                    | Self::ServerMoved
                    | Self::SharedSubscriptionsNotSupported
                    | Self::ConnectionRateExceeded
                    | Self::MaximumConnectTime
                    | Self::SubscriptionIdentifiersNotSupported
                    | Self::WildcardSubscriptionsNotSupported
            ),
            P::Auth => matches!(
                self,
                Self::Success | Self::ContinueAuthentication | Self::ReAuthenticate
            ),
            P::Pubrel | P::Pubcomp => {
                matches!(self, Self::Success | Self::PacketIdentifierNotFound)
            }
            P::Suback => matches!(
                self,
                Self::Success
                    | Self::GrantedQoS1
                    | Self::GrantedQoS2
                    | Self::UnspecifiedError
                    | Self::ImplementationSpecificError
                    | Self::NotAuthorized
                    | Self::TopicFilterInvalid
                    | Self::PacketIdentifierInUse
                    | Self::QuotaExceeded
                    | Self::SharedSubscriptionsNotSupported
                    | Self::SubscriptionIdentifiersNotSupported
                    | Self::WildcardSubscriptionsNotSupported
            ),
            P::Unsuback => matches!(
                self,
                Self::Success
                    | Self::NoSubscriptionExisted
                    | Self::UnspecifiedError
                    | Self::ImplementationSpecificError
                    | Self::NotAuthorized
                    | Self::TopicFilterInvalid
                    | Self::PacketIdentifierInUse
            ),
            _ => false,
        }
    }

    /// The MQTT 3.1.1 CONNACK return code with exactly this meaning, if there is one.
    ///
    /// # Examples
    /// ```
    /// use mqtt_common::{ConnectReturnCode, ReasonCode};
    /// assert_eq!(ReasonCode::NotAuthorized.return_code(), Some(ConnectReturnCode::NotAuthorized));
    /// assert_eq!(ReasonCode::QuotaExceeded.return_code(), None);
    /// ```
    pub const fn return_code(self) -> Option<ConnectReturnCode> {
        Some(match self {
            Self::Success => ConnectReturnCode::Accepted,
            Self::UnsupportedProtocolVersion => ConnectReturnCode::UnacceptableProtocolVersion,
            Self::ClientIdentifierNotValid => ConnectReturnCode::IdentifierRejected,
            Self::ServerUnavailable => ConnectReturnCode::ServerUnavailable,
            Self::BadUserNameOrPassword => ConnectReturnCode::BadUsernameOrPassword,
            Self::NotAuthorized => ConnectReturnCode::NotAuthorized,
            _ => return None,
        })
    }

    /// The MQTT 3.1.1 CONNACK return code closest to this refusal: the explicit, lossy
    /// conversion a server makes to refuse a 3.1.1 client for a reason 3.1.1 has no
    /// code for (a server that is busy is "unavailable", a banned client "not
    /// authorized").
    ///
    /// # Examples
    /// ```
    /// use mqtt_common::{ConnectReturnCode, ReasonCode};
    /// assert_eq!(ReasonCode::Banned.closest_return_code(), ConnectReturnCode::NotAuthorized);
    /// assert_eq!(ReasonCode::ServerBusy.closest_return_code(), ConnectReturnCode::ServerUnavailable);
    /// ```
    pub const fn closest_return_code(self) -> ConnectReturnCode {
        match self.return_code() {
            Some(code) => code,
            None => match self {
                Self::BadAuthenticationMethod => ConnectReturnCode::BadUsernameOrPassword,
                Self::Banned => ConnectReturnCode::NotAuthorized,
                _ => ConnectReturnCode::ServerUnavailable,
            },
        }
    }

    /// Whether this code reports a failure (0x80 and above, §2.4).
    ///
    /// # Examples
    /// ```
    /// use mqtt_common::ReasonCode;
    /// assert!(ReasonCode::MalformedPacket.is_error());
    /// assert!(!ReasonCode::NoMatchingSubscribers.is_error());
    /// ```
    #[inline]
    pub const fn is_error(self) -> bool {
        self.as_u8() >= 0x80
    }
}

code_enum! {
    /// Retain Handling subscription option of MQTT 5.0 (§3.8.3.1); 3 is a Protocol Error.
    pub enum RetainHandling {
        /// 0: send retained messages at the time of the subscribe.
        SendAtSubscribe = 0 => "SEND_AT_SUBSCRIBE",
        /// 1: send retained messages only if the subscription did not already exist.
        SendIfNewSubscription = 1 => "SEND_IF_NEW_SUBSCRIPTION",
        /// 2: do not send retained messages at the time of the subscribe.
        DoNotSend = 2 => "DO_NOT_SEND",
    }
}

code_enum! {
    /// Protocol level byte of CONNECT (MQTT 5.0 §3.1.2.2).
    pub enum ProtocolVersion {
        /// MQTT 3.1, protocol name "MQIsdp".
        V31 = 3 => "V3_1",
        /// MQTT 3.1.1, protocol name "MQTT".
        V311 = 4 => "V3_1_1",
        /// MQTT 5.0, protocol name "MQTT".
        V5 = 5 => "V5",
    }
}

impl ProtocolVersion {
    /// The version as people write it: "3.1", "3.1.1" or "5.0".
    ///
    /// # Examples
    /// ```
    /// use mqtt_common::ProtocolVersion;
    /// assert_eq!(ProtocolVersion::V311.as_str(), "3.1.1");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::V31 => "3.1",
            Self::V311 => "3.1.1",
            Self::V5 => "5.0",
        }
    }

    /// The protocol name that CONNECT carries for this version.
    ///
    /// # Examples
    /// ```
    /// use mqtt_common::ProtocolVersion;
    /// assert_eq!(ProtocolVersion::V31.protocol_name(), "MQIsdp");
    /// assert_eq!(ProtocolVersion::V5.protocol_name(), "MQTT");
    /// ```
    pub const fn protocol_name(self) -> &'static str {
        match self {
            Self::V31 => protocol::PROTOCOL_NAME_V31,
            Self::V311 | Self::V5 => protocol::PROTOCOL_NAME,
        }
    }
}

/// The integer data representations of the wire format (MQTT 5.0 §1.5), and the
/// non-negative counts (limits) a caller configures: what an integer given by a caller
/// whose integers have any size (Python) must fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IntegerWidth {
    /// One byte: 0 to 255.
    Byte,
    /// A Two Byte Integer (§1.5.2): 0 to 65,535.
    TwoByte,
    /// A Four Byte Integer (§1.5.3): 0 to 4,294,967,295.
    FourByte,
    /// A Variable Byte Integer (§1.5.5): 0 to 268,435,455.
    VariableByte,
    /// A count or limit of this implementation, not of the protocol: 0 to 4,294,967,295.
    Count,
}

impl IntegerWidth {
    /// The smallest and largest values.
    pub const fn range(self) -> (u32, u32) {
        match self {
            Self::Byte => (0, u8::MAX as u32),
            Self::TwoByte => (0, u16::MAX as u32),
            Self::FourByte | Self::Count => (0, u32::MAX),
            Self::VariableByte => (0, protocol::MAX_REMAINING_LENGTH),
        }
    }

    /// The section that defines the representation (none for a count).
    pub const fn spec_ref(self) -> Option<&'static str> {
        match self {
            Self::Byte => Some("§1.5.1"),
            Self::TwoByte => Some("§1.5.2"),
            Self::FourByte => Some("§1.5.3"),
            Self::VariableByte => Some("§1.5.5"),
            Self::Count => None,
        }
    }
}

/// How a property value is encoded on the wire (MQTT 5.0 §2.2.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PropertyType {
    /// One byte.
    Byte,
    /// Two Byte Integer.
    TwoByteInteger,
    /// Four Byte Integer.
    FourByteInteger,
    /// Variable Byte Integer.
    VariableByteInteger,
    /// UTF-8 Encoded String.
    Utf8String,
    /// Binary Data.
    BinaryData,
    /// UTF-8 String Pair.
    Utf8StringPair,
}

code_enum! {
    /// Property identifier of MQTT 5.0 (§2.2.2.2, Table 2-4).
    pub enum PropertyId {
        /// Payload Format Indicator (byte): PUBLISH, Will.
        PayloadFormatIndicator = 0x01 => "PAYLOAD_FORMAT_INDICATOR",
        /// Message Expiry Interval (u32): PUBLISH, Will.
        MessageExpiryInterval = 0x02 => "MESSAGE_EXPIRY_INTERVAL",
        /// Content Type (UTF-8): PUBLISH, Will.
        ContentType = 0x03 => "CONTENT_TYPE",
        /// Response Topic (UTF-8): PUBLISH, Will.
        ResponseTopic = 0x08 => "RESPONSE_TOPIC",
        /// Correlation Data (binary): PUBLISH, Will.
        CorrelationData = 0x09 => "CORRELATION_DATA",
        /// Subscription Identifier (VBI): PUBLISH, SUBSCRIBE.
        SubscriptionIdentifier = 0x0B => "SUBSCRIPTION_IDENTIFIER",
        /// Session Expiry Interval (u32): CONNECT, CONNACK, DISCONNECT.
        SessionExpiryInterval = 0x11 => "SESSION_EXPIRY_INTERVAL",
        /// Assigned Client Identifier (UTF-8): CONNACK.
        AssignedClientIdentifier = 0x12 => "ASSIGNED_CLIENT_IDENTIFIER",
        /// Server Keep Alive (u16): CONNACK.
        ServerKeepAlive = 0x13 => "SERVER_KEEP_ALIVE",
        /// Authentication Method (UTF-8): CONNECT, CONNACK, AUTH.
        AuthenticationMethod = 0x15 => "AUTHENTICATION_METHOD",
        /// Authentication Data (binary): CONNECT, CONNACK, AUTH.
        AuthenticationData = 0x16 => "AUTHENTICATION_DATA",
        /// Request Problem Information (byte): CONNECT.
        RequestProblemInformation = 0x17 => "REQUEST_PROBLEM_INFORMATION",
        /// Will Delay Interval (u32): Will.
        WillDelayInterval = 0x18 => "WILL_DELAY_INTERVAL",
        /// Request Response Information (byte): CONNECT.
        RequestResponseInformation = 0x19 => "REQUEST_RESPONSE_INFORMATION",
        /// Response Information (UTF-8): CONNACK.
        ResponseInformation = 0x1A => "RESPONSE_INFORMATION",
        /// Server Reference (UTF-8): CONNACK, DISCONNECT.
        ServerReference = 0x1C => "SERVER_REFERENCE",
        /// Reason String (UTF-8): acks, DISCONNECT, AUTH.
        ReasonString = 0x1F => "REASON_STRING",
        /// Receive Maximum (u16): CONNECT, CONNACK.
        ReceiveMaximum = 0x21 => "RECEIVE_MAXIMUM",
        /// Topic Alias Maximum (u16): CONNECT, CONNACK.
        TopicAliasMaximum = 0x22 => "TOPIC_ALIAS_MAXIMUM",
        /// Topic Alias (u16): PUBLISH.
        TopicAlias = 0x23 => "TOPIC_ALIAS",
        /// Maximum QoS (byte): CONNACK.
        MaximumQoS = 0x24 => "MAXIMUM_QOS",
        /// Retain Available (byte): CONNACK.
        RetainAvailable = 0x25 => "RETAIN_AVAILABLE",
        /// User Property (string pair): every packet with properties, and Will.
        UserProperty = 0x26 => "USER_PROPERTY",
        /// Maximum Packet Size (u32): CONNECT, CONNACK.
        MaximumPacketSize = 0x27 => "MAXIMUM_PACKET_SIZE",
        /// Wildcard Subscription Available (byte): CONNACK.
        WildcardSubscriptionAvailable = 0x28 => "WILDCARD_SUBSCRIPTION_AVAILABLE",
        /// Subscription Identifier Available (byte): CONNACK.
        SubscriptionIdentifierAvailable = 0x29 => "SUBSCRIPTION_IDENTIFIER_AVAILABLE",
        /// Shared Subscription Available (byte): CONNACK.
        SharedSubscriptionAvailable = 0x2A => "SHARED_SUBSCRIPTION_AVAILABLE",
    }
}

impl PropertyId {
    /// The property whose spec name is `name`, in any case (`"topic_alias"` or
    /// `"TOPIC_ALIAS"`).
    ///
    /// # Examples
    /// ```
    /// use mqtt_common::PropertyId;
    /// assert_eq!(PropertyId::from_name("session_expiry_interval"), Some(PropertyId::SessionExpiryInterval));
    /// assert_eq!(PropertyId::from_name("nope"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|property| property.name().eq_ignore_ascii_case(name))
    }

    /// How this property's value is encoded.
    ///
    /// # Examples
    /// ```
    /// use mqtt_common::{PropertyId, PropertyType};
    /// assert_eq!(PropertyId::TopicAlias.value_type(), PropertyType::TwoByteInteger);
    /// ```
    pub const fn value_type(self) -> PropertyType {
        use PropertyType as T;
        match self {
            Self::PayloadFormatIndicator
            | Self::RequestProblemInformation
            | Self::RequestResponseInformation
            | Self::MaximumQoS
            | Self::RetainAvailable
            | Self::WildcardSubscriptionAvailable
            | Self::SubscriptionIdentifierAvailable
            | Self::SharedSubscriptionAvailable => T::Byte,
            Self::ServerKeepAlive
            | Self::ReceiveMaximum
            | Self::TopicAliasMaximum
            | Self::TopicAlias => T::TwoByteInteger,
            Self::MessageExpiryInterval
            | Self::SessionExpiryInterval
            | Self::WillDelayInterval
            | Self::MaximumPacketSize => T::FourByteInteger,
            Self::SubscriptionIdentifier => T::VariableByteInteger,
            Self::ContentType
            | Self::ResponseTopic
            | Self::AssignedClientIdentifier
            | Self::AuthenticationMethod
            | Self::ResponseInformation
            | Self::ServerReference
            | Self::ReasonString => T::Utf8String,
            Self::CorrelationData | Self::AuthenticationData => T::BinaryData,
            Self::UserProperty => T::Utf8StringPair,
        }
    }
}

/// Where a set of MQTT 5.0 properties appears: a packet, or a Will in CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PropertyContext {
    /// The properties of a packet of this type.
    Packet(PacketType),
    /// The Will Properties of CONNECT (§3.1.3.2).
    Will,
}

impl PropertyId {
    /// Whether this property may appear in `context` (MQTT 5.0 Table 2-4; Mosquitto's
    /// `mosquitto_property_check_command()`).
    ///
    /// # Examples
    /// ```
    /// use mqtt_common::{PacketType, PropertyContext, PropertyId};
    /// assert!(PropertyId::TopicAlias.allowed_in(PropertyContext::Packet(PacketType::Publish)));
    /// assert!(!PropertyId::TopicAlias.allowed_in(PropertyContext::Will));
    /// assert!(PropertyId::UserProperty.allowed_in(PropertyContext::Packet(PacketType::Pubrel)));
    /// ```
    pub const fn allowed_in(self, context: PropertyContext) -> bool {
        use PacketType as P;
        let PropertyContext::Packet(packet) = context else {
            return matches!(
                self,
                Self::PayloadFormatIndicator
                    | Self::MessageExpiryInterval
                    | Self::ContentType
                    | Self::ResponseTopic
                    | Self::CorrelationData
                    | Self::WillDelayInterval
                    | Self::UserProperty
            );
        };
        match self {
            Self::PayloadFormatIndicator
            | Self::MessageExpiryInterval
            | Self::ContentType
            | Self::ResponseTopic
            | Self::CorrelationData
            | Self::TopicAlias => matches!(packet, P::Publish),
            Self::SubscriptionIdentifier => matches!(packet, P::Publish | P::Subscribe),
            Self::SessionExpiryInterval => {
                matches!(packet, P::Connect | P::Connack | P::Disconnect)
            }
            Self::AssignedClientIdentifier
            | Self::ServerKeepAlive
            | Self::ResponseInformation
            | Self::MaximumQoS
            | Self::RetainAvailable
            | Self::WildcardSubscriptionAvailable
            | Self::SubscriptionIdentifierAvailable
            | Self::SharedSubscriptionAvailable => matches!(packet, P::Connack),
            Self::AuthenticationMethod | Self::AuthenticationData => {
                matches!(packet, P::Connect | P::Connack | P::Auth)
            }
            Self::RequestProblemInformation | Self::RequestResponseInformation => {
                matches!(packet, P::Connect)
            }
            Self::WillDelayInterval => false,
            Self::ServerReference => matches!(packet, P::Connack | P::Disconnect),
            Self::ReasonString => matches!(
                packet,
                P::Connack
                    | P::Puback
                    | P::Pubrec
                    | P::Pubrel
                    | P::Pubcomp
                    | P::Suback
                    | P::Unsuback
                    | P::Disconnect
                    | P::Auth
            ),
            Self::ReceiveMaximum | Self::TopicAliasMaximum | Self::MaximumPacketSize => {
                matches!(packet, P::Connect | P::Connack)
            }
            Self::UserProperty => !matches!(packet, P::Pingreq | P::Pingresp),
        }
    }
}

/// Protocol-wide numeric and string constants (the Python `MQTTProtocol` namespace).
pub mod protocol {
    /// Protocol name of MQTT 3.1.1 and 5.0 CONNECT.
    pub const PROTOCOL_NAME: &str = "MQTT";
    /// Protocol name of MQTT 3.1 CONNECT.
    pub const PROTOCOL_NAME_V31: &str = "MQIsdp";
    /// IANA port for MQTT over TCP.
    pub const DEFAULT_PORT: u16 = 1883;
    /// IANA port for MQTT over TLS.
    pub const DEFAULT_TLS_PORT: u16 = 8883;
    /// Largest Remaining Length / Variable Byte Integer (§1.5.5, §2.1.4).
    pub const MAX_REMAINING_LENGTH: u32 = 268_435_455;
    /// Largest packet on the wire: 1 byte of type, 4 of length, and the remaining length.
    pub const MAX_PACKET_SIZE: u32 = MAX_REMAINING_LENGTH + 5;
    /// Largest payload a [`crate::Message`] may carry.
    pub const MAX_PAYLOAD_SIZE: u32 = MAX_REMAINING_LENGTH;
    /// Largest UTF-8 Encoded String, in bytes (§1.5.4).
    pub const MAX_STRING_LENGTH: u16 = 65_535;
    /// Largest Binary Data, in bytes (§1.5.6).
    pub const MAX_BINARY_LENGTH: u16 = 65_535;
    /// Largest topic name or filter, in bytes ([MQTT-4.7.3-3]).
    pub const MAX_TOPIC_LENGTH: u16 = 65_535;
    /// Largest packet identifier (§2.2.1); 0 is not a valid identifier.
    pub const MAX_PACKET_ID: u16 = 65_535;
    /// Largest Keep Alive, in seconds (§3.1.2.10).
    pub const MAX_KEEP_ALIVE: u16 = 65_535;
    /// Largest Subscription Identifier (§3.8.2.1.2).
    pub const MAX_SUBSCRIPTION_ID: u32 = MAX_REMAINING_LENGTH;
    /// Largest Topic Alias (a Two Byte Integer; 0 is not valid, [MQTT-3.3.2-8]).
    pub const MAX_TOPIC_ALIAS: u16 = 65_535;
    /// Client identifier length a server must accept (§3.1.3.1).
    pub const MAX_CLIENT_ID_LENGTH_GUARANTEED: u16 = 23;
    /// Topic level separator.
    pub const TOPIC_LEVEL_SEPARATOR: char = '/';
    /// Single-level wildcard.
    pub const SINGLE_LEVEL_WILDCARD: char = '+';
    /// Multi-level wildcard.
    pub const MULTI_LEVEL_WILDCARD: char = '#';
    /// Prefix of a shared subscription's topic filter (§4.8.2).
    pub const SHARED_SUBSCRIPTION_PREFIX: &str = "$share/";

    /// Every numeric constant above as `(Python name, value)`, for the import-time check
    /// of the Python `MQTTProtocol` namespace.
    pub const INTEGER_CONSTANTS: &[(&str, u32)] = &[
        ("DEFAULT_PORT", DEFAULT_PORT as u32),
        ("DEFAULT_TLS_PORT", DEFAULT_TLS_PORT as u32),
        ("MAX_REMAINING_LENGTH", MAX_REMAINING_LENGTH),
        ("MAX_PACKET_SIZE", MAX_PACKET_SIZE),
        ("MAX_PAYLOAD_SIZE", MAX_PAYLOAD_SIZE),
        ("MAX_STRING_LENGTH", MAX_STRING_LENGTH as u32),
        ("MAX_BINARY_LENGTH", MAX_BINARY_LENGTH as u32),
        ("MAX_TOPIC_LENGTH", MAX_TOPIC_LENGTH as u32),
        ("MAX_PACKET_ID", MAX_PACKET_ID as u32),
        ("MAX_KEEP_ALIVE", MAX_KEEP_ALIVE as u32),
        ("MAX_SUBSCRIPTION_ID", MAX_SUBSCRIPTION_ID),
        ("MAX_TOPIC_ALIAS", MAX_TOPIC_ALIAS as u32),
        (
            "MAX_CLIENT_ID_LENGTH_GUARANTEED",
            MAX_CLIENT_ID_LENGTH_GUARANTEED as u32,
        ),
    ];

    /// Every string constant above as `(Python name, value)`.
    pub const STRING_CONSTANTS: &[(&str, &str)] = &[
        ("PROTOCOL_NAME", PROTOCOL_NAME),
        ("PROTOCOL_NAME_V31", PROTOCOL_NAME_V31),
        ("TOPIC_LEVEL_SEPARATOR", "/"),
        ("SINGLE_LEVEL_WILDCARD", "+"),
        ("MULTI_LEVEL_WILDCARD", "#"),
        ("SHARED_SUBSCRIPTION_PREFIX", SHARED_SUBSCRIPTION_PREFIX),
    ];
}
