//! What a [`Router`](super::Router) asks its broker to do: deliver, persist, publish a
//! Will; and the facts it persists.

use std::time::SystemTime;

use crate::auth::AuthCredentials;
use crate::constants::ReasonCode;
use crate::message::{Message, Will};
use crate::packet_id::PacketId;
use crate::protocol::{Event, Route};
use crate::session::Session;
use crate::topic::{Subscription, TopicFilter, TopicName};

use super::cluster::{Change, Forward};

/// The broker's handle for one network connection: any number it gives each new one
/// (a counter), never reused while the router may still name it.
pub type ConnectionId = u64;

/// Something the broker must do, in the order the router decided it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Action {
    /// Hand a message to a connected client's engine.
    Deliver(Outgoing),
    /// Store a fact. Acknowledgements that promise it (PUBACK, PUBREC, SUBACK) wait until
    /// it is committed.
    Persist(Fact),
    /// A Will is due: publish it for its owner, if the owner may publish to its topic,
    /// through [`Router::publish`](super::Router::publish).
    PublishWill {
        /// The client whose Will it is.
        client_id: String,
        /// Who the client was (its session's owner), to authorize the publication.
        owner: AuthCredentials,
        /// The Will's message.
        message: Message,
    },
    /// A message for an offline session was dropped: its queue was full.
    Dropped {
        /// The session's client.
        client_id: String,
        /// How many messages its queue holds.
        queued: usize,
    },
    /// A cluster node's router only: send a message published here to another node,
    /// before the acknowledgement that promises it, as a [`Fact`] is stored.
    Forward(Forward),
    /// A cluster node's router only: tell every node (this one included) of a change to
    /// what they share, in one order, before the acknowledgement that promises it.
    Share(Change),
}

/// A delivery to a connected client: hand it to that connection's engine with
/// `deliver_tagged(message, route, now, tag)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The connection to deliver on.
    pub connection: ConnectionId,
    /// Its client (shared: one copy for all its deliveries).
    pub client_id: std::sync::Arc<str>,
    /// The message, its Message Expiry Interval already counted down by the time it
    /// waited in the router.
    pub message: Message,
    /// How this client gets it (QoS, subscription identifiers, RETAIN); a retained
    /// message sent because of a new subscription has `from_retained` set, and needs the
    /// client's right to receive it checked, as every delivery does.
    pub route: Route,
    /// The router's entry for a delivery a persistent session must not lose: report the
    /// end of its flow with [`Router::settled`](super::Router::settled).
    pub tag: Option<u64>,
}

/// A fact for the stores: everything a restart needs, and nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fact {
    /// A retained message, and when it arrived (its expiry counts from then).
    Retained {
        /// The message (RETAIN set, no packet identifier).
        message: Message,
        /// When it arrived.
        arrived_at: SystemTime,
    },
    /// A topic no longer has a retained message (cleared, or expired).
    RetainedCleared {
        /// The topic.
        topic: TopicName,
    },
    /// A client's subscription, new or replacing the one with its filter.
    Subscribed {
        /// The client.
        client_id: String,
        /// The subscription.
        subscription: Subscription,
    },
    /// A client's subscription is gone.
    Unsubscribed {
        /// The client.
        client_id: String,
        /// The filter it had.
        topic_filter: TopicFilter,
    },
    /// A message a persistent session is owed, until its client has it.
    Queued {
        /// The session's client.
        client_id: String,
        /// The entry's number, increasing per client.
        seq: u64,
        /// The message as the client gets it (QoS, RETAIN, subscription identifiers).
        message: Message,
        /// When it was queued (its expiry counts from then).
        enqueued_at: SystemTime,
    },
    /// A queued message is no longer owed: delivered, expired, refused or dropped.
    Dequeued {
        /// The session's client.
        client_id: String,
        /// The entry's number.
        seq: u64,
    },
    /// A session's state: its owner, expiry, and the QoS flows a reconnect resumes.
    Session {
        /// The session.
        session: Session,
    },
    /// A client's Will, kept until it is published or cancelled (None: none).
    Will {
        /// The client.
        client_id: String,
        /// The Will.
        will: Option<Will>,
    },
    /// A session ended: its state, Will, subscriptions and queue are gone.
    SessionEnded {
        /// The client.
        client_id: String,
    },
}

/// What [`Router::connect`](super::Router::connect) decided.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Connecting {
    /// Another connection holds this client identifier: end it first (DISCONNECT 0x8E,
    /// Session taken over), hand its `Closed` to
    /// [`Router::closed`](super::Router::closed), then call `connect` again.
    TakeOver(ConnectionId),
    /// The connection holds the client identifier now.
    Accepted(Box<Connected>),
}

/// A connection the router accepted.
#[derive(Debug, Clone)]
pub struct Connected {
    /// The session to accept the CONNECT with: a new one, or the one resumed.
    pub session: Session,
    /// Whether it was resumed (CONNACK's Session Present).
    pub session_present: bool,
    /// What follows the CONNACK: the facts of the new session, and the deliveries of
    /// what its queue held. Apply them after the engine's `accept`.
    pub actions: Vec<Action>,
}

/// What [`Router::publish`](super::Router::publish) did with a message.
#[derive(Debug, Clone, Default)]
pub struct Published {
    /// Whether any subscription matched its topic (a 5.0 publisher is told 0x10 No
    /// matching subscribers when none did).
    pub matched: bool,
    /// Why the router refused the message, which then went nowhere and changed
    /// nothing: 0x97 Quota exceeded for a retained message past
    /// [`RouterConfig::max_retained_messages`](super::RouterConfig::max_retained_messages)
    /// or [`max_retained_bytes`](super::RouterConfig::max_retained_bytes).
    pub refused: Option<ReasonCode>,
    /// The deliveries, queued copies and facts.
    pub actions: Vec<Action>,
}

impl Published {
    /// The reason code of the publisher's PUBACK or PUBREC when it is not Success:
    /// the refusal, or 0x10 No matching subscribers.
    pub fn reason_code(&self) -> Option<ReasonCode> {
        match self.refused {
            Some(code) => Some(code),
            None if !self.matched => Some(ReasonCode::NoMatchingSubscribers),
            None => None,
        }
    }
}

/// What [`Router::route_events`](super::Router::route_events) did with a read's events.
#[derive(Debug, Clone, Default)]
pub struct RoutedEvents {
    /// The deliveries, queued copies, facts and drops of the messages published and the
    /// deliveries settled, in order.
    pub actions: Vec<Action>,
    /// The packet identifiers of the QoS 1 messages whose PUBACK carries a reason code
    /// other than Success ([`Published::reason_code`]), with that code.
    pub reasons: Vec<(PacketId, ReasonCode)>,
    /// The topics of the messages the router refused ([`Published::refused`]), in
    /// order, for the broker's log.
    pub refused: Vec<TopicName>,
    /// The events left for the broker, in order: the first that needs it, and every
    /// one after it.
    pub rest: Vec<Event>,
}

/// What [`Router::subscribe`](super::Router::subscribe) and
/// [`Router::unsubscribe`](super::Router::unsubscribe) decided.
#[derive(Debug, Clone, Default)]
pub struct Answered {
    /// One reason code per filter, in order, for the SUBACK or UNSUBACK.
    pub reason_codes: Vec<ReasonCode>,
    /// The facts to store before the answer is sent, and (for SUBSCRIBE) the retained
    /// messages to deliver.
    pub actions: Vec<Action>,
}

/// A queued message as a store keeps it, for [`Router::restore_session`](super::Router::restore_session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    /// The entry's number.
    pub seq: u64,
    /// The message as the client gets it.
    pub message: Message,
    /// When it was queued.
    pub enqueued_at: SystemTime,
}

/// Counts the router keeps, for logs, `$SYS` and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouterStats {
    /// Sessions known (connected or not).
    pub sessions: usize,
    /// Connected clients.
    pub connected: usize,
    /// Subscriptions.
    pub subscriptions: usize,
    /// Retained messages.
    pub retained: usize,
    /// The bytes of the retained messages' topics and payloads, outside `$SYS` (what
    /// [`RouterConfig::max_retained_bytes`](super::RouterConfig::max_retained_bytes)
    /// bounds).
    pub retained_bytes: usize,
    /// Retained messages refused for the bounds on them, since the router started.
    pub retained_refused: u64,
    /// Messages owed to sessions (queued or in flight).
    pub queued: usize,
    /// Messages dropped because a queue was full, since the router started.
    pub dropped: u64,
}
