//! The live feeds of a cluster's nodes: QoS 0 messages forwarded through Redis pub/sub,
//! which stores nothing, with a window per pair of nodes so that a fast sender waits
//! for a slow reader instead of filling Redis' output buffer (past which Redis cuts
//! the reader off).
//!
//! ```text
//! <prefix>:live:{n<node>}       channel  messages for the node: the sender's id, a
//!                                        newline, then a forwards record
//! <prefix>:live-ack:{n<node>}   channel  what a node read of the node's messages:
//!                                        "<reader> <count>"
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use redis::cmd;
use tokio::sync::Notify;

use super::records::{decode_forwards_into, encode_forwards};
use super::streams::per_node;
use super::{Batch, Redis, RedisConfig};
use crate::error::Error;
use crate::router::Forward;

/// How many messages one node may have sent another live that it has not read yet.
pub const LIVE_WINDOW: u64 = 20_000;

/// The most messages one pub/sub message carries: a sender with more sends them in
/// several, each once the window has room, so that no single message outgrows what
/// Redis buffers for a reader.
const LIVE_CHUNK: usize = 1_000;

/// The largest record copied into the room a live feed reuses.
const REUSED_RECORD_MAX: usize = 1024 * 1024;

/// How long a sender waits for a reader that reads nothing at all (lost, or gone)
/// before it counts what it sent as lost and sends again.
const STALL: Duration = Duration::from_secs(1);

/// What a node has sent each other node live and that node has not read yet.
#[derive(Debug, Default)]
pub(super) struct LiveWindow {
    unread: Mutex<HashMap<String, Unread>>,
    read: Notify,
}

#[derive(Debug, Clone, Copy)]
struct Unread {
    count: u64,
    /// When the reader last read some (or the first was sent).
    since: Instant,
}

impl LiveWindow {
    fn unread(&self) -> MutexGuard<'_, HashMap<String, Unread>> {
        self.unread.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until `node` has room for more; a reader silent for `STALL` counts as
    /// having read everything (what it had not is lost, as QoS 0 allows).
    async fn room_at(&self, node: &str) {
        loop {
            let notified = self.read.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let wait = {
                let mut unread = self.unread();
                let Some(entry) = unread.get_mut(node) else {
                    return;
                };
                if entry.count < LIVE_WINDOW {
                    return;
                }
                let silent = entry.since.elapsed();
                if silent >= STALL {
                    entry.count = 0;
                    entry.since = Instant::now();
                    return;
                }
                STALL - silent
            };
            let _ = tokio::time::timeout(wait, notified).await;
        }
    }

    fn sent(&self, node: &str, count: u64) {
        let mut unread = self.unread();
        let entry = unread.entry(node.to_owned()).or_insert(Unread {
            count: 0,
            since: Instant::now(),
        });
        if entry.count == 0 {
            entry.since = Instant::now();
        }
        entry.count += count;
    }

    fn read_by(&self, node: &str, count: u64) {
        if let Some(entry) = self.unread().get_mut(node) {
            entry.count = entry.count.saturating_sub(count);
            entry.since = Instant::now();
        }
        self.read.notify_waiters();
    }

    /// How many more messages `node` may be sent now.
    fn room(&self, node: &str) -> u64 {
        let unread = self.unread().get(node).map_or(0, |entry| entry.count);
        LIVE_WINDOW.saturating_sub(unread)
    }

    /// Sends each node its messages, in order, in pub/sub messages of at most
    /// `LIVE_CHUNK`: as many as the window has room for in one round trip (at least
    /// one), then the rest once it has room again.
    pub(super) async fn publish<'a>(
        &self,
        redis: &Redis,
        from: &str,
        forwards: impl IntoIterator<Item = &'a Forward>,
    ) -> Result<(), Error> {
        for (node, to) in per_node(forwards) {
            let channel = live_channel(&redis.prefix, node);
            let mut chunks = to.chunks(LIVE_CHUNK).peekable();
            while chunks.peek().is_some() {
                self.room_at(node).await;
                let room = self.room(node).max(1);
                let (mut batch, mut count) = (Batch::reads(), 0);
                while let Some(chunk) =
                    chunks.next_if(|chunk| count == 0 || (count + chunk.len()) as u64 <= room)
                {
                    let size: usize = chunk.iter().map(|f| record_room(f)).sum();
                    let mut payload = Vec::with_capacity(from.len() + 1 + size);
                    payload.extend_from_slice(from.as_bytes());
                    payload.push(b'\n');
                    encode_forwards(&mut payload, chunk.iter().copied())?;
                    batch.add(
                        &channel,
                        std::mem::take(cmd("PUBLISH").arg(&channel).arg(payload)),
                    );
                    count += chunk.len();
                }
                // Counted before it is sent: the reader may tell it read them before
                // Redis' answer reaches this task.
                self.sent(node, count as u64);
                if let Err(err) = redis.send(batch, "publish to another node").await {
                    self.read_by(node, count as u64);
                    return Err(err);
                }
            }
        }
        Ok(())
    }
}

/// About the room a forward takes in a record (more when it has many properties), so
/// that a record is seldom copied as it grows.
fn record_room(forward: &Forward) -> usize {
    let text = |s: Option<&str>| s.map_or(0, str::len);
    let groups: usize = forward.groups.iter().map(|g| 4 + g.len()).sum();
    let message = &forward.message;
    64 + text(forward.publisher.as_deref())
        + text(forward.client.as_deref())
        + groups
        + message.topic().as_str().len()
        + message.payload().len()
}

fn live_channel(prefix: &str, node: &str) -> String {
    format!("{prefix}:live:{{n{node}}}")
}

fn ack_channel(prefix: &str, node: &str) -> String {
    format!("{prefix}:live-ack:{{n{node}}}")
}

/// The QoS 0 messages other nodes forward to this one
/// ([`RedisNode::publish_live`](super::RedisNode::publish_live)), through Redis pub/sub:
/// nothing is stored, and what is sent while the feed is not connected is lost, as
/// QoS 0 allows. Reading it also tells the senders what was read (their window), and
/// takes in what other nodes read of this node's messages.
pub struct LiveFeed {
    config: RedisConfig,
    redis: Redis,
    node: String,
    window: Arc<LiveWindow>,
    stream: Option<redis::aio::PubSubStream>,
    /// What the last read returned, to tell its sender once the caller comes back.
    to_acknowledge: Option<(String, usize)>,
    /// Where records are copied to be read: once their messages are gone, the next
    /// record reuses the room (a fresh allocation of this size costs page faults).
    records: BytesMut,
}

impl std::fmt::Debug for LiveFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveFeed")
            .field("server", &self.redis.server)
            .field("node", &self.node)
            .field("connected", &self.stream.is_some())
            .finish()
    }
}

impl LiveFeed {
    pub(super) fn new(
        config: &RedisConfig,
        redis: &Redis,
        node: &str,
        window: Arc<LiveWindow>,
    ) -> Self {
        Self {
            config: config.clone(),
            redis: redis.clone(),
            node: node.to_owned(),
            window,
            stream: None,
            to_acknowledge: None,
            records: BytesMut::new(),
        }
    }

    /// Connects and subscribes, if not connected.
    ///
    /// # Errors
    /// A storage error if Redis cannot be reached.
    pub async fn connect(&mut self) -> Result<(), Error> {
        if self.stream.is_some() {
            return Ok(());
        }
        let server = &self.redis.server;
        let client = super::plain_client(&self.config, server)?;
        let failed = |err: redis::RedisError| {
            Error::storage(format!("Redis at {server}: the live feed: {err}"))
        };
        let mut pubsub = client.get_async_pubsub().await.map_err(failed)?;
        let channels = [
            live_channel(&self.redis.prefix, &self.node),
            ack_channel(&self.redis.prefix, &self.node),
        ];
        pubsub.subscribe(&channels).await.map_err(failed)?;
        self.stream = Some(pubsub.into_on_message());
        Ok(())
    }

    /// The next messages forwarded live, waiting for them (connecting first if need
    /// be); entries this version cannot read are skipped. Call it again once they are
    /// routed: their sender is then told they were read.
    ///
    /// # Errors
    /// A storage error if the connection is lost or cannot be made: the next call
    /// connects again.
    pub async fn read(&mut self) -> Result<Vec<Forward>, Error> {
        let mut forwards = Vec::new();
        self.read_into(&mut forwards).await?;
        Ok(forwards)
    }

    /// [`read`](Self::read), adding the messages to `forwards`: a caller that clears
    /// and reuses one list allocates none per read.
    ///
    /// # Errors
    /// As [`read`](Self::read); nothing is added then.
    pub async fn read_into(&mut self, forwards: &mut Vec<Forward>) -> Result<(), Error> {
        if let Some((sender, count)) = self.to_acknowledge.take() {
            let channel = ack_channel(&self.redis.prefix, &sender);
            let mut batch = Batch::reads();
            let ack = format!("{} {count}", self.node);
            batch.add(
                &channel,
                std::mem::take(cmd("PUBLISH").arg(&channel).arg(ack)),
            );
            // Not told: the sender counts it lost after a while.
            let _ = self.redis.send(batch, "acknowledge live messages").await;
        }
        self.connect().await?;
        loop {
            let Some(stream) = self.stream.as_mut() else {
                return Ok(());
            };
            let next = std::future::poll_fn(|cx| {
                futures_core::Stream::poll_next(std::pin::Pin::new(&mut *stream), cx)
            })
            .await;
            let Some(message) = next else {
                self.stream = None;
                return Err(Error::storage(format!(
                    "Redis at {}: the live feed was lost",
                    self.redis.server
                )));
            };
            let payload = message.get_payload_bytes();
            if message.get_channel_name().contains(":live-ack:") {
                let text = String::from_utf8_lossy(payload);
                if let Some((reader, count)) = text.split_once(' ')
                    && let Ok(count) = count.parse::<u64>()
                {
                    self.window.read_by(reader, count);
                }
                continue;
            }
            let Some(split) = payload.iter().position(|&b| b == b'\n') else {
                continue;
            };
            let sender = String::from_utf8_lossy(&payload[..split]).into_owned();
            let body = &payload[split + 1..];
            // A rare large record gets room of its own, freed with its messages: the
            // reused room stays the size of the common ones.
            let record = if body.len() <= REUSED_RECORD_MAX {
                self.records.extend_from_slice(body);
                self.records.split().freeze()
            } else {
                bytes::Bytes::copy_from_slice(body)
            };
            let before = forwards.len();
            // An unreadable record adds nothing; it still counts as read for its sender.
            let _ = decode_forwards_into(&self.node, &record, forwards);
            self.to_acknowledge = Some((sender, forwards.len() - before));
            return Ok(());
        }
    }
}
