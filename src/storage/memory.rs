//! [`MemoryStorage`]: the reference [`StorageInterface`], in memory and thread-safe.

use std::collections::{BTreeMap, HashMap};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::SystemTime;

use crate::error::Error;
use crate::message::Message;
use crate::router::QueuedMessage;
use crate::storage::StorageInterface;
use crate::topic::{
    IndexLimits, Subscription, SubscriptionIndex, TopicFilter, TopicName, TopicTree,
};

/// What [`MemoryStorage::enqueue`] does when a client's queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum QueueFullPolicy {
    /// Refuse the new message with an a storage error.
    #[default]
    Reject,
    /// Drop the oldest queued message to make room.
    DropOldest,
    /// Drop the new message, silently.
    DropNewest,
}

/// How a [`MemoryStorage`] bounds what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryStorageConfig {
    /// The most messages one client's queue may hold; `None` for no limit.
    pub max_queue_length: Option<usize>,
    /// What to do with a message for a full queue.
    pub queue_full: QueueFullPolicy,
    /// Limits on subscriptions (and on retained topics' levels).
    pub limits: IndexLimits,
}

impl Default for MemoryStorageConfig {
    fn default() -> Self {
        Self {
            max_queue_length: Some(DEFAULT_MAX_QUEUE_LENGTH),
            queue_full: QueueFullPolicy::Reject,
            limits: IndexLimits::default(),
        }
    }
}

/// The default [`MemoryStorageConfig::max_queue_length`].
pub const DEFAULT_MAX_QUEUE_LENGTH: usize = 10_000;

/// A client's queue: its messages by entry number, with when each was queued.
type Queue = BTreeMap<u64, (Message, SystemTime)>;

#[derive(Debug)]
struct Inner {
    retained: TopicTree<(Message, SystemTime)>,
    queues: HashMap<String, Queue>,
    subscriptions: SubscriptionIndex,
    closed: bool,
}

/// Retained messages in a [`TopicTree`], per-client FIFO queues, and subscriptions in a
/// [`SubscriptionIndex`], behind one lock. Nothing survives the process.
///
/// # Examples
/// ```
/// use mqtt_common::{MemoryStorage, Message, StorageInterface, TopicFilter, TopicName};
/// let storage = MemoryStorage::new();
/// storage.store_retained(Message::new(TopicName::new("site/1/temp")?, "21.5")?)?;
/// assert_eq!(storage.get_retained(&TopicFilter::new("site/+/temp")?)?.len(), 1);
/// // An empty payload deletes the retained message [MQTT-3.3.1-6].
/// storage.store_retained(Message::new(TopicName::new("site/1/temp")?, "")?)?;
/// assert!(storage.get_retained(&TopicFilter::new("#")?)?.is_empty());
/// # Ok::<(), mqtt_common::Error>(())
/// ```
#[derive(Debug)]
pub struct MemoryStorage {
    inner: RwLock<Inner>,
    config: MemoryStorageConfig,
}

impl Default for MemoryStorage {
    fn default() -> Self {
        Self::with_config(MemoryStorageConfig::default())
    }
}

impl MemoryStorage {
    /// An empty storage with the default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty storage with the given limits.
    pub fn with_config(config: MemoryStorageConfig) -> Self {
        Self {
            inner: RwLock::new(Inner {
                retained: TopicTree::with_max_topic_levels(config.limits.max_topic_levels),
                queues: HashMap::new(),
                subscriptions: SubscriptionIndex::with_limits(config.limits),
                closed: false,
            }),
            config,
        }
    }

    /// The limits in force.
    pub fn config(&self) -> MemoryStorageConfig {
        self.config
    }

    /// How many retained messages are stored.
    ///
    /// # Errors
    /// a storage error once closed.
    pub fn retained_count(&self) -> Result<usize, Error> {
        Ok(self.read()?.retained.len())
    }

    /// [`StorageInterface::enqueue`], saying what it did to the queue.
    pub(crate) fn enqueue_reporting(
        &self,
        client_id: &str,
        message: Message,
    ) -> Result<Enqueued, Error> {
        let mut inner = self.write()?;
        let queue = inner.queues.entry(client_id.to_owned()).or_default();
        let mut outcome = Enqueued::Appended(0);
        if let Some(limit) = self.config.max_queue_length
            && queue.len() >= limit
        {
            match self.config.queue_full {
                QueueFullPolicy::Reject => {
                    return Err(Error::storage(format!(
                        "the queue of client {client_id:?} is full ({limit} messages)"
                    )));
                }
                QueueFullPolicy::DropOldest if limit > 0 => {
                    queue.pop_first();
                    outcome = Enqueued::ReplacedOldest(0);
                }
                QueueFullPolicy::DropOldest | QueueFullPolicy::DropNewest => {
                    return Ok(Enqueued::Dropped);
                }
            }
        }
        let seq = queue.last_key_value().map_or(1, |(seq, _)| seq + 1);
        queue.insert(seq, (message, SystemTime::now()));
        Ok(match outcome {
            Enqueued::ReplacedOldest(_) => Enqueued::ReplacedOldest(seq),
            _ => Enqueued::Appended(seq),
        })
    }

    /// Puts back a client's queue as a store saved it, oldest first, past the length
    /// limit if it was lowered since: the limit bounds what comes, not what was kept.
    #[cfg(feature = "sqlite")]
    pub(crate) fn restore_queue(
        &self,
        client_id: &str,
        entries: Vec<QueuedMessage>,
    ) -> Result<(), Error> {
        if !entries.is_empty() {
            let mut inner = self.write()?;
            inner
                .queues
                .entry(client_id.to_owned())
                .or_default()
                .extend(
                    entries
                        .into_iter()
                        .map(|e| (e.seq, (e.message, e.enqueued_at))),
                );
        }
        Ok(())
    }

    /// Takes everything `other` holds in place of what this storage holds (a store whose
    /// database refused a write reloads what it has).
    #[cfg(feature = "sqlite")]
    pub(crate) fn replace_contents(&self, other: Self) -> Result<(), Error> {
        let mut inner = self.write()?;
        let fresh = other.inner.into_inner().map_err(|_| poisoned())?;
        *inner = fresh;
        Ok(())
    }

    fn read(&self) -> Result<RwLockReadGuard<'_, Inner>, Error> {
        let guard = self.inner.read().map_err(|_| poisoned())?;
        if guard.closed {
            return Err(closed());
        }
        Ok(guard)
    }

    fn write(&self) -> Result<RwLockWriteGuard<'_, Inner>, Error> {
        let guard = self.inner.write().map_err(|_| poisoned())?;
        if guard.closed {
            return Err(closed());
        }
        Ok(guard)
    }
}

fn poisoned() -> Error {
    Error::storage("a thread panicked while holding the storage lock")
}

fn closed() -> Error {
    Error::storage("the storage is closed")
}

impl StorageInterface for MemoryStorage {
    fn store_retained_at(&self, message: Message, arrived_at: SystemTime) -> Result<(), Error> {
        let mut inner = self.write()?;
        if message.payload().is_empty() {
            inner.retained.remove(message.topic().as_str());
        } else {
            let topic = message.topic().clone();
            inner.retained.insert(topic, (message, arrived_at))?;
        }
        Ok(())
    }

    fn retained_messages(&self) -> Result<Vec<(Message, SystemTime)>, Error> {
        let inner = self.read()?;
        Ok(inner
            .retained
            .iter()
            .map(|(_, kept)| kept.clone())
            .collect())
    }

    fn get_retained(&self, topic_filter: &TopicFilter) -> Result<Vec<Message>, Error> {
        let inner = self.read()?;
        let mut found = Vec::new();
        inner
            .retained
            .for_each_match(topic_filter, |_, (message, _)| found.push(message.clone()));
        Ok(found)
    }

    fn delete_retained(&self, topic: &TopicName) -> Result<bool, Error> {
        Ok(self.write()?.retained.remove(topic.as_str()).is_some())
    }

    fn enqueue(&self, client_id: &str, message: Message) -> Result<(), Error> {
        self.enqueue_reporting(client_id, message).map(drop)
    }

    fn enqueue_entry(&self, client_id: &str, entry: QueuedMessage) -> Result<(), Error> {
        let mut inner = self.write()?;
        inner
            .queues
            .entry(client_id.to_owned())
            .or_default()
            .insert(entry.seq, (entry.message, entry.enqueued_at));
        Ok(())
    }

    fn remove_queued(&self, client_id: &str, seq: u64) -> Result<bool, Error> {
        let mut inner = self.write()?;
        let Some(queue) = inner.queues.get_mut(client_id) else {
            return Ok(false);
        };
        let existed = queue.remove(&seq).is_some();
        if queue.is_empty() {
            inner.queues.remove(client_id);
        }
        Ok(existed)
    }

    fn queued_messages(&self, client_id: &str) -> Result<Vec<QueuedMessage>, Error> {
        let inner = self.read()?;
        Ok(inner
            .queues
            .get(client_id)
            .map(|queue| {
                queue
                    .iter()
                    .map(|(seq, (message, at))| QueuedMessage {
                        seq: *seq,
                        message: message.clone(),
                        enqueued_at: *at,
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    fn dequeue(&self, client_id: &str, limit: Option<usize>) -> Result<Vec<Message>, Error> {
        let mut inner = self.write()?;
        let Some(queue) = inner.queues.get_mut(client_id) else {
            return Ok(Vec::new());
        };
        let count = limit.unwrap_or(queue.len()).min(queue.len());
        let mut taken = Vec::with_capacity(count);
        for _ in 0..count {
            if let Some((_, (message, _))) = queue.pop_first() {
                taken.push(message);
            }
        }
        if queue.is_empty() {
            inner.queues.remove(client_id);
        }
        Ok(taken)
    }

    fn queue_length(&self, client_id: &str) -> Result<usize, Error> {
        Ok(self.read()?.queues.get(client_id).map_or(0, BTreeMap::len))
    }

    fn add_subscription(&self, client_id: &str, subscription: Subscription) -> Result<bool, Error> {
        Ok(self
            .write()?
            .subscriptions
            .subscribe(client_id, subscription)?
            .is_some())
    }

    fn remove_subscription(
        &self,
        client_id: &str,
        topic_filter: &TopicFilter,
    ) -> Result<bool, Error> {
        Ok(self
            .write()?
            .subscriptions
            .unsubscribe(client_id, topic_filter)
            .is_some())
    }

    fn get_subscriptions(&self, client_id: &str) -> Result<Vec<Subscription>, Error> {
        Ok(self
            .read()?
            .subscriptions
            .subscriptions(client_id)
            .into_iter()
            .cloned()
            .collect())
    }

    fn get_subscribers(&self, topic: &TopicName) -> Result<Vec<(String, Subscription)>, Error> {
        let inner = self.read()?;
        let mut found = Vec::new();
        inner
            .subscriptions
            .for_each_match(topic, |client, subscription| {
                found.push((client.to_owned(), subscription.clone()));
            });
        Ok(found)
    }

    fn close(&self) -> Result<(), Error> {
        let mut inner = self.inner.write().map_err(|_| poisoned())?;
        inner.closed = true;
        inner.retained = TopicTree::new();
        inner.queues = HashMap::new();
        inner.subscriptions = SubscriptionIndex::new();
        Ok(())
    }
}

/// What [`MemoryStorage::enqueue_reporting`] did to a client's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Enqueued {
    /// The message joined the end of the queue, with this entry number.
    Appended(u64),
    /// The queue was full: its oldest message made room for this one (this number).
    ReplacedOldest(u64),
    /// The queue was full (or holds nothing): the message was dropped.
    Dropped,
}
