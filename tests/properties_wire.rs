//! MQTT 5.0 properties on the wire: Table 2-4 for every identifier and context,
//! duplicates, value ranges, malformed blocks, and PUBLISH properties round trips.

use bytes::{BufMut, Bytes, BytesMut};
use mqtt_common::ErrorKind;
use mqtt_common::packet::properties::{publish_properties_len, put_publish_properties};
use mqtt_common::packet::wire::{Reader, Utf8Policy, put_binary, put_string, put_variable_integer};
use mqtt_common::packet::{Properties, PropertyValue};
use mqtt_common::{
    BinaryData, Error, MqttString, PacketType, PayloadFormat, PropertyContext, PropertyId,
    PropertyType, PublishProperties, ReasonCode, SubscriptionId, TopicAlias, TopicName, Violation,
};
use proptest::prelude::*;

/// A valid encoded value for a property (1 for integers, "x" for strings).
fn value_bytes(property: PropertyId) -> Vec<u8> {
    let mut buf = BytesMut::new();
    match property.value_type() {
        PropertyType::Byte => buf.put_u8(1),
        PropertyType::TwoByteInteger => buf.put_u16(1),
        PropertyType::FourByteInteger => buf.put_u32(1),
        PropertyType::VariableByteInteger => put_variable_integer(&mut buf, 1),
        PropertyType::Utf8String => put_string(&mut buf, &MqttString::new("x").unwrap()),
        PropertyType::BinaryData => put_binary(&mut buf, b"x"),
        PropertyType::Utf8StringPair => {
            put_string(&mut buf, &MqttString::new("k").unwrap());
            put_string(&mut buf, &MqttString::new("v").unwrap());
        }
        _ => unreachable!(),
    }
    buf.to_vec()
}

/// A property block: length, then the given raw property bytes.
fn block(properties: &[u8]) -> Bytes {
    let mut buf = BytesMut::new();
    put_variable_integer(&mut buf, properties.len() as u32);
    buf.put_slice(properties);
    buf.freeze()
}

fn read(properties: &[u8], context: PropertyContext) -> Result<Properties, Error> {
    let mut reader = Reader::new(block(properties), Utf8Policy::Strict);
    let result = Properties::read(&mut reader, context, false);
    if result.is_ok() {
        assert!(reader.is_empty());
    }
    result.map_err(Error::received)
}

fn one(property: PropertyId) -> Vec<u8> {
    let mut bytes = vec![property.as_u8()];
    bytes.extend(value_bytes(property));
    bytes
}

fn contexts() -> Vec<PropertyContext> {
    let mut all: Vec<PropertyContext> = PacketType::ALL
        .iter()
        .map(|p| PropertyContext::Packet(*p))
        .collect();
    all.push(PropertyContext::Will);
    all
}

/// Checks one row of Table 2-4: the property is read in exactly the `allowed` contexts and
/// is a malformed packet everywhere else.
fn table_2_4_row(property: PropertyId, allowed: &[PropertyContext]) {
    for context in contexts() {
        let mut bytes = one(property);
        if property == PropertyId::AuthenticationData {
            bytes.extend(one(PropertyId::AuthenticationMethod)); // needs a method
        }
        let result = read(&bytes, context);
        if allowed.contains(&context) {
            assert!(result.is_ok(), "{property} in {context:?}: {result:?}");
        } else {
            let err = result.unwrap_err();
            assert_eq!(
                err.reason_code(),
                ReasonCode::MalformedPacket,
                "{property} in {context:?}"
            );
            assert!(matches!(
                err.violation(),
                Some(Violation::PropertyNotAllowed { .. })
            ));
        }
    }
}

const CONNECT: PropertyContext = PropertyContext::Packet(PacketType::Connect);
const CONNACK: PropertyContext = PropertyContext::Packet(PacketType::Connack);
const PUBLISH: PropertyContext = PropertyContext::Packet(PacketType::Publish);
const PUBACK: PropertyContext = PropertyContext::Packet(PacketType::Puback);
const PUBREC: PropertyContext = PropertyContext::Packet(PacketType::Pubrec);
const PUBREL: PropertyContext = PropertyContext::Packet(PacketType::Pubrel);
const PUBCOMP: PropertyContext = PropertyContext::Packet(PacketType::Pubcomp);
const SUBSCRIBE: PropertyContext = PropertyContext::Packet(PacketType::Subscribe);
const SUBACK: PropertyContext = PropertyContext::Packet(PacketType::Suback);
const UNSUBSCRIBE: PropertyContext = PropertyContext::Packet(PacketType::Unsubscribe);
const UNSUBACK: PropertyContext = PropertyContext::Packet(PacketType::Unsuback);
const DISCONNECT: PropertyContext = PropertyContext::Packet(PacketType::Disconnect);
const AUTH: PropertyContext = PropertyContext::Packet(PacketType::Auth);
const WILL: PropertyContext = PropertyContext::Will;

/// One test per row of Table 2-4 (SPEC-CHECKLIST §2.4), the allowed packets copied from
/// the checklist rather than from the table the code uses.
macro_rules! table_2_4 {
    ($($name:ident: $property:ident in [$($context:ident),*];)*) => {$(
        #[test]
        fn $name() {
            table_2_4_row(PropertyId::$property, &[$($context),*]);
        }
    )*};
}

table_2_4! {
    table_2_4_0x01_payload_format_indicator: PayloadFormatIndicator in [PUBLISH, WILL];
    table_2_4_0x02_message_expiry_interval: MessageExpiryInterval in [PUBLISH, WILL];
    table_2_4_0x03_content_type: ContentType in [PUBLISH, WILL];
    table_2_4_0x08_response_topic: ResponseTopic in [PUBLISH, WILL];
    table_2_4_0x09_correlation_data: CorrelationData in [PUBLISH, WILL];
    table_2_4_0x0b_subscription_identifier: SubscriptionIdentifier in [PUBLISH, SUBSCRIBE];
    table_2_4_0x11_session_expiry_interval: SessionExpiryInterval in [CONNECT, CONNACK, DISCONNECT];
    table_2_4_0x12_assigned_client_identifier: AssignedClientIdentifier in [CONNACK];
    table_2_4_0x13_server_keep_alive: ServerKeepAlive in [CONNACK];
    table_2_4_0x15_authentication_method: AuthenticationMethod in [CONNECT, CONNACK, AUTH];
    table_2_4_0x16_authentication_data: AuthenticationData in [CONNECT, CONNACK, AUTH];
    table_2_4_0x17_request_problem_information: RequestProblemInformation in [CONNECT];
    table_2_4_0x18_will_delay_interval: WillDelayInterval in [WILL];
    table_2_4_0x19_request_response_information: RequestResponseInformation in [CONNECT];
    table_2_4_0x1a_response_information: ResponseInformation in [CONNACK];
    table_2_4_0x1c_server_reference: ServerReference in [CONNACK, DISCONNECT];
    table_2_4_0x1f_reason_string: ReasonString in [CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT, AUTH];
    table_2_4_0x21_receive_maximum: ReceiveMaximum in [CONNECT, CONNACK];
    table_2_4_0x22_topic_alias_maximum: TopicAliasMaximum in [CONNECT, CONNACK];
    table_2_4_0x23_topic_alias: TopicAlias in [PUBLISH];
    table_2_4_0x24_maximum_qos: MaximumQoS in [CONNACK];
    table_2_4_0x25_retain_available: RetainAvailable in [CONNACK];
    table_2_4_0x26_user_property: UserProperty in [CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, DISCONNECT, AUTH, WILL];
    table_2_4_0x27_maximum_packet_size: MaximumPacketSize in [CONNECT, CONNACK];
    table_2_4_0x28_wildcard_subscription_available: WildcardSubscriptionAvailable in [CONNACK];
    table_2_4_0x29_subscription_identifiers_available: SubscriptionIdentifierAvailable in [CONNACK];
    table_2_4_0x2a_shared_subscription_available: SharedSubscriptionAvailable in [CONNACK];
}

#[test]
fn table_2_4_has_a_test_for_every_property() {
    // 27 rows above: a property added to the code without a row here fails this count.
    assert_eq!(PropertyId::ALL.len(), 27);
}

#[test]
fn each_property_at_most_once() {
    for &property in PropertyId::ALL {
        let Some(context) = contexts().into_iter().find(|c| property.allowed_in(*c)) else {
            continue;
        };
        let mut bytes = one(property);
        bytes.extend(one(property));
        if property == PropertyId::AuthenticationData {
            bytes.extend(one(PropertyId::AuthenticationMethod));
        }
        let result = read(&bytes, context);
        if property == PropertyId::UserProperty {
            assert_eq!(result.unwrap().len(), 2, "user properties repeat");
        } else {
            let err = result.unwrap_err();
            assert_eq!(
                err.violation(),
                Some(&Violation::DuplicateProperty { property }),
                "{property}"
            );
            assert_eq!(err.reason_code(), ReasonCode::ProtocolError);
        }
    }
    // Subscription Identifiers repeat only where the caller allows (server-to-client PUBLISH).
    let mut bytes = one(PropertyId::SubscriptionIdentifier);
    bytes.extend([0x0B, 0x02]);
    let mut reader = Reader::new(block(&bytes), Utf8Policy::Strict);
    let publish = PropertyContext::Packet(PacketType::Publish);
    assert_eq!(
        Properties::read(&mut reader, publish, true).unwrap().len(),
        2
    );
}

#[test]
fn value_ranges() {
    let publish = PropertyContext::Packet(PacketType::Publish);
    let connack = PropertyContext::Packet(PacketType::Connack);
    let connect = PropertyContext::Packet(PacketType::Connect);
    let cases: [(&[u8], PropertyContext, ReasonCode); 8] = [
        (&[0x01, 0x02], publish, ReasonCode::ProtocolError), // payload format 2
        (&[0x23, 0x00, 0x00], publish, ReasonCode::TopicAliasInvalid), // topic alias 0
        (&[0x0B, 0x00], publish, ReasonCode::ProtocolError), // subscription id 0
        (&[0x24, 0x02], connack, ReasonCode::ProtocolError), // maximum QoS 2
        (&[0x21, 0x00, 0x00], connect, ReasonCode::ProtocolError), // receive maximum 0
        (&[0x27, 0, 0, 0, 0], connect, ReasonCode::ProtocolError), // maximum packet size 0
        (&[0x17, 0x02], connect, ReasonCode::ProtocolError), // request problem info 2
        (
            &[0x16, 0x00, 0x01, b'x'],
            connect,
            ReasonCode::ProtocolError,
        ), // auth data, no method
    ];
    for (bytes, context, reason) in cases {
        let err = read(bytes, context).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol, "{bytes:02x?}: {err:?}");
        assert_eq!(err.reason_code(), reason, "{bytes:02x?}");
    }
    // Four byte intervals take any value.
    read(&[0x02, 0xFF, 0xFF, 0xFF, 0xFF], publish).unwrap();
}

#[test]
fn built_binary_values_have_a_two_byte_length() {
    let context = PropertyContext::Packet(PacketType::Publish);
    let data = |len| {
        vec![(
            PropertyId::CorrelationData,
            PropertyValue::Binary(Bytes::from(vec![0; len])),
        )]
    };
    assert!(Properties::new(data(65_535), context).is_ok());
    let err = Properties::new(data(65_536), context).unwrap_err();
    assert_eq!(
        err.violation(),
        Some(&Violation::BinaryTooLong { len: 65_536 })
    );
}

#[test]
fn malformed_blocks() {
    let publish = PropertyContext::Packet(PacketType::Publish);
    for bad in [&[0x00][..], &[0x04, 0x00], &[0x2B, 0x00], &[0x7F, 0x00]] {
        let err = read(bad, publish).unwrap_err();
        assert!(
            matches!(err.violation(), Some(Violation::UnknownProperty { .. })),
            "{bad:02x?}"
        );
    }
    // A non-minimal identifier [MQTT-1.5.5-1] and a value past the block.
    assert!(matches!(
        read(&[0x81, 0x00, 0x01], publish).unwrap_err().violation(),
        Some(Violation::VariableIntegerNotMinimal)
    ));
    assert!(matches!(
        read(&[0x03, 0x00, 0x05, b'a'], publish)
            .unwrap_err()
            .violation(),
        Some(Violation::Truncated { .. })
    ));
    // A Property Length longer than the packet.
    let mut reader = Reader::new(Bytes::from_static(&[0x05, 0x01, 0x01]), Utf8Policy::Strict);
    let err = Properties::read(&mut reader, publish, false).unwrap_err();
    assert_eq!(err.reason_code(), ReasonCode::MalformedPacket);
    // Bad UTF-8 in either half of a user property.
    let err = read(&[0x26, 0x00, 0x01, b'k', 0x00, 0x01, 0xFF], publish).unwrap_err();
    assert_eq!(err.violation(), Some(&Violation::InvalidUtf8));
    // A response topic with a wildcard [MQTT-3.3.2-14].
    let props = read(&[0x08, 0x00, 0x03, b'a', b'/', b'+'], publish).unwrap();
    let err = props.into_publish().unwrap_err();
    assert_eq!(err.spec_ref(), Some("MQTT-3.3.2-14"));
}

#[test]
fn cve_2021_41039_a_flood_of_user_properties_parses_in_one_pass() {
    // CVE-2021-41039: 50,000 user properties, linear work, order kept.
    let mut bytes = Vec::new();
    for i in 0..50_000u32 {
        bytes.push(0x26);
        let mut pair = BytesMut::new();
        put_string(&mut pair, &MqttString::new(&i.to_string()).unwrap());
        put_string(&mut pair, &MqttString::new("v").unwrap());
        bytes.extend_from_slice(&pair);
    }
    let props = read(&bytes, PropertyContext::Packet(PacketType::Publish)).unwrap();
    let (publish, _) = props.into_publish().unwrap();
    assert_eq!(publish.user_properties.len(), 50_000);
    assert_eq!(publish.user_properties[49_999].0, "49999");
}

fn mqtt(s: &str) -> MqttString {
    MqttString::new(s).unwrap()
}

fn publish_properties() -> impl Strategy<Value = (PublishProperties, Option<u32>)> {
    (
        prop::option::of(any::<bool>()),
        prop::option::of(any::<u32>()),
        prop::option::of("[a-z/]{0,12}"),
        prop::option::of("[a-z]{1,8}(/[a-z]{1,8}){0,2}"),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..16)),
        prop::collection::vec("[a-z]{0,6}", 0..4),
        prop::collection::vec(1u32..=268_435_455, 0..3),
        prop::option::of(1u16..),
        prop::option::of(any::<u32>()),
    )
        .prop_map(|(pfi, expiry, ct, rt, cd, users, ids, alias, delay)| {
            let p = PublishProperties {
                payload_format_indicator: pfi.map(|b| {
                    if b {
                        PayloadFormat::Utf8
                    } else {
                        PayloadFormat::Unspecified
                    }
                }),
                message_expiry_interval: expiry,
                content_type: ct.map(|s| mqtt(&s)),
                response_topic: rt.map(|s| TopicName::new(&s).unwrap()),
                correlation_data: cd.map(|d| BinaryData::new(d).unwrap()),
                user_properties: users.iter().map(|u| (mqtt(u), mqtt("v"))).collect(),
                subscription_identifiers: ids
                    .into_iter()
                    .map(|i| SubscriptionId::new(i).unwrap())
                    .collect(),
                topic_alias: alias.map(|a| TopicAlias::new(a).unwrap()),
            };
            (p, delay)
        })
}

proptest! {
    #[test]
    fn publish_properties_round_trip((p, delay) in publish_properties()) {
        let mut buf = BytesMut::new();
        put_publish_properties(&mut buf, &p, delay);
        let len = publish_properties_len(&p, delay);
        let header = buf.len() - len;
        prop_assert!((1..=4).contains(&header));
        // Identifiers come in ascending order.
        let mut reader = Reader::new(buf.clone().freeze(), Utf8Policy::Strict);
        let context = if delay.is_some() {
            PropertyContext::Will
        } else {
            PropertyContext::Packet(PacketType::Publish)
        };
        // A Will carries no subscription ids or topic alias: drop them for that context.
        let expected = if delay.is_some() {
            PublishProperties { subscription_identifiers: vec![], topic_alias: None, ..p.clone() }
        } else {
            p.clone()
        };
        if delay.is_some() && (p.topic_alias.is_some() || !p.subscription_identifiers.is_empty()) {
            return Ok(());
        }
        let props = Properties::read(&mut reader, context, true).unwrap();
        let ids: Vec<u8> = props.iter().map(|(id, _)| id.as_u8()).collect();
        prop_assert!(ids.windows(2).all(|w| w[0] <= w[1]), "{:?}", ids);
        let (decoded, decoded_delay) = props.into_publish().unwrap();
        prop_assert_eq!(decoded, expected);
        prop_assert_eq!(decoded_delay, delay);
        let mut again = BytesMut::new();
        put_publish_properties(&mut again, &p, delay);
        prop_assert_eq!(again, buf);
    }

    #[test]
    fn arbitrary_blocks_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..48)) {
        for context in contexts() {
            let mut reader = Reader::new(Bytes::from(bytes.clone()), Utf8Policy::Strict);
            if let Ok(props) = Properties::read(&mut reader, context, false)
                && matches!(context, PropertyContext::Will | PropertyContext::Packet(PacketType::Publish))
            {
                let _ = props.into_publish();
            }
        }
    }
}
