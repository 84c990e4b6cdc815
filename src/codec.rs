//! The sans-I/O [`Decoder`]: bytes in, packets out, no sockets.
//!
//! Theory of operation: [`Decoder::feed`] only buffers. [`Decoder::next_packet`] frames
//! the buffer (the fixed header and the size limit are checked before a body is waited
//! for), splits the frame off without copying, and decodes it for the protocol version
//! and direction. "Need more bytes" is `Ok(None)`, and only the framer says it: a field
//! that runs past its frame is a malformed packet. The rules that span packets of one
//! connection live here too (CONNECT first and once, enhanced authentication, Topic
//! Aliases, the Session Expiry Interval of DISCONNECT). After an error the decoder is
//! poisoned and repeats that error, as the connection must be closed.
//!
//! The packet types, [`Packet`] and the one-shot [`encode`] and [`decode`] live in
//! [`crate::packet`]; they are re-exported here, where codec users look for them.

use std::collections::BTreeMap;

use bytes::{Bytes, BytesMut};

pub use crate::packet::{Packet, PacketRef, decode, encode};

use crate::constants::protocol::MAX_PACKET_SIZE;
use crate::constants::{PacketType, PropertyId, ProtocolVersion};
use crate::detach::Detach;
use crate::error::{Error, Violation};
use crate::packet::wire::Utf8Policy;
use crate::packet::{Direction, Publish, read_frame, sent_by};
use crate::topic::TopicName;

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
    /// A BTreeMap: empty, it costs half a HashMap (most connections use no aliases).
    aliases: BTreeMap<u16, TopicName>,
    topic_alias_maximum: u16,
    buffer: BytesMut,
    /// Bytes given to [`Decoder::feed_bytes`] and not decoded yet, kept without a copy.
    /// At most one of `chunk` and `buffer` holds anything.
    chunk: Bytes,
    version: Option<ProtocolVersion>,
    direction: Direction,
    max_packet_size: u32,
    policy: Utf8Policy,
    /// What the client's CONNECT said, once it has arrived (server side).
    connect: Option<ConnectFacts>,
    /// CONNECT named an Authentication Method and no CONNACK has been sent yet.
    authenticating: bool,
    failed: Option<Error>,
}

/// What later packets of the connection are judged by.
#[derive(Debug, Clone, Copy)]
struct ConnectFacts {
    /// CONNECT named an Authentication Method: AUTH may follow ([MQTT-4.12.0-7]).
    authentication_method: bool,
    /// CONNECT's Session Expiry Interval was 0 (or absent): a DISCONNECT may not raise it
    /// (§3.14.2.2.2).
    session_expiry_zero: bool,
}

impl Decoder {
    /// A decoder for what one side sends, learning the protocol version from CONNECT,
    /// with the default maximum packet size and the strict UTF-8 policy.
    pub fn new(direction: Direction) -> Self {
        Self {
            aliases: BTreeMap::new(),
            topic_alias_maximum: 0,
            buffer: BytesMut::new(),
            chunk: Bytes::new(),
            version: None,
            direction,
            max_packet_size: DEFAULT_MAX_PACKET_SIZE,
            policy: Utf8Policy::Strict,
            connect: None,
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

    /// Accepts every packet MQTT can frame: a Maximum Packet Size of 268,435,460 bytes.
    pub fn without_max_packet_size(self) -> Self {
        self.with_max_packet_size(MAX_PACKET_SIZE)
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

    /// The largest packet accepted, fixed header included.
    pub fn max_packet_size(&self) -> u32 {
        self.max_packet_size
    }

    /// The Topic Alias Maximum this side declared.
    pub fn topic_alias_maximum(&self) -> u16 {
        self.topic_alias_maximum
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

    /// Whether the decoder has failed: every later call repeats the error.
    pub fn is_failed(&self) -> bool {
        self.failed.is_some()
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
    /// Any decoding error (a malformed packet; a protocol error: a packet the sender may
    /// not send, a packet before CONNECT or a second CONNECT, a packet over the maximum
    /// size; or a refused connection). The decoder then keeps failing the same way.
    pub fn next_packet(&mut self) -> Result<Option<Packet>, Error> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        match self.decode_next() {
            Ok(packet) => Ok(packet),
            Err(violation) => {
                let err = Error::received(violation);
                self.failed = Some(err.clone());
                self.buffer = BytesMut::new();
                self.chunk = Bytes::new();
                Err(err)
            }
        }
    }

    fn decode_next(&mut self) -> Result<Option<Packet>, Violation> {
        let pending = if self.chunk.is_empty() {
            &self.buffer[..]
        } else {
            &self.chunk[..]
        };
        let Some(header) = read_frame(pending, self.version, self.max_packet_size)? else {
            return Ok(None);
        };
        let packet_type = header.packet_type;
        if !sent_by(packet_type, self.direction) {
            return Err(Violation::PacketFromWrongSide {
                packet: packet_type,
                sender: self.direction.sender(),
            });
        }
        if self.direction == Direction::FromClient {
            self.check_sequence(packet_type)?;
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
            return Err(Violation::VersionUnknown {
                packet: packet_type,
            });
        };
        let mut packet = Packet::read(&header, body, version, self.direction, self.policy)?;
        match &mut packet {
            Packet::Publish(publish) => self.apply_alias(publish)?,
            Packet::Connect(connect) => {
                let session_expiry = connect
                    .properties
                    .get(PropertyId::SessionExpiryInterval)
                    .and_then(|value| value.as_u32());
                let facts = ConnectFacts {
                    authentication_method: connect
                        .properties
                        .get(PropertyId::AuthenticationMethod)
                        .is_some(),
                    session_expiry_zero: session_expiry.unwrap_or(0) == 0,
                };
                self.version = Some(connect.protocol_version);
                self.authenticating = facts.authentication_method;
                self.connect = Some(facts);
            }
            Packet::Disconnect(disconnect) if self.direction == Direction::FromClient => {
                let raised = disconnect.session_expiry_interval().filter(|&i| i != 0);
                if let (Some(interval), Some(facts)) = (raised, self.connect)
                    && facts.session_expiry_zero
                {
                    return Err(Violation::SessionExpiryAfterZero { interval });
                }
            }
            _ => {}
        }
        Ok(Some(packet))
    }

    /// The rules of a client's packet sequence: CONNECT first and once
    /// ([MQTT-3.1.0-1], [MQTT-3.1.0-2]); only AUTH and DISCONNECT while an enhanced
    /// authentication exchange runs ([MQTT-3.1.2-33]); AUTH only after a CONNECT with an
    /// Authentication Method ([MQTT-4.12.0-7]).
    fn check_sequence(&self, packet: PacketType) -> Result<(), Violation> {
        let Some(facts) = self.connect else {
            if packet != PacketType::Connect {
                return Err(Violation::FirstPacketNotConnect { packet });
            }
            return Ok(());
        };
        match packet {
            PacketType::Connect => Err(Violation::SecondConnect),
            PacketType::Auth if !facts.authentication_method => Err(Violation::AuthWithoutMethod),
            PacketType::Auth | PacketType::Disconnect => Ok(()),
            _ if self.authenticating => Err(Violation::PacketDuringAuthentication { packet }),
            _ => Ok(()),
        }
    }

    /// Checks a PUBLISH's Topic Alias against the maximum, records a new mapping, or
    /// resolves an empty topic through an existing one.
    fn apply_alias(&mut self, publish: &mut Publish) -> Result<(), Violation> {
        let Some(alias) = publish.properties().topic_alias.map(|a| a.get()) else {
            return Ok(());
        };
        if alias > self.topic_alias_maximum {
            return Err(Violation::TopicAliasTooLarge {
                alias,
                maximum: self.topic_alias_maximum,
            });
        }
        match publish.topic() {
            Some(topic) => {
                // Kept while the alias lives: its own memory, not a slice of the read.
                self.aliases.insert(alias, topic.detached());
            }
            None => {
                let topic = self
                    .aliases
                    .get(&alias)
                    .cloned()
                    .ok_or(Violation::UnknownTopicAlias { alias })?;
                publish.resolve_topic(topic);
            }
        }
        Ok(())
    }
}
