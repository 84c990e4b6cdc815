//! The application message: what a PUBLISH carries and what a broker stores and routes.

use std::fmt;

use bytes::Bytes;

use crate::constants::QoS;
use crate::constants::protocol::MAX_PAYLOAD_SIZE;
use crate::error::{Error, Violation};
use crate::packet_id::PacketId;
use crate::properties::PublishProperties;
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
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Message {
    topic: TopicName,
    payload: Bytes,
    qos: QoS,
    retain: bool,
    dup: bool,
    message_id: Option<PacketId>,
    // Boxed and absent when empty: most messages have none, and queues hold many messages.
    properties: Option<Box<PublishProperties>>,
}

/// What `properties()` lends when a message or PUBLISH has none.
pub(crate) static NO_PROPERTIES: PublishProperties = PublishProperties::EMPTY;

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
            qos: QoS::AtMostOnce,
            retain: false,
            dup: false,
            message_id: None,
            properties: PublishProperties::EMPTY,
        }
    }

    /// A builder holding this message's fields, to change some of them.
    pub fn to_builder(&self) -> MessageBuilder {
        MessageBuilder {
            topic: self.topic.clone(),
            payload: self.payload.clone(),
            qos: self.qos,
            retain: self.retain,
            dup: self.dup,
            message_id: self.message_id,
            properties: self.properties().clone(),
        }
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
        self.qos
    }

    /// The RETAIN flag.
    #[inline]
    pub fn retain(&self) -> bool {
        self.retain
    }

    /// The DUP flag (a redelivery); always false at QoS 0.
    #[inline]
    pub fn dup(&self) -> bool {
        self.dup
    }

    /// The packet identifier; always `None` at QoS 0.
    #[inline]
    pub fn message_id(&self) -> Option<PacketId> {
        self.message_id
    }

    /// The MQTT 5.0 properties (empty when there are none).
    #[inline]
    pub fn properties(&self) -> &PublishProperties {
        self.properties.as_deref().unwrap_or(&NO_PROPERTIES)
    }

    /// Takes the message apart without copying (a PUBLISH carries the same fields).
    pub(crate) fn into_parts(self) -> MessageParts {
        MessageParts {
            topic: self.topic,
            payload: self.payload,
            qos: self.qos,
            retain: self.retain,
            dup: self.dup,
            message_id: self.message_id,
            properties: self.properties,
        }
    }

    /// Puts a message together, checking the rules that tie its fields together.
    pub(crate) fn from_parts(parts: MessageParts) -> Result<Self, Error> {
        check_fields(parts.payload.len(), parts.qos, parts.dup, parts.message_id)?;
        Ok(Self {
            topic: parts.topic,
            payload: parts.payload,
            qos: parts.qos,
            retain: parts.retain,
            dup: parts.dup,
            message_id: parts.message_id,
            properties: parts.properties.filter(|p| !p.is_empty()),
        })
    }
}

/// A message's fields, moved out of it or into it whole.
pub(crate) struct MessageParts {
    pub(crate) topic: TopicName,
    pub(crate) payload: Bytes,
    pub(crate) qos: QoS,
    pub(crate) retain: bool,
    pub(crate) dup: bool,
    pub(crate) message_id: Option<PacketId>,
    pub(crate) properties: Option<Box<PublishProperties>>,
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
        s.field("qos", &self.qos)
            .field("retain", &self.retain)
            .field("dup", &self.dup)
            .field("message_id", &self.message_id);
        if let Some(properties) = &self.properties {
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
    qos: QoS,
    retain: bool,
    dup: bool,
    message_id: Option<PacketId>,
    properties: PublishProperties,
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
        self.qos = qos;
        self
    }

    /// Sets the RETAIN flag.
    pub fn retain(mut self, retain: bool) -> Self {
        self.retain = retain;
        self
    }

    /// Sets the DUP flag.
    pub fn dup(mut self, dup: bool) -> Self {
        self.dup = dup;
        self
    }

    /// Sets or clears the packet identifier.
    pub fn message_id(mut self, message_id: Option<PacketId>) -> Self {
        self.message_id = message_id;
        self
    }

    /// Sets the MQTT 5.0 properties.
    pub fn properties(mut self, properties: PublishProperties) -> Self {
        self.properties = properties;
        self
    }

    /// Checks the fields together and builds the message.
    ///
    /// # Errors
    /// [`Error::Validation`] with [`Violation::PayloadTooLarge`] (field `payload`),
    /// [`Violation::PacketIdWithQoS0`] (field `message_id`) or
    /// [`Violation::DupWithQoS0`] (field `dup`).
    pub fn build(self) -> Result<Message, Error> {
        Message::from_parts(MessageParts {
            topic: self.topic,
            payload: self.payload,
            qos: self.qos,
            retain: self.retain,
            dup: self.dup,
            message_id: self.message_id,
            properties: (!self.properties.is_empty()).then(|| Box::new(self.properties)),
        })
    }
}

/// The rules that tie a message's fields together (each field is valid by its type).
pub(crate) fn check_fields(
    payload_len: usize,
    qos: QoS,
    dup: bool,
    message_id: Option<PacketId>,
) -> Result<(), Error> {
    if payload_len > MAX_PAYLOAD_SIZE as usize {
        return Err(Error::invalid(
            "payload",
            Violation::PayloadTooLarge { len: payload_len },
        ));
    }
    if qos == QoS::AtMostOnce {
        if message_id.is_some() {
            return Err(Error::invalid("message_id", Violation::PacketIdWithQoS0));
        }
        if dup {
            return Err(Error::invalid("dup", Violation::DupWithQoS0));
        }
    }
    Ok(())
}
