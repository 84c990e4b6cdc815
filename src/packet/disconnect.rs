//! DISCONNECT (MQTT 5.0 §3.14, 3.1.1 §3.14): the end of a connection, with a reason in
//! 5.0; and the body shape it shares with AUTH (a reason code and properties, either of
//! which may be left out).

use bytes::{BufMut, Bytes};

use crate::constants::{PacketType, PropertyContext, PropertyId, ProtocolVersion, ReasonCode};
use crate::error::{Error, Violation};
use crate::packet::header::FixedHeader;
use crate::packet::properties::Properties;
use crate::packet::wire::{Reader, Utf8Policy, put_variable_integer, variable_integer_len};
use crate::packet::{Direction, Encode, encode_checked};

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

/// A reason code and properties: the body of DISCONNECT and AUTH, either of which may
/// stop after any field (§3.14.2.1, §3.15.2.1).
pub(crate) fn read_reason(
    packet: PacketType,
    body: Bytes,
    version: ProtocolVersion,
    policy: Utf8Policy,
) -> Result<(ReasonCode, Properties), Violation> {
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
    Ok((reason_code, properties))
}

pub(crate) fn body_len(
    reason_code: ReasonCode,
    properties: &Properties,
    version: ProtocolVersion,
) -> usize {
    if version != ProtocolVersion::V5
        || (reason_code == ReasonCode::Success && properties.is_empty())
    {
        return 0;
    }
    if properties.is_empty() {
        return 1;
    }
    let len = properties.len_on_wire();
    1 + variable_integer_len(len as u32) + len
}

pub(crate) fn encode_reason(
    packet: PacketType,
    reason_code: ReasonCode,
    properties: &Properties,
    version: ProtocolVersion,
    buf: &mut impl BufMut,
) {
    buf.put_u8(packet.as_u8() << 4);
    let body = body_len(reason_code, properties, version);
    put_variable_integer(buf, body as u32);
    if body >= 1 {
        buf.put_u8(reason_code.as_u8());
    }
    if body > 1 {
        properties.put(buf);
    }
}

/// A DISCONNECT: the end of a connection, with a reason in MQTT 5.0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disconnect {
    reason_code: ReasonCode,
    properties: Properties,
}

impl Disconnect {
    /// A DISCONNECT with this reason (Normal disconnection: [`ReasonCode::Success`]).
    ///
    /// # Errors
    /// [`Violation::ReasonCodeNotAllowed`] (field `reason_code`) outside the DISCONNECT
    /// table.
    pub fn new(reason_code: ReasonCode, properties: Properties) -> Result<Self, Error> {
        reason_code
            .in_table_of(PacketType::Disconnect)
            .map_err(|v| Error::invalid("reason_code", v))?;
        properties
            .check_context(PropertyContext::Packet(PacketType::Disconnect))
            .map_err(|v| Error::invalid("properties", v))?;
        Ok(Self {
            reason_code,
            properties,
        })
    }

    /// The reason code (Normal disconnection before 5.0).
    pub fn reason_code(&self) -> ReasonCode {
        self.reason_code
    }

    /// The properties (MQTT 5.0).
    pub fn properties(&self) -> &Properties {
        &self.properties
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
        let (reason_code, properties) = read_reason(PacketType::Disconnect, body, version, policy)?;
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
        Ok(Self {
            reason_code,
            properties,
        })
    }

    /// The Session Expiry Interval the DISCONNECT sets, if it sets one.
    pub fn session_expiry_interval(&self) -> Option<u32> {
        self.properties
            .get(PropertyId::SessionExpiryInterval)
            .and_then(|value| value.as_u32())
    }

    /// The encoded size, fixed header included.
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        let body = body_len(self.reason_code, &self.properties, version);
        1 + variable_integer_len(body as u32) + body
    }

    /// Writes the packet in its shortest form (§3.14.2.1).
    ///
    /// # Errors
    /// A validation error ([`Violation::NotInVersion`]) for a reason code other than
    /// Normal disconnection, or properties, before 5.0; nothing is written then.
    pub fn encode(&self, version: ProtocolVersion, buf: &mut impl BufMut) -> Result<(), Error> {
        encode_checked(self, version, buf)
    }
}

impl Encode for Disconnect {
    fn encoded_len(&self, version: ProtocolVersion) -> usize {
        Disconnect::encoded_len(self, version)
    }

    fn check_version(&self, version: ProtocolVersion) -> Result<(), Violation> {
        if version == ProtocolVersion::V5 {
            return self
                .properties
                .check_context(PropertyContext::Packet(PacketType::Disconnect));
        }
        if self.reason_code != ReasonCode::Success {
            return Err(Violation::NotInVersion {
                what: self.reason_code.name(),
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
        encode_reason(
            PacketType::Disconnect,
            self.reason_code,
            &self.properties,
            version,
            buf,
        );
    }
}
