//! The Decoder and the Packet enum: streaming, direction, CONNECT first, versions, size
//! limits, poisoning, DISCONNECT and AUTH, and every packet type in every version.

use bytes::{Bytes, BytesMut};
use mqtt_common::codec::{Decoder, Packet, decode, encode};
use mqtt_common::packet::{
    AckProperties, Auth, Connack, Connect, Direction, Disconnect, Properties, PropertyValue,
    Puback, Pubcomp, Publish, Pubrec, Pubrel, Suback, Subscribe, Unsuback, Unsubscribe,
};
use mqtt_common::{
    Error, ErrorKind, Message, MqttString, PacketId, PacketType, PropertyContext, PropertyId,
    ProtocolVersion, QoS, ReasonCode, Subscription, TopicAlias, TopicFilter, TopicName, Violation,
};
use proptest::prelude::*;

fn id(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

fn connect(version: ProtocolVersion) -> Connect {
    Connect {
        protocol_version: version,
        clean_start: true,
        keep_alive: 30,
        client_id: MqttString::new("c1").unwrap(),
        will: None,
        username: None,
        password: None,
        properties: Properties::default(),
    }
}

fn publish(qos: QoS) -> Publish {
    let message = Message::builder(TopicName::new("a/b").unwrap())
        .payload("payload")
        .qos(qos)
        .message_id((qos != QoS::AtMostOnce).then(|| id(5)))
        .build()
        .unwrap();
    Publish::from_message(&message).unwrap()
}

/// One of every packet a client sends, CONNECT first.
fn client_packets(version: ProtocolVersion) -> Vec<Packet> {
    vec![
        Packet::Connect(Box::new(connect(version))),
        Packet::Publish(publish(QoS::AtMostOnce)),
        Packet::Publish(publish(QoS::ExactlyOnce)),
        Packet::Puback(Puback::new(id(1))),
        Packet::Pubrec(Pubrec::new(id(2))),
        Packet::Pubrel(Pubrel::new(id(3))),
        Packet::Pubcomp(Pubcomp::new(id(4))),
        Packet::Subscribe(
            Subscribe::new(
                id(6),
                vec![Subscription::new(
                    TopicFilter::new("a/#").unwrap(),
                    QoS::AtLeastOnce,
                )],
                vec![],
            )
            .unwrap(),
        ),
        Packet::Unsubscribe(
            Unsubscribe::new(id(7), vec![TopicFilter::new("a/#").unwrap()], vec![]).unwrap(),
        ),
        Packet::Pingreq,
        Packet::Disconnect(Disconnect::new(ReasonCode::Success, Properties::default()).unwrap()),
    ]
}

/// AUTH, which a client sends only after a CONNECT that names an Authentication Method
/// [MQTT-4.12.0-7], so it is not part of the streams above.
fn client_auth(version: ProtocolVersion) -> Vec<Packet> {
    let mut packets = Vec::new();
    if version == ProtocolVersion::V5 {
        let properties = Properties::new(
            vec![(
                PropertyId::AuthenticationMethod,
                PropertyValue::String(MqttString::new("SCRAM").unwrap()),
            )],
            PropertyContext::Packet(PacketType::Auth),
        )
        .unwrap();
        packets.push(Packet::Auth(
            Auth::new(ReasonCode::ContinueAuthentication, properties).unwrap(),
        ));
    }
    packets
}

/// One of every packet a server sends.
fn server_packets(version: ProtocolVersion) -> Vec<Packet> {
    let reasons = |codes: Vec<ReasonCode>| codes;
    vec![
        Packet::Connack(Connack::new(true, ReasonCode::Success, Properties::default()).unwrap()),
        Packet::Publish(publish(QoS::AtLeastOnce)),
        Packet::Puback(Puback::new(id(1))),
        Packet::Suback(
            Suback::new(
                id(6),
                reasons(vec![ReasonCode::GrantedQoS1]),
                AckProperties::default(),
            )
            .unwrap(),
        ),
        Packet::Unsuback(
            Unsuback::new(
                id(7),
                if version == ProtocolVersion::V5 {
                    vec![ReasonCode::Success]
                } else {
                    vec![]
                },
                AckProperties::default(),
            )
            .unwrap(),
        ),
        Packet::Pingresp,
    ]
}

fn stream(packets: &[Packet], version: ProtocolVersion) -> Vec<u8> {
    let mut bytes = BytesMut::new();
    for packet in packets {
        packet.encode(version, &mut bytes).unwrap();
    }
    bytes.to_vec()
}

fn drain(decoder: &mut Decoder) -> Result<Vec<Packet>, Error> {
    let mut packets = Vec::new();
    while let Some(packet) = decoder.next_packet()? {
        packets.push(packet);
    }
    Ok(packets)
}

const VERSIONS: [ProtocolVersion; 3] = [
    ProtocolVersion::V31,
    ProtocolVersion::V311,
    ProtocolVersion::V5,
];

#[test]
fn every_packet_type_round_trips_in_every_version() {
    for version in VERSIONS {
        for (packets, direction) in [
            (client_packets(version), Direction::FromClient),
            (client_auth(version), Direction::FromClient),
            (server_packets(version), Direction::FromServer),
        ] {
            for packet in &packets {
                let bytes = encode(packet, version).unwrap();
                assert_eq!(bytes.len(), packet.encoded_len(version), "{packet:?}");
                let decoded = decode(bytes.clone(), version, direction).unwrap();
                assert_eq!(&decoded, packet, "{version:?}");
                assert_eq!(encode(&decoded, version).unwrap(), bytes, "byte-identical");
            }
        }
    }
}

#[test]
fn streams_decode_whole_and_byte_by_byte() {
    for version in VERSIONS {
        let packets = client_packets(version);
        let bytes = stream(&packets, version);
        let mut whole = Decoder::new(Direction::FromClient);
        whole.feed(&bytes);
        assert_eq!(drain(&mut whole).unwrap(), packets);
        assert_eq!(
            whole.protocol_version(),
            Some(version),
            "learned from CONNECT"
        );
        let mut bytewise = Decoder::new(Direction::FromClient);
        let mut got = Vec::new();
        for byte in &bytes {
            bytewise.feed(std::slice::from_ref(byte));
            got.extend(drain(&mut bytewise).unwrap());
        }
        assert_eq!(got, packets);
        assert_eq!(bytewise.buffered(), 0);
    }
}

#[test]
fn owned_input_is_sliced_not_copied() {
    let bytes = Bytes::from(stream(
        &client_packets(ProtocolVersion::V5),
        ProtocolVersion::V5,
    ));
    let mut decoder = Decoder::new(Direction::FromClient);
    decoder.feed_bytes(bytes.clone());
    let payloads: Vec<*const u8> = drain(&mut decoder)
        .unwrap()
        .iter()
        .filter_map(|p| match p {
            Packet::Publish(publish) if !publish.payload().is_empty() => {
                Some(publish.payload().as_ptr())
            }
            _ => None,
        })
        .collect();
    assert!(!payloads.is_empty());
    let range = bytes.as_ptr_range();
    assert!(
        payloads.iter().all(|p| range.contains(p)),
        "slices of the input"
    );
    // An incomplete packet at the end waits, copied, for the rest.
    let mut decoder = decoder_with_aliases(0);
    let publish = b"\x30\x07\x00\x01a\x00xyz";
    decoder.feed_bytes(Bytes::from_static(&publish[..4]));
    assert_eq!(decoder.next_packet().unwrap(), None);
    assert_eq!(decoder.buffered(), 4);
    decoder.feed_bytes(Bytes::from_static(&publish[4..]));
    assert!(matches!(
        decoder.next_packet(),
        Ok(Some(Packet::Publish(_)))
    ));
    assert_eq!(decoder.buffered(), 0);
}

#[test]
fn cve_2021_28166_direction_is_enforced() {
    // CVE-2021-28166: a client sending CONNACK (or any server-only packet) is refused.
    for packet in [
        &b"\x20\x02\x00\x00"[..],
        b"\x90\x03\x00\x01\x00",
        b"\xB0\x02\x00\x01",
        b"\xD0\x00",
    ] {
        let mut decoder = Decoder::new(Direction::FromClient);
        decoder.feed(b"\x10\x0D\x00\x04MQTT\x04\x02\x00\x3C\x00\x01c");
        decoder.feed(packet);
        assert!(matches!(
            decoder.next_packet().unwrap(),
            Some(Packet::Connect(_))
        ));
        let err = decoder.next_packet().unwrap_err();
        assert!(
            matches!(err.violation(), Some(Violation::PacketFromWrongSide { .. })),
            "{packet:02x?}"
        );
        assert_eq!(err.reason_code(), ReasonCode::ProtocolError);
    }
    for packet in [
        &b"\x10\x0D\x00\x04MQTT\x04\x02\x00\x3C\x00\x01c"[..],
        b"\x82\x06\x00\x01\x00\x01a\x00",
        b"\xC0\x00",
    ] {
        let mut decoder = Decoder::new(Direction::FromServer).with_version(ProtocolVersion::V311);
        decoder.feed(packet);
        assert!(decoder.next_packet().is_err(), "{packet:02x?}");
    }
}

#[test]
fn mqtt_3_1_0_1_and_3_1_0_2_connect_must_come_first_and_once() {
    let mut decoder = Decoder::new(Direction::FromClient);
    decoder.feed(b"\xC0\x00");
    let err = decoder.next_packet().unwrap_err();
    assert_eq!(err.spec_ref(), Some("MQTT-3.1.0-1"));
    let connect = b"\x10\x0D\x00\x04MQTT\x04\x02\x00\x3C\x00\x01c";
    let mut decoder = Decoder::new(Direction::FromClient);
    decoder.feed(connect);
    decoder.feed(connect);
    assert!(decoder.next_packet().unwrap().is_some());
    assert_eq!(
        decoder.next_packet().unwrap_err().spec_ref(),
        Some("MQTT-3.1.0-2")
    );
}

/// A v5 CONNECT from client "c" with Authentication Method "x".
const CONNECT_WITH_AUTH_METHOD: &[u8] =
    b"\x10\x12\x00\x04MQTT\x05\x02\x00\x3C\x04\x15\x00\x01x\x00\x01c";
/// AUTH, Continue Authentication, Authentication Method "x".
const AUTH_CONTINUE: &[u8] = b"\xF0\x06\x18\x04\x15\x00\x01x";

#[test]
fn mqtt_3_1_2_33_only_auth_or_disconnect_until_connack() {
    let mut decoder = Decoder::new(Direction::FromClient);
    decoder.feed(CONNECT_WITH_AUTH_METHOD);
    decoder.feed(AUTH_CONTINUE);
    decoder.feed(b"\xC0\x00");
    assert!(matches!(
        decoder.next_packet(),
        Ok(Some(Packet::Connect(_)))
    ));
    assert!(decoder.is_authenticating());
    assert!(matches!(decoder.next_packet(), Ok(Some(Packet::Auth(_)))));
    let err = decoder.next_packet().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert_eq!(err.spec_ref(), Some("MQTT-3.1.2-33"));

    // DISCONNECT ends the exchange from the client's side, and is allowed.
    let mut decoder = Decoder::new(Direction::FromClient);
    decoder.feed(CONNECT_WITH_AUTH_METHOD);
    decoder.feed(b"\xE0\x00");
    assert!(matches!(
        decoder.next_packet(),
        Ok(Some(Packet::Connect(_)))
    ));
    assert!(matches!(
        decoder.next_packet(),
        Ok(Some(Packet::Disconnect(_)))
    ));

    // Once the server has sent CONNACK, everything else is allowed again.
    let mut decoder = Decoder::new(Direction::FromClient);
    decoder.feed(CONNECT_WITH_AUTH_METHOD);
    assert!(matches!(
        decoder.next_packet(),
        Ok(Some(Packet::Connect(_)))
    ));
    decoder.connack_sent();
    assert!(!decoder.is_authenticating());
    decoder.feed(b"\xC0\x00");
    assert_eq!(decoder.next_packet().unwrap(), Some(Packet::Pingreq));

    // Without an Authentication Method there is no exchange to wait for.
    let mut decoder = Decoder::new(Direction::FromClient);
    decoder.feed(b"\x10\x0E\x00\x04MQTT\x05\x02\x00\x3C\x00\x00\x01c\xC0\x00");
    assert!(matches!(
        decoder.next_packet(),
        Ok(Some(Packet::Connect(_)))
    ));
    assert!(!decoder.is_authenticating());
    assert_eq!(decoder.next_packet().unwrap(), Some(Packet::Pingreq));
}

#[test]
fn auth_only_exists_in_v5() {
    let mut decoder = Decoder::new(Direction::FromClient);
    decoder.feed(b"\x10\x0D\x00\x04MQTT\x04\x02\x00\x3C\x00\x01c\xF0\x00");
    decoder.next_packet().unwrap();
    let err = decoder.next_packet().unwrap_err();
    assert!(matches!(
        err.violation(),
        Some(Violation::ReservedPacketType { value: 15 })
    ));
    assert!(
        encode(
            &Packet::Auth(Auth::new(ReasonCode::Success, Properties::default()).unwrap()),
            ProtocolVersion::V311
        )
        .is_err()
    );
}

/// CVE-2017-7651, CVE-2023-0809, CVE-2021-41036, CVE-2026-25627: a huge remaining length is
/// refused from the header, before anything is buffered for it.
#[test]
fn cve_2017_7651_cve_2023_0809_oversize_packets_are_refused_before_their_body_arrives() {
    let mut decoder = Decoder::new(Direction::FromClient).with_max_packet_size(64);
    decoder.feed(b"\x10\x0D\x00\x04MQTT\x04\x02\x00\x3C\x00\x01c");
    decoder.next_packet().unwrap();
    // A PUBLISH announcing 200 MB: refused from its first 5 bytes, nothing more buffered.
    decoder.feed(b"\x30\x80\x80\x80\x60");
    let err = decoder.next_packet().unwrap_err();
    assert_eq!(err.reason_code(), ReasonCode::PacketTooLarge);
    // Poisoned: the same error again, and nothing is buffered any more.
    decoder.feed(&[0u8; 1000]);
    assert_eq!(decoder.buffered(), 0);
    assert_eq!(
        decoder.next_packet().unwrap_err().reason_code(),
        ReasonCode::PacketTooLarge
    );
}

#[test]
fn single_packet_decode_is_exact() {
    let err = decode(
        Bytes::from_static(b"\xC0\x00\x00"),
        ProtocolVersion::V311,
        Direction::FromClient,
    )
    .unwrap_err();
    assert!(matches!(
        err.violation(),
        Some(Violation::TrailingBytes { .. })
    ));
    let err = decode(
        Bytes::from_static(b"\x30\x05\x00"),
        ProtocolVersion::V311,
        Direction::FromClient,
    )
    .unwrap_err();
    assert!(matches!(
        err.violation(),
        Some(Violation::IncompletePacket { len: 3 })
    ));
    let err = decode(
        Bytes::from_static(b"\xC0\x01\x00"),
        ProtocolVersion::V311,
        Direction::FromClient,
    )
    .unwrap_err();
    assert_eq!(
        err.reason_code(),
        ReasonCode::MalformedPacket,
        "PINGREQ has no body"
    );
}

fn disconnect(
    bytes: &[u8],
    version: ProtocolVersion,
    direction: Direction,
) -> Result<Packet, Error> {
    decode(Bytes::copy_from_slice(bytes), version, direction)
}

#[test]
fn disconnect_rules() {
    let v5 = ProtocolVersion::V5;
    assert!(
        disconnect(
            &b"\xE0\x01\x00"[..],
            ProtocolVersion::V311,
            Direction::FromClient
        )
        .is_err(),
        "3.1.1 has no body"
    );
    for bytes in [&b"\xE0\x00"[..], b"\xE0\x01\x00", b"\xE0\x02\x00\x00"] {
        let Packet::Disconnect(d) = disconnect(bytes, v5, Direction::FromClient).unwrap() else {
            panic!()
        };
        assert_eq!(d.reason_code(), ReasonCode::NORMAL_DISCONNECTION);
    }
    // Server-only codes from a client, 0x04 from a server, Session Expiry from a server.
    for code in [0x8B_u8, 0x8E, 0x9C, 0x8D, 0xA0] {
        let bytes = vec![0xE0, 0x01, code];
        let err = disconnect(&bytes, v5, Direction::FromClient).unwrap_err();
        assert!(
            matches!(err.violation(), Some(Violation::WrongSender { .. })),
            "{code:#04x}"
        );
        assert!(
            disconnect(&bytes, v5, Direction::FromServer).is_ok(),
            "{code:#04x}"
        );
    }
    assert!(disconnect(b"\xE0\x01\x04", v5, Direction::FromClient).is_ok());
    assert!(disconnect(b"\xE0\x01\x04", v5, Direction::FromServer).is_err());
    assert!(
        disconnect(
            b"\xE0\x07\x00\x05\x11\x00\x00\x00\x3C",
            v5,
            Direction::FromServer
        )
        .is_err()
    );
    assert!(
        disconnect(
            b"\xE0\x07\x00\x05\x11\x00\x00\x00\x3C",
            v5,
            Direction::FromClient
        )
        .is_ok()
    );
    assert!(
        disconnect(b"\xE0\x01\x10", v5, Direction::FromClient).is_err(),
        "0x10 is not a DISCONNECT code"
    );
    // The shortest form is written.
    let d = Disconnect::new(ReasonCode::ServerShuttingDown, Properties::default()).unwrap();
    assert_eq!(
        &encode(&Packet::Disconnect(d), v5).unwrap()[..],
        b"\xE0\x01\x8B"
    );
}

#[test]
fn auth_rules() {
    let v5 = ProtocolVersion::V5;
    let Packet::Auth(a) =
        decode(Bytes::from_static(b"\xF0\x00"), v5, Direction::FromServer).unwrap()
    else {
        panic!()
    };
    assert_eq!(a.reason_code(), ReasonCode::Success);
    assert!(
        decode(
            Bytes::from_static(b"\xF0\x01\x87"),
            v5,
            Direction::FromServer
        )
        .is_err()
    );
    // Authentication Data needs an Authentication Method.
    assert!(
        decode(
            Bytes::from_static(b"\xF0\x06\x18\x04\x16\x00\x01x"),
            v5,
            Direction::FromClient
        )
        .is_err()
    );
    assert!(Auth::new(ReasonCode::NotAuthorized, Properties::default()).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_splits_give_the_same_packets(
        cuts in prop::collection::vec((0usize..400, any::<bool>()), 0..12),
        last_owned in any::<bool>(),
        v in 0usize..3,
    ) {
        let version = VERSIONS[v];
        let packets = client_packets(version);
        let bytes = Bytes::from(stream(&packets, version));
        let mut cuts: Vec<(usize, bool)> =
            cuts.into_iter().map(|(c, owned)| (c % (bytes.len() + 1), owned)).collect();
        cuts.push((bytes.len(), last_owned));
        cuts.sort_unstable();
        let mut decoder = Decoder::new(Direction::FromClient);
        let mut start = 0;
        let mut got = Vec::new();
        // Borrowed pieces are copied in; owned ones are kept and sliced: the same packets.
        for (cut, owned) in cuts {
            let cut = cut.max(start);
            if owned {
                decoder.feed_bytes(bytes.slice(start..cut));
            } else {
                decoder.feed(&bytes[start..cut]);
            }
            start = cut;
            got.extend(drain(&mut decoder).unwrap());
        }
        prop_assert_eq!(got, packets);
        prop_assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256), prefix in any::<bool>()) {
        for direction in [Direction::FromClient, Direction::FromServer] {
            for version in [None, Some(ProtocolVersion::V311), Some(ProtocolVersion::V5)] {
                let mut decoder = Decoder::new(direction).with_max_packet_size(4096);
                if let Some(version) = version {
                    decoder = decoder.with_version(version);
                }
                if prefix && direction == Direction::FromClient {
                    decoder.feed(b"\x10\x0D\x00\x04MQTT\x05\x02\x00\x3C\x00\x00\x01c");
                }
                decoder.feed(&bytes);
                let _ = drain(&mut decoder);
                prop_assert!(decoder.buffered() <= bytes.len() + 16);
            }
        }
    }

    #[test]
    fn mutated_packets_never_panic(flip in any::<(usize, u8)>(), v in 0usize..3) {
        let version = VERSIONS[v];
        let mut bytes = stream(&client_packets(version), version);
        let at = flip.0 % bytes.len();
        bytes[at] ^= flip.1;
        let mut decoder = Decoder::new(Direction::FromClient);
        decoder.feed(&bytes);
        let _ = drain(&mut decoder);
    }
}

/// A v5 CONNECT, then the given PUBLISH bytes, into a decoder with this alias maximum.
fn decoder_with_aliases(maximum: u16) -> Decoder {
    let mut decoder = Decoder::new(Direction::FromClient).with_topic_alias_maximum(maximum);
    decoder.feed(b"\x10\x0E\x00\x04MQTT\x05\x02\x00\x3C\x00\x00\x01c");
    assert!(matches!(
        decoder.next_packet().unwrap(),
        Some(Packet::Connect(_))
    ));
    decoder
}

#[test]
fn topic_aliases_map_and_resolve() {
    let mut decoder = decoder_with_aliases(10);
    // "a/b" with alias 3, then an empty topic with alias 3.
    decoder.feed(b"\x30\x0A\x00\x03a/b\x03\x23\x00\x03x");
    decoder.feed(b"\x30\x07\x00\x00\x03\x23\x00\x03y");
    assert_eq!(
        publish_topics(&mut decoder),
        ["a/b", "a/b"],
        "the alias stood for a/b"
    );
}

/// The topics of the PUBLISH packets a decoder holds, aliases resolved.
fn publish_topics(decoder: &mut Decoder) -> Vec<String> {
    drain(decoder)
        .unwrap()
        .iter()
        .map(|p| match p {
            Packet::Publish(publish) => publish.topic().unwrap().to_string(),
            other => panic!("{other:?}"),
        })
        .collect()
}

/// [MQTT-3.3.2-8]..[MQTT-3.3.2-12], [MQTT-3.3.2-7] and GHSA-c8jq-r765-cq7g: alias 0, above the
/// maximum, or unknown, is a protocol error, and aliases end with the connection.
#[test]
fn mqtt_3_3_2_8_to_3_3_2_12_ghsa_c8jq_r765_cq7g_topic_alias_rules() {
    // Alias 0 [MQTT-3.3.2-8].
    let mut decoder = decoder_with_aliases(10);
    decoder.feed(b"\x30\x0A\x00\x03a/b\x03\x23\x00\x00x");
    let err = decoder.next_packet().unwrap_err();
    assert_eq!(err.spec_ref(), Some("MQTT-3.3.2-8"), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert_eq!(err.reason_code(), ReasonCode::TopicAliasInvalid);
    // Above the maximum [MQTT-3.3.2-9], and the default maximum of 0 allows none.
    for maximum in [0, 2] {
        let mut decoder = decoder_with_aliases(maximum);
        decoder.feed(b"\x30\x0A\x00\x03a/b\x03\x23\x00\x03x");
        let err = decoder.next_packet().unwrap_err();
        assert_eq!(
            err.violation(),
            Some(&Violation::TopicAliasTooLarge { alias: 3, maximum })
        );
        assert_eq!(err.reason_code(), ReasonCode::TopicAliasInvalid);
    }
    // An empty topic with an alias that has no mapping.
    let mut decoder = decoder_with_aliases(10);
    decoder.feed(b"\x30\x07\x00\x00\x03\x23\x00\x04y");
    let err = decoder.next_packet().unwrap_err();
    assert_eq!(
        err.violation(),
        Some(&Violation::UnknownTopicAlias { alias: 4 })
    );
    // Aliases do not survive the connection: a new decoder has none [MQTT-3.3.2-7].
    let mut first = decoder_with_aliases(10);
    first.feed(b"\x30\x0A\x00\x03a/b\x03\x23\x00\x03x");
    first.next_packet().unwrap();
    let mut second = decoder_with_aliases(10);
    second.feed(b"\x30\x07\x00\x00\x03\x23\x00\x03y");
    assert!(second.next_packet().is_err());
}

#[test]
fn a_sender_names_the_topic_by_its_alias() {
    let message = || Message::new(TopicName::new("a/b").unwrap(), "x").unwrap();
    let alias = TopicAlias::new(3).unwrap();
    let first = Publish::try_from(message())
        .unwrap()
        .with_topic_alias(alias);
    let later = first.clone().without_topic().unwrap();
    assert_eq!(first.topic().map(TopicName::as_str), Some("a/b"));
    assert_eq!(
        (later.topic(), later.properties().topic_alias),
        (None, Some(alias))
    );
    let mut decoder = decoder_with_aliases(10);
    for publish in [&first, &later] {
        decoder.feed(&encode(&Packet::Publish(publish.clone()), ProtocolVersion::V5).unwrap());
    }
    assert_eq!(
        publish_topics(&mut decoder),
        ["a/b", "a/b"],
        "the receiver resolves the alias"
    );
    // Before 5.0 there are no aliases, so the topic must be sent.
    let err = encode(&Packet::Publish(later), ProtocolVersion::V311).unwrap_err();
    assert!(matches!(
        err.violation(),
        Some(Violation::NotInVersion { .. })
    ));
    assert!(encode(&Packet::Publish(first), ProtocolVersion::V311).is_ok());
    // Only an alias can stand for the topic.
    let err = Publish::try_from(message())
        .unwrap()
        .without_topic()
        .unwrap_err();
    assert_eq!(err.spec_ref(), Some("MQTT-4.7.3-1"));
}

/// Found by the fuzz target: the same properties in another order were a different packet.
#[test]
fn property_order_does_not_change_the_packet() {
    let shared_first = b"\x20\x07\x00\x82\x04\x2A\x00\x25\x00";
    let retain_first = b"\x20\x07\x00\x82\x04\x25\x00\x2A\x00";
    let from_server = |bytes: &'static [u8]| {
        decode(
            Bytes::from_static(bytes),
            ProtocolVersion::V5,
            Direction::FromServer,
        )
        .unwrap()
    };
    let packet = from_server(shared_first);
    assert_eq!(packet, from_server(retain_first));
    assert_eq!(
        encode(&packet, ProtocolVersion::V5).unwrap().as_ref(),
        retain_first
    );
}

/// A string property value.
fn text(s: &str) -> PropertyValue {
    PropertyValue::String(MqttString::new(s).unwrap())
}

/// Properties for `packet` from optional items and user properties, in a random order
/// (the packet must not care).
fn some_properties(
    packet: PacketType,
    items: Vec<Option<(PropertyId, PropertyValue)>>,
    users: Vec<(String, String)>,
) -> Properties {
    let mut items: Vec<_> = items.into_iter().flatten().collect();
    items.extend(users.into_iter().map(|(k, v)| {
        let pair =
            PropertyValue::StringPair(MqttString::new(&k).unwrap(), MqttString::new(&v).unwrap());
        (PropertyId::UserProperty, pair)
    }));
    items.reverse();
    Properties::new(items, PropertyContext::Packet(packet)).unwrap()
}

/// Encodes, checks the length, decodes, and checks re-encoding is byte-identical.
fn round_trip(
    packet: &Packet,
    version: ProtocolVersion,
    direction: Direction,
) -> Result<(), TestCaseError> {
    let bytes = encode(packet, version).unwrap();
    prop_assert_eq!(bytes.len(), packet.encoded_len(version));
    let decoded = decode(bytes.clone(), version, direction).unwrap();
    prop_assert_eq!(&decoded, packet);
    prop_assert_eq!(encode(&decoded, version).unwrap(), bytes);
    Ok(())
}

/// The DISCONNECT reason codes only a server sends (Table 3-10).
const SERVER_ONLY_DISCONNECT: [ReasonCode; 15] = [
    ReasonCode::NotAuthorized,
    ReasonCode::ServerBusy,
    ReasonCode::ServerShuttingDown,
    ReasonCode::KeepAliveTimeout,
    ReasonCode::SessionTakenOver,
    ReasonCode::TopicFilterInvalid,
    ReasonCode::RetainNotSupported,
    ReasonCode::QoSNotSupported,
    ReasonCode::UseAnotherServer,
    ReasonCode::ServerMoved,
    ReasonCode::SharedSubscriptionsNotSupported,
    ReasonCode::ConnectionRateExceeded,
    ReasonCode::MaximumConnectTime,
    ReasonCode::SubscriptionIdentifiersNotSupported,
    ReasonCode::WildcardSubscriptionsNotSupported,
];

fn codes_of(packet: PacketType) -> Vec<ReasonCode> {
    ReasonCode::ALL
        .iter()
        .copied()
        .filter(|c| c.allowed_in(packet))
        .collect()
}

fn users() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(("[a-z]{0,4}", "[a-z0-9 ]{0,6}"), 0..3)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn connack_round_trips(v in 0usize..3, code in any::<prop::sample::Index>(), present in any::<bool>(),
                           expiry in prop::option::of(any::<u32>()), receive in prop::option::of(1u16..),
                           alias_max in prop::option::of(any::<u16>()), reason in prop::option::of("[a-z ]{0,12}"),
                           assigned in prop::option::of("[a-z0-9]{1,12}"), users in users()) {
        let version = VERSIONS[v];
        let (code, properties) = if version == ProtocolVersion::V5 {
            let properties = some_properties(PacketType::Connack, vec![
                expiry.map(|e| (PropertyId::SessionExpiryInterval, PropertyValue::FourByteInteger(e))),
                receive.map(|r| (PropertyId::ReceiveMaximum, PropertyValue::TwoByteInteger(r))),
                alias_max.map(|a| (PropertyId::TopicAliasMaximum, PropertyValue::TwoByteInteger(a))),
                reason.map(|r| (PropertyId::ReasonString, text(&r))),
                assigned.map(|a| (PropertyId::AssignedClientIdentifier, text(&a))),
            ], users);
            (*code.get(&codes_of(PacketType::Connack)), properties)
        } else {
            // The codes 3.1.x return codes stand for, one each.
            let codes = [ReasonCode::Success, ReasonCode::UnsupportedProtocolVersion,
                         ReasonCode::ClientIdentifierNotValid, ReasonCode::ServerUnavailable,
                         ReasonCode::BadUserNameOrPassword, ReasonCode::NotAuthorized];
            (*code.get(&codes), Properties::default())
        };
        let connack = Connack::new(present && !code.is_error(), code, properties).unwrap();
        round_trip(&Packet::Connack(connack), version, Direction::FromServer)?;
    }

    #[test]
    fn disconnect_round_trips(v in 0usize..3, from_server in any::<bool>(), code in any::<prop::sample::Index>(),
                              expiry in prop::option::of(any::<u32>()), reason in prop::option::of("[a-z ]{0,12}"),
                              reference in prop::option::of("[a-z.]{1,12}"), users in users()) {
        let version = VERSIONS[v];
        let direction = if from_server { Direction::FromServer } else { Direction::FromClient };
        let disconnect = if version == ProtocolVersion::V5 {
            // Each side has its own codes and properties (Table 3-10, §3.14.2.2).
            let codes: Vec<_> = codes_of(PacketType::Disconnect)
                .into_iter()
                .filter(|c| if from_server { *c != ReasonCode::DisconnectWithWillMessage } else { !SERVER_ONLY_DISCONNECT.contains(c) })
                .collect();
            let properties = some_properties(PacketType::Disconnect, vec![
                expiry.filter(|_| !from_server).map(|e| (PropertyId::SessionExpiryInterval, PropertyValue::FourByteInteger(e))),
                reason.map(|r| (PropertyId::ReasonString, text(&r))),
                reference.filter(|_| from_server).map(|r| (PropertyId::ServerReference, text(&r))),
            ], users);
            Disconnect::new(*code.get(&codes), properties).unwrap()
        } else {
            Disconnect::new(ReasonCode::Success, Properties::default()).unwrap()
        };
        round_trip(&Packet::Disconnect(disconnect), version, direction)?;
    }

    #[test]
    fn auth_round_trips(from_server in any::<bool>(), code in any::<prop::sample::Index>(),
                        method in prop::option::of("[A-Z0-9-]{1,12}"), data in prop::collection::vec(any::<u8>(), 0..16),
                        reason in prop::option::of("[a-z ]{0,12}"), users in users()) {
        let direction = if from_server { Direction::FromServer } else { Direction::FromClient };
        let data = method.as_ref().map(|_| (PropertyId::AuthenticationData, PropertyValue::Binary(Bytes::from(data))));
        let properties = some_properties(PacketType::Auth, vec![
            method.map(|m| (PropertyId::AuthenticationMethod, text(&m))),
            data,
            reason.map(|r| (PropertyId::ReasonString, text(&r))),
        ], users);
        let auth = Auth::new(*code.get(&codes_of(PacketType::Auth)), properties).unwrap();
        round_trip(&Packet::Auth(auth), ProtocolVersion::V5, direction)?;
        for version in [ProtocolVersion::V31, ProtocolVersion::V311] {
            prop_assert!(encode(&Packet::Auth(Auth::new(ReasonCode::Success, Properties::default()).unwrap()), version).is_err());
        }
    }

    #[test]
    fn pings_round_trip(v in 0usize..3) {
        round_trip(&Packet::Pingreq, VERSIONS[v], Direction::FromClient)?;
        round_trip(&Packet::Pingresp, VERSIONS[v], Direction::FromServer)?;
    }
}
