//! The [`NetworkInterface`]: how the broker core reaches connected clients, whatever
//! the transport (TCP, TLS, WebSocket) and I/O model the network module uses.

use crate::constants::ReasonCode;
use crate::error::Error;
use crate::message::Message;
use crate::packet::Packet;
use crate::packet::Publish;

/// Where a client's connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectionState {
    /// The transport is up; CONNECT has not been answered yet.
    Connecting,
    /// CONNACK accepted the client.
    Connected,
    /// A DISCONNECT is on its way, or the transport is closing.
    Disconnecting,
    /// No connection (or an unknown client).
    Disconnected,
}

impl ConnectionState {
    /// Every state as `(Python name, value)`: the table the Python `IntEnum` is checked
    /// against.
    pub const MEMBERS: &'static [(&'static str, u8)] = &[
        ("CONNECTING", 1),
        ("CONNECTED", 2),
        ("DISCONNECTING", 3),
        ("DISCONNECTED", 4),
    ];

    /// The state's value in [`ConnectionState::MEMBERS`].
    pub const fn as_u8(self) -> u8 {
        match self {
            Self::Connecting => 1,
            Self::Connected => 2,
            Self::Disconnecting => 3,
            Self::Disconnected => 4,
        }
    }

    /// The state with this value, if any.
    pub const fn from_u8(value: u8) -> Option<Self> {
        match value {
            1 => Some(Self::Connecting),
            2 => Some(Self::Connected),
            3 => Some(Self::Disconnecting),
            4 => Some(Self::Disconnected),
            _ => None,
        }
    }
}

/// The network layer, as the broker core sees it: send packets to clients, close their
/// connections, know who is connected.
///
/// Implementations are shared (`Send + Sync`, `&self`) and must not block: `send` queues
/// the packet for the connection's own writer and returns.
///
/// # Examples
/// ```
/// use std::sync::Mutex;
/// use mqtt_common::packet::Packet;
/// use mqtt_common::network::{ConnectionState, NetworkInterface};
/// use mqtt_common::{Error, Message, ReasonCode, TopicName};
///
/// #[derive(Default)]
/// struct Recorder(Mutex<Vec<(String, Packet)>>);
///
/// impl NetworkInterface for Recorder {
///     fn send(&self, client_id: &str, packet: &Packet) -> Result<(), Error> {
///         self.0.lock().unwrap().push((client_id.to_owned(), packet.clone()));
///         Ok(())
///     }
///     fn disconnect(&self, _: &str, _: Option<ReasonCode>) -> Result<(), Error> { Ok(()) }
///     fn connection_state(&self, client_id: &str) -> Result<ConnectionState, Error> {
///         Ok(if client_id == "c1" { ConnectionState::Connected } else { ConnectionState::Disconnected })
///     }
///     fn connected_clients(&self) -> Result<Vec<String>, Error> { Ok(vec!["c1".into()]) }
/// }
///
/// let network = Recorder::default();
/// assert!(network.is_connected("c1")?);
/// network.deliver("c1", &Message::new(TopicName::new("a")?, "hi")?)?;
/// assert!(matches!(network.0.lock().unwrap()[0].1, Packet::Publish(_)));
/// # Ok::<(), mqtt_common::Error>(())
/// ```
pub trait NetworkInterface: Send + Sync {
    /// Queues a packet for a client's connection.
    ///
    /// # Errors
    /// Whatever the network layer reports (an unknown client, a closed connection).
    fn send(&self, client_id: &str, packet: &Packet) -> Result<(), Error>;

    /// Closes a client's connection, sending DISCONNECT with this reason first (MQTT 5.0)
    /// when one is given.
    ///
    /// # Errors
    /// Whatever the network layer reports.
    fn disconnect(&self, client_id: &str, reason_code: Option<ReasonCode>) -> Result<(), Error>;

    /// Where a client's connection stands ([`ConnectionState::Disconnected`] for an
    /// unknown client).
    ///
    /// # Errors
    /// Whatever the network layer reports.
    fn connection_state(&self, client_id: &str) -> Result<ConnectionState, Error>;

    /// The identifiers of the clients currently connected.
    ///
    /// # Errors
    /// Whatever the network layer reports.
    fn connected_clients(&self) -> Result<Vec<String>, Error>;

    /// Whether a client is connected (built on [`connection_state`](Self::connection_state)).
    ///
    /// # Errors
    /// As `connection_state`.
    fn is_connected(&self, client_id: &str) -> Result<bool, Error> {
        Ok(self.connection_state(client_id)? == ConnectionState::Connected)
    }

    /// Sends a message to a client as a PUBLISH (built on [`send`](Self::send)). A QoS 1
    /// or 2 message must carry its packet identifier (see
    /// [`crate::Session::send_publish`]).
    ///
    /// # Errors
    /// As `send`, and a validation error for a QoS 1 or 2 message without an
    /// identifier.
    fn deliver(&self, client_id: &str, message: &Message) -> Result<(), Error> {
        self.send(client_id, &Packet::Publish(Publish::from_message(message)?))
    }
}
