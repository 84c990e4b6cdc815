//! SUBSCRIBE (MQTT 5.0 §3.8, 3.1.1 §3.8): a packet identifier and one or more
//! subscriptions; and the User Property and topic filter fields it shares with
//! UNSUBSCRIBE.

use bytes::{BufMut, Bytes};

use crate::constants::{
    PacketType, PropertyContext, PropertyId, ProtocolVersion, QoS, RetainHandling,
};
use crate::error::{Error, Violation};
use crate::packet::header::{FixedHeader, first_byte};
use crate::packet::properties::{Properties, PropertyValue};
use crate::packet::wire::{
    Reader, Utf8Policy, put_string, put_variable_integer, variable_integer_len,
};
use crate::packet::{Encode, public_encoding};
use crate::packet_id::PacketId;
use crate::string::MqttString;
use crate::topic::{Subscription, SubscriptionId, TopicFilter};

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

/// A topic filter field.
pub(crate) fn read_filter(reader: &mut Reader) -> Result<TopicFilter, Violation> {
    let filter = TopicFilter::from_wire(reader.binary("topic filter")?)?;
    reader.check_policy(&filter)?;
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
    /// A malformed packet for truncated fields, invalid filters and reserved option bits;
    /// a protocol error for packet identifier 0, no filters, QoS or Retain Handling 3
    /// (5.0), No Local on a shared subscription, and the property rules.
    pub fn decode(
        _header: &FixedHeader,
        body: Bytes,
        version: ProtocolVersion,
        policy: Utf8Policy,
    ) -> Result<Self, Error> {
        Self::read(body, version, policy).map_err(Error::received)
    }

    pub(crate) fn read(
        body: Bytes,
        version: ProtocolVersion,
        policy: Utf8Policy,
    ) -> Result<Self, Violation> {
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
                    subscription_id = Some(SubscriptionId::new(*v)?);
                }
            }
            user_properties = self::user_properties(&properties);
        }
        let mut subscriptions = Vec::new();
        while !reader.is_empty() {
            let filter = read_filter(&mut reader)?;
            let options = reader.u8("subscription options")?;
            subscriptions.push(subscription(filter, options, version, subscription_id)?);
        }
        if subscriptions.is_empty() {
            return Err(Violation::NoTopicFilters {
                packet: PacketType::Subscribe,
            });
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
}

public_encoding!(
    Subscribe,
    /// Before 5.0, a subscription option other than QoS, a Subscription Identifier or User
    /// Properties cannot be written.
);

impl Encode for Subscribe {
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

    fn check_version(&self, version: ProtocolVersion) -> Result<(), Violation> {
        if version == ProtocolVersion::V5 {
            return Ok(());
        }
        let not_in = |what| Err(Violation::NotInVersion { what, version });
        if !self.user_properties.is_empty() {
            return not_in("user properties");
        }
        for subscription in &self.subscriptions {
            if subscription.subscription_id().is_some() {
                return not_in("a subscription identifier");
            }
            if subscription.no_local() {
                return not_in("no_local");
            }
            if subscription.retain_as_published() {
                return not_in("retain_as_published");
            }
            if subscription.retain_handling() != RetainHandling::SendAtSubscribe {
                return not_in("retain_handling");
            }
        }
        Ok(())
    }

    fn first_byte(&self) -> u8 {
        first_byte(PacketType::Subscribe)
    }

    fn write_body(&self, version: ProtocolVersion, _: usize, buf: &mut impl BufMut) {
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
) -> Result<Subscription, Violation> {
    let invalid = Violation::InvalidSubscriptionOptions { options };
    if version != ProtocolVersion::V5 {
        // 3.1.1: the upper six bits are 0 and QoS is at most 2, or the packet is malformed.
        let qos = QoS::from_u8(options).ok_or(invalid)?;
        return Ok(Subscription::new(filter, qos));
    }
    if options & 0b1100_0000 != 0 {
        return Err(invalid);
    }
    let qos = QoS::try_from(options & 0b11)?;
    let retain_handling = RetainHandling::try_from((options >> 4) & 0b11)?;
    Subscription::builder(filter)
        .qos(qos)
        .no_local(options & 0b0100 != 0)
        .retain_as_published(options & 0b1000 != 0)
        .retain_handling(retain_handling)
        .subscription_id(subscription_id)
        .build()
        .map_err(|err| {
            err.into_violation()
                .unwrap_or(Violation::NoLocalOnSharedSubscription)
        })
}
