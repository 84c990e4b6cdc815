//! # mqtt-common
//!
//! The foundation of an MQTT broker, shared by every other module: protocol constants,
//! the error type, the application [`Message`], the topic engine ([`SubscriptionIndex`]
//! for routing, [`TopicTree`] for retained messages), a strict sans-I/O codec
//! ([`packet`] and [`codec::Decoder`]), and the interfaces a broker's modules implement
//! ([`AuthInterface`], [`StorageInterface`], [`SessionInterface`],
//! [`NetworkInterface`]) with in-memory reference implementations. It speaks MQTT 3.1,
//! 3.1.1 and 5.0 (OASIS), and is strict on input: every rejection names the normative
//! statement it enforces.
//!
//! The core is sans-I/O: it never opens a socket, spawns a thread or needs an async
//! runtime. Brokers bring their own I/O. The same types are exposed to Python (the
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
//! ## The codec
//!
//! ```
//! use mqtt_common::codec::Decoder;
//! use mqtt_common::packet::{Direction, Packet, Publish, encode};
//! use mqtt_common::{ErrorKind, Message, ProtocolVersion, TopicName};
//!
//! let mut server_side = Decoder::new(Direction::FromClient);
//! server_side.feed(b"\x10\x0D\x00\x04MQTT\x04\x02\x00\x3C\x00\x01c"); // CONNECT, 3.1.1
//! assert!(matches!(server_side.next_packet()?, Some(Packet::Connect(_))));
//!
//! let message = Message::new(TopicName::new("a/b")?, "hi")?;
//! let bytes = encode(&Packet::Publish(Publish::try_from(message.clone())?), ProtocolVersion::V311)?;
//! server_side.feed(&bytes[..3]);
//! assert_eq!(server_side.next_packet()?, None); // waits for the rest
//! server_side.feed(&bytes[3..]);
//! let Some(Packet::Publish(publish)) = server_side.next_packet()? else { unreachable!() };
//! assert_eq!(publish.to_message(), Some(message));
//!
//! server_side.feed(b"\x20\x02\x00\x00"); // a CONNACK, which only servers send
//! assert_eq!(server_side.next_packet().unwrap_err().kind(), ErrorKind::Protocol);
//! # Ok::<(), mqtt_common::Error>(())
//! ```
//!
//! ## Sessions, storage and the interfaces
//!
//! ```
//! use mqtt_common::{
//!     MemorySessionStore, MemoryStorage, Message, ProtocolVersion, QoS, SessionInterface,
//!     StorageInterface, TopicFilter, TopicName,
//! };
//!
//! let sessions = MemorySessionStore::new();
//! let (mut session, present) = sessions.create_session("c1", false, 3600, ProtocolVersion::V5)?;
//! assert!(!present);
//! let sent = session.send_publish(
//!     Message::builder(TopicName::new("cmd")?).qos(QoS::AtLeastOnce).build()?,
//! )?; // gets packet identifier 1, in flight until PUBACK
//! session.puback_received(sent.message_id().unwrap())?;
//! sessions.save_session(&session)?;
//!
//! let storage = MemoryStorage::new();
//! storage.store_retained(Message::new(TopicName::new("site/1/temp")?, "21.5")?)?;
//! assert_eq!(storage.get_retained(&TopicFilter::new("site/+/temp")?)?.len(), 1);
//! # Ok::<(), mqtt_common::Error>(())
//! ```
//!
//! ## What it does not do
//!
//! No networking and no threads of its own. Backends that do I/O (files, databases)
//! implement the same interfaces behind cargo features.

#![deny(missing_docs, missing_debug_implementations, unsafe_code)]
#![warn(rust_2018_idioms, unreachable_pub)]
// docs.rs (and `./dev.sh docs`) builds with nightly and `--cfg docsrs`: every item behind a
// cargo feature is labelled with it.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod asynchronous;
pub mod auth;
pub mod codec;
pub mod constants;
pub mod detach;
pub mod error;
pub mod integer;
pub mod message;
pub mod metrics;
pub mod network;
pub mod packet;
pub mod packet_id;
pub mod protocol;
#[cfg(any(feature = "sqlite", feature = "redis"))]
mod records;
#[cfg(feature = "redis")]
pub mod redis;
pub mod router;
pub mod session;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod storage;
pub mod string;
pub mod sys_topics;
#[cfg(feature = "testing")]
pub mod testing;
pub mod topic;

/// The Python bindings (feature `python`): the `mqtt_common._core` extension module, and
/// adapters through which Rust code calls Python implementations of the interfaces.
#[cfg(feature = "python")]
pub mod python;

/// The `bytes` crate, whose [`Bytes`](bytes::Bytes) holds payloads: re-exported so that
/// users name the same version this crate uses.
pub use bytes;

pub use auth::{Action, AsyncAuthInterface, AuthCredentials, AuthInterface};
pub use constants::{
    CodeTable, ConnectReturnCode, IntegerWidth, PacketType, PropertyContext, PropertyId,
    PropertyType, ProtocolVersion, QoS, ReasonCode, RetainHandling, UnknownCode,
};
pub use detach::Detach;
pub use error::{Error, ErrorKind, Result, Side, TopicKind, Violation};
pub use integer::FromInteger;
pub use message::{Message, MessageBuilder, PayloadFormat, PublishProperties, TopicAlias, Will};
pub use network::{ConnectionState, NetworkInterface};
pub use packet_id::PacketId;
#[cfg(feature = "redis")]
pub use redis::{NodeConfig, RedisConfig, RedisNode, RedisSessionStore, RedisStorage};
pub use session::{
    AsyncSessionInterface, InFlight, MemorySessionStore, OutgoingState, Session, SessionInterface,
};
#[cfg(feature = "sqlite")]
pub use sqlite::{Durability, SqliteSessionStore, SqliteStorage};
pub use storage::{
    AsyncStorageInterface, MemoryStorage, MemoryStorageConfig, QueueFullPolicy, StorageInterface,
};
pub use string::{BinaryData, MqttString};
pub use topic::{
    Delivery, IndexLimits, Subscription, SubscriptionBuilder, SubscriptionId, SubscriptionIndex,
    TopicFilter, TopicName, TopicTree, merge_overlapping, topic_matches, validate_topic_filter,
    validate_topic_name,
};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
