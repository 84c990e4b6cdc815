//! `Router::route_events`: a read's publications and settlements routed in order, up to
//! the first event that needs the broker; that one and the rest left to it.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::BytesMut;
use mqtt_common::codec::{Packet, encode};
use mqtt_common::metrics::Metrics;
use mqtt_common::packet::{Connect, Properties, PropertyValue, Puback, Publish, Subscribe};
use mqtt_common::protocol::{Acceptance, Event, ServerConfig, ServerConnection};
use mqtt_common::router::{Action, Answered, Connecting, Fact, Router, RouterConfig};
use mqtt_common::{
    Message, MqttString, PacketId, PacketType, PropertyContext, PropertyId, ProtocolVersion, QoS,
    ReasonCode, Subscription, TopicFilter, TopicName,
};

const NOW: Duration = Duration::from_secs(1);

fn id(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

/// Subscribes connection `connection` to `filter` at QoS 1.
fn subscribe_to(router: &mut Router, connection: u64, filter: &str) -> Answered {
    router
        .subscribe(
            connection,
            &[Subscription::new(
                TopicFilter::new(filter).unwrap(),
                QoS::AtLeastOnce,
            )],
            &[],
            SystemTime::now(),
        )
        .unwrap()
}

fn publish(topic: &str, qos: QoS, packet_id: u16) -> Packet {
    publish_with(topic, qos, packet_id, false)
}

fn retained(topic: &str, qos: QoS, packet_id: u16) -> Packet {
    publish_with(topic, qos, packet_id, true)
}

fn publish_with(topic: &str, qos: QoS, packet_id: u16, retain: bool) -> Packet {
    let message = Message::builder(TopicName::new(topic).unwrap())
        .payload("x")
        .qos(qos)
        .retain(retain)
        .message_id((qos != QoS::AtMostOnce).then(|| id(packet_id)))
        .build()
        .unwrap();
    Packet::Publish(Publish::from_message(&message).unwrap())
}

fn subscribe(filter: &str, packet_id: u16) -> Packet {
    Packet::Subscribe(
        Subscribe::new(
            id(packet_id),
            vec![Subscription::new(
                TopicFilter::new(filter).unwrap(),
                QoS::AtLeastOnce,
            )],
            vec![],
        )
        .unwrap(),
    )
}

fn read(packets: &[Packet]) -> BytesMut {
    let mut bytes = BytesMut::new();
    for packet in packets {
        bytes.extend_from_slice(&encode(packet, ProtocolVersion::V5).unwrap());
    }
    bytes
}

/// A 5.0 client accepted on `connection` (a persistent session when `expiry` > 0).
fn connected(router: &mut Router, connection: u64, client: &str, expiry: u32) -> ServerConnection {
    connected_counting(router, connection, client, expiry, None)
}

/// [`connected`], its engine adding to `metrics` from its start.
fn connected_counting(
    router: &mut Router,
    connection: u64,
    client: &str,
    expiry: u32,
    metrics: Option<&Arc<Metrics>>,
) -> ServerConnection {
    let connect = Connect {
        protocol_version: ProtocolVersion::V5,
        clean_start: true,
        keep_alive: 0,
        client_id: MqttString::new(client).unwrap(),
        will: None,
        username: None,
        password: None,
        properties: Properties::new(
            vec![(
                PropertyId::SessionExpiryInterval,
                PropertyValue::FourByteInteger(expiry),
            )],
            PropertyContext::Packet(PacketType::Connect),
        )
        .unwrap(),
    };
    let mut engine = ServerConnection::new(ServerConfig::default(), NOW).unwrap();
    if let Some(metrics) = metrics {
        engine.set_metrics(Arc::clone(metrics));
    }
    let events = engine.receive_data(&read(&[Packet::Connect(Box::new(connect))]), NOW);
    let [Event::Connect(request)] = &events[..] else {
        panic!("{events:?}")
    };
    let owner = request.credentials.clone();
    let Connecting::Accepted(accepted) = router
        .connect(connection, request, client, &owner, SystemTime::now())
        .unwrap()
    else {
        panic!("not accepted")
    };
    engine
        .accept(accepted.session, Acceptance::default())
        .unwrap();
    engine.data_to_send(); // the CONNACK
    engine
}

fn deliveries(actions: &[Action]) -> Vec<(u64, String)> {
    actions
        .iter()
        .filter_map(|action| match action {
            Action::Deliver(out) => Some((out.connection, out.message.topic().to_string())),
            _ => None,
        })
        .collect()
}

#[test]
fn publications_are_routed_until_a_subscribe_which_and_what_follows_are_left() {
    let mut router = Router::default();
    let mut reader = connected(&mut router, 1, "reader", 0);
    let subscribed = subscribe_to(&mut router, 1, "a/#");
    assert_eq!(subscribed.reason_codes, [ReasonCode::GrantedQoS1]);
    let mut writer = connected(&mut router, 2, "writer", 0);
    let events = writer.receive_data(
        &read(&[
            publish("a/1", QoS::AtMostOnce, 0),
            publish("nobody/listens", QoS::AtLeastOnce, 7),
            subscribe("b/#", 8),
            publish("a/2", QoS::AtMostOnce, 0),
        ]),
        NOW,
    );
    let routed = router.route_events(2, events, SystemTime::now());
    assert_eq!(deliveries(&routed.actions), [(1, "a/1".to_owned())]);
    assert_eq!(routed.reasons, [(id(7), ReasonCode::NoMatchingSubscribers)]);
    // The SUBSCRIBE must take effect before what was read after it is routed.
    assert!(
        matches!(&routed.rest[..], [Event::Subscribe(_), Event::Message(m)] if m.topic().as_str() == "a/2")
    );
    let _ = reader.data_to_send();
}

#[test]
fn a_qos_2_message_is_left_to_the_broker() {
    let mut router = Router::default();
    let mut writer = connected(&mut router, 1, "writer", 0);
    let events = writer.receive_data(
        &read(&[
            publish("a", QoS::ExactlyOnce, 3),
            publish("b", QoS::AtMostOnce, 0),
        ]),
        NOW,
    );
    let routed = router.route_events(1, events, SystemTime::now());
    assert!(routed.actions.is_empty());
    assert!(routed.reasons.is_empty());
    assert_eq!(routed.rest.len(), 2);
}

#[test]
fn a_tagged_delivery_is_settled_and_its_queued_copy_dequeued() {
    let mut router = Router::default();
    let mut reader = connected(&mut router, 1, "reader", 3600);
    subscribe_to(&mut router, 1, "a");
    let message = Message::builder(TopicName::new("a").unwrap())
        .payload("kept")
        .qos(QoS::AtLeastOnce)
        .build()
        .unwrap();
    let published = router.publish(&message, None, SystemTime::now());
    let queued = published
        .actions
        .iter()
        .any(|a| matches!(a, Action::Persist(Fact::Queued { .. })));
    assert!(
        queued,
        "a persistent session's copy is a fact until it is settled"
    );
    for action in published.actions {
        if let Action::Deliver(out) = action {
            reader
                .deliver_tagged(&out.message, &out.route, NOW, out.tag)
                .unwrap();
        }
    }
    assert!(!reader.data_to_send().is_empty());
    let events = reader.receive_data(&read(&[Packet::Puback(Puback::new(id(1)))]), NOW);
    assert!(matches!(&events[..], [Event::Delivered(d)] if d.tag.is_some()));
    let routed = router.route_events(1, events, SystemTime::now());
    assert!(routed.rest.is_empty());
    assert!(
        routed
            .actions
            .iter()
            .any(|a| matches!(a, Action::Persist(Fact::Dequeued { .. }))),
        "{:?}",
        routed.actions
    );
}

#[test]
fn the_events_of_a_connection_the_router_does_not_know_are_all_left() {
    let mut router = Router::default();
    let mut stranger = ServerConnection::new(ServerConfig::default(), NOW).unwrap();
    let events = stranger.receive_data(
        &read(&[Packet::Connect(Box::new(Connect {
            protocol_version: ProtocolVersion::V5,
            clean_start: true,
            keep_alive: 0,
            client_id: MqttString::new("x").unwrap(),
            will: None,
            username: None,
            password: None,
            properties: Properties::default(),
        }))]),
        NOW,
    );
    let routed = router.route_events(9, events, SystemTime::now());
    assert!(routed.actions.is_empty());
    assert!(matches!(&routed.rest[..], [Event::Connect(_)]));
}

#[test]
fn the_engines_add_to_the_brokers_metrics() {
    let metrics = Arc::new(Metrics::default());
    let mut router = Router::default();
    let mut reader = connected_counting(&mut router, 1, "reader", 0, Some(&metrics));
    subscribe_to(&mut router, 1, "a/#");
    let mut writer = connected_counting(&mut router, 2, "writer", 0, Some(&metrics));
    let data = read(&[
        publish("a/1", QoS::AtMostOnce, 0),
        publish("a/2", QoS::AtLeastOnce, 7),
    ]);
    let events = writer.receive_data(&data, NOW);
    let routed = router.route_events(2, events, SystemTime::now());
    for action in routed.actions {
        if let Action::Deliver(out) = action {
            reader.deliver(&out.message, &out.route, NOW).unwrap();
        }
    }
    let written = reader.data_to_send().len() + writer.data_to_send().len();
    let counted = metrics.snapshot();
    assert_eq!(counted.connections_accepted, 2);
    assert_eq!(counted.messages_received, [1, 1, 0]);
    assert_eq!(counted.messages_sent, [1, 1, 0]);
    assert_eq!(counted.packets_received, 4, "two CONNECTs, two PUBLISH");
    assert_eq!(
        counted.packets_sent, 5,
        "two CONNACKs, two PUBLISH, a PUBACK"
    );
    assert!(counted.bytes_received > data.len() as u64);
    // The CONNACKs were taken before: this read's output is counted on top of them.
    assert!(counted.bytes_sent > written as u64);
    assert_eq!(counted.total_dropped(), 0);
}

#[test]
fn retained_messages_past_the_bound_are_refused_with_quota_exceeded() {
    let config = RouterConfig {
        max_retained_messages: Some(1),
        ..RouterConfig::default()
    };
    let mut router = Router::new(config);
    let mut reader = connected(&mut router, 1, "reader", 0);
    subscribe_to(&mut router, 1, "#");
    let mut writer = connected(&mut router, 2, "writer", 0);
    let events = writer.receive_data(
        &read(&[
            retained("kept", QoS::AtLeastOnce, 1),
            retained("refused/1", QoS::AtLeastOnce, 2),
            retained("refused/0", QoS::AtMostOnce, 0),
            retained("kept", QoS::AtLeastOnce, 3),
        ]),
        NOW,
    );
    let routed = router.route_events(2, events, SystemTime::now());
    assert_eq!(
        deliveries(&routed.actions),
        [(1, "kept".to_owned()), (1, "kept".to_owned())]
    );
    assert_eq!(routed.reasons, [(id(2), ReasonCode::QuotaExceeded)]);
    let refused: Vec<&str> = routed.refused.iter().map(|t| t.as_str()).collect();
    assert_eq!(refused, ["refused/1", "refused/0"]);
    assert_eq!(router.stats().retained_refused, 2);
    let _ = reader.data_to_send();
}
