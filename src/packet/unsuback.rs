//! UNSUBACK (MQTT 5.0 §3.11, 3.1.1 §3.11): in 5.0 one reason code per filter of the
//! UNSUBSCRIBE; in 3.1.1 only the packet identifier.

use bytes::{BufMut, Bytes};

use crate::constants::{PacketType, ProtocolVersion, ReasonCode};
use crate::error::{Error, Violation};
use crate::packet::ack::AckProperties;
use crate::packet::header::{FixedHeader, first_byte};
use crate::packet::reason::ReasonCodes;
use crate::packet::unsubscribe::Unsubscribe;
use crate::packet::wire::Utf8Policy;
use crate::packet::{Encode, public_encoding};
use crate::packet_id::PacketId;

/// An UNSUBACK: in 5.0, one reason code per filter; in 3.1.1, only the identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsuback(ReasonCodes);

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
        ReasonCodes::new(PacketType::Unsuback, packet_id, reason_codes, properties).map(Self)
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
        let filters = unsubscribe.topic_filters().len();
        let packet_id = unsubscribe.packet_id();
        ReasonCodes::answering(
            PacketType::Unsuback,
            packet_id,
            filters,
            reason_codes,
            properties,
        )
        .map(Self)
    }

    /// The packet identifier.
    pub fn packet_id(&self) -> PacketId {
        self.0.packet_id
    }

    /// The reason codes (empty before 5.0).
    pub fn reason_codes(&self) -> &[ReasonCode] {
        &self.0.reason_codes
    }

    /// The properties (MQTT 5.0).
    pub fn properties(&self) -> &AckProperties {
        &self.0.properties
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
        ReasonCodes::read(PacketType::Unsuback, body, version, policy).map(Self)
    }
}

public_encoding!(
    Unsuback,
    /// A 3.1.1 UNSUBACK has no reason codes: it means every filter was unsubscribed, or had
    /// no subscription. Properties and failure codes cannot be written before 5.0.
);

impl Encode for Unsuback {
    fn body_len(&self, version: ProtocolVersion) -> usize {
        self.0.body_len(PacketType::Unsuback, version)
    }

    fn check_version(&self, version: ProtocolVersion) -> Result<(), Violation> {
        self.0.check_version(PacketType::Unsuback, version)
    }

    fn first_byte(&self) -> u8 {
        first_byte(PacketType::Unsuback)
    }

    fn write_body(&self, version: ProtocolVersion, _: usize, buf: &mut impl BufMut) {
        self.0.write_body(PacketType::Unsuback, version, buf);
    }
}
