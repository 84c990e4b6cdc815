//! Session: both QoS flows in both directions, the packet-id allocator, illegal
//! transitions, receive maximums, expiry and Will timing.

use std::time::{Duration, SystemTime};

use mqtt_common::ErrorKind;
use mqtt_common::{
    Error, Message, OutgoingState, PacketId, PacketType, ProtocolVersion, QoS, ReasonCode, Session,
    TopicName, Violation, Will,
};

fn session() -> Session {
    Session::new("client-1", ProtocolVersion::V5, false, 60).unwrap()
}

fn message(qos: QoS) -> Message {
    Message::builder(TopicName::new("a/b").unwrap())
        .payload("x")
        .qos(qos)
        .build()
        .unwrap()
}

fn received(qos: QoS, id: u16, dup: bool) -> Message {
    Message::builder(TopicName::new("a/b").unwrap())
        .qos(qos)
        .message_id(Some(PacketId::new(id).unwrap()))
        .dup(dup)
        .build()
        .unwrap()
}

fn id(value: u16) -> PacketId {
    PacketId::new(value).unwrap()
}

fn violation(err: Error) -> Violation {
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err:?}");
    err.violation().cloned().unwrap()
}

#[test]
fn outgoing_qos1_flow() {
    let mut s = session();
    let sent = s.send_publish(message(QoS::AtLeastOnce)).unwrap();
    let pid = sent.message_id().unwrap();
    assert_eq!(pid, id(1));
    let (_, flight) = s.outgoing().next().unwrap();
    assert_eq!(flight.state, OutgoingState::AwaitingPuback);
    assert_eq!(flight.message.as_ref(), Some(&sent));
    assert_eq!(s.puback_received(pid).unwrap(), sent);
    assert_eq!(s.outgoing_count(), 0);
    // A second PUBACK finds nothing.
    let err = s.puback_received(pid).unwrap_err();
    assert_eq!(err.reason_code(), ReasonCode::PacketIdentifierNotFound);
    assert_eq!(
        violation(err),
        Violation::PacketIdNotFound {
            packet: PacketType::Puback,
            id: 1
        }
    );
}

#[test]
fn outgoing_qos2_flow() {
    let mut s = session();
    let pid = s
        .send_publish(message(QoS::ExactlyOnce))
        .unwrap()
        .message_id()
        .unwrap();
    // PUBCOMP before PUBREC, and PUBACK for a QoS 2 flow, are refused and change nothing.
    for (packet, result) in [
        (
            PacketType::Pubcomp,
            s.clone().pubcomp_received(pid).map(drop),
        ),
        (PacketType::Puback, s.clone().puback_received(pid).map(drop)),
    ] {
        let v = violation(result.unwrap_err());
        assert_eq!(
            v,
            Violation::UnexpectedAck {
                packet,
                id: 1,
                expected: PacketType::Pubrec
            }
        );
    }
    s.pubrec_received(pid).unwrap();
    let (_, flight) = s.outgoing().next().unwrap();
    assert_eq!(flight.state, OutgoingState::AwaitingPubcomp);
    assert!(
        flight.message.is_none(),
        "only the PUBREL is left to resend"
    );
    s.pubrec_received(pid).unwrap(); // a repeated PUBREC is accepted again
    s.pubcomp_received(pid).unwrap();
    assert_eq!(s.outgoing_count(), 0);
    assert!(s.pubcomp_received(pid).is_err());
}

#[test]
fn qos0_passes_through() {
    let mut s = session();
    let sent = s.send_publish(message(QoS::AtMostOnce)).unwrap();
    assert_eq!(sent.message_id(), None);
    assert_eq!(s.outgoing_count(), 0);
    assert!(s.publish_received(&message(QoS::AtMostOnce)).unwrap());
    assert!(
        s.publish_received(&received(QoS::AtLeastOnce, 5, false))
            .unwrap()
    );
    assert!(
        s.publish_received(&received(QoS::AtLeastOnce, 5, false))
            .unwrap(),
        "QoS 1 keeps no state"
    );
}

#[test]
fn cve_2023_28366_incoming_qos2_flow() {
    let mut s = session();
    assert!(
        s.publish_received(&received(QoS::ExactlyOnce, 7, false))
            .unwrap()
    );
    assert_eq!(s.incoming().collect::<Vec<_>>(), [id(7)]);
    // A resend with DUP is a duplicate, not a new message.
    assert!(
        !s.publish_received(&received(QoS::ExactlyOnce, 7, true))
            .unwrap()
    );
    // Reusing the identifier without DUP before PUBREL is refused (CVE-2023-28366).
    let err = s
        .publish_received(&received(QoS::ExactlyOnce, 7, false))
        .unwrap_err();
    assert_eq!(err.reason_code(), ReasonCode::PacketIdentifierInUse);
    assert_eq!(s.incoming_count(), 1);
    s.pubrel_received(id(7)).unwrap();
    assert_eq!(s.incoming_count(), 0);
    // PUBREL for an unknown identifier.
    let v = violation(s.pubrel_received(id(7)).unwrap_err());
    assert_eq!(
        v,
        Violation::PacketIdNotFound {
            packet: PacketType::Pubrel,
            id: 7
        }
    );
    // After PUBREL the identifier may carry a new message.
    assert!(
        s.publish_received(&received(QoS::ExactlyOnce, 7, false))
            .unwrap()
    );
}

/// [MQTT-4.3.2-1], [MQTT-4.3.3-1] and [MQTT-2.2.1-3] (3.1.1: [MQTT-2.3.1-2]): each new
/// QoS 1 or 2 PUBLISH gets an unused, non-zero identifier, free again only after its ack.
#[test]
fn mqtt_4_3_2_1_and_4_3_3_1_allocator_wraps_around_and_skips_ids_in_flight() {
    let mut s = session();
    let first = s
        .send_publish(message(QoS::AtLeastOnce))
        .unwrap()
        .message_id()
        .unwrap();
    assert_eq!(first, id(1));
    // Use up to 65,535, acknowledging all but the first.
    for expected in 2..=65_535u16 {
        let pid = s.next_packet_id().unwrap();
        assert_eq!(pid, id(expected));
    }
    // It wraps to 1, which is still in flight, so 2 comes next.
    assert_eq!(s.next_packet_id().unwrap(), id(2));
    s.puback_received(first).unwrap();
    for _ in 3..=65_535u16 {
        s.next_packet_id().unwrap();
    }
    assert_eq!(
        s.next_packet_id().unwrap(),
        id(1),
        "1 is free again after its PUBACK"
    );
}

#[test]
fn allocator_exhaustion_is_a_clear_error() {
    let mut s = session();
    s.set_receive_maximums(u16::MAX, u16::MAX).unwrap();
    for _ in 0..65_535 {
        s.send_publish(message(QoS::AtLeastOnce)).unwrap();
    }
    let err = s.next_packet_id().unwrap_err();
    assert_eq!(violation(err), Violation::PacketIdsExhausted);
    assert!(s.send_publish(message(QoS::AtLeastOnce)).is_err());
    s.puback_received(id(40_000)).unwrap();
    assert_eq!(s.next_packet_id().unwrap(), id(40_000));
}

#[test]
fn receive_maximums_bound_both_directions() {
    let mut s = session();
    s.set_receive_maximums(2, 1).unwrap();
    s.send_publish(message(QoS::AtLeastOnce)).unwrap();
    s.send_publish(message(QoS::ExactlyOnce)).unwrap();
    let err = s.send_publish(message(QoS::AtLeastOnce)).unwrap_err();
    assert_eq!(err.reason_code(), ReasonCode::ReceiveMaximumExceeded);
    assert!(
        s.send_publish(message(QoS::AtMostOnce)).is_ok(),
        "QoS 0 is not counted"
    );
    s.publish_received(&received(QoS::ExactlyOnce, 1, false))
        .unwrap();
    let err = s
        .publish_received(&received(QoS::ExactlyOnce, 2, false))
        .unwrap_err();
    assert_eq!(
        violation(err),
        Violation::ReceiveMaximumExceeded { limit: 1 }
    );
    assert!(s.set_receive_maximums(0, 1).is_err());
}

#[test]
fn resending_with_an_id_in_flight_is_refused() {
    let mut s = session();
    let sent = s.send_publish(message(QoS::AtLeastOnce)).unwrap();
    let err = s.send_publish(sent.clone()).unwrap_err();
    assert_eq!(violation(err), Violation::PacketIdInUse { id: 1 });
    assert_eq!(s.outgoing_count(), 1);
}

#[test]
fn expiry_and_will_timing() {
    let mut s = session();
    assert_eq!(s.expires_at(), None, "connected sessions do not expire");
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
    s.mark_disconnected(at);
    assert_eq!(s.expires_at(), Some(at + Duration::from_secs(60)));
    assert!(!s.is_expired(at + Duration::from_secs(59)));
    assert!(s.is_expired(at + Duration::from_secs(60)));
    s.set_expiry_interval(u32::MAX);
    assert_eq!(s.expires_at(), None, "u32::MAX never expires");
    s.resume(ProtocolVersion::V311, 0);
    assert_eq!(s.disconnected_at(), None);
    assert_eq!(s.protocol_version(), ProtocolVersion::V311);

    // The Will fires at the earlier of its delay and the session's expiry (CVE-2019-11778).
    let will = Will {
        message: message(QoS::AtMostOnce),
        delay_interval: 300,
    };
    assert_eq!(will.due_at(at, 60), at + Duration::from_secs(60));
    assert_eq!(will.due_at(at, 3_600), at + Duration::from_secs(300));
    assert_eq!(Will::new(message(QoS::AtMostOnce)).due_at(at, 60), at);
}

#[test]
fn invalid_client_ids_are_refused() {
    let err = Session::new("a\0b", ProtocolVersion::V5, true, 0).unwrap_err();
    assert!(err.to_string().starts_with("client_id: "), "{err}");
}
