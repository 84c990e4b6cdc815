//! `Message`: every validation rule, accepted and rejected.

use bytes::Bytes;
use mqtt_common::FromInteger;
use mqtt_common::{
    BinaryData, Error, Message, MqttString, PacketId, PayloadFormat, PublishProperties, QoS,
    ReasonCode, SubscriptionId, TopicAlias, TopicName, Violation, protocol,
};

fn topic() -> TopicName {
    TopicName::from_static("sensors/temperature")
}

fn rejected(result: Result<Message, Error>, field: &str, spec_ref: &str) -> Error {
    let err = result.expect_err("should be rejected");
    assert!(err.to_string().starts_with(&format!("{field}: ")), "{err}");
    assert_eq!(err.spec_ref(), Some(spec_ref), "{err}");
    err
}

#[test]
fn the_seed_example_builds() {
    let message = Message::builder(topic())
        .payload(&b"23.5"[..])
        .qos(QoS::AtLeastOnce)
        .retain(false)
        .message_id(Some(PacketId::new(12345).unwrap()))
        .build()
        .unwrap();
    assert_eq!(message.topic(), "sensors/temperature");
    assert_eq!(message.payload(), &Bytes::from_static(b"23.5"));
    assert_eq!(message.qos(), QoS::AtLeastOnce);
    assert_eq!(message.message_id().map(PacketId::get), Some(12345));
    assert!(!message.retain() && !message.dup());
    assert!(message.properties().is_empty());
}

#[test]
fn defaults_are_qos_0_without_flags() {
    let message = Message::new(topic(), "x").unwrap();
    assert_eq!(message.qos(), QoS::AtMostOnce);
    assert_eq!(message.message_id(), None);
    assert!(!message.retain() && !message.dup());
}

#[test]
fn qos_0_forbids_a_packet_id_and_dup() {
    let with_id = Message::builder(topic())
        .message_id(Some(PacketId::MIN))
        .build();
    let err = rejected(with_id, "message_id", "MQTT-2.2.1-2");
    assert_eq!(err.reason_code(), ReasonCode::ProtocolError);
    rejected(
        Message::builder(topic()).dup(true).build(),
        "dup",
        "MQTT-3.3.1-2",
    );
    // Both are fine at QoS 1 and 2, and QoS > 0 may leave the id to the broker.
    for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce] {
        Message::builder(topic())
            .qos(qos)
            .dup(true)
            .message_id(Some(PacketId::MAX))
            .build()
            .unwrap();
        Message::builder(topic()).qos(qos).build().unwrap();
    }
}

#[test]
fn packet_id_zero_is_refused() {
    assert_eq!(PacketId::new(0), Err(Violation::PacketIdZero));
    assert_eq!(PacketId::new(65_535).unwrap().get(), 65_535);
    assert_eq!(std::mem::size_of::<Option<PacketId>>(), 2);
}

#[test]
fn payload_limit_is_the_largest_remaining_length() {
    let limit = protocol::MAX_PAYLOAD_SIZE as usize;
    let at_limit = Bytes::from(vec![0u8; limit]);
    Message::new(topic(), at_limit.clone()).unwrap();
    let over = Bytes::from(vec![0u8; limit + 1]);
    let err = rejected(Message::new(topic(), over), "payload", "§2.1.4");
    assert_eq!(err.reason_code(), ReasonCode::PacketTooLarge);
}

#[test]
fn payload_is_shared_not_copied() {
    let payload = Bytes::from(vec![7u8; 1024]);
    let message = Message::new(topic(), payload.clone()).unwrap();
    assert_eq!(message.payload().as_ptr(), payload.as_ptr());
    let clone = message.clone();
    assert_eq!(clone.payload().as_ptr(), payload.as_ptr());
}

#[test]
fn properties_are_valid_by_construction() {
    assert_eq!(TopicAlias::new(0), Err(Violation::TopicAliasZero));
    assert_eq!(
        SubscriptionId::new(0),
        Err(Violation::SubscriptionIdOutOfRange { value: 0 })
    );
    assert!(SubscriptionId::new(protocol::MAX_SUBSCRIPTION_ID).is_ok());
    assert!(SubscriptionId::new(protocol::MAX_SUBSCRIPTION_ID + 1).is_err());
    assert!(PayloadFormat::from_integer(2).is_err());
    assert_eq!(PayloadFormat::from_integer(1), Ok(PayloadFormat::Utf8));
    assert_eq!(MqttString::new("a\0"), Err(Violation::StringContainsNull));
    assert!(matches!(
        MqttString::new(&"a".repeat(65_536)),
        Err(Violation::StringTooLong { .. })
    ));
    assert!(MqttString::new(&"a".repeat(65_535)).is_ok());
    assert!(BinaryData::new(vec![0; 65_536]).is_err());
    // Binary data may hold NUL and invalid UTF-8.
    assert!(BinaryData::new(vec![0, 0xFF, 0xED, 0xA0, 0x80]).is_ok());
    assert!(
        TopicName::new("replies/+").is_err(),
        "response topics are topic names"
    );
}

#[test]
fn messages_with_properties_compare_by_value() {
    let properties = PublishProperties {
        payload_format_indicator: Some(PayloadFormat::Utf8),
        message_expiry_interval: Some(u32::MAX),
        content_type: Some(MqttString::new("text/plain").unwrap()),
        response_topic: Some(TopicName::new("replies").unwrap()),
        correlation_data: Some(BinaryData::new(vec![1, 2, 3]).unwrap()),
        user_properties: vec![
            (MqttString::new("k").unwrap(), MqttString::new("1").unwrap()),
            (MqttString::new("k").unwrap(), MqttString::new("2").unwrap()),
        ],
        subscription_identifiers: vec![SubscriptionId::new(5).unwrap()],
        topic_alias: Some(TopicAlias::new(1).unwrap()),
    };
    let a = Message::builder(topic())
        .properties(properties.clone())
        .build()
        .unwrap();
    let b = a.to_builder().build().unwrap();
    assert_eq!(a, b);
    assert_eq!(a.properties(), &properties);
    let c = a
        .to_builder()
        .properties(PublishProperties::default())
        .build()
        .unwrap();
    assert_ne!(a, c);
    assert_eq!(
        c,
        Message::new(topic(), Bytes::new()).unwrap(),
        "empty properties are no properties"
    );
}

#[test]
fn debug_truncates_long_payloads() {
    let message = Message::new(topic(), vec![b'x'; 10_000]).unwrap();
    let text = format!("{message:?}");
    assert!(text.contains("(10000 bytes)"), "{text}");
    assert!(text.len() < 400, "{text}");
}
