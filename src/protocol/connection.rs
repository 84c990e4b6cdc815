//! [`ServerConnection`]: one client connection's protocol rules, without I/O.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::auth::AuthCredentials;
use crate::codec::Decoder;
use crate::constants::{PacketType, PropertyContext, PropertyId, ProtocolVersion, QoS, ReasonCode};
use crate::detach::Detach;
use crate::error::{Error, ErrorKind, Violation};
use crate::message::{Message, Will};
use crate::metrics::Metrics;
use crate::packet::{
    AckProperties, Auth, Connack, Connect, Direction, Disconnect, Encode, Packet, PacketRef,
    Properties, PropertyValue, Puback, Pubcomp, Publish, Pubrec, Pubrel, Suback, Subscribe,
    Unsuback, Unsubscribe, encode_checked,
};
use crate::packet_id::PacketId;
use crate::protocol::config::ServerConfig;
use crate::protocol::event::{
    AuthStep, Closed, ConnectRequest, Delivered, Discarded, Event, Initiator, SubscribeRequest,
    Undelivered, UnsubscribeRequest,
};
use crate::protocol::outbound::{AliasTable, Route, WaitingQueue, count_down};
use crate::session::{OutgoingState, Session};
use crate::string::MqttString;
use crate::topic::is_sys_topic;

/// Where a connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectionPhase {
    /// Waiting for the client's CONNECT.
    AwaitingConnect,
    /// The CONNECT arrived; the broker has not accepted or refused it yet.
    Connecting,
    /// Accepted: packets flow both ways.
    Connected,
    /// Ended; nothing more happens.
    Closed,
}

impl ConnectionPhase {
    /// The state's name, in words ("awaiting CONNECT").
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingConnect => "awaiting CONNECT",
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Closed => "closed",
        }
    }

    /// The state's name in snake_case ("awaiting_connect"), as Python names it.
    pub fn name(self) -> &'static str {
        match self {
            Self::AwaitingConnect => "awaiting_connect",
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Closed => "closed",
        }
    }
}

/// What became of a [`ServerConnection::deliver`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeliveryOutcome {
    /// Written to the output.
    Sent,
    /// Waiting for the client's Receive Maximum to allow it; sent when an
    /// acknowledgement frees a place, or returned in [`Closed::undelivered`].
    Queued,
    /// Larger than the client's Maximum Packet Size: dropped, as the spec says, and
    /// treated as delivered ([MQTT-3.1.2-25]).
    TooLarge,
    /// Its Message Expiry Interval ran out while it waited ([MQTT-3.3.2-5]).
    Expired,
    /// Too many deliveries already wait ([`ServerConfig::max_queued_messages`]).
    QueueFull,
    /// The connection has ended (the [`Closed`] event may still be on its way to the
    /// router): queue the message for the session instead.
    Closed,
}

impl DeliveryOutcome {
    /// The outcome in snake_case ("sent", "too_large"), as Python names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Queued => "queued",
            Self::TooLarge => "too_large",
            Self::Expired => "expired",
            Self::QueueFull => "queue_full",
            Self::Closed => "closed",
        }
    }
}

/// How the broker accepts a CONNECT.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acceptance {
    /// Whether the session passed to [`ServerConnection::accept`] was resumed (CONNACK's
    /// Session Present). Must be `false` for a Clean Start CONNECT ([MQTT-3.2.2-2]).
    pub session_present: bool,
    /// The identifier the server assigned, required when the client left its own empty
    /// ([`ConnectRequest::needs_client_id`]); a 5.0 client is told it ([MQTT-3.2.2-16]).
    pub assigned_client_id: Option<MqttString>,
    /// Authentication Data for the CONNACK of an enhanced authentication.
    pub authentication_data: Option<Bytes>,
}

/// What the CONNECT said that the rest of the connection depends on.
#[derive(Debug)]
struct Peer {
    version: ProtocolVersion,
    client_id: MqttString,
    username: Option<MqttString>,
    keep_alive: u16,
    /// The Keep Alive the client asked for, when the server replaces it (5.0).
    server_keep_alive: Option<u16>,
    clean_start: bool,
    /// Boxed: most clients have none, and an idle connection should cost little.
    will: Option<Box<Will>>,
    session_expiry_interval: u32,
    receive_maximum: u16,
    maximum_packet_size: u32,
    topic_alias_maximum: u16,
    /// Boxed: enhanced authentication is rare.
    authentication_method: Option<Box<MqttString>>,
}

/// An acknowledgement of a received PUBLISH, written with the next `data_to_send` so
/// that the broker can still change its reason.
#[derive(Debug, Clone, Copy)]
struct PendingAck {
    qos: QoS,
    packet_id: PacketId,
    reason_code: ReasonCode,
    /// Its place among every acknowledgement this connection owed (from 1): released
    /// once the broker's mark reaches it ([`ServerConfig::hold_acknowledgements`]).
    number: u64,
}

/// Above this many bytes taken at once, an idle connection keeps its [`Traffic`].
const KEEP_ROOM_FROM: usize = 4096;

/// What a connection holds only while something is under way: bytes to send,
/// acknowledgements owed, packets held until the CONNECT is answered, deliveries
/// waiting for the client's Receive Maximum, and SUBSCRIBE and UNSUBSCRIBE requests
/// waiting for the broker's answer.
///
/// Boxed, and dropped once everything in it is done after a small write (when the bytes
/// are taken): most connections are idle most of the time, and each would otherwise
/// carry these empty containers, and the spare room of its last write.
#[derive(Debug)]
struct Traffic {
    out: BytesMut,
    acks: Vec<PendingAck>,
    /// How many of `acks` acknowledge QoS 1 (the QoS 2 ones are in the session).
    qos1_acks: usize,
    held: VecDeque<Packet>,
    waiting: WaitingQueue,
    // BTreeMaps: they allocate nothing while empty (most connections have no request
    // waiting).
    subscribes: BTreeMap<PacketId, PendingSubscribe>,
    unsubscribes: BTreeMap<PacketId, usize>,
}

impl Traffic {
    fn new(max_queued_messages: usize) -> Self {
        Self {
            out: BytesMut::new(),
            acks: Vec::new(),
            qos1_acks: 0,
            held: VecDeque::new(),
            waiting: WaitingQueue::new(max_queued_messages),
            subscribes: BTreeMap::new(),
            unsubscribes: BTreeMap::new(),
        }
    }

    /// Whether nothing is under way.
    fn is_done(&self) -> bool {
        self.out.is_empty()
            && self.acks.is_empty()
            && self.held.is_empty()
            && self.waiting.len() == 0
            && self.subscribes.is_empty()
            && self.unsubscribes.is_empty()
    }
}

/// A SUBSCRIBE waiting for the broker's answer: how many codes the broker gives, and
/// the codes this side already decided (a subscription a 3.x client cannot be told the
/// server does not support).
#[derive(Debug, Default)]
struct PendingSubscribe {
    asked: usize,
    refused: Vec<(usize, ReasonCode)>,
}

/// One client connection on a server, sans I/O: bytes in, events and bytes out.
///
/// The broker feeds it what the socket read ([`receive_data`](Self::receive_data)),
/// acts on the [`Event`]s it returns, answers with calls ([`accept`](Self::accept),
/// [`answer_subscribe`](Self::answer_subscribe), [`deliver`](Self::deliver), ...),
/// writes [`data_to_send`](Self::data_to_send) to the socket, and calls
/// [`handle_timeout`](Self::handle_timeout) at [`next_deadline`](Self::next_deadline).
/// Time is the caller's: every `now` is a [`Duration`] on one monotonic clock of its
/// choice (`Instant::now() - start`, Python's `time.monotonic()`).
///
/// Every per-connection rule of MQTT 3.1, 3.1.1 and 5.0 is kept here; a client that
/// breaks one gets a DISCONNECT with the reason (5.0) or a closed connection (3.x), and
/// an [`Event::Closed`] tells the broker. A call the state does not allow is a
/// [`StateError`](crate::ErrorKind::State) and changes nothing.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use mqtt_common::protocol::{Acceptance, Event, ServerConfig, ServerConnection};
/// use mqtt_common::{ProtocolVersion, Session};
///
/// let mut connection = ServerConnection::new(ServerConfig::default(), Duration::ZERO)?;
/// // CONNECT, MQTT 3.1.1, client "c1", keep alive 60 s
/// let events = connection.receive_data(b"\x10\x0e\x00\x04MQTT\x04\x02\x00\x3c\x00\x02c1", Duration::ZERO);
/// let Some(Event::Connect(request)) = events.first() else { panic!("{events:?}") };
/// assert_eq!(request.client_id(), "c1");
///
/// let session = Session::new("c1", ProtocolVersion::V311, true, 0)?;
/// connection.accept(session, Acceptance::default())?;
/// assert_eq!(&connection.data_to_send()[..], b"\x20\x02\x00\x00"); // CONNACK
/// # Ok::<(), mqtt_common::Error>(())
/// ```
#[derive(Debug)]
pub struct ServerConnection {
    /// Shared: a broker's connections have one configuration.
    config: Arc<ServerConfig>,
    phase: ConnectionPhase,
    decoder: Decoder,
    /// What is under way, while anything is (see [`Traffic`]).
    traffic: Option<Box<Traffic>>,
    /// How many acknowledgements of received PUBLISH this connection has owed, and up to
    /// which one the broker released them.
    acks_owed: u64,
    acks_released: u64,
    peer: Option<Peer>,
    session: Option<Session>,
    /// The topic aliases this side set, when the client allows any (boxed: most don't).
    aliases: Option<Box<AliasTable>>,
    reauthenticating: bool,
    /// When the last packet was read (before the CONNECT: when the connection opened).
    last_received: Duration,
    now: Duration,
    /// With a publish rate: when the next PUBLISH is due at that rate (the generic cell
    /// rate algorithm's theoretical arrival time).
    publish_due: Duration,
    /// The broker's counters, if it keeps any.
    metrics: Option<Arc<Metrics>>,
}

impl ServerConnection {
    /// A connection that has just been opened, at `now`, with `config` (a
    /// [`ServerConfig`], or an `Arc` of one that the broker's connections share).
    ///
    /// # Errors
    /// A validation error for a limit MQTT does not allow: a `receive_maximum` or
    /// `maximum_packet_size` of 0.
    pub fn new(config: impl Into<Arc<ServerConfig>>, now: Duration) -> Result<Self, Error> {
        let config = config.into();
        if config.receive_maximum == 0 {
            return Err(Error::invalid(
                "receive_maximum",
                Violation::ReceiveMaximumZero,
            ));
        }
        if config.maximum_packet_size == 0 {
            return Err(Error::invalid(
                "maximum_packet_size",
                Violation::PropertyOutOfRange {
                    property: PropertyId::MaximumPacketSize,
                    value: 0,
                },
            ));
        }
        let decoder = Decoder::new(Direction::FromClient)
            .with_max_packet_size(config.maximum_packet_size)
            .with_topic_alias_maximum(config.topic_alias_maximum);
        Ok(Self {
            config,
            phase: ConnectionPhase::AwaitingConnect,
            decoder,
            traffic: None,
            acks_owed: 0,
            acks_released: 0,
            peer: None,
            session: None,
            aliases: None,
            reauthenticating: false,
            last_received: now,
            publish_due: now,
            metrics: None,
            now,
        })
    }

    /// The limits this connection enforces.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Adds what this connection reads, writes, delivers and drops to `metrics` (the
    /// broker's counters, shared by its connections) from now on.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use mqtt_common::metrics::Metrics;
    /// use mqtt_common::protocol::{ServerConfig, ServerConnection};
    ///
    /// let metrics = Arc::new(Metrics::default());
    /// let mut engine = ServerConnection::new(ServerConfig::default(), Duration::ZERO).unwrap();
    /// engine.set_metrics(Arc::clone(&metrics));
    /// let connect = b"\x10\x0e\x00\x04MQTT\x04\x02\x00\x3c\x00\x02c1";
    /// engine.receive_data(connect, Duration::ZERO);
    /// let read = metrics.snapshot();
    /// assert_eq!((read.bytes_received, read.packets_received), (16, 1));
    /// ```
    pub fn set_metrics(&mut self, metrics: Arc<Metrics>) {
        self.metrics = Some(metrics);
    }

    /// Adds to the broker's counters, if any.
    fn count(&self, add: impl FnOnce(&Metrics)) {
        if let Some(metrics) = &self.metrics {
            add(metrics);
        }
    }

    /// Where the connection stands.
    pub fn phase(&self) -> ConnectionPhase {
        self.phase
    }

    /// Whether the connection ended: write the last [`data_to_send`](Self::data_to_send),
    /// then close the socket.
    pub fn is_closed(&self) -> bool {
        self.phase == ConnectionPhase::Closed
    }

    /// The client's protocol version, once its CONNECT arrived.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.peer.as_ref().map(|peer| peer.version)
    }

    /// The client identifier in force (the assigned one, if the server assigned it),
    /// once known.
    pub fn client_id(&self) -> Option<&str> {
        self.peer.as_ref().map(|peer| peer.client_id.as_str())
    }

    /// The user name of the CONNECT, once it arrived (for the log of a refusal the broker
    /// did not decide).
    pub fn username(&self) -> Option<&str> {
        self.peer.as_ref()?.username.as_deref()
    }

    /// The Keep Alive in force, in seconds (0: none), once the CONNECT arrived.
    pub fn keep_alive(&self) -> Option<u16> {
        self.peer.as_ref().map(|peer| peer.keep_alive)
    }

    /// The session, once accepted (save it when it changes, or at the end).
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// How many deliveries wait for the client's Receive Maximum.
    pub fn queued_count(&self) -> usize {
        self.traffic
            .as_ref()
            .map_or(0, |traffic| traffic.waiting.len())
    }

    /// Takes the bytes to write to the socket: everything in the order it was decided,
    /// then the acknowledgements of received PUBLISH packets, whose reasons the broker
    /// could change until now.
    pub fn data_to_send(&mut self) -> Bytes {
        self.flush_acks();
        let Some(traffic) = self.traffic.as_mut() else {
            return Bytes::new();
        };
        let data = traffic.out.split().freeze();
        // A connection that writes much keeps its room: the next write reuses it once
        // this one is sent, rather than growing a new buffer by doubling.
        if data.len() <= KEEP_ROOM_FROM && traffic.is_done() {
            self.traffic = None;
        }
        self.count(|m| m.sent(data.len()));
        data
    }

    /// The mark of every acknowledgement owed so far: once what the PUBLISH packets
    /// received up to now caused is stored, pass it to
    /// [`release_acknowledgements`](Self::release_acknowledgements).
    pub fn acknowledgement_mark(&self) -> u64 {
        self.acks_owed
    }

    /// Lets [`data_to_send`](Self::data_to_send) write the acknowledgements held up to
    /// `mark` (from [`acknowledgement_mark`](Self::acknowledgement_mark)), when the
    /// server holds them ([`ServerConfig::hold_acknowledgements`]); a PUBACK or PUBREC
    /// then tells the client only what the broker has stored. Marks only move forward.
    pub fn release_acknowledgements(&mut self, mark: u64) {
        self.acks_released = self.acks_released.max(mark.min(self.acks_owed));
    }

    /// Whether acknowledgements wait for [`release_acknowledgements`](Self::release_acknowledgements).
    pub fn holds_acknowledgements(&self) -> bool {
        self.config.hold_acknowledgements && self.acks_released < self.acks_owed
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next, on the
    /// caller's clock; `None` when no timer runs.
    pub fn next_deadline(&self) -> Option<Duration> {
        match self.phase {
            // Nothing was read yet: `last_received` is when the connection opened.
            ConnectionPhase::AwaitingConnect => {
                Some(self.last_received + self.config.connect_timeout)
            }
            ConnectionPhase::Connecting | ConnectionPhase::Connected => {
                let keep_alive = self.peer.as_ref().map_or(0, |peer| peer.keep_alive);
                (keep_alive != 0).then(|| self.last_received + keep_alive_limit(keep_alive))
            }
            ConnectionPhase::Closed => None,
        }
    }

    /// Runs the timers due at `now`: a connection that sent no CONNECT in time, or
    /// nothing for 1.5 times its Keep Alive ([MQTT-3.1.2-22]), is closed.
    pub fn handle_timeout(&mut self, now: Duration) -> Vec<Event> {
        self.now = self.now.max(now);
        let mut events = Vec::new();
        let Some(deadline) = self.next_deadline() else {
            return events;
        };
        if now < deadline {
            return events;
        }
        let violation = match self.phase {
            ConnectionPhase::AwaitingConnect => Violation::ConnectTimeout {
                seconds: self.config.connect_timeout.as_secs(),
            },
            _ => Violation::KeepAliveTimeout {
                keep_alive: self.peer.as_ref().map_or(0, |peer| peer.keep_alive),
            },
        };
        events.push(Event::Closed(Box::new(
            self.fail(Error::received(violation)),
        )));
        events
    }

    /// Hands the connection the bytes the socket read at `now`; returns what they
    /// caused, in order. After the connection ended, bytes are ignored.
    pub fn receive_data(&mut self, data: &[u8], now: Duration) -> Vec<Event> {
        self.count(|m| m.received(data.len()));
        self.receive(now, |decoder| decoder.feed(data))
    }

    /// [`receive_data`](Self::receive_data) for bytes the caller already holds as
    /// [`Bytes`]: when nothing is buffered, the messages' payloads share them instead
    /// of being copied.
    pub fn receive_bytes(&mut self, data: Bytes, now: Duration) -> Vec<Event> {
        self.count(|m| m.received(data.len()));
        self.receive(now, |decoder| decoder.feed_bytes(data))
    }

    fn receive(&mut self, now: Duration, feed: impl FnOnce(&mut Decoder)) -> Vec<Event> {
        let mut events = Vec::new();
        if self.is_closed() {
            return events;
        }
        self.now = self.now.max(now);
        feed(&mut self.decoder);
        self.read_packets(&mut events);
        events
    }

    /// The network connection was lost: the connection ends, and its Will is due if it
    /// was accepted. `None` if it had already ended.
    pub fn connection_lost(&mut self) -> Option<Closed> {
        if self.is_closed() {
            return None;
        }
        Some(self.close(Initiator::Network, ReasonCode::UnspecifiedError, None, true))
    }

    /// Accepts the CONNECT with `session`, which must belong to the client identifier
    /// in force, and queues the CONNACK, with the server's limits as 5.0 properties.
    /// With a resumed session, its unacknowledged deliveries are sent again with DUP
    /// ([MQTT-4.4.0-1]). Returns the events of the packets the client sent after its
    /// CONNECT, held until now ([MQTT-3.1.4-5]).
    ///
    /// A CONNACK larger than the client's Maximum Packet Size must not be sent
    /// ([MQTT-3.1.2-24]): the connection then ends without one, as mosquitto ends it, and
    /// the only event is the [`Closed`] that hands the session back.
    ///
    /// # Errors
    /// A state error, changing nothing, unless a CONNECT waits for an answer; a validation
    /// error for a session of another client, a missing or unneeded assigned client
    /// identifier, or Session Present with Clean Start.
    pub fn accept(
        &mut self,
        mut session: Session,
        acceptance: Acceptance,
    ) -> Result<Vec<Event>, Error> {
        self.expect_phase("accept", ConnectionPhase::Connecting)?;
        let Some(peer) = self.peer.as_mut() else {
            return Err(Error::state("accept", "no CONNECT arrived"));
        };
        let needs_client_id = peer.client_id.is_empty();
        let assigned = match (&acceptance.assigned_client_id, needs_client_id) {
            (Some(id), true) if !id.is_empty() => Some(id.clone()),
            (_, true) => {
                return Err(Error::state(
                    "accept",
                    "the client's identifier is empty: give an assigned_client_id",
                ));
            }
            (Some(_), false) => {
                return Err(Error::state(
                    "accept",
                    "the client chose its identifier: assigned_client_id must be None",
                ));
            }
            (None, false) => None,
        };
        let client_id = assigned.clone().unwrap_or_else(|| peer.client_id.clone());
        if session.client_id() != client_id.as_str() {
            return Err(Error::state(
                "accept",
                format!(
                    "the session belongs to '{}', not to '{}'",
                    session.client_id(),
                    client_id
                ),
            ));
        }
        if acceptance.session_present && peer.clean_start {
            return Err(Error::state(
                "accept",
                "a Clean Start CONNECT gets no session: session_present must be False",
            ));
        }
        let version = peer.version;
        let connack = connack(&self.config, peer, &acceptance, assigned.as_ref())?;
        let size = PacketRef::Connack(&connack).encoded_len(version);
        if size > peer.maximum_packet_size as usize {
            let err = Error::received(Violation::AnswerTooLarge {
                packet: PacketType::Connack,
                size,
                max: peer.maximum_packet_size,
            });
            peer.client_id = client_id;
            self.session = Some(session);
            let closed = self.close(
                Initiator::Server,
                ReasonCode::PacketTooLarge,
                Some(err),
                false,
            );
            return Ok(vec![Event::Closed(Box::new(closed))]);
        }
        session.set_receive_maximums(peer.receive_maximum, self.config.receive_maximum)?;
        if acceptance.session_present {
            session.resume(version, peer.session_expiry_interval);
        } else {
            session.clear_in_flight();
            session.set_expiry_interval(peer.session_expiry_interval);
        }
        peer.client_id = client_id;
        self.aliases = match version {
            ProtocolVersion::V5 if peer.topic_alias_maximum > 0 => {
                Some(Box::new(AliasTable::new(peer.topic_alias_maximum)))
            }
            _ => None,
        };
        self.write(PacketRef::Connack(&connack), version);
        self.decoder.connack_sent();
        self.phase = ConnectionPhase::Connected;
        self.count(Metrics::accepted);
        self.session = Some(session);
        self.resend_in_flight();
        let mut events = Vec::new();
        while let Some(packet) = self.traffic.as_mut().and_then(|t| t.held.pop_front()) {
            if self.is_closed() {
                break;
            }
            self.handle(packet, &mut events);
        }
        if !self.is_closed() {
            self.read_packets(&mut events);
        }
        Ok(events)
    }

    /// Refuses the CONNECT with `reason_code` (5.0; the closest 3.1.1 return code
    /// before) and ends the connection: write the last `data_to_send`, then close.
    ///
    /// # Errors
    /// A state error unless a CONNECT waits for an answer; a validation error for a
    /// code that is not a CONNACK failure.
    pub fn refuse(&mut self, reason_code: ReasonCode) -> Result<Closed, Error> {
        self.expect_phase("refuse", ConnectionPhase::Connecting)?;
        if !reason_code.is_error() {
            return Err(Error::invalid(
                "reason_code",
                Violation::ReasonCodeNotAllowed {
                    code: reason_code,
                    packet: PacketType::Connack,
                },
            ));
        }
        reason_code
            .in_table_of(PacketType::Connack)
            .map_err(|v| Error::invalid("reason_code", v))?;
        let version = self.protocol_version().unwrap_or(ProtocolVersion::V311);
        self.write(
            PacketRef::Connack(&Connack::refusing(reason_code, version)),
            version,
        );
        let auth = matches!(
            reason_code,
            ReasonCode::BadUserNameOrPassword | ReasonCode::NotAuthorized
        );
        self.count(|m| m.refused(auth));
        Ok(self.close(Initiator::Server, reason_code, None, false))
    }

    /// Sends an AUTH with Continue authentication and this Authentication Data, during
    /// an enhanced authentication: before `accept`, or during a re-authentication.
    ///
    /// # Errors
    /// A state error unless an enhanced authentication is under way.
    pub fn auth_continue(&mut self, authentication_data: Option<Bytes>) -> Result<(), Error> {
        self.send_auth(
            "auth_continue",
            ReasonCode::ContinueAuthentication,
            authentication_data,
        )
    }

    /// Ends a re-authentication with success (an AUTH with reason Success).
    ///
    /// # Errors
    /// A state error unless a re-authentication is under way.
    pub fn auth_success(&mut self, authentication_data: Option<Bytes>) -> Result<(), Error> {
        if !self.reauthenticating {
            return Err(Error::state(
                "auth_success",
                "no re-authentication is under way",
            ));
        }
        self.send_auth("auth_success", ReasonCode::Success, authentication_data)?;
        self.reauthenticating = false;
        Ok(())
    }

    /// Gives the acknowledgement of a received QoS 1 or 2 PUBLISH another reason code
    /// than Success (Not authorized, No matching subscribers, ...), before the next
    /// `data_to_send`. A 3.x client gets a plain acknowledgement, as 3.x has no reasons;
    /// a 5.0 QoS 2 message refused with a failure code ends its flow at PUBREC. Once the
    /// connection has ended, nothing is to be acknowledged and the call does nothing.
    ///
    /// # Errors
    /// A state error when no acknowledgement of `packet_id` waits; a validation error
    /// for a code outside the PUBACK and PUBREC tables.
    pub fn set_publish_reason(
        &mut self,
        packet_id: PacketId,
        reason_code: ReasonCode,
    ) -> Result<(), Error> {
        if self.is_closed() {
            return Ok(());
        }
        let ack = self.traffic.as_mut().and_then(|traffic| {
            traffic
                .acks
                .iter_mut()
                .find(|ack| ack.packet_id == packet_id)
        });
        let Some(ack) = ack else {
            return Err(Error::state(
                "set_publish_reason",
                format!("no acknowledgement of packet identifier {packet_id} is waiting"),
            ));
        };
        let table = match ack.qos {
            QoS::ExactlyOnce => PacketType::Pubrec,
            _ => PacketType::Puback,
        };
        reason_code
            .in_table_of(table)
            .map_err(|v| Error::invalid("reason_code", v))?;
        ack.reason_code = reason_code;
        Ok(())
    }

    /// Answers the SUBSCRIBE `packet_id` with one reason code per subscription of its
    /// [`SubscribeRequest`], in order: a granted QoS (lowered to the server's Maximum
    /// QoS) or a failure. Once the connection has ended (the client may send SUBSCRIBE
    /// and DISCONNECT in one read), the answer is dropped.
    ///
    /// A SUBACK larger than the client's Maximum Packet Size cannot be sent
    /// ([MQTT-3.1.2-24]) and the client would wait for it for ever: the connection ends
    /// (DISCONNECT 0x95 for 5.0), and the [`Closed`] is returned.
    ///
    /// # Errors
    /// A state error when no SUBSCRIBE `packet_id` waits for an answer; a validation
    /// error for the wrong number of codes or a code outside the SUBACK table.
    pub fn answer_subscribe(
        &mut self,
        packet_id: PacketId,
        reason_codes: &[ReasonCode],
    ) -> Result<Option<Closed>, Error> {
        let requests = self.traffic.as_ref().map(|traffic| &traffic.subscribes);
        let Some(pending) = self.request("answer_subscribe", requests, packet_id)? else {
            return Ok(None);
        };
        check_answer_count(PacketType::Suback, pending.asked, reason_codes.len())?;
        let maximum = self.config.maximum_qos;
        let mut codes = Vec::with_capacity(pending.asked + pending.refused.len());
        let mut given = reason_codes.iter();
        for position in 0..pending.asked + pending.refused.len() {
            let refused = pending.refused.iter().find(|(at, _)| *at == position);
            let code = match refused {
                Some((_, code)) => *code,
                None => lower_grant(
                    *given.next().unwrap_or(&ReasonCode::UnspecifiedError),
                    maximum,
                ),
            };
            codes.push(code);
        }
        let suback = Suback::new(packet_id, codes, AckProperties::default())?;
        self.traffic().subscribes.remove(&packet_id);
        Ok(self.write_answer(PacketRef::Suback(&suback)))
    }

    /// Answers the UNSUBSCRIBE `packet_id` with one reason code per filter (sent to 5.0
    /// clients; a 3.x UNSUBACK carries none). Once the connection has ended, the answer
    /// is dropped. An UNSUBACK larger than the client's Maximum Packet Size ends the
    /// connection, as [`answer_subscribe`](Self::answer_subscribe) says.
    ///
    /// # Errors
    /// A state error when no UNSUBSCRIBE `packet_id` waits for an answer; a validation
    /// error for the wrong number of codes or a code outside the UNSUBACK table.
    pub fn answer_unsubscribe(
        &mut self,
        packet_id: PacketId,
        reason_codes: &[ReasonCode],
    ) -> Result<Option<Closed>, Error> {
        let requests = self.traffic.as_ref().map(|traffic| &traffic.unsubscribes);
        let Some(&asked) = self.request("answer_unsubscribe", requests, packet_id)? else {
            return Ok(None);
        };
        check_answer_count(PacketType::Unsuback, asked, reason_codes.len())?;
        let codes = match self.protocol_version() {
            Some(ProtocolVersion::V5) => reason_codes.to_vec(),
            _ => {
                for code in reason_codes {
                    code.in_table_of(PacketType::Unsuback)
                        .map_err(|v| Error::invalid("reason_codes", v))?;
                }
                Vec::new()
            }
        };
        let unsuback = Unsuback::new(packet_id, codes, AckProperties::default())?;
        self.traffic().unsubscribes.remove(&packet_id);
        Ok(self.write_answer(PacketRef::Unsuback(&unsuback)))
    }

    /// Delivers a message the broker routed to this client through `route` (its
    /// [`Subscription`](crate::Subscription), or the [`Delivery`](crate::Delivery) of
    /// several overlapping ones): at the lower of the two QoS, with the subscription
    /// identifiers, the RETAIN flag the subscription asks for, a topic alias when the
    /// client allows them, and a packet identifier from the session for QoS 1 and 2.
    /// No Local is the router's to apply: it knows who published.
    ///
    /// # Errors
    /// A state error before the connection is accepted. Once it has ended, the outcome
    /// is [`DeliveryOutcome::Closed`]: the broker queues for the offline session.
    pub fn deliver(
        &mut self,
        message: &Message,
        route: &Route,
        now: Duration,
    ) -> Result<DeliveryOutcome, Error> {
        self.deliver_tagged(message, route, now, None)
    }

    /// [`deliver`](Self::deliver), with the caller's `tag` for the delivery (a router's
    /// entry number): a QoS 1 or 2 delivery reports it back when its flow ends
    /// ([`Delivered::tag`]), when it is discarded unsent ([`Event::Discarded`]), or when
    /// the connection ends before it was sent ([`Undelivered::tag`]); a flow under way
    /// keeps it in the session ([`InFlight::tag`](crate::session::InFlight::tag)).
    ///
    /// # Errors
    /// As [`deliver`](Self::deliver).
    pub fn deliver_tagged(
        &mut self,
        message: &Message,
        route: &Route,
        now: Duration,
        tag: Option<u64>,
    ) -> Result<DeliveryOutcome, Error> {
        if self.is_closed() {
            return Ok(DeliveryOutcome::Closed);
        }
        self.expect_phase("deliver", ConnectionPhase::Connected)?;
        self.now = self.now.max(now);
        let message = route.apply(message);
        if message.qos() == QoS::AtMostOnce {
            return Ok(self.send_message(message, None, None));
        }
        if self.queued_count() > 0 || !self.has_quota() {
            let now = self.now;
            return Ok(if self.traffic().waiting.push(message, now, tag) {
                DeliveryOutcome::Queued
            } else {
                self.count(Metrics::dropped_queue_full);
                DeliveryOutcome::QueueFull
            });
        }
        Ok(self.send_tracked(message, tag))
    }

    /// Ends the connection from this side with `reason_code`: a DISCONNECT for a 5.0
    /// client, a closed connection for 3.x. The Will is due (only the client's own
    /// normal DISCONNECT cancels it).
    ///
    /// # Errors
    /// A state error unless the connection is accepted and open (before, use
    /// [`refuse`](Self::refuse)); a validation error for a code outside the DISCONNECT
    /// table or one only a client sends.
    pub fn disconnect(&mut self, reason_code: ReasonCode) -> Result<Closed, Error> {
        self.expect_phase("disconnect", ConnectionPhase::Connected)?;
        if reason_code == ReasonCode::DisconnectWithWillMessage {
            return Err(Error::invalid(
                "reason_code",
                Violation::WrongSender {
                    what: reason_code.name(),
                    sender: crate::error::Side::Server,
                },
            ));
        }
        let disconnect = Disconnect::new(reason_code, Properties::default())?;
        self.flush_acks();
        if self.protocol_version() == Some(ProtocolVersion::V5) {
            self.write_own(PacketRef::Disconnect(&disconnect));
        }
        Ok(self.close(Initiator::Server, reason_code, None, true))
    }

    // ---- reading ----

    /// Decodes and handles what the decoder holds; while a CONNECT waits for its
    /// answer, packets are held rather than handled.
    fn read_packets(&mut self, events: &mut Vec<Event>) {
        while !self.is_closed() {
            match self.decoder.next_packet() {
                Ok(None) => break,
                Ok(Some(packet)) => {
                    self.last_received = self.now;
                    self.count(Metrics::packet_received);
                    // AUTH continues the CONNECT, DISCONNECT abandons it: both are
                    // handled at once; anything else waits for the answer.
                    if self.phase == ConnectionPhase::Connecting
                        && !matches!(packet, Packet::Auth(_) | Packet::Disconnect(_))
                    {
                        self.hold(packet, events);
                    } else {
                        self.handle(packet, events);
                    }
                }
                Err(err) => events.push(Event::Closed(Box::new(self.fail(err)))),
            }
        }
    }

    fn hold(&mut self, packet: Packet, events: &mut Vec<Event>) {
        let limit = self.config.max_packets_before_connack;
        if self.traffic().held.len() >= limit {
            let err = Error::received(Violation::TooManyPacketsBeforeConnack { limit });
            events.push(Event::Closed(Box::new(self.fail(err))));
            return;
        }
        self.traffic().held.push_back(packet);
    }

    fn handle(&mut self, packet: Packet, events: &mut Vec<Event>) {
        let result = match packet {
            Packet::Connect(connect) => self.on_connect(*connect, events),
            Packet::Publish(publish) => self.on_publish(publish, events),
            Packet::Puback(puback) => self.on_puback(puback.packet_id(), events),
            Packet::Pubrec(pubrec) => self.on_pubrec(&pubrec, events),
            Packet::Pubrel(pubrel) => {
                self.on_pubrel(pubrel.packet_id());
                Ok(())
            }
            Packet::Pubcomp(pubcomp) => self.on_pubcomp(pubcomp.packet_id(), events),
            Packet::Subscribe(subscribe) => self.on_subscribe(subscribe, events),
            Packet::Unsubscribe(unsubscribe) => self.on_unsubscribe(unsubscribe, events),
            Packet::Pingreq => {
                self.write_own(PacketRef::Pingresp);
                Ok(())
            }
            Packet::Disconnect(disconnect) => {
                events.push(Event::Closed(Box::new(self.on_disconnect(&disconnect))));
                Ok(())
            }
            Packet::Auth(auth) => self.on_auth(&auth, events),
            // The decoder refuses what a client never sends.
            other => Err(Error::received(Violation::PacketFromWrongSide {
                packet: other.packet_type(),
                sender: crate::error::Side::Client,
            })),
        };
        if let Err(err) = result {
            events.push(Event::Closed(Box::new(self.fail(err))));
        }
    }

    fn on_connect(&mut self, connect: Connect, events: &mut Vec<Event>) -> Result<(), Error> {
        let version = connect.protocol_version;
        let v5 = version == ProtocolVersion::V5;
        let property = |id| connect.properties.get(id).and_then(PropertyValue::as_u32);
        let session_expiry_interval = match (v5, connect.clean_start) {
            (true, _) => property(PropertyId::SessionExpiryInterval).unwrap_or(0),
            (false, true) => 0,
            (false, false) => u32::MAX,
        };
        let (keep_alive, server_keep_alive) = match self.config.max_keep_alive {
            Some(maximum) if connect.keep_alive == 0 || connect.keep_alive > maximum => {
                if !v5 && connect.keep_alive > maximum {
                    self.peer = Some(peer_of(&connect, 0, None, 0));
                    return Err(Error::received(Violation::KeepAliveAboveMaximum {
                        keep_alive: connect.keep_alive,
                        maximum,
                    }));
                }
                if v5 {
                    (maximum, Some(maximum))
                } else {
                    (connect.keep_alive, None)
                }
            }
            _ => (connect.keep_alive, None),
        };
        self.peer = Some(peer_of(
            &connect,
            keep_alive,
            server_keep_alive,
            session_expiry_interval,
        ));
        if let Some(will) = &connect.will {
            self.check_qos(will.message.qos())?;
            if will.message.retain() && !self.config.retain_available {
                return Err(Error::received(Violation::RetainNotAvailable));
            }
            if is_sys_topic(will.message.topic().as_str()) {
                return Err(Error::received(Violation::WillToServerTopic));
            }
        }
        let string = |id| match connect.properties.get(id) {
            Some(PropertyValue::String(text)) => Some(text.clone()),
            _ => None,
        };
        let authentication_method = string(PropertyId::AuthenticationMethod);
        let authentication_data = match connect.properties.get(PropertyId::AuthenticationData) {
            Some(PropertyValue::Binary(data)) => Some(data.clone()),
            _ => None,
        };
        let mut credentials = AuthCredentials::new(connect.client_id.as_str())?;
        if let Some(username) = &connect.username {
            credentials = credentials.with_username(username.as_str())?;
        }
        if let Some(password) = &connect.password {
            credentials = credentials.with_password(password.clone());
        }
        self.phase = ConnectionPhase::Connecting;
        events.push(Event::Connect(Box::new(ConnectRequest {
            needs_client_id: connect.client_id.is_empty(),
            session_expiry_interval,
            credentials,
            authentication_method,
            authentication_data,
            connect,
        })));
        Ok(())
    }

    /// Counts a PUBLISH against the configured rate: a burst of one second's worth, then
    /// `rate` per second.
    fn count_publish(&mut self, rate: std::num::NonZeroU32) -> Result<(), Error> {
        const BURST: Duration = Duration::from_secs(1);
        let due = self.publish_due.max(self.now) + BURST / rate.get();
        if due > self.now + BURST {
            return Err(Error::received(Violation::MessageRateTooHigh {
                limit: rate.get(),
            }));
        }
        self.publish_due = due;
        Ok(())
    }

    fn on_publish(&mut self, publish: Publish, events: &mut Vec<Event>) -> Result<(), Error> {
        self.count(|m| m.message_received(publish.qos()));
        if let Some(rate) = self.config.max_publish_rate {
            self.count_publish(rate)?;
        }
        self.check_qos(publish.qos())?;
        if publish.retain() && !self.config.retain_available {
            return Err(Error::received(Violation::RetainNotAvailable));
        }
        // The decoder resolved any topic alias: a message always has its topic here.
        let Some(mut message) = publish.to_message() else {
            return Err(Error::received(Violation::EmptyTopicWithoutAlias));
        };
        if message.properties().topic_alias.is_some() {
            // The alias is this connection's business, not the subscribers'.
            let mut properties = message.properties().clone();
            properties.topic_alias = None;
            message = message.to_builder().properties(properties).build()?;
        }
        // $SYS is the server's (§4.7.2): a client's message there goes nowhere, and a
        // 5.0 client is told it is not authorized.
        let reserved = is_sys_topic(message.topic().as_str());
        let Some(packet_id) = message.message_id() else {
            if !reserved {
                events.push(Event::Message(message));
            }
            return Ok(());
        };
        let qos = message.qos();
        let qos1_acks = self.traffic.as_ref().map_or(0, |traffic| traffic.qos1_acks);
        let session = self.session_mut()?;
        let unacknowledged = session.incoming_count() + qos1_acks;
        let resend = qos == QoS::ExactlyOnce && session.incoming().any(|id| id == packet_id);
        if !resend && unacknowledged >= usize::from(self.config.receive_maximum) {
            return Err(Error::received(Violation::ReceiveMaximumExceeded {
                limit: self.config.receive_maximum,
            }));
        }
        let new = match qos {
            QoS::ExactlyOnce => self.session_mut()?.publish_received(&message)?,
            _ => true,
        };
        self.acks_owed += 1;
        let number = self.acks_owed;
        let traffic = self.traffic();
        traffic.acks.push(PendingAck {
            qos,
            packet_id,
            reason_code: if reserved {
                ReasonCode::NotAuthorized
            } else {
                ReasonCode::Success
            },
            number,
        });
        if qos == QoS::AtLeastOnce {
            traffic.qos1_acks += 1;
        }
        if new && !reserved {
            events.push(Event::Message(message));
        }
        Ok(())
    }

    fn on_puback(&mut self, packet_id: PacketId, events: &mut Vec<Event>) -> Result<(), Error> {
        let session = self.session_mut()?;
        let tag = session.tag_of(packet_id);
        match session.puback_received(packet_id) {
            Ok(message) => {
                events.push(Event::Delivered(Delivered {
                    packet_id,
                    message: Some(message),
                    tag,
                }));
                self.send_waiting(events);
                Ok(())
            }
            Err(err) => ignore_unknown_id(err),
        }
    }

    fn on_pubrec(&mut self, pubrec: &Pubrec, events: &mut Vec<Event>) -> Result<(), Error> {
        let packet_id = pubrec.packet_id();
        let session = self.session_mut()?;
        if pubrec.reason_code().is_error() {
            // The client refused the message: the flow ends without PUBREL.
            let tag = session.tag_of(packet_id);
            return match session.pubrec_failure_received(packet_id) {
                Ok(()) => {
                    if let Some(tag) = tag {
                        events.push(Event::Discarded(Discarded { tag, message: None }));
                    }
                    self.send_waiting(events);
                    Ok(())
                }
                Err(err) => ignore_unknown_id(err),
            };
        }
        let reason_code = match session.pubrec_received(packet_id) {
            Ok(()) => ReasonCode::Success,
            Err(err) => {
                ignore_unknown_id(err)?;
                ReasonCode::PacketIdentifierNotFound
            }
        };
        let pubrel = self.ack_for_version(Pubrel::new(packet_id), reason_code)?;
        self.write_own(PacketRef::Pubrel(&pubrel));
        Ok(())
    }

    fn on_pubrel(&mut self, packet_id: PacketId) {
        // An unknown identifier is answered, not refused (§4.3.3).
        let known = self
            .session
            .as_mut()
            .is_some_and(|session| session.pubrel_received(packet_id).is_ok());
        let reason_code = if known {
            ReasonCode::Success
        } else {
            ReasonCode::PacketIdentifierNotFound
        };
        // Both codes are in the PUBCOMP table.
        if let Ok(pubcomp) = self.ack_for_version(Pubcomp::new(packet_id), reason_code) {
            self.write_own(PacketRef::Pubcomp(&pubcomp));
        }
    }

    fn on_pubcomp(&mut self, packet_id: PacketId, events: &mut Vec<Event>) -> Result<(), Error> {
        let session = self.session_mut()?;
        let tag = session.tag_of(packet_id);
        match session.pubcomp_received(packet_id) {
            Ok(()) => {
                events.push(Event::Delivered(Delivered {
                    packet_id,
                    message: None,
                    tag,
                }));
                self.send_waiting(events);
                Ok(())
            }
            Err(err) => ignore_unknown_id(err),
        }
    }

    fn on_subscribe(&mut self, subscribe: Subscribe, events: &mut Vec<Event>) -> Result<(), Error> {
        let packet_id = subscribe.packet_id();
        if self.traffic().subscribes.contains_key(&packet_id) {
            return Err(Error::received(Violation::PacketIdInUse {
                id: packet_id.get(),
            }));
        }
        let v5 = self.protocol_version() == Some(ProtocolVersion::V5);
        let mut pending = PendingSubscribe::default();
        let mut subscriptions = Vec::with_capacity(subscribe.subscriptions().len());
        for (position, subscription) in subscribe.subscriptions().iter().enumerate() {
            let filter = subscription.topic_filter();
            let unsupported = if filter.is_shared() && !self.config.shared_subscription_available {
                Some(Violation::SharedSubscriptionsNotAvailable)
            } else if filter.has_wildcards() && !self.config.wildcard_subscription_available {
                Some(Violation::WildcardSubscriptionsNotAvailable)
            } else if subscription.subscription_id().is_some()
                && !self.config.subscription_identifiers_available
            {
                Some(Violation::SubscriptionIdentifiersNotAvailable)
            } else {
                None
            };
            match unsupported {
                // A 5.0 client was told, and broke the rule (§3.2.2.3.11-13).
                Some(violation) if v5 => return Err(Error::received(violation)),
                Some(_) => pending
                    .refused
                    .push((position, ReasonCode::UnspecifiedError)),
                None => subscriptions.push(subscription.clone()),
            }
        }
        pending.asked = subscriptions.len();
        let asked = pending.asked;
        self.traffic().subscribes.insert(packet_id, pending);
        if asked == 0 {
            // Nothing for the broker to decide: every filter was refused here.
            if let Some(closed) = self.answer_subscribe(packet_id, &[])? {
                events.push(Event::Closed(Box::new(closed)));
            }
            return Ok(());
        }
        events.push(Event::Subscribe(SubscribeRequest {
            packet_id,
            subscriptions,
            user_properties: subscribe.user_properties().to_vec(),
        }));
        Ok(())
    }

    fn on_unsubscribe(
        &mut self,
        unsubscribe: Unsubscribe,
        events: &mut Vec<Event>,
    ) -> Result<(), Error> {
        let packet_id = unsubscribe.packet_id();
        if self.traffic().unsubscribes.contains_key(&packet_id) {
            return Err(Error::received(Violation::PacketIdInUse {
                id: packet_id.get(),
            }));
        }
        self.traffic()
            .unsubscribes
            .insert(packet_id, unsubscribe.topic_filters().len());
        events.push(Event::Unsubscribe(UnsubscribeRequest {
            packet_id,
            topic_filters: unsubscribe.topic_filters().to_vec(),
            user_properties: unsubscribe.user_properties().to_vec(),
        }));
        Ok(())
    }

    fn on_disconnect(&mut self, disconnect: &Disconnect) -> Closed {
        if let Some(interval) = disconnect.session_expiry_interval() {
            if let Some(peer) = self.peer.as_mut() {
                peer.session_expiry_interval = interval;
            }
            if let Some(session) = self.session.as_mut() {
                session.set_expiry_interval(interval);
            }
        }
        // Only a normal disconnection deletes the Will ([MQTT-3.14.4-3]).
        let will_due = disconnect.reason_code() != ReasonCode::Success;
        self.close(Initiator::Client, disconnect.reason_code(), None, will_due)
    }

    fn on_auth(&mut self, auth: &Auth, events: &mut Vec<Event>) -> Result<(), Error> {
        let method = match auth.properties().get(PropertyId::AuthenticationMethod) {
            Some(PropertyValue::String(text)) => Some(text.clone()),
            _ => None,
        };
        let expected = self
            .peer
            .as_ref()
            .and_then(|peer| peer.authentication_method.as_deref().cloned());
        if method != expected {
            return Err(Error::received(Violation::AuthenticationMethodChanged));
        }
        let reason_code = auth.reason_code();
        let allowed = match (self.phase, reason_code) {
            (ConnectionPhase::Connecting, ReasonCode::ContinueAuthentication) => true,
            (ConnectionPhase::Connected, ReasonCode::ReAuthenticate) => {
                self.reauthenticating = true;
                true
            }
            (ConnectionPhase::Connected, ReasonCode::ContinueAuthentication) => {
                self.reauthenticating
            }
            _ => false,
        };
        if !allowed {
            return Err(Error::received(Violation::UnexpectedAuth {
                reason: reason_code,
            }));
        }
        let authentication_data = match auth.properties().get(PropertyId::AuthenticationData) {
            Some(PropertyValue::Binary(data)) => Some(data.clone()),
            _ => None,
        };
        events.push(Event::Auth(AuthStep {
            reason_code,
            authentication_method: method,
            authentication_data,
        }));
        Ok(())
    }

    // ---- writing ----

    /// Writes an answer whose size depends on the request (SUBACK, UNSUBACK) if the
    /// client accepts a packet that large; else ends the connection ([MQTT-3.1.2-24]).
    fn write_answer(&mut self, packet: PacketRef<'_>) -> Option<Closed> {
        let version = self.protocol_version().unwrap_or(ProtocolVersion::V311);
        let max = self
            .peer
            .as_ref()
            .map_or(u32::MAX, |peer| peer.maximum_packet_size);
        let size = packet.encoded_len(version);
        if size <= max as usize {
            self.write(packet, version);
            return None;
        }
        Some(self.fail(Error::received(Violation::AnswerTooLarge {
            packet: packet.packet_type(),
            size,
            max,
        })))
    }

    /// Writes a packet this side built, in the connection's version.
    fn write_own(&mut self, packet: PacketRef<'_>) {
        let version = self.protocol_version().unwrap_or(ProtocolVersion::V311);
        self.write(packet, version);
    }

    fn write(&mut self, packet: PacketRef<'_>, version: ProtocolVersion) {
        // Everything written here was built for this version by this side: it encodes.
        let _ = packet.encode(version, &mut self.traffic().out);
        self.count(Metrics::packet_sent);
    }

    fn flush_acks(&mut self) {
        let Some(traffic) = self.traffic.as_mut().filter(|t| !t.acks.is_empty()) else {
            return;
        };
        let mut due = std::mem::take(&mut traffic.acks);
        if self.config.hold_acknowledgements {
            let released = self.acks_released;
            // Acknowledgements are owed in order: the released ones are a prefix.
            let held = due.iter().position(|ack| ack.number > released);
            if let Some(at) = held {
                traffic.acks = due.split_off(at);
            }
        }
        traffic.qos1_acks = traffic
            .acks
            .iter()
            .filter(|ack| ack.qos == QoS::AtLeastOnce)
            .count();
        let version = self.protocol_version().unwrap_or(ProtocolVersion::V311);
        for ack in due {
            let reason_code = match version {
                ProtocolVersion::V5 => ack.reason_code,
                _ => ReasonCode::Success,
            };
            let result = match ack.qos {
                QoS::ExactlyOnce => Pubrec::new(ack.packet_id)
                    .with_reason(reason_code, AckProperties::default())
                    .map(|pubrec| self.write(PacketRef::Pubrec(&pubrec), version)),
                _ => Puback::new(ack.packet_id)
                    .with_reason(reason_code, AckProperties::default())
                    .map(|puback| self.write(PacketRef::Puback(&puback), version)),
            };
            debug_assert!(result.is_ok(), "set_publish_reason checked the code");
            if ack.qos == QoS::ExactlyOnce && reason_code.is_error() {
                // A refused QoS 2 message ends its flow at PUBREC: no PUBREL will come.
                if let Some(session) = self.session.as_mut() {
                    let _ = session.pubrel_received(ack.packet_id);
                }
            }
        }
    }

    fn send_auth(
        &mut self,
        call: &'static str,
        reason_code: ReasonCode,
        data: Option<Bytes>,
    ) -> Result<(), Error> {
        let under_way = match self.phase {
            ConnectionPhase::Connecting => self.decoder.is_authenticating(),
            ConnectionPhase::Connected => self.reauthenticating,
            _ => false,
        };
        let method = self
            .peer
            .as_ref()
            .and_then(|peer| peer.authentication_method.as_deref().cloned());
        let Some(method) = method.filter(|_| under_way) else {
            return Err(Error::state(
                call,
                "no enhanced authentication is under way",
            ));
        };
        let mut items = vec![(
            PropertyId::AuthenticationMethod,
            PropertyValue::String(method),
        )];
        if let Some(data) = data {
            items.push((PropertyId::AuthenticationData, PropertyValue::Binary(data)));
        }
        let properties = Properties::new(items, PropertyContext::Packet(PacketType::Auth))?;
        let auth = Auth::new(reason_code, properties)?;
        self.write_own(PacketRef::Auth(&auth));
        Ok(())
    }

    /// An acknowledgement with `reason_code` for a 5.0 client, plain for 3.x.
    fn ack_for_version<A: WithReason>(&self, ack: A, reason_code: ReasonCode) -> Result<A, Error> {
        if self.protocol_version() == Some(ProtocolVersion::V5)
            && reason_code != ReasonCode::Success
        {
            return ack.reason(reason_code);
        }
        Ok(ack)
    }

    fn resend_in_flight(&mut self) {
        let (Some(session), Some(version)) = (self.session.as_ref(), self.protocol_version())
        else {
            return;
        };
        let resend: Vec<(PacketId, OutgoingState, Option<Message>)> = session
            .outgoing()
            .map(|(id, flight)| (id, flight.state, flight.message.clone()))
            .collect();
        for (packet_id, state, message) in resend {
            match (state, message) {
                (OutgoingState::AwaitingPubcomp, _) => {
                    self.write(PacketRef::Pubrel(&Pubrel::new(packet_id)), version);
                }
                (_, Some(message)) => {
                    if let Ok(publish) = Publish::from_message(&message) {
                        self.write(PacketRef::Publish(&publish.redelivery()), version);
                    }
                }
                (_, None) => {}
            }
        }
    }

    /// Whether the client's Receive Maximum allows one more QoS 1 or 2 delivery.
    fn has_quota(&self) -> bool {
        self.session.as_ref().is_some_and(|session| {
            session.outgoing_count() < usize::from(session.receive_maximum())
        })
    }

    /// Sends what waits, while the client's Receive Maximum allows; a tagged delivery
    /// that expired meanwhile or no longer fits is reported discarded.
    fn send_waiting(&mut self, events: &mut Vec<Event>) {
        while self.has_quota() {
            let Some(waiting) = self.traffic.as_mut().and_then(|t| t.waiting.pop()) else {
                return;
            };
            let waited = self.now.saturating_sub(waiting.since);
            let tag = waiting.tag;
            let outcome = match count_down(waiting.message, waited) {
                Some(message) => self.send_tracked(message, tag),
                None => {
                    self.count(Metrics::dropped_expired);
                    DeliveryOutcome::Expired
                }
            };
            if let (DeliveryOutcome::Expired | DeliveryOutcome::TooLarge, Some(tag)) =
                (outcome, tag)
            {
                events.push(Event::Discarded(Discarded { tag, message: None }));
            }
        }
    }

    /// Sends a QoS 1 or 2 message with a packet identifier from the session.
    fn send_tracked(&mut self, message: Message, tag: Option<u64>) -> DeliveryOutcome {
        let Some(session) = self.session.as_mut() else {
            return DeliveryOutcome::QueueFull;
        };
        let Ok(packet_id) = session.next_packet_id() else {
            let now = self.now;
            return if self.traffic().waiting.push(message, now, tag) {
                DeliveryOutcome::Queued
            } else {
                DeliveryOutcome::QueueFull
            };
        };
        self.send_message(message, Some(packet_id), tag)
    }

    /// Writes a PUBLISH for `message`, with `packet_id` for QoS 1 and 2 (the flow then
    /// starts in the session), unless it is larger than the client accepts.
    fn send_message(
        &mut self,
        message: Message,
        packet_id: Option<PacketId>,
        tag: Option<u64>,
    ) -> DeliveryOutcome {
        let Some(peer) = self.peer.as_ref() else {
            return DeliveryOutcome::QueueFull;
        };
        let version = peer.version;
        let maximum = peer.maximum_packet_size;
        let message = match packet_id {
            Some(id) => match message.to_builder().message_id(Some(id)).build() {
                Ok(message) => message,
                Err(_) => return DeliveryOutcome::TooLarge,
            },
            None => message,
        };
        if message.as_ref().encoded_len(version) > maximum as usize {
            self.count(Metrics::dropped_too_large);
            return DeliveryOutcome::TooLarge;
        }
        if packet_id.is_some() {
            let Some(session) = self.session.as_mut() else {
                return DeliveryOutcome::QueueFull;
            };
            if session.send_publish_tagged(message.clone(), tag).is_err() {
                return DeliveryOutcome::QueueFull;
            }
        }
        let aliased = self
            .aliases
            .as_ref()
            .and_then(|aliases| aliases.alias_for(message.topic()))
            .and_then(|(alias, send_topic)| {
                let publish = Publish::from_message(&message)
                    .ok()?
                    .with_topic_alias(alias);
                let publish = if send_topic {
                    publish
                } else {
                    publish.without_topic().ok()?
                };
                // The alias costs three bytes, and saves the topic only once it is known:
                // it is used only where the client still accepts the packet.
                (publish.encoded_len(version) <= maximum as usize).then_some((alias, publish))
            });
        match aliased {
            Some((alias, publish)) => {
                if let Some(aliases) = self.aliases.as_mut() {
                    aliases.use_alias(message.topic(), alias);
                }
                self.write(PacketRef::Publish(&publish), version);
            }
            None => {
                let _ = encode_checked(&message.as_ref(), version, &mut self.traffic().out);
            }
        }
        self.count(|m| m.message_sent(message.qos()));
        DeliveryOutcome::Sent
    }

    // ---- ending ----

    /// Ends the connection for a broken rule: a CONNACK (before one was sent) or a
    /// DISCONNECT (5.0) with the rule's reason code, then nothing more.
    fn fail(&mut self, err: Error) -> Closed {
        let reason_code = err.reason_code();
        let version = self.protocol_version();
        match self.phase {
            ConnectionPhase::AwaitingConnect | ConnectionPhase::Connecting => {
                // Before CONNACK: a refused CONNECT gets its CONNACK; so does any error
                // once the version is known ([MQTT-4.13.1-1]).
                let refused_version = match (err.kind(), version) {
                    (ErrorKind::Connect, None) => Some(ProtocolVersion::V311),
                    (_, Some(version)) => Some(version),
                    _ => None,
                };
                if let Some(version) = refused_version {
                    let connack = match (err.return_code(), version) {
                        (Some(code), ProtocolVersion::V311 | ProtocolVersion::V31) => {
                            Connack::refusing(code.reason_code(), version)
                        }
                        _ => Connack::refusing(reason_code, version),
                    };
                    self.write(PacketRef::Connack(&connack), version);
                    self.count(|m| m.refused(false));
                }
            }
            ConnectionPhase::Connected => {
                self.flush_acks();
                if version == Some(ProtocolVersion::V5) {
                    let code = reason_code
                        .in_table_of(PacketType::Disconnect)
                        .unwrap_or(ReasonCode::ProtocolError);
                    if let Ok(disconnect) = Disconnect::new(code, Properties::default()) {
                        self.write_own(PacketRef::Disconnect(&disconnect));
                    }
                }
            }
            ConnectionPhase::Closed => {}
        }
        self.close(Initiator::Server, reason_code, Some(err), true)
    }

    fn close(
        &mut self,
        initiator: Initiator,
        reason_code: ReasonCode,
        error: Option<Error>,
        will_due: bool,
    ) -> Closed {
        let was_connected = self.phase == ConnectionPhase::Connected;
        self.phase = ConnectionPhase::Closed;
        // What a closing side had to acknowledge it flushed first; a client that left
        // (DISCONNECT, lost connection) reads nothing more. What was not written yet is
        // kept, and what waited is handed back.
        let mut undelivered = Vec::new();
        if let Some(traffic) = self.traffic.as_mut() {
            traffic.held.clear();
            traffic.acks.clear();
            traffic.qos1_acks = 0;
            traffic.subscribes.clear();
            traffic.unsubscribes.clear();
            undelivered = traffic
                .waiting
                .drain()
                .map(|waiting| Undelivered {
                    message: waiting.message,
                    tag: waiting.tag,
                })
                .collect();
        }
        let (will, session_expiry_interval) = match self.peer.as_mut() {
            Some(peer) => (
                peer.will.take().map(|will| *will),
                peer.session_expiry_interval,
            ),
            None => (None, 0),
        };
        let will = will.filter(|_| will_due && was_connected);
        let will_delay = will
            .as_ref()
            .map_or(0, |will| will.delay_interval.min(session_expiry_interval));
        Closed {
            initiator,
            reason_code,
            error,
            will,
            will_delay,
            session_expiry_interval,
            session: self.session.take(),
            undelivered,
        }
    }

    // ---- helpers ----

    fn expect_phase(&self, call: &'static str, phase: ConnectionPhase) -> Result<(), Error> {
        if self.phase == phase {
            return Ok(());
        }
        Err(Error::state(
            call,
            format!("the connection is {}", self.phase.as_str()),
        ))
    }

    /// The request that `call` answers: `None` once the connection has ended (the
    /// answer is dropped); a state error before it is accepted, or when no request with
    /// `packet_id` waits.
    fn request<'a, T>(
        &self,
        call: &'static str,
        requests: Option<&'a BTreeMap<PacketId, T>>,
        packet_id: PacketId,
    ) -> Result<Option<&'a T>, Error> {
        if self.is_closed() {
            return Ok(None);
        }
        self.expect_phase(call, ConnectionPhase::Connected)?;
        match requests.and_then(|requests| requests.get(&packet_id)) {
            Some(request) => Ok(Some(request)),
            None => Err(Error::state(
                call,
                format!("no request with packet identifier {packet_id} waits for an answer"),
            )),
        }
    }

    /// What is under way, made when something is.
    fn traffic(&mut self) -> &mut Traffic {
        let limit = self.config.max_queued_messages;
        self.traffic
            .get_or_insert_with(|| Box::new(Traffic::new(limit)))
    }

    fn session_mut(&mut self) -> Result<&mut Session, Error> {
        self.session
            .as_mut()
            .ok_or_else(|| Error::state("receive_data", "the connection has no session"))
    }

    fn check_qos(&self, qos: QoS) -> Result<(), Error> {
        if qos > self.config.maximum_qos {
            return Err(Error::received(Violation::QoSAboveMaximum {
                qos,
                maximum: self.config.maximum_qos,
            }));
        }
        Ok(())
    }
}

/// The acknowledgements that can carry a reason code.
trait WithReason: Sized {
    fn reason(self, reason_code: ReasonCode) -> Result<Self, Error>;
}

impl WithReason for Pubrel {
    fn reason(self, reason_code: ReasonCode) -> Result<Self, Error> {
        self.with_reason(reason_code, AckProperties::default())
    }
}

impl WithReason for Pubcomp {
    fn reason(self, reason_code: ReasonCode) -> Result<Self, Error> {
        self.with_reason(reason_code, AckProperties::default())
    }
}

/// What the CONNECT says, kept for the connection's life: in memory of its own, not as
/// slices that would keep the read the CONNECT came in alive ([`Detach`]).
fn peer_of(
    connect: &Connect,
    keep_alive: u16,
    server_keep_alive: Option<u16>,
    session_expiry_interval: u32,
) -> Peer {
    let v5 = connect.protocol_version == ProtocolVersion::V5;
    let property = |id| {
        connect
            .properties
            .get(id)
            .and_then(PropertyValue::as_u32)
            .filter(|_| v5)
    };
    Peer {
        version: connect.protocol_version,
        client_id: connect.client_id.detached(),
        username: connect.username.detached(),
        keep_alive,
        server_keep_alive,
        clean_start: connect.clean_start,
        will: connect.will.as_ref().map(|will| Box::new(will.detached())),
        session_expiry_interval,
        receive_maximum: property(PropertyId::ReceiveMaximum)
            .and_then(|v| u16::try_from(v).ok())
            .unwrap_or(crate::session::DEFAULT_RECEIVE_MAXIMUM),
        maximum_packet_size: property(PropertyId::MaximumPacketSize).unwrap_or(u32::MAX),
        topic_alias_maximum: property(PropertyId::TopicAliasMaximum)
            .and_then(|v| u16::try_from(v).ok())
            .unwrap_or(0),
        authentication_method: match connect.properties.get(PropertyId::AuthenticationMethod) {
            Some(PropertyValue::String(text)) if v5 => Some(Box::new(text.detached())),
            _ => None,
        },
    }
}

/// The CONNACK that accepts `peer`: in 5.0, with every limit that differs from the
/// protocol's default (§3.2.2.3).
fn connack(
    config: &ServerConfig,
    peer: &Peer,
    acceptance: &Acceptance,
    assigned: Option<&MqttString>,
) -> Result<Connack, Error> {
    let mut items = Vec::new();
    if peer.version == ProtocolVersion::V5 {
        use PropertyValue::{Binary, Byte, FourByteInteger, String as Text, TwoByteInteger};
        let mut add = |id, value| items.push((id, value));
        if config.receive_maximum != crate::session::DEFAULT_RECEIVE_MAXIMUM {
            add(
                PropertyId::ReceiveMaximum,
                TwoByteInteger(config.receive_maximum),
            );
        }
        if config.maximum_qos != QoS::ExactlyOnce {
            add(PropertyId::MaximumQoS, Byte(config.maximum_qos.as_u8()));
        }
        if !config.retain_available {
            add(PropertyId::RetainAvailable, Byte(0));
        }
        if config.maximum_packet_size < crate::constants::protocol::MAX_PACKET_SIZE {
            add(
                PropertyId::MaximumPacketSize,
                FourByteInteger(config.maximum_packet_size),
            );
        }
        if let Some(id) = assigned {
            add(PropertyId::AssignedClientIdentifier, Text(id.clone()));
        }
        if config.topic_alias_maximum != 0 {
            add(
                PropertyId::TopicAliasMaximum,
                TwoByteInteger(config.topic_alias_maximum),
            );
        }
        if !config.wildcard_subscription_available {
            add(PropertyId::WildcardSubscriptionAvailable, Byte(0));
        }
        if !config.subscription_identifiers_available {
            add(PropertyId::SubscriptionIdentifierAvailable, Byte(0));
        }
        if !config.shared_subscription_available {
            add(PropertyId::SharedSubscriptionAvailable, Byte(0));
        }
        if let Some(keep_alive) = peer.server_keep_alive {
            add(PropertyId::ServerKeepAlive, TwoByteInteger(keep_alive));
        }
        if let Some(method) = &peer.authentication_method {
            add(PropertyId::AuthenticationMethod, Text((**method).clone()));
            if let Some(data) = &acceptance.authentication_data {
                add(PropertyId::AuthenticationData, Binary(data.clone()));
            }
        }
    }
    let properties = Properties::new(items, PropertyContext::Packet(PacketType::Connack))?;
    Connack::new(acceptance.session_present, ReasonCode::Success, properties)
}

/// 1.5 times a Keep Alive ([MQTT-3.1.2-22]).
fn keep_alive_limit(keep_alive: u16) -> Duration {
    Duration::from_millis(u64::from(keep_alive) * 1500)
}

/// An acknowledgement of an identifier with nothing in flight changes nothing and is
/// not worth a disconnection (the client may repeat one after a reconnect); one that
/// does not fit its flow's state is a protocol error.
fn ignore_unknown_id(err: Error) -> Result<(), Error> {
    match err.violation() {
        Some(Violation::PacketIdNotFound { .. }) => Ok(()),
        _ => Err(err),
    }
}

/// A granted QoS above the server's Maximum QoS, lowered to it.
fn lower_grant(code: ReasonCode, maximum: QoS) -> ReasonCode {
    let granted = match code {
        ReasonCode::GrantedQoS1 => QoS::AtLeastOnce,
        ReasonCode::GrantedQoS2 => QoS::ExactlyOnce,
        _ => return code,
    };
    match granted.min(maximum) {
        QoS::AtMostOnce => ReasonCode::Success,
        QoS::AtLeastOnce => ReasonCode::GrantedQoS1,
        QoS::ExactlyOnce => ReasonCode::GrantedQoS2,
    }
}

fn check_answer_count(packet: PacketType, filters: usize, codes: usize) -> Result<(), Error> {
    if filters == codes {
        return Ok(());
    }
    Err(Error::invalid(
        "reason_codes",
        Violation::ReasonCodeCount {
            packet,
            filters,
            codes,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topic::TopicName;

    const NOW: Duration = Duration::ZERO;

    /// A 3.1.1 client "c", accepted; its CONNACK not yet taken.
    fn accepted() -> ServerConnection {
        let mut engine = ServerConnection::new(ServerConfig::default(), NOW).unwrap();
        let events = engine.receive_data(b"\x10\x0D\x00\x04MQTT\x04\x02\x00\x3C\x00\x01c", NOW);
        assert!(matches!(&events[..], [Event::Connect(_)]), "{events:?}");
        let session = Session::new("c", ProtocolVersion::V311, true, 0).unwrap();
        engine.accept(session, Acceptance::default()).unwrap();
        engine
    }

    fn deliver(engine: &mut ServerConnection, payload_len: usize) {
        let message = Message::builder(TopicName::new("t").unwrap())
            .payload(vec![b'x'; payload_len])
            .build()
            .unwrap();
        let route = Route {
            qos: QoS::AtMostOnce,
            subscription_identifiers: Vec::new(),
            retain_as_published: false,
            from_retained: false,
        };
        engine.deliver(&message, &route, NOW).unwrap();
    }

    #[test]
    fn an_idle_connection_keeps_nothing_under_way() {
        let mut engine = accepted();
        assert!(engine.traffic.is_some(), "the CONNACK waits to be taken");
        assert_eq!(&engine.data_to_send()[..], b"\x20\x02\x00\x00");
        assert!(engine.traffic.is_none());
        // A SUBSCRIBE waits for the broker's answer: kept until it is answered and sent.
        let events = engine.receive_data(b"\x82\x06\x00\x01\x00\x01a\x00", NOW);
        assert!(matches!(&events[..], [Event::Subscribe(_)]), "{events:?}");
        assert!(engine.data_to_send().is_empty());
        assert!(engine.traffic.is_some());
        let packet_id = PacketId::new(1).unwrap();
        engine
            .answer_subscribe(packet_id, &[ReasonCode::Success])
            .unwrap();
        assert_eq!(&engine.data_to_send()[..], b"\x90\x03\x00\x01\x00");
        assert!(engine.traffic.is_none());
    }

    #[test]
    fn a_connection_that_writes_much_keeps_its_room_until_it_writes_little() {
        let mut engine = accepted();
        engine.data_to_send();
        deliver(&mut engine, 2 * KEEP_ROOM_FROM);
        assert!(engine.data_to_send().len() > KEEP_ROOM_FROM);
        assert!(engine.traffic.is_some(), "a large write keeps its buffer");
        deliver(&mut engine, 10);
        assert!(engine.data_to_send().len() < KEEP_ROOM_FROM);
        assert!(engine.traffic.is_none());
    }
}
