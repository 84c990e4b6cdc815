//! What a server allows: the limits a [`ServerConnection`](super::ServerConnection)
//! enforces and announces in its CONNACK.

use std::time::Duration;

use std::num::NonZeroU32;

use crate::codec::DEFAULT_MAX_PACKET_SIZE;
use crate::constants::QoS;

/// The server's limits, one set for every connection of a broker.
///
/// MQTT 5.0 clients are told each limit that differs from the protocol's default in the
/// CONNACK properties (§3.2.2.3); 3.x clients cannot be told, and are held to the same
/// limits. The defaults are a general-purpose broker's.
///
/// # Examples
/// ```
/// use mqtt_common::protocol::ServerConfig;
/// use mqtt_common::QoS;
/// let config = ServerConfig {
///     maximum_qos: QoS::AtLeastOnce,
///     max_keep_alive: Some(60),
///     ..ServerConfig::default()
/// };
/// assert_eq!(config.topic_alias_maximum, 10);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// How many QoS 1 and 2 PUBLISH the client may have unacknowledged towards us
    /// (Receive Maximum, §3.2.2.3.3); one more is answered with DISCONNECT 0x93.
    pub receive_maximum: u16,
    /// The highest QoS accepted in a PUBLISH or a Will (§3.2.2.3.4): above it, DISCONNECT
    /// or CONNACK 0x9B; subscriptions are granted at most this QoS.
    pub maximum_qos: QoS,
    /// Whether retained messages are accepted (§3.2.2.3.5): a retained PUBLISH or Will
    /// is otherwise answered with 0x9A.
    pub retain_available: bool,
    /// The largest packet accepted, in bytes (§3.2.2.3.6): a larger one is answered with
    /// DISCONNECT 0x95 before it is buffered.
    pub maximum_packet_size: u32,
    /// How many topic aliases the client may set (§3.2.2.3.8); 0: none.
    pub topic_alias_maximum: u16,
    /// Whether subscriptions may use `+` and `#` (§3.2.2.3.11).
    pub wildcard_subscription_available: bool,
    /// Whether subscriptions may carry a Subscription Identifier (§3.2.2.3.12).
    pub subscription_identifiers_available: bool,
    /// Whether `$share/...` subscriptions are accepted (§3.2.2.3.13).
    pub shared_subscription_available: bool,
    /// The longest Keep Alive the server lets a client choose, in seconds. A 5.0 client
    /// asking for more, or for none, is told this value as Server Keep Alive
    /// (§3.2.2.3.14); a 3.x client asking for more is refused (CONNACK 2), as mosquitto
    /// refuses it. `None`: any Keep Alive.
    pub max_keep_alive: Option<u16>,
    /// How long a new connection may take to send its CONNECT before it is closed.
    pub connect_timeout: Duration,
    /// How many deliveries may wait for the client's Receive Maximum to allow them;
    /// beyond it a delivery is dropped and reported so.
    pub max_queued_messages: usize,
    /// How many packets a client may send after its CONNECT before the CONNECT is
    /// answered; they are held, unprocessed, until then ([MQTT-3.1.4-5]).
    pub max_packets_before_connack: usize,
    /// Hold the acknowledgement (PUBACK, PUBREC) of each received QoS 1 or 2 PUBLISH
    /// until the broker releases it
    /// ([`release_acknowledgements`](super::ServerConnection::release_acknowledgements)),
    /// so that a broker acknowledges only what it has stored. Held acknowledgements
    /// count against the server's Receive Maximum.
    pub hold_acknowledgements: bool,
    /// How many PUBLISH packets a client may send per second, with a burst of one
    /// second's worth; one more ends its connection with DISCONNECT 0x96 Message rate
    /// too high (3.1.1: the connection is closed). `None`: any rate.
    pub max_publish_rate: Option<NonZeroU32>,
}

impl ServerConfig {
    /// The defaults: a general-purpose broker's limits.
    pub const DEFAULT: Self = Self {
        receive_maximum: 100,
        maximum_qos: QoS::ExactlyOnce,
        retain_available: true,
        maximum_packet_size: DEFAULT_MAX_PACKET_SIZE,
        topic_alias_maximum: 10,
        wildcard_subscription_available: true,
        subscription_identifiers_available: true,
        shared_subscription_available: true,
        max_keep_alive: None,
        connect_timeout: Duration::from_secs(10),
        max_queued_messages: 1000,
        max_packets_before_connack: 100,
        hold_acknowledgements: false,
        max_publish_rate: None,
    };
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}
