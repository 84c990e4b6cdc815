//! One test per SPEC-CHECKLIST row the codec owns, named after its MQTT 5.0 reference
//! (the 3.1.1 numbers are in each doc comment). Rows tested elsewhere under their own
//! names are not repeated here.

use bytes::Bytes;
use mqtt_common::codec::{Decoder, Packet, decode, encode};
use mqtt_common::packet::{Connack, Direction, Properties, PropertyValue, Publish};
use mqtt_common::{
    ConnectReturnCode, Error, ErrorKind, Message, MqttString, PacketType, PropertyContext,
    PropertyId, ProtocolVersion, QoS, ReasonCode, Subscription, SubscriptionIndex, TopicFilter,
    TopicName,
};

const V311: ProtocolVersion = ProtocolVersion::V311;
const V5: ProtocolVersion = ProtocolVersion::V5;

fn from_client(bytes: &[u8], version: ProtocolVersion) -> Result<Packet, Error> {
    decode(
        Bytes::copy_from_slice(bytes),
        version,
        Direction::FromClient,
    )
}

fn kind(bytes: &[u8], version: ProtocolVersion) -> ErrorKind {
    from_client(bytes, version)
        .expect_err("must be refused")
        .kind()
}

/// A packet: the first byte, a one-byte remaining length, the body.
fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut bytes = vec![first, u8::try_from(body.len()).unwrap()];
    bytes.extend_from_slice(body);
    bytes
}

/// A length-prefixed field.
fn field(bytes: &[u8]) -> Vec<u8> {
    let mut out = u16::try_from(bytes.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(bytes);
    out
}

/// A QoS 0 PUBLISH (3.1.1) with this raw topic.
fn publish_with_topic(topic: &[u8]) -> Vec<u8> {
    packet(0x30, &[field(topic), b"x".to_vec()].concat())
}

/// A 3.1.1 CONNECT with these flags and payload.
fn connect_311(flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut body = field(b"MQTT");
    body.extend_from_slice(&[4, flags, 0, 60]);
    body.extend_from_slice(payload);
    packet(0x10, &body)
}

const ILL_FORMED: [&[u8]; 5] = [
    b"\xED\xA0\x80",     // a surrogate
    b"\xC0\x80",         // overlong NUL
    b"\xF5\x80\x80\x80", // beyond U+10FFFF
    b"\xE2\x82",         // truncated
    b"\x80",             // lone continuation byte
];

/// [MQTT-1.5.4-1] (3.1.1: [MQTT-1.5.3-1]) and CVE-2017-7653: strings are well-formed UTF-8,
/// so nothing ill-formed is decoded and forwarded.
#[test]
fn mqtt_1_5_4_1_cve_2017_7653_ill_formed_utf8_is_malformed() {
    for bad in ILL_FORMED {
        assert_eq!(
            kind(&publish_with_topic(bad), V311),
            ErrorKind::MalformedPacket,
            "{bad:02x?}"
        );
    }
}

/// [MQTT-1.5.4-2] (3.1.1: [MQTT-1.5.3-2]): no U+0000, in any kind of string.
#[test]
fn mqtt_1_5_4_2_no_nul_in_any_string() {
    assert_eq!(
        kind(&publish_with_topic(b"a\0b"), V311),
        ErrorKind::MalformedPacket
    );
    let client_id = connect_311(0x02, &field(b"c\0"));
    assert_eq!(kind(&client_id, V311), ErrorKind::MalformedPacket);
    let username = connect_311(0x82, &[field(b"c"), field(b"u\0")].concat());
    assert_eq!(kind(&username, V311), ErrorKind::MalformedPacket);
    let filter = packet(0x82, &[vec![0, 1], field(b"a\0"), vec![0]].concat());
    assert_eq!(kind(&filter, V311), ErrorKind::MalformedPacket);
    // A v5 User Property value.
    let property = [vec![0x26], field(b"k"), field(b"v\0")].concat();
    let publish = [
        field(b"t"),
        vec![u8::try_from(property.len()).unwrap()],
        property,
    ]
    .concat();
    assert_eq!(
        kind(&packet(0x30, &publish), V5),
        ErrorKind::MalformedPacket
    );
}

/// [MQTT-1.5.4-3] (3.1.1: [MQTT-1.5.3-3]): a BOM is kept as U+FEFF, not stripped.
#[test]
fn mqtt_1_5_4_3_bom_is_kept() {
    let bytes = publish_with_topic("\u{FEFF}a".as_bytes());
    let Packet::Publish(publish) = from_client(&bytes, V311).unwrap() else {
        panic!("a PUBLISH");
    };
    assert_eq!(publish.topic().unwrap().as_str(), "\u{FEFF}a");
    assert_eq!(
        encode(&Packet::Publish(publish), V311).unwrap().as_ref(),
        &bytes[..]
    );
}

/// [MQTT-2.2.1-2] (3.1.1: [MQTT-2.3.1-5]): a QoS 0 PUBLISH has no packet identifier.
#[test]
fn mqtt_2_2_1_2_qos_0_publish_has_no_packet_id() {
    let message = Message::builder(TopicName::new("a").unwrap())
        .payload(&b"x"[..])
        .build()
        .unwrap();
    let bytes = encode(
        &Packet::Publish(Publish::from_message(&message).unwrap()),
        V311,
    )
    .unwrap();
    assert_eq!(bytes.as_ref(), b"\x30\x04\x00\x01ax");
    let Packet::Publish(publish) = from_client(&bytes, V311).unwrap() else {
        panic!("a PUBLISH");
    };
    assert_eq!(
        (publish.packet_id(), publish.payload().as_ref()),
        (None, &b"x"[..])
    );
}

/// [MQTT-2.2.1-3] (3.1.1: [MQTT-2.3.1-1]): SUBSCRIBE, UNSUBSCRIBE and PUBLISH QoS > 0
/// carry a non-zero packet identifier.
#[test]
fn mqtt_2_2_1_3_packet_ids_are_non_zero() {
    let publish = packet(0x32, &[field(b"a"), vec![0, 0]].concat());
    let subscribe = packet(0x82, &[vec![0, 0], field(b"a"), vec![0]].concat());
    let unsubscribe = packet(0xA2, &[vec![0, 0], field(b"a")].concat());
    for bytes in [publish, subscribe, unsubscribe] {
        assert_eq!(kind(&bytes, V311), ErrorKind::Protocol, "{bytes:02x?}");
    }
}

/// [MQTT-2.2.1-5] (3.1.1: [MQTT-2.3.1-6]): an acknowledgement carries the identifier of
/// the packet it acknowledges (the codec keeps it exactly; the session matches it).
#[test]
fn mqtt_2_2_1_5_acks_carry_the_packet_id() {
    for first in [0x40, 0x50, 0x62, 0x70] {
        let packet = from_client(&[first, 2, 0x12, 0x34], V311).unwrap();
        let id = match packet {
            Packet::Puback(p) => p.packet_id(),
            Packet::Pubrec(p) => p.packet_id(),
            Packet::Pubrel(p) => p.packet_id(),
            Packet::Pubcomp(p) => p.packet_id(),
            other => panic!("{other:?}"),
        };
        assert_eq!(id.get(), 0x1234);
    }
}

/// [MQTT-3.6.1-1], [MQTT-3.8.1-1], [MQTT-3.10.1-1]: PUBREL, SUBSCRIBE and UNSUBSCRIBE
/// have flags 0010; anything else is malformed.
#[test]
fn mqtt_3_6_1_1_and_3_8_1_1_and_3_10_1_1_flags_are_0010() {
    let subscribe = [vec![0, 1], field(b"a"), vec![0]].concat();
    let unsubscribe = [vec![0, 1], field(b"a")].concat();
    for (good, bad, body) in [
        (0x62, 0x60, vec![0, 1]),
        (0x82, 0x83, subscribe),
        (0xA2, 0xA0, unsubscribe),
    ] {
        assert!(
            from_client(&packet(good, &body), V311).is_ok(),
            "{good:02x}"
        );
        assert_eq!(
            kind(&packet(bad, &body), V311),
            ErrorKind::MalformedPacket,
            "{bad:02x}"
        );
    }
}

/// [MQTT-3.14.1-1], [MQTT-3.15.1-1]: DISCONNECT and AUTH flags are 0000.
#[test]
fn mqtt_3_14_1_1_and_3_15_1_1_disconnect_and_auth_flags_are_zero() {
    assert!(from_client(b"\xE0\x00", V5).is_ok());
    assert_eq!(kind(b"\xE1\x00", V5), ErrorKind::MalformedPacket);
    assert!(from_client(b"\xF0\x00", V5).is_ok());
    assert_eq!(kind(b"\xF8\x00", V5), ErrorKind::MalformedPacket);
}

/// [MQTT-3.1.2-9] and [MQTT-3.1.2-12]: a Will Flag of 1 needs the will topic and payload,
/// and the Will QoS is never 3.
#[test]
fn mqtt_3_1_2_9_will_fields_are_present_and_will_qos_is_not_3() {
    assert_eq!(
        kind(&connect_311(0x06, &field(b"c")), V311),
        ErrorKind::MalformedPacket
    );
    let will = [field(b"c"), field(b"lwt"), field(b"bye")].concat();
    assert!(from_client(&connect_311(0x06, &will), V311).is_ok());
    assert_eq!(
        kind(&connect_311(0x1E, &will), V311),
        ErrorKind::MalformedPacket
    );
}

/// [MQTT-3.1.2-17] and [MQTT-3.1.2-19] (3.1.1: [MQTT-3.1.2-18..21]): the User Name and
/// Password flags say whether the fields are present.
#[test]
fn mqtt_3_1_2_18_to_3_1_2_21_user_name_and_password_flags_match_the_fields() {
    assert_eq!(
        kind(&connect_311(0x82, &field(b"c")), V311),
        ErrorKind::MalformedPacket
    );
    let both = [field(b"c"), field(b"u"), field(b"p")].concat();
    assert!(from_client(&connect_311(0xC2, &both), V311).is_ok());
    assert_eq!(
        kind(
            &connect_311(0xC2, &[field(b"c"), field(b"u")].concat()),
            V311
        ),
        ErrorKind::MalformedPacket
    );
    // Fields present without their flags are bytes after the packet.
    assert_eq!(
        kind(&connect_311(0x02, &both), V311),
        ErrorKind::MalformedPacket
    );
}

/// [MQTT-3.1.3-1]: the payload is client id, will properties, will topic, will payload,
/// user name, password, in that order.
#[test]
fn mqtt_3_1_3_1_payload_field_order() {
    let payload = [
        field(b"cid"),
        field(b"wt"),
        field(b"wp"),
        field(b"user"),
        field(b"pass"),
    ]
    .concat();
    let bytes = connect_311(0xC6, &payload);
    let Packet::Connect(connect) = from_client(&bytes, V311).unwrap() else {
        panic!("a CONNECT");
    };
    let will = connect.will.as_ref().unwrap();
    assert_eq!(connect.client_id.as_str(), "cid");
    assert_eq!(
        (
            will.message.topic().as_str(),
            will.message.payload().as_ref()
        ),
        ("wt", &b"wp"[..])
    );
    assert_eq!(connect.username.as_ref().unwrap().as_str(), "user");
    assert_eq!(connect.password.as_deref(), Some(&b"pass"[..]));
    assert_eq!(
        encode(&Packet::Connect(connect), V311).unwrap().as_ref(),
        &bytes[..]
    );
}

/// [MQTT-3.1.3-4] and [MQTT-3.1.3-5]: the client id is UTF-8, and 1-23 characters of
/// `[0-9a-zA-Z]` are always accepted.
#[test]
fn mqtt_3_1_3_5_client_ids_of_23_alphanumerics_are_accepted() {
    let id = b"abcdefghijklmnopqrstuV9";
    assert!(from_client(&connect_311(0x02, &field(id)), V311).is_ok());
    assert_eq!(
        kind(&connect_311(0x02, &field(b"\xC0\x80")), V311),
        ErrorKind::MalformedPacket
    );
}

/// [MQTT-3.1.3-6], [MQTT-3.1.3-7] and [MQTT-3.2.2-16]: an empty client id needs Clean
/// Session in 3.1.1 (else return code 2); in 5.0 the server assigns one and says so in
/// CONNACK's Assigned Client Identifier.
#[test]
fn mqtt_3_1_3_6_empty_client_ids() {
    assert!(from_client(&connect_311(0x02, &field(b"")), V311).is_ok());
    let refused = from_client(&connect_311(0x00, &field(b"")), V311).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Connect);
    assert_eq!(
        refused.return_code(),
        Some(ConnectReturnCode::IdentifierRejected)
    );

    let assigned = Properties::new(
        vec![(
            PropertyId::AssignedClientIdentifier,
            PropertyValue::String(MqttString::new("auto-1").unwrap()),
        )],
        PropertyContext::Packet(PacketType::Connack),
    )
    .unwrap();
    let connack = Packet::Connack(Connack::new(false, ReasonCode::Success, assigned).unwrap());
    let bytes = encode(&connack, V5).unwrap();
    assert_eq!(decode(bytes, V5, Direction::FromServer).unwrap(), connack);
}

/// [MQTT-3.1.3-10] and [MQTT-3.1.3-11] (3.1.1: [MQTT-3.1.3-10/11]): the will topic and
/// the user name are UTF-8 strings.
#[test]
fn mqtt_3_1_3_10_will_topic_and_user_name_are_utf8() {
    let will = [field(b"c"), field(b"\xED\xA0\x80"), field(b"x")].concat();
    assert_eq!(
        kind(&connect_311(0x06, &will), V311),
        ErrorKind::MalformedPacket
    );
    let user = [field(b"c"), field(b"\xC0\x80")].concat();
    assert_eq!(
        kind(&connect_311(0x82, &user), V311),
        ErrorKind::MalformedPacket
    );
}

/// [MQTT-3.3.2-1], [MQTT-3.3.2-2] and [MQTT-4.7.0-1]: the topic name is the first field of
/// the variable header, a UTF-8 string, and holds no wildcard.
#[test]
fn mqtt_3_3_2_1_and_3_3_2_2_topic_name_first_utf8_without_wildcards() {
    let Packet::Publish(publish) = from_client(&publish_with_topic(b"a/b"), V311).unwrap() else {
        panic!("a PUBLISH");
    };
    assert_eq!(publish.topic().unwrap().as_str(), "a/b");
    assert_eq!(publish.payload().as_ref(), b"x");
    for topic in ILL_FORMED {
        assert_eq!(
            kind(&publish_with_topic(topic), V311),
            ErrorKind::MalformedPacket
        );
    }
    for topic in [&b"a/+"[..], b"#", b"a/#", b"+"] {
        assert!(
            from_client(&publish_with_topic(topic), V311).is_err(),
            "{topic:?}"
        );
    }
}

/// A v5 QoS 0 PUBLISH to "t" with one property.
fn publish_with_property(id: u8, value: &[u8]) -> Vec<u8> {
    let property = [vec![id], field(value)].concat();
    packet(
        0x30,
        &[
            field(b"t"),
            vec![u8::try_from(property.len()).unwrap()],
            property,
        ]
        .concat(),
    )
}

/// [MQTT-3.3.2-13] and [MQTT-3.3.2-14]: the Response Topic is UTF-8 and a topic name.
#[test]
fn mqtt_3_3_2_13_response_topic_is_a_utf8_topic_name() {
    assert!(from_client(&publish_with_property(0x08, b"reply/1"), V5).is_ok());
    assert_eq!(
        kind(&publish_with_property(0x08, b"\xED\xA0\x80"), V5),
        ErrorKind::MalformedPacket
    );
    assert!(from_client(&publish_with_property(0x08, b"reply/+"), V5).is_err());
}

/// [MQTT-3.3.2-19]: the Content Type is UTF-8.
#[test]
fn mqtt_3_3_2_19_content_type_is_utf8() {
    assert!(from_client(&publish_with_property(0x03, b"text/plain"), V5).is_ok());
    assert_eq!(
        kind(&publish_with_property(0x03, b"\xC0\x80"), V5),
        ErrorKind::MalformedPacket
    );
}

/// [MQTT-3.8.3-1] and [MQTT-3.10.3-1]: SUBSCRIBE and UNSUBSCRIBE filters are UTF-8.
#[test]
fn mqtt_3_8_3_1_and_3_10_3_1_filters_are_utf8() {
    for bad in ILL_FORMED {
        let subscribe = packet(0x82, &[vec![0, 1], field(bad), vec![0]].concat());
        assert_eq!(
            kind(&subscribe, V311),
            ErrorKind::MalformedPacket,
            "{bad:02x?}"
        );
        let unsubscribe = packet(0xA2, &[vec![0, 1], field(bad)].concat());
        assert_eq!(
            kind(&unsubscribe, V311),
            ErrorKind::MalformedPacket,
            "{bad:02x?}"
        );
    }
}

fn from_server(bytes: &[u8], version: ProtocolVersion) -> Result<Packet, Error> {
    decode(
        Bytes::copy_from_slice(bytes),
        version,
        Direction::FromServer,
    )
}

/// [MQTT-2.2.1-4] and [MQTT-2.2.1-6]: the same identifier rules for what a server sends.
#[test]
fn mqtt_2_2_1_4_and_2_2_1_6_server_packet_ids() {
    let publish = packet(0x32, &[field(b"a"), vec![0, 0]].concat());
    assert_eq!(
        from_server(&publish, V311).unwrap_err().kind(),
        ErrorKind::Protocol
    );
    let Packet::Suback(suback) = from_server(b"\x90\x03\x12\x34\x01", V311).unwrap() else {
        panic!("a SUBACK");
    };
    assert_eq!(suback.packet_id().get(), 0x1234);
    assert_eq!(
        from_server(b"\x90\x03\x00\x00\x01", V311)
            .unwrap_err()
            .kind(),
        ErrorKind::Protocol
    );
}

/// [MQTT-4.13.1-1] and [MQTT-4.13.2-1] (3.1.1: [MQTT-4.8.0-1]): after a malformed packet
/// or a protocol error the connection closes, so the decoder stays failed and keeps
/// nothing buffered.
#[test]
fn mqtt_4_13_1_1_and_4_13_2_1_errors_end_the_stream() {
    let connect = connect_311(0x02, &field(b"c"));
    for (bad, kind) in [
        (&b"\x41\x02\x00\x01"[..], ErrorKind::MalformedPacket),
        (&b"\x20\x02\x00\x00"[..], ErrorKind::Protocol), // a CONNACK from a client
    ] {
        let mut decoder = Decoder::new(Direction::FromClient);
        decoder.feed(&connect);
        decoder.feed(bad);
        decoder.feed(b"\xC0\x00");
        assert!(matches!(
            decoder.next_packet(),
            Ok(Some(Packet::Connect(_)))
        ));
        assert_eq!(decoder.next_packet().unwrap_err().kind(), kind);
        assert_eq!(decoder.buffered(), 0);
        decoder.feed(b"\xC0\x00");
        assert_eq!(
            decoder.next_packet().unwrap_err().kind(),
            kind,
            "still failed"
        );
        assert_eq!(decoder.buffered(), 0);
    }
}

/// Bytes that are not UTF-8 and hold a NUL: fine wherever the spec says binary.
const BINARY: &[u8] = b"\x00\xFF\xED\xA0\x80";

/// §1.5.6 and §3.1.3.6 (3.1.1: §3.1.3.5): the Password, the Will Payload, Correlation Data
/// and Authentication Data are binary data, kept byte for byte.
#[test]
fn s1_5_6_binary_data_is_kept_as_it_is() {
    // User Name, Password and Will flags, Clean Session: client id, will topic, will
    // payload, user name, password.
    let payload = [
        field(b"c"),
        field(b"w"),
        field(BINARY),
        field(b"u"),
        field(BINARY),
    ]
    .concat();
    let Packet::Connect(connect) = from_client(&connect_311(0xC6, &payload), V311).unwrap() else {
        panic!("a CONNECT");
    };
    assert_eq!(connect.password.as_deref(), Some(BINARY));
    assert_eq!(connect.will.unwrap().message.payload().as_ref(), BINARY);

    let Packet::Publish(publish) = from_client(&publish_with_property(0x09, BINARY), V5).unwrap()
    else {
        panic!("a PUBLISH");
    };
    let data = publish.properties().correlation_data.as_ref().unwrap();
    assert_eq!(&data[..], BINARY);

    // AUTH, Continue Authentication: Authentication Method "x", then the data.
    let properties = [vec![0x15], field(b"x"), vec![0x16], field(BINARY)].concat();
    let auth = packet(
        0xF0,
        &[
            vec![0x18, u8::try_from(properties.len()).unwrap()],
            properties,
        ]
        .concat(),
    );
    let Packet::Auth(auth) = from_client(&auth, V5).unwrap() else {
        panic!("an AUTH");
    };
    assert_eq!(
        auth.properties().get(PropertyId::AuthenticationData),
        Some(&PropertyValue::Binary(Bytes::from_static(BINARY)))
    );
}

/// [MQTT-3.2.2-15]: a packet over the receiver's Maximum Packet Size is refused with reason
/// 0x95 (Packet too large), from its fixed header alone.
#[test]
fn mqtt_3_2_2_15_a_packet_over_the_maximum_size_is_0x95() {
    let mut decoder = Decoder::new(Direction::FromClient).with_max_packet_size(64);
    decoder.feed(&connect_311(0x02, &field(b"c")));
    assert!(matches!(
        decoder.next_packet(),
        Ok(Some(Packet::Connect(_)))
    ));
    decoder.feed(&[0x30, 0x7F]); // 129 bytes announced, none of them sent
    let err = decoder.next_packet().unwrap_err();
    assert_eq!(err.reason_code(), ReasonCode::PacketTooLarge);
    assert_eq!(err.kind(), ErrorKind::Protocol);
}

/// 3.1.1 [MQTT-2.2.2-2]: a packet with invalid flags closes the connection, so nothing
/// after it is decoded.
#[test]
fn mqtt_2_2_2_2_invalid_flags_close_the_connection() {
    let mut decoder = Decoder::new(Direction::FromClient).with_version(V311);
    decoder.feed(&connect_311(0x02, &field(b"c")));
    assert!(matches!(
        decoder.next_packet(),
        Ok(Some(Packet::Connect(_)))
    ));
    decoder.feed(b"\x63\x02\x00\x01"); // PUBREL with flags 0011
    decoder.feed(b"\xC0\x00"); // a good PINGREQ after it
    let err = decoder.next_packet().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MalformedPacket);
    assert!(decoder.next_packet().is_err(), "the PINGREQ is never read");
}

/// [MQTT-3.2.2-1] (3.1.1: §3.2.2.1): bits 7-1 of the CONNACK Acknowledge Flags are 0.
#[test]
fn mqtt_3_2_2_1_connack_acknowledge_flags() {
    for version in [V311, V5] {
        let connack = if version == V5 {
            &b"\x20\x03\x01\x00\x00"[..]
        } else {
            b"\x20\x02\x01\x00"
        };
        let Packet::Connack(connack) = from_server(connack, version).unwrap() else {
            panic!("a CONNACK");
        };
        assert!(connack.session_present());
        for flags in [0x02, 0x80, 0xFE] {
            let bytes = [0x20, 0x02, flags, 0x00];
            let err = from_server(&bytes, version).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::MalformedPacket, "{flags:#04x}");
        }
    }
}

/// [MQTT-3.1.2-11], [MQTT-3.1.2-13] and [MQTT-3.1.2-15]: with the Will Flag 0, Will QoS and
/// Will Retain are 0.
#[test]
fn mqtt_3_1_2_11_13_15_no_will_means_will_qos_and_retain_0() {
    for flags in [0x0A, 0x12, 0x22] {
        let err = from_client(&connect_311(flags, &field(b"c")), V311).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MalformedPacket, "{flags:#04x}");
    }
    assert!(from_client(&connect_311(0x02, &field(b"c")), V311).is_ok());
}

/// 3.1.1 [MQTT-3.1.2-22]: the Password Flag needs the User Name Flag (5.0 dropped the rule).
#[test]
fn mqtt_3_1_2_22_v311_password_needs_a_user_name() {
    let payload = [field(b"c"), field(b"pw")].concat();
    let err = from_client(&connect_311(0x42, &payload), V311).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MalformedPacket);
    // 5.0: a password alone is allowed.
    let mut body = field(b"MQTT");
    body.extend_from_slice(&[5, 0x42, 0, 60, 0]);
    body.extend_from_slice(&payload);
    let Packet::Connect(connect) = from_client(&packet(0x10, &body), V5).unwrap() else {
        panic!("a CONNECT");
    };
    assert_eq!(connect.password.as_deref(), Some(&b"pw"[..]));
    assert_eq!(connect.username, None);
}

/// [MQTT-4.7.3-1] and CVE-2021-34432: a topic name has at least one character; 5.0 allows
/// an empty one only with a Topic Alias, which then names the topic.
#[test]
fn mqtt_4_7_3_1_cve_2021_34432_empty_topic_names() {
    let err = from_client(&publish_with_topic(b""), V311).unwrap_err();
    assert_eq!(err.spec_ref(), Some("MQTT-4.7.3-1"));
    let empty_v5 = packet(0x30, &[field(b""), vec![0], b"x".to_vec()].concat());
    assert_eq!(kind(&empty_v5, V5), ErrorKind::Protocol);
    let with_alias = packet(
        0x30,
        &[field(b""), vec![3, 0x23, 0, 1], b"x".to_vec()].concat(),
    );
    let Packet::Publish(publish) = from_client(&with_alias, V5).unwrap() else {
        panic!("a PUBLISH");
    };
    assert_eq!(publish.topic(), None, "the alias names it");
    assert!(TopicName::new("").is_err());
}

/// [MQTT-4.7.3-2]..[MQTT-4.7.3-4]: no U+0000 in a topic, at most 65,535 bytes, and no
/// normalisation when matching.
#[test]
fn mqtt_4_7_3_2_to_4_7_3_4_topic_content_length_and_no_normalisation() {
    assert_eq!(
        kind(&publish_with_topic(b"a\x00b"), V311),
        ErrorKind::MalformedPacket
    );
    assert!(TopicName::new(&"a".repeat(65_535)).is_ok());
    assert!(TopicName::new(&"a".repeat(65_536)).is_err());
    // "café" composed (U+00E9) and decomposed (e + U+0301) are different topics.
    let composed = TopicName::new("caf\u{e9}").unwrap();
    assert!(!TopicFilter::new("cafe\u{301}").unwrap().matches(&composed));
    assert!(TopicFilter::new("caf\u{e9}").unwrap().matches(&composed));
    assert!(!TopicFilter::new("CAF\u{c9}").unwrap().matches(&composed));
}

/// [MQTT-3.3.4-6]: a PUBLISH from a client carries no Subscription Identifier.
#[test]
fn mqtt_3_3_4_6_no_subscription_identifier_from_a_client() {
    let publish = packet(
        0x30,
        &[field(b"t"), vec![2, 0x0B, 1], b"x".to_vec()].concat(),
    );
    let err = from_client(&publish, V5).unwrap_err();
    assert_eq!(err.spec_ref(), Some("MQTT-3.3.4-6"));
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(from_server(&publish, V5).is_ok());
}

/// [MQTT-3.3.2-4], [MQTT-3.3.2-15]..[MQTT-3.3.2-18] and [MQTT-3.3.2-20]: the Payload Format
/// Indicator, Content Type, Response Topic, Correlation Data and User Properties (in
/// their order) reach subscribers unaltered.
#[test]
fn mqtt_3_3_2_4_forwarded_properties_are_unaltered() {
    let properties = [
        vec![0x01, 1],
        vec![0x03],
        field(b"text/plain"),
        vec![0x08],
        field(b"reply/to"),
        vec![0x09],
        field(BINARY),
        vec![0x26],
        field(b"z"),
        field(b"1"),
        vec![0x26],
        field(b"a"),
        field(b"2"),
    ]
    .concat();
    let bytes = packet(
        0x30,
        &[
            field(b"t"),
            vec![u8::try_from(properties.len()).unwrap()],
            properties,
            b"x".to_vec(),
        ]
        .concat(),
    );
    let Packet::Publish(received) = from_client(&bytes, V5).unwrap() else {
        panic!("a PUBLISH");
    };
    // What a broker does: the message out of the PUBLISH, then a new PUBLISH to deliver it.
    let message = received.to_message().unwrap();
    let forwarded = Packet::Publish(Publish::try_from(message).unwrap());
    assert_eq!(encode(&forwarded, V5).unwrap(), bytes);
}

/// [MQTT-3.8.3-2] and [MQTT-3.10.3-2] (3.1.1: [MQTT-3.8.3-3], [MQTT-3.10.3-2]): SUBSCRIBE and
/// UNSUBSCRIBE carry at least one filter.
#[test]
fn mqtt_3_8_3_2_and_3_10_3_2_at_least_one_filter() {
    for version in [V311, V5] {
        let no_properties = if version == V5 { vec![0] } else { vec![] };
        let id_only = [vec![0, 1], no_properties].concat();
        for (first, spec_ref) in [(0x82, "MQTT-3.8.3-2"), (0xA2, "MQTT-3.10.3-2")] {
            let err = from_client(&packet(first, &id_only), version).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Protocol, "{first:#04x}");
            assert_eq!(err.spec_ref(), Some(spec_ref));
        }
    }
}

/// [MQTT-4.7.1-1] (3.1.1: [MQTT-4.7.1-2]): `#` stands alone or after `/`, and last.
#[test]
fn mqtt_4_7_1_1_multi_level_wildcard_is_last() {
    for ok in ["#", "a/#", "a/b/#", "+/#"] {
        assert!(TopicFilter::new(ok).is_ok(), "{ok}");
    }
    for bad in ["a#", "a/#/b", "#/", "a/b#", "##"] {
        let err = TopicFilter::new(bad).unwrap_err();
        assert_eq!(err.spec_ref(), Some("MQTT-4.7.1-1"), "{bad}");
    }
}

/// [MQTT-4.7.1-2] (3.1.1: [MQTT-4.7.1-3]): `+` occupies a whole level.
#[test]
fn mqtt_4_7_1_2_single_level_wildcard_is_a_whole_level() {
    for ok in ["+", "a/+/b", "+/+", "/+"] {
        assert!(TopicFilter::new(ok).is_ok(), "{ok}");
    }
    for bad in ["a+", "+a", "a/b+", "a/+b/c"] {
        let err = TopicFilter::new(bad).unwrap_err();
        assert_eq!(err.spec_ref(), Some("MQTT-4.7.1-2"), "{bad}");
    }
}

/// [MQTT-4.7.2-1]: a filter that starts with a wildcard never matches a topic that starts
/// with `$`.
#[test]
fn mqtt_4_7_2_1_wildcards_do_not_match_dollar_topics() {
    let sys = TopicName::new("$SYS/uptime").unwrap();
    for filter in ["#", "+/uptime", "+/#"] {
        assert!(!TopicFilter::new(filter).unwrap().matches(&sys), "{filter}");
    }
    for filter in ["$SYS/#", "$SYS/+", "$SYS/uptime"] {
        assert!(TopicFilter::new(filter).unwrap().matches(&sys), "{filter}");
    }
}

/// [MQTT-4.8.2-1] and [MQTT-4.8.2-2]: `$share/<name>/<filter>`, the name at least one
/// character with no `/`, `+` or `#`, and a filter after it.
#[test]
fn mqtt_4_8_2_1_and_4_8_2_2_shared_subscriptions() {
    let filter = TopicFilter::new("$share/workers/site/+").unwrap();
    assert_eq!(filter.share_group(), Some("workers"));
    assert_eq!(filter.filter(), "site/+");
    for bad in [
        "$share//a",
        "$share/g+/a",
        "$share/g#/a",
        "$share/g",
        "$share/g/",
    ] {
        assert!(TopicFilter::new(bad).is_err(), "{bad}");
    }
}

/// [MQTT-3.10.4-1]: UNSUBSCRIBE compares filters character by character: no wildcard
/// expansion, no case folding.
#[test]
fn mqtt_3_10_4_1_unsubscribe_compares_filters_exactly() {
    let mut index = SubscriptionIndex::new();
    let subscribe =
        |text: &str| Subscription::new(TopicFilter::new(text).unwrap(), QoS::AtMostOnce);
    index.subscribe("c", subscribe("a/b")).unwrap();
    index.subscribe("c", subscribe("a/+")).unwrap();
    for other in ["a/#", "A/b", "a/b/", "+/b"] {
        let filter = TopicFilter::new(other).unwrap();
        assert!(index.unsubscribe("c", &filter).is_none(), "{other}");
    }
    assert!(
        index
            .unsubscribe("c", &TopicFilter::new("a/+").unwrap())
            .is_some()
    );
    assert!(
        index
            .unsubscribe("c", &TopicFilter::new("a/b").unwrap())
            .is_some()
    );
}

/// [MQTT-3.8.4-6] and [MQTT-3.11.3-1] (3.1.1: [MQTT-3.8.4-5], [MQTT-3.9.3-1]): a SUBACK
/// answers with one reason code per filter of its SUBSCRIBE, an UNSUBACK with one per
/// filter of its UNSUBSCRIBE, in order, each with the identifier of the packet it answers
/// ([MQTT-2.2.1-6]; 3.1.1: [MQTT-2.3.1-7]). The `answering` constructors hold a broker to it.
#[test]
fn mqtt_3_8_4_6_and_3_11_3_1_one_reason_code_per_filter() {
    use mqtt_common::packet::{AckProperties, Suback, Unsuback};
    let Packet::Subscribe(subscribe) =
        from_client(b"\x82\x0C\x00\x0A\x00\x03a/+\x01\x00\x01#\x02", V311).unwrap()
    else {
        panic!("a SUBSCRIBE");
    };
    let granted = vec![ReasonCode::GrantedQoS1, ReasonCode::UnspecifiedError];
    let suback = Suback::answering(&subscribe, granted, AckProperties::default()).unwrap();
    assert_eq!(suback.packet_id(), subscribe.packet_id());
    assert_eq!(
        encode(&Packet::Suback(suback), V311).unwrap(),
        &b"\x90\x04\x00\x0A\x01\x80"[..]
    );
    for count in [0, 1, 3] {
        let codes = vec![ReasonCode::Success; count];
        let err = Suback::answering(&subscribe, codes, AckProperties::default()).unwrap_err();
        assert_eq!(err.spec_ref(), Some("MQTT-3.8.4-6"), "{count}");
        assert_eq!(err.kind(), ErrorKind::Validation);
    }

    let Packet::Unsubscribe(unsubscribe) =
        from_client(b"\xA2\x08\x00\x0B\x00\x01a\x00\x01b", V311).unwrap()
    else {
        panic!("an UNSUBSCRIBE");
    };
    let codes = vec![ReasonCode::Success, ReasonCode::NoSubscriptionExisted];
    let unsuback = Unsuback::answering(&unsubscribe, codes, AckProperties::default()).unwrap();
    assert_eq!(
        encode(&Packet::Unsuback(unsuback), V5).unwrap(),
        &b"\xB0\x05\x00\x0B\x00\x00\x11"[..]
    );
    let err = Unsuback::answering(&unsubscribe, vec![], AckProperties::default()).unwrap_err();
    assert_eq!(err.spec_ref(), Some("MQTT-3.11.3-1"));
}

/// A stream of client packets through one server-side decoder: every packet decoded,
/// then the error, if any.
fn conversation(chunks: &[&[u8]]) -> (Vec<Packet>, Option<Error>) {
    let mut decoder = Decoder::new(Direction::FromClient);
    let mut packets = Vec::new();
    for chunk in chunks {
        decoder.feed(chunk);
        loop {
            match decoder.next_packet() {
                Ok(Some(packet)) => packets.push(packet),
                Ok(None) => break,
                Err(err) => return (packets, Some(err)),
            }
        }
    }
    (packets, None)
}

/// A 5.0 CONNECT of client "c" with these properties (already encoded, length first).
fn connect_5(properties: &[u8]) -> Vec<u8> {
    let mut body = field(b"MQTT");
    body.extend_from_slice(&[5, 0x02, 0, 60]);
    body.extend_from_slice(properties);
    body.extend_from_slice(&field(b"c"));
    packet(0x10, &body)
}

/// [MQTT-4.12.0-7]: a client whose CONNECT named no Authentication Method must not send
/// AUTH; the decoder answers with a Protocol Error.
#[test]
fn mqtt_4_12_0_7_auth_without_an_authentication_method() {
    let auth = b"\xF0\x00"; // AUTH, reason Success
    let (packets, err) = conversation(&[&connect_5(b"\x00"), auth]);
    assert_eq!(packets.len(), 1);
    let err = err.expect("AUTH refused");
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert_eq!(err.reason_code(), ReasonCode::ProtocolError);
    assert_eq!(err.spec_ref(), Some("MQTT-4.12.0-7"));
    // With an Authentication Method the exchange is allowed.
    let method = [&[0x08, 0x15][..], &field(b"SCRAM")[..]].concat();
    let continue_auth = [&[0xF0, 0x0A, 0x18, 0x08, 0x15][..], &field(b"SCRAM")[..]].concat();
    let (packets, err) = conversation(&[&connect_5(&method), &continue_auth]);
    assert!(err.is_none(), "{err:?}");
    assert!(matches!(packets[1], Packet::Auth(_)));
}

/// §3.14.2.2.2: "If the Session Expiry Interval in the CONNECT packet was zero, then it
/// is a Protocol Error to set a non-zero Session Expiry Interval in the DISCONNECT packet
/// sent by the Client."
#[test]
fn s3_14_2_2_2_disconnect_may_not_raise_a_zero_session_expiry() {
    // DISCONNECT, Normal disconnection, Session Expiry Interval 60.
    let raise = b"\xE0\x07\x00\x05\x11\x00\x00\x00\x3C";
    let (_, err) = conversation(&[&connect_5(b"\x00"), raise]);
    let err = err.expect("refused");
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert_eq!(err.spec_ref(), Some("§3.14.2.2.2"));
    // Setting 0 again, or changing a non-zero interval, is allowed.
    let zero = b"\xE0\x07\x00\x05\x11\x00\x00\x00\x00";
    assert!(conversation(&[&connect_5(b"\x00"), zero]).1.is_none());
    let nonzero = b"\x05\x11\x00\x00\x00\x0A"; // CONNECT's Session Expiry Interval 10
    assert!(conversation(&[&connect_5(nonzero), raise]).1.is_none());
}

/// A 3.1 CONNECT with these fixed-header flags, connect flags and client identifier.
fn connect_31(header_flags: u8, connect_flags: u8, client_id: &[u8]) -> Vec<u8> {
    let mut body = field(b"MQIsdp");
    body.extend_from_slice(&[3, connect_flags, 0, 60]);
    body.extend_from_slice(&field(client_id));
    packet(0x10 | header_flags, &body)
}

/// MQTT 3.1 §3.1: a client identifier has 1 to 23 characters; the server refuses any
/// other with CONNACK return code 2 (Identifier rejected).
#[test]
fn mqtt_3_1_client_identifiers_have_1_to_23_characters() {
    for client_id in [&b""[..], b"abcdefghijklmnopqrstuvwx"] {
        let err = from_client(&connect_31(0, 0x02, client_id), V311).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Connect, "{client_id:?}");
        assert_eq!(
            err.return_code(),
            Some(ConnectReturnCode::IdentifierRejected)
        );
        assert_eq!(err.spec_ref(), Some("MQTT 3.1 §3.1"));
    }
    // 23 characters, not bytes: "é" is one character in two bytes.
    let longest = "é".repeat(23);
    assert!(from_client(&connect_31(0, 0x02, longest.as_bytes()), V311).is_ok());
    assert!(from_client(&connect_31(0, 0x02, b"abcdefghijklmnopqrstuvw"), V311).is_ok());
}

/// MQTT 3.1 §3.1: the fixed-header flags and bit 0 of the connect flags of a 3.1 CONNECT
/// are "not used"; a level-3 CONNECT is judged by 3.1's rules, as mosquitto does, while
/// 3.1.1 and 5.0 reserve them ([MQTT-2.1.3-1], [MQTT-3.1.2-3]).
#[test]
fn mqtt_3_1_connect_flags_are_not_used() {
    for header_flags in [0b0001, 0b0010, 0b1111] {
        let connect = from_client(&connect_31(header_flags, 0x03, b"c"), V311);
        assert!(matches!(connect, Ok(Packet::Connect(_))), "{connect:?}");
    }
    let mut decoder = Decoder::new(Direction::FromClient);
    decoder.feed(&connect_31(0b0100, 0x03, b"c"));
    assert!(matches!(
        decoder.next_packet(),
        Ok(Some(Packet::Connect(_)))
    ));
    // 3.1.1 and 5.0 refuse both.
    let mut flagged = connect_311(0x02, &field(b"c"));
    flagged[0] |= 0b0001;
    let err = from_client(&flagged, V311).unwrap_err();
    assert_eq!(err.spec_ref(), Some("MQTT-2.1.3-1"));
    let err = from_client(&connect_311(0x03, &field(b"c")), V311).unwrap_err();
    assert_eq!(err.spec_ref(), Some("MQTT-3.1.2-3"));
}
