//! [`RedisStorage`]: retained messages, queues and subscriptions in Redis.

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use redis::{Script, Value, cmd, from_redis_value};

use super::records::{decode_subscription, decode_timed, encode_subscription, encode_timed};
use super::{Batch, Redis, RedisConfig};
use crate::asynchronous::BoxFuture;
use crate::error::{Error, TopicKind, Violation};
use crate::message::Message;
use crate::router::{Fact, QueuedMessage};
use crate::storage::{
    AsyncStorageInterface, MemoryStorageConfig, QueueFullPolicy, StorageCall, storage_call,
};

use crate::topic::{
    IndexLimits, Subscription, SubscriptionIndex, TopicFilter, TopicName, TopicTree,
    check_client_id,
};

/// Appends to a full-or-not queue as `MemoryStorage` does: KEYS[1] the queue, ARGV the
/// limit (-1: none), the policy, the record. Returns the entry number, 0 if dropped, -1
/// if refused.
static ENQUEUE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local limit = tonumber(ARGV[1])
        local lowest, highest, count = nil, 0, 0
        for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
            local seq = tonumber(field)
            count = count + 1
            if seq > highest then highest = seq end
            if lowest == nil or seq < lowest then lowest = seq end
        end
        if limit >= 0 and count >= limit then
            if ARGV[2] == 'reject' then return -1 end
            if ARGV[2] == 'drop_oldest' and limit > 0 then
                redis.call('HDEL', KEYS[1], string.format('%d', lowest))
            else
                return 0
            end
        end
        redis.call('HSET', KEYS[1], string.format('%d', highest + 1), ARGV[3])
        return highest + 1
        ",
    )
});

/// Takes the first ARGV[1] (-1: all) entries of the queue KEYS[1], oldest first.
static DEQUEUE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local seqs = redis.call('HKEYS', KEYS[1])
        table.sort(seqs, function(a, b) return tonumber(a) < tonumber(b) end)
        local n = tonumber(ARGV[1])
        if n < 0 or n > #seqs then n = #seqs end
        local taken = {}
        for i = 1, n do
            taken[i] = redis.call('HGET', KEYS[1], seqs[i])
            redis.call('HDEL', KEYS[1], seqs[i])
        end
        return taken
        ",
    )
});

/// Adds the subscription ARGV[1] (record ARGV[2]) to KEYS[1] unless a new one would
/// pass the limit ARGV[3] (-1: none). Returns 1 if it replaced one, 0 if new, -1 if
/// refused.
static SUBSCRIBE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local existed = redis.call('HEXISTS', KEYS[1], ARGV[1])
        local limit = tonumber(ARGV[3])
        if existed == 0 and limit >= 0 and redis.call('HLEN', KEYS[1]) >= limit then
            return -1
        end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        return existed
        ",
    )
});

/// `MemoryStorage`'s behaviour, kept in Redis (see the [module documentation](super)
/// for the key layout and what a returned call survives).
///
/// Reads go to Redis: they are a restart's (a broker's router keeps what it routes by in
/// memory), and every node sharing the Redis sees the same answers. Matching
/// (`get_retained`, `get_subscribers`) reads the retained hash or every subscription in
/// pages and matches them here, with the rules of [`TopicTree`] and
/// [`SubscriptionIndex`].
#[derive(Debug)]
pub struct RedisStorage {
    redis: Redis,
    config: MemoryStorageConfig,
    closed: AtomicBool,
}

impl RedisStorage {
    /// Connects, checks the key layout's version, and bounds queues and subscriptions
    /// as `config` says (as [`MemoryStorage`](crate::MemoryStorage) does).
    ///
    /// # Errors
    /// A storage error naming the server if it cannot be reached or its keys under the
    /// prefix have another layout version.
    pub async fn open(redis: &RedisConfig, config: MemoryStorageConfig) -> Result<Self, Error> {
        Ok(Self {
            redis: Redis::open(redis).await?,
            config,
            closed: AtomicBool::new(false),
        })
    }

    /// The server (its URL without the password).
    pub fn server(&self) -> &str {
        &self.redis.server
    }

    /// Whether the server is a Redis Cluster node (the cluster is used).
    pub fn is_cluster(&self) -> bool {
        matches!(self.redis.link, super::Link::Cluster(_))
    }

    /// The limits in force.
    pub fn config(&self) -> MemoryStorageConfig {
        self.config
    }

    fn open_or_closed(&self) -> Result<&Redis, Error> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::storage("the storage is closed"));
        }
        Ok(&self.redis)
    }

    fn retained_key(&self) -> String {
        self.redis.key("retained")
    }

    fn subscribers_key(&self) -> String {
        self.redis.key("subscribers")
    }

    fn queue_key(&self, client_id: &str) -> String {
        self.redis.client_key("queue", client_id)
    }

    fn subs_key(&self, client_id: &str) -> String {
        self.redis.client_key("subs", client_id)
    }

    /// Every retained message with its arrival time.
    async fn all_retained(&self) -> Result<Vec<(Message, SystemTime)>, Error> {
        let redis = self.open_or_closed()?;
        let mut found = Vec::new();
        redis
            .hash_pages(&self.retained_key(), "read the retained messages", |page| {
                for (topic, record) in page {
                    let whose = format!("the retained message of {topic:?}");
                    found.push(decode_timed(&record, &whose)?);
                }
                Ok(())
            })
            .await?;
        Ok(found)
    }

    /// A client's subscriptions, by filter.
    async fn subscriptions_of(&self, client_id: &str) -> Result<Vec<Subscription>, Error> {
        let redis = self.open_or_closed()?;
        let fields: BTreeMap<String, Vec<u8>> = redis
            .query(
                redis::cmd("HGETALL").arg(self.subs_key(client_id)),
                "read a client's subscriptions",
            )
            .await?;
        decode_subscriptions(client_id, fields)
    }

    /// Adds the commands that store `call` to `batch`.
    fn add_commands(&self, batch: &mut Batch, call: StorageCall) -> Result<(), Error> {
        match call {
            StorageCall::StoreRetained(message, arrived_at) => {
                let key = self.retained_key();
                let topic = message.topic().as_str();
                if message.payload().is_empty() {
                    batch.add(&key, std::mem::take(cmd("HDEL").arg(&key).arg(topic)));
                } else {
                    self.check_retained_levels(message.topic())?;
                    let record = encode_timed(&message, arrived_at)?;
                    batch.add(
                        &key,
                        std::mem::take(cmd("HSET").arg(&key).arg(topic).arg(record)),
                    );
                }
            }
            StorageCall::DeleteRetained(topic) => {
                let key = self.retained_key();
                batch.add(
                    &key,
                    std::mem::take(cmd("HDEL").arg(&key).arg(topic.as_str())),
                );
            }
            StorageCall::AddSubscription(client_id, subscription) => {
                // The set first: a member with no subscription left is skipped when
                // read; a subscription whose client is not in the set would be lost.
                let set = self.subscribers_key();
                batch.add(&set, std::mem::take(cmd("SADD").arg(&set).arg(&client_id)));
                let key = self.subs_key(&client_id);
                let filter = subscription.topic_filter().as_str();
                let record = encode_subscription(&subscription);
                batch.add(
                    &key,
                    std::mem::take(cmd("HSET").arg(&key).arg(filter).arg(record)),
                );
            }
            StorageCall::RemoveSubscription(client_id, topic_filter) => {
                let key = self.subs_key(&client_id);
                batch.add(
                    &key,
                    std::mem::take(cmd("HDEL").arg(&key).arg(topic_filter.as_str())),
                );
            }
            StorageCall::EnqueueEntry(client_id, entry) => {
                let key = self.queue_key(&client_id);
                let record = encode_timed(&entry.message, entry.enqueued_at)?;
                batch.add(
                    &key,
                    std::mem::take(cmd("HSET").arg(&key).arg(entry.seq).arg(record)),
                );
            }
            StorageCall::RemoveQueued(client_id, seq) => {
                let key = self.queue_key(&client_id);
                batch.add(&key, std::mem::take(cmd("HDEL").arg(&key).arg(seq)));
            }
            StorageCall::ForgetClient(client_id) => {
                // Both keys are on the client's slot: one command.
                let key = self.subs_key(&client_id);
                let queue = self.queue_key(&client_id);
                batch.add(&key, std::mem::take(cmd("DEL").arg(&key).arg(&queue)));
                let set = self.subscribers_key();
                batch.add(&set, std::mem::take(cmd("SREM").arg(&set).arg(&client_id)));
            }
        }
        Ok(())
    }

    /// One call's write: its commands, sent and checked; the answers in order.
    async fn write_call(&self, call: StorageCall, doing: &str) -> Result<Vec<Value>, Error> {
        let redis = self.open_or_closed()?;
        let mut batch = Batch::writes();
        self.add_commands(&mut batch, call)?;
        redis.send(batch, doing).await
    }

    fn check_retained_levels(&self, topic: &TopicName) -> Result<(), Error> {
        self.config
            .limits
            .check_levels(TopicKind::Name, topic.levels().count())
            .map_err(|e| e.in_field("topic"))
    }

    fn limit_arg(limit: Option<usize>) -> i64 {
        limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX))
    }
}

/// A client's subscriptions from their hash fields, by filter.
fn decode_subscriptions(
    client_id: &str,
    fields: BTreeMap<String, Vec<u8>>,
) -> Result<Vec<Subscription>, Error> {
    fields
        .into_iter()
        .map(|(filter, record)| {
            let whose = format!("the subscription of {client_id:?} to {filter:?}");
            decode_subscription(&filter, &record, &whose)
        })
        .collect()
}

/// Whether the answer of a single write removed or replaced something (an integer > 0).
fn positive(answers: &[Value], index: usize) -> bool {
    matches!(answers.get(index), Some(Value::Int(n)) if *n > 0)
}

impl AsyncStorageInterface for RedisStorage {
    fn store_retained_at(
        &self,
        message: Message,
        arrived_at: SystemTime,
    ) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            let call = StorageCall::StoreRetained(message, arrived_at);
            self.write_call(call, "store a retained message").await?;
            Ok(())
        })
    }

    fn retained_messages(&self) -> BoxFuture<'_, Result<Vec<(Message, SystemTime)>, Error>> {
        Box::pin(self.all_retained())
    }

    fn get_retained<'a>(
        &'a self,
        topic_filter: &'a TopicFilter,
    ) -> BoxFuture<'a, Result<Vec<Message>, Error>> {
        Box::pin(async move {
            let mut tree = TopicTree::new();
            for (message, _) in self.all_retained().await? {
                let topic = message.topic().clone();
                tree.insert(topic, message)?;
            }
            let mut found = Vec::new();
            tree.for_each_match(topic_filter, |_, message| found.push(message.clone()));
            Ok(found)
        })
    }

    fn delete_retained<'a>(&'a self, topic: &'a TopicName) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let call = StorageCall::DeleteRetained(topic.clone());
            let answers = self.write_call(call, "delete a retained message").await?;
            Ok(positive(&answers, 0))
        })
    }

    fn enqueue<'a>(
        &'a self,
        client_id: &'a str,
        message: Message,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let redis = self.open_or_closed()?;
            let key = self.queue_key(client_id);
            let policy = match self.config.queue_full {
                QueueFullPolicy::DropOldest => "drop_oldest",
                QueueFullPolicy::DropNewest => "drop_newest",
                _ => "reject",
            };
            let record = encode_timed(&message, SystemTime::now())?;
            let mut invocation = ENQUEUE.key(&key);
            invocation
                .arg(Self::limit_arg(self.config.max_queue_length))
                .arg(policy)
                .arg(record);
            let outcome: i64 = redis.script(&invocation, "queue a message").await?;
            if outcome < 0 {
                let limit = self.config.max_queue_length.unwrap_or_default();
                return Err(Error::storage(format!(
                    "the queue of client {client_id:?} is full ({limit} messages)"
                )));
            }
            redis.replicated(&key).await
        })
    }

    fn enqueue_entry<'a>(
        &'a self,
        client_id: &'a str,
        entry: QueuedMessage,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let call = StorageCall::EnqueueEntry(client_id.to_owned(), entry);
            self.write_call(call, "queue a message").await?;
            Ok(())
        })
    }

    fn remove_queued<'a>(
        &'a self,
        client_id: &'a str,
        seq: u64,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let call = StorageCall::RemoveQueued(client_id.to_owned(), seq);
            let answers = self.write_call(call, "remove a queued message").await?;
            Ok(positive(&answers, 0))
        })
    }

    fn queued_messages<'a>(
        &'a self,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<QueuedMessage>, Error>> {
        Box::pin(async move {
            let redis = self.open_or_closed()?;
            let fields: Vec<(String, Vec<u8>)> = redis
                .query(
                    redis::cmd("HGETALL").arg(self.queue_key(client_id)),
                    "read a client's queue",
                )
                .await?;
            let mut entries = fields
                .into_iter()
                .map(|(seq, record)| {
                    let whose = format!("the queued message {seq} of {client_id:?}");
                    let number = seq
                        .parse::<u64>()
                        .map_err(|_| Error::storage(format!("{whose} has no entry number")))?;
                    let (message, enqueued_at) = decode_timed(&record, &whose)?;
                    Ok(QueuedMessage {
                        seq: number,
                        message,
                        enqueued_at,
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            entries.sort_by_key(|entry| entry.seq);
            Ok(entries)
        })
    }

    fn persist<'a>(&'a self, facts: &'a [Fact]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let redis = self.open_or_closed()?;
            let mut batch = Batch::writes();
            for fact in facts {
                if let Some(call) = storage_call(fact) {
                    self.add_commands(&mut batch, call)?;
                }
            }
            if !batch.is_empty() {
                redis.send(batch, "store the router's facts").await?;
            }
            Ok(())
        })
    }

    fn dequeue<'a>(
        &'a self,
        client_id: &'a str,
        limit: Option<usize>,
    ) -> BoxFuture<'a, Result<Vec<Message>, Error>> {
        Box::pin(async move {
            let redis = self.open_or_closed()?;
            let key = self.queue_key(client_id);
            let mut invocation = DEQUEUE.key(&key);
            invocation.arg(Self::limit_arg(limit));
            let records: Vec<Vec<u8>> = redis.script(&invocation, "take queued messages").await?;
            redis.replicated(&key).await?;
            let whose = format!("a queued message of {client_id:?}");
            records
                .iter()
                .map(|record| decode_timed(record, &whose).map(|(message, _)| message))
                .collect()
        })
    }

    fn queue_length<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(async move {
            let redis = self.open_or_closed()?;
            redis
                .query(
                    redis::cmd("HLEN").arg(self.queue_key(client_id)),
                    "count a client's queue",
                )
                .await
        })
    }

    fn add_subscription<'a>(
        &'a self,
        client_id: &'a str,
        subscription: Subscription,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let redis = self.open_or_closed()?;
            check_client_id(client_id)?;
            let limits = self.config.limits;
            limits
                .check_levels(
                    TopicKind::Filter,
                    subscription.topic_filter().levels().count(),
                )
                .map_err(|e| e.in_field("topic_filter"))?;
            // The set first (see `add_commands`).
            let _: Value = redis
                .query(
                    redis::cmd("SADD")
                        .arg(self.subscribers_key())
                        .arg(client_id),
                    "add a subscription",
                )
                .await?;
            let key = self.subs_key(client_id);
            let mut invocation = SUBSCRIBE.key(&key);
            invocation
                .arg(subscription.topic_filter().as_str())
                .arg(encode_subscription(&subscription))
                .arg(Self::limit_arg(limits.max_subscriptions_per_client));
            let outcome: i64 = redis.script(&invocation, "add a subscription").await?;
            if outcome < 0 {
                let limit = limits.max_subscriptions_per_client.unwrap_or_default();
                return Err(Error::invalid(
                    "subscription",
                    Violation::TooManySubscriptions { limit },
                ));
            }
            redis.replicated(&key).await?;
            Ok(outcome > 0)
        })
    }

    fn remove_subscription<'a>(
        &'a self,
        client_id: &'a str,
        topic_filter: &'a TopicFilter,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let call = StorageCall::RemoveSubscription(client_id.to_owned(), topic_filter.clone());
            let answers = self.write_call(call, "remove a subscription").await?;
            Ok(positive(&answers, 0))
        })
    }

    fn get_subscriptions<'a>(
        &'a self,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<Subscription>, Error>> {
        Box::pin(self.subscriptions_of(client_id))
    }

    fn get_subscribers<'a>(
        &'a self,
        topic: &'a TopicName,
    ) -> BoxFuture<'a, Result<Vec<(String, Subscription)>, Error>> {
        Box::pin(async move {
            let redis = self.open_or_closed()?;
            let clients = redis
                .set_members(&self.subscribers_key(), "read the subscribers")
                .await?;
            let mut index = SubscriptionIndex::with_limits(IndexLimits {
                max_subscriptions_per_client: None,
                ..self.config.limits
            });
            // A page of clients per round trip.
            for page in clients.chunks(100) {
                let mut batch = Batch::reads();
                for client_id in page {
                    let key = self.subs_key(client_id);
                    batch.add(&key, std::mem::take(cmd("HGETALL").arg(&key)));
                }
                let answers = redis.send(batch, "read the subscriptions").await?;
                for (client_id, answer) in page.iter().zip(answers) {
                    let fields: BTreeMap<String, Vec<u8>> = from_redis_value(answer)
                        .map_err(|e| redis.unreadable("the subscriptions", &e))?;
                    for subscription in decode_subscriptions(client_id, fields)? {
                        index.subscribe(client_id, subscription)?;
                    }
                }
            }
            let mut found = Vec::new();
            index.for_each_match(topic, |client, subscription| {
                found.push((client.to_owned(), subscription.clone()));
            });
            Ok(found)
        })
    }

    fn close(&self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            // Every returned call was acknowledged: nothing waits to be written.
            self.closed.store(true, Ordering::Release);
            Ok(())
        })
    }
}
