//! A client's session state (MQTT 5.0 §4.1): what must survive a reconnect.
//!
//! Theory of operation: the session holds what must survive a reconnect. Its QoS 1 and
//! QoS 2 flows are explicit state machines keyed by packet identifier, one per direction:
//!
//! ```text
//! outgoing (this side sends PUBLISH)        incoming (the peer sends PUBLISH)
//!   QoS 1: AwaitingPuback --PUBACK--> done    QoS 2: AwaitingPubrel --PUBREL--> done
//!   QoS 2: AwaitingPubrec --PUBREC--> AwaitingPubcomp --PUBCOMP--> done
//! ```
//!
//! Every transition that does not fit (an acknowledgement for an identifier with nothing
//! in flight, a PUBCOMP before the PUBREC, a second QoS 2 PUBLISH reusing an identifier
//! without DUP) is a a protocol error and changes nothing (CVE-2023-28366). Both
//! directions are bounded by a Receive Maximum.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use crate::auth::AuthCredentials;
use crate::constants::{PacketType, ProtocolVersion, QoS};
use crate::detach::Detach;
use crate::error::{Error, Violation};
use crate::message::Message;
use crate::packet_id::PacketId;
use crate::string::MqttString;

/// Where an outgoing QoS 1 or QoS 2 PUBLISH stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OutgoingState {
    /// QoS 1 PUBLISH sent; waiting for PUBACK.
    AwaitingPuback,
    /// QoS 2 PUBLISH sent; waiting for PUBREC.
    AwaitingPubrec,
    /// QoS 2 PUBREL sent; waiting for PUBCOMP.
    AwaitingPubcomp,
}

impl OutgoingState {
    fn expects(self) -> PacketType {
        match self {
            Self::AwaitingPuback => PacketType::Puback,
            Self::AwaitingPubrec => PacketType::Pubrec,
            Self::AwaitingPubcomp => PacketType::Pubcomp,
        }
    }
}

/// An outgoing message in flight: what to resend on reconnect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlight {
    /// Where the flow stands.
    pub state: OutgoingState,
    /// The PUBLISH, with its packet identifier, until the peer has it (PUBACK or PUBREC);
    /// `None` once only the PUBREL remains to resend.
    pub message: Option<Message>,
    /// The caller's tag for this delivery (a router's entry number), given to the server
    /// engine's `deliver_tagged` and reported back when the flow ends; kept with the
    /// session across reconnects.
    pub tag: Option<u64>,
}

/// The default Receive Maximum (§3.1.2.11.3, §3.2.2.3.3).
pub const DEFAULT_RECEIVE_MAXIMUM: u16 = 65_535;

/// A client's session state.
///
/// # Examples
/// ```
/// use mqtt_common::{Message, ProtocolVersion, QoS, Session, TopicName};
/// let mut session = Session::new("sensor-1", ProtocolVersion::V5, false, 3600)?;
/// let message = Message::builder(TopicName::new("cmd")?).qos(QoS::ExactlyOnce).build()?;
///
/// // Send a QoS 2 message to the client and walk its flow.
/// let sent = session.send_publish(message)?;
/// let id = sent.message_id().unwrap();
/// session.pubrec_received(id)?;          // -> send PUBREL
/// session.pubcomp_received(id)?;         // done
/// assert_eq!(session.outgoing_count(), 0);
///
/// // An acknowledgement with nothing in flight is a protocol error, and changes nothing.
/// let err = session.pubcomp_received(id).unwrap_err();
/// assert_eq!(err.reason_code(), mqtt_common::ReasonCode::PacketIdentifierNotFound);
/// # Ok::<(), mqtt_common::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    client_id: MqttString,
    protocol_version: ProtocolVersion,
    clean_start: bool,
    expiry_interval: u32,
    receive_maximum: u16,
    local_receive_maximum: u16,
    outgoing: BTreeMap<PacketId, InFlight>,
    incoming: BTreeMap<PacketId, SystemTime>,
    next_packet_id: u16,
    created_at: SystemTime,
    updated_at: SystemTime,
    disconnected_at: Option<SystemTime>,
    owner: Option<Owner>,
}

/// Who a session belongs to: what the broker authenticated, minus the password.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owner {
    username: Option<MqttString>,
    certificate: Option<Bytes>,
}

impl Session {
    /// A client id a session can have (an MQTT string).
    ///
    /// # Errors
    /// A validation error (field `client_id`).
    pub(crate) fn valid_client_id(client_id: &str) -> Result<MqttString, Error> {
        MqttString::new(client_id).map_err(|v| Error::invalid("client_id", v))
    }

    /// The session a CONNECT gets from what a store holds for its client: `stored`
    /// resumed with the new expiry interval if there is one, unexpired at `now`, and the
    /// client does not ask for a clean start ([MQTT-3.1.2-4..6]); else a new one. With
    /// whether one was present (resumed).
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn for_connect(
        stored: Option<Session>,
        client_id: &str,
        clean_start: bool,
        expiry_interval: u32,
        protocol_version: ProtocolVersion,
        now: SystemTime,
    ) -> Result<(Self, bool), Error> {
        match stored {
            Some(mut session) if !clean_start && !session.is_expired(now) => {
                session.resume(protocol_version, expiry_interval);
                Ok((session, true))
            }
            _ => Ok((
                Self::new(client_id, protocol_version, clean_start, expiry_interval)?,
                false,
            )),
        }
    }

    /// A new, connected session.
    ///
    /// # Errors
    /// a validation error for a client id that is not an MQTT string (field
    /// `client_id`).
    pub fn new(
        client_id: &str,
        protocol_version: ProtocolVersion,
        clean_start: bool,
        expiry_interval: u32,
    ) -> Result<Self, Error> {
        let client_id = Self::valid_client_id(client_id)?;
        let now = SystemTime::now();
        Ok(Self {
            client_id,
            protocol_version,
            clean_start,
            expiry_interval,
            receive_maximum: DEFAULT_RECEIVE_MAXIMUM,
            local_receive_maximum: DEFAULT_RECEIVE_MAXIMUM,
            outgoing: BTreeMap::new(),
            incoming: BTreeMap::new(),
            next_packet_id: 1,
            created_at: now,
            updated_at: now,
            disconnected_at: None,
            owner: None,
        })
    }

    /// The client identifier.
    pub fn client_id(&self) -> &str {
        self.client_id.as_str()
    }

    /// The protocol version of the connection that last used the session.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.protocol_version
    }

    /// Clean Start (3.1.1: Clean Session) of the connection that last used the session.
    pub fn clean_start(&self) -> bool {
        self.clean_start
    }

    /// Session Expiry Interval in seconds: 0 ends the session with the connection,
    /// `u32::MAX` never expires (§3.1.2.11.2).
    pub fn expiry_interval(&self) -> u32 {
        self.expiry_interval
    }

    /// The peer's Receive Maximum: how many QoS 1 and 2 messages this side may have in
    /// flight to it.
    pub fn receive_maximum(&self) -> u16 {
        self.receive_maximum
    }

    /// This side's Receive Maximum: how many QoS 2 messages the peer may have in flight
    /// to it.
    pub fn local_receive_maximum(&self) -> u16 {
        self.local_receive_maximum
    }

    /// When the session was created.
    pub fn created_at(&self) -> SystemTime {
        self.created_at
    }

    /// When the session last changed.
    pub fn updated_at(&self) -> SystemTime {
        self.updated_at
    }

    /// When its connection ended, if it has.
    pub fn disconnected_at(&self) -> Option<SystemTime> {
        self.disconnected_at
    }

    /// Records who the session belongs to: the user name and client certificate the
    /// broker accepted the connection with (the password and peer address are not
    /// kept). Decisions taken while the client is away (may it receive this message?
    /// may its Will be published?) are taken for this identity.
    ///
    /// # Examples
    /// ```
    /// use mqtt_common::{AuthCredentials, ProtocolVersion, Session};
    /// let mut session = Session::new("phone", ProtocolVersion::V5, false, 3600)?;
    /// let credentials = AuthCredentials::new("phone")?
    ///     .with_username("alice")?
    ///     .with_password(b"s3cret".as_slice());
    /// session.set_owner(&credentials);
    /// let owner = session.owner();
    /// assert_eq!(owner.username(), Some("alice"));
    /// assert_eq!(owner.password(), None);
    /// # Ok::<(), mqtt_common::Error>(())
    /// ```
    pub fn set_owner(&mut self, credentials: &AuthCredentials) {
        let owner = Owner {
            username: credentials
                .username()
                .and_then(|name| MqttString::new(name).ok()),
            certificate: credentials.certificate().map(Detach::detached),
        };
        // No name and no certificate: the same as no owner recorded (as a store reads it).
        self.owner = (owner.username.is_some() || owner.certificate.is_some()).then_some(owner);
        self.touch();
    }

    /// The credentials to decide by for this session while its client is away: its
    /// client identifier, with the user name and certificate of [`set_owner`]
    /// (none if the owner was never recorded).
    ///
    /// [`set_owner`]: Self::set_owner
    pub fn owner(&self) -> AuthCredentials {
        AuthCredentials::from_parts(
            self.client_id.clone(),
            self.owner.as_ref().and_then(|owner| owner.username.clone()),
            self.owner
                .as_ref()
                .and_then(|owner| owner.certificate.clone()),
        )
    }

    /// The owner's user name, if one was recorded.
    pub fn username(&self) -> Option<&str> {
        self.owner.as_ref()?.username.as_deref()
    }

    /// The owner's client certificate, if one was recorded.
    pub fn certificate(&self) -> Option<&Bytes> {
        self.owner.as_ref()?.certificate.as_ref()
    }

    /// Takes the settings of a new connection that resumes this session.
    pub fn resume(&mut self, protocol_version: ProtocolVersion, expiry_interval: u32) {
        self.protocol_version = protocol_version;
        self.clean_start = false;
        self.expiry_interval = expiry_interval;
        self.disconnected_at = None;
        self.touch();
    }

    /// Sets the Session Expiry Interval (CONNECT, or a DISCONNECT that changes it).
    pub fn set_expiry_interval(&mut self, expiry_interval: u32) {
        self.expiry_interval = expiry_interval;
        self.touch();
    }

    /// Sets the Receive Maximums: the peer's and this side's.
    ///
    /// # Errors
    /// [`Violation::ReceiveMaximumZero`] for 0, which is a Protocol Error (§3.1.2.11.3).
    pub fn set_receive_maximums(&mut self, peer: u16, local: u16) -> Result<(), Error> {
        for (field, value) in [("receive_maximum", peer), ("local_receive_maximum", local)] {
            if value == 0 {
                return Err(Error::invalid(field, Violation::ReceiveMaximumZero));
            }
        }
        self.receive_maximum = peer;
        self.local_receive_maximum = local;
        Ok(())
    }

    /// Records that the connection ended at `at`.
    pub fn mark_disconnected(&mut self, at: SystemTime) {
        self.disconnected_at = Some(at);
        self.updated_at = at;
    }

    /// When the session expires: `None` while connected or if it never expires.
    pub fn expires_at(&self) -> Option<SystemTime> {
        if self.expiry_interval == u32::MAX {
            return None;
        }
        let seconds = Duration::from_secs(u64::from(self.expiry_interval));
        self.disconnected_at.map(|at| at + seconds)
    }

    /// Whether the session has expired by `now`.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expires_at().is_some_and(|at| at <= now)
    }

    /// A packet identifier for a new outgoing packet: non-zero, not in flight, the next
    /// one after the last given (wrapping from 65,535 to 1) ([MQTT-2.2.1-3]).
    ///
    /// # Errors
    /// [`Violation::PacketIdsExhausted`] when all 65,535 are in flight.
    pub fn next_packet_id(&mut self) -> Result<PacketId, Error> {
        if self.outgoing.len() >= usize::from(u16::MAX) {
            return Err(Error::received(Violation::PacketIdsExhausted));
        }
        loop {
            let candidate = PacketId::new(self.next_packet_id).unwrap_or(PacketId::MIN);
            self.next_packet_id = candidate.get().checked_add(1).unwrap_or(1);
            if !self.outgoing.contains_key(&candidate) {
                return Ok(candidate);
            }
        }
    }

    /// Starts the flow of an outgoing PUBLISH. QoS 0 passes through; QoS 1 and 2 get a
    /// packet identifier (unless the message already carries one, as on resend) and
    /// are remembered until acknowledged. Returns the message to send.
    ///
    /// # Errors
    /// [`Violation::ReceiveMaximumExceeded`] when the peer's Receive Maximum is reached
    /// (queue the message instead), [`Violation::PacketIdsExhausted`], or
    /// [`Violation::PacketIdInUse`] for a given identifier already in flight.
    pub fn send_publish(&mut self, message: Message) -> Result<Message, Error> {
        self.send_publish_tagged(message, None)
    }

    /// [`send_publish`](Self::send_publish), remembering `tag` with the flow.
    ///
    /// # Errors
    /// As [`send_publish`](Self::send_publish).
    pub fn send_publish_tagged(
        &mut self,
        message: Message,
        tag: Option<u64>,
    ) -> Result<Message, Error> {
        let state = match message.qos() {
            QoS::AtMostOnce => return Ok(message),
            QoS::AtLeastOnce => OutgoingState::AwaitingPuback,
            QoS::ExactlyOnce => OutgoingState::AwaitingPubrec,
        };
        if self.outgoing.len() >= usize::from(self.receive_maximum) {
            return Err(Error::received(Violation::ReceiveMaximumExceeded {
                limit: self.receive_maximum,
            }));
        }
        let message = match message.message_id() {
            Some(id) if self.outgoing.contains_key(&id) => {
                return Err(Error::received(Violation::PacketIdInUse { id: id.get() }));
            }
            Some(_) => message,
            None => {
                let id = self.next_packet_id()?;
                message.to_builder().message_id(Some(id)).build()?
            }
        };
        let id = message.message_id().unwrap_or(PacketId::MIN);
        self.outgoing.insert(
            id,
            InFlight {
                state,
                message: Some(message.clone()),
                tag,
            },
        );
        self.touch();
        Ok(message)
    }

    /// The tag given with the outgoing flow `id`, if any.
    pub fn tag_of(&self, id: PacketId) -> Option<u64> {
        self.outgoing.get(&id)?.tag
    }

    /// PUBACK received: ends a QoS 1 flow; returns the acknowledged message.
    ///
    /// # Errors
    /// [`Violation::PacketIdNotFound`] or [`Violation::UnexpectedAck`].
    pub fn puback_received(&mut self, id: PacketId) -> Result<Message, Error> {
        self.expect(id, PacketType::Puback, OutgoingState::AwaitingPuback)?;
        let flight = self.outgoing.remove(&id);
        self.touch();
        flight
            .and_then(|f| f.message)
            .ok_or(Error::received(Violation::PacketIdNotFound {
                packet: PacketType::Puback,
                id: id.get(),
            }))
    }

    /// PUBREC received: the peer has the QoS 2 message; send PUBREL next. A repeated
    /// PUBREC (after a resend) is accepted again.
    ///
    /// # Errors
    /// [`Violation::PacketIdNotFound`] or [`Violation::UnexpectedAck`].
    pub fn pubrec_received(&mut self, id: PacketId) -> Result<(), Error> {
        if let Some(flight) = self.outgoing.get(&id)
            && flight.state == OutgoingState::AwaitingPubcomp
        {
            return Ok(());
        }
        self.expect(id, PacketType::Pubrec, OutgoingState::AwaitingPubrec)?;
        if let Some(flight) = self.outgoing.get_mut(&id) {
            flight.state = OutgoingState::AwaitingPubcomp;
            flight.message = None;
        }
        self.touch();
        Ok(())
    }

    /// PUBREC with a failure reason received (MQTT 5.0): the peer refused the QoS 2
    /// message, and the flow ends without PUBREL (§4.3.3).
    ///
    /// # Errors
    /// [`Violation::PacketIdNotFound`] or [`Violation::UnexpectedAck`].
    pub fn pubrec_failure_received(&mut self, id: PacketId) -> Result<(), Error> {
        self.expect(id, PacketType::Pubrec, OutgoingState::AwaitingPubrec)?;
        self.outgoing.remove(&id);
        self.touch();
        Ok(())
    }

    /// PUBCOMP received: ends a QoS 2 flow.
    ///
    /// # Errors
    /// [`Violation::PacketIdNotFound`] or [`Violation::UnexpectedAck`].
    pub fn pubcomp_received(&mut self, id: PacketId) -> Result<(), Error> {
        self.expect(id, PacketType::Pubcomp, OutgoingState::AwaitingPubcomp)?;
        self.outgoing.remove(&id);
        self.touch();
        Ok(())
    }

    fn expect(&self, id: PacketId, packet: PacketType, state: OutgoingState) -> Result<(), Error> {
        match self.outgoing.get(&id) {
            None => Err(Error::received(Violation::PacketIdNotFound {
                packet,
                id: id.get(),
            })),
            Some(flight) if flight.state != state => {
                Err(Error::received(Violation::UnexpectedAck {
                    packet,
                    id: id.get(),
                    expected: flight.state.expects(),
                }))
            }
            Some(_) => Ok(()),
        }
    }

    /// A PUBLISH received from the peer. Returns whether it is new and must be delivered:
    /// QoS 0 and 1 always are; a QoS 2 message is new unless its identifier is already
    /// waiting for PUBREL and DUP is set (a resend, §4.3.3).
    ///
    /// # Errors
    /// [`Violation::PacketIdInUse`] for a QoS 2 identifier in flight without DUP, and
    /// [`Violation::ReceiveMaximumExceeded`] past this side's Receive Maximum.
    pub fn publish_received(&mut self, message: &Message) -> Result<bool, Error> {
        if message.qos() != QoS::ExactlyOnce {
            return Ok(true);
        }
        let Some(id) = message.message_id() else {
            return Err(Error::received(Violation::PacketIdMissing {
                qos: message.qos(),
            }));
        };
        if self.incoming.contains_key(&id) {
            return if message.dup() {
                Ok(false)
            } else {
                Err(Error::received(Violation::PacketIdInUse { id: id.get() }))
            };
        }
        if self.incoming.len() >= usize::from(self.local_receive_maximum) {
            return Err(Error::received(Violation::ReceiveMaximumExceeded {
                limit: self.local_receive_maximum,
            }));
        }
        let now = SystemTime::now();
        self.incoming.insert(id, now);
        self.updated_at = now;
        Ok(true)
    }

    /// PUBREL received: ends an incoming QoS 2 flow (send PUBCOMP).
    ///
    /// # Errors
    /// [`Violation::PacketIdNotFound`] when nothing waits for it.
    pub fn pubrel_received(&mut self, id: PacketId) -> Result<(), Error> {
        if self.incoming.remove(&id).is_none() {
            return Err(Error::received(Violation::PacketIdNotFound {
                packet: PacketType::Pubrel,
                id: id.get(),
            }));
        }
        self.touch();
        Ok(())
    }

    /// Outgoing messages in flight, by packet identifier: what to resend on reconnect.
    pub fn outgoing(&self) -> impl Iterator<Item = (PacketId, &InFlight)> {
        self.outgoing.iter().map(|(id, flight)| (*id, flight))
    }

    /// Incoming QoS 2 packet identifiers waiting for PUBREL.
    pub fn incoming(&self) -> impl Iterator<Item = PacketId> + '_ {
        self.incoming.keys().copied()
    }

    /// How many outgoing messages are in flight.
    pub fn outgoing_count(&self) -> usize {
        self.outgoing.len()
    }

    /// How many incoming QoS 2 messages wait for PUBREL.
    pub fn incoming_count(&self) -> usize {
        self.incoming.len()
    }

    /// Forgets every flow in both directions (a clean start reuses nothing).
    pub fn clear_in_flight(&mut self) {
        self.outgoing.clear();
        self.incoming.clear();
        self.touch();
    }

    fn touch(&mut self) {
        self.updated_at = SystemTime::now();
    }

    /// Every field, for a store that writes the session out.
    #[cfg(any(feature = "sqlite", feature = "redis"))]
    pub(crate) fn to_parts(&self) -> SessionParts {
        SessionParts {
            client_id: self.client_id.as_str().to_owned(),
            protocol_version: self.protocol_version,
            clean_start: self.clean_start,
            expiry_interval: self.expiry_interval,
            receive_maximum: self.receive_maximum,
            local_receive_maximum: self.local_receive_maximum,
            outgoing: self.outgoing.clone(),
            incoming: self.incoming.clone(),
            next_packet_id: self.next_packet_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
            disconnected_at: self.disconnected_at,
            username: self.username().map(str::to_owned),
            certificate: self.certificate().cloned(),
        }
    }

    /// A session read back from a store, checked as [`Session::new`] and
    /// [`Session::set_receive_maximums`] check theirs.
    ///
    /// # Errors
    /// a validation error for an invalid client id or a zero Receive Maximum, or an
    /// in-flight message whose packet identifier is not the one it is filed under.
    #[cfg(any(feature = "sqlite", feature = "redis"))]
    pub(crate) fn from_parts(parts: SessionParts) -> Result<Self, Error> {
        let mut session = Self::new(
            &parts.client_id,
            parts.protocol_version,
            parts.clean_start,
            parts.expiry_interval,
        )?;
        session.set_receive_maximums(parts.receive_maximum, parts.local_receive_maximum)?;
        for (id, flight) in &parts.outgoing {
            if let Some(message) = &flight.message
                && message.message_id() != Some(*id)
            {
                return Err(Error::invalid(
                    "outgoing",
                    Violation::PacketIdNotFound {
                        packet: PacketType::Publish,
                        id: id.get(),
                    },
                ));
            }
        }
        session.outgoing = parts.outgoing;
        session.incoming = parts.incoming;
        session.next_packet_id = parts.next_packet_id.max(1);
        session.created_at = parts.created_at;
        session.updated_at = parts.updated_at;
        session.disconnected_at = parts.disconnected_at;
        if parts.username.is_some() || parts.certificate.is_some() {
            let username = parts
                .username
                .map(|name| MqttString::new(&name).map_err(|v| Error::invalid("username", v)))
                .transpose()?;
            session.owner = Some(Owner {
                username,
                certificate: parts.certificate,
            });
        }
        Ok(session)
    }
}

/// Every field of a [`Session`], laid out for a store that writes it out and reads it
/// back ([`Session::to_parts`], [`Session::from_parts`]).
#[cfg(any(feature = "sqlite", feature = "redis"))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionParts {
    pub(crate) client_id: String,
    pub(crate) protocol_version: ProtocolVersion,
    pub(crate) clean_start: bool,
    pub(crate) expiry_interval: u32,
    pub(crate) receive_maximum: u16,
    pub(crate) local_receive_maximum: u16,
    pub(crate) outgoing: BTreeMap<PacketId, InFlight>,
    /// When each incoming QoS 2 PUBLISH arrived.
    pub(crate) incoming: BTreeMap<PacketId, SystemTime>,
    pub(crate) next_packet_id: u16,
    pub(crate) created_at: SystemTime,
    pub(crate) updated_at: SystemTime,
    pub(crate) disconnected_at: Option<SystemTime>,
    /// The owner's user name and certificate ([`Session::set_owner`]).
    pub(crate) username: Option<String>,
    pub(crate) certificate: Option<Bytes>,
}
