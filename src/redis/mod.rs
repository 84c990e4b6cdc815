//! Redis stores: [`RedisStorage`] and [`RedisSessionStore`], native members of the
//! asynchronous family ([`AsyncStorageInterface`](crate::AsyncStorageInterface),
//! [`AsyncSessionInterface`](crate::AsyncSessionInterface)) that keep a broker's state
//! in the Redis (or Redis Cluster) operators already run. Behind the `redis` feature.
//!
//! The futures run on tokio (the `redis` crate's connections do): poll them inside a
//! tokio runtime. From Python, the extension's shared runtime does.
//!
//! ```no_run
//! use mqtt_common::{
//!     AsyncStorageInterface, MemoryStorageConfig, Message, RedisConfig, RedisStorage,
//!     TopicName,
//! };
//!
//! # async fn run() -> Result<(), mqtt_common::Error> {
//! let config = RedisConfig::new("redis://127.0.0.1:6379").with_prefix("broker-1");
//! let storage = RedisStorage::open(&config, MemoryStorageConfig::default()).await?;
//! storage.enqueue("sensor-1", Message::new(TopicName::new("cmd/reboot")?, "now")?).await?;
//! assert_eq!(storage.queue_length("sensor-1").await?, 1);
//! # Ok(())
//! # }
//! ```
//!
//! # Durability
//!
//! A call returns once Redis acknowledged the write; each write is one command or one
//! script, atomic on its own, and the writes of one call (a batch of the router's facts)
//! go out in one pipeline, in order. What an acknowledged write survives is Redis'
//! choice:
//!
//! * `appendonly yes` + `appendfsync always`: a crash of Redis or of its machine (Redis
//!   writes the append-only file before it answers);
//! * `appendonly yes` + `appendfsync everysec` (Redis' default when AOF is on): a crash
//!   of Redis; up to a second of writes on a crash of the machine;
//! * without AOF (RDB snapshots only): only what the last snapshot held;
//! * [`RedisConfig::replicas`]: each call then also waits (`WAIT`, on the master of the
//!   keys written) until that many replicas have the write, and fails if they do not
//!   within the timeout. With failover (Sentinel, Cluster), this is what keeps an
//!   acknowledged write after the master is lost: Redis replicates after it answers,
//!   so without it a failover can lose acknowledged writes (a test of this crate, on a
//!   cluster, lost one so). A call that fails its `WAIT` may still have been written
//!   (Redis takes nothing back): like any unacknowledged write, its caller sends it
//!   again, and it may then be there twice.
//!
//! # Key layout
//!
//! Every key starts with the configured prefix (default `mqtt`); the keys of one client
//! share a hash tag, `{c<client id>}` (up to the first `}` in the id), so that on a
//! Redis Cluster they are on one slot and a client's multi-key writes are atomic.
//!
//! ```text
//! <prefix>:schema                   string   the layout's version ("1"), checked at open
//! <prefix>:retained                 hash     topic -> retained record (arrival, message)
//! <prefix>:subscribers              set      ids of clients that have subscriptions
//! <prefix>:subs:{c<client id>}      hash     topic filter -> subscription record
//! <prefix>:queue:{c<client id>}     hash     entry number -> queued record (enqueued at,
//!                                            message)
//! <prefix>:clients                  set      ids of clients that have a session
//! <prefix>:session:{c<client id>}   string   session record (with its QoS flows)
//! <prefix>:will:{c<client id>}      string   Will record
//! ```
//!
//! The records are binary ([`records`](self) describes them: messages as MQTT 5.0
//! PUBLISH packets, as the SQLite stores write them). Lists (the two sets, the retained
//! hash) are read with `SSCAN`/`HSCAN`, so a start never asks Redis for everything at
//! once.
//!
//! # Faults
//!
//! Redis unreachable at open is a [`StorageError`](crate::ErrorKind::Storage) naming the
//! server. Lost later, each call fails with one (nothing is reported done that Redis did
//! not take) while the connection is re-established in the background, with backoff;
//! calls succeed again once it is.
//!
//! # Clusters
//!
//! Each node's [`Router`](crate::router::Router) is
//! [clustered](crate::router::Router::clustered); this module carries what the routers
//! exchange:
//!
//! * **The change log** (`<prefix>:changes`, a stream every node reads from the point it
//!   joined, in one order): the topic filters each node's clients hold and the retained
//!   messages published anywhere ([`Change`](crate::router::Change)). A node also keeps its filters in a set,
//!   which a node that joins reads once, before the log takes over.
//! * **Each node's inbox** (`<prefix>:inbox:{n<node>}`, a stream with the node's
//!   consumer group): the messages other nodes forward to it ([`Forward`](crate::router::Forward)),
//!   and the requests and answers of sessions moving between nodes. An entry
//!   is acknowledged and deleted once the node has routed it and stored what it
//!   queued ([`Inbox::done`]); a node that stops before that reads it again when it
//!   starts, so a message a publisher was acknowledged is never lost between nodes
//!   (it may come twice, as QoS 1 allows).
//! * **Each node's live feed** (`<prefix>:live:{n<node>}`, a pub/sub channel): QoS 0
//!   messages, which need no store ([`RedisNode::publish_live`], [`LiveFeed`]): in
//!   order among themselves, not with the inbox's (MQTT orders messages per QoS).
//! * **Leases** (`<prefix>:nodes`, node -> the end of its lease, in Redis' clock): a
//!   node renews its lease with [`RedisNode::heartbeat`], which also names the nodes
//!   whose lease ran out; one of the others adopts each ([`RedisNode::adopt`]): it takes
//!   up its sessions, withdraws its filters and drains its inbox.
//! * **Session owners** (`<prefix>:owner:{c<client id>}`): the node that holds each
//!   session ([`RedisNode::claim`] when its client connects).
//!
//! Forwards and changes are written by [`RedisNode::send`], in one pipeline per slot,
//! with the replicas' `WAIT` when the config requires it: a broker sends them with the
//! facts of the same publication, before the acknowledgement that promises them.
//!
//! ```text
//! <prefix>:nodes                 hash     node -> lease end (ms since the epoch)
//! <prefix>:filters:{n<node>}     set      the topic filters the node's clients hold
//! <prefix>:sessions:{n<node>}    set      the client ids of the sessions it holds
//! <prefix>:owner:{c<client id>}  string   the node that holds the client's session
//! <prefix>:changes               stream   k=filter|unfilter n=<node> f=<filter>
//!                                         k=retained m=<timed message record>
//!                                         k=cleared t=<topic>
//! <prefix>:inbox:{n<node>}       stream   k=forwards m=<forwards record>
//!                                         k=release c=<client> n=<asking node>
//!                                         k=released c=<client>; group <node>
//! <prefix>:live:{n<node>}        channel  <sender>\n<forwards record>
//! <prefix>:live-ack:{n<node>}    channel  "<reader> <count>": what a reader took
//! ```

mod live;
mod node;
mod records;
mod sessions;
mod storage;
mod streams;

use std::fmt;
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisError, RedisFuture, Value};

pub use live::{LIVE_WINDOW, LiveFeed};
pub use node::{Adopted, Inbound, Joined, Lease, NodeConfig, RedisNode};
pub use sessions::RedisSessionStore;
pub use storage::RedisStorage;
pub use streams::{ChangeLog, Inbox, InboxEntry};

use crate::error::Error;

/// The key layout's version this library writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// Where the stores keep their state, and what a write must reach before it is done.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisConfig {
    /// `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS; for a Redis
    /// Cluster, the URL of any of its nodes (the others are found from it).
    pub url: String,
    /// What every key starts with (no `{`, `}`, or spaces): several brokers, or tests,
    /// can share one Redis under different prefixes.
    pub prefix: String,
    /// Replicas each write must reach (`WAIT`) before a call returns; None: the master's
    /// acknowledgement is enough.
    pub replicas: Option<Replicas>,
    /// How long a call waits for Redis' answer before it fails.
    pub response_timeout: Duration,
    /// How long connecting may take.
    pub connection_timeout: Duration,
    /// For `rediss://`: the CA certificate (PEM) to trust instead of the system's roots
    /// (a self-signed deployment's).
    pub tls_ca: Option<std::path::PathBuf>,
}

impl RedisConfig {
    /// The stores at `url`, under the prefix `mqtt`, acknowledged by the master alone.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: "mqtt".to_owned(),
            replicas: None,
            response_timeout: Duration::from_secs(5),
            connection_timeout: Duration::from_secs(5),
            tls_ca: None,
        }
    }

    /// The same, trusting this CA certificate (PEM file) for `rediss://`.
    #[must_use]
    pub fn with_tls_ca(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.tls_ca = Some(path.into());
        self
    }

    /// The same, under another key prefix.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The same, each write waiting for `count` replicas (at most `timeout`).
    #[must_use]
    pub fn with_replicas(mut self, count: u32, timeout: Duration) -> Self {
        self.replicas = Some(Replicas { count, timeout });
        self
    }
}

/// How many replicas a write must reach, and how long to wait for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replicas {
    /// The number of replicas.
    pub count: u32,
    /// The longest wait; a write not on `count` replicas by then fails the call.
    pub timeout: Duration,
}

/// A connection to one Redis or to a Redis Cluster, shared by a store's calls (the
/// `redis` crate pipelines concurrent calls on it and reconnects when it is lost).
#[derive(Clone)]
enum Link {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Link {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(connection) => connection.req_packed_command(cmd),
            Self::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(connection) => connection.req_packed_commands(cmd, offset, count),
            Self::Cluster(connection) => connection.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(connection) => connection.get_db(),
            Self::Cluster(connection) => connection.get_db(),
        }
    }
}

/// What both stores share: the connection, the key names, the durability rule.
#[derive(Clone)]
struct Redis {
    link: Link,
    /// The server as the config named it, password hidden (for errors and logs).
    server: String,
    prefix: String,
    replicas: Option<Replicas>,
}

impl fmt::Debug for Redis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redis")
            .field("server", &self.server)
            .field("prefix", &self.prefix)
            .field("cluster", &matches!(self.link, Link::Cluster(_)))
            .field("replicas", &self.replicas)
            .finish()
    }
}

impl Redis {
    /// Connects (to the cluster, if the server is a cluster node) and checks the
    /// layout's version under the prefix, writing it on first use.
    async fn open(config: &RedisConfig) -> Result<Self, Error> {
        let server = without_password(&config.url);
        if config.prefix.is_empty()
            || config
                .prefix
                .contains(|c: char| c == '{' || c == '}' || c.is_whitespace())
        {
            return Err(Error::storage(format!(
                "the Redis key prefix {:?} is not usable: it must be non-empty, without \
                 braces or spaces",
                config.prefix
            )));
        }
        let failed = |err: RedisError| Error::storage(format!("Redis at {server}: {err}"));
        let certificates = certificates(config, &server)?;
        let client = plain_client(config, &server)?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.connection_timeout))
            .set_response_timeout(Some(config.response_timeout))
            .set_number_of_retries(3);
        let mut single = client
            .get_connection_manager_with_config(manager_config)
            .await
            .map_err(failed)?;
        let info: String = redis::cmd("INFO")
            .arg("cluster")
            .query_async(&mut single)
            .await
            .map_err(failed)?;
        let link = if info.contains("cluster_enabled:1") {
            let mut builder = ClusterClient::builder(vec![config.url.as_str()])
                .connection_timeout(config.connection_timeout)
                .response_timeout(config.response_timeout);
            if let Some(certificates) = certificates {
                builder = builder.certs(certificates);
            }
            let cluster = builder.build().map_err(failed)?;
            Link::Cluster(cluster.get_async_connection().await.map_err(failed)?)
        } else {
            Link::Single(single)
        };
        let redis = Self {
            link,
            server,
            prefix: config.prefix.clone(),
            replicas: config.replicas,
        };
        redis.check_schema().await?;
        Ok(redis)
    }

    async fn check_schema(&self) -> Result<(), Error> {
        let key = self.key("schema");
        let mut set = redis::cmd("SET");
        set.arg(&key).arg(SCHEMA_VERSION).arg("NX");
        let _: Value = self.query(&set, "write the layout version").await?;
        let found: Option<String> = self
            .query(redis::cmd("GET").arg(&key), "read the layout version")
            .await?;
        match found.as_deref().map(str::parse::<u32>) {
            Some(Ok(SCHEMA_VERSION)) => Ok(()),
            _ => Err(Error::storage(format!(
                "Redis at {}: the keys under {:?} have layout version {:?}; this version \
                 of mqtt-common reads {SCHEMA_VERSION}",
                self.server, self.prefix, found
            ))),
        }
    }

    /// A key of the whole store.
    fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    /// A key of one client's (its hash tag keeps a client's keys on one cluster slot).
    fn client_key(&self, kind: &str, client_id: &str) -> String {
        format!("{}:{kind}:{{c{client_id}}}", self.prefix)
    }

    /// The error for a failed call, naming the server and what was being done.
    fn failed(&self, doing: &str, err: &RedisError) -> Error {
        Error::storage(format!("Redis at {}: {doing}: {err}", self.server))
    }

    /// Sends one command (again once if the connection had dropped: see
    /// [`once_more`]).
    async fn query<T: redis::FromRedisValue>(&self, cmd: &Cmd, doing: &str) -> Result<T, Error> {
        let answer = match cmd.query_async(&mut self.link.clone()).await {
            Err(err) if once_more(&err) => cmd.query_async(&mut self.link.clone()).await,
            answer => answer,
        };
        answer.map_err(|e| self.failed(doing, &e))
    }

    /// Sends a batch of commands and returns their answers in order; a command Redis
    /// refused fails the call. One round trip on a single Redis; on a cluster, one per
    /// slot the batch touches, in the order of each slot's first command (a cluster
    /// pipeline must stay on one slot). Then, when replicas are required, waits for
    /// them on every node written to.
    async fn send(&self, batch: Batch, doing: &str) -> Result<Vec<Value>, Error> {
        let groups: Vec<Vec<usize>> = match &self.link {
            Link::Single(_) => vec![(0..batch.commands.len()).collect()],
            Link::Cluster(_) => {
                use redis::cluster_routing::Slot;
                let mut groups: Vec<(Slot, Vec<usize>)> = Vec::new();
                for (i, (key, _)) in batch.commands.iter().enumerate() {
                    let slot = Slot::for_key(key.as_bytes());
                    match groups.iter_mut().find(|(s, _)| *s == slot) {
                        Some((_, members)) => members.push(i),
                        None => groups.push((slot, vec![i])),
                    }
                }
                groups.into_iter().map(|(_, members)| members).collect()
            }
        };
        let mut answers = vec![Value::Nil; batch.commands.len()];
        // The keys stay for the replicas' wait; the commands move into the pipelines
        // (a command holds its payload: copying it would cost as much as sending it).
        let (keys, mut commands): (Vec<String>, Vec<Option<redis::Cmd>>) = batch
            .commands
            .into_iter()
            .map(|(key, command)| (key, Some(command)))
            .unzip();
        for group in &groups {
            let mut pipe = redis::pipe();
            for &i in group {
                if let Some(command) = commands[i].take() {
                    pipe.add_command(command);
                }
            }
            let replies: Vec<Value> = match pipe.query_async(&mut self.link.clone()).await {
                Err(err) if once_more(&err) => pipe.query_async(&mut self.link.clone()).await,
                replies => replies,
            }
            .map_err(|e| self.failed(doing, &e))?;
            for (&i, reply) in group.iter().zip(replies) {
                if let Value::ServerError(err) = &reply {
                    return Err(Error::storage(format!(
                        "Redis at {}: {doing}: {err:?}",
                        self.server
                    )));
                }
                answers[i] = reply;
            }
        }
        if batch.writes {
            for group in &groups {
                if let Some(&first) = group.first() {
                    self.replicated(&keys[first]).await?;
                }
            }
        }
        Ok(answers)
    }

    /// The error for an answer of the wrong shape.
    fn unreadable(&self, what: &str, err: &dyn fmt::Display) -> Error {
        Error::storage(format!(
            "Redis at {}: {what}: unexpected answer: {err}",
            self.server
        ))
    }

    /// Runs a script on the slot of its keys (loaded on first use).
    async fn script<T: redis::FromRedisValue>(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
        doing: &str,
    ) -> Result<T, Error> {
        invocation
            .invoke_async(&mut self.link.clone())
            .await
            .map_err(|e| self.failed(doing, &e))
    }

    /// Waits until the configured replicas have what was written on `key`'s node.
    async fn replicated(&self, key: &str) -> Result<(), Error> {
        let Some(replicas) = self.replicas else {
            return Ok(());
        };
        let timeout = u64::try_from(replicas.timeout.as_millis()).unwrap_or(u64::MAX);
        let mut wait = redis::cmd("WAIT");
        wait.arg(replicas.count).arg(timeout.max(1));
        let reached: u32 = match &self.link {
            Link::Single(_) => self.query(&wait, "wait for the replicas").await?,
            Link::Cluster(connection) => {
                use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
                // WAIT counts the replicas of the node it is sent to: the key's master.
                let route = Route::with_key(key, SlotAddr::Master);
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route));
                let answer = connection
                    .clone()
                    .route_command(wait, routing)
                    .await
                    .map_err(|e| self.failed("wait for the replicas", &e))?;
                redis::from_redis_value(answer).map_err(|e| {
                    Error::storage(format!(
                        "Redis at {}: wait for the replicas: {e}",
                        self.server
                    ))
                })?
            }
        };
        if reached < replicas.count {
            return Err(Error::storage(format!(
                "Redis at {}: the write reached {reached} of the {} replicas required within \
                 {:?}",
                self.server, replicas.count, replicas.timeout
            )));
        }
        Ok(())
    }

    /// Every member of a set, read in pages (`SSCAN`).
    async fn set_members(&self, key: &str, doing: &str) -> Result<Vec<String>, Error> {
        let mut members = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let mut scan = redis::cmd("SSCAN");
            scan.arg(key).arg(cursor).arg("COUNT").arg(1000);
            let (next, page): (u64, Vec<String>) = self.query(&scan, doing).await?;
            members.extend(page);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        members.sort_unstable();
        members.dedup();
        Ok(members)
    }

    /// Every field of a hash, read in pages (`HSCAN`), handed to `each` page by page.
    async fn hash_pages(
        &self,
        key: &str,
        doing: &str,
        mut each: impl FnMut(Vec<(String, Vec<u8>)>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut cursor: u64 = 0;
        loop {
            let mut scan = redis::cmd("HSCAN");
            scan.arg(key).arg(cursor).arg("COUNT").arg(1000);
            let (next, page): (u64, Vec<(String, Vec<u8>)>) = self.query(&scan, doing).await?;
            each(page)?;
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }
}

/// Commands to send together, each with the key that routes it on a cluster.
#[derive(Default)]
struct Batch {
    commands: Vec<(String, Cmd)>,
    /// Whether they write (then replicas are waited for, when required).
    writes: bool,
}

impl Batch {
    /// A batch of writes.
    fn writes() -> Self {
        Self {
            commands: Vec::new(),
            writes: true,
        }
    }

    /// A batch of reads.
    fn reads() -> Self {
        Self::default()
    }

    /// Adds a command on `key`'s slot.
    fn add(&mut self, key: &str, cmd: Cmd) -> &mut Self {
        self.commands.push((key.to_owned(), cmd));
        self
    }

    fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }
}

/// Whether a failed request is sent once more: the connection to Redis had dropped
/// (Redis restarted, a failover), and the `redis` crate connects again on the next
/// request. Without this, the first request on each of a store's connections after
/// Redis comes back would fail, and a broker would end the connections waiting for it.
/// Sending a write twice is safe here: every write of these stores sets a value, adds
/// to a set or a stream, or deletes; a stream entry written twice is a message
/// delivered twice, which QoS 1 allows.
fn once_more(err: &RedisError) -> bool {
    err.is_connection_dropped() || (err.is_io_error() && !err.is_connection_refusal())
}

/// The CA of `rediss://` the config names, read.
fn certificates(
    config: &RedisConfig,
    server: &str,
) -> Result<Option<redis::TlsCertificates>, Error> {
    let Some(path) = &config.tls_ca else {
        return Ok(None);
    };
    let root = std::fs::read(path).map_err(|err| {
        Error::storage(format!(
            "Redis at {server}: cannot read the CA file {}: {err}",
            path.display()
        ))
    })?;
    Ok(Some(redis::TlsCertificates {
        client_tls: None,
        root_cert: Some(root),
    }))
}

/// A client of the one server the config's URL names (not the cluster's).
fn plain_client(config: &RedisConfig, server: &str) -> Result<redis::Client, Error> {
    let failed = |err: RedisError| Error::storage(format!("Redis at {server}: {err}"));
    match certificates(config, server)? {
        None => redis::Client::open(config.url.as_str()),
        Some(certificates) => redis::Client::build_with_tls(config.url.as_str(), certificates),
    }
    .map_err(failed)
}

/// The URL with its password replaced by `***`, for messages.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split_once(':').map_or("", |(user, _)| user);
            format!("{scheme}://{user}:***@{host}{path}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn messages_never_show_the_password() {
        assert_eq!(
            without_password("redis://user:secret@host:6379/0"),
            "redis://user:***@host:6379/0"
        );
        assert_eq!(without_password("rediss://:secret@h"), "rediss://:***@h");
        assert_eq!(
            without_password("redis://127.0.0.1:1"),
            "redis://127.0.0.1:1"
        );
    }
}
