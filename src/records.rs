//! How values are written in a store's database: messages as MQTT 5.0 PUBLISH packets,
//! times as nanoseconds since the Unix epoch, small integers as themselves.
//!
//! A message record is a 4-byte prefix and the PUBLISH packet a server would send for it
//! at QoS 0 (so a message without a packet identifier, which a PUBLISH at QoS 1 could not
//! carry, is written too):
//!
//! ```text
//! byte 0      record format (1)
//! byte 1      QoS (bits 0-1), DUP (bit 2)
//! bytes 2-3   packet identifier, big-endian; 0 for none
//! bytes 4..   the MQTT 5.0 PUBLISH packet: retain flag, topic, properties, payload
//! ```
//!
//! Any MQTT 5.0 decoder reads the packet; the prefix restores what QoS 0 left out.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::constants::{ProtocolVersion, QoS};
use crate::error::Error;
use crate::integer::FromInteger;
use crate::message::{Header, Message, MessageRef};
use crate::packet::{self, Direction, Encode, Packet};
use crate::packet_id::PacketId;

/// The message record format this version writes and reads.
const MESSAGE_FORMAT: u8 = 1;
const PREFIX_LEN: usize = 4;
const DUP_BIT: u8 = 0b100;

/// A message as its database record.
///
/// # Errors
/// a storage error if the message does not fit in a PUBLISH packet.
pub(crate) fn encode_message(message: &Message) -> Result<Vec<u8>, Error> {
    let mut record = Vec::new();
    encode_message_into(message, &mut record)?;
    Ok(record)
}

/// [`encode_message`], appended to `record` (a record of many messages is written in
/// place, without a copy of each).
///
/// # Errors
/// a storage error if the message does not fit in a PUBLISH packet.
pub(crate) fn encode_message_into(message: &Message, record: &mut Vec<u8>) -> Result<(), Error> {
    let stored = message.as_ref();
    let mut flags = stored.header.qos as u8;
    if stored.header.dup {
        flags |= DUP_BIT;
    }
    let id = stored.header.message_id.map_or(0, PacketId::get);
    // The PUBLISH written is the message at QoS 0 (its QoS, DUP and identifier are in
    // the prefix), borrowed: nothing of the message is copied or checked again.
    let at_most_once = Header {
        qos: QoS::AtMostOnce,
        dup: false,
        message_id: None,
        retain: stored.header.retain,
        properties: stored.header.properties.clone(),
    };
    let publish = MessageRef {
        header: &at_most_once,
        ..stored
    };
    record.reserve(PREFIX_LEN + publish.encoded_len(ProtocolVersion::V5));
    record.extend_from_slice(&[MESSAGE_FORMAT, flags]);
    record.extend_from_slice(&id.to_be_bytes());
    packet::encode_checked(&publish, ProtocolVersion::V5, record)
}

/// The message a database record holds.
///
/// # Errors
/// a storage error naming `whose` record for anything that is not a message record
/// this version wrote.
pub(crate) fn decode_message(
    record: Vec<u8>,
    whose: &dyn std::fmt::Display,
) -> Result<Message, Error> {
    decode_message_bytes(Bytes::from(record), whose)
}

/// [`decode_message`] of a record in shared bytes: the message's payload is a slice of
/// them, not a copy.
///
/// # Errors
/// As [`decode_message`].
pub(crate) fn decode_message_bytes(
    record: Bytes,
    whose: &dyn std::fmt::Display,
) -> Result<Message, Error> {
    let corrupt = |why: &dyn std::fmt::Display| {
        Error::storage(format!(
            "the stored message of {whose} is unreadable: {why}"
        ))
    };
    let Some(&[format, flags, high, low]) = record.first_chunk::<PREFIX_LEN>() else {
        return Err(corrupt(&"shorter than its 4-byte prefix"));
    };
    if format != MESSAGE_FORMAT {
        return Err(corrupt(&format_args!(
            "record format {format}, this version reads {MESSAGE_FORMAT}"
        )));
    }
    let qos = QoS::from_integer(i128::from(flags & !DUP_BIT)).map_err(|v| corrupt(&v))?;
    let id = u16::from_be_bytes([high, low]);
    let id = (id != 0)
        .then(|| PacketId::new(id))
        .transpose()
        .map_err(|e| corrupt(&e))?;
    let body = record.slice(PREFIX_LEN..);
    let Packet::Publish(publish) = packet::decode(body, ProtocolVersion::V5, Direction::FromServer)
        .map_err(|e| corrupt(&e))?
    else {
        return Err(corrupt(&"not a PUBLISH packet"));
    };
    let message = Message::try_from(publish).map_err(|_| corrupt(&"a PUBLISH without a topic"))?;
    let (topic, payload, mut header) = message.into_parts();
    header.qos = qos;
    header.dup = flags & DUP_BIT != 0;
    header.message_id = id;
    Message::from_parts(topic, payload, header).map_err(|e| corrupt(&e))
}

/// A time as nanoseconds since the Unix epoch (negative before it).
pub(crate) fn nanos(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_nanos()).map_or(i64::MIN, |n| -n),
    }
}

/// The time `nanos` nanoseconds after the Unix epoch.
pub(crate) fn time(nanos: i64) -> SystemTime {
    let magnitude = Duration::from_nanos(nanos.unsigned_abs());
    if nanos >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

/// A stored integer as the type it must fit, or a storage error naming the column.
#[cfg(feature = "sqlite")]
pub(crate) fn narrow<T: FromInteger>(
    value: i64,
    column: &str,
    whose: &dyn std::fmt::Display,
) -> Result<T, Error> {
    T::from_integer(i128::from(value)).map_err(|v| {
        Error::storage(format!(
            "the stored {column} of {whose} is out of range: {v}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::PublishProperties;
    use crate::topic::TopicName;

    fn round_trip(message: &Message) -> Message {
        let record = encode_message(message).unwrap();
        decode_message(record, &"test").unwrap()
    }

    #[test]
    fn every_header_field_survives() {
        let topic = TopicName::new("a/b").unwrap();
        let messages = [
            Message::new(topic.clone(), "x").unwrap(),
            Message::builder(topic.clone())
                .qos(QoS::AtLeastOnce)
                .build()
                .unwrap(),
            Message::builder(topic.clone())
                .qos(QoS::ExactlyOnce)
                .dup(true)
                .retain(true)
                .message_id(Some(PacketId::new(65_535).unwrap()))
                .payload(vec![0_u8, 255, 7])
                .properties(PublishProperties {
                    message_expiry_interval: Some(30),
                    content_type: Some("text/plain".try_into().unwrap()),
                    ..PublishProperties::default()
                })
                .build()
                .unwrap(),
        ];
        for message in &messages {
            assert_eq!(&round_trip(message), message);
        }
    }

    #[test]
    fn garbage_is_a_storage_error() {
        for record in [
            vec![],
            vec![1, 0, 0],
            vec![2, 0, 0, 0, 0x30, 0],
            vec![1, 3, 0, 0, 0x30, 0],
            vec![1, 0, 0, 0, 0xc0, 0],
        ] {
            let err = decode_message(record, &"client c").unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Storage, "{err}");
            assert!(err.to_string().contains("client c"), "{err}");
        }
    }

    #[test]
    fn times_round_trip() {
        let now = SystemTime::now();
        assert_eq!(time(nanos(now)), now);
        let before = UNIX_EPOCH - Duration::from_secs(5);
        assert_eq!(time(nanos(before)), before);
    }
}
