//! AUTH (MQTT 5.0 §3.15): a step of an enhanced authentication exchange.

use bytes::{BufMut, Bytes};

use crate::constants::{PacketType, ProtocolVersion, ReasonCode};
use crate::error::{Error, Violation};
use crate::packet::header::{FixedHeader, first_byte};
use crate::packet::properties::Properties;
use crate::packet::reason::ReasonBody;
use crate::packet::wire::Utf8Policy;
use crate::packet::{Encode, public_encoding};

/// An AUTH: a step of an extended authentication exchange (MQTT 5.0 only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth(ReasonBody);

impl Auth {
    /// An AUTH with this reason: Success, Continue authentication or Re-authenticate.
    ///
    /// # Errors
    /// [`Violation::ReasonCodeNotAllowed`] (field `reason_code`) for any other code.
    pub fn new(reason_code: ReasonCode, properties: Properties) -> Result<Self, Error> {
        ReasonBody::new(PacketType::Auth, reason_code, properties).map(Self)
    }

    /// The reason code.
    pub fn reason_code(&self) -> ReasonCode {
        self.0.reason_code
    }

    /// The properties: Authentication Method and Data, Reason String, User Properties.
    pub fn properties(&self) -> &Properties {
        &self.0.properties
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
        ReasonBody::read(PacketType::Auth, body, ProtocolVersion::V5, policy).map(Self)
    }
}

public_encoding!(
    Auth,
    /// Only what differs from the defaults is written (§3.15.2.1). Versions before 5.0
    /// have no AUTH: writing one for them is refused
    /// ([`Violation::ReservedPacketType`](crate::Violation::ReservedPacketType)).
);

impl Encode for Auth {
    fn body_len(&self, version: ProtocolVersion) -> usize {
        self.0.body_len(version)
    }

    fn check_version(&self, version: ProtocolVersion) -> Result<(), Violation> {
        if version != ProtocolVersion::V5 {
            return Err(Violation::ReservedPacketType {
                value: PacketType::Auth.as_u8(),
            });
        }
        self.0.check_version(PacketType::Auth, version)
    }

    fn first_byte(&self) -> u8 {
        first_byte(PacketType::Auth)
    }

    fn write_body(&self, _: ProtocolVersion, body_len: usize, buf: &mut impl BufMut) {
        self.0.write_body(body_len, buf);
    }
}
