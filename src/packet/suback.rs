//! SUBACK (MQTT 5.0 §3.9, 3.1.1 §3.9): one reason code per filter of the SUBSCRIBE.

use bytes::{BufMut, Bytes};

use crate::constants::{PacketType, ProtocolVersion, ReasonCode};
use crate::error::{Error, Violation};
use crate::packet::ack::AckProperties;
use crate::packet::header::{FixedHeader, first_byte};
use crate::packet::reason::ReasonCodes;
use crate::packet::subscribe::Subscribe;
use crate::packet::wire::Utf8Policy;
use crate::packet::{Encode, public_encoding};
use crate::packet_id::PacketId;

/// A SUBACK: one reason code per filter of the SUBSCRIBE, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suback(ReasonCodes);

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
        ReasonCodes::new(PacketType::Suback, packet_id, reason_codes, properties).map(Self)
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
        let filters = subscribe.subscriptions().len();
        let packet_id = subscribe.packet_id();
        ReasonCodes::answering(
            PacketType::Suback,
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

    /// The reason codes (3.1.1 return codes 0, 1, 2 and 0x80 are the same values).
    pub fn reason_codes(&self) -> &[ReasonCode] {
        &self.0.reason_codes
    }

    /// The 3.1.1 return codes: the granted QoS, or 0x80 for any failure.
    pub fn return_codes(&self) -> impl Iterator<Item = u8> + '_ {
        self.0.return_codes(PacketType::Suback)
    }

    /// The properties (MQTT 5.0).
    pub fn properties(&self) -> &AckProperties {
        &self.0.properties
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
        ReasonCodes::read(PacketType::Suback, body, version, policy).map(Self)
    }
}

public_encoding!(
    Suback,
    /// Before 5.0, every failure code becomes 0x80, the one failure return code 3.1.1 has
    /// ([`Suback::return_codes`]); properties cannot be written.
);

impl Encode for Suback {
    fn body_len(&self, version: ProtocolVersion) -> usize {
        self.0.body_len(PacketType::Suback, version)
    }

    fn check_version(&self, version: ProtocolVersion) -> Result<(), Violation> {
        self.0.check_version(PacketType::Suback, version)
    }

    fn first_byte(&self) -> u8 {
        first_byte(PacketType::Suback)
    }

    fn write_body(&self, version: ProtocolVersion, _: usize, buf: &mut impl BufMut) {
        self.0.write_body(PacketType::Suback, version, buf);
    }
}
