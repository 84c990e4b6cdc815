//! A tour of the Rust API: run with `cargo run --example tour`.

use mqtt_common::{
    Error, Message, PacketId, PublishProperties, QoS, ReasonCode, Subscription, SubscriptionIndex,
    TopicFilter, TopicName, TopicTree, merge_overlapping, topic_matches,
};

fn main() -> Result<(), Error> {
    // Topics are validated newtypes: an invalid one cannot exist.
    let topic = TopicName::new("sensors/kitchen/temperature")?;
    let filter = TopicFilter::new("sensors/+/temperature")?;
    println!("{filter} matches {topic}: {}", filter.matches(&topic));

    // Shared subscriptions expose their group; matching ignores the prefix.
    let shared = TopicFilter::new("$share/thermostats/sensors/#")?;
    println!(
        "{shared}: group {:?}, filter {:?}, matches: {}",
        shared.share_group(),
        shared.filter(),
        shared.matches(&topic)
    );

    // The spec's corner cases.
    for (filter, topic) in [
        ("sport/#", "sport"),
        ("+/+", "/finance"),
        ("#", "$SYS/uptime"),
        ("$SYS/#", "$SYS/uptime"),
    ] {
        println!(
            "topic_matches({filter:?}, {topic:?}) = {}",
            topic_matches(filter, topic)?
        );
    }

    // Messages are immutable and checked as a whole.
    let message = Message::builder(topic)
        .payload("21.5")
        .qos(QoS::AtLeastOnce)
        .message_id(Some(PacketId::new(42)?))
        .properties(PublishProperties {
            message_expiry_interval: Some(60),
            ..PublishProperties::default()
        })
        .build()?;
    println!("{message:?}");

    // Every error names the rule it enforces and the reason code a broker would send.
    let err = Message::builder(TopicName::new("a")?)
        .message_id(Some(PacketId::new(1)?))
        .build()
        .unwrap_err();
    println!("{err}");
    assert_eq!(err.spec_ref(), Some("MQTT-2.2.1-2"));
    let err = TopicName::new("sensors/#").unwrap_err();
    assert_eq!(err.reason_code(), ReasonCode::TopicNameInvalid);
    println!("{err} -> reason code {:#04x}", err.reason_code().as_u8());

    // Routing: the subscription index, and retained messages by filter.
    let mut index = SubscriptionIndex::new();
    index.subscribe(
        "thermostat",
        Subscription::new(TopicFilter::new("site/+/temp")?, QoS::AtLeastOnce),
    )?;
    index.subscribe(
        "thermostat",
        Subscription::new(TopicFilter::new("site/#")?, QoS::ExactlyOnce),
    )?;
    index.subscribe(
        "dashboard",
        Subscription::new(TopicFilter::new("site/7/temp")?, QoS::AtMostOnce),
    )?;
    let topic = TopicName::new("site/7/temp")?;
    let matches = index.matches(&topic);
    println!("{} subscriptions match {topic}", matches.len());
    for delivery in merge_overlapping(matches.iter().map(|(c, s)| (*c, *s)), None) {
        println!("  deliver to {} at {:?}", delivery.client_id, delivery.qos);
    }
    let mut retained = TopicTree::new();
    retained.insert(TopicName::new("site/7/temp")?, message)?;
    let found = retained.matches(&TopicFilter::new("site/+/temp")?);
    println!("retained messages for site/+/temp: {}", found.len());

    engine_tour()
}

/// The server protocol engine: a client connects and publishes; a broken rule ends it.
fn engine_tour() -> Result<(), Error> {
    use mqtt_common::codec::{Packet, encode};
    use mqtt_common::packet::{Connect, Publish};
    use mqtt_common::protocol::{Acceptance, Event, ServerConfig, ServerConnection};
    use mqtt_common::{MqttString, ProtocolVersion, Session};
    use std::time::Duration;

    let config = ServerConfig {
        max_keep_alive: Some(30),
        ..ServerConfig::default()
    };
    let mut connection = ServerConnection::new(config, Duration::ZERO)?;
    let mut connect = Connect::new(ProtocolVersion::V5, MqttString::new("sensor-9")?);
    connect.keep_alive = 120;
    let message = Message::builder(TopicName::new("site/9/temp")?)
        .payload("20.5")
        .qos(QoS::AtLeastOnce)
        .message_id(Some(PacketId::new(1)?))
        .build()?;
    let mut read = encode(&Packet::Connect(Box::new(connect)), ProtocolVersion::V5)?.to_vec();
    read.extend_from_slice(&encode(
        &Packet::Publish(Publish::from_message(&message)?),
        ProtocolVersion::V5,
    )?);
    let events = connection.receive_data(&read, Duration::ZERO);
    let Some(Event::Connect(request)) = events.first() else {
        return Err(Error::state("tour", "no CONNECT event"));
    };
    println!(
        "engine: {} asks for keep alive {}",
        request.client_id(),
        request.connect.keep_alive
    );
    let session = Session::new(request.client_id(), request.protocol_version(), true, 0)?;
    // The PUBLISH after the CONNECT waited for the answer; accepting hands it over.
    let held = connection.accept(session, Acceptance::default())?;
    println!("  after accept: {} event(s)", held.len());
    println!(
        "  the server writes {:02x?}",
        &connection.data_to_send()[..]
    );
    println!("  next deadline: {:?}", connection.next_deadline());
    let events = connection.receive_data(b"\x82\x00", Duration::from_secs(1));
    if let Some(Event::Closed(closed)) = events.first() {
        println!("  a broken rule ends it: {:?}", closed.reason_code);
    }
    Ok(())
}
