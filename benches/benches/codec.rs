//! PUBLISH decode and encode, ours against rumqttc's codec, in one run: QoS 1 with
//! 16 B, 256 B, 64 KiB and 1 MiB payloads, MQTT 3.1.1 and 5.0.
//!
//! Decoding starts from the complete frame in memory for both. rumqttc's `read` consumes
//! a `BytesMut`, so each of its iterations gets a fresh copy made outside the timing
//! (`iter_batched`); ours takes a `Bytes` handle to the same frame. Encoding writes the
//! whole packet into a buffer with room for it.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mqtt_common::codec::{Packet, decode, encode};
use mqtt_common::packet::{Direction, Publish};
use mqtt_common::{Message, PacketId, ProtocolVersion, QoS, TopicName};

const TOPIC: &str = "site/42/device/7/temperature";
const SIZES: [(usize, &str); 4] = [
    (16, "16B"),
    (256, "256B"),
    (65536, "64KiB"),
    (1 << 20, "1MiB"),
];
const MAX: usize = 2 << 20;

fn ours(size: usize) -> Packet {
    let message = Message::builder(TopicName::new(TOPIC).expect("a valid topic"))
        .payload(vec![0x5A; size])
        .qos(QoS::AtLeastOnce)
        .message_id(PacketId::new(7).ok())
        .build()
        .expect("a valid message");
    Packet::Publish(Publish::from_message(&message).expect("QoS 1 with an id"))
}

fn rumqttc_v4(size: usize) -> rumqttc::Packet {
    let mut publish = rumqttc::Publish::new(TOPIC, rumqttc::QoS::AtLeastOnce, vec![0x5A; size]);
    publish.pkid = 7;
    rumqttc::Packet::Publish(publish)
}

fn rumqttc_v5(size: usize) -> rumqttc::v5::mqttbytes::v5::Packet {
    use rumqttc::v5::mqttbytes::{QoS, v5::Publish};
    let mut publish = Publish::new(TOPIC, QoS::AtLeastOnce, vec![0x5A; size], None);
    publish.pkid = 7;
    rumqttc::v5::mqttbytes::v5::Packet::Publish(publish)
}

fn codec(c: &mut Criterion) {
    for (version, label) in [(ProtocolVersion::V311, "v311"), (ProtocolVersion::V5, "v5")] {
        let mut group = c.benchmark_group(format!("publish_decode/{label}"));
        for (size, name) in SIZES {
            let frame = encode(&ours(size), version).expect("encodes");
            let mut theirs = BytesMut::new();
            let written = match version {
                ProtocolVersion::V5 => rumqttc_v5(size).write(&mut theirs, None).is_ok(),
                _ => rumqttc_v4(size).write(&mut theirs, MAX).is_ok(),
            };
            assert!(written, "rumqttc encodes");
            assert_eq!(frame.as_ref(), theirs.as_ref(), "both write the same bytes");
            group.throughput(Throughput::Bytes(frame.len() as u64));
            group.bench_function(BenchmarkId::new("ours", name), |b| {
                b.iter_batched(
                    || frame.clone(),
                    |bytes: Bytes| decode(bytes, version, Direction::FromServer),
                    BatchSize::SmallInput,
                )
            });
            group.bench_function(BenchmarkId::new("rumqttc", name), |b| {
                b.iter_batched(
                    || BytesMut::from(frame.as_ref()),
                    |mut stream| match version {
                        ProtocolVersion::V5 => {
                            rumqttc::v5::mqttbytes::v5::Packet::read(&mut stream, None).is_ok()
                        }
                        _ => rumqttc::Packet::read(&mut stream, MAX).is_ok(),
                    },
                    BatchSize::SmallInput,
                )
            });
        }
        group.finish();

        let mut group = c.benchmark_group(format!("publish_encode/{label}"));
        for (size, name) in SIZES {
            let packet = ours(size);
            let (v4, v5) = (rumqttc_v4(size), rumqttc_v5(size));
            group.throughput(Throughput::Bytes(size as u64));
            group.bench_function(BenchmarkId::new("ours", name), |b| {
                b.iter(|| encode(black_box(&packet), version))
            });
            group.bench_function(BenchmarkId::new("rumqttc", name), |b| {
                b.iter(|| {
                    let mut buf = BytesMut::with_capacity(size + 64);
                    match version {
                        ProtocolVersion::V5 => black_box(&v5).write(&mut buf, None).is_ok(),
                        _ => black_box(&v4).write(&mut buf, MAX).is_ok(),
                    };
                    buf
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, codec);
criterion_main!(benches);
