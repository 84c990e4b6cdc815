//! The packet enum and the sans-I/O [`Decoder`]: bytes in, packets out, no sockets.
//!
//! Theory of operation: [`Decoder::feed`] only buffers. [`Decoder::next_packet`] frames
//! the buffer (the fixed header and the size limit are checked before a body is waited
//! for), splits the frame off without copying, and decodes it for the protocol version
//! and direction. "Need more bytes" is `Ok(None)`, and only the framer says it: a field
//! that runs past its frame is a malformed packet. After an error the decoder is
//! poisoned and repeats that error, as the connection must be closed.

use std::collections::HashMap;

use bytes::{BufMut, Bytes, BytesMut};

use crate::constants::protocol::MAX_PACKET_SIZE;
use crate::constants::{PacketType, PropertyId, ProtocolVersion};
use crate::error::{Error, Violation};
use crate::packet::wire::Utf8Policy;
use crate::packet::{
    Auth, Connack, Connect, Direction, Disconnect, FixedHeader, Puback, Pubcomp, Publish, Pubrec,
    Pubrel, Suback, Subscribe, Unsuback, Unsubscribe, decode_empty, frame,
};
use crate::topic::TopicName;

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

/// Whether a packet type may be sent by the given side (§2.1.2, "Direction of flow").
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

impl Packet {
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

    /// Decodes one framed packet body.
    ///
    /// # Errors
    /// The packet type's own errors ([`Error::MalformedPacket`], [`Error::Protocol`],
    /// [`Error::Connect`]).
    pub fn decode(
        header: &FixedHeader,
        body: Bytes,
        version: ProtocolVersion,
        direction: Direction,
        policy: Utf8Policy,
    ) -> Result<Self, Error> {
        Ok(match header.packet_type {
            PacketType::Connect => Self::Connect(Box::new(Connect::decode(header, body, policy)?)),
            PacketType::Connack => Self::Connack(Connack::decode(header, body, version, policy)?),
            PacketType::Publish => {
                Self::Publish(Publish::decode(header, body, version, direction, policy)?)
            }
            PacketType::Puback => Self::Puback(Puback::decode(header, body, version, policy)?),
            PacketType::Pubrec => Self::Pubrec(Pubrec::decode(header, body, version, policy)?),
            PacketType::Pubrel => Self::Pubrel(Pubrel::decode(header, body, version, policy)?),
            PacketType::Pubcomp => Self::Pubcomp(Pubcomp::decode(header, body, version, policy)?),
            PacketType::Subscribe => {
                Self::Subscribe(Subscribe::decode(header, body, version, policy)?)
            }
            PacketType::Suback => Self::Suback(Suback::decode(header, body, version, policy)?),
            PacketType::Unsubscribe => {
                Self::Unsubscribe(Unsubscribe::decode(header, body, version, policy)?)
            }
            PacketType::Unsuback => {
                Self::Unsuback(Unsuback::decode(header, body, version, policy)?)
            }
            PacketType::Pingreq => {
                decode_empty(&body)?;
                Self::Pingreq
            }
            PacketType::Pingresp => {
                decode_empty(&body)?;
                Self::Pingresp
            }
            PacketType::Disconnect => Self::Disconnect(Disconnect::decode(
                header, body, version, direction, policy,
            )?),
            PacketType::Auth => Self::Auth(Auth::decode(header, body, policy)?),
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

    /// Writes the packet for `version` (a CONNECT always in its own).
    ///
    /// # Errors
    /// As [`PacketRef::encode`]. Nothing is written then.
    pub fn encode(&self, version: ProtocolVersion, buf: &mut impl BufMut) -> Result<(), Error> {
        self.as_packet_ref().encode(version, buf)
    }
}

/// A borrowed [`Packet`]: a packet that lives elsewhere (in a queue, in a Python object)
/// is written without being cloned into the enum first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

impl PacketRef<'_> {
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
            Self::Auth(p) => p.encoded_len(),
        }
    }

    /// Writes the packet for `version` (a CONNECT always in its own).
    ///
    /// # Errors
    /// [`Violation::PacketTooLarge`] (field `packet`) when it would exceed the largest
    /// packet MQTT can carry; [`Violation::ReservedPacketType`] for AUTH before 5.0;
    /// [`Violation::EmptyTopicWithoutAlias`] (field `topic`) for a PUBLISH named only by a
    /// Topic Alias before 5.0. Nothing is written then.
    pub fn encode(&self, version: ProtocolVersion, buf: &mut impl BufMut) -> Result<(), Error> {
        check_encoded_size(self.encoded_len(version))?;
        match self {
            Self::Connect(p) => p.encode(buf),
            Self::Connack(p) => p.encode(version, buf),
            // Before 5.0 there are no aliases: the topic must be on the wire.
            Self::Publish(p) if p.topic().is_none() && version != ProtocolVersion::V5 => {
                return Err(Error::invalid("topic", Violation::EmptyTopicWithoutAlias));
            }
            Self::Publish(p) => p.encode(version, buf),
            Self::Puback(p) => p.encode(version, buf),
            Self::Pubrec(p) => p.encode(version, buf),
            Self::Pubrel(p) => p.encode(version, buf),
            Self::Pubcomp(p) => p.encode(version, buf),
            Self::Subscribe(p) => p.encode(version, buf),
            Self::Suback(p) => p.encode(version, buf),
            Self::Unsubscribe(p) => p.encode(version, buf),
            Self::Unsuback(p) => p.encode(version, buf),
            Self::Pingreq => buf.put_slice(&[PacketType::Pingreq.as_u8() << 4, 0]),
            Self::Pingresp => buf.put_slice(&[PacketType::Pingresp.as_u8() << 4, 0]),
            Self::Disconnect(p) => p.encode(version, buf),
            Self::Auth(p) if version == ProtocolVersion::V5 => p.encode(buf),
            Self::Auth(_) => {
                return Err(Error::invalid(
                    "packet",
                    Violation::ReservedPacketType { value: 15 },
                ));
            }
        }
        Ok(())
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
/// As [`Packet::encode`].
pub fn encode(packet: &Packet, version: ProtocolVersion) -> Result<Bytes, Error> {
    let mut buf = BytesMut::with_capacity(packet.encoded_len(version));
    packet.encode(version, &mut buf)?;
    Ok(buf.freeze())
}

/// Decodes exactly one complete packet.
///
/// # Errors
/// As [`Decoder::next_packet`]; incomplete input or bytes after the packet are a
/// [`Error::MalformedPacket`] here, since nothing more will come.
pub fn decode(
    data: Bytes,
    version: ProtocolVersion,
    direction: Direction,
) -> Result<Packet, Error> {
    let Some(header) = frame(&data, Some(version), MAX_PACKET_SIZE)? else {
        return Err(Error::MalformedPacket(Violation::Truncated {
            what: "packet",
        }));
    };
    if data.len() != header.packet_len() {
        return Err(Error::MalformedPacket(Violation::TrailingBytes {
            what: "packet",
            len: data.len() - header.packet_len(),
        }));
    }
    if !sent_by(header.packet_type, direction) {
        return Err(unexpected(header.packet_type, direction));
    }
    Packet::decode(
        &header,
        data.slice(header.header_len..),
        version,
        direction,
        Utf8Policy::Strict,
    )
}

fn unexpected(packet: PacketType, direction: Direction) -> Error {
    let why = match direction {
        Direction::FromClient => "only a server sends it",
        Direction::FromServer => "only a client sends it",
    };
    Error::Protocol(Violation::UnexpectedPacket {
        packet,
        why,
        spec_ref: "§2.1.2",
    })
}

impl Decoder {
    /// Checks a PUBLISH's Topic Alias against the maximum, records a new mapping, or
    /// resolves an empty topic through an existing one.
    fn apply_alias(&mut self, publish: &mut Publish) -> Result<(), Error> {
        let Some(alias) = publish.properties().topic_alias.map(|a| a.get()) else {
            return Ok(());
        };
        if alias > self.topic_alias_maximum {
            return Err(Error::Protocol(Violation::TopicAliasTooLarge {
                alias,
                maximum: self.topic_alias_maximum,
            }));
        }
        match publish.topic() {
            Some(topic) => {
                self.aliases.insert(alias, topic.clone());
            }
            None => {
                let topic = self
                    .aliases
                    .get(&alias)
                    .cloned()
                    .ok_or(Error::Protocol(Violation::UnknownTopicAlias { alias }))?;
                publish.resolve_topic(topic);
            }
        }
        Ok(())
    }
}

/// The default maximum packet size of a [`Decoder`]: 1 MiB.
pub const DEFAULT_MAX_PACKET_SIZE: u32 = 1 << 20;

/// A sans-I/O streaming decoder for one connection.
///
/// # Examples
/// ```
/// use mqtt_common::codec::{Decoder, Packet};
/// use mqtt_common::packet::Direction;
/// let mut decoder = Decoder::new(Direction::FromClient);
/// // A CONNECT (3.1.1, client "c"), then half a PINGREQ.
/// decoder.feed(b"\x10\x0D\x00\x04MQTT\x04\x02\x00\x3C\x00\x01c\xC0");
/// assert!(matches!(decoder.next_packet()?, Some(Packet::Connect(_))));
/// assert_eq!(decoder.next_packet()?, None); // need more bytes
/// decoder.feed(b"\x00");
/// assert_eq!(decoder.next_packet()?, Some(Packet::Pingreq));
/// # Ok::<(), mqtt_common::Error>(())
/// ```
#[derive(Debug)]
pub struct Decoder {
    /// Topic names by Topic Alias, for this connection only ([MQTT-3.3.2-7]).
    aliases: HashMap<u16, TopicName>,
    topic_alias_maximum: u16,
    buffer: BytesMut,
    /// Bytes given to [`Decoder::feed_bytes`] and not decoded yet, kept without a copy.
    /// At most one of `chunk` and `buffer` holds anything.
    chunk: Bytes,
    version: Option<ProtocolVersion>,
    direction: Direction,
    max_packet_size: u32,
    policy: Utf8Policy,
    seen_connect: bool,
    /// CONNECT named an Authentication Method and no CONNACK has been sent yet.
    authenticating: bool,
    failed: Option<Error>,
}

impl Decoder {
    /// A decoder for what one side sends, learning the protocol version from CONNECT,
    /// with the default maximum packet size and the strict UTF-8 policy.
    pub fn new(direction: Direction) -> Self {
        Self {
            aliases: HashMap::new(),
            topic_alias_maximum: 0,
            buffer: BytesMut::new(),
            chunk: Bytes::new(),
            version: None,
            direction,
            max_packet_size: DEFAULT_MAX_PACKET_SIZE,
            policy: Utf8Policy::Strict,
            seen_connect: false,
            authenticating: false,
            failed: None,
        }
    }

    /// Fixes the protocol version (a client knows the one it asked for).
    pub fn with_version(mut self, version: ProtocolVersion) -> Self {
        self.version = Some(version);
        self
    }

    /// Sets the largest packet accepted, fixed header included.
    pub fn with_max_packet_size(mut self, max_packet_size: u32) -> Self {
        self.max_packet_size = max_packet_size;
        self
    }

    /// Sets the Topic Alias Maximum this side declared (in CONNACK for a server, in
    /// CONNECT for a client): the highest alias it accepts. The default is 0: no aliases
    /// (§3.2.2.3.8).
    pub fn with_topic_alias_maximum(mut self, maximum: u16) -> Self {
        self.topic_alias_maximum = maximum;
        self
    }

    /// Sets the policy for control characters in strings.
    pub fn with_utf8_policy(mut self, policy: Utf8Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The protocol version, once known.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.version
    }

    /// Tells a server-side decoder that the CONNACK has been sent, which ends an
    /// enhanced authentication exchange.
    ///
    /// After a CONNECT with an Authentication Method the client may send only AUTH
    /// and DISCONNECT until it receives the CONNACK [MQTT-3.1.2-33]; the decoder cannot
    /// see what the server sends, so the server says so here. Without an
    /// Authentication Method, and for a client-side decoder, this changes nothing.
    pub fn connack_sent(&mut self) {
        self.authenticating = false;
    }

    /// Whether the decoder is inside an enhanced authentication exchange: CONNECT
    /// named an Authentication Method and [`connack_sent`](Self::connack_sent) has
    /// not been called yet.
    pub fn is_authenticating(&self) -> bool {
        self.authenticating
    }

    /// Bytes buffered and not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buffer.len() + self.chunk.len()
    }

    /// Buffers bytes as they arrive; [`next_packet`](Self::next_packet) decodes them.
    pub fn feed(&mut self, data: &[u8]) {
        if self.failed.is_none() {
            self.move_chunk_to_buffer();
            self.buffer.extend_from_slice(data);
        }
    }

    /// As [`feed`](Self::feed), for bytes the caller owns: when nothing is buffered,
    /// the packets decoded from them are slices of `data`, not copies (only an
    /// incomplete packet left at the end is copied, once more bytes arrive).
    pub fn feed_bytes(&mut self, data: Bytes) {
        if self.failed.is_some() {
            return;
        }
        if self.buffer.is_empty() && self.chunk.is_empty() {
            self.chunk = data;
        } else {
            self.move_chunk_to_buffer();
            self.buffer.extend_from_slice(&data);
        }
    }

    fn move_chunk_to_buffer(&mut self) {
        if !self.chunk.is_empty() {
            self.buffer
                .extend_from_slice(&std::mem::take(&mut self.chunk));
        }
    }

    /// The next complete packet, `Ok(None)` until enough bytes have arrived.
    ///
    /// # Errors
    /// Any decoding error ([`Error::MalformedPacket`], [`Error::Protocol`] — a packet the
    /// sender may not send, a packet before CONNECT or a second CONNECT, a packet over the
    /// maximum size — or [`Error::Connect`]). The decoder then keeps failing the same way.
    pub fn next_packet(&mut self) -> Result<Option<Packet>, Error> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let result = self.decode_next();
        if let Err(err) = &result {
            self.failed = Some(err.clone());
            self.buffer = BytesMut::new();
            self.chunk = Bytes::new();
        }
        result
    }

    fn decode_next(&mut self) -> Result<Option<Packet>, Error> {
        let pending = if self.chunk.is_empty() {
            &self.buffer[..]
        } else {
            &self.chunk[..]
        };
        let Some(header) = frame(pending, self.version, self.max_packet_size)? else {
            return Ok(None);
        };
        let packet_type = header.packet_type;
        if !sent_by(packet_type, self.direction) {
            return Err(unexpected(packet_type, self.direction));
        }
        if self.direction == Direction::FromClient {
            let is_connect = packet_type == PacketType::Connect;
            if !self.seen_connect && !is_connect {
                return Err(Error::Protocol(Violation::UnexpectedPacket {
                    packet: packet_type,
                    why: "the first packet must be CONNECT",
                    spec_ref: "MQTT-3.1.0-1",
                }));
            }
            if self.seen_connect && is_connect {
                return Err(Error::Protocol(Violation::UnexpectedPacket {
                    packet: packet_type,
                    why: "a second CONNECT",
                    spec_ref: "MQTT-3.1.0-2",
                }));
            }
            let auth_exchange = matches!(packet_type, PacketType::Auth | PacketType::Disconnect);
            if self.authenticating && !auth_exchange {
                return Err(Error::Protocol(Violation::UnexpectedPacket {
                    packet: packet_type,
                    why: "only AUTH or DISCONNECT may follow a CONNECT with an Authentication Method until CONNACK",
                    spec_ref: "MQTT-3.1.2-33",
                }));
            }
        }
        let frame_bytes = if self.chunk.is_empty() {
            self.buffer.split_to(header.packet_len()).freeze()
        } else {
            self.chunk.split_to(header.packet_len())
        };
        let body = frame_bytes.slice(header.header_len..);
        let Some(version) = self
            .version
            .or((packet_type == PacketType::Connect).then_some(ProtocolVersion::V5))
        else {
            return Err(Error::Protocol(Violation::UnexpectedPacket {
                packet: packet_type,
                why: "the protocol version is not known yet",
                spec_ref: "§3.1.2.2",
            }));
        };
        let mut packet = Packet::decode(&header, body, version, self.direction, self.policy)?;
        if let Packet::Publish(publish) = &mut packet {
            self.apply_alias(publish)?;
        }
        if let Packet::Connect(connect) = &packet {
            self.seen_connect = true;
            self.version = Some(connect.protocol_version);
            self.authenticating = connect
                .properties
                .get(PropertyId::AuthenticationMethod)
                .is_some();
        }
        Ok(Some(packet))
    }
}
