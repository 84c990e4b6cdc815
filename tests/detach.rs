//! What is kept long owns its memory: detached values share nothing with the read they
//! were decoded from, and the engine and the router keep nothing of a client's reads
//! once its packets are handled (a slice would keep the whole read alive).

use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use mqtt_common::codec::{Decoder, Packet, encode};
use mqtt_common::packet::{Connect, Direction, Properties, PropertyValue, Publish, Subscribe};
use mqtt_common::protocol::{Acceptance, Event, ServerConfig, ServerConnection};
use mqtt_common::router::{Connected, Connecting, Router};
use mqtt_common::{
    Detach, Message, MqttString, PacketId, PacketType, PropertyContext, PropertyId,
    ProtocolVersion, PublishProperties, QoS, Subscription, TopicFilter, TopicName, Will,
};

fn id(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

fn text(value: &str) -> MqttString {
    MqttString::new(value).unwrap()
}

/// A message with every kind of field that has bytes of its own.
fn rich_message(topic: &str, retain: bool) -> Message {
    let properties = PublishProperties {
        content_type: Some(text("text/plain")),
        response_topic: Some(TopicName::new("replies/1").unwrap()),
        correlation_data: Some(mqtt_common::BinaryData::new(b"corr".to_vec()).unwrap()),
        user_properties: vec![(text("k"), text("v"))],
        message_expiry_interval: Some(60),
        ..PublishProperties::default()
    };
    Message::builder(TopicName::new(topic).unwrap())
        .payload("twenty-one degrees")
        .qos(QoS::AtLeastOnce)
        .retain(retain)
        .message_id(Some(id(7)))
        .properties(properties)
        .build()
        .unwrap()
}

/// One read: a 5.0 CONNECT (user name, Will), a SUBSCRIBE and a retained PUBLISH that
/// the subscription does not match (a copy on its way to a subscriber is a slice, kept
/// until it is delivered: that is not what is tested here).
fn one_read() -> Bytes {
    let will = Will {
        message: rich_message("clients/c1/state", true)
            .to_builder()
            .message_id(None)
            .build()
            .unwrap(),
        delay_interval: 5,
    };
    let connect = Connect {
        protocol_version: ProtocolVersion::V5,
        clean_start: false,
        keep_alive: 30,
        client_id: text("c1"),
        will: Some(will),
        username: Some(text("alice")),
        password: None,
        properties: Properties::new(
            vec![(
                PropertyId::SessionExpiryInterval,
                PropertyValue::FourByteInteger(3600),
            )],
            PropertyContext::Packet(PacketType::Connect),
        )
        .unwrap(),
    };
    let subscribe = Subscribe::new(
        id(1),
        vec![Subscription::new(
            TopicFilter::new("sensors/#").unwrap(),
            QoS::AtLeastOnce,
        )],
        vec![],
    )
    .unwrap();
    let publish = Publish::from_message(&rich_message("rooms/kitchen", true)).unwrap();
    let mut read = BytesMut::new();
    for packet in [
        Packet::Connect(Box::new(connect)),
        Packet::Subscribe(subscribe),
        Packet::Publish(publish),
    ] {
        read.extend_from_slice(&encode(&packet, ProtocolVersion::V5).unwrap());
    }
    read.freeze()
}

#[test]
fn detached_values_share_no_memory_with_the_read() {
    let read = one_read();
    let mut decoder = Decoder::new(Direction::FromClient);
    decoder.feed_bytes(read.clone());
    let mut kept = Vec::new();
    while let Some(packet) = decoder.next_packet().unwrap() {
        match packet {
            Packet::Connect(connect) => {
                let will = connect.will.as_ref().unwrap();
                kept.push(format!("{:?}", will.detached()));
                kept.push(format!("{:?}", connect.client_id.detached()));
            }
            Packet::Subscribe(subscribe) => {
                let detached: Vec<Subscription> = subscribe
                    .subscriptions()
                    .iter()
                    .map(Detach::detached)
                    .collect();
                assert_eq!(detached, subscribe.subscriptions());
                kept.push(format!("{detached:?}"));
            }
            Packet::Publish(publish) => {
                let message = publish.to_message().unwrap();
                drop(publish);
                let detached = message.detached();
                assert_eq!(detached, message);
                assert_eq!(detached.properties(), message.properties());
                drop(message);
                assert!(read.is_unique() || decoder.buffered() > 0);
                kept.push(format!("{detached:?}"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    drop(decoder);
    // Every decoded packet is gone; what was detached stays, and holds none of the read.
    assert!(read.is_unique(), "a detached value still shares the read");
    assert_eq!(kept.len(), 4);
}

#[test]
fn the_engine_and_the_router_keep_nothing_of_a_clients_reads() {
    let read = one_read();
    let now = Duration::from_secs(1);
    let wall = SystemTime::now();
    let mut engine = ServerConnection::new(ServerConfig::default(), now).unwrap();
    let mut router = Router::default();
    let events = engine.receive_bytes(read.clone(), now);
    let [Event::Connect(request)] = &events[..] else {
        panic!("expected the CONNECT alone, got {events:?}")
    };
    let owner = request.credentials.clone();
    let Connecting::Accepted(accepted) = router.connect(1, request, "c1", &owner, wall).unwrap()
    else {
        panic!("not accepted")
    };
    let Connected {
        session,
        session_present,
        actions,
    } = *accepted;
    assert!(
        !actions.is_empty(),
        "the new session and its Will are facts to store"
    );
    drop((actions, owner));
    let held = engine
        .accept(
            session,
            Acceptance {
                session_present,
                assigned_client_id: None,
                authentication_data: None,
            },
        )
        .unwrap();
    drop(events);
    let mut retained = 0;
    for event in held {
        match event {
            Event::Subscribe(request) => {
                let answered = router
                    .subscribe(1, &request.subscriptions, &[], wall)
                    .unwrap();
                engine
                    .answer_subscribe(request.packet_id, &answered.reason_codes)
                    .unwrap();
            }
            Event::Message(message) => {
                let published = router.publish(&message, Some("c1"), wall);
                retained += usize::from(message.retain());
                drop(published);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(retained, 1);
    assert_eq!(router.subscriptions("c1").len(), 1);
    assert!(!engine.data_to_send().is_empty());
    // The Will, the user name, the subscription and the retained message are kept, in
    // memory of their own.
    assert!(
        read.is_unique(),
        "the engine or the router still holds a slice of the read"
    );
}
