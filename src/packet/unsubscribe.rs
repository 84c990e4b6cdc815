//! UNSUBSCRIBE (§3.10) and UNSUBACK (§3.11).

use bytes::{BufMut, Bytes};

use crate::constants::{PacketType, PropertyContext, ProtocolVersion, ReasonCode};
use crate::error::{Error, Violation};
use crate::packet::ack::AckProperties;
use crate::packet::header::FixedHeader;
use crate::packet::properties::Properties;
use crate::packet::subscribe::{
    check_one_code_per_filter, put_user_properties, read_filter, read_reason_codes,
    user_properties, user_properties_len,
};
use crate::packet::wire::{
    Reader, Utf8Policy, put_string, put_variable_integer, variable_integer_len,
};
use crate::packet_id::PacketId;
use crate::string::MqttString;
use crate::topic::TopicFilter;

/// An UNSUBSCRIBE: a packet identifier and one or more topic filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    packet_id: PacketId,
    filters: Vec<TopicFilter>,
    user_properties: Vec<(MqttString, MqttString)>,
}

impl Unsubscribe {
    /// An UNSUBSCRIBE of `filters`.
    ///
    /// # Errors
    /// [`Violation::NoTopicFilters`] for none.
    pub fn new(
        packet_id: PacketId,
        filters: Vec<TopicFilter>,
        user_properties: Vec<(MqttString, MqttString)>,
    ) -> Result<Self, Error> {
        if filters.is_empty() {
            return Err(Error::invalid(
                "filters",
                Violation::NoTopicFilters {
                    packet: PacketType::Unsubscribe,
                },
            ));
        }
        Ok(Self {
            packet_id,
            filters,
            user_properties,
        })
    }

    /// The packet identifier.
    pub fn packet_id(&self) -> PacketId {
        self.packet_id
    }

    /// The topic filters, in order.
    pub fn filters(&self) -> &[TopicFilter] {
        &self.filters
    }

    /// The User Properties.
    pub fn user_properties(&self) -> &[(MqttString, MqttString)] {
        &self.user_properties
    }

    /// Decodes the body of an UNSUBSCRIBE.
    ///
    /// # Errors
    /// [`Error::MalformedPacket`] for truncated fields and invalid filters;
    /// [`Error::Protocol`] for packet identifier 0, no filters and the property rules.
    pub fn decode(
        _header: &FixedHeader,
        body: Bytes,
        version: ProtocolVersion,
        policy: Utf8Policy,
    ) -> Result<Self, Error> {
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
        let mut filters = Vec::new();
        while !reader.is_empty() {
            filters.push(read_filter(&mut reader)?);
        }
        if filters.is_empty() {
            return Err(Error::Protocol(Violation::NoTopicFilters {
                packet: PacketType::Unsubscribe,
            }));
        }
        Ok(Self {
            packet_id,
            filters,
            user_properties,
        })
    }

    fn body_len(&self, version: ProtocolVersion) -> usize {
        let properties = if version == ProtocolVersion::V5 {
            let len = user_properties_len(&self.user_properties);
            variable_integer_len(len as u32) + len
        } else {
            0
        };
        2 + properties + self.filters.iter().map(|f| 2 + f.len()).sum::<usize>()
    }

    /// The encoded size, fixed header included.
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        let body = self.body_len(version);
        1 + variable_integer_len(body as u32) + body
    }

    /// Writes the packet.
    pub fn encode(&self, version: ProtocolVersion, buf: &mut impl BufMut) {
        buf.put_u8((PacketType::Unsubscribe.as_u8() << 4) | 0b0010);
        put_variable_integer(buf, self.body_len(version) as u32);
        buf.put_u16(self.packet_id.get());
        if version == ProtocolVersion::V5 {
            put_variable_integer(buf, user_properties_len(&self.user_properties) as u32);
            put_user_properties(buf, &self.user_properties);
        }
        for filter in &self.filters {
            put_string(buf, filter.as_mqtt_str());
        }
    }
}

/// An UNSUBACK: in 5.0, one reason code per filter; in 3.1.1, only the identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsuback {
    packet_id: PacketId,
    reason_codes: Vec<ReasonCode>,
    properties: AckProperties,
}

impl Unsuback {
    /// An UNSUBACK with these reason codes (ignored before 5.0).
    ///
    /// # Errors
    /// [`Violation::ReasonCodeNotAllowed`] (field `reason_codes`) for a code outside the
    /// UNSUBACK table.
    pub fn new(
        packet_id: PacketId,
        reason_codes: Vec<ReasonCode>,
        properties: AckProperties,
    ) -> Result<Self, Error> {
        for code in &reason_codes {
            code.in_table_of(PacketType::Unsuback)
                .map_err(|v| Error::invalid("reason_codes", v))?;
        }
        Ok(Self {
            packet_id,
            reason_codes,
            properties,
        })
    }

    /// The UNSUBACK that answers `unsubscribe`: its packet identifier (§3.11.2) and
    /// one reason code per filter, in the filters' order ([MQTT-3.11.3-1]); 3.1.1 leaves the
    /// codes out on the wire.
    ///
    /// # Errors
    /// [`Violation::ReasonCodeCount`] (field `reason_codes`) unless there is exactly one
    /// code per filter; as [`Unsuback::new`] otherwise.
    pub fn answering(
        unsubscribe: &Unsubscribe,
        reason_codes: Vec<ReasonCode>,
        properties: AckProperties,
    ) -> Result<Self, Error> {
        check_one_code_per_filter(
            PacketType::Unsuback,
            unsubscribe.filters().len(),
            reason_codes.len(),
        )?;
        Self::new(unsubscribe.packet_id(), reason_codes, properties)
    }

    /// The packet identifier.
    pub fn packet_id(&self) -> PacketId {
        self.packet_id
    }

    /// The reason codes (empty before 5.0).
    pub fn reason_codes(&self) -> &[ReasonCode] {
        &self.reason_codes
    }

    /// The properties (MQTT 5.0).
    pub fn properties(&self) -> &AckProperties {
        &self.properties
    }

    /// Decodes the body of an UNSUBACK.
    ///
    /// # Errors
    /// [`Error::MalformedPacket`] for truncated or trailing bytes (3.1.1 has exactly two)
    /// and codes outside the table; [`Error::Protocol`] for packet identifier 0 and the
    /// property rules.
    pub fn decode(
        _header: &FixedHeader,
        body: Bytes,
        version: ProtocolVersion,
        policy: Utf8Policy,
    ) -> Result<Self, Error> {
        let mut reader = Reader::new(body, policy);
        let packet_id = reader.packet_id()?;
        if version != ProtocolVersion::V5 {
            reader
                .finish("packet identifier")
                .map_err(Error::MalformedPacket)?;
            return Ok(Self {
                packet_id,
                reason_codes: Vec::new(),
                properties: AckProperties::default(),
            });
        }
        let block = Properties::read(
            &mut reader,
            PropertyContext::Packet(PacketType::Unsuback),
            false,
        )?;
        let properties = AckProperties::from_properties(block);
        let reason_codes = read_reason_codes(&mut reader, |value| {
            ReasonCode::try_from(value)?.in_table_of(PacketType::Unsuback)
        })?;
        Ok(Self {
            packet_id,
            reason_codes,
            properties,
        })
    }

    fn body_len(&self, version: ProtocolVersion) -> usize {
        if version != ProtocolVersion::V5 {
            return 2;
        }
        let len = self.properties.len();
        2 + variable_integer_len(len as u32) + len + self.reason_codes.len()
    }

    /// The encoded size, fixed header included.
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        let body = self.body_len(version);
        1 + variable_integer_len(body as u32) + body
    }

    /// Writes the packet.
    pub fn encode(&self, version: ProtocolVersion, buf: &mut impl BufMut) {
        buf.put_u8(PacketType::Unsuback.as_u8() << 4);
        put_variable_integer(buf, self.body_len(version) as u32);
        buf.put_u16(self.packet_id.get());
        if version == ProtocolVersion::V5 {
            self.properties.put(buf);
            for code in &self.reason_codes {
                buf.put_u8(code.as_u8());
            }
        }
    }
}
