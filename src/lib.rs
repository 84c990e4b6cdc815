//! # mqtt-common
//!
//! The foundation of an MQTT broker, shared by every other module: protocol constants,
//! the error type, validated topic names and filters with matching, the application
//! [`Message`], and the topic engine ([`SubscriptionIndex`] for routing, [`TopicTree`] for
//! retained messages). It speaks MQTT 3.1, 3.1.1 and 5.0 (OASIS), and is strict on input: every
//! rejection names the normative statement it enforces.
//!
//! It is sans-I/O: it never opens a socket, spawns a thread or needs an async runtime.
//! Brokers bring their own I/O. The same types are exposed to Python (the
//! `mqtt_common` package, built with the `python` feature); Rust users need no Python.
//!
//! ## A tour
//!
//! ```
//! use mqtt_common::{
//!     topic_matches, Message, PacketId, QoS, ReasonCode, Subscription, SubscriptionIndex,
//!     TopicFilter, TopicName,
//! };
//!
//! // Validated newtypes: an invalid topic cannot exist.
//! let topic = TopicName::new("sensors/kitchen/temperature")?;
//! let filter = TopicFilter::new("sensors/+/temperature")?;
//! assert!(filter.matches(&topic));
//! assert!(topic_matches("sensors/#", "sensors")?); // `#` matches the parent level
//!
//! // Messages are immutable and checked as a whole.
//! let message = Message::builder(topic)
//!     .payload("21.5")
//!     .qos(QoS::AtLeastOnce)
//!     .message_id(Some(PacketId::new(1)?))
//!     .build()?;
//! assert_eq!(message.qos(), QoS::AtLeastOnce);
//!
//! // Every error carries the reason code a broker would send and the rule it enforces.
//! let err = TopicName::new("sensors/#").unwrap_err();
//! assert_eq!(err.reason_code(), ReasonCode::TopicNameInvalid);
//! assert_eq!(err.spec_ref(), Some("MQTT-3.3.2-2"));
//!
//! // Routing: which subscriptions match a topic, without scanning them all.
//! let mut index = SubscriptionIndex::new();
//! index.subscribe("c1", Subscription::new(TopicFilter::new("sensors/+/temperature")?, QoS::AtLeastOnce))?;
//! assert_eq!(index.matches(message.topic()).len(), 1);
//! # Ok::<(), mqtt_common::Error>(())
//! ```
//!
//! ## What it does not do
//!
//! No networking, no persistence, no threads. Storage, session and authentication
//! backends implement this crate's interfaces; they are not part of it.

#![deny(missing_docs, missing_debug_implementations, unsafe_code)]
#![warn(rust_2018_idioms, unreachable_pub)]

pub mod auth;
pub mod codec;
pub mod constants;
pub mod error;
pub mod index;
pub mod memory_session;
pub mod memory_storage;
pub mod message;
pub mod network;
pub mod packet;
pub mod packet_id;
pub mod properties;
pub mod retained;
pub mod session;
pub mod storage;
pub mod string;
pub mod subscription;
pub mod topic;
mod tree;

/// The Python bindings (feature `python`): the `mqtt_common._core` extension module, and
/// adapters through which Rust code calls Python implementations of the interfaces.
#[cfg(feature = "python")]
pub mod python;

pub use auth::{Action, AuthCredentials, AuthInterface};
pub use constants::{
    ConnectReturnCode, PacketType, PropertyContext, PropertyId, PropertyType, ProtocolVersion, QoS,
    ReasonCode, RetainHandling, protocol,
};
pub use error::{Error, ErrorKind, Result, TopicKind, Violation};
pub use index::{IndexLimits, SubscriptionIndex};
pub use memory_session::MemorySessionStore;
pub use memory_storage::{MemoryStorage, MemoryStorageConfig, QueueFullPolicy};
pub use message::{Message, MessageBuilder};
pub use network::{ConnectionState, NetworkInterface};
pub use packet_id::PacketId;
pub use properties::{PayloadFormat, PublishProperties, SubscriptionId, TopicAlias};
pub use retained::TopicTree;
pub use session::{InFlight, OutgoingState, Session, SessionInterface, Will};
pub use storage::StorageInterface;
pub use string::{BinaryData, MqttString};
pub use subscription::{Delivery, Subscription, SubscriptionBuilder, merge_overlapping};
pub use topic::{
    TopicFilter, TopicName, topic_matches, validate_topic_filter, validate_topic_name,
};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
