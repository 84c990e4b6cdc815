//! Code tables: every `u8` either maps to a member that maps back, or is refused.

use mqtt_common::{
    ConnectReturnCode, Error, FromInteger, PacketType, PropertyId, PropertyType, ProtocolVersion,
    QoS, ReasonCode, UnknownCode, protocol,
};

macro_rules! round_trip_every_byte {
    ($name:ident, $ty:ty, $count:expr) => {
        #[test]
        fn $name() {
            let mut members = 0;
            for value in 0..=u8::MAX {
                match <$ty>::try_from(value) {
                    Ok(code) => {
                        members += 1;
                        assert_eq!(code.as_u8(), value);
                        assert_eq!(u8::from(code), value);
                        assert_eq!(<$ty>::from_u8(value), Some(code));
                        assert!(<$ty>::MEMBERS.contains(&(code.name(), value)));
                        assert_eq!(code.to_string(), code.name());
                    }
                    Err(UnknownCode { value: seen, .. }) => {
                        assert_eq!(seen, i128::from(value));
                        assert!(<$ty>::from_integer(seen).is_err());
                    }
                }
            }
            assert_eq!(members, $count);
            assert_eq!(<$ty>::ALL.len(), $count);
            assert_eq!(<$ty>::MEMBERS.len(), $count);
        }
    };
}

round_trip_every_byte!(qos_table, QoS, 3);
round_trip_every_byte!(packet_type_table, PacketType, 15);
round_trip_every_byte!(connect_return_code_table, ConnectReturnCode, 6);
round_trip_every_byte!(reason_code_table, ReasonCode, 43);
round_trip_every_byte!(protocol_version_table, ProtocolVersion, 3);
round_trip_every_byte!(property_id_table, PropertyId, 27);

#[test]
fn qos_3_is_refused_by_its_rule() {
    let err = Error::from(QoS::try_from(3).unwrap_err());
    assert_eq!(err.spec_ref(), Some("MQTT-3.3.1-4"));
    assert_eq!(err.reason_code(), ReasonCode::QoSNotSupported);
    assert_eq!(err.to_string(), "3 is not a valid QoS [MQTT-3.3.1-4]");
    // Integers of any size are refused the same way.
    assert!(QoS::from_integer(-1).is_err());
    assert!(QoS::from_integer(1 << 100).is_err());
    assert_eq!(
        Error::from(ReasonCode::try_from(3).unwrap_err()).to_string(),
        "0x03 is not a valid reason code [§2.4]"
    );
}

#[test]
fn packet_type_0_is_reserved() {
    assert!(PacketType::try_from(0).is_err());
    assert_eq!(PacketType::Auth.as_u8(), 15);
    assert_eq!(PacketType::Connect.as_u8(), 1);
}

#[test]
fn reason_codes_know_whether_they_are_errors() {
    for code in ReasonCode::ALL {
        assert_eq!(code.is_error(), code.as_u8() >= 0x80, "{code}");
    }
    assert_eq!(ReasonCode::NORMAL_DISCONNECTION, ReasonCode::Success);
    assert_eq!(ReasonCode::GRANTED_QOS_0.as_u8(), 0);
    assert_eq!(ReasonCode::WildcardSubscriptionsNotSupported.as_u8(), 0xA2);
    assert_eq!(ReasonCode::MalformedPacket.name(), "MALFORMED_PACKET");
    for (name, value) in ReasonCode::ALIASES {
        assert_eq!(
            ReasonCode::from_u8(*value).map(|c| c.as_u8()),
            Some(*value),
            "{name}"
        );
    }
}

#[test]
fn protocol_versions_have_their_names() {
    assert_eq!(ProtocolVersion::V31.protocol_name(), "MQIsdp");
    assert_eq!(ProtocolVersion::V311.protocol_name(), "MQTT");
    assert_eq!(ProtocolVersion::V5.name(), "V5");
    assert_eq!(ProtocolVersion::V311.name(), "V3_1_1");
}

#[test]
fn property_types_follow_table_2_4() {
    use PropertyType::*;
    let expected = [
        (0x01, Byte),
        (0x02, FourByteInteger),
        (0x03, Utf8String),
        (0x08, Utf8String),
        (0x09, BinaryData),
        (0x0B, VariableByteInteger),
        (0x11, FourByteInteger),
        (0x12, Utf8String),
        (0x13, TwoByteInteger),
        (0x15, Utf8String),
        (0x16, BinaryData),
        (0x17, Byte),
        (0x18, FourByteInteger),
        (0x19, Byte),
        (0x1A, Utf8String),
        (0x1C, Utf8String),
        (0x1F, Utf8String),
        (0x21, TwoByteInteger),
        (0x22, TwoByteInteger),
        (0x23, TwoByteInteger),
        (0x24, Byte),
        (0x25, Byte),
        (0x26, Utf8StringPair),
        (0x27, FourByteInteger),
        (0x28, Byte),
        (0x29, Byte),
        (0x2A, Byte),
    ];
    assert_eq!(expected.len(), PropertyId::ALL.len());
    for (id, value_type) in expected {
        assert_eq!(
            PropertyId::from_u8(id).unwrap().value_type(),
            value_type,
            "{id:#04x}"
        );
    }
}

#[test]
fn protocol_constants() {
    assert_eq!(protocol::MAX_REMAINING_LENGTH, 268_435_455);
    assert_eq!(protocol::MAX_TOPIC_LENGTH, 65_535);
    assert_eq!(protocol::DEFAULT_PORT, 1883);
    assert_eq!(protocol::DEFAULT_TLS_PORT, 8883);
    assert_eq!(protocol::PROTOCOL_NAME, "MQTT");
}
