//! The router: MQTT's rules between clients, without I/O, beside the per-connection
//! [`ServerConnection`](crate::protocol::ServerConnection).
//!
//! One [`Router`] holds everything shared between the connections of a broker: the
//! subscriptions and who owns each, the retained messages with their arrival time, the
//! sessions of clients that are away with the messages they are owed, their Wills and
//! their expiry, and which connection holds each client identifier. The broker tells it
//! what happens (a client connected, published, subscribed, acknowledged a delivery,
//! left) with the time on the wall clock, and gets back [`Action`]s: deliver this message
//! on that connection, store this [`Fact`], publish this Will. It calls
//! [`handle_timeout`](Router::handle_timeout) at [`next_deadline`](Router::next_deadline)
//! for Wills, session expiry and retained messages' expiry.
//!
//! The rules it keeps: the subscription index with each subscription's owner; No Local
//! ([MQTT-3.8.3-3]); the merge of one client's overlapping subscriptions into one
//! delivery with every Subscription Identifier ([MQTT-3.3.4-2], [MQTT-3.3.4-3]); the
//! QoS of a delivery as the lower of the message's and the subscription's
//! ([MQTT-3.8.4-8]); Retain As Published ([MQTT-3.3.1-12]); shared subscriptions, one
//! member of each group per message (§4.8.2), chosen by a [`SharedChoice`]; retained
//! messages stored, replaced and cleared ([MQTT-3.3.1-5..7]), sent to a new subscription
//! as its Retain Handling says ([MQTT-3.3.1-9..11]), never to a shared one, and expired
//! by their Message Expiry Interval, which counts down while they wait
//! ([MQTT-3.3.2-5], [MQTT-3.3.2-6]); sessions that outlive their connection, their
//! queue of QoS 1 and 2 messages bounded by a [`QueueFull`] policy, and their expiry
//! (§3.1.2.11.2); a Will published at the earlier of its delay and the session's end
//! ([MQTT-3.1.3-9], CVE-2019-11778), and not at all if the client comes back first; one
//! connection per client identifier (a second one takes the session over,
//! [MQTT-3.1.4-3]).
//!
//! Nothing acknowledged is lost if the broker stores the facts before it releases the
//! acknowledgements that promise them: every QoS 1 or 2 message a persistent session is
//! owed is a [`Fact::Queued`] until its client has it ([`Router::settled`]), connected or
//! not, and a restart takes the facts back ([`Router::restore_session`],
//! [`Router::restore_retained`]).
//!
//! Authorization stays with the broker, whose providers may be asynchronous: it asks
//! who would receive a message ([`Router::receivers`]) and routes it to those allowed
//! ([`Router::publish_filtered`]); it decides SUBSCRIBE requests before passing them on;
//! it checks the Outgoing of retained messages and Wills' publications.
//!
//! ```
//! use std::time::SystemTime;
//! use mqtt_common::protocol::{Acceptance, Event, ServerConfig, ServerConnection};
//! use mqtt_common::router::{Action, Connecting, Router};
//! use mqtt_common::{AuthCredentials, Message, QoS, Subscription, TopicFilter, TopicName};
//!
//! let mut router = Router::default();
//! let now = SystemTime::now();
//! let mut connection = ServerConnection::new(ServerConfig::default(), Default::default())?;
//! let events = connection.receive_data(b"\x10\x0e\x00\x04MQTT\x04\x02\x00\x3c\x00\x02c1", Default::default());
//! let Some(Event::Connect(request)) = events.first() else { unreachable!() };
//! let owner = request.credentials.clone();
//! let Connecting::Accepted(accepted) = router.connect(1, request, "c1", &owner, now)? else {
//!     unreachable!("no other connection holds c1")
//! };
//! connection.accept(accepted.session, Acceptance::default())?;
//!
//! let wanted = Subscription::new(TopicFilter::new("a/+")?, QoS::AtLeastOnce);
//! router.subscribe(1, &[wanted], &[], now)?;
//! let published = router.publish(&Message::new(TopicName::new("a/b")?, "hi")?, None, now);
//! assert!(published.matched);
//! assert!(matches!(&published.actions[0], Action::Deliver(out) if out.connection == 1));
//! # Ok::<(), mqtt_common::Error>(())
//! ```

mod action;
mod cluster;
mod config;
mod events;
mod retained;
mod sessions;
mod shared;

pub use action::{
    Action, Answered, Connected, Connecting, ConnectionId, Fact, Outgoing, Published,
    QueuedMessage, RoutedEvents, RouterStats,
};
pub use cluster::{Change, Forward, MAX_NODE_ID_LEN, check_node_id};
pub use config::{QueueFull, RouterConfig, SharedChoice};
pub use sessions::{SessionCall, persist_sessions, persist_sessions_async};

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::auth::AuthCredentials;
use crate::constants::{QoS, ReasonCode, RetainHandling};
use crate::detach::Detach;
use crate::error::Error;
use crate::message::{Message, Will};
use crate::protocol::{Closed, ConnectRequest, Route};
use crate::session::Session;
use crate::topic::{Subscription, SubscriptionIndex, TopicFilter, TopicName, merge_overlapping};
use cluster::ClusterView;
use retained::{Retained, RetainedMessages, is_broker_topic};
use shared::Chooser;

/// Which of a router's subscribers a message is routed to.
#[derive(Debug, Clone, Copy)]
struct Scope<'a> {
    /// Of shared subscriptions, only these groups (None: all).
    groups: Option<&'a Vec<String>>,
    /// The nodes the message is forwarded to anyway: sessions that moved there need no
    /// copy of their own.
    covered: &'a [(Arc<str>, Vec<String>)],
}

/// A message a persistent session is owed.
#[derive(Debug)]
struct Entry {
    seq: u64,
    message: Message,
    enqueued_at: SystemTime,
    /// Given to the client's connection (in flight, or waiting in its engine): not to be
    /// delivered again on it.
    handed: bool,
}

/// One client identifier's session, connected or away.
#[derive(Debug)]
struct Client {
    /// Its client id, shared with every delivery to it (no copy per message).
    id: Arc<str>,
    owner: AuthCredentials,
    connection: Option<ConnectionId>,
    /// The protocol state (QoS flows) while the client is away; its connection's engine
    /// holds it meanwhile. Boxed, as the Will: most clients are connected, and most
    /// have no Will, and an idle client should cost little.
    session: Option<Box<Session>>,
    expiry_interval: u32,
    disconnected_at: Option<SystemTime>,
    will: Option<Box<Will>>,
    /// When the Will of a client that is away is due.
    will_due: Option<SystemTime>,
    queue: VecDeque<Entry>,
    next_seq: u64,
    /// The time this client has in the router's timers, if any.
    timer: Option<SystemTime>,
}

impl Client {
    fn new(id: Arc<str>, owner: AuthCredentials) -> Self {
        Self {
            id,
            owner,
            connection: None,
            session: None,
            expiry_interval: 0,
            disconnected_at: None,
            will: None,
            will_due: None,
            queue: VecDeque::new(),
            next_seq: 1,
            timer: None,
        }
    }

    /// Whether the session outlives its connection.
    fn persistent(&self) -> bool {
        self.expiry_interval != 0
    }

    /// When the session of a client that is away expires (`None`: never, or connected).
    fn expires_at(&self) -> Option<SystemTime> {
        if self.connection.is_some() || self.expiry_interval == u32::MAX {
            return None;
        }
        let interval = Duration::from_secs(u64::from(self.expiry_interval));
        self.disconnected_at.map(|at| at + interval)
    }

    /// When the router must look at this client next.
    fn next_event(&self) -> Option<SystemTime> {
        match (self.will_due, self.expires_at()) {
            (Some(will), Some(end)) => Some(will.min(end)),
            (will, end) => will.or(end),
        }
    }
}

/// What a timer is for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    Client(String),
    Retained(TopicName),
    /// The end of the grace of a session that moved to another node.
    Moved(String),
}

/// MQTT's rules between clients, sans I/O: see the [module documentation](self).
#[derive(Debug)]
pub struct Router {
    config: RouterConfig,
    index: SubscriptionIndex,
    retained: RetainedMessages,
    // Boxed clients and shared ids: a table sized for growth holds a pointer per free
    // slot rather than a whole client, and a client id is stored once.
    clients: HashMap<Arc<str>, Box<Client>>,
    connections: HashMap<ConnectionId, Arc<str>>,
    timers: BTreeSet<(SystemTime, Timer)>,
    chooser: Chooser,
    /// As a node of a cluster: the other nodes' filters (boxed: most routers are alone).
    cluster: Option<Box<ClusterView>>,
    ids: RandomState,
    assigned: u64,
    dropped: u64,
    retained_refused: u64,
}

impl Default for Router {
    fn default() -> Self {
        Self::new(RouterConfig::default())
    }
}

impl Router {
    /// An empty router.
    pub fn new(config: RouterConfig) -> Self {
        Self {
            index: SubscriptionIndex::with_limits(config.limits),
            retained: RetainedMessages::new(config.limits.max_topic_levels),
            clients: HashMap::new(),
            connections: HashMap::new(),
            timers: BTreeSet::new(),
            chooser: Chooser::new(config.shared_choice),
            cluster: None,
            ids: RandomState::new(),
            assigned: 0,
            dropped: 0,
            retained_refused: 0,
            config,
        }
    }

    /// An empty router for node `node` of a cluster (see [`Change`] and [`Forward`]):
    /// besides what a lone router does, a message published here is also a
    /// [`Forward`] for every other node whose clients' filters match it
    /// ([`Action::Forward`]), and what the nodes share (this node's filters, retained
    /// messages published here) is an [`Action::Share`] for all of them.
    ///
    /// # Errors
    /// A state error for a node identifier [`check_node_id`] refuses.
    pub fn clustered(config: RouterConfig, node: &str) -> Result<Self, Error> {
        let view = ClusterView::new(node, config.shared_choice)?;
        let mut router = Self::new(config);
        router.cluster = Some(Box::new(view));
        Ok(router)
    }

    /// This router's node identifier, if it is a node of a cluster.
    pub fn node_id(&self) -> Option<&str> {
        self.cluster.as_deref().map(|view| &*view.node)
    }

    /// The topic filters this node's clients subscribe to (each once), for the other
    /// nodes: what a node announces when it starts.
    pub fn node_filters(&self) -> Vec<TopicFilter> {
        self.cluster
            .as_deref()
            .map(ClusterView::local_filters)
            .unwrap_or_default()
    }

    /// The nodes known to have subscribers, this one included.
    pub fn known_nodes(&self) -> Vec<String> {
        self.cluster
            .as_deref()
            .map(ClusterView::nodes)
            .unwrap_or_default()
    }

    /// Applies a change to what the nodes share, as every node sees it, in the order
    /// the transport gives (this node's own retained messages included: the order
    /// decides which of two nodes' messages on one topic stays). Nothing is stored:
    /// the node that made the change stored it.
    ///
    /// # Errors
    /// A validation error for a retained topic with more levels than the limits allow.
    pub fn apply_change(&mut self, change: &Change) -> Result<(), Error> {
        match change {
            Change::Filter {
                node,
                filter,
                present,
            } => {
                if let Some(view) = self.cluster.as_deref_mut() {
                    view.apply_filter(node, filter, *present);
                }
                Ok(())
            }
            Change::Retained {
                message,
                arrived_at,
            } => self.keep_retained(message.clone(), *arrived_at),
            Change::RetainedCleared { topic } => {
                if let Some(old) = self.retained.remove(topic.as_str())
                    && let Some(at) = old.expires_at
                {
                    self.timers.remove(&(at, Timer::Retained(topic.clone())));
                }
                Ok(())
            }
        }
    }

    /// Lets another node have a client's session, which it resumes from the stores:
    /// call it once the client's connection here ended ([`closed`](Self::closed)) and
    /// its facts are stored. The session leaves this router with nothing stored (its
    /// Will and expiry go with it), but its subscriptions stay for `grace`, and what
    /// they match meanwhile is forwarded to `node` for this client alone: a message
    /// routed here by a node that has not yet seen the session's filters move is not
    /// lost. Returns the facts and changes of the subscriptions' end after `grace`,
    /// through [`handle_timeout`](Self::handle_timeout); nothing now.
    ///
    /// # Errors
    /// A state error if this router is no cluster node, or the client is connected
    /// here.
    pub fn release(
        &mut self,
        client_id: &str,
        node: &str,
        grace: Duration,
        now: SystemTime,
    ) -> Result<(), Error> {
        if self.connection_of(client_id).is_some() {
            return Err(Error::state(
                "release",
                format!("{client_id} is connected here: end its connection first"),
            ));
        }
        let Some(view) = self.cluster.as_deref_mut() else {
            return Err(Error::state("release", "this router is no cluster node"));
        };
        check_node_id(node)?;
        let until = now + grace;
        view.moved(client_id, node, until);
        self.timers
            .insert((until, Timer::Moved(client_id.to_owned())));
        if let Some(client) = self.clients.remove(client_id)
            && let Some(at) = client.timer
        {
            self.timers
                .remove(&(at, Timer::Client(client_id.to_owned())));
        }
        Ok(())
    }

    /// Forgets the filters of a node that left the cluster.
    pub fn forget_node(&mut self, node: &str) {
        if let Some(view) = self.cluster.as_deref_mut() {
            view.forget_node(node);
        }
    }

    /// Routes a message another node forwarded to this node's clients, allowed as
    /// [`publish_filtered`](Self::publish_filtered) allows: every matching
    /// subscription, but of shared ones only the groups the forward names. Its
    /// Message Expiry Interval counts down from its publication (an expired one goes
    /// nowhere); its retained message, if any, came as a [`Change`].
    pub fn receive_forward(
        &mut self,
        forward: &Forward,
        now: SystemTime,
        allowed: impl FnMut(&str) -> bool,
    ) -> Published {
        let waited = now.duration_since(forward.published_at).unwrap_or_default();
        let counted_down;
        // Most messages never expire: those are routed as they came, not copied.
        let message = if forward
            .message
            .properties()
            .message_expiry_interval
            .is_none()
        {
            &forward.message
        } else {
            let Some(left) = crate::protocol::count_down(forward.message.clone(), waited) else {
                return Published::default();
            };
            counted_down = left;
            &counted_down
        };
        let mut actions = Vec::new();
        let mut allowed = allowed;
        let only = forward.client.as_deref();
        let matched = self.route_locally(
            message,
            forward.publisher.as_deref(),
            now,
            |client| only.is_none_or(|only| only == client) && allowed(client),
            Scope {
                groups: Some(&forward.groups),
                covered: &[],
            },
            &mut actions,
        );
        Published {
            matched,
            refused: None,
            actions,
        }
    }

    /// The bounds and choices in force.
    pub fn config(&self) -> &RouterConfig {
        &self.config
    }

    /// Changes the bounds on retained messages and connections from now on (a broker
    /// reloading its settings): [`RouterConfig::max_retained_messages`],
    /// [`max_retained_bytes`](RouterConfig::max_retained_bytes) and
    /// [`max_connections`](RouterConfig::max_connections) (None: no bound). What is there
    /// already stays: past a lowered bound, only growth is refused.
    pub fn set_bounds(
        &mut self,
        max_retained_messages: Option<usize>,
        max_retained_bytes: Option<usize>,
        max_connections: Option<usize>,
    ) {
        self.config.max_retained_messages = max_retained_messages;
        self.config.max_retained_bytes = max_retained_bytes;
        self.config.max_connections = max_connections;
    }

    /// Counts for logs, `$SYS` and metrics.
    pub fn stats(&self) -> RouterStats {
        RouterStats {
            sessions: self.clients.len(),
            connected: self.connections.len(),
            subscriptions: self.index.len(),
            retained: self.retained.len(),
            retained_bytes: self.retained.bytes(),
            retained_refused: self.retained_refused,
            queued: self.clients.values().map(|c| c.queue.len()).sum(),
            dropped: self.dropped,
        }
    }

    // ---- client identifiers ----

    /// A client identifier for a client that gave none: `auto-` and 128 bits as a UUID,
    /// different in every process and never one a session here holds, so that a new
    /// client never resumes another's session, across restarts and nodes.
    pub fn assign_client_id(&mut self) -> String {
        loop {
            // Two draws of the process's randomly keyed hasher, over a counter and the
            // time: unique enough for identifiers (they are not secrets).
            self.assigned = self.assigned.wrapping_add(1);
            let nanos = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let high = self.ids.hash_one((self.assigned, nanos, 1_u8));
            let low = self.ids.hash_one((self.assigned, nanos, 2_u8));
            let uuid = (u128::from(high) << 64 | u128::from(low)) & !(0xF000_u128 << 64)
                | (0x4000_u128 << 64);
            let hex = format!("{uuid:032X}");
            let id = format!(
                "auto-{}-{}-{}-{}-{}",
                &hex[..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..]
            );
            if !self.clients.contains_key(id.as_str()) {
                return id;
            }
        }
    }

    /// Whether a session (connected or away) holds this client identifier.
    pub fn has_session(&self, client_id: &str) -> bool {
        self.clients.contains_key(client_id)
    }

    /// Why one more client may not connect as `client_id`: 0x97 Quota exceeded (for the
    /// CONNACK) when [`RouterConfig::max_connections`] clients are connected. None: it
    /// may; a client taking its own session over always may (its other connection
    /// ends). Ask before [`connect`](Self::connect).
    pub fn connection_refusal(&self, client_id: &str) -> Option<ReasonCode> {
        let max = self.config.max_connections?;
        (self.connections.len() >= max && self.connection_of(client_id).is_none())
            .then_some(ReasonCode::QuotaExceeded)
    }

    /// The connection that holds a client identifier, if it is connected.
    pub fn connection_of(&self, client_id: &str) -> Option<ConnectionId> {
        self.clients.get(client_id)?.connection
    }

    /// The client identifier a connection holds, once accepted.
    pub fn client_of(&self, connection: ConnectionId) -> Option<&str> {
        self.connections.get(&connection).map(|id| &**id)
    }

    /// Who a client is, to decide for it: its session's owner (user name and certificate;
    /// no password), connected or away.
    pub fn owner(&self, client_id: &str) -> Option<&AuthCredentials> {
        Some(&self.clients.get(client_id)?.owner)
    }

    // ---- a restart ----

    /// Takes back a session a store kept, with its Will, subscriptions and queue. A
    /// session whose connection never ended (the broker stopped without saying so)
    /// counts as ended at `now`; its Will is then due after its delay. Call
    /// [`handle_timeout`](Self::handle_timeout) once every session is back: what is due
    /// (expired sessions, Wills) happens then. Returns the facts to store (a session
    /// marked ended).
    ///
    /// # Errors
    /// A validation error for a subscription the index refuses (its limits).
    pub fn restore_session(
        &mut self,
        mut session: Session,
        will: Option<Will>,
        subscriptions: Vec<Subscription>,
        queue: Vec<QueuedMessage>,
        now: SystemTime,
    ) -> Result<Vec<Action>, Error> {
        let client_id = session.client_id().to_owned();
        let mut actions = Vec::new();
        // A session that had moved away comes back: what it left here goes first.
        if let Some(at) = self
            .cluster
            .as_deref()
            .and_then(|view| view.moved_until(&client_id))
        {
            self.timers.remove(&(at, Timer::Moved(client_id.clone())));
            self.forget_moved(&client_id, &mut actions);
        }
        if session.disconnected_at().is_none() {
            session.mark_disconnected(now);
            actions.push(Action::Persist(Fact::Session {
                session: session.clone(),
            }));
        }
        for subscription in subscriptions {
            let filter = subscription.topic_filter().clone();
            if self.index.subscribe(&client_id, subscription)?.is_none() {
                self.node_gained(&filter, &mut actions);
            }
        }
        let mut client = Client::new(Arc::from(client_id.as_str()), session.owner());
        client.expiry_interval = session.expiry_interval();
        client.disconnected_at = session.disconnected_at();
        client.next_seq = queue.iter().map(|q| q.seq + 1).max().unwrap_or(1);
        client.queue = queue
            .into_iter()
            .map(|q| Entry {
                seq: q.seq,
                message: q.message,
                enqueued_at: q.enqueued_at,
                handed: false,
            })
            .collect();
        if let (Some(will), Some(left)) = (will, client.disconnected_at) {
            client.will_due = Some(left + Duration::from_secs(u64::from(will.delay_interval)));
            client.will = Some(Box::new(will));
        }
        client.session = Some(Box::new(session));
        self.clients.insert(client.id.clone(), Box::new(client));
        self.schedule(&client_id);
        Ok(actions)
    }

    /// Takes back a retained message a store kept, with its arrival time. An expired one
    /// is dropped at the next [`handle_timeout`](Self::handle_timeout).
    ///
    /// # Errors
    /// A validation error for a topic with more levels than the limits allow.
    pub fn restore_retained(
        &mut self,
        message: Message,
        arrived_at: SystemTime,
    ) -> Result<(), Error> {
        self.keep_retained(message, arrived_at)
    }

    // ---- connections ----

    /// A client connects on `connection` with `client_id` (the one it gave, or one
    /// assigned) after the broker authenticated it as `owner`: its session is resumed or
    /// begun. `Connecting::TakeOver` if another connection holds the client identifier.
    ///
    /// # Errors
    /// A validation error for a client identifier a session cannot have.
    pub fn connect(
        &mut self,
        connection: ConnectionId,
        request: &ConnectRequest,
        client_id: &str,
        owner: &AuthCredentials,
        now: SystemTime,
    ) -> Result<Connecting, Error> {
        if let Some(held) = self.connection_of(client_id)
            && held != connection
        {
            return Ok(Connecting::TakeOver(held));
        }
        let expiry_interval = request.session_expiry_interval;
        let version = request.protocol_version();
        let mut actions = Vec::new();
        let resumable = self.clients.get(client_id).is_some_and(|client| {
            client.session.is_some() && client.expires_at().is_none_or(|at| at > now)
        });
        let (mut session, present) = if request.clean_start() || !resumable {
            if self.clients.contains_key(client_id) {
                // A new connection before the Will's delay passed: no Will
                // ([MQTT-3.1.3-9]); the old session's state goes.
                self.end_session(client_id, &mut actions);
            }
            let session = Session::new(client_id, version, request.clean_start(), expiry_interval)?;
            (session, false)
        } else {
            let client = self.clients.get_mut(client_id);
            match client.and_then(|c| c.session.take()) {
                Some(mut session) => {
                    session.resume(version, expiry_interval);
                    (*session, true)
                }
                None => (
                    Session::new(client_id, version, request.clean_start(), expiry_interval)?,
                    false,
                ),
            }
        };
        session.set_owner(owner);
        if !self.clients.contains_key(client_id) {
            let id: Arc<str> = Arc::from(client_id);
            let client = Client::new(id.clone(), session.owner());
            self.clients.insert(id, Box::new(client));
        }
        let Some(client) = self.clients.get_mut(client_id) else {
            return Err(Error::state("connect", "the client's session vanished"));
        };
        client.owner = session.owner();
        client.connection = Some(connection);
        client.expiry_interval = expiry_interval;
        client.disconnected_at = None;
        client.will_due = None;
        let will = request.will().map(Detach::detached);
        let had_will = client.will.is_some();
        client.will = will.clone().map(Box::new);
        self.connections.insert(connection, client.id.clone());
        self.schedule(client_id);
        let Some(client) = self.clients.get_mut(client_id) else {
            return Err(Error::state("connect", "the client's session vanished"));
        };
        // In a cluster, a clean session with a Will is stored too: if its node dies, the
        // node that adopts it publishes the Will.
        if client.persistent() || (self.cluster.is_some() && will.is_some()) {
            actions.push(Action::Persist(Fact::Session {
                session: session.clone(),
            }));
            if will.is_some() || had_will {
                actions.push(Action::Persist(Fact::Will {
                    client_id: client_id.to_owned(),
                    will,
                }));
            }
        }
        // What the session is owed: the flows under way are resent by the engine; the
        // rest is delivered now, in order, minus what expired.
        let in_flight: HashSet<u64> = session.outgoing().filter_map(|(_, f)| f.tag).collect();
        let mut expired = Vec::new();
        for entry in &mut client.queue {
            if in_flight.contains(&entry.seq) {
                entry.handed = true;
                continue;
            }
            let waited = now.duration_since(entry.enqueued_at).unwrap_or_default();
            match crate::protocol::count_down(entry.message.clone(), waited) {
                None => expired.push(entry.seq),
                Some(message) => {
                    entry.handed = true;
                    actions.push(Action::Deliver(Outgoing {
                        connection,
                        client_id: client.id.clone(),
                        route: pass_through(&message),
                        message,
                        tag: Some(entry.seq),
                    }));
                }
            }
        }
        for seq in expired {
            remove_entry(client, client_id, seq, &mut actions);
        }
        Ok(Connecting::Accepted(Box::new(Connected {
            session,
            session_present: present,
            actions,
        })))
    }

    /// A connection ended (its engine's [`Closed`] event). A session that outlives it
    /// keeps what it is owed, its flows, and its Will until the Will's delay passes; one
    /// that does not ends now, and its Will is due now.
    pub fn closed(
        &mut self,
        connection: ConnectionId,
        closed: &Closed,
        now: SystemTime,
    ) -> Vec<Action> {
        let mut actions = Vec::new();
        let Some(client_id) = self.connections.remove(&connection) else {
            return actions; // never accepted
        };
        let client_id = client_id.to_string();
        let Some(client) = self.clients.get_mut(client_id.as_str()) else {
            return actions;
        };
        if client.connection != Some(connection) {
            return actions;
        }
        client.connection = None;
        client.expiry_interval = closed.session_expiry_interval;
        let owner = client.owner.clone();
        let will = closed.will.clone();
        let persistent = client.persistent();
        let Some(mut session) = closed.session.clone().filter(|_| persistent) else {
            if let Some(will) = will {
                actions.push(Action::PublishWill {
                    client_id: client_id.clone(),
                    owner,
                    message: will.message,
                });
            }
            self.end_session(&client_id, &mut actions);
            return actions;
        };
        let Some(client) = self.clients.get_mut(client_id.as_str()) else {
            return actions;
        };
        // Which owed messages the client has under way: the engine resends them at the
        // next connection. The others are delivered again then.
        let in_flight: HashSet<u64> = session.outgoing().filter_map(|(_, f)| f.tag).collect();
        for entry in &mut client.queue {
            entry.handed = in_flight.contains(&entry.seq);
        }
        session.mark_disconnected(now);
        client.disconnected_at = Some(now);
        actions.push(Action::Persist(Fact::Session {
            session: session.clone(),
        }));
        client.session = Some(Box::new(session));
        // A routed message that waited for Receive Maximum without a tag (a retained
        // message for a new subscription) is owed now, as any other.
        for undelivered in &closed.undelivered {
            if undelivered.tag.is_none() && undelivered.message.qos() != QoS::AtMostOnce {
                let message = undelivered.message.clone();
                self.owe(&client_id, message, now, &mut actions);
            }
        }
        let Some(client) = self.clients.get_mut(client_id.as_str()) else {
            return actions;
        };
        match will {
            Some(will) if closed.will_delay == 0 => {
                client.will = None;
                actions.push(Action::Persist(Fact::Will {
                    client_id: client_id.clone(),
                    will: None,
                }));
                actions.push(Action::PublishWill {
                    client_id: client_id.clone(),
                    owner,
                    message: will.message,
                });
            }
            Some(will) => {
                client.will_due = Some(now + Duration::from_secs(u64::from(closed.will_delay)));
                client.will = Some(Box::new(will));
            }
            None => {
                if client.will.take().is_some() {
                    actions.push(Action::Persist(Fact::Will {
                        client_id: client_id.clone(),
                        will: None,
                    }));
                }
            }
        }
        self.schedule(&client_id);
        actions
    }

    /// The client has a tagged delivery (its flow ended: Delivered), or it ended unsent
    /// (Discarded): the message is no longer owed.
    pub fn settled(&mut self, connection: ConnectionId, tag: u64) -> Vec<Action> {
        let mut actions = Vec::new();
        let Some(client_id) = self.connections.get(&connection) else {
            return actions;
        };
        if let Some(client) = self.clients.get_mut(client_id) {
            remove_entry(client, client_id, tag, &mut actions);
        }
        actions
    }

    // ---- messages ----

    /// Routes a published message to every matching subscription; a retained one is
    /// stored (an empty payload clears the topic's). `publisher` is the client that
    /// published it (for No Local), None for a message of the broker's own.
    pub fn publish(
        &mut self,
        message: &Message,
        publisher: Option<&str>,
        now: SystemTime,
    ) -> Published {
        self.publish_filtered(message, publisher, now, |_| true)
    }

    /// [`publish`](Self::publish), to the clients `allowed` says may receive it (the
    /// broker's answers for [`receivers`](Self::receivers)); a shared subscription's
    /// member is chosen among those allowed.
    pub fn publish_filtered(
        &mut self,
        message: &Message,
        publisher: Option<&str>,
        now: SystemTime,
        allowed: impl FnMut(&str) -> bool,
    ) -> Published {
        let mut actions = Vec::new();
        if message.retain() {
            if !message.payload().is_empty()
                && !self.retained.fits(
                    message,
                    self.config.max_retained_messages,
                    self.config.max_retained_bytes,
                )
            {
                // Refused whole, as an unauthorized publication is: subscribers never
                // see a message the store could not keep.
                self.retained_refused += 1;
                return Published {
                    matched: false,
                    refused: Some(ReasonCode::QuotaExceeded),
                    actions,
                };
            }
            self.retain(message, now, &mut actions);
        }
        let Some(view) = self.cluster.as_deref_mut() else {
            let scope = Scope {
                groups: None,
                covered: &[],
            };
            let matched = self.route_locally(message, publisher, now, allowed, scope, &mut actions);
            return Published {
                matched,
                refused: None,
                actions,
            };
        };
        let mut plan = view.plan(message.topic(), publisher);
        let mut matched = !plan.remote.is_empty();
        let publisher_id = match publisher {
            Some(publisher) if matched => Some(self.shared_id(publisher)),
            _ => None,
        };
        for (node, groups) in &mut plan.remote {
            actions.push(Action::Forward(Forward {
                node: node.clone(),
                message: message.clone(),
                publisher: publisher_id.clone(),
                groups: std::mem::take(groups),
                published_at: now,
                client: None,
            }));
        }
        let scope = Scope {
            groups: Some(&plan.local_groups),
            covered: &plan.remote,
        };
        matched |= self.route_locally(message, publisher, now, allowed, scope, &mut actions);
        Published {
            matched,
            refused: None,
            actions,
        }
    }

    /// Routes a message to this router's clients that `allowed` allows, in `scope`.
    /// Returns whether any subscription matched.
    fn route_locally(
        &mut self,
        message: &Message,
        publisher: Option<&str>,
        now: SystemTime,
        mut allowed: impl FnMut(&str) -> bool,
        scope: Scope<'_>,
        actions: &mut Vec<Action>,
    ) -> bool {
        let served = scope.groups;
        let mut targets: Vec<(Arc<str>, Route)> = Vec::new();
        let mut matches: Vec<(&str, &Subscription)> = Vec::new();
        self.index
            .for_each_match(message.topic(), |client, subscription| {
                matches.push((client, subscription));
            });
        let matched = !matches.is_empty();
        // A client whose session moved to another node is authorized there.
        let moved_to = |client: &str| {
            self.cluster
                .as_deref()
                .and_then(|view| view.moved_to(client))
        };
        matches.retain(|(client, _)| moved_to(client).is_some() || allowed(client));
        let mut moved: Vec<(String, Arc<str>)> = Vec::new();
        if let [(client, subscription)] = matches[..]
            && !subscription.topic_filter().is_shared()
        {
            // One subscription: the common case, without the merge.
            if !(subscription.no_local() && publisher == Some(client)) {
                if let Some(id) = self.client_arc(client) {
                    targets.push((id, Route::from(subscription)));
                } else if let Some(node) = moved_to(client) {
                    moved.push((client.to_owned(), node));
                }
            }
        } else {
            for delivery in merge_overlapping(matches.iter().copied(), publisher) {
                if let Some(id) = self.client_arc(delivery.client_id) {
                    targets.push((id, Route::from(&delivery)));
                } else if let Some(node) = moved_to(delivery.client_id) {
                    moved.push((delivery.client_id.to_owned(), node));
                }
            }
            let mut groups: Vec<(&str, Vec<(&str, &Subscription)>)> = Vec::new();
            for &(client, subscription) in &matches {
                if !subscription.topic_filter().is_shared() {
                    continue;
                }
                let group = subscription.topic_filter().as_str();
                if served.is_some_and(|served| !served.iter().any(|s| s == group)) {
                    continue; // another node serves this group
                }
                match groups.iter_mut().find(|(g, _)| *g == group) {
                    Some((_, members)) => members.push((client, subscription)),
                    None => groups.push((group, vec![(client, subscription)])),
                }
            }
            for (group, mut members) in groups {
                // A member whose session moved to another node is served there.
                members.retain(|(client, _)| self.clients.contains_key(*client));
                if members.is_empty() {
                    continue;
                }
                let connected: Vec<(&str, &Subscription)> = members
                    .iter()
                    .copied()
                    .filter(|(client, _)| {
                        self.clients
                            .get(*client)
                            .is_some_and(|c| c.connection.is_some())
                    })
                    .collect();
                let pool = if connected.is_empty() {
                    members
                } else {
                    connected
                };
                let chosen = self.chooser.choose(group, pool.len(), publisher);
                if let Some((client, subscription)) = pool.get(chosen)
                    && let Some(id) = self.client_arc(client)
                {
                    targets.push((id, Route::from(*subscription)));
                }
            }
        }
        // A session that moved to another node meanwhile: its node takes it from here
        // (unless the message goes there anyway).
        moved.retain(|(_, node)| !scope.covered.iter().any(|(n, _)| n == node));
        for (client, node) in moved {
            actions.push(Action::Forward(Forward {
                node,
                message: message.clone(),
                publisher: publisher.map(|publisher| self.shared_id(publisher)),
                groups: Vec::new(),
                published_at: now,
                client: Some(client),
            }));
        }
        for (client_id, route) in targets {
            self.route_to(&client_id, message, route, now, actions);
        }
        matched
    }

    /// The clients a message on `topic` would be routed to, each with its owner's
    /// credentials: ask which may receive it, then route with
    /// [`publish_filtered`](Self::publish_filtered).
    pub fn receivers(&self, topic: &TopicName) -> Vec<(String, AuthCredentials)> {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut found = Vec::new();
        self.index.for_each_match(topic, |client, _| {
            if seen.insert(client)
                && let Some(state) = self.clients.get(client)
            {
                found.push((client.to_owned(), state.owner.clone()));
            }
        });
        found
    }

    // ---- subscriptions ----

    /// A SUBSCRIBE on `connection`: each subscription takes effect at once, in the order
    /// of the packet, except those the broker refused (`refused[i]` is the reason code
    /// for the i-th, e.g. Not authorized; missing or None: allowed). Retained messages
    /// go to each new subscription as its Retain Handling says.
    ///
    /// # Errors
    /// A state error if the connection holds no session.
    pub fn subscribe(
        &mut self,
        connection: ConnectionId,
        subscriptions: &[Subscription],
        refused: &[Option<ReasonCode>],
        now: SystemTime,
    ) -> Result<Answered, Error> {
        let client_id = self.accepted_client("subscribe", connection)?;
        let mut answered = Answered::default();
        for (position, subscription) in subscriptions.iter().enumerate() {
            if let Some(Some(code)) = refused.get(position) {
                answered.reason_codes.push(*code);
                continue;
            }
            // Kept for the session's life: in memory of its own, not a slice of the read.
            let kept = subscription.detached();
            match self.index.subscribe(&client_id, kept.clone()) {
                Err(err) => answered.reason_codes.push(subscribe_failure(&err)),
                Ok(previous) => {
                    if previous.is_none() {
                        self.node_gained(kept.topic_filter(), &mut answered.actions);
                    }
                    answered.reason_codes.push(granted(subscription.qos()));
                    answered.actions.push(Action::Persist(Fact::Subscribed {
                        client_id: client_id.clone(),
                        subscription: kept,
                    }));
                    let send = match subscription.retain_handling() {
                        RetainHandling::SendAtSubscribe => true,
                        RetainHandling::SendIfNewSubscription => previous.is_none(),
                        _ => false,
                    };
                    if send && !subscription.topic_filter().is_shared() {
                        self.send_retained(
                            connection,
                            &client_id,
                            subscription,
                            now,
                            &mut answered.actions,
                        );
                    }
                }
            }
        }
        Ok(answered)
    }

    /// An UNSUBSCRIBE on `connection`: each filter, compared character by character
    /// ([MQTT-3.10.4-1]), is removed; Success, or No subscription existed.
    ///
    /// # Errors
    /// A state error if the connection holds no session.
    pub fn unsubscribe(
        &mut self,
        connection: ConnectionId,
        topic_filters: &[TopicFilter],
    ) -> Result<Answered, Error> {
        let client_id = self.accepted_client("unsubscribe", connection)?;
        let mut answered = Answered::default();
        for topic_filter in topic_filters {
            if self.index.unsubscribe(&client_id, topic_filter).is_some() {
                self.node_lost(topic_filter, &mut answered.actions);
                answered.reason_codes.push(ReasonCode::Success);
                answered.actions.push(Action::Persist(Fact::Unsubscribed {
                    client_id: client_id.clone(),
                    topic_filter: topic_filter.clone(),
                }));
                if topic_filter.is_shared() {
                    self.chooser.forget(topic_filter.as_str());
                }
            } else {
                answered
                    .reason_codes
                    .push(ReasonCode::NoSubscriptionExisted);
            }
        }
        Ok(answered)
    }

    /// A client's subscriptions.
    pub fn subscriptions(&self, client_id: &str) -> Vec<Subscription> {
        self.index
            .subscriptions(client_id)
            .into_iter()
            .cloned()
            .collect()
    }

    // ---- time ----

    /// When [`handle_timeout`](Self::handle_timeout) must be called next: a Will's delay
    /// ends, a session expires, a retained message expires. `None`: nothing waits.
    pub fn next_deadline(&self) -> Option<SystemTime> {
        self.timers.first().map(|(at, _)| *at)
    }

    /// Runs what is due at `now`: Wills whose delay passed (or whose session ends),
    /// sessions that expired, retained messages that expired.
    pub fn handle_timeout(&mut self, now: SystemTime) -> Vec<Action> {
        let mut actions = Vec::new();
        while let Some((at, timer)) = self.timers.first().cloned() {
            if at > now {
                break;
            }
            self.timers.remove(&(at, timer.clone()));
            match timer {
                Timer::Retained(topic) => {
                    let expired = self
                        .retained
                        .get(topic.as_str())
                        .and_then(|r| r.expires_at)
                        .is_some_and(|at| at <= now);
                    if expired {
                        self.retained.remove(topic.as_str());
                        actions.push(Action::Persist(Fact::RetainedCleared { topic }));
                    }
                }
                Timer::Client(client_id) => self.client_due(&client_id, now, &mut actions),
                Timer::Moved(client_id) => self.forget_moved(&client_id, &mut actions),
            }
        }
        actions
    }

    fn client_due(&mut self, client_id: &str, now: SystemTime, actions: &mut Vec<Action>) {
        let Some(client) = self.clients.get_mut(client_id) else {
            return;
        };
        client.timer = None;
        let ending = client.expires_at().is_some_and(|at| at <= now);
        // The Will goes at the earlier of its delay and the session's end.
        if client.will_due.is_some_and(|at| at <= now) || (ending && client.will.is_some()) {
            client.will_due = None;
            if let Some(will) = client.will.take() {
                actions.push(Action::Persist(Fact::Will {
                    client_id: client_id.to_owned(),
                    will: None,
                }));
                actions.push(Action::PublishWill {
                    client_id: client_id.to_owned(),
                    owner: client.owner.clone(),
                    message: will.message,
                });
            }
        }
        if ending {
            self.end_session(client_id, actions);
        } else {
            self.schedule(client_id);
        }
    }

    // ---- inside ----

    fn accepted_client(
        &self,
        call: &'static str,
        connection: ConnectionId,
    ) -> Result<String, Error> {
        self.connections
            .get(&connection)
            .map(|id| id.to_string())
            .ok_or_else(|| Error::state(call, format!("connection {connection} holds no session")))
    }

    /// Puts a client's next event in the timers, in place of its previous one.
    fn schedule(&mut self, client_id: &str) {
        let Some(client) = self.clients.get_mut(client_id) else {
            return;
        };
        let next = client.next_event();
        if client.timer == next {
            return;
        }
        if let Some(old) = client.timer.take() {
            self.timers
                .remove(&(old, Timer::Client(client_id.to_owned())));
        }
        if let Some(at) = next {
            client.timer = Some(at);
            self.timers
                .insert((at, Timer::Client(client_id.to_owned())));
        }
    }

    /// Ends a session: its subscriptions, queue, Will and timers go; the stores are told.
    fn end_session(&mut self, client_id: &str, actions: &mut Vec<Action>) {
        let Some(client) = self.clients.remove(client_id) else {
            return;
        };
        if let Some(at) = client.timer {
            self.timers
                .remove(&(at, Timer::Client(client_id.to_owned())));
        }
        for subscription in self.index.unsubscribe_all(client_id) {
            if subscription.topic_filter().is_shared() {
                self.chooser.forget(subscription.topic_filter().as_str());
            }
            self.node_lost(subscription.topic_filter(), actions);
        }
        if let Some(connection) = client.connection {
            self.connections.remove(&connection);
        }
        actions.push(Action::Persist(Fact::SessionEnded {
            client_id: client_id.to_owned(),
        }));
    }

    /// Removes what is left of a session that moved to another node: its subscriptions
    /// (the node's filters, if it was their last holder).
    fn forget_moved(&mut self, client_id: &str, actions: &mut Vec<Action>) {
        let Some(view) = self.cluster.as_deref_mut() else {
            return;
        };
        if !view.arrived(client_id) || self.clients.contains_key(client_id) {
            return;
        }
        for subscription in self.index.unsubscribe_all(client_id) {
            self.node_lost(subscription.topic_filter(), actions);
        }
    }

    /// One more client of this node holds `filter`: the other nodes are told when it is
    /// the first.
    fn node_gained(&mut self, filter: &TopicFilter, actions: &mut Vec<Action>) {
        if let Some(change) = self
            .cluster
            .as_deref_mut()
            .and_then(|v| v.local_added(filter))
        {
            actions.push(Action::Share(change));
        }
    }

    /// One fewer client of this node holds `filter`: the other nodes are told when it
    /// was the last.
    fn node_lost(&mut self, filter: &TopicFilter, actions: &mut Vec<Action>) {
        if let Some(change) = self
            .cluster
            .as_deref_mut()
            .and_then(|v| v.local_removed(filter))
        {
            actions.push(Action::Share(change));
        }
    }

    /// A known client's id, shared.
    fn client_arc(&self, client_id: &str) -> Option<Arc<str>> {
        self.clients.get(client_id).map(|client| client.id.clone())
    }

    /// The router's shared copy of a client's id (a new one for a client it does not
    /// know).
    fn shared_id(&self, client_id: &str) -> Arc<str> {
        self.client_arc(client_id)
            .unwrap_or_else(|| Arc::from(client_id))
    }

    /// Sends or keeps one routed message for one client.
    fn route_to(
        &mut self,
        client_id: &Arc<str>,
        message: &Message,
        route: Route,
        now: SystemTime,
        actions: &mut Vec<Action>,
    ) {
        let Some(client) = self.clients.get(&**client_id) else {
            return;
        };
        let (connection, persistent) = (client.connection, client.persistent());
        let qos = message.qos().min(route.qos);
        match connection {
            Some(connection) => {
                let tag = if qos != QoS::AtMostOnce && persistent {
                    let owed = route.apply(message);
                    self.owe(client_id, owed, now, actions)
                } else {
                    None
                };
                // A persistent session's QoS 1 or 2 copy goes only if it is owed (not
                // dropped by a full queue).
                if tag.is_some() || qos == QoS::AtMostOnce || !persistent {
                    actions.push(Action::Deliver(Outgoing {
                        connection,
                        client_id: client_id.clone(),
                        message: message.clone(),
                        route,
                        tag,
                    }));
                }
            }
            // QoS 0 is not kept for a client that is away.
            None if qos != QoS::AtMostOnce => {
                let owed = route.apply(message);
                self.owe(client_id, owed, now, actions);
            }
            None => {}
        }
    }

    /// Adds a message to what a session is owed, as the queue-full policy allows;
    /// returns its entry's number, None if it was dropped.
    fn owe(
        &mut self,
        client_id: &str,
        message: Message,
        now: SystemTime,
        actions: &mut Vec<Action>,
    ) -> Option<u64> {
        let limit = self.config.max_queued_messages;
        let policy = self.config.queue_full;
        let client = self.clients.get_mut(client_id)?;
        if client.queue.len() >= limit {
            self.dropped += 1;
            actions.push(Action::Dropped {
                client_id: client_id.to_owned(),
                queued: client.queue.len(),
            });
            // Only a message not yet given to the connection can make room.
            let oldest = client.queue.iter().find(|e| !e.handed).map(|e| e.seq);
            match (policy, oldest) {
                (QueueFull::DropOldest, Some(seq)) if limit > 0 => {
                    remove_entry(client, client_id, seq, actions);
                }
                _ => return None,
            }
        }
        let seq = client.next_seq;
        client.next_seq += 1;
        let handed = client.connection.is_some();
        actions.push(Action::Persist(Fact::Queued {
            client_id: client_id.to_owned(),
            seq,
            message: message.clone(),
            enqueued_at: now,
        }));
        client.queue.push_back(Entry {
            seq,
            message,
            enqueued_at: now,
            handed,
        });
        Some(seq)
    }

    /// Stores, replaces or clears the retained message of a published message's topic.
    fn retain(&mut self, message: &Message, now: SystemTime, actions: &mut Vec<Action>) {
        let topic = message.topic().clone();
        if message.payload().is_empty() {
            // An empty payload clears the topic, and is not stored ([MQTT-3.3.1-6]).
            let old = self.retained.remove(topic.as_str());
            if let Some(at) = old.as_ref().and_then(|old| old.expires_at) {
                self.timers.remove(&(at, Timer::Retained(topic.clone())));
            }
            // A cluster's other nodes (and the shared store) may have one this node
            // has not heard of yet.
            let stored = !is_broker_topic(&topic);
            if self.cluster.is_some() {
                actions.push(Action::Share(Change::RetainedCleared {
                    topic: topic.clone(),
                }));
                if stored {
                    actions.push(Action::Persist(Fact::RetainedCleared { topic }));
                }
            } else if old.is_some() && stored {
                actions.push(Action::Persist(Fact::RetainedCleared { topic }));
            }
            return;
        }
        // Kept until replaced or expired: in memory of its own, not a slice of the read.
        let stored = match message.to_builder().message_id(None).dup(false).build() {
            Ok(stored) => stored.detached(),
            Err(_) => return,
        };
        if self.keep_retained(stored.clone(), now).is_ok() {
            if self.cluster.is_some() {
                actions.push(Action::Share(Change::Retained {
                    message: stored.clone(),
                    arrived_at: now,
                }));
            }
            // The broker's own figures ($SYS) are published afresh after a restart.
            if !is_broker_topic(stored.topic()) {
                actions.push(Action::Persist(Fact::Retained {
                    message: stored,
                    arrived_at: now,
                }));
            }
        }
    }

    fn keep_retained(&mut self, message: Message, arrived_at: SystemTime) -> Result<(), Error> {
        let topic = message.topic().clone();
        let retained = Retained::new(message, arrived_at);
        let expires_at = retained.expires_at;
        let previous = self.retained.insert(retained)?;
        if let Some(at) = previous.and_then(|p| p.expires_at) {
            self.timers.remove(&(at, Timer::Retained(topic.clone())));
        }
        if let Some(at) = expires_at {
            self.timers.insert((at, Timer::Retained(topic)));
        }
        Ok(())
    }

    /// Delivers the retained messages a new subscription matches, counted down.
    fn send_retained(
        &mut self,
        connection: ConnectionId,
        client_id: &str,
        subscription: &Subscription,
        now: SystemTime,
        actions: &mut Vec<Action>,
    ) {
        let route = Route::from(subscription).retained();
        let client_id: Arc<str> = Arc::from(client_id);
        self.retained
            .for_each_match(subscription.topic_filter(), |_, retained| {
                let waited = now.duration_since(retained.arrived_at).unwrap_or_default();
                if let Some(message) = crate::protocol::count_down(retained.message.clone(), waited)
                {
                    actions.push(Action::Deliver(Outgoing {
                        connection,
                        client_id: client_id.clone(),
                        message,
                        route: route.clone(),
                        tag: None,
                    }));
                }
            });
    }
}

/// Removes an owed message from a client's queue and tells the stores.
fn remove_entry(client: &mut Client, client_id: &str, seq: u64, actions: &mut Vec<Action>) {
    if let Some(position) = client.queue.iter().position(|e| e.seq == seq) {
        client.queue.remove(position);
        actions.push(Action::Persist(Fact::Dequeued {
            client_id: client_id.to_owned(),
            seq,
        }));
    }
}

/// The route that sends a message exactly as it was routed (its QoS, RETAIN flag and
/// subscription identifiers were decided when it was queued).
fn pass_through(message: &Message) -> Route {
    Route {
        qos: message.qos(),
        subscription_identifiers: message.properties().subscription_identifiers.clone(),
        retain_as_published: true,
        from_retained: false,
    }
}

/// The SUBACK code that grants `qos`.
fn granted(qos: QoS) -> ReasonCode {
    match qos {
        QoS::AtMostOnce => ReasonCode::Success,
        QoS::AtLeastOnce => ReasonCode::GrantedQoS1,
        QoS::ExactlyOnce => ReasonCode::GrantedQoS2,
    }
}

/// The SUBACK code of a subscription the index refused (a limit: Quota exceeded...).
fn subscribe_failure(err: &Error) -> ReasonCode {
    let code = err.reason_code();
    match code.in_table_of(crate::constants::PacketType::Suback) {
        Ok(code) if code.is_error() => code,
        _ => ReasonCode::UnspecifiedError,
    }
}
