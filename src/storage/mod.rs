//! Storage: the [`StorageInterface`] that backends implement (retained messages, queues
//! for offline clients and subscriptions), and [`MemoryStorage`], the reference backend.
//!
//! For a [`Router`](crate::router::Router), a storage persists facts and loads them at
//! a restart, and nothing else: retained messages with their arrival time
//! ([`store_retained_at`](StorageInterface::store_retained_at),
//! [`retained_messages`](StorageInterface::retained_messages)), the messages a session is
//! owed under the router's entry numbers, with their enqueue time
//! ([`enqueue_entry`](StorageInterface::enqueue_entry),
//! [`remove_queued`](StorageInterface::remove_queued),
//! [`queued_messages`](StorageInterface::queued_messages)), and subscriptions. Matching,
//! expiry and queue limits are the router's. [`persist`](StorageInterface::persist) takes
//! the router's facts as they come; a backend that can should store one batch in one
//! transaction.

mod asynchronous;
mod memory;

pub use asynchronous::AsyncStorageInterface;
#[cfg(feature = "sqlite")]
pub(crate) use memory::Enqueued;
pub use memory::{DEFAULT_MAX_QUEUE_LENGTH, MemoryStorage, MemoryStorageConfig, QueueFullPolicy};

use std::time::SystemTime;

use crate::error::Error;
use crate::message::Message;
use crate::router::{Fact, QueuedMessage};
use crate::topic::{Subscription, TopicFilter, TopicName};

/// A storage backend.
///
/// Implementations are shared between connections (`Send + Sync`, `&self`) and must
/// not block: a call returns promptly (in-memory work or an embedded database). Failures
/// are a storage error ([`crate::ErrorKind::Storage`]).
pub trait StorageInterface: Send + Sync {
    /// Stores a retained message that arrives now: [`store_retained_at`](Self::store_retained_at).
    ///
    /// # Errors
    /// a storage error ([`crate::ErrorKind::Storage`]).
    fn store_retained(&self, message: Message) -> Result<(), Error> {
        self.store_retained_at(message, SystemTime::now())
    }

    /// Stores a retained message that arrived at `arrived_at` (its expiry counts from
    /// then), replacing the topic's previous one; a message with an empty payload deletes
    /// it instead and is not stored ([MQTT-3.3.1-6], [MQTT-3.3.1-7]).
    ///
    /// # Errors
    /// a storage error ([`crate::ErrorKind::Storage`]).
    fn store_retained_at(&self, message: Message, arrived_at: SystemTime) -> Result<(), Error>;

    /// Every retained message, with its arrival time (for a restart).
    ///
    /// # Errors
    /// a storage error ([`crate::ErrorKind::Storage`]).
    fn retained_messages(&self) -> Result<Vec<(Message, SystemTime)>, Error>;

    /// Every retained message whose topic matches the filter (§4.7 rules, `$` included).
    ///
    /// # Errors
    /// a storage error ([`crate::ErrorKind::Storage`]).
    fn get_retained(&self, topic_filter: &TopicFilter) -> Result<Vec<Message>, Error>;

    /// Deletes the retained message of a topic; whether there was one.
    ///
    /// # Errors
    /// a storage error ([`crate::ErrorKind::Storage`]).
    fn delete_retained(&self, topic: &TopicName) -> Result<bool, Error>;

    /// Appends a message to a client's queue (for delivery when it reconnects).
    ///
    /// # Errors
    /// a storage error ([`crate::ErrorKind::Storage`]), for example when the queue is full.
    fn enqueue(&self, client_id: &str, message: Message) -> Result<(), Error>;

    /// Stores a message a session is owed under the router's entry number (`entry.seq`,
    /// increasing per client), replacing one with that number. No queue limit applies:
    /// the router keeps its own.
    ///
    /// # Errors
    /// a storage error ([`crate::ErrorKind::Storage`]).
    fn enqueue_entry(&self, client_id: &str, entry: QueuedMessage) -> Result<(), Error>;

    /// Removes the queued message with entry number `seq`; whether there was one.
    ///
    /// # Errors
    /// a storage error ([`crate::ErrorKind::Storage`]).
    fn remove_queued(&self, client_id: &str, seq: u64) -> Result<bool, Error>;

    /// A client's queued messages with their entry numbers and enqueue times, in order
    /// (for a restart).
    ///
    /// # Errors
    /// a storage error ([`crate::ErrorKind::Storage`]).
    fn queued_messages(&self, client_id: &str) -> Result<Vec<QueuedMessage>, Error>;

    /// Stores the router's facts that concern this storage (retained messages,
    /// subscriptions, queued messages, the end of a session), in order; the others are
    /// the session store's. Backends that can store them in one transaction should.
    ///
    /// # Errors
    /// a storage error ([`crate::ErrorKind::Storage`]).
    fn persist(&self, facts: &[Fact]) -> Result<(), Error> {
        for fact in facts {
            persist_one(self, fact)?;
        }
        Ok(())
    }

    /// Removes and returns up to `limit` messages (all if `None`) from the front of a
    /// client's queue, oldest first.
    ///
    /// # Errors
    /// a storage error ([`crate::ErrorKind::Storage`]).
    fn dequeue(&self, client_id: &str, limit: Option<usize>) -> Result<Vec<Message>, Error>;

    /// How many messages a client's queue holds.
    ///
    /// # Errors
    /// a storage error ([`crate::ErrorKind::Storage`]).
    fn queue_length(&self, client_id: &str) -> Result<usize, Error>;

    /// Adds a subscription, replacing the client's one with the same filter; whether it
    /// replaced one.
    ///
    /// # Errors
    /// a storage error ([`crate::ErrorKind::Storage`]), or a validation error past a configured limit.
    fn add_subscription(&self, client_id: &str, subscription: Subscription) -> Result<bool, Error>;

    /// Removes the client's subscription with exactly this filter; whether it existed.
    ///
    /// # Errors
    /// a storage error ([`crate::ErrorKind::Storage`]).
    fn remove_subscription(
        &self,
        client_id: &str,
        topic_filter: &TopicFilter,
    ) -> Result<bool, Error>;

    /// A client's subscriptions.
    ///
    /// # Errors
    /// a storage error ([`crate::ErrorKind::Storage`]).
    fn get_subscriptions(&self, client_id: &str) -> Result<Vec<Subscription>, Error>;

    /// Every `(client id, subscription)` whose filter matches the topic.
    ///
    /// # Errors
    /// a storage error ([`crate::ErrorKind::Storage`]).
    fn get_subscribers(&self, topic: &TopicName) -> Result<Vec<(String, Subscription)>, Error>;

    /// Releases the backend; later calls fail with a storage error ([`crate::ErrorKind::Storage`]).
    ///
    /// # Errors
    /// a storage error ([`crate::ErrorKind::Storage`]).
    fn close(&self) -> Result<(), Error>;
}

/// A storage method call that stores one of the router's facts ([`storage_call`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageCall {
    /// [`StorageInterface::store_retained_at`].
    StoreRetained(Message, SystemTime),
    /// [`StorageInterface::delete_retained`].
    DeleteRetained(TopicName),
    /// [`StorageInterface::add_subscription`].
    AddSubscription(String, Subscription),
    /// [`StorageInterface::remove_subscription`].
    RemoveSubscription(String, TopicFilter),
    /// [`StorageInterface::enqueue_entry`].
    EnqueueEntry(String, QueuedMessage),
    /// [`StorageInterface::remove_queued`].
    RemoveQueued(String, u64),
    /// Every subscription and queued message of a client whose session ended:
    /// [`StorageInterface::remove_subscription`] for each of
    /// [`get_subscriptions`](StorageInterface::get_subscriptions), then
    /// [`dequeue`](StorageInterface::dequeue) of all.
    ForgetClient(String),
}

/// The storage call that stores `fact`; None for the session store's facts.
pub fn storage_call(fact: &Fact) -> Option<StorageCall> {
    Some(match fact {
        Fact::Retained {
            message,
            arrived_at,
        } => StorageCall::StoreRetained(message.clone(), *arrived_at),
        Fact::RetainedCleared { topic } => StorageCall::DeleteRetained(topic.clone()),
        Fact::Subscribed {
            client_id,
            subscription,
        } => StorageCall::AddSubscription(client_id.clone(), subscription.clone()),
        Fact::Unsubscribed {
            client_id,
            topic_filter,
        } => StorageCall::RemoveSubscription(client_id.clone(), topic_filter.clone()),
        Fact::Queued {
            client_id,
            seq,
            message,
            enqueued_at,
        } => StorageCall::EnqueueEntry(
            client_id.clone(),
            QueuedMessage {
                seq: *seq,
                message: message.clone(),
                enqueued_at: *enqueued_at,
            },
        ),
        Fact::Dequeued { client_id, seq } => StorageCall::RemoveQueued(client_id.clone(), *seq),
        Fact::SessionEnded { client_id } => StorageCall::ForgetClient(client_id.clone()),
        // The session store's: sessions and Wills.
        _ => return None,
    })
}

/// Stores one fact through the storage's own methods ([`StorageInterface::persist`]).
///
/// # Errors
/// The storage's error.
pub fn persist_one<S: StorageInterface + ?Sized>(storage: &S, fact: &Fact) -> Result<(), Error> {
    let Some(call) = storage_call(fact) else {
        return Ok(());
    };
    match call {
        StorageCall::StoreRetained(message, arrived_at) => {
            storage.store_retained_at(message, arrived_at)
        }
        StorageCall::DeleteRetained(topic) => storage.delete_retained(&topic).map(drop),
        StorageCall::AddSubscription(client_id, subscription) => {
            storage.add_subscription(&client_id, subscription).map(drop)
        }
        StorageCall::RemoveSubscription(client_id, topic_filter) => storage
            .remove_subscription(&client_id, &topic_filter)
            .map(drop),
        StorageCall::EnqueueEntry(client_id, entry) => storage.enqueue_entry(&client_id, entry),
        StorageCall::RemoveQueued(client_id, seq) => {
            storage.remove_queued(&client_id, seq).map(drop)
        }
        StorageCall::ForgetClient(client_id) => {
            for subscription in storage.get_subscriptions(&client_id)? {
                storage.remove_subscription(&client_id, subscription.topic_filter())?;
            }
            storage.dequeue(&client_id, None).map(drop)
        }
    }
}
