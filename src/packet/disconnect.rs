//! DISCONNECT (MQTT 5.0 §3.14, 3.1.1 §3.14): the end of a connection, with a reason in
//! 5.0.

use bytes::{BufMut, Bytes};

use crate::constants::{PacketType, PropertyId, ProtocolVersion, ReasonCode};
use crate::error::{Error, Violation};
use crate::packet::header::{FixedHeader, first_byte};
use crate::packet::properties::Properties;
use crate::packet::reason::ReasonBody;
use crate::packet::wire::Utf8Policy;
use crate::packet::{Direction, Encode, public_encoding};

/// Whether only a server may send this DISCONNECT reason code (MQTT 5.0 Table 3-10).
fn server_only(code: ReasonCode) -> bool {
    use ReasonCode as R;
    matches!(
        code,
        R::NotAuthorized
            | R::ServerBusy
            | R::ServerShuttingDown
            | R::KeepAliveTimeout
            | R::SessionTakenOver
            | R::TopicFilterInvalid
            | R::RetainNotSupported
            | R::QoSNotSupported
            | R::UseAnotherServer
            | R::ServerMoved
            | R::SharedSubscriptionsNotSupported
            | R::ConnectionRateExceeded
            | R::MaximumConnectTime
            | R::SubscriptionIdentifiersNotSupported
            | R::WildcardSubscriptionsNotSupported
    )
}

/// A DISCONNECT: the end of a connection, with a reason in MQTT 5.0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disconnect(ReasonBody);

impl Disconnect {
    /// A DISCONNECT with this reason (Normal disconnection: [`ReasonCode::Success`]).
    ///
    /// # Errors
    /// [`Violation::ReasonCodeNotAllowed`] (field `reason_code`) outside the DISCONNECT
    /// table.
    pub fn new(reason_code: ReasonCode, properties: Properties) -> Result<Self, Error> {
        ReasonBody::new(PacketType::Disconnect, reason_code, properties).map(Self)
    }

    /// The reason code (Normal disconnection before 5.0).
    pub fn reason_code(&self) -> ReasonCode {
        self.0.reason_code
    }

    /// The properties (MQTT 5.0).
    pub fn properties(&self) -> &Properties {
        &self.0.properties
    }

    /// Decodes the body of a DISCONNECT: empty in 3.1.1; in 5.0 a reason code and
    /// properties, either of which may be left out.
    ///
    /// # Errors
    /// A malformed packet for trailing bytes and codes outside the table; a protocol
    /// error for a code or property the sender may not send ([MQTT-3.14.2-1]:
    /// server-only codes from a client, 0x04 from a server; Session Expiry from a server
    /// [MQTT-3.14.2-2]; Server Reference from a client) and the property rules.
    pub fn decode(
        _header: &FixedHeader,
        body: Bytes,
        version: ProtocolVersion,
        direction: Direction,
        policy: Utf8Policy,
    ) -> Result<Self, Error> {
        Self::read(body, version, direction, policy).map_err(Error::received)
    }

    pub(crate) fn read(
        body: Bytes,
        version: ProtocolVersion,
        direction: Direction,
        policy: Utf8Policy,
    ) -> Result<Self, Violation> {
        let fields = ReasonBody::read(PacketType::Disconnect, body, version, policy)?;
        let (reason_code, properties) = (fields.reason_code, &fields.properties);
        let sender = direction.sender();
        let wrong = |what| Err(Violation::WrongSender { what, sender });
        match direction {
            Direction::FromClient => {
                if server_only(reason_code) {
                    return wrong(reason_code.name());
                }
                if properties.get(PropertyId::ServerReference).is_some() {
                    return wrong(PropertyId::ServerReference.name());
                }
            }
            Direction::FromServer => {
                if reason_code == ReasonCode::DisconnectWithWillMessage {
                    return wrong(reason_code.name());
                }
                if properties.get(PropertyId::SessionExpiryInterval).is_some() {
                    return wrong(PropertyId::SessionExpiryInterval.name());
                }
            }
        }
        Ok(Self(fields))
    }

    /// The Session Expiry Interval the DISCONNECT sets, if it sets one.
    pub fn session_expiry_interval(&self) -> Option<u32> {
        self.0
            .properties
            .get(PropertyId::SessionExpiryInterval)
            .and_then(|value| value.as_u32())
    }
}

public_encoding!(
    Disconnect,
    /// Only what differs from the defaults is written (§3.14.2.1). Before 5.0, a reason
    /// code other than Normal disconnection, or properties, cannot be written.
);

impl Encode for Disconnect {
    fn body_len(&self, version: ProtocolVersion) -> usize {
        self.0.body_len(version)
    }

    fn check_version(&self, version: ProtocolVersion) -> Result<(), Violation> {
        self.0.check_version(PacketType::Disconnect, version)
    }

    fn first_byte(&self) -> u8 {
        first_byte(PacketType::Disconnect)
    }

    fn write_body(&self, _: ProtocolVersion, body_len: usize, buf: &mut impl BufMut) {
        self.0.write_body(body_len, buf);
    }
}
