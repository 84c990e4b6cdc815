//! Scripted conversations between clients, through the router: `tests/routing/*.route`
//! give what clients and the clock do, and what each client receives, what Wills are
//! published, what is dropped and what the stores hold. Every client is a real
//! `ServerConnection` fed real packets; the router's facts go to a model store, from
//! which `restart` builds a new router. `tests/router/test_routing.py` runs the same
//! files through the Python binding. The format is in `tests/routing/README.md`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mqtt_common::codec::Decoder;
use mqtt_common::packet::{
    Connect, Direction, Disconnect, Packet, Properties, PropertyValue, Puback, Pubcomp, Pubrec,
    encode,
};
use mqtt_common::protocol::{Acceptance, Event, ServerConfig, ServerConnection};
use mqtt_common::router::{
    Action, Connecting, Fact, QueueFull, QueuedMessage, Router, RouterConfig, SharedChoice,
};
use mqtt_common::{
    Message, MqttString, PacketType, PropertyContext, PropertyId, ProtocolVersion,
    PublishProperties, QoS, ReasonCode, RetainHandling, Session, Subscription, SubscriptionId,
    TopicFilter, TopicName, Will,
};

type Failure = String;

/// Where the script's clock starts: `at 0`.
fn epoch() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

struct Script {
    name: String,
    lines: Vec<(usize, String)>,
}

fn scripts(path: &Path) -> Vec<Script> {
    let text = std::fs::read_to_string(path).expect("readable script");
    let mut out: Vec<Script> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split_once("  #").map_or(line, |(code, _)| code).trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix("== ") {
            out.push(Script {
                name: name.trim().to_owned(),
                lines: Vec::new(),
            });
        } else if let Some(current) = out.last_mut() {
            current.lines.push((number + 1, line.to_owned()));
        } else {
            panic!(
                "{}:{}: a step before the first '=='",
                path.display(),
                number + 1
            );
        }
    }
    out
}

/// `key=value` words of a line, and the plain words before them.
struct Words {
    plain: Vec<String>,
    named: Vec<(String, String)>,
}

impl Words {
    fn parse(text: &str) -> Self {
        let mut plain = Vec::new();
        let mut named = Vec::new();
        for word in text.split_whitespace() {
            match word.split_once('=') {
                Some((key, value)) => named.push((key.to_owned(), value.to_owned())),
                None => plain.push(word.to_owned()),
            }
        }
        Self { plain, named }
    }

    fn plain(&self, index: usize, what: &str) -> Result<&str, Failure> {
        self.plain
            .get(index)
            .map(String::as_str)
            .ok_or_else(|| format!("missing {what}"))
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.named
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn number(&self, key: &str) -> Result<Option<u64>, Failure> {
        self.get(key).map(number).transpose()
    }

    fn flag(&self, key: &str) -> bool {
        self.get(key) == Some("1")
    }
}

fn number(text: &str) -> Result<u64, Failure> {
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|_| format!("not a number: {text:?}"))
}

fn qos(value: u64) -> Result<QoS, Failure> {
    QoS::from_u8(u8::try_from(value).map_err(|e| e.to_string())?).ok_or("bad qos".to_owned())
}

/// What the stores hold: the router's facts, applied.
#[derive(Default, Debug, PartialEq)]
struct Store {
    sessions: BTreeMap<String, Session>,
    wills: BTreeMap<String, Will>,
    subscriptions: BTreeMap<String, BTreeMap<String, Subscription>>,
    queues: BTreeMap<String, BTreeMap<u64, (Message, SystemTime)>>,
    retained: BTreeMap<String, (Message, SystemTime)>,
}

impl Store {
    fn apply(&mut self, fact: &Fact) {
        match fact {
            Fact::Retained {
                message,
                arrived_at,
            } => {
                self.retained.insert(
                    message.topic().as_str().to_owned(),
                    (message.clone(), *arrived_at),
                );
            }
            Fact::RetainedCleared { topic } => {
                self.retained.remove(topic.as_str());
            }
            Fact::Subscribed {
                client_id,
                subscription,
            } => {
                self.subscriptions
                    .entry(client_id.clone())
                    .or_default()
                    .insert(
                        subscription.topic_filter().as_str().to_owned(),
                        subscription.clone(),
                    );
            }
            Fact::Unsubscribed {
                client_id,
                topic_filter,
            } => {
                if let Some(subscriptions) = self.subscriptions.get_mut(client_id) {
                    subscriptions.remove(topic_filter.as_str());
                }
            }
            Fact::Queued {
                client_id,
                seq,
                message,
                enqueued_at,
            } => {
                self.queues
                    .entry(client_id.clone())
                    .or_default()
                    .insert(*seq, (message.clone(), *enqueued_at));
            }
            Fact::Dequeued { client_id, seq } => {
                if let Some(queue) = self.queues.get_mut(client_id) {
                    queue.remove(seq);
                }
            }
            Fact::Session { session } => {
                self.sessions
                    .insert(session.client_id().to_owned(), session.clone());
            }
            Fact::Will { client_id, will } => match will {
                Some(will) => {
                    self.wills.insert(client_id.clone(), will.clone());
                }
                None => {
                    self.wills.remove(client_id);
                }
            },
            Fact::SessionEnded { client_id } => {
                self.sessions.remove(client_id);
                self.wills.remove(client_id);
                self.subscriptions.remove(client_id);
                self.queues.remove(client_id);
            }
            other => panic!("a fact the model does not know: {other:?}"),
        }
    }
}

/// A client's connection: its engine, and the PUBLISH packets it received.
struct Link {
    engine: ServerConnection,
    decoder: Decoder,
    received: VecDeque<Packet>,
    /// PUBLISH packets received and not yet acknowledged: (packet id, QoS).
    unacknowledged: Vec<(u16, QoS)>,
}

/// The real stores, beside the model: `restart` reads them back from their files.
#[cfg(feature = "sqlite")]
struct Files {
    dir: std::path::PathBuf,
    sessions: mqtt_common::SqliteSessionStore,
    storage: mqtt_common::SqliteStorage,
}

#[cfg(feature = "sqlite")]
impl Files {
    fn open(dir: std::path::PathBuf) -> Result<Self, Failure> {
        let config = mqtt_common::MemoryStorageConfig {
            max_queue_length: None,
            ..mqtt_common::MemoryStorageConfig::default()
        };
        Ok(Self {
            sessions: mqtt_common::SqliteSessionStore::open(dir.join("sessions.db"))
                .map_err(|e| e.to_string())?,
            storage: mqtt_common::SqliteStorage::open_with(
                dir.join("storage.db"),
                config,
                mqtt_common::Durability::ProcessCrashOnly,
            )
            .map_err(|e| e.to_string())?,
            dir,
        })
    }

    fn apply(&self, fact: &Fact) -> Result<(), Failure> {
        use mqtt_common::{SessionInterface, StorageInterface};
        self.storage
            .persist(std::slice::from_ref(fact))
            .map_err(|e| e.to_string())?;
        let done = match fact {
            Fact::Session { session } => self.sessions.save_session(session),
            Fact::Will { client_id, will } => match will {
                Some(will) => self.sessions.set_will(client_id, will.clone()),
                None => self.sessions.clear_will(client_id).map(drop),
            },
            Fact::SessionEnded { client_id } => self.sessions.delete_session(client_id).map(drop),
            _ => Ok(()),
        };
        done.map_err(|e| e.to_string())
    }

    /// What the files hold, read back through the stores' loading methods.
    fn load(&self) -> Result<Store, Failure> {
        use mqtt_common::{SessionInterface, StorageInterface};
        let e = |e: mqtt_common::Error| e.to_string();
        let mut store = Store::default();
        for client_id in self.sessions.client_ids().map_err(e)? {
            if let Some(session) = self.sessions.get_session(&client_id).map_err(e)? {
                store.sessions.insert(client_id.clone(), session);
            }
            if let Some(will) = self.sessions.get_will(&client_id).map_err(e)? {
                store.wills.insert(client_id.clone(), will);
            }
        }
        let mut clients: Vec<String> = store.sessions.keys().cloned().collect();
        clients.extend(store.wills.keys().cloned());
        for client_id in clients {
            let subscriptions: BTreeMap<String, Subscription> = self
                .storage
                .get_subscriptions(&client_id)
                .map_err(e)?
                .into_iter()
                .map(|s| (s.topic_filter().as_str().to_owned(), s))
                .collect();
            if !subscriptions.is_empty() {
                store.subscriptions.insert(client_id.clone(), subscriptions);
            }
            let queue: BTreeMap<u64, (Message, SystemTime)> = self
                .storage
                .queued_messages(&client_id)
                .map_err(e)?
                .into_iter()
                .map(|q| (q.seq, (q.message, q.enqueued_at)))
                .collect();
            if !queue.is_empty() {
                store.queues.insert(client_id, queue);
            }
        }
        for (message, at) in self.storage.retained_messages().map_err(e)? {
            store
                .retained
                .insert(message.topic().as_str().to_owned(), (message, at));
        }
        Ok(store)
    }
}

struct Runner {
    router: Router,
    config: RouterConfig,
    store: Store,
    #[cfg(feature = "sqlite")]
    files: Option<Files>,
    links: HashMap<u64, Link>,
    now: SystemTime,
    /// Wills published and messages dropped, in order, for `will` and `dropped`.
    happened: VecDeque<String>,
    matched: Option<bool>,
    /// The last publication's acknowledgement code (None: Success).
    reason: Option<ReasonCode>,
    codes: Vec<ReasonCode>,
    connected: Option<Result<bool, u64>>,
}

impl Runner {
    fn new() -> Self {
        Self {
            router: Router::default(),
            config: RouterConfig::default(),
            store: Store::default(),
            #[cfg(feature = "sqlite")]
            files: None,
            links: HashMap::new(),
            now: epoch(),
            happened: VecDeque::new(),
            matched: None,
            reason: None,
            codes: Vec::new(),
            connected: None,
        }
    }

    fn clock(&self) -> Duration {
        self.now.duration_since(epoch()).unwrap_or_default()
    }

    /// Carries out what the router decided, as a broker without authorization would.
    fn act(&mut self, actions: Vec<Action>) -> Result<(), Failure> {
        let mut pending: VecDeque<Action> = actions.into();
        while let Some(action) = pending.pop_front() {
            match action {
                Action::Deliver(out) => {
                    let clock = self.clock();
                    let Some(link) = self.links.get_mut(&out.connection) else {
                        return Err(format!(
                            "a delivery for connection {} that is gone",
                            out.connection
                        ));
                    };
                    link.engine
                        .deliver_tagged(&out.message, &out.route, clock, out.tag)
                        .map_err(|e| e.to_string())?;
                    let bytes = link.engine.data_to_send();
                    link.decoder.feed(&bytes);
                    while let Some(packet) =
                        link.decoder.next_packet().map_err(|e| e.to_string())?
                    {
                        if let Packet::Publish(publish) = &packet
                            && let Some(id) = publish.packet_id()
                        {
                            link.unacknowledged.push((id.get(), publish.qos()));
                        }
                        link.received.push_back(packet);
                    }
                }
                Action::Persist(fact) => {
                    #[cfg(feature = "sqlite")]
                    if let Some(files) = &self.files {
                        files.apply(&fact)?;
                    }
                    self.store.apply(&fact);
                }
                Action::PublishWill {
                    client_id, message, ..
                } => {
                    self.happened
                        .push_back(format!("will {client_id} {}", message.topic()));
                    let published = self.router.publish(&message, Some(&client_id), self.now);
                    pending.extend(published.actions);
                }
                Action::Dropped { client_id, .. } => {
                    self.happened.push_back(format!("dropped {client_id}"));
                }
                other => return Err(format!("an action the runner does not know: {other:?}")),
            }
        }
        Ok(())
    }

    /// Reads what an engine wrote since the last look.
    fn read(&mut self, connection: u64) -> Result<(), Failure> {
        let link = self
            .links
            .get_mut(&connection)
            .ok_or("no such connection")?;
        let bytes = link.engine.data_to_send();
        link.decoder.feed(&bytes);
        while let Some(packet) = link.decoder.next_packet().map_err(|e| e.to_string())? {
            if let Packet::Publish(publish) = &packet
                && let Some(id) = publish.packet_id()
            {
                link.unacknowledged.push((id.get(), publish.qos()));
            }
            link.received.push_back(packet);
        }
        Ok(())
    }

    /// Feeds a client's packets to its engine; settles, closes, as a broker would.
    fn feed(&mut self, connection: u64, packets: &[Packet]) -> Result<(), Failure> {
        let clock = self.clock();
        let link = self
            .links
            .get_mut(&connection)
            .ok_or("no such connection")?;
        let version = link
            .engine
            .protocol_version()
            .unwrap_or(ProtocolVersion::V5);
        let mut events = Vec::new();
        for packet in packets {
            let bytes = encode(packet, version).map_err(|e| e.to_string())?;
            events.extend(link.engine.receive_data(&bytes, clock));
        }
        self.events(connection, events)
    }

    fn events(&mut self, connection: u64, events: Vec<Event>) -> Result<(), Failure> {
        for event in events {
            let actions = match event {
                Event::Delivered(delivered) => match delivered.tag {
                    Some(tag) => self.router.settled(connection, tag),
                    None => Vec::new(),
                },
                Event::Discarded(discarded) => self.router.settled(connection, discarded.tag),
                Event::Closed(closed) => {
                    let actions = self.router.closed(connection, &closed, self.now);
                    self.links.remove(&connection);
                    actions
                }
                other => return Err(format!("an unexpected event {other:?}")),
            };
            self.act(actions)?;
        }
        if self.links.contains_key(&connection) {
            self.read(connection)?;
        }
        Ok(())
    }

    fn step(&mut self, line: &str) -> Result<(), Failure> {
        let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
        let words = Words::parse(rest);
        match command {
            "config" => {
                let mut config = RouterConfig::default();
                for (key, value) in &words.named {
                    match key.as_str() {
                        "max_queued_messages" => {
                            config.max_queued_messages = number(value)? as usize;
                        }
                        "queue_full" => {
                            config.queue_full = QueueFull::from_name(value).ok_or("queue_full")?;
                        }
                        "shared_choice" => {
                            config.shared_choice =
                                SharedChoice::from_name(value).ok_or("shared_choice")?;
                        }
                        "max_retained_messages" => {
                            config.max_retained_messages = Some(number(value)? as usize);
                        }
                        "max_retained_bytes" => {
                            config.max_retained_bytes = Some(number(value)? as usize);
                        }
                        "max_connections" => {
                            config.max_connections = Some(number(value)? as usize);
                        }
                        other => return Err(format!("unknown config key {other}")),
                    }
                }
                self.config = config;
                self.router = Router::new(config);
            }
            "at" => self.now = epoch() + Duration::from_secs(number(rest.trim())?),
            "timeout" => {
                self.now = epoch() + Duration::from_secs(number(rest.trim())?);
                let actions = self.router.handle_timeout(self.now);
                self.act(actions)?;
            }
            "deadline" => {
                let got = self
                    .router
                    .next_deadline()
                    .map(|at| at.duration_since(epoch()).unwrap_or_default().as_secs());
                let want = match rest.trim() {
                    "none" => None,
                    seconds => Some(number(seconds)?),
                };
                expect("deadline", got, want)?;
            }
            "connect" => self.connect(&words)?,
            "publish" => {
                let from = words.plain(0, "publisher")?;
                let message = message_of(&words, 1)?;
                let publisher = (from != "-").then_some(from);
                let published = match words.get("allowed") {
                    Some(allowed) => {
                        let allowed: Vec<&str> = allowed.split(',').collect();
                        self.router
                            .publish_filtered(&message, publisher, self.now, |c| {
                                allowed.contains(&c)
                            })
                    }
                    None => self.router.publish(&message, publisher, self.now),
                };
                self.matched = Some(published.matched);
                self.reason = published.reason_code();
                self.act(published.actions)?;
            }
            "subscribe" => {
                let connection = number(words.plain(0, "connection")?)?;
                let subscription = subscription_of(&words)?;
                let refused = match words.get("refused") {
                    Some(code) => vec![Some(reason(code)?)],
                    None => Vec::new(),
                };
                let answered = self
                    .router
                    .subscribe(connection, &[subscription], &refused, self.now)
                    .map_err(|e| e.to_string())?;
                self.codes = answered.reason_codes;
                self.act(answered.actions)?;
            }
            "unsubscribe" => {
                let connection = number(words.plain(0, "connection")?)?;
                let filter =
                    TopicFilter::new(words.plain(1, "filter")?).map_err(|e| e.to_string())?;
                let answered = self
                    .router
                    .unsubscribe(connection, &[filter])
                    .map_err(|e| e.to_string())?;
                self.codes = answered.reason_codes;
                self.act(answered.actions)?;
            }
            "ack" => self.acknowledge(number(words.plain(0, "connection")?)?)?,
            "lost" => {
                let connection = number(words.plain(0, "connection")?)?;
                let link = self
                    .links
                    .get_mut(&connection)
                    .ok_or("no such connection")?;
                let closed = link.engine.connection_lost().ok_or("already closed")?;
                self.events(connection, vec![Event::Closed(Box::new(closed))])?;
            }
            "disconnect" => {
                let connection = number(words.plain(0, "connection")?)?;
                let mut items = Vec::new();
                if let Some(expiry) = words.number("expiry")? {
                    items.push((
                        PropertyId::SessionExpiryInterval,
                        PropertyValue::FourByteInteger(expiry as u32),
                    ));
                }
                let properties =
                    Properties::new(items, PropertyContext::Packet(PacketType::Disconnect))
                        .map_err(|e| e.to_string())?;
                let code = if words.flag("will") {
                    ReasonCode::DisconnectWithWillMessage
                } else {
                    ReasonCode::Success
                };
                let disconnect = Disconnect::new(code, properties).map_err(|e| e.to_string())?;
                self.feed(connection, &[Packet::Disconnect(disconnect)])?;
            }
            "restart" => self.restart()?,
            // ---- expectations ----
            "present" => {
                expect(
                    "session present",
                    self.connected,
                    Some(Ok(rest.trim() == "1")),
                )?;
            }
            "takeover" => {
                expect("take over", self.connected, Some(Err(number(rest.trim())?)))?;
            }
            "matched" => expect("matched", self.matched, Some(rest.trim() == "1"))?,
            "reason" => {
                let want = match rest.trim() {
                    "none" => None,
                    code => Some(reason(code)?),
                };
                expect("reason", self.reason, want)?;
            }
            "bounds" => {
                let bound = |key: &str| -> Result<Option<usize>, Failure> {
                    match words.get(key) {
                        None | Some("none") => Ok(None),
                        Some(value) => Ok(Some(number(value)? as usize)),
                    }
                };
                self.router.set_bounds(
                    bound("max_retained_messages")?,
                    bound("max_retained_bytes")?,
                    bound("max_connections")?,
                );
            }
            "refusal" => {
                let got = self.router.connection_refusal(words.plain(0, "client id")?);
                let want = match words.plain(1, "none or a code")? {
                    "none" => None,
                    code => Some(reason(code)?),
                };
                expect("connection refusal", got, want)?;
            }
            "stats" => {
                let stats = self.router.stats();
                for (key, value) in &words.named {
                    let got = match key.as_str() {
                        "retained" => stats.retained as u64,
                        "retained_bytes" => stats.retained_bytes as u64,
                        "retained_refused" => stats.retained_refused,
                        "connected" => stats.connected as u64,
                        other => return Err(format!("unknown stats key {other}")),
                    };
                    expect(key, got, number(value)?)?;
                }
            }
            "codes" => {
                let want: Vec<ReasonCode> = rest
                    .split(',')
                    .map(|c| reason(c.trim()))
                    .collect::<Result<_, _>>()?;
                expect("codes", self.codes.clone(), want)?;
            }
            "got" => self.got(&words)?,
            "nothing" => {
                let connection = number(words.plain(0, "connection")?)?;
                let link = self.links.get(&connection).ok_or("no such connection")?;
                let publishes: Vec<&Packet> = link
                    .received
                    .iter()
                    .filter(|p| matches!(p, Packet::Publish(_)))
                    .collect();
                if !publishes.is_empty() {
                    return Err(format!("connection {connection} got {publishes:?}"));
                }
            }
            "tally" => {
                let (connections, alternatives) = rest.split_once('=').ok_or("tally: '='")?;
                let mut counts = Vec::new();
                for connection in connections.split_whitespace() {
                    let link = self
                        .links
                        .get(&number(connection)?)
                        .ok_or("no such connection")?;
                    let held = link
                        .received
                        .iter()
                        .filter(|p| matches!(p, Packet::Publish(_)))
                        .count();
                    counts.push(held.to_string());
                }
                let got = counts.join(",");
                if !alternatives.split('|').any(|a| a.trim() == got) {
                    return Err(format!(
                        "tally {got}, expected one of {}",
                        alternatives.trim()
                    ));
                }
            }
            "will" | "dropped" => {
                let got = self.happened.pop_front();
                expect(command, got.as_deref(), Some(line))?;
            }
            "stored" => self.stored(&words)?,
            other => return Err(format!("unknown step {other:?}")),
        }
        Ok(())
    }

    fn connect(&mut self, words: &Words) -> Result<(), Failure> {
        let connection = number(words.plain(0, "connection")?)?;
        let client = words.plain(1, "client id")?;
        let version = match words.number("v")?.unwrap_or(5) {
            3 => ProtocolVersion::V31,
            4 => ProtocolVersion::V311,
            _ => ProtocolVersion::V5,
        };
        let given = if client == "-" { "" } else { client };
        let mut connect = Connect::new(version, MqttString::new(given).map_err(|e| e.to_string())?);
        connect.clean_start = words.get("clean") != Some("0");
        if let Some(user) = words.get("user") {
            connect.username = Some(MqttString::new(user).map_err(|e| e.to_string())?);
        }
        let mut items = Vec::new();
        if version == ProtocolVersion::V5
            && let Some(expiry) = words.number("expiry")?
        {
            items.push((
                PropertyId::SessionExpiryInterval,
                PropertyValue::FourByteInteger(expiry as u32),
            ));
        }
        connect.properties = Properties::new(items, PropertyContext::Packet(PacketType::Connect))
            .map_err(|e| e.to_string())?;
        if let Some(topic) = words.get("will") {
            let message = Message::builder(TopicName::new(topic).map_err(|e| e.to_string())?)
                .payload(words.get("will_payload").unwrap_or("gone").to_owned())
                .qos(qos(words.number("will_qos")?.unwrap_or(1))?)
                .build()
                .map_err(|e| e.to_string())?;
            connect.will = Some(Will {
                message,
                delay_interval: words.number("will_delay")?.unwrap_or(0) as u32,
            });
        }
        let bytes =
            encode(&Packet::Connect(Box::new(connect)), version).map_err(|e| e.to_string())?;
        let mut engine = ServerConnection::new(ServerConfig::default(), self.clock())
            .map_err(|e| e.to_string())?;
        let events = engine.receive_data(&bytes, self.clock());
        let Some(Event::Connect(request)) = events.into_iter().next() else {
            return Err("the CONNECT was not accepted by the engine".to_owned());
        };
        let client_id = if request.needs_client_id {
            self.router.assign_client_id()
        } else {
            request.client_id().to_owned()
        };
        let owner = request.credentials.clone();
        let outcome = self
            .router
            .connect(connection, &request, &client_id, &owner, self.now)
            .map_err(|e| e.to_string())?;
        let accepted = match outcome {
            Connecting::TakeOver(held) => {
                self.connected = Some(Err(held));
                return Ok(());
            }
            Connecting::Accepted(accepted) => *accepted,
            other => return Err(format!("{other:?}")),
        };
        self.connected = Some(Ok(accepted.session_present));
        let acceptance = Acceptance {
            session_present: accepted.session_present,
            assigned_client_id: request
                .needs_client_id
                .then(|| MqttString::new(&client_id))
                .transpose()
                .map_err(|e| e.to_string())?,
            authentication_data: None,
        };
        let events = engine
            .accept(accepted.session, acceptance)
            .map_err(|e| e.to_string())?;
        if !events.is_empty() {
            return Err(format!("events after accept: {events:?}"));
        }
        self.links.insert(
            connection,
            Link {
                engine,
                decoder: Decoder::new(Direction::FromServer)
                    .with_version(version)
                    .with_topic_alias_maximum(u16::MAX),
                received: VecDeque::new(),
                unacknowledged: Vec::new(),
            },
        );
        self.read(connection)?;
        self.act(accepted.actions)
    }

    /// The client acknowledges every PUBLISH it got, and completes QoS 2 flows.
    fn acknowledge(&mut self, connection: u64) -> Result<(), Failure> {
        for _ in 0..8 {
            let link = self
                .links
                .get_mut(&connection)
                .ok_or("no such connection")?;
            let mut packets = Vec::new();
            for (id, qos) in link.unacknowledged.drain(..) {
                let id = mqtt_common::PacketId::new(id).map_err(|e| e.to_string())?;
                packets.push(match qos {
                    QoS::ExactlyOnce => Packet::Pubrec(Pubrec::new(id)),
                    _ => Packet::Puback(Puback::new(id)),
                });
            }
            for packet in &link.received {
                if let Packet::Pubrel(pubrel) = packet {
                    packets.push(Packet::Pubcomp(Pubcomp::new(pubrel.packet_id())));
                }
            }
            link.received.retain(|p| !matches!(p, Packet::Pubrel(_)));
            if packets.is_empty() {
                return Ok(());
            }
            self.feed(connection, &packets)?;
        }
        Ok(())
    }

    fn got(&mut self, words: &Words) -> Result<(), Failure> {
        let connection = number(words.plain(0, "connection")?)?;
        let link = self
            .links
            .get_mut(&connection)
            .ok_or("no such connection")?;
        let publish = loop {
            match link.received.pop_front() {
                Some(Packet::Publish(publish)) => break publish,
                Some(_) => {}
                None => return Err(format!("connection {connection} got nothing")),
            }
        };
        let topic = publish
            .topic()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default();
        expect("topic", topic.as_str(), words.plain(1, "topic")?)?;
        let payload = String::from_utf8_lossy(publish.payload()).into_owned();
        expect("payload", payload.as_str(), words.plain(2, "payload")?)?;
        if let Some(want) = words.number("qos")? {
            expect("qos", publish.qos().as_u8() as u64, want)?;
        }
        if let Some(want) = words.get("retain") {
            expect("retain", publish.retain(), want == "1")?;
        }
        if let Some(want) = words.get("dup") {
            expect("dup", publish.dup(), want == "1")?;
        }
        let properties = publish.properties().clone();
        if let Some(want) = words.get("expiry") {
            let got = properties
                .message_expiry_interval
                .map_or("none".to_owned(), |v| v.to_string());
            expect("expiry", got.as_str(), want)?;
        }
        if let Some(want) = words.get("ids") {
            let got: Vec<String> = properties
                .subscription_identifiers
                .iter()
                .map(|v| v.get().to_string())
                .collect();
            let got = if got.is_empty() {
                "none".to_owned()
            } else {
                got.join(",")
            };
            expect("ids", got.as_str(), want)?;
        }
        Ok(())
    }

    fn stored(&self, words: &Words) -> Result<(), Failure> {
        let kind = words.plain(0, "what")?;
        let key = words.plain(1, "key")?;
        let want = words.plain(2, "value")?;
        let got = match kind {
            "queue" => self
                .store
                .queues
                .get(key)
                .map_or(0, BTreeMap::len)
                .to_string(),
            "session" => if self.store.sessions.contains_key(key) {
                "yes"
            } else {
                "no"
            }
            .to_owned(),
            "will" => self
                .store
                .wills
                .get(key)
                .map_or("none".to_owned(), |w| w.message.topic().to_string()),
            "retained" => self
                .store
                .retained
                .get(key)
                .map_or("none".to_owned(), |(m, _)| {
                    String::from_utf8_lossy(m.payload()).into_owned()
                }),
            "subscriptions" => {
                let filters: Vec<&str> = self
                    .store
                    .subscriptions
                    .get(key)
                    .map(|s| s.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                if filters.is_empty() {
                    "none".to_owned()
                } else {
                    filters.join(",")
                }
            }
            other => return Err(format!("unknown stored kind {other}")),
        };
        expect(kind, got.as_str(), want)
    }

    /// A crash: every connection is gone unannounced, and a new router takes the facts back.
    fn restart(&mut self) -> Result<(), Failure> {
        self.links.clear();
        #[cfg(feature = "sqlite")]
        if let Some(files) = self.files.take() {
            // The files are the truth after a crash: reopen them, and they must hold
            // what the model holds.
            let dir = files.dir.clone();
            drop(files);
            let reopened = Files::open(dir)?;
            let loaded = reopened.load()?;
            expect("the SQLite stores after a restart", &loaded, &self.store)?;
            self.files = Some(reopened);
        }
        self.router = Router::new(self.config);
        let mut actions = Vec::new();
        for (client_id, session) in &self.store.sessions {
            let queue = self
                .store
                .queues
                .get(client_id)
                .map(|queue| {
                    queue
                        .iter()
                        .map(|(seq, (message, at))| QueuedMessage {
                            seq: *seq,
                            message: message.clone(),
                            enqueued_at: *at,
                        })
                        .collect()
                })
                .unwrap_or_default();
            let subscriptions = self
                .store
                .subscriptions
                .get(client_id)
                .map(|s| s.values().cloned().collect())
                .unwrap_or_default();
            actions.extend(
                self.router
                    .restore_session(
                        session.clone(),
                        self.store.wills.get(client_id).cloned(),
                        subscriptions,
                        queue,
                        self.now,
                    )
                    .map_err(|e| e.to_string())?,
            );
        }
        for (message, at) in self.store.retained.values() {
            self.router
                .restore_retained(message.clone(), *at)
                .map_err(|e| e.to_string())?;
        }
        actions.extend(self.router.handle_timeout(self.now));
        self.act(actions)
    }
}

fn expect<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Result<(), Failure> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, expected {want:?}"))
    }
}

fn reason(text: &str) -> Result<ReasonCode, Failure> {
    let value = u8::try_from(number(text)?).map_err(|e| e.to_string())?;
    ReasonCode::from_u8(value).ok_or_else(|| format!("no reason code {text}"))
}

/// `TOPIC PAYLOAD [qos=N] [retain=1] [expiry=S]` from the plain word at `at`.
fn message_of(words: &Words, at: usize) -> Result<Message, Failure> {
    let topic = TopicName::new(words.plain(at, "topic")?).map_err(|e| e.to_string())?;
    let payload = words.plain(at + 1, "payload")?;
    let payload = if payload == "-" { "" } else { payload };
    let mut properties = PublishProperties::default();
    if let Some(expiry) = words.number("expiry")? {
        properties.message_expiry_interval = Some(expiry as u32);
    }
    let qos = qos(words.number("qos")?.unwrap_or(0))?;
    let mut builder = Message::builder(topic)
        .payload(payload.to_owned())
        .qos(qos)
        .retain(words.flag("retain"))
        .properties(properties);
    if qos != QoS::AtMostOnce {
        builder = builder.message_id(Some(
            mqtt_common::PacketId::new(1).map_err(|e| e.to_string())?,
        ));
    }
    builder.build().map_err(|e| e.to_string())
}

/// `CONNECTION FILTER [qos=N] [nl=1] [rap=1] [rh=N] [id=N]`.
fn subscription_of(words: &Words) -> Result<Subscription, Failure> {
    let filter = TopicFilter::new(words.plain(1, "filter")?).map_err(|e| e.to_string())?;
    let handling = match words.number("rh")?.unwrap_or(0) {
        0 => RetainHandling::SendAtSubscribe,
        1 => RetainHandling::SendIfNewSubscription,
        _ => RetainHandling::DoNotSend,
    };
    let id = words
        .number("id")?
        .map(|id| SubscriptionId::new(id as u32))
        .transpose()
        .map_err(|e| e.to_string())?;
    Subscription::builder(filter)
        .qos(qos(words.number("qos")?.unwrap_or(0))?)
        .no_local(words.flag("nl"))
        .retain_as_published(words.flag("rap"))
        .retain_handling(handling)
        .subscription_id(id)
        .build()
        .map_err(|e| e.to_string())
}

/// Runs every script; `files` makes each runner keep its facts in SQLite files too.
fn run_every_script(files: bool) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/routing");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/routing")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "route"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    let mut failures = Vec::new();
    let mut count = 0;
    for path in &paths {
        for script in scripts(path) {
            count += 1;
            let mut runner = Runner::new();
            let _scratch = if files {
                Some(runner.keep_files(count))
            } else {
                None
            };
            for (number, line) in &script.lines {
                if let Err(why) = runner.step(line) {
                    failures.push(format!(
                        "{}:{number}: {}: `{line}`: {why}",
                        path.file_name().unwrap_or_default().to_string_lossy(),
                        script.name
                    ));
                    break;
                }
            }
            if failures.last().is_none_or(|f| !f.contains(&script.name))
                && let Some(left) = runner.happened.front()
            {
                failures.push(format!("{}: not checked: {left}", script.name));
            }
        }
    }
    assert!(count >= 20, "only {count} scripts");
    assert!(
        failures.is_empty(),
        "{} of {count} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

impl Runner {
    /// Keeps the facts in SQLite files too, in a scratch directory removed on drop.
    #[cfg(feature = "sqlite")]
    fn keep_files(&mut self, number: usize) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "mqtt-common-routing-{}-{number}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        self.files = Some(Files::open(dir.clone()).expect("SQLite stores"));
        Scratch(dir)
    }

    #[cfg(not(feature = "sqlite"))]
    fn keep_files(&mut self, _number: usize) -> Scratch {
        unreachable!("the SQLite run needs the sqlite feature")
    }
}

/// A directory removed when dropped.
struct Scratch(#[allow(dead_code)] std::path::PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn every_scripted_routing_conversation() {
    run_every_script(false);
}

/// The same scripts with the real SQLite stores: what a restart reads back from the files
/// is what the facts said.
#[cfg(feature = "sqlite")]
#[test]
fn every_scripted_routing_conversation_on_sqlite_files() {
    run_every_script(true);
}
