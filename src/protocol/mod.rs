//! The server protocol engine: one client connection's MQTT rules, without I/O, in the
//! manner of h11 and h2's `H2Connection`.
//!
//! A broker creates a [`ServerConnection`] per client connection, hands it the bytes its
//! socket read with the time on its own clock, and gets back [`Event`]s: a client asks
//! to connect, publishes a message, subscribes, acknowledges a delivery, leaves. It
//! answers with calls (accept the CONNECT with a [`Session`](crate::Session), grant the
//! subscriptions, deliver a routed message), writes
//! [`data_to_send`](ServerConnection::data_to_send) to the socket and calls
//! [`handle_timeout`](ServerConnection::handle_timeout) at
//! [`next_deadline`](ServerConnection::next_deadline).
//!
//! The engine owns every per-connection rule of MQTT 3.1, 3.1.1 and 5.0: the CONNECT
//! checks and the CONNACK with the server's limits ([`ServerConfig`]), Keep Alive, the
//! QoS 1 and 2 flows both ways through the session (with redelivery on resume), Receive
//! Maximum, Topic Alias and Maximum Packet Size both ways, message expiry while a
//! delivery waits, subscription identifiers and Retain As Published, the DISCONNECT and
//! Will rules, and answering a protocol error with its reason code before closing.
//! Routing between connections (subscriptions, retained messages, shared subscriptions,
//! Will delay, session expiry) is the broker's, built from
//! [`SubscriptionIndex`](crate::SubscriptionIndex), the storage and the session store.
//!
//! Theory of operation:
//!
//! ```text
//!   AwaitingConnect --CONNECT--> Connecting --accept--> Connected
//!         |                        |   ^  |                  |
//!   connect timeout          AUTH steps   refuse     DISCONNECT, error, timeout,
//!         v                        v      v          disconnect(), connection_lost()
//!       Closed <-------------------------------------------- v
//! ```
//!
//! Packets a client sends after its CONNECT are held until the broker answers it
//! ([MQTT-3.1.4-5]); the answer to `accept` is the events they cause.

mod config;
mod connection;
mod event;
mod outbound;

pub use config::ServerConfig;
pub use connection::{Acceptance, ConnectionPhase, DeliveryOutcome, ServerConnection};
pub use event::{
    AuthStep, Closed, ConnectRequest, Delivered, Discarded, Event, Initiator, SubscribeRequest,
    Undelivered, UnsubscribeRequest,
};
pub use outbound::Route;
pub(crate) use outbound::count_down;

/// The protocol's names, ports and limits ([`crate::constants::protocol`]), here too:
/// `mqtt_common::protocol::MAX_PACKET_SIZE` names what it always named.
pub use crate::constants::protocol::*;
