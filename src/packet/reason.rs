//! The bodies that are reasons: DISCONNECT's and AUTH's one reason code (§3.14.2,
//! §3.15.2), and SUBACK's and UNSUBACK's one reason code per filter (§3.9, §3.11).

use bytes::{BufMut, Bytes};

use crate::constants::{PacketType, PropertyContext, ProtocolVersion, ReasonCode};
use crate::error::{Error, Violation};
use crate::packet::ack::AckProperties;
use crate::packet::only_in_v5;
use crate::packet::properties::Properties;
use crate::packet::wire::{Reader, Utf8Policy, variable_integer_len};
use crate::packet_id::PacketId;

/// A reason code from the packet's table and properties valid in the packet, either of
/// which may be left out when it is the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReasonBody {
    pub(crate) reason_code: ReasonCode,
    pub(crate) properties: Properties,
}

impl ReasonBody {
    /// The body of a `packet` built by a caller: a validation error names the field.
    pub(crate) fn new(
        packet: PacketType,
        reason_code: ReasonCode,
        properties: Properties,
    ) -> Result<Self, Error> {
        reason_code
            .in_table_of(packet)
            .map_err(|v| Error::invalid("reason_code", v))?;
        properties
            .check_context(PropertyContext::Packet(packet))
            .map_err(|v| Error::invalid("properties", v))?;
        Ok(Self {
            reason_code,
            properties,
        })
    }

    /// Reads the body of a received `packet`, which may stop after any field.
    pub(crate) fn read(
        packet: PacketType,
        body: Bytes,
        version: ProtocolVersion,
        policy: Utf8Policy,
    ) -> Result<Self, Violation> {
        let mut reader = Reader::new(body, policy);
        let mut reason_code = ReasonCode::Success;
        let mut properties = Properties::default();
        if version == ProtocolVersion::V5 && !reader.is_empty() {
            let code = reader.u8("reason code")?;
            reason_code = ReasonCode::try_from(code)?.in_table_of(packet)?;
            if !reader.is_empty() {
                properties = Properties::read(&mut reader, PropertyContext::Packet(packet), false)?;
            }
        }
        reader.finish("fixed header")?;
        Ok(Self {
            reason_code,
            properties,
        })
    }

    /// Before 5.0 only the defaults can be written: the packet is then empty.
    pub(crate) fn check_version(
        &self,
        packet: PacketType,
        version: ProtocolVersion,
    ) -> Result<(), Violation> {
        if version == ProtocolVersion::V5 {
            return self
                .properties
                .check_context(PropertyContext::Packet(packet));
        }
        let reason_code = self.reason_code;
        only_in_v5(
            reason_code.name(),
            reason_code != ReasonCode::Success,
            version,
        )?;
        only_in_v5("properties", !self.properties.is_empty(), version)
    }

    /// The Remaining Length in its shortest form.
    pub(crate) fn body_len(&self, version: ProtocolVersion) -> usize {
        let defaults = self.reason_code == ReasonCode::Success && self.properties.is_empty();
        if version != ProtocolVersion::V5 || defaults {
            return 0;
        }
        if self.properties.is_empty() {
            return 1;
        }
        let len = self.properties.len_on_wire();
        1 + variable_integer_len(len as u32) + len
    }

    /// Writes the body, `body` bytes long ([`ReasonBody::body_len`]).
    pub(crate) fn write_body(&self, body: usize, buf: &mut impl BufMut) {
        if body >= 1 {
            buf.put_u8(self.reason_code.as_u8());
        }
        if body > 1 {
            self.properties.put(buf);
        }
    }
}

/// The body of a SUBACK or UNSUBACK: the packet identifier answered and one reason code
/// per filter of the request, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReasonCodes {
    pub(crate) packet_id: PacketId,
    pub(crate) reason_codes: Vec<ReasonCode>,
    pub(crate) properties: AckProperties,
}

impl ReasonCodes {
    /// The body of a `packet` built by a caller, every code from the packet's table.
    pub(crate) fn new(
        packet: PacketType,
        packet_id: PacketId,
        reason_codes: Vec<ReasonCode>,
        properties: AckProperties,
    ) -> Result<Self, Error> {
        for code in &reason_codes {
            code.in_table_of(packet)
                .map_err(|v| Error::invalid("reason_codes", v))?;
        }
        Ok(Self {
            packet_id,
            reason_codes,
            properties,
        })
    }

    /// The answer to a request with `filters` filters: one code per filter.
    pub(crate) fn answering(
        packet: PacketType,
        packet_id: PacketId,
        filters: usize,
        reason_codes: Vec<ReasonCode>,
        properties: AckProperties,
    ) -> Result<Self, Error> {
        let codes = reason_codes.len();
        if filters != codes {
            let violation = Violation::ReasonCodeCount {
                packet,
                filters,
                codes,
            };
            return Err(Error::invalid("reason_codes", violation));
        }
        Self::new(packet, packet_id, reason_codes, properties)
    }

    /// Reads the body of a received `packet`. In 5.0 the codes come from the packet's
    /// table; before, a SUBACK has return codes 0, 1, 2 or 0x80 and an UNSUBACK none.
    pub(crate) fn read(
        packet: PacketType,
        body: Bytes,
        version: ProtocolVersion,
        policy: Utf8Policy,
    ) -> Result<Self, Violation> {
        let mut reader = Reader::new(body, policy);
        let packet_id = reader.packet_id()?;
        let v5 = version == ProtocolVersion::V5;
        let mut properties = AckProperties::default();
        if v5 {
            let block = Properties::read(&mut reader, PropertyContext::Packet(packet), false)?;
            properties = AckProperties::from_properties(block);
        }
        let reason_codes = if v5 {
            read_codes(&mut reader, |value| {
                ReasonCode::try_from(value)?.in_table_of(packet)
            })?
        } else if packet == PacketType::Suback {
            read_codes(&mut reader, |value| match value {
                0x00 | 0x01 | 0x02 | 0x80 => {
                    Ok(ReasonCode::from_u8(value).unwrap_or(ReasonCode::UnspecifiedError))
                }
                _ => Err(Violation::InvalidSubackReturnCode { value }),
            })?
        } else {
            reader.finish("packet identifier")?;
            Vec::new()
        };
        Ok(Self {
            packet_id,
            reason_codes,
            properties,
        })
    }

    /// The 3.1.1 codes of a `packet`: a SUBACK's granted QoS, or 0x80 for any failure
    /// (the one failure return code 3.1.1 has); an UNSUBACK has none.
    pub(crate) fn return_codes(&self, packet: PacketType) -> impl Iterator<Item = u8> + '_ {
        let codes = if packet == PacketType::Suback {
            &self.reason_codes[..]
        } else {
            &[]
        };
        codes
            .iter()
            .map(|code| if code.is_error() { 0x80 } else { code.as_u8() })
    }

    /// Before 5.0 there are no properties, and an UNSUBACK cannot report a failure.
    pub(crate) fn check_version(
        &self,
        packet: PacketType,
        version: ProtocolVersion,
    ) -> Result<(), Violation> {
        let unreportable = match packet {
            PacketType::Unsuback => self.reason_codes.iter().find(|code| code.is_error()),
            _ => None,
        };
        if let Some(failure) = unreportable {
            only_in_v5(failure.name(), true, version)?;
        }
        only_in_v5("properties", !self.properties.is_empty(), version)
    }

    /// The Remaining Length.
    pub(crate) fn body_len(&self, packet: PacketType, version: ProtocolVersion) -> usize {
        if version != ProtocolVersion::V5 {
            return 2 + self.return_codes(packet).count();
        }
        let len = self.properties.len();
        2 + variable_integer_len(len as u32) + len + self.reason_codes.len()
    }

    /// Writes the body of a `packet`.
    pub(crate) fn write_body(
        &self,
        packet: PacketType,
        version: ProtocolVersion,
        buf: &mut impl BufMut,
    ) {
        buf.put_u16(self.packet_id.get());
        if version == ProtocolVersion::V5 {
            self.properties.put(buf);
            self.reason_codes.iter().for_each(|c| buf.put_u8(c.as_u8()));
        } else {
            self.return_codes(packet)
                .for_each(|value| buf.put_u8(value));
        }
    }
}

/// The reason codes that fill the rest of the body: one byte each, at least one, each
/// turned into a code by `code`.
fn read_codes(
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
