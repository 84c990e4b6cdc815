//! PUBLISH on the wire: SPEC-CHECKLIST rows, byte vectors, zero-copy payloads and round
//! trips in every version.

use bytes::{Bytes, BytesMut};
use mqtt_common::ErrorKind;
use mqtt_common::packet::wire::Utf8Policy;
use mqtt_common::packet::{Direction, Publish, frame};
use mqtt_common::{
    BinaryData, Error, Message, MqttString, PacketId, PayloadFormat, ProtocolVersion,
    PublishProperties, QoS, ReasonCode, SubscriptionId, TopicAlias, TopicName, Violation,
};
use proptest::prelude::*;

const VERSIONS: [ProtocolVersion; 3] = [
    ProtocolVersion::V31,
    ProtocolVersion::V311,
    ProtocolVersion::V5,
];

fn decode(bytes: &[u8], version: ProtocolVersion, direction: Direction) -> Result<Publish, Error> {
    let header = frame(bytes, Some(version), u32::MAX)?.expect("a complete packet");
    let body = Bytes::copy_from_slice(&bytes[header.header_len..header.packet_len()]);
    Publish::decode(&header, body, version, direction, Utf8Policy::Strict)
}

fn encode(publish: &Publish, version: ProtocolVersion) -> Vec<u8> {
    let mut buf = BytesMut::new();
    publish.encode(version, &mut buf).expect("encodes");
    assert_eq!(buf.len(), publish.encoded_len(version));
    buf.to_vec()
}

#[test]
fn v311_vectors() {
    // QoS 0, topic "a/b", payload "hi".
    let p = decode(
        b"\x30\x07\x00\x03a/bhi",
        ProtocolVersion::V311,
        Direction::FromClient,
    )
    .unwrap();
    assert_eq!(
        (p.topic().unwrap().as_str(), p.qos(), p.packet_id()),
        ("a/b", QoS::AtMostOnce, None)
    );
    assert_eq!(p.payload(), &b"hi"[..]);
    // QoS 2, retain, dup, id 0x1234, empty payload.
    let p = decode(
        b"\x3D\x07\x00\x03a/b\x12\x34",
        ProtocolVersion::V311,
        Direction::FromClient,
    )
    .unwrap();
    assert!(p.retain() && p.dup());
    assert_eq!(p.packet_id(), Some(PacketId::new(0x1234).unwrap()));
    assert!(p.payload().is_empty());
    assert_eq!(
        encode(&p, ProtocolVersion::V311),
        b"\x3D\x07\x00\x03a/b\x12\x34"
    );
}

#[test]
fn v5_vector_with_properties() {
    // QoS 1, id 1, properties: payload format 1, topic alias 5, user property ("k","v").
    let bytes = b"\x32\x16\x00\x01t\x00\x01\x0C\x01\x01\x23\x00\x05\x26\x00\x01k\x00\x01vdata";
    let p = decode(bytes, ProtocolVersion::V5, Direction::FromClient).unwrap();
    assert_eq!(
        p.properties().payload_format_indicator,
        Some(PayloadFormat::Utf8)
    );
    assert_eq!(
        p.properties().topic_alias,
        Some(TopicAlias::new(5).unwrap())
    );
    assert_eq!(p.properties().user_properties.len(), 1);
    assert_eq!(p.payload(), &b"data"[..]);
    assert_eq!(
        encode(&p, ProtocolVersion::V5),
        bytes,
        "byte-identical re-encoding"
    );
}

fn expect(result: Result<Publish, Error>, malformed: bool, spec_ref: &str) {
    let err = result.unwrap_err();
    assert_eq!(
        err.kind() == ErrorKind::MalformedPacket,
        malformed,
        "{err:?}"
    );
    assert!(
        matches!(err.kind(), ErrorKind::MalformedPacket | ErrorKind::Protocol),
        "{err:?}"
    );
    assert_eq!(err.spec_ref(), Some(spec_ref), "{err:?}");
}

#[test]
fn checklist_rows() {
    let v311 = ProtocolVersion::V311;
    let client = Direction::FromClient;
    // Topic names: no wildcards [MQTT-3.3.2-2], no U+0000, well-formed UTF-8.
    expect(
        decode(b"\x30\x05\x00\x03a/+", v311, client),
        true,
        "MQTT-3.3.2-2",
    );
    expect(
        decode(b"\x30\x05\x00\x03a/#", v311, client),
        true,
        "MQTT-3.3.2-2",
    );
    expect(
        decode(b"\x30\x05\x00\x03a\x00b", v311, client),
        true,
        "MQTT-4.7.3-2",
    );
    expect(
        decode(b"\x30\x05\x00\x03\xED\xA0\x80", v311, client),
        true,
        "MQTT-1.5.4-1",
    );
    // Packet identifier 0 [MQTT-2.2.1-3].
    expect(
        decode(b"\x32\x05\x00\x01a\x00\x00", v311, client),
        false,
        "MQTT-2.2.1-3",
    );
    // Empty topic: 3.1.1 never (CVE-2021-34432); 5.0 only with a Topic Alias.
    expect(
        decode(b"\x30\x02\x00\x00", v311, client),
        false,
        "MQTT-4.7.3-1",
    );
    expect(
        decode(b"\x30\x03\x00\x00\x00", ProtocolVersion::V5, client),
        false,
        "MQTT-4.7.3-1",
    );
    let aliased = decode(
        b"\x30\x06\x00\x00\x03\x23\x00\x07",
        ProtocolVersion::V5,
        client,
    )
    .unwrap();
    assert!(aliased.topic().is_none());
    assert!(
        aliased.to_message().is_none(),
        "the receiver resolves the alias first"
    );
    // Topic Alias 0 [MQTT-3.3.2-8].
    let err = decode(
        b"\x30\x07\x00\x01a\x03\x23\x00\x00",
        ProtocolVersion::V5,
        client,
    )
    .unwrap_err();
    assert_eq!(err.reason_code(), ReasonCode::TopicAliasInvalid);
    // Subscription identifiers: only from a server [MQTT-3.3.4-6], and then repeatable.
    let bytes = b"\x30\x08\x00\x01a\x04\x0B\x01\x0B\x02";
    let err = decode(bytes, ProtocolVersion::V5, client).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err:?}");
    let p = decode(bytes, ProtocolVersion::V5, Direction::FromServer).unwrap();
    assert_eq!(p.properties().subscription_identifiers.len(), 2);
    expect(
        decode(
            b"\x30\x06\x00\x01a\x02\x0B\x01",
            ProtocolVersion::V5,
            client,
        ),
        false,
        "MQTT-3.3.4-6",
    );
}

#[test]
fn truncated_fields_are_malformed() {
    let v5 = ProtocolVersion::V5;
    let client = Direction::FromClient;
    for bytes in [
        &b"\x30\x01\x00"[..],         // topic length cut
        b"\x30\x03\x00\x05a",         // topic longer than the packet
        b"\x32\x04\x00\x01a\x00",     // packet identifier cut
        b"\x30\x05\x00\x01a\x05\x01", // property length past the packet
    ] {
        let err = decode(bytes, v5, client).unwrap_err();
        assert_eq!(
            err.reason_code(),
            ReasonCode::MalformedPacket,
            "{bytes:02x?}"
        );
    }
}

#[test]
fn the_payload_is_a_slice_of_the_frame() {
    let mut bytes = b"\x30\x85\x08\x00\x01a".to_vec();
    bytes.extend(std::iter::repeat_n(b'x', 1024 + 2));
    let frame_bytes = Bytes::from(bytes);
    let header = frame(&frame_bytes, Some(ProtocolVersion::V311), u32::MAX)
        .unwrap()
        .unwrap();
    let body = frame_bytes.slice(header.header_len..header.packet_len());
    let p = Publish::decode(
        &header,
        body.clone(),
        ProtocolVersion::V311,
        Direction::FromClient,
        Utf8Policy::Strict,
    )
    .unwrap();
    assert_eq!(p.payload().as_ptr(), body[3..].as_ptr());
    assert_eq!(p.payload().len(), 1026);
}

#[test]
fn properties_are_left_out_before_v5() {
    let message = Message::builder(TopicName::new("a").unwrap())
        .properties(PublishProperties {
            message_expiry_interval: Some(9),
            ..Default::default()
        })
        .build()
        .unwrap();
    let p = Publish::from_message(&message).unwrap();
    assert_eq!(encode(&p, ProtocolVersion::V311), b"\x30\x03\x00\x01a");
    assert_eq!(
        encode(&p, ProtocolVersion::V5),
        b"\x30\x09\x00\x01a\x05\x02\x00\x00\x00\x09"
    );
    let unnumbered = Message::builder(TopicName::new("a").unwrap())
        .qos(QoS::AtLeastOnce)
        .build()
        .unwrap();
    assert!(
        Publish::from_message(&unnumbered).is_err(),
        "QoS 1 needs its packet id first"
    );
}

#[test]
fn a_publish_takes_its_message_without_copying() {
    let payload = Bytes::from_static(b"twenty-three point five");
    let message = Message::builder(TopicName::new("a/b").unwrap())
        .payload(payload.clone())
        .qos(QoS::AtLeastOnce)
        .message_id(Some(PacketId::new(3).unwrap()))
        .properties(PublishProperties {
            content_type: Some(MqttString::new("text/plain").unwrap()),
            ..Default::default()
        })
        .build()
        .unwrap();
    let publish = Publish::try_from(message.clone()).unwrap();
    assert_eq!(publish.payload().as_ptr(), payload.as_ptr());
    assert_eq!(publish, Publish::from_message(&message).unwrap());
    assert_eq!(publish.to_message(), Some(message));

    let unnumbered = Message::builder(TopicName::new("a").unwrap())
        .qos(QoS::AtLeastOnce)
        .build()
        .unwrap();
    let err = Publish::try_from(unnumbered).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation);
    assert_eq!(err.field(), Some("message_id"));
    assert_eq!(
        err.violation(),
        Some(&Violation::PacketIdMissing {
            qos: QoS::AtLeastOnce
        })
    );
}

fn message() -> impl Strategy<Value = Message> {
    (
        "[a-z]{1,6}(/[a-z]{0,6}){0,3}",
        prop::collection::vec(any::<u8>(), 0..64),
        0..3u8,
        any::<bool>(),
        any::<bool>(),
        1u16..,
        prop::option::of(any::<u32>()),
        prop::collection::vec(("[a-z]{0,4}", "[a-z]{0,4}"), 0..3),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..8)),
    )
        .prop_map(
            |(topic, payload, qos, retain, dup, id, expiry, users, correlation)| {
                let qos = QoS::try_from(qos).unwrap();
                let numbered = qos != QoS::AtMostOnce;
                Message::builder(TopicName::new(&topic).unwrap())
                    .payload(payload)
                    .qos(qos)
                    .retain(retain)
                    .dup(dup && numbered)
                    .message_id(numbered.then(|| PacketId::new(id).unwrap()))
                    .properties(PublishProperties {
                        message_expiry_interval: expiry,
                        user_properties: users
                            .iter()
                            .map(|(k, v)| {
                                (MqttString::new(k).unwrap(), MqttString::new(v).unwrap())
                            })
                            .collect(),
                        correlation_data: correlation.map(|c| BinaryData::new(c).unwrap()),
                        subscription_identifiers: vec![SubscriptionId::new(3).unwrap()],
                        ..Default::default()
                    })
                    .build()
                    .unwrap()
            },
        )
}

proptest! {
    #[test]
    fn round_trips_in_every_version(message in message()) {
        for version in VERSIONS {
            let publish = Publish::from_message(&message).unwrap();
            let bytes = encode(&publish, version);
            let decoded = decode(&bytes, version, Direction::FromServer).unwrap();
            let expected = if version == ProtocolVersion::V5 {
                message.clone()
            } else {
                message.to_builder().properties(PublishProperties::default()).build().unwrap()
            };
            prop_assert_eq!(decoded.to_message().unwrap(), expected);
            prop_assert_eq!(encode(&decoded, version), bytes.clone(), "byte-identical");
            for end in 0..bytes.len() {
                prop_assert!(frame(&bytes[..end], Some(version), u32::MAX).unwrap().is_none());
            }
        }
    }

    #[test]
    fn arbitrary_bodies_never_panic(flags in 0u8..16, body in prop::collection::vec(any::<u8>(), 0..48)) {
        let mut bytes = vec![0x30 | flags, body.len() as u8];
        bytes.extend(&body);
        for version in VERSIONS {
            if let Ok(Some(header)) = frame(&bytes, Some(version), u32::MAX) {
                let body = Bytes::copy_from_slice(&bytes[header.header_len..]);
                for direction in [Direction::FromClient, Direction::FromServer] {
                    let _ = Publish::decode(&header, body.clone(), version, direction, Utf8Policy::Strict);
                }
            }
        }
    }
}

#[test]
fn a_malformed_publish_is_reported_as_a_violation() {
    let err = decode(
        b"\x30\x05\x00\x03a/+",
        ProtocolVersion::V311,
        Direction::FromClient,
    )
    .unwrap_err();
    assert_eq!(err.violation(), Some(&Violation::TopicNameHasWildcard));
}
