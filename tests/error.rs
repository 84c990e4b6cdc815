//! The error type: kinds, reason codes, spec references and messages, as users see them.
//! (`src/error.rs` walks every row of the violation table.)

use mqtt_common::{ConnectReturnCode, Error, ErrorKind, PacketType, ReasonCode, Violation};

#[test]
fn every_kind_has_its_reason_code() {
    let cases = [
        (
            Error::from(Violation::PacketIdZero),
            ErrorKind::Validation,
            ReasonCode::ProtocolError,
        ),
        (
            Error::received(Violation::InvalidUtf8),
            ErrorKind::MalformedPacket,
            ReasonCode::MalformedPacket,
        ),
        (
            Error::received(Violation::TopicAliasZero),
            ErrorKind::Protocol,
            ReasonCode::TopicAliasInvalid,
        ),
        (
            Error::received(Violation::PacketIdWithQoS0),
            ErrorKind::Protocol,
            ReasonCode::ProtocolError,
        ),
        (
            Error::received(Violation::PacketIdInUse { id: 7 }),
            ErrorKind::Protocol,
            ReasonCode::PacketIdentifierInUse,
        ),
        (
            Error::received(Violation::EmptyClientIdWithoutCleanSession),
            ErrorKind::Connect,
            ReasonCode::ClientIdentifierNotValid,
        ),
        (
            Error::authentication("bad password"),
            ErrorKind::Authentication,
            ReasonCode::BadUserNameOrPassword,
        ),
        (
            Error::authorization("no publish"),
            ErrorKind::Authorization,
            ReasonCode::NotAuthorized,
        ),
        (
            Error::storage("disk full"),
            ErrorKind::Storage,
            ReasonCode::ImplementationSpecificError,
        ),
    ];
    for (err, kind, reason_code) in cases {
        assert_eq!(err.kind(), kind, "{err}");
        assert_eq!(err.reason_code(), reason_code, "{err}");
    }
}

#[test]
fn the_entry_point_classifies_a_violation_by_its_row() {
    // One violation, two errors: a constructor's validation error, a decoder's protocol
    // error, with the same rule.
    let invalid = Error::invalid("topic_alias", Violation::TopicAliasZero);
    let received = Error::received(Violation::TopicAliasZero);
    assert_eq!(invalid.kind(), ErrorKind::Validation);
    assert_eq!(received.kind(), ErrorKind::Protocol);
    assert_eq!(invalid.spec_ref(), received.spec_ref());
    assert_eq!(invalid.violation(), received.violation());
}

#[test]
fn messages_are_lowercase_and_end_with_the_rule() {
    let err = Error::invalid("message_id", Violation::PacketIdWithQoS0);
    assert_eq!(
        err.to_string(),
        "message_id: a QoS 0 message has no packet identifier [MQTT-2.2.1-2]"
    );
    let err = Error::received(Violation::InvalidUtf8);
    assert_eq!(
        err.to_string(),
        "malformed packet: string is not well-formed UTF-8 [MQTT-1.5.4-1]"
    );
    let err = Error::received(Violation::TopicAliasZero);
    assert_eq!(err.spec_ref(), Some("MQTT-3.3.2-8"));
    let err = Error::from(Violation::WrongType {
        expected: "int",
        found: "str".into(),
    });
    assert_eq!(err.spec_ref(), None);
    assert_eq!(err.to_string(), "expected int, got str");
}

#[test]
fn ranges_read_as_sentences() {
    let err = mqtt_common::FromInteger::from_integer(-1)
        .map(|_: u16| ())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "expected an integer from 0 to 65535, got -1"
    );
    let err = Error::invalid(
        "reason_code",
        Violation::ReasonCodeNotAllowed {
            packet: PacketType::Pubrel,
            code: ReasonCode::NoMatchingSubscribers,
        },
    );
    assert_eq!(
        err.to_string(),
        "reason_code: NO_MATCHING_SUBSCRIBERS is not a reason code of PUBREL [MQTT-3.6.2-1]"
    );
}

#[test]
fn in_field_names_only_unnamed_validation_errors() {
    let err = Error::from(Violation::TopicAliasZero).in_field("topic_alias");
    assert!(err.to_string().starts_with("topic_alias: "));
    assert_eq!(err.field(), Some("topic_alias"));
    let again = err.in_field("other");
    assert!(again.to_string().starts_with("topic_alias: "));
    let protocol = Error::received(Violation::TopicAliasZero).in_field("x");
    assert_eq!(protocol.kind(), ErrorKind::Protocol);
    assert_eq!(protocol.field(), None);
}

#[test]
fn storage_errors_keep_their_source() {
    let io = std::io::Error::other("disk on fire");
    let err = Error::storage_caused_by("write failed", io);
    let source = std::error::Error::source(&err).expect("a source");
    assert_eq!(source.to_string(), "disk on fire");
}

#[test]
fn refused_connections_carry_both_codes() {
    let err = Error::received(Violation::UnsupportedProtocolLevel { level: 6 });
    assert_eq!(err.kind(), ErrorKind::Connect);
    assert_eq!(
        err.return_code(),
        Some(ConnectReturnCode::UnacceptableProtocolVersion)
    );
    assert_eq!(err.reason_code(), ReasonCode::UnsupportedProtocolVersion);
    assert_eq!(Error::from(Violation::PacketIdZero).return_code(), None);
}

#[test]
fn public_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Error>();
    assert_send_sync::<mqtt_common::Message>();
    assert_send_sync::<mqtt_common::TopicName>();
    assert_send_sync::<mqtt_common::TopicFilter>();
    assert_send_sync::<mqtt_common::PublishProperties>();
    assert_send_sync::<mqtt_common::packet::Packet>();
    assert_send_sync::<mqtt_common::codec::Decoder>();
    assert_send_sync::<mqtt_common::Session>();
}
