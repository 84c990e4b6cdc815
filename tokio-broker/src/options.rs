//! The command line: the reference broker's options, for those both brokers have.

use std::net::{IpAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// An MQTT 3.1, 3.1.1 and 5.0 broker on tokio, built on mqtt-common.
///
/// Secure by default, as mosquitto 2.0: with a password file or an ACL file, clients
/// without a user name are refused unless --allow-anonymous is given; with neither,
/// only loopback is served.
#[derive(Debug, Parser)]
#[command(name = "mqtt-tokio-broker", version)]
pub struct Options {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// The port to listen on (0: any free port).
    #[arg(long, default_value_t = 1883)]
    pub port: u16,
    /// Listen beside other processes on the same port (SO_REUSEPORT): the kernel
    /// spreads new connections among them. With --node-id and one Redis, N processes
    /// are one broker on every core.
    #[arg(long)]
    pub reuse_port: bool,
    /// Keep sessions, queued and retained messages in SQLite files in this directory
    /// (made if missing): nothing acknowledged is lost across a restart or a crash.
    #[arg(long, value_name = "DIR", conflicts_with = "redis_url")]
    pub data_dir: Option<PathBuf>,
    /// Keep them in Redis instead (redis:// or rediss://; for a Redis Cluster, any
    /// node's URL): a PUBACK is sent once Redis has what it promises.
    #[arg(long, value_name = "URL")]
    pub redis_url: Option<String>,
    /// What every key in Redis starts with (several brokers can share one Redis).
    #[arg(
        long,
        value_name = "PREFIX",
        default_value = "mqtt",
        requires = "redis_url"
    )]
    pub redis_prefix: String,
    /// Be this node of a cluster of brokers sharing --redis-url (and --redis-prefix): a
    /// message published on any node reaches the subscribers of every node. Give each
    /// node its own name, the same across its restarts.
    #[arg(long, value_name = "NAME", requires = "redis_url")]
    pub node_id: Option<String>,
    /// How long a node counts as alive after each renewal of its lease (renewed every
    /// third of it): a node silent longer is adopted by another, which takes its
    /// sessions up and publishes their due Wills.
    #[arg(long, value_name = "S", default_value_t = 10, requires = "node_id",
          value_parser = clap::value_parser!(u16).range(1..))]
    pub node_lease: u16,
    /// For rediss://: trust this CA certificate (PEM) instead of the system's.
    #[arg(long, value_name = "FILE", requires = "redis_url")]
    pub redis_ca: Option<PathBuf>,
    /// Authenticate users with a mosquitto password file.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Authorize topics with a mosquitto ACL file.
    #[arg(long, value_name = "FILE")]
    pub acl_file: Option<PathBuf>,
    /// Accept clients without a user name (the default only when there is no auth
    /// source, and then only on loopback).
    #[arg(long, overrides_with = "no_allow_anonymous")]
    pub allow_anonymous: bool,
    /// Refuse clients without a user name.
    #[arg(long)]
    pub no_allow_anonymous: bool,
    /// The longest Keep Alive a client may choose, in seconds.
    #[arg(long, value_name = "S", value_parser = clap::value_parser!(u16).range(1..))]
    pub max_keep_alive: Option<u16>,
    /// Refuse a client's CONNECT (0x97 Quota exceeded) while this many clients are
    /// connected (default: no limit).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,
    /// How many topics may hold a retained message: one more is refused whole (0x97
    /// Quota exceeded to a 5.0 publisher; default: no limit).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_retained: Option<u32>,
    /// How many bytes of topics and payloads the retained messages may hold: one that
    /// would pass it is refused whole (0x97; default: no limit).
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_retained_bytes: Option<u64>,
    /// How many QoS 1 and 2 messages a client may send before their acknowledgements
    /// (announced as Receive Maximum; more ends it with 0x93; default: 100).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub max_inflight: Option<u16>,
    /// How many PUBLISH a client may send per second, with a burst of a second's worth
    /// (more ends it with 0x96 Message rate too high; default: any).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_publish_rate: Option<u32>,
    /// The largest packet a client may send, in bytes: announced in CONNACK, and a
    /// larger one ends its connection with 0x95 Packet too large (default: 1 MiB).
    #[arg(long, value_name = "BYTES",
          value_parser = clap::value_parser!(u32).range(2..=268_435_460))]
    pub max_packet_size: Option<u32>,
    /// Serve TLS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Ask clients for certificates signed by these CAs (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_ca: Option<PathBuf>,
    /// Refuse TLS clients without such a certificate (needs --tls-ca).
    #[arg(long, requires = "tls_ca")]
    pub require_certificate: bool,
    /// Publish the `$SYS` figures (mosquitto's names) every S seconds, retained; 0:
    /// never.
    #[arg(long, value_name = "S", default_value = "10", value_parser = seconds)]
    pub sys_interval: Duration,
    /// How many messages one session may be owed (queued while away, unacknowledged).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub max_queued: usize,
    /// What is logged: error, warning, info, debug or trace (as the reference broker
    /// names them, in any case).
    #[arg(long, value_name = "LEVEL", default_value = "info", value_parser = level)]
    pub log_level: tracing::Level,
}

impl Options {
    /// Whether clients without a user name are accepted: as told, or else only when no
    /// auth source is given.
    pub fn anonymous_allowed(&self) -> bool {
        if self.no_allow_anonymous {
            return false;
        }
        self.allow_anonymous || !self.has_auth_source()
    }

    /// Whether a password or ACL file controls who may do what.
    pub fn has_auth_source(&self) -> bool {
        self.password_file.is_some() || self.acl_file.is_some()
    }

    /// The reason not to start, for anonymous clients on a non-loopback address that
    /// nothing controls: serving them takes an explicit --allow-anonymous.
    pub fn refusal(&self) -> Option<String> {
        if self.allow_anonymous || self.no_allow_anonymous || self.has_auth_source() {
            return None;
        }
        if is_loopback(&self.host) {
            return None;
        }
        Some(format!(
            "refusing to serve anonymous clients on {} with no --password-file or \
             --acl-file: give --allow-anonymous to serve them anyway, or an auth source",
            if self.host.is_empty() {
                "every address"
            } else {
                &self.host
            }
        ))
    }
}

/// A number of seconds, 0 or more, that a duration can hold.
fn seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|value| Duration::try_from_secs_f64(value).ok())
        .ok_or_else(|| format!("{text:?} is not a number of seconds (0 or more)"))
}

/// A log level by its name in Python's logging or in tracing.
fn level(name: &str) -> Result<tracing::Level, String> {
    match name.to_ascii_lowercase().as_str() {
        "critical" | "error" => Ok(tracing::Level::ERROR),
        "warning" | "warn" => Ok(tracing::Level::WARN),
        "info" => Ok(tracing::Level::INFO),
        "debug" => Ok(tracing::Level::DEBUG),
        "trace" => Ok(tracing::Level::TRACE),
        _ => Err(format!(
            "{name:?} is not a log level (error, warning, info, debug or trace)"
        )),
    }
}

/// Whether every address `host` names is a loopback address.
fn is_loopback(host: &str) -> bool {
    if let Ok(address) = host.parse::<IpAddr>() {
        return address.is_loopback();
    }
    match (host, 0).to_socket_addrs() {
        Ok(found) => {
            let found: Vec<_> = found.collect();
            !found.is_empty() && found.iter().all(|a| a.ip().is_loopback())
        }
        Err(_) => false, // the bind says what is wrong with it
    }
}
