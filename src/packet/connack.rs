//! CONNACK (MQTT 5.0 §3.2, 3.1.1 §3.2): the server's answer to CONNECT.

use bytes::{BufMut, Bytes};

use crate::constants::{
    ConnectReturnCode, PacketType, PropertyContext, ProtocolVersion, ReasonCode,
};
use crate::error::{Error, Violation};
use crate::packet::header::{FixedHeader, first_byte};
use crate::packet::properties::Properties;
use crate::packet::wire::{Reader, Utf8Policy, variable_integer_len};
use crate::packet::{Encode, only_in_v5, public_encoding};

/// A CONNACK: the server's answer to CONNECT.
///
/// The acceptance or refusal is a 5.0 reason code; a 3.1.1 CONNACK carries the return
/// code with the same meaning ([`ReasonCode::return_code`]). A refusal 3.1.1 has no code
/// for cannot be encoded for it: the server picks one explicitly
/// ([`ReasonCode::closest_return_code`], [`Connack::refusing`]).
///
/// # Examples
/// ```
/// use mqtt_common::packet::{Connack, PacketRef, Properties};
/// use mqtt_common::{ConnectReturnCode, ProtocolVersion, ReasonCode};
/// let accepted = Connack::new(true, ReasonCode::Success, Properties::default())?;
/// let mut buf = Vec::new();
/// PacketRef::Connack(&accepted).encode(ProtocolVersion::V311, &mut buf)?;
/// assert_eq!(buf, b"\x20\x02\x01\x00");
///
/// let busy = Connack::new(false, ReasonCode::ServerBusy, Properties::default())?;
/// assert!(PacketRef::Connack(&busy).encode(ProtocolVersion::V311, &mut Vec::new()).is_err());
/// let refused = Connack::refusing(ReasonCode::ServerBusy, ProtocolVersion::V311);
/// assert_eq!(refused.return_code(), Some(ConnectReturnCode::ServerUnavailable));
/// # Ok::<(), mqtt_common::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connack {
    session_present: bool,
    reason_code: ReasonCode,
    properties: Properties,
}

impl Connack {
    /// A CONNACK with a 5.0 reason code.
    ///
    /// # Errors
    /// [`Violation::ReasonCodeNotAllowed`] (field `reason_code`) outside the CONNACK table,
    /// [`Violation::InvalidConnackFlags`] (field `session_present`) for session present
    /// with a failure, and the property rules (field `properties`).
    pub fn new(
        session_present: bool,
        reason_code: ReasonCode,
        properties: Properties,
    ) -> Result<Self, Error> {
        reason_code
            .in_table_of(PacketType::Connack)
            .map_err(|v| Error::invalid("reason_code", v))?;
        if session_present && reason_code.is_error() {
            return Err(Error::invalid(
                "session_present",
                Violation::InvalidConnackFlags {
                    flags: 1,
                    code: reason_code.as_u8(),
                },
            ));
        }
        properties
            .check_context(PropertyContext::Packet(PacketType::Connack))
            .map_err(|v| Error::invalid("properties", v))?;
        Ok(Self {
            session_present,
            reason_code,
            properties,
        })
    }

    /// The CONNACK that refuses a client of `version` for `reason_code`: the code itself
    /// in 5.0, the closest 3.1.1 return code before ([`ReasonCode::closest_return_code`]).
    /// A code outside the CONNACK table becomes Unspecified error.
    pub fn refusing(reason_code: ReasonCode, version: ProtocolVersion) -> Self {
        let reason_code = match version {
            ProtocolVersion::V5 => reason_code
                .in_table_of(PacketType::Connack)
                .unwrap_or(ReasonCode::UnspecifiedError),
            _ => reason_code.closest_return_code().reason_code(),
        };
        Self {
            session_present: false,
            reason_code,
            properties: Properties::default(),
        }
    }

    /// Whether the server resumed a session.
    pub fn session_present(&self) -> bool {
        self.session_present
    }

    /// The 5.0 reason code (3.1.1 return codes are mapped onto it).
    pub fn reason_code(&self) -> ReasonCode {
        self.reason_code
    }

    /// The 3.1.1 return code with the reason code's meaning, if 3.1.1 has one.
    pub fn return_code(&self) -> Option<ConnectReturnCode> {
        self.reason_code.return_code()
    }

    /// The CONNACK properties (MQTT 5.0).
    pub fn properties(&self) -> &Properties {
        &self.properties
    }

    /// Decodes the body of a CONNACK.
    ///
    /// # Errors
    /// A malformed packet for truncated fields, reserved flag bits ([MQTT-3.2.2-1]),
    /// session present with a failure, and unknown codes; a protocol error for the
    /// property rules.
    pub fn decode(
        header: &FixedHeader,
        body: Bytes,
        version: ProtocolVersion,
        policy: Utf8Policy,
    ) -> Result<Self, Error> {
        Self::read(header, body, version, policy).map_err(Error::received)
    }

    pub(crate) fn read(
        _header: &FixedHeader,
        body: Bytes,
        version: ProtocolVersion,
        policy: Utf8Policy,
    ) -> Result<Self, Violation> {
        let mut reader = Reader::new(body, policy);
        let flags = reader.u8("acknowledge flags")?;
        let code = reader.u8("return code")?;
        let invalid_flags = Violation::InvalidConnackFlags { flags, code };
        if flags & 0b1111_1110 != 0 {
            return Err(invalid_flags);
        }
        let reason_code = if version == ProtocolVersion::V5 {
            ReasonCode::try_from(code)?.in_table_of(PacketType::Connack)?
        } else {
            ConnectReturnCode::try_from(code)?.reason_code()
        };
        let session_present = flags & 1 != 0;
        if session_present && reason_code.is_error() {
            return Err(invalid_flags);
        }
        let properties = if version == ProtocolVersion::V5 {
            Properties::read(
                &mut reader,
                PropertyContext::Packet(PacketType::Connack),
                false,
            )?
        } else {
            Properties::default()
        };
        reader.finish("return code")?;
        Ok(Self {
            session_present,
            reason_code,
            properties,
        })
    }
}

public_encoding!(
    Connack,
    /// Before 5.0 the reason code is written as its 3.1.1 return code
    /// ([`Connack::return_code`]); one with none, or properties, cannot be written.
);

impl Encode for Connack {
    fn body_len(&self, version: ProtocolVersion) -> usize {
        if version != ProtocolVersion::V5 {
            return 2;
        }
        let len = self.properties.len_on_wire();
        2 + variable_integer_len(len as u32) + len
    }

    fn check_version(&self, version: ProtocolVersion) -> Result<(), Violation> {
        let no_return_code = self.return_code().is_none();
        only_in_v5(self.reason_code.name(), no_return_code, version)?;
        only_in_v5("properties", !self.properties.is_empty(), version)
    }

    fn first_byte(&self) -> u8 {
        first_byte(PacketType::Connack)
    }

    fn write_body(&self, version: ProtocolVersion, _: usize, buf: &mut impl BufMut) {
        buf.put_u8(u8::from(self.session_present));
        if version == ProtocolVersion::V5 {
            buf.put_u8(self.reason_code.as_u8());
            self.properties.put(buf);
        } else {
            let code = self
                .return_code()
                .unwrap_or(ConnectReturnCode::ServerUnavailable);
            buf.put_u8(code.as_u8());
        }
    }
}
