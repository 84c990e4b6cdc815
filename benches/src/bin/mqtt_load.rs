//! A load generator for MQTT brokers on loopback: fan-in, fan-out, latency and idle
//! connections, with plain threads and blocking sockets (MQTT 3.1.1, 256-byte payloads
//! by default). It prints one line of JSON per run, for `benches/broker/bench_brokers.py`.
//!
//! ```text
//! mqtt_load fan-in  --port P --publishers 8 --qos 0 --seconds 5
//! mqtt_load fan-out --port P --subscribers 8 --qos 1 --seconds 5
//! mqtt_load latency --port P --rate 2000 --seconds 5
//! mqtt_load idle    --port P --connections 1000 --hold 5
//! ```
//!
//! Publishers write pre-encoded PUBLISH packets in large batches (QoS 0) or keep a window
//! of QoS 1 PUBLISH packets in flight; subscribers count whole packets (and answer QoS 1
//! with PUBACK). Throughput is what the subscribers received per second of the run.

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
    clients: usize,
    qos: QoS,
    seconds: f64,
    payload: usize,
    rate: u64,
    window: usize,
}

fn options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mode = args
        .next()
        .ok_or("usage: mqtt_load fan-in|fan-out|latency|idle [options]")?;
    let mut options = Options {
        mode,
        port: 1883,
        clients: 8,
        qos: QoS::AtMostOnce,
        seconds: 5.0,
        payload: 256,
        rate: 1000,
        window: 64,
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
            "--publishers" | "--subscribers" | "--connections" => {
                options.clients = number()? as usize;
            }
            "--qos" => {
                options.qos = QoS::try_from(number()? as u8).map_err(|e| e.to_string())?;
            }
            "--seconds" | "--hold" => options.seconds = number()?,
            "--payload" => options.payload = number()? as usize,
            "--rate" => options.rate = number()? as u64,
            "--window" => options.window = number()? as usize,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(options)
}

fn connect(port: u16, client_id: &str) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_nodelay(true)?;
    let id = MqttString::new(client_id).map_err(std::io::Error::other)?;
    let mut connect = Connect::new(VERSION, id);
    connect.keep_alive = 600;
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
        let mut stream = connect(options.port, &format!("load-sub-{n}")).map_err(io)?;
        subscribe(&mut stream, "load/#", options.qos).map_err(io)?;
        threads.push(subscriber(stream, options.qos, count.clone(), stop.clone()));
    }
    let mut streams = Vec::new();
    for n in 0..publishers {
        streams.push(connect(options.port, &format!("load-pub-{n}")).map_err(io)?);
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
    let mut publisher = connect(options.port, "lat-pub").map_err(io)?;
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
            if publisher
                .write_all(&publish_bytes("lat/t", &payload, QoS::AtMostOnce, 0))
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
        let start = 2 + topic_len;
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
