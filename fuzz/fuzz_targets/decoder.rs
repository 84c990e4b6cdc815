//! Arbitrary bytes into the streaming decoder, in every direction, version and UTF-8
//! policy, split into arbitrary pieces.
//!
//! The first input byte picks the configuration and the split sizes, so the fuzzer can
//! reach every combination; the rest is the stream, its pieces fed in turn borrowed
//! (`feed`, copied) and owned (`feed_bytes`, sliced). Every decoded packet must re-encode
//! and decode to itself, and the decoder must never buffer more than it was given.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use mqtt_common::ProtocolVersion;
use mqtt_common::codec::{Decoder, decode, encode};
use mqtt_common::packet::Direction;
use mqtt_common::packet::wire::Utf8Policy;

fuzz_target!(|data: &[u8]| {
    let Some((&config, stream)) = data.split_first() else {
        return;
    };
    let direction = if config & 1 == 0 {
        Direction::FromClient
    } else {
        Direction::FromServer
    };
    let version = match (config >> 1) & 3 {
        0 => None,
        1 => Some(ProtocolVersion::V31),
        2 => Some(ProtocolVersion::V311),
        _ => Some(ProtocolVersion::V5),
    };
    let policy = if config & 8 == 0 {
        Utf8Policy::Strict
    } else {
        Utf8Policy::Lenient
    };
    let piece = usize::from(config >> 4) + 1;

    let mut decoder = Decoder::new(direction)
        .with_max_packet_size(64 * 1024)
        .with_utf8_policy(policy);
    if let Some(version) = version {
        decoder = decoder.with_version(version);
    }
    for (i, chunk) in stream.chunks(piece).enumerate() {
        if i % 2 == 0 {
            decoder.feed(chunk);
        } else {
            decoder.feed_bytes(Bytes::copy_from_slice(chunk));
        }
        assert!(decoder.buffered() <= stream.len());
        loop {
            match decoder.next_packet() {
                // `decode` is strict, so only strict decoding must survive the round trip.
                Ok(Some(packet)) if matches!(policy, Utf8Policy::Strict) => {
                    let version = decoder.protocol_version().expect("known after a packet");
                    let bytes = encode(&packet, version).expect("a decoded packet encodes");
                    // Python's `encode` writes into a buffer of exactly this size.
                    assert_eq!(bytes.len(), packet.encoded_len(version));
                    let again = decode(bytes, version, direction).expect("its encoding decodes");
                    assert_eq!(again, packet, "re-encoding changed the packet");
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
    }
});
