//! MQTT 5.0 properties on the wire (§2.2.2): reading any packet's properties under the
//! rules of Table 2-4, and PUBLISH and Will properties to and from
//! [`PublishProperties`].
//!
//! Which check fails decides the class: an unknown identifier, one the packet may not
//! carry, or a value of the wrong shape is a Malformed Packet; a second copy of a
//! property that may appear once, or a value out of range, is a Protocol Error.

use bytes::{BufMut, Bytes};

use crate::constants::{PacketType, PropertyContext, PropertyId, PropertyType};
use crate::error::{Error, Violation};
use crate::integer::FromInteger;
use crate::message::{PayloadFormat, PublishProperties, TopicAlias};
use crate::packet::wire::{
    Reader, put_binary, put_string, put_variable_integer, variable_integer_len,
};
use crate::string::{BinaryData, MqttString};
use crate::topic::{SubscriptionId, TopicName};

/// One property value, shaped by its identifier's type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PropertyValue {
    /// Byte.
    Byte(u8),
    /// Two Byte Integer.
    TwoByteInteger(u16),
    /// Four Byte Integer.
    FourByteInteger(u32),
    /// Variable Byte Integer.
    VariableByteInteger(u32),
    /// UTF-8 Encoded String.
    String(MqttString),
    /// Binary Data.
    Binary(Bytes),
    /// UTF-8 String Pair.
    StringPair(MqttString, MqttString),
}

impl PropertyValue {
    /// The value of an integer property, from an integer of any size: the property's
    /// type decides the width.
    ///
    /// # Errors
    /// [`Violation::OutOfRange`] for a value the width cannot hold;
    /// [`Violation::PropertyWrongType`] for a property that is not an integer.
    ///
    /// # Examples
    /// ```
    /// use mqtt_common::packet::PropertyValue;
    /// use mqtt_common::PropertyId;
    /// let value = PropertyValue::from_integer(PropertyId::ReceiveMaximum, 10)?;
    /// assert_eq!(value, PropertyValue::TwoByteInteger(10));
    /// assert!(PropertyValue::from_integer(PropertyId::ReceiveMaximum, 70_000).is_err());
    /// # Ok::<(), mqtt_common::Violation>(())
    /// ```
    pub fn from_integer(property: PropertyId, value: i128) -> Result<Self, Violation> {
        Ok(match property.value_type() {
            PropertyType::Byte => Self::Byte(u8::from_integer(value)?),
            PropertyType::TwoByteInteger => Self::TwoByteInteger(u16::from_integer(value)?),
            PropertyType::FourByteInteger => Self::FourByteInteger(u32::from_integer(value)?),
            PropertyType::VariableByteInteger => {
                let (min, max) = crate::constants::IntegerWidth::VariableByte.range();
                match u32::try_from(value) {
                    Ok(v) if (min..=max).contains(&v) => Self::VariableByteInteger(v),
                    _ => {
                        return Err(Violation::OutOfRange {
                            value,
                            width: crate::constants::IntegerWidth::VariableByte,
                        });
                    }
                }
            }
            _ => return Err(Violation::PropertyWrongType { property }),
        })
    }

    /// The value as an integer, for the integer types.
    pub fn as_u32(&self) -> Option<u32> {
        match *self {
            Self::Byte(v) => Some(v.into()),
            Self::TwoByteInteger(v) => Some(v.into()),
            Self::FourByteInteger(v) | Self::VariableByteInteger(v) => Some(v),
            _ => None,
        }
    }
}

/// The properties of one packet (or Will), checked, in ascending identifier order
/// (repeated ones, such as User Properties, in their own order).
///
/// The spec gives the order of different properties no meaning, so keeping one order
/// makes equal property sets compare equal and encode byte-identically.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Properties {
    items: Vec<(PropertyId, PropertyValue)>,
}

fn context_name(context: PropertyContext) -> &'static str {
    match context {
        PropertyContext::Packet(packet) => packet.name(),
        PropertyContext::Will => "the Will Properties",
    }
}

/// Whether a property may be given more than once: User Property always; Subscription
/// Identifier only where the caller says (a PUBLISH from server to client).
fn repeatable(property: PropertyId, subscription_ids_repeat: bool) -> bool {
    property == PropertyId::UserProperty
        || (property == PropertyId::SubscriptionIdentifier && subscription_ids_repeat)
}

/// The range rules of §2.3 of the checklist: flags are 0 or 1, maxima and aliases are
/// not 0.
fn check_range(property: PropertyId, value: &PropertyValue) -> Result<(), Violation> {
    use PropertyId as P;
    let Some(number) = value.as_u32() else {
        return Ok(());
    };
    let valid = match property {
        P::PayloadFormatIndicator => {
            return PayloadFormat::from_integer(number.into()).map(drop);
        }
        P::TopicAlias if number == 0 => return Err(Violation::TopicAliasZero),
        P::SubscriptionIdentifier if number == 0 => {
            return Err(Violation::SubscriptionIdOutOfRange { value: 0 });
        }
        P::RequestProblemInformation
        | P::RequestResponseInformation
        | P::MaximumQoS
        | P::RetainAvailable
        | P::WildcardSubscriptionAvailable
        | P::SubscriptionIdentifierAvailable
        | P::SharedSubscriptionAvailable => number <= 1,
        P::ReceiveMaximum | P::MaximumPacketSize => number != 0,
        _ => true,
    };
    if valid {
        Ok(())
    } else {
        Err(Violation::PropertyOutOfRange {
            property,
            value: number,
        })
    }
}

/// The shape a property's value must have.
fn shape_matches(property: PropertyId, value: &PropertyValue) -> bool {
    matches!(
        (property.value_type(), value),
        (PropertyType::Byte, PropertyValue::Byte(_))
            | (
                PropertyType::TwoByteInteger,
                PropertyValue::TwoByteInteger(_)
            )
            | (
                PropertyType::FourByteInteger,
                PropertyValue::FourByteInteger(_)
            )
            | (
                PropertyType::VariableByteInteger,
                PropertyValue::VariableByteInteger(_)
            )
            | (PropertyType::Utf8String, PropertyValue::String(_))
            | (PropertyType::BinaryData, PropertyValue::Binary(_))
            | (PropertyType::Utf8StringPair, PropertyValue::StringPair(..))
    )
}

/// Checks properties against the rules of `context`, one by one as they come; `seen` is
/// the set of identifiers met so far.
fn check(
    property: PropertyId,
    value: &PropertyValue,
    context: PropertyContext,
    subscription_ids_repeat: bool,
    seen: &mut u64,
) -> Result<(), Violation> {
    if !property.allowed_in(context) {
        return Err(Violation::PropertyNotAllowed {
            property,
            context: context_name(context),
        });
    }
    let bit = 1u64 << property.as_u8();
    if *seen & bit != 0 && !repeatable(property, subscription_ids_repeat) {
        return Err(Violation::DuplicateProperty { property });
    }
    *seen |= bit;
    if !shape_matches(property, value) {
        return Err(Violation::PropertyWrongType { property });
    }
    // Strings are checked by their type; raw binary values here.
    if let PropertyValue::Binary(data) = value {
        BinaryData::check_len(data.len())?;
    }
    check_range(property, value)
}

fn check_authentication(seen: u64) -> Result<(), Violation> {
    let has = |p: PropertyId| seen & (1u64 << p.as_u8()) != 0;
    if has(PropertyId::AuthenticationData) && !has(PropertyId::AuthenticationMethod) {
        return Err(Violation::AuthenticationDataWithoutMethod);
    }
    Ok(())
}

impl Properties {
    /// Reads a Property Length and that many bytes of properties.
    ///
    /// # Errors
    /// The broken rule: a truncated block, an unknown identifier, one not allowed in
    /// `context`, a duplicate or an out-of-range value (see the classes in the module
    /// docs).
    pub fn read(
        reader: &mut Reader,
        context: PropertyContext,
        subscription_ids_repeat: bool,
    ) -> Result<Self, Violation> {
        let len = reader.variable_integer("property length")?;
        let mut block = reader.take(len as usize, "properties")?;
        let mut items = Vec::new();
        let mut seen: u64 = 0;
        while !block.is_empty() {
            let raw = block.variable_integer("property identifier")?;
            let property = u8::try_from(raw)
                .ok()
                .and_then(PropertyId::from_u8)
                .ok_or(Violation::UnknownProperty { id: raw })?;
            if !property.allowed_in(context) {
                return Err(Violation::PropertyNotAllowed {
                    property,
                    context: context_name(context),
                });
            }
            let what = property.name();
            let value = match property.value_type() {
                PropertyType::Byte => block.u8(what).map(PropertyValue::Byte),
                PropertyType::TwoByteInteger => block.u16(what).map(PropertyValue::TwoByteInteger),
                PropertyType::FourByteInteger => {
                    block.u32(what).map(PropertyValue::FourByteInteger)
                }
                PropertyType::VariableByteInteger => block
                    .variable_integer(what)
                    .map(PropertyValue::VariableByteInteger),
                PropertyType::Utf8String => block.string(what).map(PropertyValue::String),
                PropertyType::BinaryData => block.binary(what).map(PropertyValue::Binary),
                PropertyType::Utf8StringPair => block
                    .string_pair(what)
                    .map(|(k, v)| PropertyValue::StringPair(k, v)),
            }?;
            check(
                property,
                &value,
                context,
                subscription_ids_repeat,
                &mut seen,
            )?;
            items.push((property, value));
        }
        check_authentication(seen)?;
        Ok(Self::ordered(items))
    }

    /// Builds properties for `context` from values, with the checks [`Properties::read`]
    /// applies to received ones.
    ///
    /// # Errors
    /// A validation error (field `properties`) with the violations of
    /// [`Properties::read`].
    pub fn new(
        items: Vec<(PropertyId, PropertyValue)>,
        context: PropertyContext,
    ) -> Result<Self, Error> {
        let mut seen = 0;
        let repeat = context == PropertyContext::Packet(PacketType::Publish);
        let checked = items
            .iter()
            .try_for_each(|(property, value)| check(*property, value, context, repeat, &mut seen))
            .and_then(|()| check_authentication(seen));
        checked.map_err(|violation| Error::invalid("properties", violation))?;
        Ok(Self::ordered(items))
    }

    fn ordered(mut items: Vec<(PropertyId, PropertyValue)>) -> Self {
        // Stable, so repeated properties keep the order the spec gives meaning to.
        if !items.is_sorted_by_key(|(property, _)| *property) {
            items.sort_by_key(|(property, _)| *property);
        }
        Self { items }
    }

    /// Checks that every property may appear in `context` (Table 2-4): for properties
    /// built for one packet and handed to another.
    ///
    /// # Errors
    /// [`Violation::PropertyNotAllowed`] for the first that may not.
    pub fn check_context(&self, context: PropertyContext) -> Result<(), Violation> {
        match self.items.iter().find(|(p, _)| !p.allowed_in(context)) {
            Some(&(property, _)) => Err(Violation::PropertyNotAllowed {
                property,
                context: context_name(context),
            }),
            None => Ok(()),
        }
    }

    /// The first value of a property.
    pub fn get(&self, property: PropertyId) -> Option<&PropertyValue> {
        self.items
            .iter()
            .find(|(p, _)| *p == property)
            .map(|(_, v)| v)
    }

    /// The properties' bytes, without their length prefix.
    pub fn len_on_wire(&self) -> usize {
        self.items
            .iter()
            .map(|(property, value)| {
                variable_integer_len(property.as_u8().into())
                    + match value {
                        PropertyValue::Byte(_) => 1,
                        PropertyValue::TwoByteInteger(_) => 2,
                        PropertyValue::FourByteInteger(_) => 4,
                        PropertyValue::VariableByteInteger(v) => variable_integer_len(*v),
                        PropertyValue::String(s) => 2 + s.len(),
                        PropertyValue::Binary(b) => 2 + b.len(),
                        PropertyValue::StringPair(k, v) => 4 + k.len() + v.len(),
                    }
            })
            .sum()
    }

    /// Writes the Property Length, then the properties in ascending identifier order
    /// (repeated ones, such as User Properties, keep their own order).
    pub fn put(&self, buf: &mut impl BufMut) {
        put_variable_integer(buf, self.len_on_wire() as u32);
        for (property, value) in &self.items {
            put_variable_integer(buf, property.as_u8().into());
            match value {
                PropertyValue::Byte(v) => buf.put_u8(*v),
                PropertyValue::TwoByteInteger(v) => buf.put_u16(*v),
                PropertyValue::FourByteInteger(v) => buf.put_u32(*v),
                PropertyValue::VariableByteInteger(v) => put_variable_integer(buf, *v),
                PropertyValue::String(s) => put_string(buf, s),
                PropertyValue::Binary(b) => put_binary(buf, b),
                PropertyValue::StringPair(k, v) => {
                    put_string(buf, k);
                    put_string(buf, v);
                }
            }
        }
    }

    /// The properties, in ascending identifier order.
    pub fn iter(&self) -> impl Iterator<Item = &(PropertyId, PropertyValue)> {
        self.items.iter()
    }

    /// How many properties there are.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Converts PUBLISH or Will properties; also returns the Will Delay Interval.
    ///
    /// # Errors
    /// The broken rule: a Response Topic that is not a topic name ([MQTT-3.3.2-14]), or a
    /// property that PUBLISH and the Will do not carry.
    pub fn into_publish(self) -> Result<(PublishProperties, Option<u32>), Violation> {
        let mut p = PublishProperties::default();
        let mut will_delay = None;
        for (property, value) in self.items {
            match (property, value) {
                (PropertyId::PayloadFormatIndicator, PropertyValue::Byte(v)) => {
                    p.payload_format_indicator = Some(PayloadFormat::from_integer(v.into())?);
                }
                (PropertyId::MessageExpiryInterval, PropertyValue::FourByteInteger(v)) => {
                    p.message_expiry_interval = Some(v);
                }
                (PropertyId::ContentType, PropertyValue::String(v)) => p.content_type = Some(v),
                (PropertyId::ResponseTopic, PropertyValue::String(v)) => {
                    let topic =
                        TopicName::from_wire(v.into_bytes()).map_err(
                            |violation| match violation {
                                Violation::TopicNameHasWildcard => {
                                    Violation::ResponseTopicHasWildcard
                                }
                                other => other,
                            },
                        )?;
                    p.response_topic = Some(topic);
                }
                (PropertyId::CorrelationData, PropertyValue::Binary(v)) => {
                    p.correlation_data = Some(BinaryData::new(v)?);
                }
                (PropertyId::SubscriptionIdentifier, PropertyValue::VariableByteInteger(v)) => {
                    p.subscription_identifiers.push(SubscriptionId::new(v)?);
                }
                (PropertyId::TopicAlias, PropertyValue::TwoByteInteger(v)) => {
                    p.topic_alias = Some(TopicAlias::new(v)?);
                }
                (PropertyId::UserProperty, PropertyValue::StringPair(k, v)) => {
                    p.user_properties.push((k, v));
                }
                (PropertyId::WillDelayInterval, PropertyValue::FourByteInteger(v)) => {
                    will_delay = Some(v);
                }
                // `read` only lets PUBLISH and Will properties through for those contexts.
                (property, _) => {
                    return Err(Violation::PropertyNotAllowed {
                        property,
                        context: PacketType::Publish.name(),
                    });
                }
            }
        }
        Ok((p, will_delay))
    }
}

/// The bytes of PUBLISH (or Will) properties, without their length prefix.
pub fn publish_properties_len(p: &PublishProperties, will_delay: Option<u32>) -> usize {
    let string = |s: &MqttString| 1 + 2 + s.len();
    p.payload_format_indicator.map_or(0, |_| 2)
        + p.message_expiry_interval.map_or(0, |_| 5)
        + p.content_type.as_ref().map_or(0, string)
        + p.response_topic
            .as_ref()
            .map_or(0, |t| string(t.as_mqtt_str()))
        + p.correlation_data.as_ref().map_or(0, |d| 1 + 2 + d.len())
        + will_delay.map_or(0, |_| 5)
        + p.subscription_identifiers
            .iter()
            .map(|id| 1 + variable_integer_len(id.get()))
            .sum::<usize>()
        + p.topic_alias.map_or(0, |_| 3)
        + p.user_properties
            .iter()
            .map(|(k, v)| 1 + 2 + k.len() + 2 + v.len())
            .sum::<usize>()
}

/// Writes the Property Length, then PUBLISH (or Will) properties in ascending
/// identifier order, User Properties in their own order.
pub fn put_publish_properties(
    buf: &mut impl BufMut,
    p: &PublishProperties,
    will_delay: Option<u32>,
) {
    put_variable_integer(buf, publish_properties_len(p, will_delay) as u32);
    if let Some(v) = p.payload_format_indicator {
        buf.put_u8(PropertyId::PayloadFormatIndicator.as_u8());
        buf.put_u8(v.as_u8());
    }
    if let Some(v) = p.message_expiry_interval {
        buf.put_u8(PropertyId::MessageExpiryInterval.as_u8());
        buf.put_u32(v);
    }
    if let Some(v) = &p.content_type {
        buf.put_u8(PropertyId::ContentType.as_u8());
        put_string(buf, v);
    }
    if let Some(v) = &p.response_topic {
        buf.put_u8(PropertyId::ResponseTopic.as_u8());
        put_string(buf, v.as_mqtt_str());
    }
    if let Some(v) = &p.correlation_data {
        buf.put_u8(PropertyId::CorrelationData.as_u8());
        put_binary(buf, v);
    }
    for id in &p.subscription_identifiers {
        buf.put_u8(PropertyId::SubscriptionIdentifier.as_u8());
        put_variable_integer(buf, id.get());
    }
    if let Some(v) = will_delay {
        buf.put_u8(PropertyId::WillDelayInterval.as_u8());
        buf.put_u32(v);
    }
    if let Some(v) = p.topic_alias {
        buf.put_u8(PropertyId::TopicAlias.as_u8());
        buf.put_u16(v.get());
    }
    for (k, v) in &p.user_properties {
        buf.put_u8(PropertyId::UserProperty.as_u8());
        put_string(buf, k);
        put_string(buf, v);
    }
}
