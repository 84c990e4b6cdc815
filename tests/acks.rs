//! PUBACK, PUBREC, PUBREL, PUBCOMP and PING on the wire: exact lengths in 3.1.1, short
//! forms in 5.0, each packet's reason code table, round trips.

use bytes::{Bytes, BytesMut};
use mqtt_common::ErrorKind;
use mqtt_common::packet::wire::Utf8Policy;
use mqtt_common::packet::{
    AckProperties, Direction, Packet, Puback, Pubcomp, Pubrec, Pubrel, decode, frame,
};
use mqtt_common::{
    Error, MqttString, PacketId, PacketType, ProtocolVersion, ReasonCode, Violation,
};
use proptest::prelude::*;

/// Decodes any of the four through one signature, for table tests.
fn decode_as(
    packet: PacketType,
    bytes: &[u8],
    version: ProtocolVersion,
) -> Result<(u16, ReasonCode, AckProperties), Error> {
    let header = frame(bytes, Some(version), u32::MAX)?.expect("complete");
    assert_eq!(header.packet_type, packet);
    let body = Bytes::copy_from_slice(&bytes[header.header_len..header.packet_len()]);
    let policy = Utf8Policy::Strict;
    Ok(match packet {
        PacketType::Puback => {
            let p = Puback::decode(&header, body, version, policy)?;
            (p.packet_id().get(), p.reason_code(), p.properties().clone())
        }
        PacketType::Pubrec => {
            let p = Pubrec::decode(&header, body, version, policy)?;
            (p.packet_id().get(), p.reason_code(), p.properties().clone())
        }
        PacketType::Pubrel => {
            let p = Pubrel::decode(&header, body, version, policy)?;
            (p.packet_id().get(), p.reason_code(), p.properties().clone())
        }
        _ => {
            let p = Pubcomp::decode(&header, body, version, policy)?;
            (p.packet_id().get(), p.reason_code(), p.properties().clone())
        }
    })
}

const ACKS: [(PacketType, u8); 4] = [
    (PacketType::Puback, 0x40),
    (PacketType::Pubrec, 0x50),
    (PacketType::Pubrel, 0x62),
    (PacketType::Pubcomp, 0x70),
];

/// §3.4-§3.7 (3.1.1): PUBACK, PUBREC, PUBREL and PUBCOMP are exactly two bytes long.
#[test]
fn s3_4_v311_acks_are_exactly_two_bytes() {
    for (packet, first) in ACKS {
        for version in [ProtocolVersion::V31, ProtocolVersion::V311] {
            let (id, code, _) = decode_as(packet, &[first, 0x02, 0x12, 0x34], version).unwrap();
            assert_eq!((id, code), (0x1234, ReasonCode::Success));
            let err = decode_as(packet, &[first, 0x03, 0x12, 0x34, 0x00], version).unwrap_err();
            assert!(
                matches!(err.violation(), Some(Violation::TrailingBytes { .. })),
                "{packet}"
            );
            let err = decode_as(packet, &[first, 0x01, 0x12], version).unwrap_err();
            assert!(
                matches!(err.violation(), Some(Violation::Truncated { .. })),
                "{packet}"
            );
            let err = decode_as(packet, &[first, 0x02, 0x00, 0x00], version).unwrap_err();
            assert!(
                err.kind() == ErrorKind::Protocol
                    && matches!(err.violation(), Some(Violation::PacketIdZero)),
                "{packet}"
            );
        }
    }
}

#[test]
fn v5_short_forms() {
    let v5 = ProtocolVersion::V5;
    for (packet, first) in ACKS {
        let success = if packet == PacketType::Pubrel || packet == PacketType::Pubcomp {
            0x92
        } else {
            0x10
        };
        // Remaining length 2: Success, no properties.
        assert_eq!(
            decode_as(packet, &[first, 2, 0, 1], v5).unwrap().1,
            ReasonCode::Success
        );
        // 3: a reason code alone.
        assert_eq!(
            decode_as(packet, &[first, 3, 0, 1, success], v5)
                .unwrap()
                .1
                .as_u8(),
            success
        );
        // 4: a reason code and an empty property block.
        assert!(
            decode_as(packet, &[first, 4, 0, 1, 0, 0], v5)
                .unwrap()
                .2
                .is_empty()
        );
        // With a reason string and a user property.
        let bytes = [&[
            first, 16, 0, 1, 0x00, 12, 0x1F, 0, 2, b'o', b'k', 0x26, 0, 1, b'k', 0, 1, b'v',
        ][..]]
        .concat();
        let (_, _, properties) = decode_as(packet, &bytes, v5).unwrap();
        assert_eq!(properties.reason_string.as_deref(), Some("ok"));
        assert_eq!(properties.user_properties.len(), 1);
        // A property the packet may not carry (Topic Alias) is malformed.
        let err = decode_as(packet, &[first, 7, 0, 1, 0, 3, 0x23, 0, 1], v5).unwrap_err();
        assert!(
            matches!(err.violation(), Some(Violation::PropertyNotAllowed { .. })),
            "{packet}"
        );
    }
}

#[test]
fn every_reason_code_byte_against_each_table() {
    for (packet, first) in ACKS {
        for code in 0..=u8::MAX {
            let result = decode_as(packet, &[first, 3, 0, 1, code], ProtocolVersion::V5);
            match ReasonCode::from_u8(code) {
                Some(reason) if reason.allowed_in(packet) => {
                    assert_eq!(result.unwrap().1, reason);
                }
                _ => {
                    let err = result.unwrap_err();
                    assert_eq!(
                        err.reason_code(),
                        ReasonCode::MalformedPacket,
                        "{packet} {code:#04x}"
                    );
                }
            }
        }
    }
    let err = decode_as(
        PacketType::Pubrel,
        &[0x62, 3, 0, 1, 0x10],
        ProtocolVersion::V5,
    )
    .unwrap_err();
    assert_eq!(err.spec_ref(), Some("MQTT-3.6.2-1"));
    let err = decode_as(
        PacketType::Puback,
        &[0x40, 3, 0, 1, 0x92],
        ProtocolVersion::V5,
    )
    .unwrap_err();
    assert_eq!(err.spec_ref(), Some("MQTT-3.4.2-1"));
}

fn bytes_of(encode: impl FnOnce(&mut BytesMut) -> Result<(), mqtt_common::Error>) -> Vec<u8> {
    let mut buf = BytesMut::new();
    encode(&mut buf).expect("encodes");
    buf.to_vec()
}

#[test]
fn encoding_uses_the_short_forms() {
    let id = PacketId::new(7).unwrap();
    let v5 = ProtocolVersion::V5;
    assert_eq!(
        bytes_of(|b| Pubrel::new(id).encode(v5, b)),
        b"\x62\x02\x00\x07"
    );
    let not_found = Pubcomp::new(id)
        .with_reason(
            ReasonCode::PacketIdentifierNotFound,
            AckProperties::default(),
        )
        .unwrap();
    assert_eq!(
        bytes_of(|b| not_found.encode(v5, b)),
        b"\x70\x03\x00\x07\x92"
    );
    // 3.1.1 has no place for the reason code: refused, not dropped.
    let err = not_found
        .encode(ProtocolVersion::V311, &mut BytesMut::new())
        .unwrap_err();
    assert!(matches!(
        err.violation(),
        Some(Violation::NotInVersion { .. })
    ));
    assert_eq!(
        err.to_string(),
        "PACKET_IDENTIFIER_NOT_FOUND cannot be sent in MQTT 3.1.1"
    );
    let with_reason = Puback::new(id)
        .with_reason(
            ReasonCode::NotAuthorized,
            AckProperties {
                reason_string: Some(MqttString::new("no").unwrap()),
                user_properties: vec![],
            },
        )
        .unwrap();
    assert_eq!(
        bytes_of(|b| with_reason.encode(v5, b)),
        b"\x40\x09\x00\x07\x87\x05\x1F\x00\x02no"
    );
    assert_eq!(with_reason.encoded_len(v5), 11);
    let err = Pubrel::new(id)
        .with_reason(ReasonCode::NotAuthorized, AckProperties::default())
        .unwrap_err();
    assert!(err.to_string().starts_with("reason_code: "), "{err}");
}

/// §3.12-§3.13: PINGREQ and PINGRESP have a remaining length of 0.
#[test]
fn s3_12_ping_packets_have_no_body() {
    let ping = decode(
        Bytes::from_static(b"\xC0\x00"),
        ProtocolVersion::V311,
        Direction::FromClient,
    );
    assert_eq!(ping.unwrap(), Packet::Pingreq);
    let err = decode(
        Bytes::from_static(b"\xC0\x01\x00"),
        ProtocolVersion::V311,
        Direction::FromClient,
    )
    .unwrap_err();
    assert_eq!(err.reason_code(), ReasonCode::MalformedPacket);
    let header = frame(&[0xC0, 0x00], Some(ProtocolVersion::V311), 16)
        .unwrap()
        .unwrap();
    assert_eq!(header.packet_type, PacketType::Pingreq);
}

proptest! {
    #[test]
    fn round_trips(id in 1u16.., code_index in 0usize..9, reason in prop::option::of("[a-z ]{0,10}"),
                   users in prop::collection::vec(("[a-z]{0,3}", "[a-z]{0,3}"), 0..3)) {
        let properties = AckProperties {
            reason_string: reason.map(|r| MqttString::new(&r).unwrap()),
            user_properties: users.iter().map(|(k, v)| (MqttString::new(k).unwrap(), MqttString::new(v).unwrap())).collect(),
        };
        let puback_codes: Vec<ReasonCode> = ReasonCode::ALL.iter().copied().filter(|c| c.allowed_in(PacketType::Puback)).collect();
        let code = puback_codes[code_index % puback_codes.len()];
        let ack = Puback::new(PacketId::new(id).unwrap()).with_reason(code, properties).unwrap();
        let plain = code == ReasonCode::Success && ack.properties().is_empty();
        for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
            if version == ProtocolVersion::V311 && !plain {
                prop_assert!(ack.encode(version, &mut BytesMut::new()).is_err());
                continue;
            }
            let bytes = bytes_of(|b| ack.encode(version, b));
            prop_assert_eq!(bytes.len(), ack.encoded_len(version));
            let (decoded_id, decoded_code, decoded_properties) = decode_as(PacketType::Puback, &bytes, version).unwrap();
            prop_assert_eq!(decoded_id, id);
            if version == ProtocolVersion::V5 {
                prop_assert_eq!(decoded_code, code);
                prop_assert_eq!(&decoded_properties, ack.properties());
            }
        }
    }

    #[test]
    fn arbitrary_bodies_never_panic(body in prop::collection::vec(any::<u8>(), 0..32)) {
        for (packet, first) in ACKS {
            let mut bytes = vec![first, body.len() as u8];
            bytes.extend(&body);
            for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
                let _ = decode_as(packet, &bytes, version);
            }
        }
    }
}
