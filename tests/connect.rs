//! CONNECT and CONNACK on the wire: the CONNECT rows of SPEC-CHECKLIST, CONNACK flags
//! and codes, round trips in every version.

use bytes::{Bytes, BytesMut};
use mqtt_common::packet::wire::Utf8Policy;
use mqtt_common::packet::{Connack, Connect, Properties, PropertyValue, frame};
use mqtt_common::{
    ConnectReturnCode, Error, ErrorKind, Message, MqttString, PacketType, PropertyContext,
    PropertyId, ProtocolVersion, QoS, ReasonCode, TopicName, Violation, Will,
};
use proptest::prelude::*;

fn connect(bytes: &[u8]) -> Result<Connect, Error> {
    let header = frame(bytes, None, u32::MAX).unwrap().expect("complete");
    let body = Bytes::copy_from_slice(&bytes[header.header_len..header.packet_len()]);
    Connect::decode(&header, body, Utf8Policy::Strict)
}

fn connack(bytes: &[u8], version: ProtocolVersion) -> Result<Connack, Error> {
    let header = frame(bytes, Some(version), u32::MAX)
        .unwrap()
        .expect("complete");
    let body = Bytes::copy_from_slice(&bytes[header.header_len..header.packet_len()]);
    Connack::decode(&header, body, version, Utf8Policy::Strict)
}

fn encoded(encode: impl FnOnce(&mut BytesMut) -> Result<(), mqtt_common::Error>) -> Vec<u8> {
    let mut buf = BytesMut::new();
    encode(&mut buf).expect("encodes");
    buf.to_vec()
}

/// A CONNECT body after the protocol name and level: flags, keep alive 60, then `rest`.
fn v311(flags: u8, rest: &[u8]) -> Vec<u8> {
    let mut body = b"\x00\x04MQTT\x04".to_vec();
    body.push(flags);
    body.extend_from_slice(&[0x00, 0x3C]);
    body.extend_from_slice(rest);
    let mut bytes = vec![0x10, body.len() as u8];
    bytes.extend(body);
    bytes
}

#[test]
fn v311_vectors() {
    let bytes = v311(0x02, b"\x00\x03cli");
    let c = connect(&bytes).unwrap();
    assert_eq!(
        (c.protocol_version, c.clean_start, c.keep_alive),
        (ProtocolVersion::V311, true, 60)
    );
    assert_eq!(c.client_id, "cli");
    assert_eq!(encoded(|b| c.encode(b)), bytes);
    // Will (QoS 1, retain), user name and password.
    let bytes = v311(
        0xEE,
        b"\x00\x01c\x00\x03lwt\x00\x04gone\x00\x05alice\x00\x02pw",
    );
    let c = connect(&bytes).unwrap();
    let will = c.will.as_ref().unwrap();
    assert_eq!(
        (
            will.message.topic().as_str(),
            will.message.qos(),
            will.message.retain()
        ),
        ("lwt", QoS::AtLeastOnce, true)
    );
    assert_eq!(will.message.payload(), &b"gone"[..]);
    assert_eq!(
        (c.username.as_deref(), c.password.as_deref()),
        (Some("alice"), Some(&b"pw"[..]))
    );
    assert_eq!(encoded(|b| c.encode(b)), bytes);
}

#[test]
fn v31_uses_mqisdp() {
    let bytes = b"\x10\x0F\x00\x06MQIsdp\x03\x02\x00\x0A\x00\x01c";
    let c = connect(bytes).unwrap();
    assert_eq!(c.protocol_version, ProtocolVersion::V31);
    assert_eq!(encoded(|b| c.encode(b)), bytes);
}

fn flags_rule(bytes: &[u8]) -> &'static str {
    let err = connect(bytes).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MalformedPacket, "{err}");
    err.spec_ref().expect("a rule")
}

#[test]
fn connect_flag_rules() {
    assert_eq!(flags_rule(&v311(0x03, b"\x00\x01c")), "MQTT-3.1.2-3"); // reserved bit
    assert_eq!(flags_rule(&v311(0x0A, b"\x00\x01c")), "MQTT-3.1.2-11"); // Will QoS, no Will
    assert_eq!(flags_rule(&v311(0x22, b"\x00\x01c")), "MQTT-3.1.2-13"); // Will Retain, no Will
    assert_eq!(
        flags_rule(&v311(0x1E, b"\x00\x01c\x00\x01t\x00\x00")),
        "MQTT-3.1.2-14"
    ); // Will QoS 3
    assert_eq!(
        flags_rule(&v311(0x42, b"\x00\x01c\x00\x02pw")),
        "MQTT-3.1.2-22"
    ); // password alone
    // Flags announce fields that are missing, or fields follow that no flag announced.
    let err = connect(&v311(0x86, b"\x00\x01c")).unwrap_err();
    assert_eq!(err.reason_code(), ReasonCode::MalformedPacket);
    let err = connect(&v311(0x02, b"\x00\x01c\x00\x01x")).unwrap_err();
    assert!(matches!(
        err.violation(),
        Some(Violation::TrailingBytes { .. })
    ));
}

#[test]
fn protocol_name_and_level() {
    let err = connect(b"\x10\x0D\x00\x04MQTX\x04\x02\x00\x0A\x00\x01c").unwrap_err();
    assert!(matches!(
        err.violation(),
        Some(Violation::ProtocolNameMismatch { .. })
    ));
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert_eq!(err.spec_ref(), Some("MQTT-3.1.2-1"));
    let err = connect(b"\x10\x0D\x00\x04MQTT\x03\x02\x00\x0A\x00\x01c").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "level 3 goes with MQIsdp");
    let err = connect(b"\x10\x0D\x00\x04MQTT\x06\x02\x00\x0A\x00\x01c").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect);
    assert_eq!(
        err.return_code(),
        Some(ConnectReturnCode::UnacceptableProtocolVersion)
    );
    assert_eq!(err.reason_code(), ReasonCode::UnsupportedProtocolVersion);
}

#[test]
fn empty_client_ids() {
    // 3.1.1: only with Clean Session, else CONNACK 0x02 [MQTT-3.1.3-8].
    connect(&v311(0x02, b"\x00\x00")).unwrap();
    let err = connect(&v311(0x00, b"\x00\x00")).unwrap_err();
    assert_eq!(
        err.return_code(),
        Some(ConnectReturnCode::IdentifierRejected)
    );
    // 5.0: the server assigns one.
    let c = connect(b"\x10\x0D\x00\x04MQTT\x05\x00\x00\x0A\x00\x00\x00").unwrap();
    assert!(c.client_id.is_empty());
}

#[test]
fn v5_connect_with_properties_and_will() {
    let will_message = Message::builder(TopicName::new("status/c1").unwrap())
        .payload("offline")
        .qos(QoS::AtLeastOnce)
        .properties(mqtt_common::PublishProperties {
            message_expiry_interval: Some(30),
            ..Default::default()
        })
        .build()
        .unwrap();
    let properties = Properties::new(
        vec![
            (
                PropertyId::SessionExpiryInterval,
                PropertyValue::FourByteInteger(3600),
            ),
            (
                PropertyId::ReceiveMaximum,
                PropertyValue::TwoByteInteger(20),
            ),
            (
                PropertyId::UserProperty,
                PropertyValue::StringPair(
                    MqttString::new("k").unwrap(),
                    MqttString::new("v").unwrap(),
                ),
            ),
        ],
        PropertyContext::Packet(PacketType::Connect),
    )
    .unwrap();
    let c = Connect {
        protocol_version: ProtocolVersion::V5,
        clean_start: false,
        keep_alive: 30,
        client_id: MqttString::new("c1").unwrap(),
        will: Some(Will {
            message: will_message,
            delay_interval: 10,
        }),
        username: None,
        password: Some(Bytes::from_static(b"\x00token")), // 5.0 allows a password alone
        properties,
    };
    let bytes = encoded(|b| c.encode(b));
    assert_eq!(bytes.len(), c.encoded_len());
    let decoded = connect(&bytes).unwrap();
    assert_eq!(decoded, c);
    assert_eq!(
        decoded.properties.get(PropertyId::SessionExpiryInterval),
        Some(&PropertyValue::FourByteInteger(3600))
    );
    // A property CONNECT may not carry, and a Will property in the wrong place.
    let bad = Properties::new(
        vec![(PropertyId::TopicAlias, PropertyValue::TwoByteInteger(1))],
        PropertyContext::Packet(PacketType::Connect),
    );
    assert!(bad.is_err());
}

#[test]
fn connack_rules() {
    let ack = connack(b"\x20\x02\x01\x00", ProtocolVersion::V311).unwrap();
    assert!(ack.session_present());
    assert_eq!(ack.return_code(), Some(ConnectReturnCode::Accepted));
    let ack = connack(b"\x20\x02\x00\x05", ProtocolVersion::V311).unwrap();
    assert_eq!(ack.reason_code(), ReasonCode::NotAuthorized);
    assert_eq!(
        encoded(|b| ack.encode(ProtocolVersion::V311, b)),
        b"\x20\x02\x00\x05"
    );
    // Reserved flag bits [MQTT-3.2.2-1]; session present with a failure; unknown codes.
    for (bytes, version) in [
        (&b"\x20\x02\x02\x00"[..], ProtocolVersion::V311),
        (b"\x20\x02\x01\x04", ProtocolVersion::V311),
        (b"\x20\x02\x00\x06", ProtocolVersion::V311),
        (b"\x20\x03\x00\x10\x00", ProtocolVersion::V5),
        (b"\x20\x03\x01\x87\x00", ProtocolVersion::V5),
    ] {
        let err = connack(bytes, version).unwrap_err();
        assert_eq!(
            err.reason_code(),
            ReasonCode::MalformedPacket,
            "{bytes:02x?}"
        );
    }
    // 5.0 with properties; a 5.0 refusal 3.1.1 has no code for is refused, unless the
    // server asks for the closest 3.1.1 code explicitly.
    let properties = Properties::new(
        vec![(
            PropertyId::AssignedClientIdentifier,
            PropertyValue::String(MqttString::new("auto-1").unwrap()),
        )],
        PropertyContext::Packet(PacketType::Connack),
    )
    .unwrap();
    let ack = Connack::new(false, ReasonCode::Success, properties).unwrap();
    let bytes = encoded(|b| ack.encode(ProtocolVersion::V5, b));
    assert_eq!(connack(&bytes, ProtocolVersion::V5).unwrap(), ack);
    let banned = Connack::new(false, ReasonCode::Banned, Properties::default()).unwrap();
    let err = banned
        .encode(ProtocolVersion::V311, &mut BytesMut::new())
        .unwrap_err();
    assert_eq!(err.to_string(), "BANNED cannot be sent in MQTT 3.1.1");
    let refused = Connack::refusing(ReasonCode::Banned, ProtocolVersion::V311);
    assert_eq!(
        encoded(|b| refused.encode(ProtocolVersion::V311, b)),
        b"\x20\x02\x00\x05"
    );
    assert!(Connack::new(true, ReasonCode::Banned, Properties::default()).is_err());
    assert!(
        Connack::new(
            false,
            ReasonCode::NoMatchingSubscribers,
            Properties::default()
        )
        .is_err()
    );
}

fn version() -> impl Strategy<Value = ProtocolVersion> {
    prop_oneof![
        Just(ProtocolVersion::V31),
        Just(ProtocolVersion::V311),
        Just(ProtocolVersion::V5)
    ]
}

proptest! {
    #[test]
    fn connect_round_trips(version in version(), clean in any::<bool>(), keep_alive in any::<u16>(),
                           client in "[a-z0-9]{1,12}", will in prop::option::of(("[a-z]{1,8}", prop::collection::vec(any::<u8>(), 0..8), 0u8..3, any::<bool>(), any::<u32>())),
                           username in prop::option::of("[a-z]{0,8}"), password in prop::option::of(prop::collection::vec(any::<u8>(), 0..8))) {
        let will = will.map(|(topic, payload, qos, retain, delay)| Will {
            message: Message::builder(TopicName::new(&topic).unwrap()).payload(payload).qos(QoS::try_from(qos).unwrap()).retain(retain).build().unwrap(),
            delay_interval: if version == ProtocolVersion::V5 { delay } else { 0 },
        });
        // 3.x needs a user name for a password.
        let username = if version != ProtocolVersion::V5 && password.is_some() { Some(username.unwrap_or_default()) } else { username };
        let c = Connect {
            protocol_version: version,
            clean_start: clean,
            keep_alive,
            client_id: MqttString::new(&client).unwrap(),
            will,
            username: username.map(|u| MqttString::new(&u).unwrap()),
            password: password.map(Bytes::from),
            properties: Properties::default(),
        };
        let bytes = encoded(|b| c.encode(b));
        prop_assert_eq!(bytes.len(), c.encoded_len());
        prop_assert_eq!(connect(&bytes).unwrap(), c);
    }

    #[test]
    fn arbitrary_bodies_never_panic(body in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut bytes = vec![0x10, body.len() as u8];
        bytes.extend(&body);
        let _ = connect(&bytes);
        bytes[0] = 0x20;
        for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
            let _ = connack(&bytes, version);
        }
    }
}
