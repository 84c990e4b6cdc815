//! Property tests of the server protocol engine: whatever a client sends and whatever
//! order the broker calls in, the engine never panics, never writes a packet the codec
//! refuses, and never exceeds the limits the client announced (Receive Maximum, Topic
//! Alias Maximum, Maximum Packet Size).

use std::time::Duration;

use mqtt_common::codec::{Decoder, Packet, encode};
use mqtt_common::packet::{
    Connect, Direction, Disconnect, Properties, PropertyValue, Puback, Pubcomp, Publish, Pubrec,
    Pubrel, Subscribe, Unsubscribe,
};
use mqtt_common::protocol::{
    Acceptance, ConnectionPhase, Event, Route, ServerConfig, ServerConnection,
};
use mqtt_common::{
    Message, MqttString, PacketId, PropertyContext, PropertyId, ProtocolVersion, PublishProperties,
    QoS, ReasonCode, Session, Subscription, TopicAlias, TopicFilter, TopicName,
};
use proptest::prelude::*;

const TOPICS: [&str; 4] = ["a/b", "a/c", "sensors/1/temp", "x"];

/// What the client announces in its CONNECT.
#[derive(Debug, Clone)]
struct ClientLimits {
    version: ProtocolVersion,
    receive_maximum: u16,
    topic_alias_maximum: u16,
    maximum_packet_size: Option<u32>,
    keep_alive: u16,
    will: bool,
}

/// One thing that happens: a client packet (or garbage), or a call of the broker.
#[derive(Debug, Clone)]
enum Step {
    Publish {
        qos: u8,
        topic: usize,
        payload: usize,
        alias: Option<u16>,
        dup: bool,
        id: u16,
    },
    Puback(u16),
    Pubrec(u16, bool),
    Pubrel(u16),
    Pubcomp(u16),
    Subscribe(u16, usize, u8),
    Unsubscribe(u16, usize),
    Pingreq,
    Disconnect(u8),
    Garbage(Vec<u8>),
    Deliver {
        qos: u8,
        sub_qos: u8,
        topic: usize,
        payload: usize,
        expiry: Option<u32>,
    },
    AnswerSubscribe(u16, u8),
    AnswerUnsubscribe(u16),
    PublishReason(u16, u8),
    ServerDisconnect,
    Tick(u16),
    Lost,
    Drain,
}

fn limits() -> impl Strategy<Value = ClientLimits> {
    (
        prop_oneof![
            Just(ProtocolVersion::V31),
            Just(ProtocolVersion::V311),
            Just(ProtocolVersion::V5)
        ],
        1u16..4,
        0u16..3,
        prop::option::of(16u32..200),
        0u16..5,
        any::<bool>(),
    )
        .prop_map(
            |(
                version,
                receive_maximum,
                topic_alias_maximum,
                maximum_packet_size,
                keep_alive,
                will,
            )| {
                ClientLimits {
                    version,
                    receive_maximum,
                    topic_alias_maximum,
                    maximum_packet_size,
                    keep_alive,
                    will,
                }
            },
        )
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u8..3, 0usize..4, 0usize..300, prop::option::of(0u16..4), any::<bool>(), 1u16..6)
            .prop_map(|(qos, topic, payload, alias, dup, id)| Step::Publish {
                qos, topic, payload, alias, dup, id
            }),
        2 => (1u16..6).prop_map(Step::Puback),
        1 => (1u16..6, any::<bool>()).prop_map(|(id, fail)| Step::Pubrec(id, fail)),
        1 => (1u16..6).prop_map(Step::Pubrel),
        1 => (1u16..6).prop_map(Step::Pubcomp),
        1 => (1u16..4, 0usize..4, 0u8..3).prop_map(|(id, t, q)| Step::Subscribe(id, t, q)),
        1 => (1u16..4, 0usize..4).prop_map(|(id, t)| Step::Unsubscribe(id, t)),
        1 => Just(Step::Pingreq),
        1 => prop_oneof![Just(0u8), Just(4), Just(0x80), Just(0x8e)].prop_map(Step::Disconnect),
        1 => prop::collection::vec(any::<u8>(), 0..12).prop_map(Step::Garbage),
        5 => (0u8..3, 0u8..3, 0usize..4, 0usize..300, prop::option::of(0u32..3))
            .prop_map(|(qos, sub_qos, topic, payload, expiry)| Step::Deliver {
                qos, sub_qos, topic, payload, expiry
            }),
        2 => (1u16..4, 0u8..3).prop_map(|(id, q)| Step::AnswerSubscribe(id, q)),
        1 => (1u16..4).prop_map(Step::AnswerUnsubscribe),
        1 => (1u16..6, prop_oneof![Just(0u8), Just(0x10), Just(0x87)])
            .prop_map(|(id, r)| Step::PublishReason(id, r)),
        1 => Just(Step::ServerDisconnect),
        2 => (0u16..4000).prop_map(Step::Tick),
        1 => Just(Step::Lost),
        3 => Just(Step::Drain),
    ]
}

fn id(n: u16) -> PacketId {
    PacketId::new(n).expect("1..6")
}

fn connect_bytes(limits: &ClientLimits) -> Vec<u8> {
    let mut connect = Connect::new(limits.version, MqttString::new("c1").expect("id"));
    connect.keep_alive = limits.keep_alive;
    if limits.will {
        let message = Message::new(TopicName::new("will").expect("topic"), "bye").expect("will");
        connect.will = Some(mqtt_common::Will::new(message));
    }
    if limits.version == ProtocolVersion::V5 {
        let mut items = vec![
            (
                PropertyId::ReceiveMaximum,
                PropertyValue::TwoByteInteger(limits.receive_maximum),
            ),
            (
                PropertyId::TopicAliasMaximum,
                PropertyValue::TwoByteInteger(limits.topic_alias_maximum),
            ),
        ];
        if let Some(size) = limits.maximum_packet_size {
            items.push((
                PropertyId::MaximumPacketSize,
                PropertyValue::FourByteInteger(size),
            ));
        }
        connect.properties = Properties::new(
            items,
            PropertyContext::Packet(mqtt_common::PacketType::Connect),
        )
        .expect("valid CONNECT properties");
    }
    encode(&Packet::Connect(Box::new(connect)), limits.version)
        .expect("CONNECT encodes")
        .to_vec()
}

/// The bytes a client step sends, if it is one (encoding may refuse a combination the
/// version cannot carry: nothing is sent then).
fn client_bytes(step: &Step, version: ProtocolVersion) -> Option<Vec<u8>> {
    let packet = match step {
        Step::Publish {
            qos,
            topic,
            payload,
            alias,
            dup,
            id: n,
        } => {
            let qos = QoS::try_from(*qos).ok()?;
            let message = Message::builder(TopicName::new(TOPICS[*topic]).ok()?)
                .payload(vec![b'x'; *payload])
                .qos(qos)
                .message_id((qos != QoS::AtMostOnce).then(|| id(*n)))
                .dup(*dup && qos != QoS::AtMostOnce)
                .build()
                .ok()?;
            let mut publish = Publish::from_message(&message).ok()?;
            if let Some(alias) = alias {
                // Alias 0 is refused by the type: send 1 instead, and sometimes leave
                // the topic out to lean on an alias that may not be set.
                publish = publish.with_topic_alias(TopicAlias::new((*alias).max(1)).ok()?);
                if *alias == 0 {
                    publish = publish.without_topic().ok()?;
                }
            }
            Packet::Publish(publish)
        }
        Step::Puback(n) => Packet::Puback(Puback::new(id(*n))),
        Step::Pubrec(n, fail) => {
            let pubrec = Pubrec::new(id(*n));
            Packet::Pubrec(if *fail {
                pubrec
                    .with_reason(ReasonCode::UnspecifiedError, Default::default())
                    .ok()?
            } else {
                pubrec
            })
        }
        Step::Pubrel(n) => Packet::Pubrel(Pubrel::new(id(*n))),
        Step::Pubcomp(n) => Packet::Pubcomp(Pubcomp::new(id(*n))),
        Step::Subscribe(n, topic, qos) => {
            let filter = TopicFilter::new(["a/#", "a/+", "x", "$share/g/a/b"][*topic]).ok()?;
            let subscription = Subscription::new(filter, QoS::try_from(*qos).ok()?);
            Packet::Subscribe(Subscribe::new(id(*n), vec![subscription], vec![]).ok()?)
        }
        Step::Unsubscribe(n, topic) => {
            let filter = TopicFilter::new(["a/#", "a/+", "x", "y"][*topic]).ok()?;
            Packet::Unsubscribe(Unsubscribe::new(id(*n), vec![filter], vec![]).ok()?)
        }
        Step::Pingreq => Packet::Pingreq,
        Step::Disconnect(code) => {
            let code = ReasonCode::try_from(*code).ok()?;
            Packet::Disconnect(Disconnect::new(code, Properties::default()).ok()?)
        }
        Step::Garbage(bytes) => return Some(bytes.clone()),
        _ => return None,
    };
    encode(&packet, version).ok().map(|bytes| bytes.to_vec())
}

/// Checks what the server wrote, as a client of that version would read it.
struct ClientView {
    decoder: Decoder,
    limits: ClientLimits,
    /// The server's PUBLISH QoS 1/2 identifiers the client has not acknowledged.
    in_flight: std::collections::BTreeSet<u16>,
}

impl ClientView {
    fn new(limits: &ClientLimits) -> Self {
        let decoder = Decoder::new(Direction::FromServer)
            .with_version(limits.version)
            .without_max_packet_size()
            .with_topic_alias_maximum(limits.topic_alias_maximum);
        Self {
            decoder,
            limits: limits.clone(),
            in_flight: Default::default(),
        }
    }

    fn read(&mut self, bytes: &[u8]) -> Result<(), TestCaseError> {
        self.decoder.feed(bytes);
        loop {
            let before = self.decoder.buffered();
            let packet = match self.decoder.next_packet() {
                Ok(Some(packet)) => packet,
                Ok(None) => break,
                Err(err) => return Err(TestCaseError::fail(format!("server wrote {err}"))),
            };
            // Its size on the wire: encoding it again would count the topic of a PUBLISH
            // sent with a Topic Alias only (the decoder resolves the alias).
            let size = before - self.decoder.buffered();
            if let (Packet::Publish(_), Some(max)) = (&packet, self.announced_maximum_packet_size())
            {
                prop_assert!(
                    size <= max as usize,
                    "PUBLISH of {size} bytes > client max {max}"
                );
            }
            if let Packet::Publish(publish) = &packet
                && let Some(id) = publish.packet_id()
            {
                self.in_flight.insert(id.get());
            }
        }
        Ok(())
    }

    /// What the client could announce: 3.x has no properties.
    fn announced_maximum_packet_size(&self) -> Option<u32> {
        self.limits
            .maximum_packet_size
            .filter(|_| self.limits.version == ProtocolVersion::V5)
    }

    fn announced_receive_maximum(&self) -> usize {
        match self.limits.version {
            ProtocolVersion::V5 => usize::from(self.limits.receive_maximum),
            _ => usize::from(u16::MAX),
        }
    }

    /// The client acknowledges an identifier (its PUBACK or PUBCOMP ends the flow).
    fn acknowledged(&mut self, n: u16) {
        self.in_flight.remove(&n);
    }
}

fn run(limits: &ClientLimits, steps: &[Step], split: usize) -> Result<(), TestCaseError> {
    let config = ServerConfig {
        receive_maximum: 3,
        topic_alias_maximum: 2,
        maximum_packet_size: 256,
        max_keep_alive: Some(3),
        ..ServerConfig::default()
    };
    let mut connection = ServerConnection::new(config, Duration::ZERO).expect("valid config");
    let mut view = ClientView::new(limits);
    let mut now = Duration::ZERO;
    let connect = connect_bytes(limits);
    let cut = split % connect.len();
    let mut events = connection.receive_data(&connect[..cut], now);
    events.extend(connection.receive_data(&connect[cut..], now));
    if events.iter().any(|e| matches!(e, Event::Connect(_))) {
        let session = Session::new("c1", limits.version, true, 0).expect("session");
        // The broker may refuse on any whim; most accept.
        let _ = connection.accept(session, Acceptance::default());
    }
    for step in steps {
        if let Some(bytes) = client_bytes(step, limits.version) {
            match step {
                Step::Puback(n) | Step::Pubcomp(n) => view.acknowledged(*n),
                Step::Pubrec(n, true) => view.acknowledged(*n),
                _ => {}
            }
            let cut = split % (bytes.len() + 1);
            for part in [&bytes[..cut], &bytes[cut..]] {
                let _ = connection.receive_data(part, now);
            }
        }
        match step {
            Step::Deliver {
                qos,
                sub_qos,
                topic,
                payload,
                expiry,
            } => {
                let properties = PublishProperties {
                    message_expiry_interval: *expiry,
                    ..PublishProperties::default()
                };
                let message = Message::builder(TopicName::new(TOPICS[*topic]).expect("topic"))
                    .payload(vec![b'y'; *payload])
                    .qos(QoS::try_from(*qos).expect("0..3"))
                    .properties(properties)
                    .build()
                    .expect("message");
                let route = Route {
                    qos: QoS::try_from(*sub_qos).expect("0..3"),
                    subscription_identifiers: vec![],
                    retain_as_published: false,
                    from_retained: false,
                };
                let _ = connection.deliver(&message, &route, now);
            }
            Step::AnswerSubscribe(n, qos) => {
                let code = ReasonCode::try_from(*qos).expect("granted QoS");
                let _ = connection.answer_subscribe(id(*n), &[code]);
            }
            Step::AnswerUnsubscribe(n) => {
                let _ = connection.answer_unsubscribe(id(*n), &[ReasonCode::Success]);
            }
            Step::PublishReason(n, code) => {
                let code = ReasonCode::try_from(*code).expect("code");
                let _ = connection.set_publish_reason(id(*n), code);
            }
            Step::ServerDisconnect => {
                let _ = connection.disconnect(ReasonCode::AdministrativeAction);
            }
            Step::Tick(ms) => {
                now += Duration::from_millis(u64::from(*ms));
                let _ = connection.handle_timeout(now);
            }
            Step::Lost => {
                let _ = connection.connection_lost();
            }
            _ => {}
        }
        view.read(&connection.data_to_send())?;
        if let Some(session) = connection.session() {
            prop_assert!(session.outgoing_count() <= view.announced_receive_maximum());
        }
        if connection.phase() == ConnectionPhase::Closed {
            prop_assert!(connection.next_deadline().is_none());
            prop_assert!(connection.receive_data(b"\xc0\x00", now).is_empty());
        }
    }
    // Every identifier the client still waits on is one the session still tracks.
    if let Some(session) = connection.session() {
        let tracked: std::collections::BTreeSet<u16> =
            session.outgoing().map(|(id, _)| id.get()).collect();
        prop_assert!(
            view.in_flight.is_subset(&tracked) || view.limits.version != ProtocolVersion::V5
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, .. ProptestConfig::default() })]

    #[test]
    fn any_conversation_keeps_the_rules(
        limits in limits(),
        steps in prop::collection::vec(step(), 0..40),
        split in 0usize..64,
    ) {
        run(&limits, &steps, split)?;
    }

    #[test]
    fn any_bytes_never_panic_nor_write_what_the_codec_refuses(
        version in prop_oneof![Just(ProtocolVersion::V311), Just(ProtocolVersion::V5)],
        prefix in any::<bool>(),
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..8),
    ) {
        let limits = ClientLimits {
            version,
            receive_maximum: 2,
            topic_alias_maximum: 1,
            maximum_packet_size: None,
            keep_alive: 10,
            will: false,
        };
        let mut connection = ServerConnection::new(ServerConfig::default(), Duration::ZERO)
            .expect("defaults");
        let mut view = ClientView::new(&limits);
        if prefix {
            let _ = connection.receive_data(&connect_bytes(&limits), Duration::ZERO);
            let session = Session::new("c1", version, true, 0).expect("session");
            let _ = connection.accept(session, Acceptance::default());
        }
        for chunk in &chunks {
            let _ = connection.receive_data(chunk, Duration::ZERO);
            view.read(&connection.data_to_send())?;
        }
    }
}
