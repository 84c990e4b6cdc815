//! The MQTT Control Packets: one type per packet in its own file, for 3.1, 3.1.1 and 5.0,
//! the [`Packet`] enum that holds any of them, and the wire format they share
//! (primitive types in [`wire`], the fixed header and framing, properties).
//!
//! Theory of operation: a packet is read from one complete frame (see [`frame`]) by
//! its type's `decode`, which reports the first rule the bytes break; the entry point
//! turns that [`Violation`] into a malformed-packet, protocol or refused-connection
//! error as the violation's row says. Writing computes the size first, refuses a field
//! the protocol version has no place for ([`Violation::NotInVersion`]) before writing
//! anything, and writes properties in ascending identifier order.

mod ack;
mod auth;
mod connack;
mod connect;
mod disconnect;
mod header;
mod ping;
pub mod properties;
mod publish;
mod reason;
mod suback;
mod subscribe;
mod unsuback;
mod unsubscribe;
pub mod wire;

use bytes::{BufMut, Bytes, BytesMut};

pub use ack::{AckProperties, Puback, Pubcomp, Pubrec, Pubrel};
pub use auth::Auth;
pub use connack::Connack;
pub use connect::Connect;
pub use disconnect::Disconnect;
pub use header::{FixedHeader, frame};
pub use properties::{Properties, PropertyValue};
pub use publish::Publish;
pub use suback::Suback;
pub use subscribe::Subscribe;
pub use unsuback::Unsuback;
pub use unsubscribe::Unsubscribe;

pub(crate) use header::read_frame;
// The Python `Publish` writes from its own objects through the one PUBLISH writer.
#[cfg(feature = "python")]
pub(crate) use publish::check_packet_id;

use crate::constants::protocol::MAX_PACKET_SIZE;
use crate::constants::{PacketType, ProtocolVersion, ReasonCode};
use crate::error::{Error, Side, Violation};
use crate::packet::wire::Utf8Policy;

/// Who sent a packet: what a broker reads comes from clients, what a client reads comes
/// from a server. Some packets and properties may only travel one way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Sent by a client, read by a server.
    #[default]
    FromClient,
    /// Sent by a server, read by a client.
    FromServer,
}

impl Direction {
    /// The side that sends what travels this way.
    pub fn sender(self) -> Side {
        match self {
            Self::FromClient => Side::Client,
            Self::FromServer => Side::Server,
        }
    }
}

/// Whether a packet type may be sent by the given side (§2.1.2, "Direction of flow").
///
/// # Examples
/// ```
/// use mqtt_common::packet::{Direction, sent_by};
/// use mqtt_common::PacketType;
/// assert!(!sent_by(PacketType::Connack, Direction::FromClient)); // CVE-2021-28166
/// assert!(sent_by(PacketType::Publish, Direction::FromClient));
/// ```
pub fn sent_by(packet: PacketType, direction: Direction) -> bool {
    use PacketType as P;
    match packet {
        P::Connect | P::Subscribe | P::Unsubscribe | P::Pingreq => {
            direction == Direction::FromClient
        }
        P::Connack | P::Suback | P::Unsuback | P::Pingresp => direction == Direction::FromServer,
        P::Publish | P::Puback | P::Pubrec | P::Pubrel | P::Pubcomp | P::Disconnect | P::Auth => {
            true
        }
    }
}

impl ReasonCode {
    /// This code, when it is in `packet`'s reason-code table.
    ///
    /// # Errors
    /// [`Violation::ReasonCodeNotAllowed`] otherwise.
    pub fn in_table_of(self, packet: PacketType) -> Result<Self, Violation> {
        if self.allowed_in(packet) {
            Ok(self)
        } else {
            Err(Violation::ReasonCodeNotAllowed { packet, code: self })
        }
    }
}

/// Any MQTT Control Packet.
///
/// CONNECT is boxed: it is by far the largest packet and comes once per connection, so
/// the packets that come at message rate move in under 100 bytes instead of 216.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Packet {
    /// CONNECT.
    Connect(Box<Connect>),
    /// CONNACK.
    Connack(Connack),
    /// PUBLISH.
    Publish(Publish),
    /// PUBACK.
    Puback(Puback),
    /// PUBREC.
    Pubrec(Pubrec),
    /// PUBREL.
    Pubrel(Pubrel),
    /// PUBCOMP.
    Pubcomp(Pubcomp),
    /// SUBSCRIBE.
    Subscribe(Subscribe),
    /// SUBACK.
    Suback(Suback),
    /// UNSUBSCRIBE.
    Unsubscribe(Unsubscribe),
    /// UNSUBACK.
    Unsuback(Unsuback),
    /// PINGREQ.
    Pingreq,
    /// PINGRESP.
    Pingresp,
    /// DISCONNECT.
    Disconnect(Disconnect),
    /// AUTH (MQTT 5.0).
    Auth(Auth),
}

impl Packet {
    /// The packet's type.
    pub fn packet_type(&self) -> PacketType {
        self.as_packet_ref().packet_type()
    }

    /// Decodes one framed packet body.
    ///
    /// # Errors
    /// The packet type's own errors (malformed packet, protocol error, refused
    /// connection).
    pub fn decode(
        header: &FixedHeader,
        body: Bytes,
        version: ProtocolVersion,
        direction: Direction,
        policy: Utf8Policy,
    ) -> Result<Self, Error> {
        Self::read(header, body, version, direction, policy).map_err(Error::received)
    }

    /// [`Packet::decode`], reporting the broken rule itself.
    pub(crate) fn read(
        header: &FixedHeader,
        body: Bytes,
        version: ProtocolVersion,
        direction: Direction,
        policy: Utf8Policy,
    ) -> Result<Self, Violation> {
        Ok(match header.packet_type {
            PacketType::Connect => Self::Connect(Box::new(Connect::read(header, body, policy)?)),
            PacketType::Connack => Self::Connack(Connack::read(header, body, version, policy)?),
            PacketType::Publish => {
                Self::Publish(Publish::read(header, body, version, direction, policy)?)
            }
            PacketType::Puback => Self::Puback(Puback::read(body, version, policy)?),
            PacketType::Pubrec => Self::Pubrec(Pubrec::read(body, version, policy)?),
            PacketType::Pubrel => Self::Pubrel(Pubrel::read(body, version, policy)?),
            PacketType::Pubcomp => Self::Pubcomp(Pubcomp::read(body, version, policy)?),
            PacketType::Subscribe => Self::Subscribe(Subscribe::read(body, version, policy)?),
            PacketType::Suback => Self::Suback(Suback::read(body, version, policy)?),
            PacketType::Unsubscribe => Self::Unsubscribe(Unsubscribe::read(body, version, policy)?),
            PacketType::Unsuback => Self::Unsuback(Unsuback::read(body, version, policy)?),
            PacketType::Pingreq => {
                ping::read(&body)?;
                Self::Pingreq
            }
            PacketType::Pingresp => {
                ping::read(&body)?;
                Self::Pingresp
            }
            PacketType::Disconnect => {
                Self::Disconnect(Disconnect::read(body, version, direction, policy)?)
            }
            PacketType::Auth => Self::Auth(Auth::read(body, policy)?),
        })
    }

    /// The packet, borrowed: what encoding needs.
    pub fn as_packet_ref(&self) -> PacketRef<'_> {
        match self {
            Self::Connect(p) => PacketRef::Connect(p),
            Self::Connack(p) => PacketRef::Connack(p),
            Self::Publish(p) => PacketRef::Publish(p),
            Self::Puback(p) => PacketRef::Puback(p),
            Self::Pubrec(p) => PacketRef::Pubrec(p),
            Self::Pubrel(p) => PacketRef::Pubrel(p),
            Self::Pubcomp(p) => PacketRef::Pubcomp(p),
            Self::Subscribe(p) => PacketRef::Subscribe(p),
            Self::Suback(p) => PacketRef::Suback(p),
            Self::Unsubscribe(p) => PacketRef::Unsubscribe(p),
            Self::Unsuback(p) => PacketRef::Unsuback(p),
            Self::Pingreq => PacketRef::Pingreq,
            Self::Pingresp => PacketRef::Pingresp,
            Self::Disconnect(p) => PacketRef::Disconnect(p),
            Self::Auth(p) => PacketRef::Auth(p),
        }
    }

    /// The encoded size, fixed header included.
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        self.as_packet_ref().encoded_len(version)
    }

    /// Writes the packet for `version`; see [`PacketRef::encode`].
    ///
    /// # Errors
    /// As [`PacketRef::encode`].
    pub fn encode(&self, version: ProtocolVersion, buf: &mut impl BufMut) -> Result<(), Error> {
        self.as_packet_ref().encode(version, buf)
    }
}

/// A packet, borrowed: [`Packet`] without ownership, so a packet that lives elsewhere
/// (inside a Python object, in a session's queue) is written without a clone.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum PacketRef<'a> {
    /// CONNECT.
    Connect(&'a Connect),
    /// CONNACK.
    Connack(&'a Connack),
    /// PUBLISH.
    Publish(&'a Publish),
    /// PUBACK.
    Puback(&'a Puback),
    /// PUBREC.
    Pubrec(&'a Pubrec),
    /// PUBREL.
    Pubrel(&'a Pubrel),
    /// PUBCOMP.
    Pubcomp(&'a Pubcomp),
    /// SUBSCRIBE.
    Subscribe(&'a Subscribe),
    /// SUBACK.
    Suback(&'a Suback),
    /// UNSUBSCRIBE.
    Unsubscribe(&'a Unsubscribe),
    /// UNSUBACK.
    Unsuback(&'a Unsuback),
    /// PINGREQ.
    Pingreq,
    /// PINGRESP.
    Pingresp,
    /// DISCONNECT.
    Disconnect(&'a Disconnect),
    /// AUTH (MQTT 5.0).
    Auth(&'a Auth),
}

/// What each packet type knows about writing itself.
pub(crate) trait Encode {
    /// The Remaining Length in `version`: the bytes after the fixed header.
    fn body_len(&self, version: ProtocolVersion) -> usize;

    /// The encoded size in `version`, fixed header included.
    fn encoded_len(&self, version: ProtocolVersion) -> usize {
        let body = self.body_len(version);
        1 + wire::variable_integer_len(body as u32) + body
    }

    /// Refuses a field that `version` has no place for, which writing would lose.
    fn check_version(&self, version: ProtocolVersion) -> Result<(), Violation>;

    /// The first byte of the fixed header: the packet type and its flags.
    fn first_byte(&self) -> u8;

    /// Writes what follows the fixed header, `body_len` bytes (as [`Encode::body_len`]
    /// gave them), once `check_version` accepted the fields.
    fn write_body(&self, version: ProtocolVersion, body_len: usize, buf: &mut impl BufMut);
}

/// Refuses `what`, when it is there, in a version before 5.0, which has no place for it.
pub(crate) fn only_in_v5(
    what: &'static str,
    present: bool,
    version: ProtocolVersion,
) -> Result<(), Violation> {
    if present && version != ProtocolVersion::V5 {
        return Err(Violation::NotInVersion { what, version });
    }
    Ok(())
}

/// The public `encoded_len` and `encode` of a packet type, from its [`Encode`] impl; the
/// doc comments given go on `encode`, after the common ones.
macro_rules! public_encoding {
    ($type:ty $(, $(#[$doc:meta])*)?) => {
        impl $type {
            /// The encoded size in `version`, fixed header included.
            pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
                <Self as crate::packet::Encode>::encoded_len(self, version)
            }

            /// Writes the packet for `version`, in its shortest form.
            $($(#[$doc])*)?
            ///
            /// # Errors
            /// A validation error, with nothing written, for a field `version` has no
            /// place for ([`Violation::NotInVersion`](crate::Violation::NotInVersion)), or
            /// a packet larger than MQTT can carry.
            pub fn encode(
                &self,
                version: ProtocolVersion,
                buf: &mut impl bytes::BufMut,
            ) -> Result<(), crate::Error> {
                crate::packet::encode_checked(self, version, buf)
            }
        }
    };
}

pub(crate) use public_encoding;

/// Writes a packet after checking its size and its fields against `version`.
pub(crate) fn encode_checked(
    packet: &impl Encode,
    version: ProtocolVersion,
    buf: &mut impl BufMut,
) -> Result<(), Error> {
    packet.check_version(version)?;
    let body_len = packet.body_len(version);
    check_encoded_size(1 + wire::variable_integer_len(body_len as u32) + body_len)?;
    buf.put_u8(packet.first_byte());
    wire::put_variable_integer(buf, body_len as u32);
    packet.write_body(version, body_len, buf);
    Ok(())
}

/// The bodiless packets.
struct Empty(PacketType);

impl Encode for Empty {
    fn body_len(&self, _: ProtocolVersion) -> usize {
        0
    }

    fn check_version(&self, _: ProtocolVersion) -> Result<(), Violation> {
        Ok(())
    }

    fn first_byte(&self) -> u8 {
        header::first_byte(self.0)
    }

    fn write_body(&self, _: ProtocolVersion, _: usize, _: &mut impl BufMut) {}
}

impl PacketRef<'_> {
    /// The packet's type.
    pub fn packet_type(&self) -> PacketType {
        match self {
            Self::Connect(_) => PacketType::Connect,
            Self::Connack(_) => PacketType::Connack,
            Self::Publish(_) => PacketType::Publish,
            Self::Puback(_) => PacketType::Puback,
            Self::Pubrec(_) => PacketType::Pubrec,
            Self::Pubrel(_) => PacketType::Pubrel,
            Self::Pubcomp(_) => PacketType::Pubcomp,
            Self::Subscribe(_) => PacketType::Subscribe,
            Self::Suback(_) => PacketType::Suback,
            Self::Unsubscribe(_) => PacketType::Unsubscribe,
            Self::Unsuback(_) => PacketType::Unsuback,
            Self::Pingreq => PacketType::Pingreq,
            Self::Pingresp => PacketType::Pingresp,
            Self::Disconnect(_) => PacketType::Disconnect,
            Self::Auth(_) => PacketType::Auth,
        }
    }

    /// The encoded size, fixed header included.
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        match self {
            Self::Connect(p) => p.encoded_len(),
            Self::Connack(p) => p.encoded_len(version),
            Self::Publish(p) => p.encoded_len(version),
            Self::Puback(p) => p.encoded_len(version),
            Self::Pubrec(p) => p.encoded_len(version),
            Self::Pubrel(p) => p.encoded_len(version),
            Self::Pubcomp(p) => p.encoded_len(version),
            Self::Subscribe(p) => p.encoded_len(version),
            Self::Suback(p) => p.encoded_len(version),
            Self::Unsubscribe(p) => p.encoded_len(version),
            Self::Unsuback(p) => p.encoded_len(version),
            Self::Pingreq | Self::Pingresp => 2,
            Self::Disconnect(p) => p.encoded_len(version),
            Self::Auth(p) => p.encoded_len(version),
        }
    }

    /// Writes the packet for `version` (a CONNECT always in its own).
    ///
    /// A 5.0 PUBLISH forwarded to a 3.1.1 client loses its properties, as 3.1.1 has no
    /// place for them: that is the one conversion encoding makes. Any other field the
    /// version cannot carry (a reason code other than Success, properties of another
    /// packet, 5.0 subscription options, AUTH) is refused.
    ///
    /// # Errors
    /// A validation error: [`Violation::PacketTooLarge`] past the largest packet MQTT can
    /// carry; [`Violation::NotInVersion`] for a field the version cannot carry;
    /// [`Violation::ReservedPacketType`] for AUTH before 5.0;
    /// [`Violation::TopicAliasUnresolved`] for a PUBLISH named only by a Topic Alias
    /// before 5.0. Nothing is written then.
    pub fn encode(&self, version: ProtocolVersion, buf: &mut impl BufMut) -> Result<(), Error> {
        match self {
            Self::Connect(p) => p.encode(buf),
            Self::Connack(p) => encode_checked(*p, version, buf),
            Self::Publish(p) => encode_checked(*p, version, buf),
            Self::Puback(p) => encode_checked(*p, version, buf),
            Self::Pubrec(p) => encode_checked(*p, version, buf),
            Self::Pubrel(p) => encode_checked(*p, version, buf),
            Self::Pubcomp(p) => encode_checked(*p, version, buf),
            Self::Subscribe(p) => encode_checked(*p, version, buf),
            Self::Suback(p) => encode_checked(*p, version, buf),
            Self::Unsubscribe(p) => encode_checked(*p, version, buf),
            Self::Unsuback(p) => encode_checked(*p, version, buf),
            Self::Pingreq => encode_checked(&Empty(PacketType::Pingreq), version, buf),
            Self::Pingresp => encode_checked(&Empty(PacketType::Pingresp), version, buf),
            Self::Disconnect(p) => encode_checked(*p, version, buf),
            Self::Auth(p) => encode_checked(*p, version, buf),
        }
    }
}

/// No packet may be larger than a Remaining Length can say.
pub(crate) fn check_encoded_size(size: usize) -> Result<(), Error> {
    if size > MAX_PACKET_SIZE as usize {
        return Err(Error::invalid(
            "packet",
            Violation::PacketTooLarge {
                size: size as u64,
                max: MAX_PACKET_SIZE,
            },
        ));
    }
    Ok(())
}

/// Writes one packet into a new buffer.
///
/// # Errors
/// As [`PacketRef::encode`].
///
/// # Examples
/// ```
/// use mqtt_common::packet::{Packet, encode};
/// use mqtt_common::ProtocolVersion;
/// assert_eq!(&encode(&Packet::Pingreq, ProtocolVersion::V5)?[..], b"\xc0\x00");
/// # Ok::<(), mqtt_common::Error>(())
/// ```
pub fn encode(packet: &Packet, version: ProtocolVersion) -> Result<Bytes, Error> {
    let mut buf = BytesMut::with_capacity(packet.encoded_len(version));
    packet.encode(version, &mut buf)?;
    Ok(buf.freeze())
}

/// Decodes exactly one complete packet sent the way `direction` says.
///
/// # Errors
/// As the streaming decoder's `next_packet`; incomplete input or bytes after the packet
/// are a malformed packet here, since nothing more will come.
pub fn decode(
    data: Bytes,
    version: ProtocolVersion,
    direction: Direction,
) -> Result<Packet, Error> {
    read_one(data, version, direction).map_err(Error::received)
}

fn read_one(
    data: Bytes,
    version: ProtocolVersion,
    direction: Direction,
) -> Result<Packet, Violation> {
    let Some(header) = read_frame(&data, Some(version), MAX_PACKET_SIZE)? else {
        return Err(Violation::IncompletePacket { len: data.len() });
    };
    if data.len() != header.packet_len() {
        return Err(Violation::TrailingBytes {
            what: "packet",
            len: data.len() - header.packet_len(),
        });
    }
    if !sent_by(header.packet_type, direction) {
        return Err(Violation::PacketFromWrongSide {
            packet: header.packet_type,
            sender: direction.sender(),
        });
    }
    Packet::read(
        &header,
        data.slice(header.header_len..),
        version,
        direction,
        Utf8Policy::Strict,
    )
}
