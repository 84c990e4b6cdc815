//! Storage: the [`StorageInterface`] that backends implement (retained messages, queues
//! for offline clients and subscriptions), and [`MemoryStorage`], the reference backend.

mod memory;

#[cfg(feature = "sqlite")]
pub(crate) use memory::Enqueued;
pub use memory::{DEFAULT_MAX_QUEUE_LENGTH, MemoryStorage, MemoryStorageConfig, QueueFullPolicy};

use crate::error::Error;
use crate::message::Message;
use crate::topic::{Subscription, TopicFilter, TopicName};

/// A storage backend.
///
/// Implementations are shared between connections (`Send + Sync`, `&self`) and must
/// not block: a call returns promptly (in-memory work or an embedded database). Failures
/// are a storage error ([`crate::ErrorKind::Storage`]).
pub trait StorageInterface: Send + Sync {
    /// Stores a retained message, replacing the topic's previous one; a message with an
    /// empty payload deletes it instead and is not stored ([MQTT-3.3.1-6], [MQTT-3.3.1-7]).
    ///
    /// # Errors
    /// a storage error ([`crate::ErrorKind::Storage`]).
    fn store_retained(&self, message: Message) -> Result<(), Error>;

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
