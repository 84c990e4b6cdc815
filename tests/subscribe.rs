//! SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK on the wire: the SPEC-CHECKLIST rows for
//! topic filters and subscription options, reason code tables, round trips.

use bytes::{Bytes, BytesMut};
use mqtt_common::ErrorKind;
use mqtt_common::packet::wire::Utf8Policy;
use mqtt_common::packet::{AckProperties, Suback, Subscribe, Unsuback, Unsubscribe, frame};
use mqtt_common::{
    Error, MqttString, PacketId, ProtocolVersion, QoS, ReasonCode, RetainHandling, Subscription,
    SubscriptionId, TopicFilter, Violation,
};
use proptest::prelude::*;

const V311: ProtocolVersion = ProtocolVersion::V311;
const V5: ProtocolVersion = ProtocolVersion::V5;

fn parts(bytes: &[u8], version: ProtocolVersion) -> (mqtt_common::packet::FixedHeader, Bytes) {
    let header = frame(bytes, Some(version), u32::MAX)
        .unwrap()
        .expect("complete");
    (
        header,
        Bytes::copy_from_slice(&bytes[header.header_len..header.packet_len()]),
    )
}

fn subscribe(bytes: &[u8], version: ProtocolVersion) -> Result<Subscribe, Error> {
    let (header, body) = parts(bytes, version);
    Subscribe::decode(&header, body, version, Utf8Policy::Strict)
}

fn encoded(encode: impl FnOnce(&mut BytesMut) -> Result<(), mqtt_common::Error>) -> Vec<u8> {
    let mut buf = BytesMut::new();
    encode(&mut buf).expect("encodes");
    buf.to_vec()
}

/// The options byte, 3.1.1 ([MQTT-3-8.3-4] there; [MQTT-3.8.3-5] in 5.0): the upper six bits
/// are 0 and QoS is at most 2, else malformed.
#[test]
fn mqtt_3_8_3_5_v311_subscribe_and_its_options_byte() {
    // id 10: "a/+" QoS 1, "#" QoS 2.
    let bytes = b"\x82\x0C\x00\x0A\x00\x03a/+\x01\x00\x01#\x02";
    let s = subscribe(bytes, V311).unwrap();
    assert_eq!(s.packet_id().get(), 10);
    let filters: Vec<(&str, QoS)> = s
        .subscriptions()
        .iter()
        .map(|s| (s.topic_filter().as_str(), s.qos()))
        .collect();
    assert_eq!(
        filters,
        [("a/+", QoS::AtLeastOnce), ("#", QoS::ExactlyOnce)]
    );
    assert_eq!(encoded(|b| s.encode(V311, b)), bytes);
    // Upper six option bits set, or QoS 3: malformed [MQTT-3-8.3-4 in 3.1.1].
    for options in [0x03, 0x04, 0x80] {
        let bytes = [0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', options];
        let err = subscribe(&bytes, V311).unwrap_err();
        assert_eq!(
            err.violation(),
            Some(&Violation::InvalidSubscriptionOptions { options })
        );
    }
}

#[test]
fn mqtt_3_8_3_5_v5_subscription_options_byte() {
    // Subscription identifier 7, "a" with No Local, Retain As Published, Retain Handling 2, QoS 1.
    let bytes = b"\x82\x09\x00\x01\x02\x0B\x07\x00\x01a\x2D";
    let s = subscribe(bytes, V5).unwrap();
    let sub = &s.subscriptions()[0];
    assert!(sub.no_local() && sub.retain_as_published());
    assert_eq!(sub.retain_handling(), RetainHandling::DoNotSend);
    assert_eq!(sub.subscription_id(), Some(SubscriptionId::new(7).unwrap()));
    assert_eq!(encoded(|b| s.encode(V5, b)), bytes);
    let with_options = |options: u8| [0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, b'a', options];
    // Reserved bits 6-7: malformed [MQTT-3.8.3-5]; QoS 3 and Retain Handling 3: protocol errors.
    let err = subscribe(&with_options(0x40), V5).unwrap_err();
    assert_eq!(
        (err.reason_code(), err.spec_ref()),
        (ReasonCode::MalformedPacket, Some("MQTT-3.8.3-5"))
    );
    assert_eq!(
        subscribe(&with_options(0x03), V5).unwrap_err().kind(),
        ErrorKind::Protocol
    );
    assert_eq!(
        subscribe(&with_options(0x30), V5).unwrap_err().kind(),
        ErrorKind::Protocol
    );
    // Subscription Identifier 0 is a protocol error.
    let err = subscribe(b"\x82\x08\x00\x01\x02\x0B\x00\x00\x01a\x00", V5).unwrap_err();
    assert!(err.kind() == ErrorKind::Protocol);
}

/// [MQTT-3.8.3-4]: No Local on a shared subscription is a protocol error.
#[test]
fn mqtt_3_8_3_4_no_local_on_a_shared_subscription() {
    let shared = b"\x82\x10\x00\x01\x00\x00\x0A$share/g/a\x04";
    let err = subscribe(shared, V5).unwrap_err();
    assert!(err.kind() == ErrorKind::Protocol);
    assert_eq!(err.spec_ref(), Some("MQTT-3.8.3-4"));
    let without_no_local = b"\x82\x10\x00\x01\x00\x00\x0A$share/g/a\x00";
    assert!(subscribe(without_no_local, V5).is_ok());
}

#[test]
fn subscribe_filters_and_identifiers() {
    // At least one filter [MQTT-3.8.3-2], packet id not 0, filters checked.
    let err = subscribe(b"\x82\x02\x00\x01", V311).unwrap_err();
    assert_eq!(
        err.violation(),
        Some(&Violation::NoTopicFilters {
            packet: mqtt_common::PacketType::Subscribe
        })
    );
    assert_eq!(
        subscribe(b"\x82\x06\x00\x00\x00\x01a\x00", V311)
            .unwrap_err()
            .kind(),
        ErrorKind::Protocol
    );
    for (filter, spec_ref) in [
        (&b"a#"[..], "MQTT-4.7.1-1"),
        (b"a+", "MQTT-4.7.1-2"),
        (b"", "MQTT-4.7.3-1"),
        (b"$share//a", "MQTT-4.8.2-1"),
    ] {
        let mut bytes = vec![
            0x82,
            (2 + 2 + filter.len() + 1) as u8,
            0x00,
            0x01,
            0x00,
            filter.len() as u8,
        ];
        bytes.extend_from_slice(filter);
        bytes.push(0x00);
        let err = subscribe(&bytes, V311).unwrap_err();
        assert_eq!(err.reason_code(), ReasonCode::MalformedPacket, "{filter:?}");
        assert_eq!(err.spec_ref(), Some(spec_ref), "{filter:?}");
    }
    // A filter with no options byte after it.
    assert!(subscribe(b"\x82\x05\x00\x01\x00\x01a", V311).is_err());
    // Building: subscriptions of one packet share their identifier.
    let id = PacketId::new(1).unwrap();
    let with_id = |n| {
        Subscription::builder(TopicFilter::new("a").unwrap())
            .subscription_id(Some(SubscriptionId::new(n).unwrap()))
            .build()
            .unwrap()
    };
    assert!(Subscribe::new(id, vec![with_id(1), with_id(2)], vec![]).is_err());
    assert!(Subscribe::new(id, vec![], vec![]).is_err());
}

#[test]
fn suback_codes() {
    let (header, body) = parts(b"\x90\x05\x00\x01\x00\x02\x80", V311);
    let ack = Suback::decode(&header, body, V311, Utf8Policy::Strict).unwrap();
    assert_eq!(
        ack.reason_codes(),
        [
            ReasonCode::Success,
            ReasonCode::GrantedQoS2,
            ReasonCode::UnspecifiedError
        ]
    );
    for value in 0..=u8::MAX {
        let bytes = [0x90, 0x03, 0x00, 0x01, value];
        let (header, body) = parts(&bytes, V311);
        let ok = Suback::decode(&header, body, V311, Utf8Policy::Strict).is_ok();
        assert_eq!(ok, matches!(value, 0 | 1 | 2 | 0x80), "{value:#04x}");
        let bytes = [0x90, 0x04, 0x00, 0x01, 0x00, value];
        let (header, body) = parts(&bytes, V5);
        let result = Suback::decode(&header, body, V5, Utf8Policy::Strict);
        let allowed = ReasonCode::from_u8(value)
            .is_some_and(|c| c.allowed_in(mqtt_common::PacketType::Suback));
        assert_eq!(result.is_ok(), allowed, "{value:#04x}");
    }
    // A 5.0 failure code becomes 0x80 in 3.1.1.
    let ack = Suback::new(
        PacketId::new(1).unwrap(),
        vec![ReasonCode::QuotaExceeded],
        AckProperties::default(),
    )
    .unwrap();
    assert_eq!(encoded(|b| ack.encode(V311, b)), b"\x90\x03\x00\x01\x80");
    assert_eq!(encoded(|b| ack.encode(V5, b)), b"\x90\x04\x00\x01\x00\x97");
    assert!(
        Suback::new(
            PacketId::new(1).unwrap(),
            vec![ReasonCode::NoSubscriptionExisted],
            AckProperties::default()
        )
        .is_err()
    );
}

#[test]
fn unsubscribe_and_unsuback() {
    let bytes = b"\xA2\x07\x00\x02\x00\x03a/#";
    let (header, body) = parts(bytes, V311);
    let unsub = Unsubscribe::decode(&header, body, V311, Utf8Policy::Strict).unwrap();
    assert_eq!(unsub.topic_filters()[0].as_str(), "a/#");
    assert_eq!(encoded(|b| unsub.encode(V311, b)), bytes);
    let (header, body) = parts(b"\xA2\x02\x00\x02", V311);
    let err = Unsubscribe::decode(&header, body, V311, Utf8Policy::Strict).unwrap_err();
    assert_eq!(err.spec_ref(), Some("MQTT-3.10.3-2"));
    // 3.1.1 UNSUBACK is exactly two bytes; 5.0 has one code per filter.
    let (header, body) = parts(b"\xB0\x02\x00\x02", V311);
    assert!(
        Unsuback::decode(&header, body, V311, Utf8Policy::Strict)
            .unwrap()
            .reason_codes()
            .is_empty()
    );
    let (header, body) = parts(b"\xB0\x03\x00\x02\x00", V311);
    assert!(Unsuback::decode(&header, body, V311, Utf8Policy::Strict).is_err());
    let (header, body) = parts(b"\xB0\x05\x00\x02\x00\x11\x00", V5);
    let ack = Unsuback::decode(&header, body, V5, Utf8Policy::Strict).unwrap();
    assert_eq!(
        ack.reason_codes(),
        [ReasonCode::NoSubscriptionExisted, ReasonCode::Success]
    );
    assert_eq!(
        encoded(|b| ack.encode(V5, b)),
        b"\xB0\x05\x00\x02\x00\x11\x00"
    );
    let (header, body) = parts(b"\xB0\x04\x00\x02\x00\x10", V5);
    assert!(
        Unsuback::decode(&header, body, V5, Utf8Policy::Strict).is_err(),
        "0x10 is not an UNSUBACK code"
    );
}

fn filters() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[a-z]{1,4}(/([a-z]{1,4}|\\+)){0,2}(/#)?", 1..4)
}

proptest! {
    #[test]
    fn round_trips(filters in filters(), id in 1u16.., qos in 0u8..3, sub_id in prop::option::of(1u32..1000),
                   users in prop::collection::vec(("[a-z]{0,3}", "[a-z]{0,3}"), 0..2)) {
        let subscriptions: Vec<Subscription> = filters
            .iter()
            .map(|f| Subscription::builder(TopicFilter::new(f).unwrap())
                .qos(QoS::try_from(qos).unwrap())
                .subscription_id(sub_id.map(|i| SubscriptionId::new(i).unwrap()))
                .build().unwrap())
            .collect();
        let users: Vec<_> = users.iter().map(|(k, v)| (MqttString::new(k).unwrap(), MqttString::new(v).unwrap())).collect();
        let packet_id = PacketId::new(id).unwrap();
        let sub = Subscribe::new(packet_id, subscriptions, users.clone()).unwrap();
        let bytes = encoded(|b| sub.encode(V5, b));
        prop_assert_eq!(bytes.len(), sub.encoded_len(V5));
        prop_assert_eq!(&subscribe(&bytes, V5).unwrap(), &sub);
        let has_users = !users.is_empty();
        let unsub = Unsubscribe::new(packet_id, filters.iter().map(|f| TopicFilter::new(f).unwrap()).collect(), users).unwrap();
        for version in [V311, V5] {
            if version == V311 && has_users {
                // 3.1.1 has no User Properties: refused, not dropped.
                prop_assert!(unsub.encode(version, &mut BytesMut::new()).is_err());
                continue;
            }
            let bytes = encoded(|b| unsub.encode(version, b));
            prop_assert_eq!(bytes.len(), unsub.encoded_len(version));
            let (header, body) = parts(&bytes, version);
            let decoded = Unsubscribe::decode(&header, body, version, Utf8Policy::Strict).unwrap();
            prop_assert_eq!(decoded.topic_filters(), unsub.topic_filters());
        }
    }

    #[test]
    fn arbitrary_bodies_never_panic(body in prop::collection::vec(any::<u8>(), 0..40)) {
        for first in [0x82u8, 0x90, 0xA2, 0xB0] {
            let mut bytes = vec![first, body.len() as u8];
            bytes.extend(&body);
            for version in [V311, V5] {
                let (header, body) = parts(&bytes, version);
                let policy = Utf8Policy::Strict;
                let _ = Subscribe::decode(&header, body.clone(), version, policy);
                let _ = Suback::decode(&header, body.clone(), version, policy);
                let _ = Unsubscribe::decode(&header, body.clone(), version, policy);
                let _ = Unsuback::decode(&header, body, version, policy);
            }
        }
    }
}
