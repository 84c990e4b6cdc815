//! SUBACK (MQTT 5.0 §3.9, 3.1.1 §3.9): one reason code per filter of the SUBSCRIBE; and
//! the reason-code list it shares with UNSUBACK.

use bytes::{BufMut, Bytes};

use crate::constants::{PacketType, PropertyContext, ProtocolVersion, ReasonCode};
use crate::error::{Error, Violation};
use crate::packet::ack::AckProperties;
use crate::packet::header::FixedHeader;
use crate::packet::properties::Properties;
use crate::packet::subscribe::Subscribe;
use crate::packet::wire::{Reader, Utf8Policy, put_variable_integer, variable_integer_len};
use crate::packet::{Encode, encode_checked};
use crate::packet_id::PacketId;

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
    /// A malformed packet for truncated fields, codes outside the table (3.1.1: anything
    /// but 0, 1, 2, 0x80) or no code at all; a protocol error for packet identifier 0
    /// and the property rules.
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

    /// Writes the packet. Before 5.0, every failure code becomes 0x80, the one failure
    /// return code 3.1.1 has ([`Suback::return_codes`]).
    ///
    /// # Errors
    /// A validation error ([`Violation::NotInVersion`]) for properties before 5.0;
    /// nothing is written then.
    pub fn encode(&self, version: ProtocolVersion, buf: &mut impl BufMut) -> Result<(), Error> {
        encode_checked(self, version, buf)
    }
}

impl Encode for Suback {
    fn encoded_len(&self, version: ProtocolVersion) -> usize {
        Suback::encoded_len(self, version)
    }

    fn check_version(&self, version: ProtocolVersion) -> Result<(), Violation> {
        if version != ProtocolVersion::V5 && !self.properties.is_empty() {
            return Err(Violation::NotInVersion {
                what: "properties",
                version,
            });
        }
        Ok(())
    }

    fn write(&self, version: ProtocolVersion, buf: &mut impl BufMut) {
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
) -> Result<Vec<ReasonCode>, Violation> {
    let mut codes = Vec::with_capacity(reader.remaining());
    while !reader.is_empty() {
        codes.push(code(reader.u8("reason code")?)?);
    }
    if codes.is_empty() {
        return Err(Violation::Truncated {
            what: "reason codes",
        });
    }
    Ok(codes)
}
