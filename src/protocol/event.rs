//! What a [`ServerConnection`](super::ServerConnection) tells its broker.

use bytes::Bytes;

use crate::auth::AuthCredentials;
use crate::constants::{ProtocolVersion, ReasonCode};
use crate::error::Error;
use crate::message::{Message, Will};
use crate::packet::Connect;
use crate::packet_id::PacketId;
use crate::session::Session;
use crate::string::MqttString;
use crate::topic::{Subscription, TopicFilter};

/// Something the broker must know or decide, in the order the client's bytes caused it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// A client asks to connect: answer with
    /// [`accept`](super::ServerConnection::accept) or
    /// [`refuse`](super::ServerConnection::refuse), or continue an enhanced
    /// authentication with [`auth_continue`](super::ServerConnection::auth_continue).
    Connect(Box<ConnectRequest>),
    /// A step of an enhanced authentication (an AUTH packet, MQTT 5.0 §4.12): during the
    /// CONNECT, or a re-authentication once connected.
    Auth(AuthStep),
    /// A message the client published, to route to the subscribers: once per message,
    /// whatever its QoS (a QoS 2 resend of an unreleased message is not reported again).
    /// Its acknowledgement is sent with the next
    /// [`data_to_send`](super::ServerConnection::data_to_send), with Success unless
    /// [`set_publish_reason`](super::ServerConnection::set_publish_reason) said otherwise.
    Message(Message),
    /// A SUBSCRIBE: answer with
    /// [`answer_subscribe`](super::ServerConnection::answer_subscribe).
    Subscribe(SubscribeRequest),
    /// An UNSUBSCRIBE: answer with
    /// [`answer_unsubscribe`](super::ServerConnection::answer_unsubscribe).
    Unsubscribe(UnsubscribeRequest),
    /// The client has a message this connection delivered: its QoS 1 or 2 flow ended.
    Delivered(Delivered),
    /// A tagged delivery ended without reaching the client: it expired or grew too
    /// large while it waited for the client's Receive Maximum, or a 5.0 client refused
    /// it (PUBREC with a failure code). Only tagged deliveries are reported.
    Discarded(Discarded),
    /// The connection ended; nothing more will happen on it.
    Closed(Box<Closed>),
}

/// A CONNECT the broker must accept or refuse.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectRequest {
    /// The CONNECT as it arrived (client identifier possibly empty).
    pub connect: Connect,
    /// The client identifier, user name and password, for an
    /// [`AuthInterface`](crate::AuthInterface). The broker adds what the network knows
    /// (peer address, client certificate).
    pub credentials: AuthCredentials,
    /// Whether the client left its identifier empty: `accept` must then give one (5.0
    /// tells the client; 3.1.1 with Clean Session does not).
    pub needs_client_id: bool,
    /// The Session Expiry Interval asked for, in seconds: the 5.0 property (absent: 0),
    /// or for 3.x, `u32::MAX` (never) without Clean Session and 0 with it.
    pub session_expiry_interval: u32,
    /// The Authentication Method of an enhanced authentication (MQTT 5.0), if any.
    pub authentication_method: Option<MqttString>,
    /// The Authentication Data sent with it, if any.
    pub authentication_data: Option<Bytes>,
}

impl ConnectRequest {
    /// The client identifier asked for (empty: the server is to assign one).
    pub fn client_id(&self) -> &str {
        self.connect.client_id.as_str()
    }

    /// The protocol version the client speaks.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.connect.protocol_version
    }

    /// Clean Start (3.1.1: Clean Session): the client wants no previous session.
    pub fn clean_start(&self) -> bool {
        self.connect.clean_start
    }

    /// The Will, if any.
    pub fn will(&self) -> Option<&Will> {
        self.connect.will.as_ref()
    }
}

/// An AUTH packet from the client (MQTT 5.0 §3.15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthStep {
    /// Continue authentication (0x18) or Re-authenticate (0x19).
    pub reason_code: ReasonCode,
    /// The Authentication Method; the same as the CONNECT's ([MQTT-4.12.0-5]).
    pub authentication_method: Option<MqttString>,
    /// The Authentication Data, if any.
    pub authentication_data: Option<Bytes>,
}

/// A SUBSCRIBE the broker must answer, one reason code per subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeRequest {
    /// The packet identifier to answer.
    pub packet_id: PacketId,
    /// The subscriptions, in the order of the packet, each with the packet's
    /// Subscription Identifier if it had one.
    pub subscriptions: Vec<Subscription>,
    /// The packet's User Properties.
    pub user_properties: Vec<(MqttString, MqttString)>,
}

/// An UNSUBSCRIBE the broker must answer, one reason code per filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubscribeRequest {
    /// The packet identifier to answer.
    pub packet_id: PacketId,
    /// The filters, in the order of the packet.
    pub topic_filters: Vec<TopicFilter>,
    /// The packet's User Properties.
    pub user_properties: Vec<(MqttString, MqttString)>,
}

/// The end of an outgoing QoS 1 or 2 flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The packet identifier, now free again.
    pub packet_id: PacketId,
    /// The message, for a QoS 1 flow (a QoS 2 flow forgets it at PUBREC).
    pub message: Option<Message>,
    /// The tag given with the delivery, if any
    /// ([`deliver_tagged`](super::ServerConnection::deliver_tagged)).
    pub tag: Option<u64>,
}

/// A tagged delivery that ended without reaching the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discarded {
    /// The tag given with the delivery.
    pub tag: u64,
    /// The message, as far as the connection still had it.
    pub message: Option<Message>,
}

/// A delivery that waited for the client's Receive Maximum and was never sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undelivered {
    /// The message, as routed to this client.
    pub message: Message,
    /// The tag given with the delivery, if any.
    pub tag: Option<u64>,
}

/// Who ended a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Initiator {
    /// The client, with a DISCONNECT.
    Client,
    /// This side: a protocol error, a timeout, a refused CONNECT or a `disconnect` call.
    Server,
    /// Neither: the network connection was lost
    /// ([`connection_lost`](super::ServerConnection::connection_lost)).
    Network,
}

/// How a connection ended, and what the broker still has to do about it.
#[derive(Debug, Clone)]
pub struct Closed {
    /// Who ended it.
    pub initiator: Initiator,
    /// The reason: the client's DISCONNECT reason, the reason this side sent, or
    /// Unspecified error for a lost connection.
    pub reason_code: ReasonCode,
    /// The broken rule, when a protocol error or a timeout ended it.
    pub error: Option<Error>,
    /// The Will to publish, if one is due: the connection ended other than by a
    /// DISCONNECT with reason 0x00 ([MQTT-3.1.2-8], [MQTT-3.14.4-3]).
    pub will: Option<Will>,
    /// How long to wait before publishing the Will, in seconds: its Will Delay Interval,
    /// or the session's expiry if that comes first (§3.1.3.2.2).
    pub will_delay: u32,
    /// The Session Expiry Interval in force at the end (a 5.0 DISCONNECT may change it).
    pub session_expiry_interval: u32,
    /// The session as the connection left it, to save; `None` if it was never accepted.
    pub session: Option<Session>,
    /// Deliveries that were waiting for the client's Receive Maximum, never sent: the
    /// broker queues them for the session (QoS 1 and 2) or drops them (QoS 0).
    pub undelivered: Vec<Undelivered>,
}
