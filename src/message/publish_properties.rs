//! MQTT 5.0 PUBLISH properties (§3.3.2.3) and their value types.
//!
//! Every field has a type that cannot hold an invalid value, so a
//! [`PublishProperties`] is valid by construction and its fields can be public.

use std::num::NonZeroU16;

use crate::detach::Detach;
use crate::error::{Error, Violation};
use crate::integer::FromInteger;
use crate::string::{BinaryData, MqttString};
use crate::topic::{SubscriptionId, TopicName};

/// Payload Format Indicator (§3.3.2.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(u8)]
pub enum PayloadFormat {
    /// 0: unspecified bytes.
    #[default]
    Unspecified = 0,
    /// 1: UTF-8 encoded character data.
    Utf8 = 1,
}

impl PayloadFormat {
    /// The wire value.
    #[inline]
    pub const fn as_u8(self) -> u8 {
        self as u8
    }
}

impl FromInteger for PayloadFormat {
    /// # Errors
    /// [`Violation::PayloadFormatIndicatorInvalid`] for anything but 0 and 1.
    fn from_integer(value: i128) -> Result<Self, Violation> {
        match value {
            0 => Ok(Self::Unspecified),
            1 => Ok(Self::Utf8),
            _ => Err(Violation::PayloadFormatIndicatorInvalid { value }),
        }
    }
}

/// A Topic Alias: 1..=65,535 ([MQTT-3.3.2-8]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicAlias(NonZeroU16);

impl TopicAlias {
    /// Checks that the alias is not 0.
    ///
    /// # Errors
    /// [`Violation::TopicAliasZero`].
    pub const fn new(value: u16) -> Result<Self, Violation> {
        match NonZeroU16::new(value) {
            Some(value) => Ok(Self(value)),
            None => Err(Violation::TopicAliasZero),
        }
    }

    /// The alias.
    #[inline]
    pub const fn get(self) -> u16 {
        self.0.get()
    }
}

impl FromInteger for TopicAlias {
    /// # Errors
    /// [`Violation::OutOfRange`] past a Two Byte Integer, [`Violation::TopicAliasZero`].
    fn from_integer(value: i128) -> Result<Self, Violation> {
        Self::new(u16::from_integer(value)?)
    }
}

/// The properties of an MQTT 5.0 PUBLISH (§3.3.2.3), which a broker forwards unaltered
/// ([MQTT-3.3.2-4], [MQTT-3.3.2-15], [MQTT-3.3.2-16], [MQTT-3.3.2-17], [MQTT-3.3.2-20]).
///
/// # Examples
/// ```
/// use mqtt_common::{MqttString, PublishProperties, TopicName};
/// let properties = PublishProperties {
///     content_type: Some(MqttString::new("application/json")?),
///     response_topic: Some(TopicName::new("replies/42")?),
///     user_properties: vec![(MqttString::new("k")?, MqttString::new("v")?)],
///     ..PublishProperties::default()
/// };
/// assert!(!properties.is_empty());
/// # Ok::<(), mqtt_common::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PublishProperties {
    /// Payload Format Indicator (0x01).
    pub payload_format_indicator: Option<PayloadFormat>,
    /// Message Expiry Interval in seconds (0x02).
    pub message_expiry_interval: Option<u32>,
    /// Content Type (0x03).
    pub content_type: Option<MqttString>,
    /// Response Topic (0x08); a topic name, so no wildcards ([MQTT-3.3.2-14]).
    pub response_topic: Option<TopicName>,
    /// Correlation Data (0x09).
    pub correlation_data: Option<BinaryData>,
    /// User Properties (0x26), in order, repeats allowed.
    pub user_properties: Vec<(MqttString, MqttString)>,
    /// Subscription Identifiers (0x0B), only in server-to-client PUBLISH.
    pub subscription_identifiers: Vec<SubscriptionId>,
    /// Topic Alias (0x23).
    pub topic_alias: Option<TopicAlias>,
}

/// Checks a Response Topic: a topic name, so no wildcards ([MQTT-3.3.2-14]).
///
/// # Examples
/// ```
/// use mqtt_common::message::response_topic;
/// assert_eq!(response_topic("replies/42")?.as_str(), "replies/42");
/// assert_eq!(response_topic("replies/+").unwrap_err().spec_ref(), Some("MQTT-3.3.2-14"));
/// # Ok::<(), mqtt_common::Error>(())
/// ```
///
/// # Errors
/// As [`TopicName::new`], with [`Violation::ResponseTopicHasWildcard`] for a wildcard.
pub fn response_topic(text: &str) -> Result<TopicName, Error> {
    TopicName::new(text).map_err(|err| match err.violation() {
        Some(Violation::TopicNameHasWildcard) => Violation::ResponseTopicHasWildcard.into(),
        _ => err,
    })
}

impl PublishProperties {
    /// No properties; usable in `const` and `static` items.
    pub const EMPTY: Self = Self {
        payload_format_indicator: None,
        message_expiry_interval: None,
        content_type: None,
        response_topic: None,
        correlation_data: None,
        user_properties: Vec::new(),
        subscription_identifiers: Vec::new(),
        topic_alias: None,
    };

    /// Whether no property is set.
    pub fn is_empty(&self) -> bool {
        self == &Self::EMPTY
    }
}

impl Detach for PublishProperties {
    fn detached(&self) -> Self {
        Self {
            content_type: self.content_type.detached(),
            response_topic: self.response_topic.detached(),
            correlation_data: self.correlation_data.detached(),
            user_properties: self
                .user_properties
                .iter()
                .map(|(name, value)| (name.detached(), value.detached()))
                .collect(),
            subscription_identifiers: self.subscription_identifiers.clone(),
            ..*self
        }
    }
}
