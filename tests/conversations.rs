//! Scripted conversations with the server protocol engine, written from the spec as data:
//! `tests/conversations/*.conv` give the client's bytes, the server's exact bytes, the
//! events and the broker's calls. `tests/protocol/test_conversations.py` runs the same
//! files through the Python binding. The format is described in
//! `tests/conversations/README.md`.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use mqtt_common::protocol::{
    Acceptance, Closed, ConnectionPhase, DeliveryOutcome, Event, Initiator, Route, ServerConfig,
    ServerConnection,
};
use mqtt_common::{
    ErrorKind, Message, MqttString, PacketId, ProtocolVersion, PublishProperties, QoS, ReasonCode,
    Session, SubscriptionId, TopicName,
};

/// One step's failure, with the line it came from.
type Failure = String;

struct Conversation {
    name: String,
    lines: Vec<(usize, String)>,
}

fn conversations(path: &Path) -> Vec<Conversation> {
    let text = std::fs::read_to_string(path).expect("readable conversation file");
    let mut out: Vec<Conversation> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split_once(" #").map_or(line, |(code, _)| code).trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix("== ") {
            out.push(Conversation {
                name: name.trim().to_string(),
                lines: Vec::new(),
            });
        } else if let Some(current) = out.last_mut() {
            current.lines.push((number + 1, line.to_string()));
        } else {
            panic!(
                "{}:{}: a step before the first '== name'",
                path.display(),
                number + 1
            );
        }
    }
    out
}

/// `10 0e | 00 04 "MQTT"`: hex bytes, quoted ASCII text, `|` for the reader's eye.
fn bytes_of(text: &str) -> Result<Vec<u8>, Failure> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').ok_or("unterminated string")?;
            out.extend_from_slice(&quoted.as_bytes()[..end]);
            rest = quoted[end + 1..].trim_start();
            continue;
        }
        let (token, tail) = rest.split_once(' ').unwrap_or((rest, ""));
        rest = tail.trim_start();
        if token == "|" {
            continue;
        }
        if token.len() % 2 != 0 {
            return Err(format!("odd hex token {token:?}"));
        }
        for pair in token.as_bytes().chunks(2) {
            let pair = std::str::from_utf8(pair).map_err(|e| e.to_string())?;
            out.push(u8::from_str_radix(pair, 16).map_err(|_| format!("bad hex {token:?}"))?);
        }
    }
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x} ");
        s
    })
}

/// `key=value` arguments.
struct Args(Vec<(String, String)>);

impl Args {
    fn parse(text: &str) -> Self {
        Self(
            text.split_whitespace()
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn number(&self, key: &str) -> Result<Option<u64>, Failure> {
        self.get(key).map(number).transpose()
    }

    fn flag(&self, key: &str) -> Result<Option<bool>, Failure> {
        self.get(key)
            .map(|v| match v {
                "0" | "false" => Ok(false),
                "1" | "true" => Ok(true),
                other => Err(format!("{key}={other}: expected 0 or 1")),
            })
            .transpose()
    }
}

fn number(text: &str) -> Result<u64, Failure> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    }
    .map_err(|_| format!("not a number: {text:?}"))
}

fn code(text: &str) -> Result<ReasonCode, Failure> {
    let value = u8::try_from(number(text)?).map_err(|e| e.to_string())?;
    ReasonCode::try_from(value).map_err(|e| e.to_string())
}

fn qos(value: u64) -> Result<QoS, Failure> {
    QoS::try_from(u8::try_from(value).map_err(|e| e.to_string())?).map_err(|e| e.to_string())
}

fn version_number(version: ProtocolVersion) -> u64 {
    u64::from(version.as_u8())
}

fn check<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Result<(), Failure> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, expected {want:?}"))
    }
}

fn config_of(args: &Args) -> Result<ServerConfig, Failure> {
    let mut config = ServerConfig::default();
    for (key, value) in &args.0 {
        let n = || number(value);
        let flag = || Ok::<bool, Failure>(n()? != 0);
        match key.as_str() {
            "receive_maximum" => config.receive_maximum = n()? as u16,
            "maximum_qos" => config.maximum_qos = qos(n()?)?,
            "retain_available" => config.retain_available = flag()?,
            "maximum_packet_size" => config.maximum_packet_size = n()? as u32,
            "topic_alias_maximum" => config.topic_alias_maximum = n()? as u16,
            "wildcard_subscription_available" => {
                config.wildcard_subscription_available = flag()?;
            }
            "subscription_identifiers_available" => {
                config.subscription_identifiers_available = flag()?;
            }
            "shared_subscription_available" => config.shared_subscription_available = flag()?,
            "max_keep_alive" => config.max_keep_alive = Some(n()? as u16),
            "connect_timeout" => config.connect_timeout = Duration::from_secs(n()?),
            "max_queued_messages" => config.max_queued_messages = n()? as usize,
            "max_packets_before_connack" => config.max_packets_before_connack = n()? as usize,
            "hold_acknowledgements" => config.hold_acknowledgements = flag()?,
            "max_publish_rate" => {
                config.max_publish_rate = std::num::NonZeroU32::new(n()? as u32);
            }
            other => return Err(format!("unknown config key {other}")),
        }
    }
    Ok(config)
}

struct Runner {
    config: ServerConfig,
    connection: ServerConnection,
    events: VecDeque<Event>,
    now: Duration,
    saved: Option<Session>,
    /// The CONNECT's facts, for building the session `accept` takes.
    connecting: Option<(String, ProtocolVersion, bool, u32)>,
}

impl Runner {
    fn new(config: ServerConfig) -> Result<Self, Failure> {
        let connection =
            ServerConnection::new(config.clone(), Duration::ZERO).map_err(|e| e.to_string())?;
        Ok(Self {
            config,
            connection,
            events: VecDeque::new(),
            now: Duration::ZERO,
            saved: None,
            connecting: None,
        })
    }

    fn push(&mut self, events: Vec<Event>) {
        for event in events {
            if let Event::Connect(request) = &event {
                self.connecting = Some((
                    request.client_id().to_string(),
                    request.protocol_version(),
                    request.clean_start(),
                    request.session_expiry_interval,
                ));
            }
            if let Event::Closed(closed) = &event
                && let Some(session) = &closed.session
            {
                self.saved = Some(session.clone());
            }
            self.events.push_back(event);
        }
    }

    fn step(&mut self, line: &str) -> Result<(), Failure> {
        let (line, expected_error) = match line.split_once(" -> ") {
            Some((call, error)) => (call.trim(), Some(error.trim())),
            None => (line, None),
        };
        let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
        let args = Args::parse(rest);
        let result = self.run(command, rest, &args);
        match (result, expected_error) {
            (Ok(()), None) => Ok(()),
            (Err(CallError::Failed(failure)), _) => Err(failure),
            (Err(CallError::Raised(kind, text)), Some(want)) => {
                check("error class", kind.python_class(), want).map_err(|f| format!("{f} ({text})"))
            }
            (Err(CallError::Raised(kind, text)), None) => {
                Err(format!("{command} raised {}: {text}", kind.python_class()))
            }
            (Ok(()), Some(want)) => Err(format!("{command} succeeded; expected {want}")),
        }
    }

    fn run(&mut self, command: &str, rest: &str, args: &Args) -> Result<(), CallError> {
        match command {
            "at" => {
                let seconds: f64 = rest.trim().parse().map_err(|_| fail("at: seconds"))?;
                self.now = Duration::from_secs_f64(seconds);
            }
            "client" => {
                let data = bytes_of(rest).map_err(CallError::Failed)?;
                let events = self.connection.receive_data(&data, self.now);
                self.push(events);
            }
            "server" => {
                let want = bytes_of(rest).map_err(CallError::Failed)?;
                let got = self.connection.data_to_send();
                if got[..] != want[..] {
                    return Err(fail(format!(
                        "server sent\n      {}\n    expected\n      {}",
                        hex(&got),
                        hex(&want)
                    )));
                }
            }
            "event" => {
                let event = self
                    .events
                    .pop_front()
                    .ok_or_else(|| fail(format!("no event; expected {rest}")))?;
                let (kind, _) = rest.split_once(' ').unwrap_or((rest, ""));
                check_event(kind, args, &event).map_err(CallError::Failed)?;
            }
            "no-events" => {
                if let Some(event) = self.events.front() {
                    return Err(fail(format!("unexpected event {event:?}")));
                }
            }
            "phase" => {
                let got = match self.connection.phase() {
                    ConnectionPhase::AwaitingConnect => "awaiting-connect",
                    ConnectionPhase::Connecting => "connecting",
                    ConnectionPhase::Connected => "connected",
                    _ => "closed",
                };
                check("phase", got, rest.trim()).map_err(CallError::Failed)?;
            }
            "deadline" => {
                let got = self.connection.next_deadline().map(|d| d.as_secs_f64());
                let want = match rest.trim() {
                    "none" => None,
                    seconds => Some(seconds.parse::<f64>().map_err(|_| fail("deadline"))?),
                };
                check("next deadline", got, want).map_err(CallError::Failed)?;
            }
            "timeout" => {
                let seconds: f64 = rest.trim().parse().map_err(|_| fail("timeout: seconds"))?;
                self.now = Duration::from_secs_f64(seconds);
                let events = self.connection.handle_timeout(self.now);
                self.push(events);
            }
            "reconnect" => {
                self.connection = ServerConnection::new(self.config.clone(), self.now)
                    .map_err(|e| fail(e.to_string()))?;
                self.events.clear();
            }
            "lost" => {
                if let Some(closed) = self.connection.connection_lost() {
                    self.push(vec![Event::Closed(Box::new(closed))]);
                }
            }
            "accept" => {
                let (client_id, version, clean_start, expiry) = self
                    .connecting
                    .clone()
                    .ok_or_else(|| fail("accept before any CONNECT"))?;
                let assigned = args
                    .get("assigned")
                    .map(|id| MqttString::new(id).expect("id"));
                let session = match args.get("session") {
                    Some("saved") => self.saved.clone().ok_or_else(|| fail("no saved session"))?,
                    _ => {
                        let id = assigned.as_ref().map_or(client_id.as_str(), |a| a.as_str());
                        Session::new(id, version, clean_start, expiry).map_err(raised)?
                    }
                };
                let acceptance = Acceptance {
                    session_present: args
                        .flag("present")
                        .map_err(CallError::Failed)?
                        .unwrap_or(false),
                    assigned_client_id: assigned,
                    authentication_data: args
                        .get("auth_data")
                        .map(|d| d.as_bytes().to_vec().into()),
                };
                let events = self
                    .connection
                    .accept(session, acceptance)
                    .map_err(raised)?;
                self.push(events);
            }
            "refuse" => {
                let reason =
                    code(args.get("reason").unwrap_or("0x87")).map_err(CallError::Failed)?;
                let closed = self.connection.refuse(reason).map_err(raised)?;
                self.push(vec![Event::Closed(Box::new(closed))]);
            }
            "disconnect" => {
                let reason = code(args.get("reason").unwrap_or("0")).map_err(CallError::Failed)?;
                let closed = self.connection.disconnect(reason).map_err(raised)?;
                self.push(vec![Event::Closed(Box::new(closed))]);
            }
            "auth-continue" | "auth-success" => {
                let data = args.get("data").map(|d| d.as_bytes().to_vec().into());
                if command == "auth-continue" {
                    self.connection.auth_continue(data).map_err(raised)?;
                } else {
                    self.connection.auth_success(data).map_err(raised)?;
                }
            }
            "publish-reason" => {
                let id = packet_id(args)?;
                let reason = code(args.get("reason").unwrap_or("0")).map_err(CallError::Failed)?;
                self.connection
                    .set_publish_reason(id, reason)
                    .map_err(raised)?;
            }
            "answer-subscribe" | "answer-unsubscribe" => {
                let id = packet_id(args)?;
                let codes = args
                    .get("codes")
                    .filter(|c| !c.is_empty())
                    .map(|c| c.split(',').map(code).collect::<Result<Vec<_>, _>>())
                    .transpose()
                    .map_err(CallError::Failed)?
                    .unwrap_or_default();
                let closed = if command == "answer-subscribe" {
                    self.connection
                        .answer_subscribe(id, &codes)
                        .map_err(raised)?
                } else {
                    self.connection
                        .answer_unsubscribe(id, &codes)
                        .map_err(raised)?
                };
                self.push(
                    closed
                        .map(|c| Event::Closed(Box::new(c)))
                        .into_iter()
                        .collect(),
                );
            }
            "release" => {
                let mark = self.connection.acknowledgement_mark();
                self.connection.release_acknowledgements(mark);
            }
            "deliver" => {
                let (message, route) = delivery(args).map_err(CallError::Failed)?;
                let tag = args.number("tag").map_err(CallError::Failed)?;
                let outcome = self
                    .connection
                    .deliver_tagged(&message, &route, self.now, tag)
                    .map_err(raised)?;
                if let Some(want) = args.get("outcome") {
                    check("outcome", outcome.as_str(), want).map_err(CallError::Failed)?;
                } else if outcome != DeliveryOutcome::Sent {
                    return Err(fail(format!("outcome {outcome:?}, expected sent")));
                }
            }
            other => return Err(fail(format!("unknown step {other:?}"))),
        }
        Ok(())
    }
}

enum CallError {
    /// The conversation's expectation was not met.
    Failed(Failure),
    /// The engine raised an error (which a `-> Class` line may expect).
    Raised(ErrorKind, String),
}

fn fail(text: impl Into<String>) -> CallError {
    CallError::Failed(text.into())
}

fn raised(err: mqtt_common::Error) -> CallError {
    CallError::Raised(err.kind(), err.to_string())
}

fn packet_id(args: &Args) -> Result<PacketId, CallError> {
    let id = args
        .number("id")
        .map_err(CallError::Failed)?
        .ok_or_else(|| fail("id="))?;
    PacketId::new(u16::try_from(id).map_err(|e| fail(e.to_string()))?)
        .map_err(|v| fail(v.to_string()))
}

fn delivery(args: &Args) -> Result<(Message, Route), Failure> {
    let topic = TopicName::new(args.get("topic").unwrap_or("t")).map_err(|e| e.to_string())?;
    let payload = args.get("payload").unwrap_or("").as_bytes().to_vec();
    let mut properties = PublishProperties::default();
    if let Some(expiry) = args.number("expiry")? {
        properties.message_expiry_interval = Some(expiry as u32);
    }
    let message = Message::builder(topic)
        .payload(payload)
        .qos(qos(args.number("qos")?.unwrap_or(0))?)
        .retain(args.flag("retain")?.unwrap_or(false))
        .properties(properties)
        .build()
        .map_err(|e| e.to_string())?;
    let subscription_identifiers = match args.number("sub_id")? {
        Some(id) => vec![SubscriptionId::new(id as u32).map_err(|e| e.to_string())?],
        None => Vec::new(),
    };
    let route = Route {
        qos: qos(args.number("sub_qos")?.unwrap_or(2))?,
        subscription_identifiers,
        retain_as_published: args.flag("rap")?.unwrap_or(false),
        from_retained: args.flag("retained")?.unwrap_or(false),
    };
    Ok((message, route))
}

fn check_event(kind: &str, args: &Args, event: &Event) -> Result<(), Failure> {
    let text = |key: &str| args.get(key);
    match (kind, event) {
        ("connect", Event::Connect(request)) => {
            if let Some(want) = text("client_id") {
                check("client_id", request.client_id(), want.trim_matches('"'))?;
            }
            if let Some(want) = args.number("version")? {
                check("version", version_number(request.protocol_version()), want)?;
            }
            if let Some(want) = args.flag("clean_start")? {
                check("clean_start", request.clean_start(), want)?;
            }
            if let Some(want) = args.number("keep_alive")? {
                check("keep_alive", u64::from(request.connect.keep_alive), want)?;
            }
            if let Some(want) = args.flag("needs_client_id")? {
                check("needs_client_id", request.needs_client_id, want)?;
            }
            if let Some(want) = args.number("session_expiry")? {
                check(
                    "session_expiry",
                    u64::from(request.session_expiry_interval),
                    want,
                )?;
            }
            if let Some(want) = text("will") {
                let got = request
                    .will()
                    .map_or("none", |w| w.message.topic().as_str());
                check("will", got, want)?;
            }
            if let Some(want) = text("username") {
                check(
                    "username",
                    request.credentials.username().unwrap_or("none"),
                    want,
                )?;
            }
            if let Some(want) = text("auth_method") {
                let got = request
                    .authentication_method
                    .as_ref()
                    .map_or("none", |m| m.as_str());
                check("auth_method", got, want)?;
            }
        }
        ("auth", Event::Auth(step)) => {
            if let Some(want) = text("reason") {
                check("reason", step.reason_code, code(want)?)?;
            }
            if let Some(want) = text("data") {
                let got = step.authentication_data.as_deref().unwrap_or_default();
                check("data", got, want.as_bytes())?;
            }
        }
        ("message", Event::Message(message)) => {
            if let Some(want) = text("topic") {
                check("topic", message.topic().as_str(), want)?;
            }
            if let Some(want) = text("payload") {
                check("payload", &message.payload()[..], want.as_bytes())?;
            }
            if let Some(want) = args.number("qos")? {
                check("qos", u64::from(message.qos().as_u8()), want)?;
            }
            if let Some(want) = args.flag("retain")? {
                check("retain", message.retain(), want)?;
            }
            if let Some(want) = args.number("id")? {
                check(
                    "id",
                    message.message_id().map_or(0, |id| u64::from(id.get())),
                    want,
                )?;
            }
        }
        ("subscribe", Event::Subscribe(request)) => {
            if let Some(want) = args.number("id")? {
                check("id", u64::from(request.packet_id.get()), want)?;
            }
            if let Some(want) = text("filters") {
                let got: Vec<String> = request
                    .subscriptions
                    .iter()
                    .map(|s| format!("{}@{}", s.topic_filter(), s.qos().as_u8()))
                    .collect();
                check("filters", got.join(","), want.to_string())?;
            }
        }
        ("unsubscribe", Event::Unsubscribe(request)) => {
            if let Some(want) = args.number("id")? {
                check("id", u64::from(request.packet_id.get()), want)?;
            }
            if let Some(want) = text("filters") {
                let got: Vec<&str> = request.topic_filters.iter().map(|f| f.as_str()).collect();
                check("filters", got.join(","), want.to_string())?;
            }
        }
        ("delivered", Event::Delivered(delivered)) => {
            if let Some(want) = args.number("id")? {
                check("id", u64::from(delivered.packet_id.get()), want)?;
            }
            if let Some(want) = args.get("tag") {
                let got = delivered.tag.map_or("none".to_owned(), |t| t.to_string());
                check("tag", got.as_str(), want)?;
            }
        }
        ("discarded", Event::Discarded(discarded)) => {
            if let Some(want) = args.number("tag")? {
                check("tag", discarded.tag, want)?;
            }
        }
        ("closed", Event::Closed(closed)) => check_closed(args, closed)?,
        (kind, event) => return Err(format!("expected a {kind} event, got {event:?}")),
    }
    Ok(())
}

fn check_closed(args: &Args, closed: &Closed) -> Result<(), Failure> {
    if let Some(want) = args.get("by") {
        let got = match closed.initiator {
            Initiator::Client => "client",
            Initiator::Server => "server",
            _ => "network",
        };
        check("by", got, want)?;
    }
    if let Some(want) = args.get("reason") {
        check("reason", closed.reason_code, code(want)?)?;
    }
    if let Some(want) = args.get("error") {
        let got = match &closed.error {
            None => "none",
            Some(err) => err.spec_ref().unwrap_or("no-rule"),
        };
        check("error", got, want)?;
    }
    if let Some(want) = args.get("will") {
        let got = closed
            .will
            .as_ref()
            .map_or("none", |w| w.message.topic().as_str());
        check("will", got, want)?;
    }
    if let Some(want) = args.number("will_delay")? {
        check("will_delay", u64::from(closed.will_delay), want)?;
    }
    if let Some(want) = args.number("session_expiry")? {
        check(
            "session_expiry",
            u64::from(closed.session_expiry_interval),
            want,
        )?;
    }
    if let Some(want) = args.number("undelivered")? {
        check("undelivered", closed.undelivered.len() as u64, want)?;
    }
    Ok(())
}

fn run(conversation: &Conversation) -> Result<(), Failure> {
    let mut lines = conversation.lines.iter().peekable();
    let config = match lines.peek() {
        Some((_, line)) if line.starts_with("config") => {
            let config = config_of(&Args::parse(line)).map_err(|f| format!("config: {f}"))?;
            lines.next();
            config
        }
        _ => ServerConfig::default(),
    };
    let mut runner = Runner::new(config)?;
    for (number, line) in lines {
        runner
            .step(line)
            .map_err(|failure| format!("line {number}: {line}\n    {failure}"))?;
    }
    if let Some(event) = runner.events.front() {
        return Err(format!("an event nobody expected at the end: {event:?}"));
    }
    Ok(())
}

#[test]
fn every_scripted_conversation() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conversations");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/conversations")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "conv"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let mut count = 0;
    for file in &files {
        for conversation in conversations(file) {
            count += 1;
            if let Err(failure) = run(&conversation) {
                let file = file.file_name().unwrap_or_default().to_string_lossy();
                failures.push(format!("{file}: {}\n  {failure}", conversation.name));
            }
        }
    }
    assert!(count > 0, "no conversations in {}", dir.display());
    assert!(
        failures.is_empty(),
        "{} of {count} conversations failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("{count} conversations passed");
}
