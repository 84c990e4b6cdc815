//! UNSUBSCRIBE (MQTT 5.0 §3.10, 3.1.1 §3.10): a packet identifier and one or more
//! topic filters.

use bytes::{BufMut, Bytes};

use crate::constants::{PacketType, PropertyContext, ProtocolVersion};
use crate::error::{Error, Violation};
use crate::packet::header::{FixedHeader, first_byte};
use crate::packet::properties::Properties;
use crate::packet::subscribe::{
    put_user_properties, read_filter, user_properties, user_properties_len,
};
use crate::packet::wire::{
    Reader, Utf8Policy, put_string, put_variable_integer, variable_integer_len,
};
use crate::packet::{Encode, only_in_v5, public_encoding};
use crate::packet_id::PacketId;
use crate::string::MqttString;
use crate::topic::TopicFilter;

/// An UNSUBSCRIBE: a packet identifier and one or more topic filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    packet_id: PacketId,
    topic_filters: Vec<TopicFilter>,
    user_properties: Vec<(MqttString, MqttString)>,
}

impl Unsubscribe {
    /// An UNSUBSCRIBE of `filters`.
    ///
    /// # Errors
    /// [`Violation::NoTopicFilters`] for none.
    pub fn new(
        packet_id: PacketId,
        topic_filters: Vec<TopicFilter>,
        user_properties: Vec<(MqttString, MqttString)>,
    ) -> Result<Self, Error> {
        if topic_filters.is_empty() {
            return Err(Error::invalid(
                "topic_filters",
                Violation::NoTopicFilters {
                    packet: PacketType::Unsubscribe,
                },
            ));
        }
        Ok(Self {
            packet_id,
            topic_filters,
            user_properties,
        })
    }

    /// The packet identifier.
    pub fn packet_id(&self) -> PacketId {
        self.packet_id
    }

    /// The topic filters, in order.
    pub fn topic_filters(&self) -> &[TopicFilter] {
        &self.topic_filters
    }

    /// The User Properties.
    pub fn user_properties(&self) -> &[(MqttString, MqttString)] {
        &self.user_properties
    }

    /// Decodes the body of an UNSUBSCRIBE.
    ///
    /// # Errors
    /// A malformed packet for truncated fields and invalid filters; a protocol error for
    /// packet identifier 0, no filters and the property rules.
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
        let user_properties = if version == ProtocolVersion::V5 {
            let block = Properties::read(
                &mut reader,
                PropertyContext::Packet(PacketType::Unsubscribe),
                false,
            )?;
            user_properties(&block)
        } else {
            Vec::new()
        };
        let mut topic_filters = Vec::new();
        while !reader.is_empty() {
            topic_filters.push(read_filter(&mut reader)?);
        }
        if topic_filters.is_empty() {
            return Err(Violation::NoTopicFilters {
                packet: PacketType::Unsubscribe,
            });
        }
        Ok(Self {
            packet_id,
            topic_filters,
            user_properties,
        })
    }
}

public_encoding!(
    Unsubscribe,
    /// User Properties cannot be written before 5.0.
);

impl Encode for Unsubscribe {
    fn body_len(&self, version: ProtocolVersion) -> usize {
        let properties = if version == ProtocolVersion::V5 {
            let len = user_properties_len(&self.user_properties);
            variable_integer_len(len as u32) + len
        } else {
            0
        };
        2 + properties
            + self
                .topic_filters
                .iter()
                .map(|f| 2 + f.len())
                .sum::<usize>()
    }

    fn check_version(&self, version: ProtocolVersion) -> Result<(), Violation> {
        only_in_v5("user properties", !self.user_properties.is_empty(), version)
    }

    fn first_byte(&self) -> u8 {
        first_byte(PacketType::Unsubscribe)
    }

    fn write_body(&self, version: ProtocolVersion, _: usize, buf: &mut impl BufMut) {
        buf.put_u16(self.packet_id.get());
        if version == ProtocolVersion::V5 {
            put_variable_integer(buf, user_properties_len(&self.user_properties) as u32);
            put_user_properties(buf, &self.user_properties);
        }
        for filter in &self.topic_filters {
            put_string(buf, filter.as_mqtt_str());
        }
    }
}
