//! UNSUBACK (MQTT 5.0 §3.11, 3.1.1 §3.11): in 5.0 one reason code per filter of the
//! UNSUBSCRIBE; in 3.1.1 only the packet identifier.

use bytes::{BufMut, Bytes};

use crate::constants::{PacketType, PropertyContext, ProtocolVersion, ReasonCode};
use crate::error::{Error, Violation};
use crate::packet::ack::AckProperties;
use crate::packet::header::FixedHeader;
use crate::packet::properties::Properties;
use crate::packet::suback::{check_one_code_per_filter, read_reason_codes};
use crate::packet::unsubscribe::Unsubscribe;
use crate::packet::wire::{Reader, Utf8Policy, put_variable_integer, variable_integer_len};
use crate::packet::{Encode, encode_checked};
use crate::packet_id::PacketId;

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
            unsubscribe.topic_filters().len(),
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
    /// A malformed packet for truncated or trailing bytes (3.1.1 has exactly two) and
    /// codes outside the table; a protocol error for packet identifier 0 and the
    /// property rules.
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
        if version != ProtocolVersion::V5 {
            reader.finish("packet identifier")?;
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

    /// Writes the packet. A 3.1.1 UNSUBACK has no reason codes: it means every filter
    /// was unsubscribed, or had no subscription.
    ///
    /// # Errors
    /// A validation error ([`Violation::NotInVersion`]) before 5.0 for properties or a
    /// failure code, which 3.1.1 cannot report; nothing is written then.
    pub fn encode(&self, version: ProtocolVersion, buf: &mut impl BufMut) -> Result<(), Error> {
        encode_checked(self, version, buf)
    }
}

impl Encode for Unsuback {
    fn encoded_len(&self, version: ProtocolVersion) -> usize {
        Unsuback::encoded_len(self, version)
    }

    fn check_version(&self, version: ProtocolVersion) -> Result<(), Violation> {
        if version == ProtocolVersion::V5 {
            return Ok(());
        }
        if let Some(failure) = self.reason_codes.iter().find(|code| code.is_error()) {
            return Err(Violation::NotInVersion {
                what: failure.name(),
                version,
            });
        }
        if !self.properties.is_empty() {
            return Err(Violation::NotInVersion {
                what: "properties",
                version,
            });
        }
        Ok(())
    }

    fn write(&self, version: ProtocolVersion, buf: &mut impl BufMut) {
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
