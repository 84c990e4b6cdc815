//! How values are written in Redis: binary records, each starting with its format byte.
//! Messages inside them are the message records of [`crate::records`] (an MQTT 5.0
//! PUBLISH packet with a 4-byte prefix), times nanoseconds since the Unix epoch, integers
//! big-endian.
//!
//! ```text
//! retained / queued   format (1), time (i64), message record
//! will                format (1), delay interval (u32), message record
//! subscription        format (1), QoS, No Local, Retain As Published, Retain Handling
//!                     (one byte each), subscription identifier (u32; 0 for none)
//! session             format (1), protocol version (u8), clean start (u8),
//!                     expiry interval (u32), receive maximum (u16), local receive
//!                     maximum (u16), next packet identifier (u16), created at (i64),
//!                     updated at (i64), disconnected at (i64; i64::MIN for none),
//!                     user name (bytes), certificate (bytes), outgoing flows (u32 count;
//!                     each: packet id (u16), state (u8), tag (u64; u64::MAX for none),
//!                     message (bytes)), incoming flows (u32 count; each: packet id
//!                     (u16), received at (i64))
//! forwards            format (1), then per message forwarded to one node: published
//!                     at (i64), publisher (bytes), client (bytes), groups (u32 count;
//!                     each bytes), message record (bytes)
//! bytes               u32 length then the bytes; u32::MAX for none
//! ```

use std::collections::BTreeMap;
use std::time::SystemTime;

use bytes::{Buf, BufMut, Bytes};

use crate::constants::{ProtocolVersion, QoS, RetainHandling};
use crate::error::Error;
use crate::integer::FromInteger;
use crate::message::{Message, Will};
use crate::packet_id::PacketId;
use crate::records::{
    decode_message, decode_message_bytes, encode_message, encode_message_into, nanos, time,
};
use crate::router::Forward;
use crate::session::{InFlight, OutgoingState, Session, SessionParts};
use crate::topic::{Subscription, SubscriptionId, TopicFilter};

/// The record format this version writes and reads.
const FORMAT: u8 = 1;
const NONE_LEN: u32 = u32::MAX;
const NO_TIME: i64 = i64::MIN;
const NO_TAG: u64 = u64::MAX;

/// A message with a time (a retained message's arrival, a queued one's enqueueing).
pub(crate) fn encode_timed(message: &Message, at: SystemTime) -> Result<Vec<u8>, Error> {
    let inner = encode_message(message)?;
    let mut record = Vec::with_capacity(9 + inner.len());
    record.put_u8(FORMAT);
    record.put_i64(nanos(at));
    record.extend_from_slice(&inner);
    Ok(record)
}

/// The message and time of a record [`encode_timed`] wrote.
pub(crate) fn decode_timed(
    record: &[u8],
    whose: &dyn std::fmt::Display,
) -> Result<(Message, SystemTime), Error> {
    let mut reader = Reader::new(record, whose)?;
    let at = time(reader.i64()?);
    let message = decode_message(reader.rest().to_vec(), whose)?;
    Ok((message, at))
}

/// A Will.
pub(crate) fn encode_will(will: &Will) -> Result<Vec<u8>, Error> {
    let inner = encode_message(&will.message)?;
    let mut record = Vec::with_capacity(5 + inner.len());
    record.put_u8(FORMAT);
    record.put_u32(will.delay_interval);
    record.extend_from_slice(&inner);
    Ok(record)
}

/// The Will of a record [`encode_will`] wrote.
pub(crate) fn decode_will(record: &[u8], whose: &dyn std::fmt::Display) -> Result<Will, Error> {
    let mut reader = Reader::new(record, whose)?;
    let delay_interval = reader.u32()?;
    let message = decode_message(reader.rest().to_vec(), whose)?;
    Ok(Will {
        message,
        delay_interval,
    })
}

/// A subscription's options (its filter is the record's field name).
pub(crate) fn encode_subscription(subscription: &Subscription) -> Vec<u8> {
    let mut record = Vec::with_capacity(9);
    record.put_u8(FORMAT);
    record.put_u8(subscription.qos() as u8);
    record.put_u8(u8::from(subscription.no_local()));
    record.put_u8(u8::from(subscription.retain_as_published()));
    record.put_u8(subscription.retain_handling() as u8);
    record.put_u32(
        subscription
            .subscription_id()
            .map_or(0, SubscriptionId::get),
    );
    record
}

/// The subscription to `filter` of a record [`encode_subscription`] wrote.
pub(crate) fn decode_subscription(
    filter: &str,
    record: &[u8],
    whose: &dyn std::fmt::Display,
) -> Result<Subscription, Error> {
    let mut reader = Reader::new(record, whose)?;
    let qos = reader.small::<QoS>("QoS")?;
    let no_local = reader.flag()?;
    let retain_as_published = reader.flag()?;
    let retain_handling = reader.small::<RetainHandling>("Retain Handling")?;
    let id = reader.u32()?;
    let subscription_id = match id {
        0 => None,
        id => Some(SubscriptionId::new(id).map_err(|e| reader.corrupt(&e))?),
    };
    TopicFilter::new(filter)
        .and_then(|filter| {
            Subscription::builder(filter)
                .qos(qos)
                .no_local(no_local)
                .retain_as_published(retain_as_published)
                .retain_handling(retain_handling)
                .subscription_id(subscription_id)
                .build()
        })
        .map_err(|e| reader.corrupt(&e))
}

/// A session with its flows both ways.
pub(crate) fn encode_session(session: &Session) -> Result<Vec<u8>, Error> {
    let parts = session.to_parts();
    let mut record = Vec::with_capacity(64);
    record.put_u8(FORMAT);
    record.put_u8(parts.protocol_version as u8);
    record.put_u8(u8::from(parts.clean_start));
    record.put_u32(parts.expiry_interval);
    record.put_u16(parts.receive_maximum);
    record.put_u16(parts.local_receive_maximum);
    record.put_u16(parts.next_packet_id);
    record.put_i64(nanos(parts.created_at));
    record.put_i64(nanos(parts.updated_at));
    record.put_i64(parts.disconnected_at.map_or(NO_TIME, nanos));
    put_bytes(&mut record, parts.username.as_deref().map(str::as_bytes));
    put_bytes(&mut record, parts.certificate.as_deref());
    put_count(&mut record, parts.outgoing.len())?;
    for (packet_id, flight) in &parts.outgoing {
        record.put_u16(packet_id.get());
        record.put_u8(state_code(flight.state));
        record.put_u64(flight.tag.unwrap_or(NO_TAG));
        let message = flight.message.as_ref().map(encode_message).transpose()?;
        put_bytes(&mut record, message.as_deref());
    }
    put_count(&mut record, parts.incoming.len())?;
    for (packet_id, received_at) in &parts.incoming {
        record.put_u16(packet_id.get());
        record.put_i64(nanos(*received_at));
    }
    Ok(record)
}

/// The session of `client_id` in a record [`encode_session`] wrote.
pub(crate) fn decode_session(client_id: &str, record: &[u8]) -> Result<Session, Error> {
    let whose = format!("the session of {client_id:?}");
    let mut reader = Reader::new(record, &whose)?;
    let protocol_version = reader.small::<ProtocolVersion>("protocol version")?;
    let clean_start = reader.flag()?;
    let expiry_interval = reader.u32()?;
    let receive_maximum = reader.u16()?;
    let local_receive_maximum = reader.u16()?;
    let next_packet_id = reader.u16()?;
    let created_at = time(reader.i64()?);
    let updated_at = time(reader.i64()?);
    let disconnected_at = match reader.i64()? {
        NO_TIME => None,
        at => Some(time(at)),
    };
    let username = match reader.bytes()? {
        None => None,
        Some(name) => Some(String::from_utf8(name.to_vec()).map_err(|e| reader.corrupt(&e))?),
    };
    let certificate = reader.bytes()?.map(Bytes::copy_from_slice);
    let mut outgoing = BTreeMap::new();
    for _ in 0..reader.u32()? {
        let packet_id = reader.packet_id()?;
        let state = state_of(reader.u8()?).ok_or_else(|| reader.corrupt(&"a flow state"))?;
        let tag = match reader.u64()? {
            NO_TAG => None,
            tag => Some(tag),
        };
        let message = reader
            .bytes()?
            .map(|m| decode_message(m.to_vec(), &whose))
            .transpose()?;
        outgoing.insert(
            packet_id,
            InFlight {
                state,
                message,
                tag,
            },
        );
    }
    let mut incoming = BTreeMap::new();
    for _ in 0..reader.u32()? {
        let packet_id = reader.packet_id()?;
        incoming.insert(packet_id, time(reader.i64()?));
    }
    Session::from_parts(SessionParts {
        client_id: client_id.to_owned(),
        protocol_version,
        clean_start,
        expiry_interval,
        receive_maximum,
        local_receive_maximum,
        outgoing,
        incoming,
        next_packet_id,
        created_at,
        updated_at,
        disconnected_at,
        username,
        certificate,
    })
    .map_err(|e| reader.corrupt(&e))
}

fn state_code(state: OutgoingState) -> u8 {
    match state {
        OutgoingState::AwaitingPuback => 1,
        OutgoingState::AwaitingPubrec => 2,
        OutgoingState::AwaitingPubcomp => 3,
    }
}

fn state_of(code: u8) -> Option<OutgoingState> {
    match code {
        1 => Some(OutgoingState::AwaitingPuback),
        2 => Some(OutgoingState::AwaitingPubrec),
        3 => Some(OutgoingState::AwaitingPubcomp),
        _ => None,
    }
}

/// Messages forwarded to one node, in order, as one record, added to `record`.
pub(crate) fn encode_forwards<'a>(
    record: &mut Vec<u8>,
    forwards: impl IntoIterator<Item = &'a Forward>,
) -> Result<(), Error> {
    record.push(FORMAT);
    for forward in forwards {
        record.put_i64(nanos(forward.published_at));
        put_bytes(record, forward.publisher.as_deref().map(str::as_bytes));
        put_bytes(record, forward.client.as_deref().map(str::as_bytes));
        put_count(record, forward.groups.len())?;
        for group in &forward.groups {
            put_bytes(record, Some(group.as_bytes()));
        }
        // The message is written in place, its length filled in after.
        let at = record.len();
        record.put_u32(0);
        encode_message_into(&forward.message, record)?;
        let len = u32::try_from(record.len() - at - 4)
            .ok()
            .filter(|len| *len < NONE_LEN)
            .ok_or_else(|| Error::storage("a message outgrows a forwards record"))?;
        record[at..at + 4].copy_from_slice(&len.to_be_bytes());
    }
    Ok(())
}

/// The messages of a record [`encode_forwards`] wrote, for node `node`.
/// The messages' payloads are slices of `record`, not copies.
pub(crate) fn decode_forwards(node: &str, record: &Bytes) -> Result<Vec<Forward>, Error> {
    let mut forwards = Vec::new();
    decode_forwards_into(node, record, &mut forwards)?;
    Ok(forwards)
}

/// [`decode_forwards`], added to `forwards`; nothing is added if the record is
/// unreadable.
pub(crate) fn decode_forwards_into(
    node: &str,
    record: &Bytes,
    forwards: &mut Vec<Forward>,
) -> Result<(), Error> {
    let before = forwards.len();
    let decoded = decode_each(node, record, forwards);
    if decoded.is_err() {
        forwards.truncate(before);
    }
    decoded
}

fn decode_each(node: &str, record: &Bytes, forwards: &mut Vec<Forward>) -> Result<(), Error> {
    let whose = "messages forwarded between nodes";
    let mut reader = Reader::new(record, &whose)?;
    let text = |reader: &Reader<'_>, bytes: Option<&[u8]>| {
        bytes
            .map(|b| String::from_utf8(b.to_vec()).map_err(|e| reader.corrupt(&e)))
            .transpose()
    };
    let node: std::sync::Arc<str> = node.into();
    // A forward takes some 40 bytes besides its message: room for all of them at once
    // when the messages are small, so that the list is seldom moved as it grows; never
    // more than a live record's count (a list a caller reuses keeps its room, and one
    // large message must not leave room for thousands).
    forwards.reserve((record.len() / 128).min(1024));
    // A publisher's messages come in runs: they share one copy of its id.
    let mut last_publisher: Option<std::sync::Arc<str>> = None;
    while !reader.rest.is_empty() {
        let published_at = time(reader.i64()?);
        let publisher = match reader.bytes()? {
            Some(id)
                if last_publisher
                    .as_deref()
                    .is_some_and(|last| last.as_bytes() == id) =>
            {
                last_publisher.clone()
            }
            id => {
                last_publisher = text(&reader, id)?.map(std::sync::Arc::from);
                last_publisher.clone()
            }
        };
        let client = reader.bytes()?;
        let client = text(&reader, client)?;
        let count = reader.u32()?;
        let mut groups = Vec::new();
        for _ in 0..count {
            let group = reader.bytes()?;
            groups.extend(text(&reader, group)?);
        }
        let message = reader
            .bytes()?
            .ok_or_else(|| reader.corrupt(&"no message"))?;
        let message = decode_message_bytes(record.slice_ref(message), &whose)?;
        forwards.push(Forward {
            node: node.clone(),
            message,
            publisher,
            groups,
            published_at,
            client,
        });
    }
    Ok(())
}

fn put_bytes(record: &mut Vec<u8>, bytes: Option<&[u8]>) {
    match bytes {
        None => record.put_u32(NONE_LEN),
        Some(bytes) => {
            // A message record is at most an MQTT packet (256 MiB), a user name or a
            // certificate far less: the length fits.
            record.put_u32(u32::try_from(bytes.len()).unwrap_or(NONE_LEN - 1));
            record.extend_from_slice(bytes);
        }
    }
}

fn put_count(record: &mut Vec<u8>, count: usize) -> Result<(), Error> {
    let count = u32::try_from(count)
        .map_err(|_| Error::storage("a session holds more flows than a record counts"))?;
    record.put_u32(count);
    Ok(())
}

/// Reads a record, naming whose it is in every error.
struct Reader<'a> {
    rest: &'a [u8],
    whose: &'a dyn std::fmt::Display,
}

impl<'a> Reader<'a> {
    /// A reader past the format byte, which must be this version's.
    fn new(record: &'a [u8], whose: &'a dyn std::fmt::Display) -> Result<Self, Error> {
        let mut reader = Self {
            rest: record,
            whose,
        };
        let format = reader.u8()?;
        if format != FORMAT {
            return Err(reader.corrupt(&format_args!(
                "record format {format}, this version reads {FORMAT}"
            )));
        }
        Ok(reader)
    }

    fn corrupt(&self, why: &dyn std::fmt::Display) -> Error {
        Error::storage(format!(
            "the stored record of {} is unreadable: {why}",
            self.whose
        ))
    }

    fn short(&self) -> Error {
        self.corrupt(&"it ends too soon")
    }

    fn u8(&mut self) -> Result<u8, Error> {
        self.rest.try_get_u8().map_err(|_| self.short())
    }

    fn u16(&mut self) -> Result<u16, Error> {
        self.rest.try_get_u16().map_err(|_| self.short())
    }

    fn u32(&mut self) -> Result<u32, Error> {
        self.rest.try_get_u32().map_err(|_| self.short())
    }

    fn u64(&mut self) -> Result<u64, Error> {
        self.rest.try_get_u64().map_err(|_| self.short())
    }

    fn i64(&mut self) -> Result<i64, Error> {
        self.rest.try_get_i64().map_err(|_| self.short())
    }

    fn flag(&mut self) -> Result<bool, Error> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(self.corrupt(&format_args!("{other} where a flag was due"))),
        }
    }

    fn small<T: FromInteger>(&mut self, what: &str) -> Result<T, Error> {
        let value = self.u8()?;
        T::from_integer(i128::from(value))
            .map_err(|v| self.corrupt(&format_args!("its {what}: {v}")))
    }

    fn packet_id(&mut self) -> Result<PacketId, Error> {
        let id = self.u16()?;
        PacketId::new(id).map_err(|e| self.corrupt(&e))
    }

    fn bytes(&mut self) -> Result<Option<&'a [u8]>, Error> {
        let len = self.u32()?;
        if len == NONE_LEN {
            return Ok(None);
        }
        let len = usize::try_from(len).map_err(|_| self.short())?;
        if self.rest.len() < len {
            return Err(self.short());
        }
        let (bytes, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(Some(bytes))
    }

    fn rest(self) -> &'a [u8] {
        self.rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topic::TopicName;

    #[test]
    fn forwards_decode_into_a_list_sharing_a_run_of_one_publisher() {
        let forward = |publisher: Option<&str>, payload: &str| Forward {
            node: "n2".into(),
            message: Message::builder(TopicName::new("a/b").unwrap())
                .payload(payload.to_owned())
                .build()
                .unwrap(),
            publisher: publisher.map(Into::into),
            groups: Vec::new(),
            published_at: SystemTime::UNIX_EPOCH,
            client: None,
        };
        let sent = [
            forward(Some("p"), "1"),
            forward(Some("p"), "2"),
            forward(None, "3"),
            forward(Some("q"), "4"),
        ];
        let mut record = Vec::new();
        encode_forwards(&mut record, &sent).unwrap();
        let record = Bytes::from(record);
        let mut read = vec![forward(Some("earlier"), "0")];
        decode_forwards_into("n2", &record, &mut read).unwrap();
        assert_eq!(read[1..], sent);
        let (first, second) = (&read[1].publisher, &read[2].publisher);
        assert!(std::sync::Arc::ptr_eq(
            first.as_ref().unwrap(),
            second.as_ref().unwrap()
        ));
        // A record cut short adds nothing, whatever came before the cut (a cut between
        // two messages is a record of fewer).
        let ends: Vec<usize> = (0..sent.len())
            .map(|n| {
                let mut shorter = Vec::new();
                encode_forwards(&mut shorter, &sent[..n]).unwrap();
                shorter.len()
            })
            .collect();
        for cut in (1..record.len()).filter(|cut| !ends.contains(cut)) {
            let mut list = vec![forward(None, "0")];
            let result = decode_forwards_into("n2", &record.slice(..cut), &mut list);
            assert!(result.is_err(), "cut at {cut}");
            assert_eq!(list.len(), 1, "cut at {cut}");
        }
    }

    #[test]
    fn a_large_message_leaves_no_room_for_thousands() {
        let forward = Forward {
            node: "n2".into(),
            message: Message::builder(TopicName::new("big").unwrap())
                .payload(vec![7u8; 4 * 1024 * 1024])
                .build()
                .unwrap(),
            publisher: None,
            groups: Vec::new(),
            published_at: SystemTime::UNIX_EPOCH,
            client: None,
        };
        let mut record = Vec::new();
        encode_forwards(&mut record, [&forward]).unwrap();
        let mut read = Vec::new();
        decode_forwards_into("n2", &Bytes::from(record), &mut read).unwrap();
        assert_eq!(read, [forward]);
        assert!(read.capacity() <= 1024, "room for {}", read.capacity());
    }

    #[test]
    fn a_session_with_flows_both_ways_round_trips() {
        let mut session = Session::new("c", ProtocolVersion::V5, false, 60).unwrap();
        let message = |topic: &str, qos| {
            Message::builder(TopicName::new(topic).unwrap())
                .payload("x")
                .qos(qos)
                .build()
                .unwrap()
        };
        session
            .send_publish_tagged(message("t", QoS::AtLeastOnce), Some(7))
            .unwrap();
        session
            .send_publish(message("u", QoS::ExactlyOnce))
            .unwrap();
        let record = encode_session(&session).unwrap();
        assert_eq!(decode_session("c", &record).unwrap(), session);
        for cut in 0..record.len() {
            assert!(decode_session("c", &record[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn subscriptions_and_wills_round_trip() {
        let filter = TopicFilter::new("$share/g/a/+").unwrap();
        let subscription = Subscription::builder(filter)
            .qos(QoS::ExactlyOnce)
            .retain_as_published(true)
            .retain_handling(RetainHandling::DoNotSend)
            .subscription_id(Some(SubscriptionId::new(9).unwrap()))
            .build()
            .unwrap();
        let record = encode_subscription(&subscription);
        let back = decode_subscription("$share/g/a/+", &record, &"s").unwrap();
        assert_eq!(back, subscription);
        let will = Will {
            message: Message::new(TopicName::new("w").unwrap(), "gone").unwrap(),
            delay_interval: 30,
        };
        assert_eq!(
            decode_will(&encode_will(&will).unwrap(), &"w").unwrap(),
            will
        );
        assert!(decode_will(&[2, 0, 0, 0, 0], &"w").is_err());
    }
}
