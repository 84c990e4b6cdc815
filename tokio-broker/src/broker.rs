//! What the connections share: the router, their mailboxes, the auth provider and the
//! stores; and the broker's own work: the router's timers, Wills, a restart.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use mqtt_common::metrics::Metrics;
use mqtt_common::protocol::ServerConfig;
use mqtt_common::redis::Lease;
use mqtt_common::router::{Action, Outgoing, Router};
use mqtt_common::sys_topics::{SysInput, SysTopics};
use mqtt_common::{
    Action as Permission, AsyncAuthInterface, AuthCredentials, Error, Message, QoS, RedisNode,
};
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::mailbox::{Command, Mailbox};
use crate::persist::{ClusterWrite, Persister, Waiter, Writes};

/// How often the router's timers are looked at, at the least.
const TICK: Duration = Duration::from_millis(250);

/// How often the connections' far deadlines are looked at (`sweep_deadlines`).
const SWEEP: Duration = Duration::from_millis(100);

/// How long a node waits for another to let a session go.
const RELEASE_WAIT: Duration = Duration::from_secs(5);

/// How long a session that moved to another node keeps its subscriptions here,
/// forwarding what they match to it (the time the other nodes take to see its filters
/// on the new node, with room to spare).
const MOVE_GRACE: Duration = Duration::from_secs(30);

/// The broker's shared state.
pub struct Broker {
    /// MQTT's rules between connections. Held for sync calls only, never across an
    /// await: a call takes microseconds.
    router: Mutex<Router>,
    mailboxes: Mutex<HashMap<u64, Arc<Mailbox>>>,
    /// The provider asked who may connect, publish, subscribe and receive; None: every
    /// named client may do anything.
    pub auth: Option<Arc<dyn AsyncAuthInterface>>,
    /// Whether clients without a user name are accepted without asking the provider.
    pub anonymous_allowed: bool,
    /// The stores, with `--data-dir`.
    pub persister: Option<Persister>,
    /// Every connection's engine configuration (shared by their engines).
    pub server: Arc<ServerConfig>,
    started: Instant,
    next_connection: AtomicU64,
    /// Messages dropped from full offline queues.
    dropped: AtomicU64,
    /// Retained messages refused for `--max-retained` or `--max-retained-bytes`.
    retained_refused: AtomicU64,
    /// With `--node-id`: this node's part in the cluster.
    pub node: Option<RedisNode>,
    /// Sessions asked of other nodes, each with who waits for the answer (given a way
    /// to say when the session is taken up: the inbox waits for that before it routes
    /// what came after the answer).
    asked: Mutex<HashMap<String, oneshot::Sender<oneshot::Sender<()>>>>,
    /// Held (written) while this node adopts a dead one: a session it is taking up is
    /// neither claimed nor let go until it is in the router.
    pub adoption: tokio::sync::RwLock<()>,
    /// In a cluster: the live sender's mailbox, for QoS 0 messages to other nodes (not
    /// stored). It pushes back as a connection's does.
    pub live: Option<Arc<Mailbox>>,
    /// The counters every connection's engine adds to (`$SYS`).
    pub metrics: Arc<Metrics>,
    /// The most connections accepted at once since the start.
    max_connected: AtomicUsize,
    /// The clock at the last sweep, in milliseconds: cheaper to read than the clock, and
    /// enough to tell a far deadline from a near one.
    swept_at: AtomicU64,
}

impl Broker {
    /// A broker on this router.
    pub fn new(
        router: Router,
        server: ServerConfig,
        auth: Option<Arc<dyn AsyncAuthInterface>>,
        anonymous_allowed: bool,
        persister: Option<Persister>,
        node: Option<RedisNode>,
        live: Option<Arc<Mailbox>>,
    ) -> Self {
        // With stores, an acknowledgement waits until what it promises is stored.
        let server = ServerConfig {
            hold_acknowledgements: persister.is_some(),
            ..server
        };
        Self {
            router: Mutex::new(router),
            mailboxes: Mutex::new(HashMap::new()),
            auth,
            anonymous_allowed,
            persister,
            server: Arc::new(server),
            started: Instant::now(),
            next_connection: AtomicU64::new(1),
            dropped: AtomicU64::new(0),
            retained_refused: AtomicU64::new(0),
            node,
            asked: Mutex::new(HashMap::new()),
            adoption: tokio::sync::RwLock::new(()),
            metrics: Arc::new(Metrics::default()),
            max_connected: AtomicUsize::new(0),
            swept_at: AtomicU64::new(0),
            live,
        }
    }

    /// Logs a retained message the router refused for the bounds on them (the 1st,
    /// 2nd, 4th... of a flood).
    pub fn retained_refused(&self, who: &str, topic: &str) {
        let refused = self.retained_refused.fetch_add(1, Ordering::Relaxed) + 1;
        if refused == 1 || refused.is_power_of_two() {
            tracing::warn!(
                "refused the retained message of {who} to {topic}: the broker holds as many \
                 retained messages as allowed (--max-retained, --max-retained-bytes; \
                 {refused} refused in all)"
            );
        }
    }

    /// The router, locked.
    pub fn router(&self) -> MutexGuard<'_, Router> {
        // A router call completes or changes nothing: a poisoned lock still guards it.
        self.router.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The engines' clock: time since the broker started.
    pub fn clock(&self) -> Duration {
        self.started.elapsed()
    }

    /// The instant at `at` on the engines' clock.
    pub fn instant(&self, at: Duration) -> Instant {
        self.started + at
    }

    /// A new connection's id.
    pub fn next_connection_id(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }

    fn mailboxes(&self) -> MutexGuard<'_, HashMap<u64, Arc<Mailbox>>> {
        self.mailboxes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// From now on, deliveries to connection `id` go to `mailbox`.
    pub fn register(&self, id: u64, mailbox: Arc<Mailbox>) {
        let mut mailboxes = self.mailboxes();
        mailboxes.insert(id, mailbox);
        self.max_connected
            .fetch_max(mailboxes.len(), Ordering::Relaxed);
    }

    /// The sweep by which a deadline at `at` (on `clock`) is due: the first that runs
    /// at or after it.
    pub fn sweep_due(&self, at: Duration) -> u32 {
        // In whole milliseconds rounded up, as the sweep's clock reads them rounded down.
        let at = millis(at) + u64::from(!at.subsec_nanos().is_multiple_of(1_000_000));
        let sweeps = at.div_ceil(millis(SWEEP)) + 1;
        u32::try_from(sweeps).unwrap_or(u32::MAX)
    }

    /// The clock as the last sweep read it (behind by at most `SWEEP`).
    pub fn swept_at(&self) -> Duration {
        Duration::from_millis(self.swept_at.load(Ordering::Relaxed))
    }

    /// Wakes the connections whose far deadline has passed (see `Mailbox::set_due`).
    pub fn sweep_deadlines(&self) {
        let now = millis(self.clock());
        self.swept_at.store(now, Ordering::Relaxed);
        let sweep = u32::try_from(now / millis(SWEEP) + 1).unwrap_or(u32::MAX);
        for mailbox in self.mailboxes().values() {
            mailbox.wake_if_due(sweep);
        }
    }

    /// Sweeps the connections' far deadlines every `SWEEP`, for ever.
    pub async fn run_sweeps(self: Arc<Self>) {
        let mut every = tokio::time::interval(SWEEP);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            self.sweep_deadlines();
        }
    }

    /// Connection `id` has ended.
    pub fn forget(&self, id: u64) {
        self.mailboxes().remove(&id);
    }

    /// Connection `id`'s mailbox, while it is connected.
    pub fn mailbox(&self, id: u64) -> Option<Arc<Mailbox>> {
        self.mailboxes().get(&id).cloned()
    }

    /// How many connections are accepted.
    pub fn connected(&self) -> usize {
        self.mailboxes().len()
    }

    /// Ends connection `id` (0x8E, Session taken over) and waits until it has told the
    /// router and sent what its end leaves to the stores.
    pub async fn end_connection(&self, id: u64) {
        match self.mailbox(id) {
            Some(mailbox) => {
                let (done, ended) = oneshot::channel();
                mailbox.post(Command::TakeOver(done));
                let _ = ended.await;
            }
            // Registered, not yet told the router: let it finish.
            None => tokio::task::yield_now().await,
        }
    }

    /// In a cluster: makes this node the holder of a client's session before it
    /// connects here. If another node held it, that node is asked to let it go, and
    /// the session is taken up from the stores, with its queue. A holder that does not
    /// answer within `RELEASE_WAIT`, or that died and is not yet adopted, keeps the
    /// session, and the connection is refused (Server unavailable; the client comes
    /// back later): taking the session as stored would lose what that node's inbox
    /// still holds for it, or serve it twice.
    pub async fn take_session(
        self: &Arc<Self>,
        client_id: &str,
        clean_start: bool,
    ) -> Result<(), Error> {
        let (Some(node), Some(persister)) = (&self.node, &self.persister) else {
            return Ok(());
        };
        let _adopted = self.adoption.read().await;
        let unavailable = |why: String| Err(Error::state("connect", why));
        // Told once the session is in the router, so that the inbox goes on.
        let mut taken_up = None;
        let holder = node.holder_of(client_id).await?;
        if let Some(holder) = &holder {
            match node.lease_of(holder).await? {
                Lease::Held => {
                    let (answer, answered) = oneshot::channel();
                    self.asked().insert(client_id.to_owned(), answer);
                    node.ask_release(holder, client_id).await?;
                    let outcome = tokio::time::timeout(RELEASE_WAIT, answered).await;
                    self.asked().remove(client_id);
                    let Ok(Ok(done)) = outcome else {
                        return unavailable(format!(
                            "node {holder} holds the session and did not let it go within \
                             {RELEASE_WAIT:?}"
                        ));
                    };
                    taken_up = Some(done);
                }
                // What its inbox holds for the session is routed by the node that
                // adopts it: the session must be there then, not here.
                Lease::Ended => {
                    return unavailable(format!(
                        "node {holder} held the session and died: it is being adopted"
                    ));
                }
                // Gone for good, and not adopted: the stores have the last word.
                Lease::None => {}
            }
        }
        node.claim(client_id).await?;
        // Here already; or a clean start with no other holder: nothing to take up. (A
        // session held here in the stores but not in the router, as when an adopting
        // node let it go to this one, is taken up.)
        if self.router().has_session(client_id) || (clean_start && holder.is_none()) {
            return Ok(());
        }
        let Some(session) = persister.sessions.get_session(client_id).await? else {
            return Ok(());
        };
        let will = persister.sessions.get_will(client_id).await?;
        let subscriptions = persister.storage.get_subscriptions(client_id).await?;
        let queue = persister.storage.queued_messages(client_id).await?;
        match &holder {
            Some(holder) => tracing::info!("the session of {client_id} comes from node {holder}"),
            None => tracing::info!("the session of {client_id} is taken up from the stores"),
        }
        let actions = self.router().restore_session(
            session,
            will,
            subscriptions,
            queue,
            SystemTime::now(),
        )?;
        self.carry_out_own(actions);
        if let Some(done) = taken_up {
            let _ = done.send(());
        }
        Ok(())
    }

    /// Another node takes a client's session over: its connection here ends (0x8E),
    /// what that leaves is stored, the session leaves the router, and `to` is told.
    pub async fn release_session(self: &Arc<Self>, client_id: &str, to: &str) -> Result<(), Error> {
        let Some(node) = &self.node else {
            return Ok(());
        };
        let _adopted = self.adoption.read().await;
        let held = self.router().connection_of(client_id);
        if let Some(held) = held {
            tracing::info!("session of {client_id} taken over on node {to}");
            self.end_connection(held).await;
        }
        self.router()
            .release(client_id, to, MOVE_GRACE, SystemTime::now())?;
        let (stored, outcome) = oneshot::channel();
        self.carry_out_waiting(Vec::new(), Waiter::Task(stored));
        if !matches!(outcome.await, Ok(true)) {
            return Err(Error::storage(format!(
                "what the session of {client_id} left could not be stored"
            )));
        }
        node.released(to, client_id).await
    }

    /// The node asked for a client's session has let it go: waits (a little) until
    /// the connection that asked has taken it up, so that what that node forwards for
    /// it next, behind the answer in the inbox, finds it here.
    pub async fn session_released(&self, client_id: &str) {
        let Some(waiting) = self.asked().remove(client_id) else {
            return;
        };
        let (done, taken_up) = oneshot::channel();
        if waiting.send(done).is_ok() {
            let _ = tokio::time::timeout(RELEASE_WAIT, taken_up).await;
        }
    }

    fn asked(&self) -> MutexGuard<'_, HashMap<String, oneshot::Sender<oneshot::Sender<()>>>> {
        self.asked.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Tells every connection to end (0x8B).
    pub fn shut_down_connections(&self) {
        for mailbox in self.mailboxes().values() {
            mailbox.post(Command::Shutdown);
        }
    }

    /// Carries out the router's actions on behalf of connection `own` (None: the
    /// broker's own): deliveries to `own` are appended to `deliver_here`, the others
    /// posted to their connections (those now congested are added to `congested`);
    /// Wills are published; drops counted. Returns what to store (and, in a cluster,
    /// to send to the other nodes).
    pub fn carry_out(
        self: &Arc<Self>,
        actions: Vec<Action>,
        own: Option<u64>,
        deliver_here: &mut VecDeque<Outgoing>,
        congested: &mut Vec<Arc<Mailbox>>,
    ) -> Writes {
        let mut writes = Writes::default();
        let mut live = Vec::new();
        // Each connection's deliveries, in order, posted together at the end.
        let mut posts: BTreeMap<u64, Vec<Outgoing>> = BTreeMap::new();
        let mut pending = VecDeque::from(actions);
        while let Some(action) = pending.pop_front() {
            match action {
                Action::Deliver(out) if Some(out.connection) == own => deliver_here.push_back(out),
                Action::Deliver(out) => posts.entry(out.connection).or_default().push(out),
                // Without stores, the router's memory is all there is.
                Action::Persist(fact) if self.persister.is_some() => writes.facts.push(fact),
                // QoS 0 needs no store: it goes at once, beside the commits.
                Action::Forward(forward)
                    if self.live.is_some() && forward.message.qos() == QoS::AtMostOnce =>
                {
                    if live.capacity() == 0 {
                        // A turn's forwards are as many as its publications, at most.
                        live.reserve(pending.len() + 1);
                    }
                    live.push(forward);
                }
                Action::Forward(forward) => writes.cluster.push(ClusterWrite::Forward(forward)),
                Action::Share(change) => writes.cluster.push(ClusterWrite::Change(change)),
                Action::PublishWill {
                    client_id,
                    owner,
                    message,
                } => {
                    if self.auth.is_some() {
                        tokio::spawn(self.clone().publish_will(client_id, owner, message));
                    } else {
                        tracing::info!("publishing the Will of {client_id} to {}", message.topic());
                        let published =
                            self.router()
                                .publish(&message, Some(&client_id), SystemTime::now());
                        pending.extend(published.actions);
                    }
                }
                Action::Dropped { client_id, queued } => {
                    let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                    if dropped == 1 || dropped.is_power_of_two() {
                        tracing::warn!(
                            "the offline queue of {client_id} is full ({queued} messages): \
                             the new message dropped ({dropped} dropped in all)"
                        );
                    }
                }
                _ => {}
            }
        }
        if let Some(mailbox) = self.live.as_ref().filter(|_| !live.is_empty()) {
            mailbox.post(Command::Live(live));
            if mailbox.congested() && !congested.iter().any(|m| Arc::ptr_eq(m, mailbox)) {
                congested.push(mailbox.clone());
            }
        }
        if !posts.is_empty() {
            let mailboxes = self.mailboxes();
            for (connection, deliveries) in posts {
                // A connection that ended meanwhile: the router hears of it from its
                // `closed`, and what it owed is still queued.
                let Some(mailbox) = mailboxes.get(&connection) else {
                    continue;
                };
                mailbox.post(Command::Deliver(deliveries));
                if mailbox.congested() && !congested.iter().any(|m| Arc::ptr_eq(m, mailbox)) {
                    congested.push(mailbox.clone());
                }
            }
        }
        writes
    }

    /// Carries out actions of the broker's own, and stores their facts.
    pub fn carry_out_own(self: &Arc<Self>, actions: Vec<Action>) {
        let (mut none, mut unheeded) = (VecDeque::new(), Vec::new());
        // The broker's own messages (Wills, expiry) are few: they do not wait.
        let writes = self.carry_out(actions, None, &mut none, &mut unheeded);
        if let Some(persister) = &self.persister
            && !writes.is_empty()
        {
            persister.store(writes, Vec::new(), None);
        }
    }

    /// Carries out actions of the broker's own and stores their facts; `waiter` is told
    /// once they are stored (at once if there are none).
    pub fn carry_out_waiting(self: &Arc<Self>, actions: Vec<Action>, waiter: Waiter) {
        let (mut none, mut unheeded) = (VecDeque::new(), Vec::new());
        let writes = self.carry_out(actions, None, &mut none, &mut unheeded);
        match &self.persister {
            Some(persister) => persister.store(writes, Vec::new(), Some(waiter)),
            None => {
                if let Waiter::Task(done) = waiter {
                    let _ = done.send(true);
                }
            }
        }
    }

    /// The clients a message would go to that may receive it (the provider asked for
    /// each, as its owner).
    pub async fn allowed_receivers(&self, message: &Message) -> HashSet<String> {
        let receivers = self.router().receivers(message.topic());
        let mut allowed = HashSet::new();
        if let Some(auth) = &self.auth {
            for (client_id, owner) in receivers {
                let topic = message.topic().as_str();
                if matches!(
                    auth.authorize(&owner, topic, Permission::Receive).await,
                    Ok(true)
                ) {
                    allowed.insert(client_id);
                }
            }
        }
        allowed
    }

    /// Publishes a Will if its owner may publish to its topic (mosquitto asks then).
    async fn publish_will(
        self: Arc<Self>,
        client_id: String,
        owner: AuthCredentials,
        message: Message,
    ) {
        let Some(auth) = &self.auth else {
            return;
        };
        let topic = message.topic().as_str();
        if !matches!(
            auth.authorize(&owner, topic, Permission::Publish).await,
            Ok(true)
        ) {
            tracing::info!(
                "the Will of {client_id} is not published: it may not publish to {topic}"
            );
            return;
        }
        tracing::info!("publishing the Will of {client_id} to {topic}");
        let receivers = self.allowed_receivers(&message).await;
        let published = self.router().publish_filtered(
            &message,
            Some(&client_id),
            SystemTime::now(),
            |client| receivers.contains(client),
        );
        self.carry_out_own(published.actions);
    }

    /// Publishes the `$SYS` figures every `interval`, retained, for ever (under
    /// `$SYS/broker/nodes/<id>/` for a node of a cluster).
    pub async fn publish_sys(self: Arc<Self>, interval: Duration) {
        let node = self.node.as_ref().map(|node| node.node_id().to_owned());
        let version = concat!("mqtt-tokio-broker ", env!("CARGO_PKG_VERSION"));
        let mut figures = match SysTopics::new(node.as_deref(), version, interval) {
            Ok(figures) => figures,
            // The node joined its cluster under this id, which the same check passed.
            Err(err) => {
                tracing::error!("no $SYS topics: {err}");
                return;
            }
        };
        loop {
            let messages = {
                let input = SysInput {
                    metrics: self.metrics.snapshot(),
                    stats: self.router().stats(),
                    connected: self.connected(),
                    max_connected: self.max_connected.load(Ordering::Relaxed),
                    uptime: self.started.elapsed(),
                };
                figures.changed(&input)
            };
            for message in messages {
                let published = self.router().publish(&message, None, SystemTime::now());
                self.carry_out_own(published.actions);
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// Runs the router's timers (Wills, session expiry, retained expiry) for ever.
    pub async fn run_timers(self: Arc<Self>) {
        loop {
            let wait = self
                .router()
                .next_deadline()
                .map_or(TICK, |at| {
                    at.duration_since(SystemTime::now()).unwrap_or_default()
                })
                .min(TICK);
            tokio::time::sleep(wait).await;
            let actions = self.router().handle_timeout(SystemTime::now());
            if !actions.is_empty() {
                self.carry_out_own(actions);
            }
        }
    }

    /// Takes up what a previous run left in the stores; returns how many sessions.
    pub async fn restore(self: &Arc<Self>, client_ids: Vec<String>) -> Result<usize, Error> {
        let Some(persister) = &self.persister else {
            return Ok(0);
        };
        let restored = self.take_up(client_ids).await?;
        let now = SystemTime::now();
        for (message, arrived_at) in persister.storage.retained_messages().await? {
            self.router().restore_retained(message, arrived_at)?;
        }
        let actions = self.router().handle_timeout(now);
        self.carry_out_own(actions);
        Ok(restored)
    }

    /// Takes up sessions from the stores (a restart's, or a dead node's); returns how
    /// many there were. Their due Wills are published at the next timer.
    pub async fn take_up(self: &Arc<Self>, client_ids: Vec<String>) -> Result<usize, Error> {
        let Some(persister) = &self.persister else {
            return Ok(0);
        };
        let now = SystemTime::now();
        let mut restored = 0;
        for client_id in client_ids {
            let Some(session) = persister.sessions.get_session(&client_id).await? else {
                continue;
            };
            let will = persister.sessions.get_will(&client_id).await?;
            let subscriptions = persister.storage.get_subscriptions(&client_id).await?;
            let queue = persister.storage.queued_messages(&client_id).await?;
            let actions =
                self.router()
                    .restore_session(session, will, subscriptions, queue, now)?;
            self.carry_out_own(actions);
            restored += 1;
        }
        Ok(restored)
    }
}

/// A duration in whole milliseconds (saturating: no clock here runs for 584 million
/// years).
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
