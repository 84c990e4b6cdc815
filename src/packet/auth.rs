//! AUTH (MQTT 5.0 §3.15): a step of an enhanced authentication exchange.

use bytes::{BufMut, Bytes};

use crate::constants::{PacketType, PropertyContext, ProtocolVersion, ReasonCode};
use crate::error::{Error, Violation};
use crate::packet::disconnect::{body_len, encode_reason, read_reason};
use crate::packet::header::FixedHeader;
use crate::packet::properties::Properties;
use crate::packet::wire::{Utf8Policy, variable_integer_len};
use crate::packet::{Encode, encode_checked};

/// An AUTH: a step of an extended authentication exchange (MQTT 5.0 only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    reason_code: ReasonCode,
    properties: Properties,
}

impl Auth {
    /// An AUTH with this reason: Success, Continue authentication or Re-authenticate.
    ///
    /// # Errors
    /// [`Violation::ReasonCodeNotAllowed`] (field `reason_code`) for any other code.
    pub fn new(reason_code: ReasonCode, properties: Properties) -> Result<Self, Error> {
        reason_code
            .in_table_of(PacketType::Auth)
            .map_err(|v| Error::invalid("reason_code", v))?;
        properties
            .check_context(PropertyContext::Packet(PacketType::Auth))
            .map_err(|v| Error::invalid("properties", v))?;
        Ok(Self {
            reason_code,
            properties,
        })
    }

    /// The reason code.
    pub fn reason_code(&self) -> ReasonCode {
        self.reason_code
    }

    /// The properties: Authentication Method and Data, Reason String, User Properties.
    pub fn properties(&self) -> &Properties {
        &self.properties
    }

    /// Decodes the body of an AUTH ([`crate::packet::frame`] refuses type 15 before 5.0).
    ///
    /// # Errors
    /// A malformed packet for trailing bytes and codes outside the table; a protocol
    /// error for the property rules.
    pub fn decode(_header: &FixedHeader, body: Bytes, policy: Utf8Policy) -> Result<Self, Error> {
        Self::read(body, policy).map_err(Error::received)
    }

    pub(crate) fn read(body: Bytes, policy: Utf8Policy) -> Result<Self, Violation> {
        let (reason_code, properties) =
            read_reason(PacketType::Auth, body, ProtocolVersion::V5, policy)?;
        Ok(Self {
            reason_code,
            properties,
        })
    }

    /// The encoded size, fixed header included.
    pub fn encoded_len(&self) -> usize {
        let body = body_len(self.reason_code, &self.properties, ProtocolVersion::V5);
        1 + variable_integer_len(body as u32) + body
    }

    /// Writes the packet in its shortest form (§3.15.2.1).
    ///
    /// # Errors
    /// A validation error for a version before 5.0, which has no AUTH
    /// ([`Violation::ReservedPacketType`]).
    pub fn encode(&self, version: ProtocolVersion, buf: &mut impl BufMut) -> Result<(), Error> {
        encode_checked(self, version, buf)
    }
}

impl Encode for Auth {
    fn encoded_len(&self, _: ProtocolVersion) -> usize {
        Auth::encoded_len(self)
    }

    fn check_version(&self, version: ProtocolVersion) -> Result<(), Violation> {
        if version != ProtocolVersion::V5 {
            return Err(Violation::ReservedPacketType {
                value: PacketType::Auth.as_u8(),
            });
        }
        self.properties
            .check_context(PropertyContext::Packet(PacketType::Auth))
    }

    fn write(&self, _: ProtocolVersion, buf: &mut impl BufMut) {
        encode_reason(
            PacketType::Auth,
            self.reason_code,
            &self.properties,
            ProtocolVersion::V5,
            buf,
        );
    }
}
