//! A load generator for MQTT brokers on loopback: fan-in, fan-out, latency and idle
//! connections, with plain threads and blocking sockets (MQTT 3.1.1, 256-byte payloads
//! by default). It prints one line of JSON per run, for `benches/broker/bench_brokers.py`.
//!
//! ```text
//! mqtt_load fan-in  --port P --publishers 8 --qos 0 --seconds 5
//! mqtt_load fan-out --port P --subscribers 8 --qos 1 --seconds 5
//! mqtt_load latency --port P --rate 2000 --seconds 5 [--qos 1]
//! mqtt_load idle    --port P --connections 1000 --hold 5
//! mqtt_load subscriptions --port P --filters 100000 --per-packet 100 --hold 3
//! mqtt_load retained --port P --messages 100000 --hold 3
//! ```
//!
//! `subscriptions`: one client subscribes to that many distinct filters, that many per
//! SUBSCRIBE, each SUBSCRIBE after the previous SUBACK; it prints how long that took and
//! the cost of the first and last tenth of the SUBSCRIBE packets, then holds the
//! subscriptions (the harness measures the broker's memory meanwhile). `retained`: one
//! client publishes that many retained QoS 0 messages to distinct topics (a PINGREQ
//! after them: its PINGRESP says the broker has read them all), prints the rate, holds,
//! then a new client subscribes to `r/#` and counts what it is sent in 30 s.
//!
//! Publishers write pre-encoded PUBLISH packets in large batches (QoS 0) or keep a window
//! of QoS 1 PUBLISH packets in flight; subscribers count whole packets (and answer QoS 1
//! with PUBACK). Throughput is what the subscribers received per second of the run.
//!
//! `--publish-port P2`: the publishers connect to P2, the subscribers to `--port` (two
//! nodes of a cluster: what crosses from one to the other).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use mqtt_common::codec::{Packet, encode};
use mqtt_common::packet::{Connect, Publish, Subscribe, frame};
use mqtt_common::{
    Message, MqttString, PacketId, PacketType, ProtocolVersion, QoS, Subscription, TopicFilter,
    TopicName,
};

const VERSION: ProtocolVersion = ProtocolVersion::V311;

struct Options {
    mode: String,
    port: u16,
    /// Where publishers connect (the subscribers' port unless given).
    publish_port: Option<u16>,
    clients: usize,
    qos: QoS,
    seconds: f64,
    payload: usize,
    rate: u64,
    window: usize,
    per_packet: usize,
    /// Subscribers keep their sessions (clean session off): what they are owed is
    /// stored by a broker that stores.
    persistent: bool,
}

fn options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mode = args
        .next()
        .ok_or("usage: mqtt_load fan-in|fan-out|latency|idle|subscriptions|retained [options]")?;
    let mut options = Options {
        mode,
        port: 1883,
        publish_port: None,
        clients: 8,
        qos: QoS::AtMostOnce,
        seconds: 5.0,
        payload: 256,
        rate: 1000,
        window: 64,
        per_packet: 100,
        persistent: false,
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<f64>()
                .map_err(|_| format!("{flag}: not a number"))
        };
        match flag.as_str() {
            "--port" => options.port = number()? as u16,
            "--publish-port" => options.publish_port = Some(number()? as u16),
            "--publishers" | "--subscribers" | "--connections" | "--filters" | "--messages" => {
                options.clients = number()? as usize;
            }
            "--qos" => {
                options.qos = QoS::try_from(number()? as u8).map_err(|e| e.to_string())?;
            }
            "--seconds" | "--hold" => options.seconds = number()?,
            "--payload" => options.payload = number()? as usize,
            "--rate" => options.rate = number()? as u64,
            "--window" => options.window = number()? as usize,
            "--per-packet" => options.per_packet = (number()? as usize).max(1),
            "--persistent" => options.persistent = number()? != 0.0,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(options)
}

fn connect(port: u16, client_id: &str) -> std::io::Result<TcpStream> {
    connect_with(port, client_id, true)
}

fn connect_with(port: u16, client_id: &str, clean: bool) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_nodelay(true)?;
    let id = MqttString::new(client_id).map_err(std::io::Error::other)?;
    let mut connect = Connect::new(VERSION, id);
    connect.keep_alive = 600;
    connect.clean_start = clean;
    stream.write_all(&packet_bytes(&Packet::Connect(Box::new(connect))))?;
    let mut reader = PacketReader::new();
    let connack = reader.next(&mut stream)?;
    if connack.0 != PacketType::Connack {
        return Err(std::io::Error::other("no CONNACK"));
    }
    Ok(stream)
}

fn packet_bytes(packet: &Packet) -> Vec<u8> {
    encode(packet, VERSION)
        .map(|b| b.to_vec())
        .unwrap_or_default()
}

fn subscribe(stream: &mut TcpStream, filter: &str, qos: QoS) -> std::io::Result<()> {
    let filter = TopicFilter::new(filter).map_err(std::io::Error::other)?;
    let id = PacketId::new(1).map_err(std::io::Error::other)?;
    let subscribe = Subscribe::new(id, vec![Subscription::new(filter, qos)], vec![])
        .map_err(std::io::Error::other)?;
    stream.write_all(&packet_bytes(&Packet::Subscribe(subscribe)))?;
    let mut reader = PacketReader::new();
    reader.next(stream).map(drop)
}

fn publish_bytes(topic: &str, payload: &[u8], qos: QoS, id: u16) -> Vec<u8> {
    let message = Message::builder(TopicName::new(topic).expect("a valid topic"))
        .payload(payload.to_vec())
        .qos(qos)
        .message_id((qos != QoS::AtMostOnce).then(|| PacketId::new(id.max(1)).expect("id")))
        .build()
        .expect("a valid message");
    packet_bytes(&Packet::Publish(
        Publish::from_message(&message).expect("a valid PUBLISH"),
    ))
}

/// Whole packets out of a stream: type, and the body (after the fixed header).
struct PacketReader {
    buffer: Vec<u8>,
    start: usize,
}

impl PacketReader {
    fn new() -> Self {
        Self {
            buffer: Vec::with_capacity(1 << 20),
            start: 0,
        }
    }

    fn next(&mut self, stream: &mut TcpStream) -> std::io::Result<(PacketType, Vec<u8>)> {
        loop {
            if let Some((kind, body, len)) = self.parse() {
                self.start += len;
                return Ok((kind, body));
            }
            self.fill(stream)?;
        }
    }

    /// The next whole packet in the buffer: its type, body and length.
    fn parse(&self) -> Option<(PacketType, Vec<u8>, usize)> {
        let pending = &self.buffer[self.start..];
        let header = frame(pending, Some(VERSION), u32::MAX).ok()??;
        let len = header.packet_len();
        Some((
            header.packet_type,
            pending[header.header_len..len].to_vec(),
            len,
        ))
    }

    fn fill(&mut self, stream: &mut TcpStream) -> std::io::Result<()> {
        if self.start > 0 {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        let old = self.buffer.len();
        self.buffer.resize(old + (1 << 16), 0);
        let read = stream.read(&mut self.buffer[old..]);
        self.buffer.truncate(old + *read.as_ref().unwrap_or(&0));
        let read = read?;
        if read == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "closed",
            ));
        }
        Ok(())
    }
}

/// A subscriber that counts PUBLISH packets (and acknowledges QoS 1) until stopped.
fn subscriber(
    mut stream: TcpStream,
    qos: QoS,
    count: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
        let mut reader = PacketReader::new();
        let mut acks = Vec::with_capacity(4096);
        while !stop.load(Ordering::Relaxed) {
            if reader.fill(&mut stream).is_err() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                continue;
            }
            let mut seen = 0;
            while let Some((kind, body, len)) = reader.parse() {
                reader.start += len;
                if kind == PacketType::Publish {
                    seen += 1;
                    if qos != QoS::AtMostOnce {
                        let topic_len = usize::from(u16::from_be_bytes([body[0], body[1]]));
                        let id = &body[2 + topic_len..4 + topic_len];
                        acks.extend_from_slice(&[0x40, 0x02, id[0], id[1]]);
                    }
                }
            }
            if !acks.is_empty() {
                let _ = stream.write_all(&acks);
                acks.clear();
            }
            count.fetch_add(seen, Ordering::Relaxed);
        }
    })
}

/// A publisher that sends as fast as the broker takes it until stopped: batches of QoS 0,
/// or a window of QoS 1 in flight.
fn publisher(
    mut stream: TcpStream,
    topic: String,
    options: &Options,
    stop: Arc<AtomicBool>,
) -> thread::JoinHandle<()> {
    let (qos, payload, window) = (options.qos, vec![0x5A; options.payload], options.window);
    thread::spawn(move || {
        if qos == QoS::AtMostOnce {
            let one = publish_bytes(&topic, &payload, qos, 0);
            let batch: Vec<u8> = one.iter().copied().cycle().take(one.len() * 64).collect();
            while !stop.load(Ordering::Relaxed) {
                if stream.write_all(&batch).is_err() {
                    return;
                }
            }
            return;
        }
        let mut reader = PacketReader::new();
        let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
        let mut next_id: u16 = 1;
        let mut in_flight = 0;
        while !stop.load(Ordering::Relaxed) {
            let mut out = Vec::new();
            while in_flight < window {
                out.extend(publish_bytes(&topic, &payload, qos, next_id));
                next_id = next_id.checked_add(1).unwrap_or(1);
                in_flight += 1;
            }
            if !out.is_empty() && stream.write_all(&out).is_err() {
                return;
            }
            if reader.fill(&mut stream).is_err() {
                continue;
            }
            while let Some((kind, _, len)) = reader.parse() {
                reader.start += len;
                if kind == PacketType::Puback {
                    in_flight -= 1;
                }
            }
        }
    })
}

fn run_throughput(options: &Options, fan_in: bool) -> Result<String, String> {
    let io = |e: std::io::Error| e.to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let (publishers, subscribers) = if fan_in {
        (options.clients, 1)
    } else {
        (1, options.clients)
    };
    let mut threads = Vec::new();
    for n in 0..subscribers {
        let id = format!("load-sub-{n}");
        let mut stream = connect_with(options.port, &id, !options.persistent).map_err(io)?;
        subscribe(&mut stream, "load/#", options.qos).map_err(io)?;
        threads.push(subscriber(stream, options.qos, count.clone(), stop.clone()));
    }
    let mut streams = Vec::new();
    for n in 0..publishers {
        let port = options.publish_port.unwrap_or(options.port);
        streams.push(connect(port, &format!("load-pub-{n}")).map_err(io)?);
    }
    thread::sleep(Duration::from_millis(200));
    for (n, stream) in streams.into_iter().enumerate() {
        threads.push(publisher(
            stream,
            format!("load/{n}"),
            options,
            stop.clone(),
        ));
    }
    // Warm up, then count over the measured window only.
    thread::sleep(Duration::from_secs_f64(0.5));
    let before = count.load(Ordering::Relaxed);
    let started = Instant::now();
    thread::sleep(Duration::from_secs_f64(options.seconds));
    let received = count.load(Ordering::Relaxed) - before;
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        let _ = thread.join();
    }
    Ok(format!(
        "{{\"mode\": \"{}\", \"qos\": {}, \"clients\": {}, \"messages\": {received}, \"seconds\": {elapsed:.3}, \"per_second\": {:.0}}}",
        options.mode,
        options.qos.as_u8(),
        options.clients,
        received as f64 / elapsed
    ))
}

fn run_latency(options: &Options) -> Result<String, String> {
    let io = |e: std::io::Error| e.to_string();
    let mut sub = connect(options.port, "lat-sub").map_err(io)?;
    subscribe(&mut sub, "lat/t", options.qos).map_err(io)?;
    let publish_port = options.publish_port.unwrap_or(options.port);
    let mut publisher = connect(publish_port, "lat-pub").map_err(io)?;
    // Until the subscription has reached the publisher's node (a cluster's).
    thread::sleep(Duration::from_millis(500));
    let qos = options.qos;
    let origin = Instant::now();
    let total = (options.rate as f64 * options.seconds) as u64;
    let interval = Duration::from_secs_f64(1.0 / options.rate.max(1) as f64);
    let sender = thread::spawn(move || {
        for n in 0..total {
            let due = interval * n as u32;
            if let Some(wait) = due.checked_sub(origin.elapsed()) {
                thread::sleep(wait);
            }
            let sent = origin.elapsed().as_nanos() as u64;
            let mut payload = sent.to_be_bytes().to_vec();
            payload.resize(256, 0);
            // Packet identifiers 1..=65535, in turn (the PUBACKs are left unread).
            let id = (n % 65_535 + 1) as u16;
            if publisher
                .write_all(&publish_bytes("lat/t", &payload, qos, id))
                .is_err()
            {
                return;
            }
        }
    });
    let mut reader = PacketReader::new();
    let mut latencies = Vec::with_capacity(total as usize);
    let _ = sub.set_read_timeout(Some(Duration::from_secs(5)));
    while (latencies.len() as u64) < total {
        let Ok((kind, body)) = reader.next(&mut sub) else {
            break;
        };
        if kind != PacketType::Publish {
            continue;
        }
        let topic_len = usize::from(u16::from_be_bytes([body[0], body[1]]));
        let mut start = 2 + topic_len;
        if qos != QoS::AtMostOnce {
            let id = &body[start..start + 2];
            let _ = sub.write_all(&[0x40, 0x02, id[0], id[1]]);
            start += 2;
        }
        let mut sent = [0u8; 8];
        sent.copy_from_slice(&body[start..start + 8]);
        let now = origin.elapsed().as_nanos() as u64;
        latencies.push(now.saturating_sub(u64::from_be_bytes(sent)));
    }
    let _ = sender.join();
    latencies.sort_unstable();
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return f64::NAN;
        }
        let at = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies[at] as f64 / 1000.0
    };
    Ok(format!(
        "{{\"mode\": \"latency\", \"rate\": {}, \"messages\": {}, \"p50_us\": {:.1}, \"p99_us\": {:.1}}}",
        options.rate,
        latencies.len(),
        percentile(0.50),
        percentile(0.99)
    ))
}

fn run_idle(options: &Options) -> Result<String, String> {
    let mut streams = Vec::with_capacity(options.clients);
    for n in 0..options.clients {
        streams.push(connect(options.port, &format!("idle-{n}")).map_err(|e| e.to_string())?);
    }
    println!("{{\"mode\": \"idle\", \"connected\": {}}}", streams.len());
    let _ = std::io::stdout().flush();
    thread::sleep(Duration::from_secs_f64(options.seconds));
    Ok(format!(
        "{{\"mode\": \"idle-done\", \"connections\": {}}}",
        streams.len()
    ))
}

/// Waits for the next packet of `kind`, skipping others.
fn expect(
    reader: &mut PacketReader,
    stream: &mut TcpStream,
    kind: PacketType,
) -> std::io::Result<Vec<u8>> {
    loop {
        let (got, body) = reader.next(stream)?;
        if got == kind {
            return Ok(body);
        }
    }
}

fn run_subscriptions(options: &Options) -> Result<String, String> {
    let io = |e: std::io::Error| e.to_string();
    let mut stream = connect(options.port, "scale-subscriber").map_err(io)?;
    let mut reader = PacketReader::new();
    let packets = options.clients.div_ceil(options.per_packet);
    let mut costs = Vec::with_capacity(packets);
    let started = Instant::now();
    for packet in 0..packets {
        let subscriptions = (packet * options.per_packet
            ..((packet + 1) * options.per_packet).min(options.clients))
            .map(|n| {
                TopicFilter::new(&format!("scale/{n}/+"))
                    .map(|filter| Subscription::new(filter, QoS::AtMostOnce))
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<_>, _>>()?;
        let id = PacketId::new((packet % 65_535) as u16 + 1).map_err(|e| e.to_string())?;
        let subscribe = Subscribe::new(id, subscriptions, vec![]).map_err(|e| e.to_string())?;
        let sent = Instant::now();
        stream
            .write_all(&packet_bytes(&Packet::Subscribe(subscribe)))
            .map_err(io)?;
        expect(&mut reader, &mut stream, PacketType::Suback).map_err(io)?;
        costs.push(sent.elapsed().as_secs_f64());
    }
    let seconds = started.elapsed().as_secs_f64();
    let tenth = (packets / 10).max(1);
    let mean = |part: &[f64]| part.iter().sum::<f64>() / part.len().max(1) as f64 * 1e6;
    println!(
        "{{\"mode\": \"subscriptions\", \"filters\": {}, \"seconds\": {seconds:.3}, \"first_tenth_us\": {:.0}, \"last_tenth_us\": {:.0}}}",
        options.clients,
        mean(&costs[..tenth]),
        mean(&costs[costs.len() - tenth..])
    );
    let _ = std::io::stdout().flush();
    thread::sleep(Duration::from_secs_f64(options.seconds));
    Ok("{\"mode\": \"subscriptions-done\"}".to_owned())
}

fn run_retained(options: &Options) -> Result<String, String> {
    let io = |e: std::io::Error| e.to_string();
    let mut publisher = connect(options.port, "scale-publisher").map_err(io)?;
    let payload = vec![0x5A; options.payload];
    let started = Instant::now();
    let mut batch = Vec::with_capacity(1 << 20);
    for n in 0..options.clients {
        let message =
            Message::builder(TopicName::new(&format!("r/{n}")).map_err(|e| e.to_string())?)
                .payload(payload.clone())
                .retain(true)
                .build()
                .map_err(|e| e.to_string())?;
        let publish = Publish::from_message(&message).map_err(|e| e.to_string())?;
        batch.extend_from_slice(&packet_bytes(&Packet::Publish(publish)));
        if batch.len() >= 1 << 20 {
            publisher.write_all(&batch).map_err(io)?;
            batch.clear();
        }
    }
    batch.extend_from_slice(&packet_bytes(&Packet::Pingreq));
    publisher.write_all(&batch).map_err(io)?;
    let mut reader = PacketReader::new();
    expect(&mut reader, &mut publisher, PacketType::Pingresp).map_err(io)?;
    let stored = started.elapsed().as_secs_f64();
    println!(
        "{{\"mode\": \"retained\", \"messages\": {}, \"stored_per_second\": {:.0}}}",
        options.clients,
        options.clients as f64 / stored
    );
    let _ = std::io::stdout().flush();
    thread::sleep(Duration::from_secs_f64(options.seconds));
    let mut subscriber = connect(options.port, "scale-newcomer").map_err(io)?;
    let asked = Instant::now();
    // Sent here, not with `subscribe`: the retained messages may share a read with the
    // SUBACK, and one reader must see them all.
    let filter = TopicFilter::new("r/#").map_err(|e| e.to_string())?;
    let id = PacketId::new(1).map_err(|e| e.to_string())?;
    let request = Subscribe::new(id, vec![Subscription::new(filter, QoS::AtMostOnce)], vec![])
        .map_err(|e| e.to_string())?;
    subscriber
        .write_all(&packet_bytes(&Packet::Subscribe(request)))
        .map_err(io)?;
    let _ = subscriber.set_read_timeout(Some(Duration::from_millis(500)));
    let mut reader = PacketReader::new();
    let (mut delivered, mut last) = (0usize, asked.elapsed());
    while delivered < options.clients && asked.elapsed() < Duration::from_secs(30) {
        match reader.next(&mut subscriber) {
            Ok((PacketType::Publish, _)) => {
                delivered += 1;
                last = asked.elapsed();
            }
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(_) => {}
        }
    }
    Ok(format!(
        "{{\"mode\": \"retained-delivered\", \"delivered\": {delivered}, \"seconds\": {:.3}}}",
        last.as_secs_f64()
    ))
}

fn main() {
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let result = match options.mode.as_str() {
        "fan-in" => run_throughput(&options, true),
        "fan-out" => run_throughput(&options, false),
        "latency" => run_latency(&options),
        "idle" => run_idle(&options),
        "subscriptions" => run_subscriptions(&options),
        "retained" => run_retained(&options),
        other => Err(format!("unknown mode {other}")),
    };
    match result {
        Ok(line) => println!("{line}"),
        Err(message) => {
            eprintln!("mqtt_load: {message}");
            std::process::exit(1);
        }
    }
}
