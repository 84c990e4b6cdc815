//! PUBLISH (MQTT 5.0 §3.3, 3.1.1 §3.3): an application message on the wire.

use bytes::{BufMut, Bytes};

use crate::constants::{PacketType, PropertyContext, ProtocolVersion, QoS};
use crate::error::{Error, Violation};
use crate::message::{Header, Message, MessageRef, PublishProperties, TopicAlias};
use crate::packet::header::FixedHeader;
use crate::packet::properties::{Properties, publish_properties_len, put_publish_properties};
use crate::packet::wire::{Reader, Utf8Policy, put_binary, variable_integer_len};
use crate::packet::{Direction, Encode, only_in_v5, public_encoding};
use crate::packet_id::PacketId;
use crate::topic::TopicName;

/// A PUBLISH packet: a [`Message`] on the wire, whose topic a Topic Alias may stand for
/// (MQTT 5.0). Valid by construction: a packet identifier exactly when QoS > 0, DUP only
/// then, and no topic only with a Topic Alias.
///
/// # Examples
/// ```
/// use mqtt_common::bytes::BytesMut;
/// use mqtt_common::packet::Publish;
/// use mqtt_common::{Message, PacketId, ProtocolVersion, QoS, TopicName};
/// let message = Message::builder(TopicName::new("a/b")?)
///     .payload("hi")
///     .qos(QoS::AtLeastOnce)
///     .message_id(Some(PacketId::new(10)?))
///     .build()?;
/// let publish = Publish::try_from(message.clone())?;
/// let mut buf = BytesMut::new();
/// publish.encode(ProtocolVersion::V311, &mut buf)?;
/// assert_eq!(&buf[..], b"\x32\x09\x00\x03a/b\x00\x0ahi");
/// assert_eq!(Message::try_from(publish)?, message);
/// # Ok::<(), mqtt_common::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    topic: Option<TopicName>,
    payload: Bytes,
    header: Header,
}
// Invariant: `header.check(payload.len())` passed, QoS 1 and 2 carry a packet identifier,
// and `topic` is `None` only with a Topic Alias.

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

    /// The message this PUBLISH carries; `None` when only a Topic Alias names its topic
    /// and the receiver has not resolved it yet (the streaming decoder does).
    pub fn to_message(&self) -> Option<Message> {
        let topic = self.topic.clone()?;
        // The packet's invariant is the message's: nothing to check again.
        Some(Message::from_checked_parts(
            topic,
            self.payload.clone(),
            self.header.clone(),
        ))
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
        self.header.properties.get_or_insert_default().topic_alias = Some(alias);
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

    /// This PUBLISH with the DUP flag set: a redelivery of a QoS 1 or 2 message
    /// ([MQTT-3.3.1-1]); QoS 0 packets are returned unchanged, as they are never
    /// redelivered.
    #[must_use]
    pub fn redelivery(mut self) -> Self {
        if self.header.qos != QoS::AtMostOnce {
            self.header.dup = true;
        }
        self
    }

    /// The topic name; `None` when a Topic Alias stands for it.
    pub fn topic(&self) -> Option<&TopicName> {
        self.topic.as_ref()
    }

    /// The QoS level.
    pub fn qos(&self) -> QoS {
        self.header.qos
    }

    /// The DUP flag.
    pub fn dup(&self) -> bool {
        self.header.dup
    }

    /// The RETAIN flag.
    pub fn retain(&self) -> bool {
        self.header.retain
    }

    /// The packet identifier (QoS 1 and 2).
    pub fn packet_id(&self) -> Option<PacketId> {
        self.header.message_id
    }

    /// The MQTT 5.0 properties.
    pub fn properties(&self) -> &PublishProperties {
        self.header.properties()
    }

    /// The payload: a slice of the decoded frame, never a copy.
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// Decodes the body of a PUBLISH whose fixed header [`crate::packet::frame`] checked.
    ///
    /// # Errors
    /// A malformed packet for a truncated field or an invalid topic name (invalid UTF-8,
    /// U+0000, wildcards); a protocol error for packet identifier 0 ([MQTT-2.2.1-3]), an
    /// empty topic without a Topic Alias ([MQTT-4.7.3-1]), a client's Subscription
    /// Identifier ([MQTT-3.3.4-6]) and the property rules.
    pub fn decode(
        header: &FixedHeader,
        body: Bytes,
        version: ProtocolVersion,
        direction: Direction,
        policy: Utf8Policy,
    ) -> Result<Self, Error> {
        Self::read(header, body, version, direction, policy).map_err(Error::received)
    }

    pub(crate) fn read(
        fixed: &FixedHeader,
        body: Bytes,
        version: ProtocolVersion,
        direction: Direction,
        policy: Utf8Policy,
    ) -> Result<Self, Violation> {
        let mut reader = Reader::new(body, policy);
        let topic_bytes = reader.binary("topic name")?;
        let topic = if topic_bytes.is_empty() {
            None
        } else {
            let topic = TopicName::from_wire(topic_bytes)?;
            reader.check_policy(&topic)?;
            Some(topic)
        };
        let mut header = Header {
            qos: fixed.qos(),
            retain: fixed.retain(),
            dup: fixed.dup(),
            message_id: None,
            properties: None,
        };
        if header.qos != QoS::AtMostOnce {
            header.message_id = Some(reader.packet_id()?);
        }
        if version == ProtocolVersion::V5 && !reader.skip_empty_properties() {
            let from_server = direction == Direction::FromServer;
            let properties = Properties::read(
                &mut reader,
                PropertyContext::Packet(PacketType::Publish),
                from_server,
            )?;
            let (properties, _) = properties.into_publish()?;
            if !from_server && !properties.subscription_identifiers.is_empty() {
                return Err(Violation::SubscriptionIdFromClient);
            }
            header.set_properties(properties);
        }
        if topic.is_none() && header.properties().topic_alias.is_none() {
            return Err(Violation::EmptyTopicWithoutAlias);
        }
        Ok(Self {
            topic,
            payload: reader.rest(),
            header,
        })
    }

    /// The header fields.
    #[cfg(feature = "python")]
    pub(crate) fn header(&self) -> &Header {
        &self.header
    }

    /// What encoding reads, borrowed.
    pub(crate) fn as_message_ref(&self) -> MessageRef<'_> {
        MessageRef {
            topic: self.topic.as_ref().map_or("", |t| t.as_str()),
            payload: &self.payload,
            header: &self.header,
        }
    }
}

public_encoding!(
    Publish,
    /// MQTT 3.x has no properties: forwarding a 5.0 message to a 3.1.1 subscriber leaves
    /// them out, as the protocol has no place for them. A PUBLISH named only by a Topic
    /// Alias cannot be written before 5.0.
);

impl Encode for Publish {
    fn body_len(&self, version: ProtocolVersion) -> usize {
        self.as_message_ref().body_len(version)
    }

    fn check_version(&self, version: ProtocolVersion) -> Result<(), Violation> {
        let what = "a PUBLISH named only by a topic alias";
        only_in_v5(what, self.topic.is_none(), version)
    }

    fn first_byte(&self) -> u8 {
        self.as_message_ref().first_byte()
    }

    fn write_body(&self, version: ProtocolVersion, body_len: usize, buf: &mut impl BufMut) {
        self.as_message_ref().write_body(version, body_len, buf);
    }
}

/// A PUBLISH carrying a message: the one PUBLISH writer. A message always has its topic
/// name, so every version can carry it.
impl Encode for MessageRef<'_> {
    fn body_len(&self, version: ProtocolVersion) -> usize {
        let packet_id = if self.header.message_id.is_some() {
            2
        } else {
            0
        };
        let properties = if version == ProtocolVersion::V5 {
            let len = self
                .header
                .properties
                .as_deref()
                .map_or(0, |p| publish_properties_len(p, None));
            variable_integer_len(len as u32) + len
        } else {
            0
        };
        2 + self.topic.len() + packet_id + properties + self.payload.len()
    }

    fn check_version(&self, _: ProtocolVersion) -> Result<(), Violation> {
        Ok(())
    }

    fn first_byte(&self) -> u8 {
        let header = self.header;
        let flags =
            (u8::from(header.dup) << 3) | (header.qos.as_u8() << 1) | u8::from(header.retain);
        (PacketType::Publish.as_u8() << 4) | flags
    }

    fn write_body(&self, version: ProtocolVersion, _: usize, buf: &mut impl BufMut) {
        let header = self.header;
        put_binary(buf, self.topic.as_bytes());
        if let Some(id) = header.message_id {
            buf.put_u16(id.get());
        }
        if version == ProtocolVersion::V5 {
            match header.properties.as_deref() {
                Some(properties) => put_publish_properties(buf, properties, None),
                None => buf.put_u8(0), // an empty property block: its length, 0
            }
        }
        buf.put_slice(self.payload);
    }
}

/// The packet identifier rule of a PUBLISH: QoS 1 and 2 have one (QoS 0 has none by the
/// message's own rules). `field` names the identifier as the caller knows it.
pub(crate) fn check_packet_id(field: &'static str, header: &Header) -> Result<(), Error> {
    if header.qos != QoS::AtMostOnce && header.message_id.is_none() {
        return Err(Error::invalid(
            field,
            Violation::PacketIdMissing { qos: header.qos },
        ));
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
        let (topic, payload, header) = message.into_parts();
        check_packet_id("message_id", &header)?;
        Ok(Self {
            topic: Some(topic),
            payload,
            header,
        })
    }
}

impl TryFrom<Publish> for Message {
    type Error = Error;

    /// The message a PUBLISH carries, moving its parts: nothing is copied.
    ///
    /// # Errors
    /// [`Violation::TopicAliasUnresolved`] (field `topic`) when only a Topic Alias names
    /// the topic and nobody has resolved it.
    fn try_from(publish: Publish) -> Result<Self, Error> {
        let Some(topic) = publish.topic else {
            let alias = publish
                .header
                .properties()
                .topic_alias
                .map_or(0, |a| a.get());
            return Err(Error::invalid(
                "topic",
                Violation::TopicAliasUnresolved { alias },
            ));
        };
        Ok(Message::from_checked_parts(
            topic,
            publish.payload,
            publish.header,
        ))
    }
}
