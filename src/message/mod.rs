//! The application message: what a PUBLISH carries and what a broker stores and routes,
//! its MQTT 5.0 properties, and the Will Message a client leaves behind.
//!
//! Theory of operation: a [`Message`] is a topic, a payload and a header (QoS, flags,
//! packet identifier, properties). Equality, hashing and the PUBLISH encoding are written
//! once, against a borrowed view of those three, so a PUBLISH packet and the Python
//! binding (which keeps the caller's `str` and `bytes` objects) share them.

mod publish_properties;
mod will;

use std::fmt;
use std::hash::{Hash, Hasher};

use bytes::Bytes;

pub use publish_properties::{PayloadFormat, PublishProperties, TopicAlias, response_topic};
pub use will::Will;

use crate::constants::QoS;
use crate::constants::protocol::MAX_PAYLOAD_SIZE;
use crate::detach::Detach;
use crate::error::{Error, Violation};
use crate::packet_id::PacketId;
use crate::topic::TopicName;

/// How many payload bytes `Debug` (and the Python `repr`) show before truncating.
pub const DEBUG_PAYLOAD_PREFIX: usize = 64;

/// An application message: topic, payload, QoS, retain and DUP flags, an optional
/// packet identifier and the MQTT 5.0 PUBLISH properties. Immutable and valid by
/// construction; the payload is shared, never copied, when cloned.
///
/// # Examples
/// ```
/// use mqtt_common::{Message, PacketId, QoS, TopicName};
/// let message = Message::builder(TopicName::new("sensors/temperature")?)
///     .payload("23.5")
///     .qos(QoS::AtLeastOnce)
///     .message_id(Some(PacketId::new(12345)?))
///     .build()?;
/// assert_eq!(message.topic(), "sensors/temperature");
/// assert_eq!(&message.payload()[..], b"23.5");
///
/// // A QoS 0 message cannot carry a packet identifier [MQTT-2.2.1-2].
/// let err = Message::builder(TopicName::new("a")?)
///     .message_id(Some(PacketId::new(1)?))
///     .build()
///     .unwrap_err();
/// assert_eq!(err.spec_ref(), Some("MQTT-2.2.1-2"));
/// # Ok::<(), mqtt_common::Error>(())
/// ```
#[derive(Clone)]
pub struct Message {
    topic: TopicName,
    payload: Bytes,
    header: Header,
}
// Invariant: `header.check(payload.len())` passed; built only by `from_parts`.

/// The fields of a message besides its topic and payload: what a PUBLISH's fixed header
/// and properties carry. Each field is valid by its type; [`Header::check`] holds the
/// rules that tie them to each other.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Header {
    pub(crate) qos: QoS,
    pub(crate) retain: bool,
    pub(crate) dup: bool,
    pub(crate) message_id: Option<PacketId>,
    // Boxed and absent when empty: most messages have none, and queues hold many messages.
    pub(crate) properties: Option<Box<PublishProperties>>,
}

impl Default for Header {
    /// QoS 0, no flags, no identifier, no properties.
    fn default() -> Self {
        Self {
            qos: QoS::AtMostOnce,
            retain: false,
            dup: false,
            message_id: None,
            properties: None,
        }
    }
}

/// What `properties()` lends when a message or PUBLISH has none.
static NO_PROPERTIES: PublishProperties = PublishProperties::EMPTY;

impl Header {
    /// The rules that tie a message's fields together, for a payload of `payload_len`.
    ///
    /// # Errors
    /// a validation error with [`Violation::PayloadTooLarge`] (field `payload`),
    /// [`Violation::PacketIdWithQoS0`] (field `message_id`) or
    /// [`Violation::DupWithQoS0`] (field `dup`).
    pub(crate) fn check(&self, payload_len: usize) -> Result<(), Error> {
        self.check_naming(payload_len, "message_id")
    }

    /// [`Header::check`], naming the packet identifier as the caller knows it
    /// (`packet_id` in a PUBLISH).
    pub(crate) fn check_naming(
        &self,
        payload_len: usize,
        id_field: &'static str,
    ) -> Result<(), Error> {
        if payload_len > MAX_PAYLOAD_SIZE as usize {
            return Err(Error::invalid(
                "payload",
                Violation::PayloadTooLarge { len: payload_len },
            ));
        }
        if self.qos == QoS::AtMostOnce {
            if self.message_id.is_some() {
                return Err(Error::invalid(id_field, Violation::PacketIdWithQoS0));
            }
            if self.dup {
                return Err(Error::invalid("dup", Violation::DupWithQoS0));
            }
        }
        Ok(())
    }

    /// The properties, or the empty set.
    pub(crate) fn properties(&self) -> &PublishProperties {
        self.properties.as_deref().unwrap_or(&NO_PROPERTIES)
    }

    /// Sets the properties, keeping none when they are empty.
    pub(crate) fn set_properties(&mut self, properties: PublishProperties) {
        self.properties = (!properties.is_empty()).then(|| Box::new(properties));
    }
}

/// A message's parts, borrowed from wherever they live: a [`Message`], a PUBLISH, or the
/// checked Python objects of a Python `Message`. Equality, hashing and the PUBLISH
/// encoding are written once, here.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MessageRef<'a> {
    /// Empty only in a PUBLISH whose topic a Topic Alias names.
    pub(crate) topic: &'a str,
    pub(crate) payload: &'a [u8],
    pub(crate) header: &'a Header,
}

impl PartialEq for MessageRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.topic == other.topic && self.payload == other.payload && self.header == other.header
    }
}

impl Eq for MessageRef<'_> {}

impl Hash for MessageRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.topic.hash(state);
        self.payload.hash(state);
        self.header.hash(state);
    }
}

impl Message {
    /// A QoS 0, non-retained message.
    ///
    /// # Errors
    /// [`Violation::PayloadTooLarge`] for a payload over 268,435,455 bytes.
    pub fn new(topic: TopicName, payload: impl Into<Bytes>) -> Result<Self, Error> {
        Self::builder(topic).payload(payload).build()
    }

    /// A builder for every field.
    pub fn builder(topic: TopicName) -> MessageBuilder {
        MessageBuilder {
            topic,
            payload: Bytes::new(),
            header: Header::default(),
        }
    }

    /// A builder holding this message's fields, to change some of them.
    pub fn to_builder(&self) -> MessageBuilder {
        MessageBuilder {
            topic: self.topic.clone(),
            payload: self.payload.clone(),
            header: self.header.clone(),
        }
    }

    /// Puts a message together, checking the rules that tie its fields together.
    pub(crate) fn from_parts(
        topic: TopicName,
        payload: Bytes,
        header: Header,
    ) -> Result<Self, Error> {
        header.check(payload.len())?;
        Ok(Self {
            topic,
            payload,
            header,
        })
    }

    /// Puts together parts whose rules a packet's own invariant already guarantees.
    pub(crate) fn from_checked_parts(topic: TopicName, payload: Bytes, header: Header) -> Self {
        debug_assert!(header.check(payload.len()).is_ok());
        Self {
            topic,
            payload,
            header,
        }
    }

    /// Takes the message apart without copying (a PUBLISH carries the same fields).
    pub(crate) fn into_parts(self) -> (TopicName, Bytes, Header) {
        (self.topic, self.payload, self.header)
    }

    /// The message, borrowed.
    pub(crate) fn as_ref(&self) -> MessageRef<'_> {
        MessageRef {
            topic: self.topic.as_str(),
            payload: &self.payload,
            header: &self.header,
        }
    }

    /// The header fields.
    #[cfg(feature = "python")]
    pub(crate) fn header(&self) -> &Header {
        &self.header
    }

    /// The topic name.
    #[inline]
    pub fn topic(&self) -> &TopicName {
        &self.topic
    }

    /// The payload.
    #[inline]
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// The QoS level.
    #[inline]
    pub fn qos(&self) -> QoS {
        self.header.qos
    }

    /// The RETAIN flag.
    #[inline]
    pub fn retain(&self) -> bool {
        self.header.retain
    }

    /// The DUP flag (a redelivery); always false at QoS 0.
    #[inline]
    pub fn dup(&self) -> bool {
        self.header.dup
    }

    /// The packet identifier; always `None` at QoS 0.
    #[inline]
    pub fn message_id(&self) -> Option<PacketId> {
        self.header.message_id
    }

    /// The MQTT 5.0 properties (empty when there are none).
    #[inline]
    pub fn properties(&self) -> &PublishProperties {
        self.header.properties()
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        self.as_ref() == other.as_ref()
    }
}

impl Eq for Message {}

impl Hash for Message {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_ref().hash(state);
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = &self.payload[..self.payload.len().min(DEBUG_PAYLOAD_PREFIX)];
        let mut s = f.debug_struct("Message");
        s.field("topic", &self.topic.as_str());
        if shown.len() < self.payload.len() {
            s.field(
                "payload",
                &format_args!(
                    "{:?}... ({} bytes)",
                    Bytes::copy_from_slice(shown),
                    self.payload.len()
                ),
            );
        } else {
            s.field("payload", &self.payload);
        }
        s.field("qos", &self.header.qos)
            .field("retain", &self.header.retain)
            .field("dup", &self.header.dup)
            .field("message_id", &self.header.message_id);
        if let Some(properties) = &self.header.properties {
            s.field("properties", properties);
        }
        s.finish()
    }
}

/// Builds a [`Message`]; [`build`](MessageBuilder::build) checks the rules that tie
/// fields together.
#[derive(Debug, Clone)]
#[must_use]
pub struct MessageBuilder {
    topic: TopicName,
    payload: Bytes,
    header: Header,
}

impl MessageBuilder {
    /// Sets the topic name.
    pub fn topic(mut self, topic: TopicName) -> Self {
        self.topic = topic;
        self
    }

    /// Sets the payload (`Bytes`, `Vec<u8>`, `&'static [u8]`, `&'static str`, `String`).
    pub fn payload(mut self, payload: impl Into<Bytes>) -> Self {
        self.payload = payload.into();
        self
    }

    /// Sets the QoS level.
    pub fn qos(mut self, qos: QoS) -> Self {
        self.header.qos = qos;
        self
    }

    /// Sets the RETAIN flag.
    pub fn retain(mut self, retain: bool) -> Self {
        self.header.retain = retain;
        self
    }

    /// Sets the DUP flag.
    pub fn dup(mut self, dup: bool) -> Self {
        self.header.dup = dup;
        self
    }

    /// Sets or clears the packet identifier.
    pub fn message_id(mut self, message_id: Option<PacketId>) -> Self {
        self.header.message_id = message_id;
        self
    }

    /// Sets the MQTT 5.0 properties.
    pub fn properties(mut self, properties: PublishProperties) -> Self {
        self.header.set_properties(properties);
        self
    }

    /// Checks the fields together and builds the message.
    ///
    /// # Errors
    /// a validation error with [`Violation::PayloadTooLarge`] (field `payload`),
    /// [`Violation::PacketIdWithQoS0`] (field `message_id`) or
    /// [`Violation::DupWithQoS0`] (field `dup`).
    pub fn build(self) -> Result<Message, Error> {
        Message::from_parts(self.topic, self.payload, self.header)
    }
}

impl Detach for Message {
    /// The topic, payload and properties copied; the header fields as they are.
    fn detached(&self) -> Self {
        Self {
            topic: self.topic.detached(),
            payload: self.payload.detached(),
            header: Header {
                qos: self.header.qos,
                retain: self.header.retain,
                dup: self.header.dup,
                message_id: self.header.message_id,
                properties: self.header.properties.detached(),
            },
        }
    }
}
