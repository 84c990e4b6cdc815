//! SUBSCRIBE (§3.8) and SUBACK (§3.9).

use bytes::{BufMut, Bytes};

use crate::constants::{
    PacketType, PropertyContext, PropertyId, ProtocolVersion, QoS, ReasonCode, RetainHandling,
};
use crate::error::{Error, Violation};
use crate::packet::ack::AckProperties;
use crate::packet::header::FixedHeader;
use crate::packet::properties::{Properties, PropertyValue};
use crate::packet::publish::malformed;
use crate::packet::wire::{
    Reader, Utf8Policy, put_string, put_variable_integer, variable_integer_len,
};
use crate::packet_id::PacketId;
use crate::properties::SubscriptionId;
use crate::string::MqttString;
use crate::subscription::Subscription;
use crate::topic::TopicFilter;

/// User Properties, pulled out of a property block (other properties were handled).
pub(crate) fn user_properties(properties: &Properties) -> Vec<(MqttString, MqttString)> {
    properties
        .iter()
        .filter_map(|(property, value)| match (property, value) {
            (PropertyId::UserProperty, PropertyValue::StringPair(k, v)) => {
                Some((k.clone(), v.clone()))
            }
            _ => None,
        })
        .collect()
}

pub(crate) fn user_properties_len(user_properties: &[(MqttString, MqttString)]) -> usize {
    user_properties
        .iter()
        .map(|(k, v)| 1 + 2 + k.len() + 2 + v.len())
        .sum()
}

pub(crate) fn put_user_properties(
    buf: &mut impl BufMut,
    user_properties: &[(MqttString, MqttString)],
) {
    for (k, v) in user_properties {
        buf.put_u8(PropertyId::UserProperty.as_u8());
        put_string(buf, k);
        put_string(buf, v);
    }
}

/// A topic filter field, as a malformed packet if it breaks a filter rule.
pub(crate) fn read_filter(reader: &mut Reader) -> Result<TopicFilter, Error> {
    let bytes = reader
        .binary("topic filter")
        .map_err(Error::MalformedPacket)?;
    let filter = TopicFilter::from_bytes(bytes).map_err(malformed)?;
    reader
        .check_policy(&filter)
        .map_err(Error::MalformedPacket)?;
    Ok(filter)
}

/// A SUBSCRIBE: a packet identifier and one or more subscriptions, which share the
/// packet's Subscription Identifier (MQTT 5.0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
    packet_id: PacketId,
    subscriptions: Vec<Subscription>,
    user_properties: Vec<(MqttString, MqttString)>,
}

impl Subscribe {
    /// A SUBSCRIBE of `subscriptions`.
    ///
    /// # Errors
    /// [`Violation::NoTopicFilters`] for none; [`Violation::OutOfRange`] (field
    /// `subscription_id`) when the subscriptions do not share one identifier, which is a
    /// property of the whole packet.
    pub fn new(
        packet_id: PacketId,
        subscriptions: Vec<Subscription>,
        user_properties: Vec<(MqttString, MqttString)>,
    ) -> Result<Self, Error> {
        let Some(first) = subscriptions.first() else {
            return Err(Error::invalid(
                "subscriptions",
                Violation::NoTopicFilters {
                    packet: PacketType::Subscribe,
                },
            ));
        };
        let shared = first.subscription_id();
        if subscriptions.iter().any(|s| s.subscription_id() != shared) {
            return Err(Error::invalid(
                "subscription_id",
                Violation::MixedSubscriptionIds,
            ));
        }
        Ok(Self {
            packet_id,
            subscriptions,
            user_properties,
        })
    }

    /// The packet identifier.
    pub fn packet_id(&self) -> PacketId {
        self.packet_id
    }

    /// The subscriptions, in order.
    pub fn subscriptions(&self) -> &[Subscription] {
        &self.subscriptions
    }

    /// The User Properties.
    pub fn user_properties(&self) -> &[(MqttString, MqttString)] {
        &self.user_properties
    }

    fn subscription_id(&self) -> Option<SubscriptionId> {
        self.subscriptions
            .first()
            .and_then(Subscription::subscription_id)
    }

    /// Decodes the body of a SUBSCRIBE whose fixed header [`crate::packet::frame`] checked.
    ///
    /// # Errors
    /// [`Error::MalformedPacket`] for truncated fields, invalid filters and reserved
    /// option bits; [`Error::Protocol`] for packet identifier 0, no filters, QoS or Retain
    /// Handling 3 (5.0), No Local on a shared subscription, and the property rules.
    pub fn decode(
        _header: &FixedHeader,
        body: Bytes,
        version: ProtocolVersion,
        policy: Utf8Policy,
    ) -> Result<Self, Error> {
        let mut reader = Reader::new(body, policy);
        let packet_id = reader.packet_id()?;
        let mut subscription_id = None;
        let mut user_properties = Vec::new();
        if version == ProtocolVersion::V5 {
            let properties = Properties::read(
                &mut reader,
                PropertyContext::Packet(PacketType::Subscribe),
                false,
            )?;
            for (property, value) in properties.iter() {
                if let (PropertyId::SubscriptionIdentifier, PropertyValue::VariableByteInteger(v)) =
                    (property, value)
                {
                    subscription_id = Some(SubscriptionId::new(*v).map_err(Error::Protocol)?);
                }
            }
            user_properties = self::user_properties(&properties);
        }
        let mut subscriptions = Vec::new();
        while !reader.is_empty() {
            let filter = read_filter(&mut reader)?;
            let options = reader
                .u8("subscription options")
                .map_err(Error::MalformedPacket)?;
            subscriptions.push(subscription(filter, options, version, subscription_id)?);
        }
        if subscriptions.is_empty() {
            return Err(Error::Protocol(Violation::NoTopicFilters {
                packet: PacketType::Subscribe,
            }));
        }
        Ok(Self {
            packet_id,
            subscriptions,
            user_properties,
        })
    }

    fn properties_len(&self) -> usize {
        self.subscription_id()
            .map_or(0, |id| 1 + variable_integer_len(id.get()))
            + user_properties_len(&self.user_properties)
    }

    fn body_len(&self, version: ProtocolVersion) -> usize {
        let properties = if version == ProtocolVersion::V5 {
            let len = self.properties_len();
            variable_integer_len(len as u32) + len
        } else {
            0
        };
        let filters: usize = self
            .subscriptions
            .iter()
            .map(|s| 2 + s.topic_filter().len() + 1)
            .sum();
        2 + properties + filters
    }

    /// The encoded size, fixed header included.
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        let body = self.body_len(version);
        1 + variable_integer_len(body as u32) + body
    }

    /// Writes the packet; before 5.0 only the QoS of each subscription's options is
    /// written, as 3.1.1 has no other options.
    pub fn encode(&self, version: ProtocolVersion, buf: &mut impl BufMut) {
        buf.put_u8((PacketType::Subscribe.as_u8() << 4) | 0b0010);
        put_variable_integer(buf, self.body_len(version) as u32);
        buf.put_u16(self.packet_id.get());
        let v5 = version == ProtocolVersion::V5;
        if v5 {
            put_variable_integer(buf, self.properties_len() as u32);
            if let Some(id) = self.subscription_id() {
                buf.put_u8(PropertyId::SubscriptionIdentifier.as_u8());
                put_variable_integer(buf, id.get());
            }
            put_user_properties(buf, &self.user_properties);
        }
        for s in &self.subscriptions {
            put_string(buf, s.topic_filter().as_mqtt_str());
            let mut options = s.qos().as_u8();
            if v5 {
                options |= u8::from(s.no_local()) << 2
                    | u8::from(s.retain_as_published()) << 3
                    | s.retain_handling().as_u8() << 4;
            }
            buf.put_u8(options);
        }
    }
}

/// Turns a filter and its options byte into a subscription (§3.8.3.1).
fn subscription(
    filter: TopicFilter,
    options: u8,
    version: ProtocolVersion,
    subscription_id: Option<SubscriptionId>,
) -> Result<Subscription, Error> {
    let invalid = Error::MalformedPacket(Violation::InvalidSubscriptionOptions { options });
    if version != ProtocolVersion::V5 {
        // 3.1.1: the upper six bits are 0 and QoS is at most 2, or the packet is malformed.
        let qos = QoS::from_u8(options).ok_or(invalid)?;
        return Ok(Subscription::new(filter, qos));
    }
    if options & 0b1100_0000 != 0 {
        return Err(invalid);
    }
    let qos = QoS::try_from(options & 0b11).map_err(Error::Protocol)?;
    let retain_handling =
        RetainHandling::try_from((options >> 4) & 0b11).map_err(Error::Protocol)?;
    Subscription::builder(filter)
        .qos(qos)
        .no_local(options & 0b0100 != 0)
        .retain_as_published(options & 0b1000 != 0)
        .retain_handling(retain_handling)
        .subscription_id(subscription_id)
        .build()
        .map_err(|err| match err {
            Error::Validation { violation, .. } => Error::Protocol(violation),
            other => other,
        })
}

/// A SUBACK: one reason code per filter of the SUBSCRIBE, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suback {
    packet_id: PacketId,
    reason_codes: Vec<ReasonCode>,
    properties: AckProperties,
}

impl Suback {
    /// A SUBACK with these reason codes.
    ///
    /// # Errors
    /// [`Violation::ReasonCodeNotAllowed`] (field `reason_codes`) for a code outside the
    /// SUBACK table; [`Violation::NoTopicFilters`] for no code at all.
    pub fn new(
        packet_id: PacketId,
        reason_codes: Vec<ReasonCode>,
        properties: AckProperties,
    ) -> Result<Self, Error> {
        if reason_codes.is_empty() {
            return Err(Error::invalid(
                "reason_codes",
                Violation::NoTopicFilters {
                    packet: PacketType::Suback,
                },
            ));
        }
        for code in &reason_codes {
            code.in_table_of(PacketType::Suback)
                .map_err(|v| Error::invalid("reason_codes", v))?;
        }
        Ok(Self {
            packet_id,
            reason_codes,
            properties,
        })
    }

    /// The SUBACK that answers `subscribe`: its packet identifier (§3.9.2) and one
    /// reason code per filter, in the filters' order ([MQTT-3.8.4-6]).
    ///
    /// # Errors
    /// [`Violation::ReasonCodeCount`] (field `reason_codes`) unless there is exactly one
    /// code per filter; as [`Suback::new`] otherwise.
    ///
    /// # Examples
    /// ```
    /// use mqtt_common::packet::{AckProperties, Suback, Subscribe};
    /// use mqtt_common::{PacketId, QoS, ReasonCode, Subscription, TopicFilter};
    /// let subscribe = Subscribe::new(
    ///     PacketId::new(7)?,
    ///     vec![
    ///         Subscription::new(TopicFilter::new("a/+")?, QoS::AtLeastOnce),
    ///         Subscription::new(TopicFilter::new("b/#")?, QoS::ExactlyOnce),
    ///     ],
    ///     vec![],
    /// )?;
    /// let granted = vec![ReasonCode::GrantedQoS1, ReasonCode::NotAuthorized];
    /// let suback = Suback::answering(&subscribe, granted, AckProperties::default())?;
    /// assert_eq!(suback.packet_id().get(), 7);
    /// assert!(Suback::answering(&subscribe, vec![ReasonCode::GrantedQoS1], AckProperties::default()).is_err());
    /// # Ok::<(), mqtt_common::Error>(())
    /// ```
    pub fn answering(
        subscribe: &Subscribe,
        reason_codes: Vec<ReasonCode>,
        properties: AckProperties,
    ) -> Result<Self, Error> {
        check_one_code_per_filter(
            PacketType::Suback,
            subscribe.subscriptions().len(),
            reason_codes.len(),
        )?;
        Self::new(subscribe.packet_id(), reason_codes, properties)
    }

    /// The packet identifier.
    pub fn packet_id(&self) -> PacketId {
        self.packet_id
    }

    /// The reason codes (3.1.1 return codes 0, 1, 2 and 0x80 are the same values).
    pub fn reason_codes(&self) -> &[ReasonCode] {
        &self.reason_codes
    }

    /// The 3.1.1 return codes: the granted QoS, or 0x80 for any failure.
    pub fn return_codes(&self) -> impl Iterator<Item = u8> + '_ {
        self.reason_codes
            .iter()
            .map(|code| if code.is_error() { 0x80 } else { code.as_u8() })
    }

    /// The properties (MQTT 5.0).
    pub fn properties(&self) -> &AckProperties {
        &self.properties
    }

    /// Decodes the body of a SUBACK.
    ///
    /// # Errors
    /// [`Error::MalformedPacket`] for truncated fields, codes outside the table (3.1.1:
    /// anything but 0, 1, 2, 0x80) or no code at all; [`Error::Protocol`] for packet
    /// identifier 0 and the property rules.
    pub fn decode(
        _header: &FixedHeader,
        body: Bytes,
        version: ProtocolVersion,
        policy: Utf8Policy,
    ) -> Result<Self, Error> {
        let mut reader = Reader::new(body, policy);
        let packet_id = reader.packet_id()?;
        let properties = if version == ProtocolVersion::V5 {
            let block = Properties::read(
                &mut reader,
                PropertyContext::Packet(PacketType::Suback),
                false,
            )?;
            AckProperties::from_properties(block)
        } else {
            AckProperties::default()
        };
        let reason_codes = read_reason_codes(&mut reader, |value| {
            if version == ProtocolVersion::V5 {
                return ReasonCode::try_from(value)?.in_table_of(PacketType::Suback);
            }
            match value {
                0x00 | 0x01 | 0x02 | 0x80 => {
                    Ok(ReasonCode::from_u8(value).unwrap_or(ReasonCode::UnspecifiedError))
                }
                _ => Err(Violation::InvalidSubackReturnCode { value }),
            }
        })?;
        Ok(Self {
            packet_id,
            reason_codes,
            properties,
        })
    }

    fn body_len(&self, version: ProtocolVersion) -> usize {
        let properties = if version == ProtocolVersion::V5 {
            let len = self.properties.len();
            variable_integer_len(len as u32) + len
        } else {
            0
        };
        2 + properties + self.reason_codes.len()
    }

    /// The encoded size, fixed header included.
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        let body = self.body_len(version);
        1 + variable_integer_len(body as u32) + body
    }

    /// Writes the packet. Before 5.0, every failure code becomes 0x80.
    pub fn encode(&self, version: ProtocolVersion, buf: &mut impl BufMut) {
        buf.put_u8(PacketType::Suback.as_u8() << 4);
        put_variable_integer(buf, self.body_len(version) as u32);
        buf.put_u16(self.packet_id.get());
        if version == ProtocolVersion::V5 {
            self.properties.put(buf);
        }
        match version {
            ProtocolVersion::V5 => self.reason_codes.iter().for_each(|c| buf.put_u8(c.as_u8())),
            _ => self.return_codes().for_each(|value| buf.put_u8(value)),
        }
    }
}

/// A SUBACK or UNSUBACK has one reason code per filter of the packet it answers.
pub(crate) fn check_one_code_per_filter(
    packet: PacketType,
    filters: usize,
    codes: usize,
) -> Result<(), Error> {
    if filters == codes {
        return Ok(());
    }
    Err(Error::invalid(
        "reason_codes",
        Violation::ReasonCodeCount {
            packet,
            filters,
            codes,
        },
    ))
}

/// The reason codes that fill the rest of a SUBACK or UNSUBACK: one byte each, at least
/// one, each turned into a code by `code` (which applies the packet's table).
pub(crate) fn read_reason_codes(
    reader: &mut Reader,
    code: impl Fn(u8) -> Result<ReasonCode, Violation>,
) -> Result<Vec<ReasonCode>, Error> {
    let mut codes = Vec::with_capacity(reader.remaining());
    while !reader.is_empty() {
        let value = reader.u8("reason code").map_err(Error::MalformedPacket)?;
        codes.push(code(value).map_err(Error::MalformedPacket)?);
    }
    if codes.is_empty() {
        return Err(Error::MalformedPacket(Violation::Truncated {
            what: "reason codes",
        }));
    }
    Ok(codes)
}
