//! PUBLISH (MQTT 5.0 §3.3, 3.1.1 §3.3): an application message on the wire.

use bytes::{BufMut, Bytes};

use crate::constants::{PacketType, PropertyContext, ProtocolVersion, QoS};
use crate::error::{Error, Violation};
use crate::message::{Message, MessageParts, NO_PROPERTIES};
use crate::packet::header::FixedHeader;
use crate::packet::properties::{Properties, publish_properties_len, put_publish_properties};
use crate::packet::wire::{
    Reader, Utf8Policy, put_binary, put_variable_integer, variable_integer_len,
};
use crate::packet_id::PacketId;
use crate::properties::{PublishProperties, TopicAlias};
use crate::topic::TopicName;

/// A model check failed while decoding: the bytes are a malformed packet.
pub(crate) fn malformed(err: Error) -> Error {
    match err {
        Error::Validation { violation, .. } => Error::MalformedPacket(violation),
        other => other,
    }
}

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

/// A PUBLISH packet. Valid by construction: a packet identifier exactly when QoS > 0,
/// DUP only then, and an empty topic only with a Topic Alias (MQTT 5.0).
///
/// # Examples
/// ```
/// use bytes::BytesMut;
/// use mqtt_common::packet::{Direction, Publish};
/// use mqtt_common::{Message, PacketId, ProtocolVersion, QoS, TopicName};
/// let message = Message::builder(TopicName::new("a/b")?)
///     .payload("hi")
///     .qos(QoS::AtLeastOnce)
///     .message_id(Some(PacketId::new(10)?))
///     .build()?;
/// let publish = Publish::from_message(&message)?;
/// let mut buf = BytesMut::new();
/// publish.encode(ProtocolVersion::V311, &mut buf);
/// assert_eq!(&buf[..], b"\x32\x09\x00\x03a/b\x00\x0ahi");
/// # Ok::<(), mqtt_common::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    dup: bool,
    qos: QoS,
    retain: bool,
    topic: Option<TopicName>,
    packet_id: Option<PacketId>,
    // Boxed and absent when empty, as in `Message`: most packets have none, and the
    // packet then stays small to move around.
    properties: Option<Box<PublishProperties>>,
    payload: Bytes,
}

impl Publish {
    /// The PUBLISH that carries a message. A QoS 1 or 2 message must have its packet
    /// identifier by now (see [`crate::Session::send_publish`]).
    ///
    /// # Errors
    /// [`Violation::PacketIdMissing`] (field `message_id`) for a QoS 1 or 2 message
    /// without a packet identifier.
    pub fn from_message(message: &Message) -> Result<Self, Error> {
        Self::try_from(message.clone())
    }

    /// The message this PUBLISH carries; `None` when its topic is given only by a Topic
    /// Alias, which the receiver resolves first.
    ///
    /// # Errors
    /// None in practice: the packet's own checks are the message's.
    pub fn to_message(&self) -> Result<Option<Message>, Error> {
        let Some(topic) = &self.topic else {
            return Ok(None);
        };
        Message::from_parts(MessageParts {
            topic: topic.clone(),
            payload: self.payload.clone(),
            qos: self.qos,
            retain: self.retain,
            dup: self.dup,
            message_id: self.packet_id,
            properties: self.properties.clone(),
        })
        .map(Some)
    }

    /// Sets the topic that a Topic Alias stood for (the decoder resolves aliases).
    pub(crate) fn resolve_topic(&mut self, topic: TopicName) {
        self.topic = Some(topic);
    }

    /// This PUBLISH with a Topic Alias (MQTT 5.0, §3.3.2.3.4), the topic still sent: the
    /// receiver maps the alias to it. Up to the receiver's Topic Alias Maximum, which is
    /// the sender's to keep to.
    ///
    /// # Examples
    /// ```
    /// use mqtt_common::packet::Publish;
    /// use mqtt_common::{Message, TopicAlias, TopicName};
    /// let message = Message::new(TopicName::new("site/42/temperature")?, "21.5")?;
    /// let first = Publish::try_from(message)?.with_topic_alias(TopicAlias::new(1)?);
    /// let later = first.clone().without_topic()?; // the alias alone names the topic
    /// assert_eq!(later.topic(), None);
    /// # Ok::<(), mqtt_common::Error>(())
    /// ```
    pub fn with_topic_alias(mut self, alias: TopicAlias) -> Self {
        self.properties.get_or_insert_default().topic_alias = Some(alias);
        self
    }

    /// This PUBLISH without its topic, named by its Topic Alias alone (MQTT 5.0): for a
    /// receiver that already maps the alias. Such a packet cannot be encoded before 5.0.
    ///
    /// # Errors
    /// [`Violation::EmptyTopicWithoutAlias`] (field `topic`) when it has no Topic Alias.
    pub fn without_topic(mut self) -> Result<Self, Error> {
        if self.properties().topic_alias.is_none() {
            return Err(Error::invalid("topic", Violation::EmptyTopicWithoutAlias));
        }
        self.topic = None;
        Ok(self)
    }

    /// The topic name; `None` when a Topic Alias stands for it.
    pub fn topic(&self) -> Option<&TopicName> {
        self.topic.as_ref()
    }

    /// The QoS level.
    pub fn qos(&self) -> QoS {
        self.qos
    }

    /// The DUP flag.
    pub fn dup(&self) -> bool {
        self.dup
    }

    /// The RETAIN flag.
    pub fn retain(&self) -> bool {
        self.retain
    }

    /// The packet identifier (QoS 1 and 2).
    pub fn packet_id(&self) -> Option<PacketId> {
        self.packet_id
    }

    /// The MQTT 5.0 properties.
    pub fn properties(&self) -> &PublishProperties {
        self.properties.as_deref().unwrap_or(&NO_PROPERTIES)
    }

    /// The payload: a slice of the decoded frame, never a copy.
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// Decodes the body of a PUBLISH whose fixed header [`crate::packet::frame`] checked.
    ///
    /// # Errors
    /// [`Error::MalformedPacket`] for a truncated field or an invalid topic name
    /// (invalid UTF-8, U+0000, wildcards); [`Error::Protocol`] for packet identifier 0
    /// ([MQTT-2.2.1-3]), an empty topic without a Topic Alias ([MQTT-4.7.3-1]), a
    /// client's Subscription Identifier ([MQTT-3.3.4-6]) and the property rules.
    pub fn decode(
        header: &FixedHeader,
        body: Bytes,
        version: ProtocolVersion,
        direction: Direction,
        policy: Utf8Policy,
    ) -> Result<Self, Error> {
        let mut reader = Reader::new(body, policy);
        let topic_bytes = reader
            .binary("topic name")
            .map_err(Error::MalformedPacket)?;
        let topic = if topic_bytes.is_empty() {
            None
        } else {
            let topic = TopicName::from_bytes(topic_bytes).map_err(malformed)?;
            reader
                .check_policy(&topic)
                .map_err(Error::MalformedPacket)?;
            Some(topic)
        };
        let qos = header.qos();
        let packet_id = if qos == QoS::AtMostOnce {
            None
        } else {
            Some(reader.packet_id()?)
        };
        let properties = if version != ProtocolVersion::V5 || reader.skip_empty_properties() {
            None
        } else {
            let from_server = direction == Direction::FromServer;
            let properties = Properties::read(
                &mut reader,
                PropertyContext::Packet(PacketType::Publish),
                from_server,
            )?;
            let (properties, _) = properties.into_publish()?;
            if !from_server && !properties.subscription_identifiers.is_empty() {
                return Err(Error::Protocol(Violation::SubscriptionIdFromClient));
            }
            Some(Box::new(properties)).filter(|p| !p.is_empty())
        };
        if topic.is_none() && properties.as_ref().is_none_or(|p| p.topic_alias.is_none()) {
            return Err(Error::Protocol(Violation::EmptyTopicWithoutAlias));
        }
        Ok(Self {
            dup: header.dup(),
            qos,
            retain: header.retain(),
            topic,
            packet_id,
            properties,
            payload: reader.rest(),
        })
    }

    /// What encoding reads, borrowed.
    pub(crate) fn wire(&self) -> PublishWire<'_> {
        PublishWire {
            dup: self.dup,
            qos: self.qos,
            retain: self.retain,
            topic: self.topic.as_ref().map_or(&[], |t| t.as_bytes()),
            packet_id: self.packet_id,
            properties: self.properties.as_deref(),
            payload: &self.payload,
        }
    }

    /// The encoded size, fixed header included.
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        self.wire().encoded_len(version)
    }

    /// Writes the packet. MQTT 3.x has no properties: they are left out. A PUBLISH named
    /// only by a Topic Alias gets an empty topic, which only 5.0 allows
    /// ([`crate::codec::Packet::encode`] refuses it before 5.0).
    pub fn encode(&self, version: ProtocolVersion, buf: &mut impl BufMut) {
        self.wire().encode(version, buf);
    }
}

/// A PUBLISH's fields as encoding reads them, borrowed from wherever they live: a
/// [`Publish`], or the checked Python objects a Python `Publish` keeps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PublishWire<'a> {
    pub(crate) dup: bool,
    pub(crate) qos: QoS,
    pub(crate) retain: bool,
    /// Empty when a Topic Alias alone names the topic.
    pub(crate) topic: &'a [u8],
    pub(crate) packet_id: Option<PacketId>,
    pub(crate) properties: Option<&'a PublishProperties>,
    pub(crate) payload: &'a [u8],
}

impl PublishWire<'_> {
    fn body_len(&self, version: ProtocolVersion) -> usize {
        let packet_id = if self.packet_id.is_some() { 2 } else { 0 };
        let properties = if version == ProtocolVersion::V5 {
            let len = self
                .properties
                .map_or(0, |p| publish_properties_len(p, None));
            variable_integer_len(len as u32) + len
        } else {
            0
        };
        2 + self.topic.len() + packet_id + properties + self.payload.len()
    }

    /// The encoded size, fixed header included.
    pub(crate) fn encoded_len(&self, version: ProtocolVersion) -> usize {
        let body = self.body_len(version);
        1 + variable_integer_len(body as u32) + body
    }

    /// Writes the packet (see [`Publish::encode`]).
    pub(crate) fn encode(&self, version: ProtocolVersion, buf: &mut impl BufMut) {
        let flags = (u8::from(self.dup) << 3) | (self.qos.as_u8() << 1) | u8::from(self.retain);
        buf.put_u8((PacketType::Publish.as_u8() << 4) | flags);
        put_variable_integer(buf, self.body_len(version) as u32);
        put_binary(buf, self.topic);
        if let Some(id) = self.packet_id {
            buf.put_u16(id.get());
        }
        if version == ProtocolVersion::V5 {
            match self.properties {
                Some(properties) => put_publish_properties(buf, properties, None),
                None => buf.put_u8(0), // an empty property block: its length, 0
            }
        }
        buf.put_slice(self.payload);
    }
}

/// The packet identifier rule of a PUBLISH: QoS 1 and 2 have one (QoS 0 has none by the
/// message's own rules). `field` names the identifier as the caller knows it.
pub(crate) fn check_packet_id(
    field: &'static str,
    qos: QoS,
    packet_id: Option<PacketId>,
) -> Result<(), Error> {
    if qos != QoS::AtMostOnce && packet_id.is_none() {
        return Err(Error::invalid(field, Violation::PacketIdMissing { qos }));
    }
    Ok(())
}

impl TryFrom<Message> for Publish {
    type Error = Error;

    /// The PUBLISH that carries a message, moving its parts: nothing is copied.
    ///
    /// # Errors
    /// As [`Publish::from_message`].
    fn try_from(message: Message) -> Result<Self, Error> {
        let parts = message.into_parts();
        check_packet_id("message_id", parts.qos, parts.message_id)?;
        Ok(Self {
            dup: parts.dup,
            qos: parts.qos,
            retain: parts.retain,
            topic: Some(parts.topic),
            packet_id: parts.message_id,
            properties: parts.properties,
            payload: parts.payload,
        })
    }
}
