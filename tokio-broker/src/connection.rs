//! One client connection: a task that owns its socket and its `ServerConnection`.
//!
//! Each turn of its loop waits for one thing (bytes from the client, mail from other
//! tasks, the engine's next deadline), hands it to the engine, acts on the engine's
//! events (asking the router and the auth provider), stores the facts that caused
//! (with `--data-dir`), and writes what the engine has to send. The MQTT rules are the
//! engine's and the router's; this is glue.

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::future::Either;
use mqtt_common::protocol::{
    Acceptance, Closed, ConnectRequest, ConnectionPhase, DeliveryOutcome, Event, Initiator,
    ServerConnection, SubscribeRequest, UnsubscribeRequest,
};
use mqtt_common::router::{Action, Connecting, Outgoing};
use mqtt_common::{
    Action as Permission, AuthCredentials, Message, MqttString, PacketId, ProtocolVersion, QoS,
    ReasonCode, Session,
};
use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::broker::Broker;
use crate::mailbox::{Command, Mailbox};
use crate::persist::{Waiter, Writes};

/// How much one read takes.
const READ_SIZE: usize = 64 * 1024;

thread_local! {
    /// Each runtime thread's buffer for reads (see `Stream::poll_read`), left
    /// uninitialized: the kernel writes what it reads, and only the pages it writes are
    /// ever resident (zeroing would make all 64 KiB so on every runtime thread).
    static SCRATCH: std::cell::RefCell<Box<[MaybeUninit<u8>]>> =
        std::cell::RefCell::new(Box::new_uninit_slice(READ_SIZE));
}
/// How long a write may wait for the client to read before it is dropped.
const WRITE_STALL: Duration = Duration::from_secs(10);
/// How long a connection the server ended waits for the client to close its side.
const LINGER: Duration = Duration::from_secs(2);
/// How long a TLS handshake may take.
const HANDSHAKE: Duration = Duration::from_secs(10);
/// A deadline further away than this is left to the broker's sweep.
const FAR: Duration = Duration::from_secs(1);
/// How long reading waits at most for a congested receiver to drain, each time.
const PUSH_BACK: Duration = Duration::from_millis(500);

/// Serves one accepted socket until the connection ends.
///
/// A plain connection's task is its `Connection` and the state of its loop, nothing
/// more: an `async fn` would keep its arguments beside them for the task's whole life.
pub fn serve(
    broker: Arc<Broker>,
    socket: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
) -> impl Future<Output = ()> + Send {
    let _ = socket.set_nodelay(true);
    match tls {
        None => Either::Left(Connection::new(broker, Stream::Plain(socket), peer).into_task()),
        // On the heap: the handshake's state would otherwise be in every task.
        Some(acceptor) => Either::Right(Box::pin(serve_tls(broker, socket, peer, acceptor))),
    }
}

/// Serves a TLS connection once its handshake is done.
async fn serve_tls(
    broker: Arc<Broker>,
    socket: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
) {
    let stream = match timeout(HANDSHAKE, acceptor.accept(socket)).await {
        Ok(Ok(stream)) => Stream::Tls(Box::new(stream)),
        Ok(Err(err)) => {
            tracing::info!("TLS handshake with {peer} failed: {err}");
            return;
        }
        Err(_) => {
            tracing::info!("TLS handshake with {peer} timed out");
            return;
        }
    };
    Connection::new(broker, stream, peer).run().await;
}

/// The socket, plain or TLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    /// The next bytes from the client, read into the thread's scratch buffer and kept as
    /// an exact copy; None at its end. Nothing is read unless it is ready, so an idle
    /// connection holds no buffer, and waiting stores nothing in the task (a `readable()`
    /// future would add its size to every connection's).
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<Option<Bytes>>> {
        // The messages' payloads point into the copy for as long as a receiver holds
        // them: a large buffer per read would be held (and zeroed by the kernel again and
        // again) for a few bytes each.
        SCRATCH.with_borrow_mut(|scratch| {
            let mut buffer = ReadBuf::uninit(scratch);
            let polled = match self {
                Self::Plain(socket) => Pin::new(socket).poll_read(cx, &mut buffer),
                Self::Tls(stream) => Pin::new(stream.as_mut()).poll_read(cx, &mut buffer),
            };
            polled.map_ok(|()| match buffer.filled() {
                [] => None,
                filled => Some(Bytes::copy_from_slice(filled)),
            })
        })
    }

    async fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
        match self {
            Self::Plain(socket) => socket.write_all(data).await,
            Self::Tls(stream) => {
                stream.write_all(data).await?;
                stream.flush().await
            }
        }
    }

    async fn shutdown(&mut self) -> std::io::Result<()> {
        match self {
            Self::Plain(socket) => socket.shutdown().await,
            Self::Tls(stream) => stream.shutdown().await,
        }
    }

    /// The client's certificate (DER), over TLS with client certificates.
    fn certificate(&self) -> Option<Bytes> {
        match self {
            Self::Plain(_) => None,
            Self::Tls(stream) => stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|certificate| Bytes::copy_from_slice(certificate.as_ref())),
        }
    }
}

/// What woke the connection up.
enum Wake {
    Mail,
    Read(std::io::Result<Option<Bytes>>),
    Deadline,
    /// A congested mailbox drained (or the wait for it ended).
    Drained,
}

/// An answer to a SUBSCRIBE or UNSUBSCRIBE that waits until its facts are stored.
enum Answer {
    Subscribe(PacketId, Vec<ReasonCode>),
    Unsubscribe(PacketId, Vec<ReasonCode>),
}

/// With `--data-dir`: what this connection's turns send to be stored, and what waits
/// for the commit (boxed: without stores, no connection carries the room).
#[derive(Default)]
struct Durable {
    /// What this turn caused, sent at its end.
    writes: Writes,
    /// The session's QoS 2 state changed: stored with this turn's facts.
    save_session: bool,
    /// SUBSCRIBE and UNSUBSCRIBE answers given with this turn's commit.
    answers: Vec<Answer>,
    /// The acknowledgement mark sent with the last commit.
    released_mark: u64,
    /// The number of the last commit sent.
    numbers: u64,
    releases: VecDeque<Release>,
}

/// What the facts sent with one number release once they are stored.
struct Release {
    number: u64,
    mark: u64,
    answers: Vec<Answer>,
}

struct Connection {
    broker: Arc<Broker>,
    id: u64,
    stream: Stream,
    peer: SocketAddr,
    engine: ServerConnection,
    mailbox: Arc<Mailbox>,
    client_id: Box<str>,
    /// The client's credentials, kept when a provider will be asked about them (boxed:
    /// every idle connection would carry the room otherwise).
    credentials: Option<Box<AuthCredentials>>,
    accepted: bool,
    /// The client's session outlives the connection (its QoS 2 state is stored).
    session_persists: bool,
    /// The CONNECT was refused, and the log told why.
    refused: bool,
    durable: Option<Box<Durable>>,
    /// Mailboxes this connection filled past their high water: it reads no more from
    /// its client until they drain (see `wait`).
    #[expect(
        clippy::box_collection,
        reason = "rare: boxed, an idle connection's task is 16 bytes smaller than with a Vec"
    )]
    congested: Option<Box<Vec<Arc<Mailbox>>>>,
}

impl Connection {
    fn new(broker: Arc<Broker>, stream: Stream, peer: SocketAddr) -> Self {
        // The configuration was checked at startup: it cannot be refused here.
        let mut engine = ServerConnection::new(Arc::clone(&broker.server), broker.clock())
            .unwrap_or_else(|err| unreachable!("a checked configuration: {err}"));
        engine.set_metrics(broker.metrics.clone());
        let durable = broker.persister.as_ref().map(|_| Box::default());
        Self {
            id: broker.next_connection_id(),
            broker,
            stream,
            peer,
            engine,
            mailbox: Arc::new(Mailbox::default()),
            client_id: Box::default(),
            credentials: None,
            accepted: false,
            session_persists: false,
            refused: false,
            durable,
            congested: None,
        }
    }

    /// The connection's task: the connection and the state of its loop.
    #[expect(
        clippy::manual_async_fn,
        reason = "an `async fn` of `mut self` holds the connection twice (1,800 bytes, not 1,064)"
    )]
    fn into_task(mut self) -> impl Future<Output = ()> + Send {
        async move { self.run().await }
    }

    async fn run(&mut self) {
        loop {
            // What needs awaiting is handled after the match, in one place: each await
            // in this loop adds its state to every connection's task.
            let events = match self.wait().await {
                Wake::Mail => {
                    self.read_mail();
                    self.due_events()
                }
                Wake::Read(Ok(Some(bytes))) => self.received(bytes),
                Wake::Read(Ok(None) | Err(_)) => {
                    if let Some(closed) = self.engine.connection_lost() {
                        self.closed(closed);
                    }
                    Vec::new()
                }
                Wake::Deadline => self.engine.handle_timeout(self.broker.clock()),
                Wake::Drained => Vec::new(),
            };
            self.handle(events).await;
            if self.mailbox.overflowed() && self.engine.phase() == ConnectionPhase::Connected {
                tracing::info!(
                    "{} does not read what it is sent: disconnected",
                    self.describe()
                );
                if let Ok(closed) = self.engine.disconnect(ReasonCode::QuotaExceeded) {
                    self.closed(closed);
                }
            }
            self.store();
            if !self.write().await {
                if let Some(closed) = self.engine.connection_lost() {
                    self.closed(closed);
                    self.store();
                }
                break;
            }
            if self.engine.is_closed() {
                // On the heap: it is the connection's last wait.
                Box::pin(self.linger()).await;
                break;
            }
        }
        self.broker.forget(self.id);
    }

    /// Waits for the client's bytes, mail, or the engine's next deadline. While a
    /// mailbox this connection filled is congested, the client's bytes wait (for at
    /// most `PUSH_BACK` each time): TCP then slows the client down to what the
    /// receivers take.
    async fn wait(&mut self) -> Wake {
        let deadline = self.engine.next_deadline();
        // An accepted connection's far deadline is the broker's sweep's, not a timer in
        // every task (it is late by at most two sweeps).
        // Compared with the sweep's clock, not the clock: no clock read per turn.
        let far = deadline.filter(|&at| self.accepted && at > self.broker.swept_at() + FAR);
        self.mailbox
            .set_due(far.map(|at| self.broker.sweep_due(at)));
        let deadline = deadline.map(|at| self.broker.instant(at));
        if let Some(list) = self.congested.as_mut() {
            list.retain(|m| m.congested());
            if list.is_empty() {
                self.congested = None;
            }
        }
        if let Some(full) = self
            .congested
            .as_ref()
            .and_then(|list| list.first().cloned())
        {
            // On the heap: this rare wait's state would otherwise be in every task.
            let wake = Box::pin(wait_congested(&self.mailbox, &full, deadline)).await;
            return wake.unwrap_or_else(|| {
                // A receiver that stalls is cut off by its own bound, not waited for.
                self.congested = None;
                Wake::Drained
            });
        }
        match deadline.filter(|_| far.is_none()) {
            None => wake(&self.mailbox, &mut self.stream, None).await,
            // On the heap: a near deadline is rare once a connection is accepted.
            Some(at) => {
                let (mailbox, stream) = (&self.mailbox, &mut self.stream);
                Box::pin(async move {
                    let sleep = pin!(tokio::time::sleep_until(at));
                    wake(mailbox, stream, Some(sleep)).await
                })
                .await
            }
        }
    }

    /// After mail, what the engine's deadline caused if it has passed: the sweep wakes
    /// a connection with no mail once its far deadline has.
    fn due_events(&mut self) -> Vec<Event> {
        // The sweep's clock first: most mail comes with no deadline passed, and the
        // sweep that wakes for one has read the clock past it.
        if self
            .engine
            .next_deadline()
            .is_some_and(|at| at <= self.broker.swept_at())
        {
            self.engine.handle_timeout(self.broker.clock())
        } else {
            Vec::new()
        }
    }

    // ---- the client's side ----

    /// Hands the client's bytes to the engine; what needs no await is done, and the
    /// events that do are returned.
    fn received(&mut self, bytes: Bytes) -> Vec<Event> {
        let now = self.broker.clock();
        let events = self.engine.receive_bytes(bytes, now);
        if !(self.accepted && self.broker.auth.is_none()) {
            return events;
        }
        // No provider to ask: the router takes publications and settlements at once.
        let routed = self
            .broker
            .router()
            .route_events(self.id, events, SystemTime::now());
        for topic in &routed.refused {
            self.broker
                .retained_refused(&self.client_id, topic.as_str());
        }
        for (packet_id, code) in routed.reasons {
            let _ = self.engine.set_publish_reason(packet_id, code);
        }
        self.carry_out(routed.actions);
        routed.rest
    }

    /// Acts on events in order (those an accepted CONNECT releases come first).
    async fn handle(&mut self, events: Vec<Event>) {
        if !events.is_empty() {
            // On the heap: its awaits (authentication, authorization) hold a large
            // state, which every idle connection's task would otherwise carry.
            Box::pin(self.act_on(events)).await;
        }
    }

    async fn act_on(&mut self, events: Vec<Event>) {
        let mut events = VecDeque::from(events);
        while let Some(event) = events.pop_front() {
            match event {
                Event::Connect(request) => {
                    for held in self.connect(*request).await.into_iter().rev() {
                        events.push_front(held);
                    }
                }
                Event::Message(message) => self.publish(message).await,
                Event::Subscribe(request) => self.subscribe(request).await,
                Event::Unsubscribe(request) => self.unsubscribe(request),
                Event::Delivered(delivered) => {
                    if let Some(tag) = delivered.tag {
                        let actions = self.broker.router().settled(self.id, tag);
                        self.carry_out(actions);
                    }
                }
                Event::Discarded(discarded) => {
                    let actions = self.broker.router().settled(self.id, discarded.tag);
                    self.carry_out(actions);
                }
                Event::Closed(closed) => self.closed(*closed),
                Event::Auth(_) => self.refuse(
                    ReasonCode::BadAuthenticationMethod,
                    "enhanced authentication is not offered",
                ),
                _ => {}
            }
        }
    }

    async fn connect(&mut self, request: ConnectRequest) -> Vec<Event> {
        if let Some(method) = &request.authentication_method {
            let why = format!("enhanced authentication ({method}) is not offered");
            self.refuse(ReasonCode::BadAuthenticationMethod, &why);
            return Vec::new();
        }
        let mut credentials = request.credentials.clone().with_peer(self.peer.to_string());
        if let Some(certificate) = self.stream.certificate() {
            credentials = credentials.with_certificate(certificate);
        }
        // An empty user name is no user name, as mosquitto counts it.
        let anonymous = request.credentials.username().is_none_or(str::is_empty);
        let allowed = match &self.broker.auth {
            _ if anonymous && self.broker.anonymous_allowed => Ok(true),
            None => Ok(!anonymous),
            Some(auth) => auth.authenticate(&credentials).await,
        };
        match allowed {
            Err(err) => {
                tracing::error!("the auth provider failed for {}: {err}", self.describe());
                self.refuse(ReasonCode::ServerUnavailable, "the auth provider failed");
                return Vec::new();
            }
            Ok(false) if anonymous => {
                let why = "not authorized (anonymous clients are refused)";
                self.refuse(ReasonCode::NotAuthorized, why);
                return Vec::new();
            }
            Ok(false) => {
                self.refuse(
                    ReasonCode::BadUserNameOrPassword,
                    "bad user name or password",
                );
                return Vec::new();
            }
            Ok(true) => {}
        }
        if self.engine.is_closed() {
            return Vec::new();
        }
        let client_id = if request.needs_client_id {
            self.broker.router().assign_client_id()
        } else {
            request.client_id().to_owned()
        };
        let Ok(owner) = owner(&credentials, &client_id) else {
            self.refuse(
                ReasonCode::ClientIdentifierNotValid,
                "an invalid client identifier",
            );
            return Vec::new();
        };
        // A client taking its own session over is let in: it ends its other connection.
        let refusal = {
            let router = self.broker.router();
            let limit = router.config().max_connections.unwrap_or_default();
            router
                .connection_refusal(&client_id)
                .map(|code| (code, limit))
        };
        if let Some((code, limit)) = refusal {
            tracing::warn!("refusing {client_id}: {limit} clients are connected");
            self.refuse(code, "the broker has its connections");
            return Vec::new();
        }
        // In a cluster, the node that held the session lets it go first.
        if let Err(err) = self
            .broker
            .take_session(&client_id, request.clean_start())
            .await
        {
            tracing::warn!("cannot take the session of {client_id}: {err}");
            self.refuse(
                ReasonCode::ServerUnavailable,
                "the session could not be taken up",
            );
            return Vec::new();
        }
        // Registered before the router knows the connection: from then on others may
        // deliver to it.
        self.broker.register(self.id, self.mailbox.clone());
        let connected = loop {
            let outcome = self.broker.router().connect(
                self.id,
                &request,
                &client_id,
                &owner,
                SystemTime::now(),
            );
            match outcome {
                Ok(Connecting::TakeOver(held)) => {
                    tracing::info!("session of {client_id} taken over by a new connection");
                    self.take_over_from(held).await;
                }
                Ok(Connecting::Accepted(connected)) => break *connected,
                Ok(_) | Err(_) => {
                    self.refuse(ReasonCode::UnspecifiedError, "the router refused it");
                    return Vec::new();
                }
            }
        };
        let acceptance = Acceptance {
            session_present: connected.session_present,
            assigned_client_id: request
                .needs_client_id
                .then(|| MqttString::new(&client_id).ok())
                .flatten(),
            authentication_data: None,
        };
        let held = match self.engine.accept(connected.session, acceptance) {
            Ok(held) => held,
            Err(err) => {
                tracing::error!("cannot accept {client_id}: {err}");
                Vec::new()
            }
        };
        self.client_id = client_id.into_boxed_str();
        self.accepted = !self.engine.is_closed();
        self.session_persists = request.session_expiry_interval != 0;
        if self.broker.auth.is_some() {
            self.credentials = Some(Box::new(owner));
        }
        self.carry_out(connected.actions);
        if self.accepted {
            tracing::info!(
                "{} connected from {} (MQTT {}, {}, keep alive {} s)",
                self.client_id,
                self.peer,
                version_name(request.protocol_version()),
                if connected.session_present {
                    "session resumed"
                } else {
                    "new session"
                },
                self.engine.keep_alive().unwrap_or(0)
            );
        }
        held
    }

    /// Ends the connection that holds this client's session (0x8E), and waits until it
    /// has told the router.
    async fn take_over_from(&self, held: u64) {
        self.broker.end_connection(held).await;
    }

    async fn publish(&mut self, message: Message) {
        let now = SystemTime::now();
        let published = match self.broker.auth.clone() {
            None => self
                .broker
                .router()
                .publish(&message, Some(&self.client_id), now),
            Some(auth) => {
                let credentials = self.credentials();
                let topic = message.topic().as_str();
                let allowed = auth
                    .authorize(&credentials, topic, Permission::Publish)
                    .await;
                if !matches!(allowed, Ok(true)) {
                    tracing::info!("{} may not publish to {topic}", self.describe());
                    if let Some(packet_id) = message.message_id() {
                        let code = match allowed {
                            Ok(_) => ReasonCode::NotAuthorized,
                            Err(_) => ReasonCode::UnspecifiedError,
                        };
                        let _ = self.engine.set_publish_reason(packet_id, code);
                    }
                    return;
                }
                let receivers = self.broker.allowed_receivers(&message).await;
                self.broker.router().publish_filtered(
                    &message,
                    Some(&self.client_id),
                    now,
                    |client| receivers.contains(client),
                )
            }
        };
        if published.refused.is_some() {
            self.broker
                .retained_refused(&self.client_id, message.topic().as_str());
        }
        if let (Some(code), Some(packet_id)) = (published.reason_code(), message.message_id()) {
            let _ = self.engine.set_publish_reason(packet_id, code);
        }
        self.carry_out(published.actions);
        if let Some(durable) = self.durable.as_mut()
            && message.qos() == QoS::ExactlyOnce
            && self.session_persists
        {
            durable.save_session = true; // its flow's state is stored before its PUBREC
        }
    }

    async fn subscribe(&mut self, request: SubscribeRequest) {
        let mut refused = Vec::new();
        if let Some(auth) = self.broker.auth.clone() {
            let credentials = self.credentials();
            for subscription in &request.subscriptions {
                let filter = subscription.topic_filter().as_str();
                refused.push(
                    match auth
                        .authorize(&credentials, filter, Permission::Subscribe)
                        .await
                    {
                        Ok(true) => None,
                        Ok(false) => {
                            tracing::info!("{} may not subscribe to {filter}", self.describe());
                            Some(ReasonCode::NotAuthorized)
                        }
                        Err(_) => Some(ReasonCode::UnspecifiedError),
                    },
                );
            }
        }
        if self.engine.is_closed() {
            return;
        }
        let answered = self.broker.router().subscribe(
            self.id,
            &request.subscriptions,
            &refused,
            SystemTime::now(),
        );
        let Ok(answered) = answered else {
            return;
        };
        self.answer(Answer::Subscribe(request.packet_id, answered.reason_codes));
        let mut actions = Vec::new();
        for action in answered.actions {
            // The retained messages a new subscription is sent: ask the provider first.
            if let (Action::Deliver(out), Some(auth)) = (&action, &self.broker.auth)
                && out.route.from_retained
            {
                let topic = out.message.topic().as_str();
                let credentials = self.credentials();
                if !matches!(
                    auth.authorize(&credentials, topic, Permission::Receive)
                        .await,
                    Ok(true)
                ) {
                    continue;
                }
            }
            actions.push(action);
        }
        self.carry_out(actions);
    }

    fn unsubscribe(&mut self, request: UnsubscribeRequest) {
        let answered = self
            .broker
            .router()
            .unsubscribe(self.id, &request.topic_filters);
        if let Ok(answered) = answered {
            self.answer(Answer::Unsubscribe(
                request.packet_id,
                answered.reason_codes,
            ));
            self.carry_out(answered.actions);
        }
    }

    /// Answers a SUBSCRIBE or UNSUBSCRIBE: now, or with `--data-dir` once its facts are
    /// stored.
    fn answer(&mut self, answer: Answer) {
        match self.durable.as_mut() {
            Some(durable) => durable.answers.push(answer),
            None => self.give(answer),
        }
    }

    fn give(&mut self, answer: Answer) {
        let closed = match answer {
            Answer::Subscribe(packet_id, codes) => self.engine.answer_subscribe(packet_id, &codes),
            Answer::Unsubscribe(packet_id, codes) => {
                self.engine.answer_unsubscribe(packet_id, &codes)
            }
        };
        // The answer did not fit the client's Maximum Packet Size: the connection ended.
        if let Ok(Some(closed)) = closed {
            self.closed(closed);
        }
    }

    // ---- what the router decided ----

    /// Carries out the router's actions: deliveries to this connection go to its
    /// engine, the others to their connections; facts are kept for the next commit.
    fn carry_out(&mut self, actions: Vec<Action>) {
        let mut own = VecDeque::new();
        let mut congested = Vec::new();
        let mut writes = self
            .broker
            .carry_out(actions, Some(self.id), &mut own, &mut congested);
        if !congested.is_empty() {
            let list = self.congested.get_or_insert_default();
            for mailbox in congested {
                if !list.iter().any(|m| Arc::ptr_eq(m, &mailbox)) {
                    list.push(mailbox);
                }
            }
        }
        if let Some(durable) = self.durable.as_mut() {
            durable.writes.append(&mut writes);
        }
        if !own.is_empty() {
            let now = self.broker.clock();
            while let Some(out) = own.pop_front() {
                self.deliver(out, now);
            }
        }
    }

    fn deliver(&mut self, out: Outgoing, now: Duration) {
        if self.engine.phase() != ConnectionPhase::Connected {
            return; // the router learns of the end from `closed`
        }
        let outcome = self
            .engine
            .deliver_tagged(&out.message, &out.route, now, out.tag);
        if let (Ok(DeliveryOutcome::TooLarge | DeliveryOutcome::Expired), Some(tag)) =
            (outcome, out.tag)
        {
            let actions = self.broker.router().settled(self.id, tag);
            self.carry_out(actions);
        }
    }

    fn read_mail(&mut self) {
        for command in self.mailbox.take() {
            match command {
                Command::Deliver(deliveries) => {
                    let now = self.broker.clock();
                    for out in deliveries {
                        self.deliver(out, now);
                    }
                }
                Command::TakeOver(done) => {
                    if let Ok(closed) = self.engine.disconnect(ReasonCode::SessionTakenOver) {
                        self.closed(closed);
                    }
                    // What the end leaves is on its way to the stores before the
                    // taker goes on (a node letting the session go stores after it).
                    self.store();
                    let _ = done.send(());
                }
                Command::Committed(number) => self.committed(number),
                // Posted to the live sender's mailbox only.
                Command::Live(_) => {}
                Command::StoreFailed => self.store_failed(),
                Command::Shutdown => {
                    if let Ok(closed) = self.engine.disconnect(ReasonCode::ServerShuttingDown) {
                        self.closed(closed);
                    } else if let Some(closed) = self.engine.connection_lost() {
                        self.closed(closed);
                    }
                }
            }
        }
    }

    // ---- durability ----

    /// With `--data-dir`: sends what this turn caused to the commit task, numbered; the
    /// acknowledgements it owes wait for that number.
    fn store(&mut self) {
        let (Some(persister), Some(durable)) = (&self.broker.persister, self.durable.as_mut())
        else {
            return;
        };
        let mark = self.engine.acknowledgement_mark();
        let owed = mark != durable.released_mark || !durable.answers.is_empty();
        if durable.writes.is_empty() && !durable.save_session && !owed {
            return;
        }
        let sessions: Vec<Session> = match (durable.save_session, self.engine.session()) {
            (true, Some(session)) => vec![session.clone()],
            _ => Vec::new(),
        };
        durable.save_session = false;
        durable.numbers += 1;
        durable.releases.push_back(Release {
            number: durable.numbers,
            mark,
            answers: std::mem::take(&mut durable.answers),
        });
        durable.released_mark = mark;
        let waiter = Some(Waiter::Connection(self.mailbox.clone(), durable.numbers));
        persister.store(std::mem::take(&mut durable.writes), sessions, waiter);
    }

    fn committed(&mut self, number: u64) {
        loop {
            let Some(durable) = self.durable.as_mut() else {
                return;
            };
            if durable.releases.front().is_none_or(|r| r.number > number) {
                return;
            }
            let Some(release) = durable.releases.pop_front() else {
                return;
            };
            self.engine.release_acknowledgements(release.mark);
            for answer in release.answers {
                self.give(answer);
            }
        }
    }

    /// What this connection's acknowledgements promise could not be stored: none of
    /// them is released, now or by a later commit, and the connection ends.
    fn store_failed(&mut self) {
        if let Some(durable) = self.durable.as_mut() {
            durable.releases.clear();
            durable.answers.clear();
        }
        if let Ok(closed) = self.engine.disconnect(ReasonCode::UnspecifiedError) {
            tracing::info!(
                "{} disconnected: its messages could not be stored",
                self.describe()
            );
            self.closed(closed);
        } else if let Some(closed) = self.engine.connection_lost() {
            self.closed(closed);
        }
    }

    // ---- the end ----

    fn refuse(&mut self, reason_code: ReasonCode, why: &str) {
        if !self.accepted {
            tracing::info!("refused {}: {why}", self.describe());
            self.refused = true;
        }
        let closed = if self.engine.phase() == ConnectionPhase::Connecting {
            self.engine.refuse(reason_code)
        } else {
            self.engine.disconnect(reason_code)
        };
        if let Ok(closed) = closed {
            self.closed(closed);
        }
    }

    fn closed(&mut self, closed: Closed) {
        self.log_end(&closed);
        if self.accepted {
            self.accepted = false;
            let actions = self
                .broker
                .router()
                .closed(self.id, &closed, SystemTime::now());
            self.carry_out(actions);
        }
        self.broker.forget(self.id);
    }

    fn log_end(&self, closed: &Closed) {
        let reason = in_words(closed.reason_code);
        let detail = closed
            .error
            .as_ref()
            .map(|err| format!(": {err}"))
            .unwrap_or_default();
        if self.accepted {
            let by = match closed.initiator {
                Initiator::Client => "by the client",
                Initiator::Server => "by the server",
                _ => "(lost)",
            };
            tracing::info!("{} disconnected {by}: {reason}{detail}", self.describe());
        } else if self.refused {
            // Said when it was refused.
        } else if closed.initiator == Initiator::Server {
            tracing::info!("refused {}: {reason}{detail}", self.describe());
        } else {
            tracing::info!("{} closed before it was accepted", self.describe());
        }
    }

    /// Writes what the engine has to send; false when the client is gone or reads
    /// nothing for `WRITE_STALL`.
    async fn write(&mut self) -> bool {
        let data = self.engine.data_to_send();
        if data.is_empty() {
            return true;
        }
        let mut written = 0;
        if let Stream::Plain(socket) = &self.stream {
            // Most writes fit the socket's buffer at once.
            while written < data.len() {
                match socket.try_write(&data[written..]) {
                    Ok(0) => return false,
                    Ok(n) => written += n,
                    Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(_) => return false,
                }
            }
            if written == data.len() {
                return true;
            }
        }
        // On the heap: this wait's state would otherwise be in every connection's task.
        Box::pin(self.write_waiting(&data[written..])).await
    }

    /// Writes what the socket did not take at once, waiting for the client to read.
    async fn write_waiting(&mut self, data: &[u8]) -> bool {
        match timeout(WRITE_STALL, self.stream.write_all(data)).await {
            Ok(Ok(())) => true,
            Ok(Err(_)) => false,
            Err(_) => {
                tracing::info!("{} does not read what it is sent: dropped", self.describe());
                false
            }
        }
    }

    /// The server ended the connection: its last bytes are written; the sending side is
    /// shut down, and what the client still sends is read and dropped until it closes
    /// its side or `LINGER` passes. Closing at once while the client's bytes are unread
    /// would make the kernel answer with a reset, and the client would never read the
    /// reason.
    async fn linger(&mut self) {
        let _ = self.stream.shutdown().await;
        let _ = timeout(LINGER, async {
            while let Ok(Some(_)) = poll_fn(|cx| self.stream.poll_read(cx)).await {}
        })
        .await;
    }

    fn credentials(&self) -> AuthCredentials {
        self.credentials.as_deref().cloned().unwrap_or_else(|| {
            AuthCredentials::new(&self.client_id)
                .unwrap_or_else(|_| unreachable!("an accepted client id is valid"))
        })
    }

    /// The client, for the log: its id, user name and address, as far as known.
    fn describe(&self) -> String {
        if self.engine.protocol_version().is_none() {
            return format!("a connection from {}", self.peer);
        }
        let client_id = if self.client_id.is_empty() {
            self.engine.client_id().unwrap_or_default()
        } else {
            &self.client_id
        };
        let who = if client_id.is_empty() {
            "a client without an id".to_owned()
        } else {
            format!("client '{client_id}'")
        };
        let user = match self.engine.username() {
            Some(name) => format!("user '{name}'"),
            None => "no user name".to_owned(),
        };
        format!("{who} ({user}, {})", self.peer)
    }
}

/// The owner's credentials under the client id in force (the assigned one, say).
fn owner(
    credentials: &AuthCredentials,
    client_id: &str,
) -> Result<AuthCredentials, mqtt_common::Error> {
    let mut owner = AuthCredentials::new(client_id)?;
    if let Some(name) = credentials.username() {
        owner = owner.with_username(name)?;
    }
    if let Some(password) = credentials.password() {
        owner = owner.with_password(password.clone());
    }
    if let Some(certificate) = credentials.certificate() {
        owner = owner.with_certificate(certificate.clone());
    }
    if let Some(peer) = credentials.peer() {
        owner = owner.with_peer(peer);
    }
    Ok(owner)
}

/// A reason code as the log says it: "bad user name or password (0x86)".
fn in_words(code: ReasonCode) -> String {
    let name = code.name().to_lowercase().replace('_', " ");
    format!("{name} ({:#04x})", code.as_u8())
}

fn version_name(version: ProtocolVersion) -> &'static str {
    match version {
        ProtocolVersion::V31 => "3.1",
        ProtocolVersion::V311 => "3.1.1",
        _ => "5.0",
    }
}

/// Sleeps until `deadline`; for ever without one.
/// While a mailbox this connection filled is congested: waits for mail, for that
/// mailbox to drain, or for the engine's deadline; None after `PUSH_BACK`.
async fn wait_congested(
    mailbox: &Mailbox,
    full: &Mailbox,
    deadline: Option<Instant>,
) -> Option<Wake> {
    tokio::select! {
        biased;
        () = poll_fn(|cx| mailbox.poll_posted(cx)) => Some(Wake::Mail),
        () = full.drained() => Some(Wake::Drained),
        () = tokio::time::sleep(PUSH_BACK) => None,
        () = sleep_until(deadline) => Some(Wake::Deadline),
    }
}

/// Waits for mail, the client's bytes or the timer, polled in this order as a biased
/// select.
fn wake<'a>(
    mailbox: &'a Mailbox,
    stream: &'a mut Stream,
    mut sleep: Option<Pin<&'a mut tokio::time::Sleep>>,
) -> impl Future<Output = Wake> + 'a {
    poll_fn(move |cx| {
        if mailbox.poll_posted(cx).is_ready() {
            return Poll::Ready(Wake::Mail);
        }
        if let Poll::Ready(read) = stream.poll_read(cx) {
            return Poll::Ready(Wake::Read(read));
        }
        match sleep.as_mut() {
            Some(sleep) => sleep.as_mut().poll(cx).map(|()| Wake::Deadline),
            None => Poll::Pending,
        }
    })
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    /// The size of the future a function of four arguments returns.
    fn future_size<A, B, C, D, F>(_: fn(A, B, C, D) -> F) -> usize {
        size_of::<F>()
    }

    /// Every connection's task holds this future, idle or not: what only some
    /// connections wait for (TLS, a full socket, a congested receiver, the provider's
    /// answer, the last linger) is boxed, and a far deadline is the broker's sweep's, so
    /// that it does not grow again unnoticed. (Measured 792 bytes with rustc 1.95: 3,144
    /// before the rare waits were boxed, 1,464 before the engine kept its traffic apart
    /// and the task its arguments, 1,008 with a timer of its own.) Tokio's task adds
    /// about 100 bytes and rounds up to 128: 792 makes 896.
    #[test]
    fn an_idle_connection_task_stays_small() {
        let size = future_size(super::serve);
        assert!(size <= 800, "a connection's task future is {size} bytes");
    }
}
