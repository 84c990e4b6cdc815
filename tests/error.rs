//! The error type: kinds, reason codes, spec references and messages.

use std::sync::Arc;

use mqtt_common::{ConnectReturnCode, Error, ErrorKind, ReasonCode, Violation};

#[test]
fn every_kind_has_its_reason_code() {
    let cases = [
        (
            Error::from(Violation::PacketIdZero),
            ErrorKind::Validation,
            ReasonCode::ProtocolError,
        ),
        (
            Error::MalformedPacket(Violation::InvalidUtf8),
            ErrorKind::MalformedPacket,
            ReasonCode::MalformedPacket,
        ),
        (
            Error::Protocol(Violation::TopicAliasZero),
            ErrorKind::Protocol,
            ReasonCode::TopicAliasInvalid,
        ),
        (
            Error::Protocol(Violation::PacketIdWithQoS0),
            ErrorKind::Protocol,
            ReasonCode::ProtocolError,
        ),
        (
            Error::Protocol(Violation::PacketIdInUse { id: 7 }),
            ErrorKind::Protocol,
            ReasonCode::PacketIdentifierInUse,
        ),
        (
            Error::Connect {
                return_code: ConnectReturnCode::IdentifierRejected,
                reason_code: ReasonCode::ClientIdentifierNotValid,
                message: "client id taken".into(),
            },
            ErrorKind::Connect,
            ReasonCode::ClientIdentifierNotValid,
        ),
        (
            Error::Authentication {
                message: "bad password".into(),
            },
            ErrorKind::Authentication,
            ReasonCode::BadUserNameOrPassword,
        ),
        (
            Error::Authorization {
                message: "no publish".into(),
            },
            ErrorKind::Authorization,
            ReasonCode::NotAuthorized,
        ),
        (
            Error::Storage {
                message: "disk full".into(),
                source: None,
            },
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
fn messages_are_lowercase_and_end_with_the_rule() {
    let err = Error::invalid("message_id", Violation::PacketIdWithQoS0);
    assert_eq!(
        err.to_string(),
        "message_id: a QoS 0 message has no packet identifier [MQTT-2.2.1-2]"
    );
    let err = Error::MalformedPacket(Violation::InvalidUtf8);
    assert_eq!(
        err.to_string(),
        "malformed packet: string is not well-formed UTF-8 [MQTT-1.5.4-1]"
    );
    let err = Error::Protocol(Violation::TopicAliasZero);
    assert_eq!(err.spec_ref(), Some("MQTT-3.3.2-8"));
    let err = Error::from(Violation::WrongType {
        expected: "int",
        found: "str".into(),
    });
    assert_eq!(err.spec_ref(), None);
    assert_eq!(err.to_string(), "expected int, got str");
}

#[test]
fn in_field_names_only_unnamed_validation_errors() {
    let err = Error::from(Violation::TopicAliasZero).in_field("topic_alias");
    assert!(err.to_string().starts_with("topic_alias: "));
    let again = err.in_field("other");
    assert!(again.to_string().starts_with("topic_alias: "));
    let protocol = Error::Protocol(Violation::TopicAliasZero).in_field("x");
    assert_eq!(protocol.kind(), ErrorKind::Protocol);
}

#[test]
fn storage_errors_keep_their_source() {
    let io = std::io::Error::other("disk on fire");
    let err = Error::Storage {
        message: "write failed".into(),
        source: Some(Arc::new(io)),
    };
    let source = std::error::Error::source(&err).expect("a source");
    assert_eq!(source.to_string(), "disk on fire");
}

#[test]
fn connect_errors_carry_the_return_code() {
    let err = Error::Connect {
        return_code: ConnectReturnCode::NotAuthorized,
        reason_code: ReasonCode::NotAuthorized,
        message: "denied".into(),
    };
    assert_eq!(err.return_code(), Some(ConnectReturnCode::NotAuthorized));
    assert_eq!(Error::from(Violation::PacketIdZero).return_code(), None);
}

#[test]
fn every_violation_has_a_rule_or_is_a_type_error() {
    let violations = [
        Violation::InvalidUtf8,
        Violation::StringContainsNull,
        Violation::StringTooLong { len: 70_000 },
        Violation::BinaryTooLong { len: 70_000 },
        Violation::TopicNameHasWildcard,
        Violation::ResponseTopicHasWildcard,
        Violation::MisplacedMultiLevelWildcard,
        Violation::MisplacedSingleLevelWildcard,
        Violation::ShareNameEmpty,
        Violation::ShareNameHasWildcard,
        Violation::SharedFilterMissing,
        Violation::PayloadTooLarge { len: 1 << 29 },
        Violation::PacketIdZero,
        Violation::PacketIdMissing {
            qos: mqtt_common::QoS::ExactlyOnce,
        },
        Violation::PacketIdWithQoS0,
        Violation::DupWithQoS0,
        Violation::TopicAliasZero,
        Violation::SubscriptionIdOutOfRange { value: 0 },
        Violation::PayloadFormatIndicatorInvalid { value: 2 },
        Violation::PacketIdInUse { id: 1 },
        Violation::PacketIdNotFound {
            packet: mqtt_common::PacketType::Pubrel,
            id: 1,
        },
        Violation::ReceiveMaximumExceeded { limit: 10 },
        Violation::PacketIdsExhausted,
        Violation::ReasonCodeCount {
            packet: mqtt_common::PacketType::Suback,
            filters: 2,
            codes: 1,
        },
    ];
    for violation in violations {
        let spec_ref = violation.spec_ref().expect("a rule");
        assert!(
            spec_ref.starts_with("MQTT-") || spec_ref.starts_with('§'),
            "{spec_ref}"
        );
        let text = violation.to_string();
        assert!(
            text.chars().next().unwrap().is_lowercase() || text.starts_with('\''),
            "{text}"
        );
        assert!(!text.ends_with('.'), "{text}");
    }
}

#[test]
fn public_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Error>();
    assert_send_sync::<mqtt_common::Message>();
    assert_send_sync::<mqtt_common::TopicName>();
    assert_send_sync::<mqtt_common::TopicFilter>();
    assert_send_sync::<mqtt_common::PublishProperties>();
}
