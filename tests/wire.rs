//! Wire primitives and framing: the SPEC-CHECKLIST rows they own (variable byte
//! integers, fixed header flags, reserved types, the size limit, UTF-8 strings).

use bytes::{Bytes, BytesMut};
use mqtt_common::ErrorKind;
use mqtt_common::packet::frame;
use mqtt_common::packet::wire::{
    Reader, Utf8Policy, decode_variable_integer, put_binary, put_string, put_variable_integer,
    variable_integer_len,
};
use mqtt_common::{MqttString, PacketType, ProtocolVersion, ReasonCode, Violation};
use proptest::prelude::*;

fn encode_vbi(value: u32) -> Vec<u8> {
    let mut buf = BytesMut::new();
    put_variable_integer(&mut buf, value);
    buf.to_vec()
}

#[test]
fn variable_integer_boundaries() {
    let cases: [(u32, &[u8]); 8] = [
        (0, &[0x00]),
        (127, &[0x7F]),
        (128, &[0x80, 0x01]),
        (16_383, &[0xFF, 0x7F]),
        (16_384, &[0x80, 0x80, 0x01]),
        (2_097_151, &[0xFF, 0xFF, 0x7F]),
        (2_097_152, &[0x80, 0x80, 0x80, 0x01]),
        (268_435_455, &[0xFF, 0xFF, 0xFF, 0x7F]),
    ];
    for (value, bytes) in cases {
        assert_eq!(encode_vbi(value), bytes, "{value}");
        assert_eq!(variable_integer_len(value), bytes.len());
        assert_eq!(
            decode_variable_integer(bytes),
            Ok(Some((value, bytes.len())))
        );
    }
}

/// §1.5.5, [MQTT-1.5.5-1] and CVE-2026-21888: at most four bytes, and the fewest that
/// hold the value (the encoder never emits `80 00`).
#[test]
fn mqtt_1_5_5_1_cve_2026_21888_variable_integer_rejections() {
    // A fifth byte (CVE-2026-21888), whether or not it is present yet.
    assert_eq!(
        decode_variable_integer(&[0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),
        Err(Violation::VariableIntegerTooLong)
    );
    assert_eq!(
        decode_variable_integer(&[0x80, 0x80, 0x80, 0x80]),
        Err(Violation::VariableIntegerTooLong)
    );
    // Not in the fewest bytes [MQTT-1.5.5-1].
    for bytes in [
        &[0x80, 0x00][..],
        &[0x81, 0x80, 0x00],
        &[0xFF, 0xFF, 0x80, 0x00],
    ] {
        assert_eq!(
            decode_variable_integer(bytes),
            Err(Violation::VariableIntegerNotMinimal),
            "{bytes:02x?}"
        );
    }
    // Incomplete: not an error to a framer.
    assert_eq!(decode_variable_integer(&[]), Ok(None));
    assert_eq!(decode_variable_integer(&[0x80, 0x80]), Ok(None));
}

/// The flags each type allows, per [MQTT-2.1.3-1] and the PUBLISH rules.
fn flags_valid(packet_type: u8, flags: u8) -> bool {
    match packet_type {
        3 => (flags >> 1) & 0b11 != 0b11 && !(flags & 0b1000 != 0 && (flags >> 1) & 0b11 == 0),
        6 | 8 | 10 => flags == 0b0010,
        // CONNECT's are judged once its protocol level is known (3.1 leaves them unused).
        1 => true,
        _ => flags == 0,
    }
}

/// [MQTT-2.1.3-1] (3.1.1: [MQTT-2.2.2-1]): each type's flag bits have their listed values,
/// in every version.
#[test]
fn mqtt_2_1_3_1_and_2_2_2_1_every_type_and_flag_combination() {
    for version in [
        ProtocolVersion::V31,
        ProtocolVersion::V311,
        ProtocolVersion::V5,
    ] {
        for byte in 0..=u8::MAX {
            let (packet_type, flags) = (byte >> 4, byte & 0x0F);
            let result = frame(&[byte, 0x00], Some(version), 1024);
            let reserved =
                packet_type == 0 || (packet_type == 15 && version != ProtocolVersion::V5);
            match result {
                Ok(Some(header)) => {
                    assert!(
                        !reserved && flags_valid(packet_type, flags),
                        "{byte:#04x} {version:?}"
                    );
                    assert_eq!(header.packet_type.as_u8(), packet_type);
                    assert_eq!(header.packet_len(), 2);
                }
                Ok(None) => panic!("a complete two-byte packet {byte:#04x}"),
                Err(err) if err.kind() == ErrorKind::MalformedPacket => {
                    let expected_reserved =
                        matches!(err.violation(), Some(Violation::ReservedPacketType { .. }));
                    assert_eq!(expected_reserved, reserved, "{byte:#04x} {version:?}");
                    assert!(reserved || !flags_valid(packet_type, flags), "{byte:#04x}");
                }
                Err(other) => panic!("{byte:#04x}: {other:?}"),
            }
        }
    }
}

/// The checklist's examples: [MQTT-2.1.3-1] flags, PUBLISH QoS bits `11` [MQTT-3.3.1-4] and
/// DUP on QoS 0 [MQTT-3.3.1-2].
#[test]
fn mqtt_3_3_1_4_and_3_3_1_2_checklist_flag_examples() {
    let v = Some(ProtocolVersion::V5);
    for ok in [0x62, 0x82, 0xA2, 0x30, 0x32, 0x3D] {
        assert!(frame(&[ok, 0x00], v, 16).unwrap().is_some(), "{ok:#04x}");
    }
    for (bad, spec_ref) in [
        (0x60, "MQTT-2.1.3-1"),
        (0x83, "MQTT-2.1.3-1"),
        (0xA0, "MQTT-2.1.3-1"),
        (0x36, "MQTT-3.3.1-4"),
        (0x38, "MQTT-3.3.1-2"),
    ] {
        let err = frame(&[bad, 0x00], v, 16).unwrap_err();
        assert_eq!(err.reason_code(), ReasonCode::MalformedPacket, "{bad:#04x}");
        assert_eq!(err.spec_ref(), Some(spec_ref), "{bad:#04x}");
    }
}

#[test]
fn oversize_packets_are_refused_before_their_body() {
    // 1 + 2 + 300 bytes against a maximum of 302: refused from the header alone.
    let err = frame(&[0x30, 0xAC, 0x02], None, 302).unwrap_err();
    assert_eq!(
        err.violation(),
        Some(&Violation::PacketTooLarge {
            size: 303,
            max: 302
        })
    );
    assert_eq!(err.reason_code(), ReasonCode::PacketTooLarge);
    assert!(
        frame(&[0x30, 0xAC, 0x02], None, 303).unwrap().is_none(),
        "fits: wait for the body"
    );
    // The largest Remaining Length, announced in 5 bytes against a 1 MiB limit.
    assert!(frame(&[0x30, 0xFF, 0xFF, 0xFF, 0x7F], None, 1 << 20).is_err());
    assert!(
        frame(&[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], None, u32::MAX).is_err(),
        "5-byte length"
    );
}

#[test]
fn every_strict_prefix_needs_more() {
    let mut packet = vec![0x32, 0x00];
    packet.extend_from_slice(&[0x00, 0x03, b'a', b'/', b'b', 0x00, 0x01]);
    packet.extend_from_slice(&[b'x'; 200]);
    let body = packet.len() - 2;
    let mut vbi = BytesMut::new();
    put_variable_integer(&mut vbi, body as u32);
    packet.splice(1..2, vbi.iter().copied());
    let header = frame(&packet, None, 1 << 20).unwrap().unwrap();
    assert_eq!(header.packet_len(), packet.len());
    assert_eq!(header.qos(), mqtt_common::QoS::AtLeastOnce);
    for end in 0..packet.len() {
        assert!(
            frame(&packet[..end], None, 1 << 20).unwrap().is_none(),
            "prefix of {end}"
        );
    }
    // Trailing bytes of the next packet do not change the frame.
    packet.extend_from_slice(&[0xC0, 0x00]);
    assert_eq!(frame(&packet, None, 1 << 20).unwrap(), Some(header));
}

fn reader(bytes: &[u8]) -> Reader {
    Reader::new(Bytes::copy_from_slice(bytes), Utf8Policy::Strict)
}

#[test]
fn strings_are_checked_and_sliced() {
    let frame = Bytes::from_static(b"\x00\x03a/b\x00\x02hi");
    let mut r = Reader::new(frame.clone(), Utf8Policy::Strict);
    let text = r.string("topic").unwrap();
    assert_eq!(text, "a/b");
    assert_eq!(
        text.as_bytes().as_ptr(),
        frame[2..].as_ptr(),
        "a slice, not a copy"
    );
    assert_eq!(r.binary("data").unwrap(), &b"hi"[..]);
    r.finish("data").unwrap();

    // A length prefix longer than what remains is malformed, not "need more".
    assert_eq!(
        reader(b"\x00\x05abc").string("topic"),
        Err(Violation::Truncated { what: "topic" })
    );
    assert_eq!(
        reader(b"\x00").string("topic"),
        Err(Violation::Truncated { what: "topic" })
    );
    // Surrogate, overlong NUL, out-of-range lead byte, truncated sequence, lone continuation.
    for bad in [
        &b"\xED\xA0\x80"[..],
        b"\xC0\x80",
        b"\xF5\x80\x80\x80",
        b"a\xE2\x82",
        b"\x80",
    ] {
        let mut bytes = vec![0, bad.len() as u8];
        bytes.extend_from_slice(bad);
        assert_eq!(
            reader(&bytes).string("s"),
            Err(Violation::InvalidUtf8),
            "{bad:02x?}"
        );
    }
    assert_eq!(
        reader(b"\x00\x03a\x00b").string("s"),
        Err(Violation::StringContainsNull)
    );
    // A BOM is kept as U+FEFF [MQTT-1.5.4-3].
    assert_eq!(
        reader(b"\x00\x04\xEF\xBB\xBFa").string("s").unwrap(),
        "\u{FEFF}a"
    );
    // Binary data may hold anything.
    assert_eq!(
        reader(b"\x00\x03\x00\xFF\xED").binary("b").unwrap(),
        &b"\x00\xFF\xED"[..]
    );
}

/// §1.5.4 (3.1.1: §1.5.3): control characters and non-characters SHOULD NOT be sent and the
/// receiver MAY close: refused by the strict policy, kept by the lenient one.
#[test]
fn s1_5_4_control_characters_follow_the_policy() {
    for text in ["a\u{1}b", "\u{7F}", "\u{9F}", "\u{FFFF}", "x\u{FDD0}"] {
        let mut bytes = BytesMut::new();
        put_string(&mut bytes, &MqttString::new(text).unwrap());
        let strict = Reader::new(bytes.clone().freeze(), Utf8Policy::Strict).string("s");
        assert!(
            matches!(strict, Err(Violation::StringHasControlCharacter { .. })),
            "{text:?}"
        );
        let lenient = Reader::new(bytes.freeze(), Utf8Policy::Lenient)
            .string("s")
            .unwrap();
        assert_eq!(lenient, text);
    }
}

/// §1.5.4: a two-byte length prefix, so 65,535 bytes at most; [MQTT-1.5.7-1]: both halves
/// of a string pair are UTF-8.
#[test]
fn s1_5_4_longest_string_and_mqtt_1_5_7_1_string_pairs() {
    let long = "a".repeat(65_535);
    let mut bytes = BytesMut::new();
    put_string(&mut bytes, &MqttString::new(&long).unwrap());
    assert_eq!(
        Reader::new(bytes.freeze(), Utf8Policy::Strict)
            .string("s")
            .unwrap(),
        long.as_str()
    );
    // Both halves of a pair are checked [MQTT-1.5.7-1].
    assert_eq!(
        reader(b"\x00\x01k\x00\x01\xFF").string_pair("user property"),
        Err(Violation::InvalidUtf8)
    );
    assert_eq!(
        reader(b"\x00\x01\xFF\x00\x01v").string_pair("user property"),
        Err(Violation::InvalidUtf8)
    );
    let (k, v) = reader(b"\x00\x01k\x00\x01v")
        .string_pair("user property")
        .unwrap();
    assert_eq!((k.as_str(), v.as_str()), ("k", "v"));
}

/// §2.1.4: the remaining length is exactly what the fields use: a field that runs short is
/// truncated and bytes left over are trailing, both malformed.
#[test]
fn s2_1_4_fields_must_fill_the_remaining_length_exactly() {
    let mut r = reader(b"\x01\x02\x03\x00\x00\x01\x00\x80\x01rest");
    assert_eq!(r.u8("a").unwrap(), 1);
    assert_eq!(r.u16("b").unwrap(), 0x0203);
    assert_eq!(r.u32("c").unwrap(), 0x0000_0100);
    assert_eq!(r.variable_integer("d").unwrap(), 128);
    let rest = r.rest();
    assert_eq!(rest, &b"rest"[..]);
    r.finish("payload").unwrap();
    assert_eq!(
        reader(b"\x00").u16("id"),
        Err(Violation::Truncated { what: "id" })
    );
    assert_eq!(
        reader(b"\x80").variable_integer("length"),
        Err(Violation::Truncated { what: "length" })
    );
    let err = reader(b"\x00\x01extra").finish("packet identifier");
    assert_eq!(
        err,
        Err(Violation::TrailingBytes {
            what: "packet identifier",
            len: 7
        })
    );
    let mut buf = BytesMut::new();
    put_binary(&mut buf, b"ab");
    assert_eq!(&buf[..], b"\x00\x02ab");
}

proptest! {
    #[test]
    fn variable_integers_round_trip(value in 0u32..=268_435_455) {
        let bytes = encode_vbi(value);
        prop_assert_eq!(bytes.len(), variable_integer_len(value));
        prop_assert_eq!(decode_variable_integer(&bytes), Ok(Some((value, bytes.len()))));
    }

    #[test]
    fn framing_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64), max in 0u32..4096) {
        for version in [None, Some(ProtocolVersion::V311), Some(ProtocolVersion::V5)] {
            if let Ok(Some(header)) = frame(&bytes, version, max) {
                prop_assert!(header.packet_len() <= bytes.len());
                prop_assert!(header.packet_len() as u64 <= u64::from(max));
            }
        }
    }

    #[test]
    fn reading_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut r = reader(&bytes);
        let _ = r.string("s");
        let _ = r.string_pair("p");
        let _ = r.variable_integer("v");
        let _ = r.binary("b");
        let _ = r.u32("u");
        let _ = r.finish("f");
    }
}

/// §2.1.2 (3.1.1: §2.2.1): type 0 is reserved in every version, 15 before 5.0 (AUTH in 5.0).
#[test]
fn s2_1_2_packet_types_0_and_15_are_reserved() {
    for version in [
        ProtocolVersion::V31,
        ProtocolVersion::V311,
        ProtocolVersion::V5,
    ] {
        let err = frame(&[0x00, 0x00], Some(version), 8).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MalformedPacket);
        assert_eq!(
            err.violation(),
            Some(&Violation::ReservedPacketType { value: 0 })
        );
        let fifteen = frame(&[0xF0, 0x00], Some(version), 8);
        if version == ProtocolVersion::V5 {
            assert_eq!(fifteen.unwrap().unwrap().packet_type, PacketType::Auth);
        } else {
            assert_eq!(
                fifteen.unwrap_err().violation(),
                Some(&Violation::ReservedPacketType { value: 15 })
            );
        }
    }
}
