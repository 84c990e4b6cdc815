//! `MemoryStorage` for Python.

use std::sync::Arc;

use pyo3::prelude::*;

use super::PyStorageInterface;
use super::native::{NativeStorage, storage_methods};
use crate::python::convert::{
    MaxQueueLength, MaxSubscriptionsPerClient, MaxTopicLevels, QueueFull, choice, limit,
};
use crate::storage::{
    DEFAULT_MAX_QUEUE_LENGTH, MemoryStorage, MemoryStorageConfig, QueueFullPolicy, StorageInterface,
};
use crate::topic::{DEFAULT_MAX_TOPIC_LEVELS, IndexLimits};

/// Retained messages, queues for offline clients and subscriptions, in memory.
///
/// The limits refuse hostile input; None means no limit. ``queue_full`` says what
/// ``enqueue`` does when a client's queue is full.
#[pyclass(
    extends = PyStorageInterface,
    subclass,
    frozen,
    name = "MemoryStorage",
    module = "mqtt_common.src.storage"
)]
pub(crate) struct PyMemoryStorage {
    inner: Arc<MemoryStorage>,
}

impl NativeStorage for PyMemoryStorage {
    type Core = MemoryStorage;
    // In-memory calls return at once: holding the GIL costs less than releasing it.
    const WAITS_FOR_DISK: bool = false;

    fn core(&self) -> &Arc<MemoryStorage> {
        &self.inner
    }
}

/// The limits and queue policy that the Python constructors take as keywords.
pub(crate) fn storage_config(
    max_queue_length: Option<usize>,
    queue_full: &str,
    max_topic_levels: Option<usize>,
    max_subscriptions_per_client: Option<usize>,
) -> MemoryStorageConfig {
    let queue_full = match queue_full {
        "drop_oldest" => QueueFullPolicy::DropOldest,
        "drop_newest" => QueueFullPolicy::DropNewest,
        _ => QueueFullPolicy::Reject,
    };
    MemoryStorageConfig {
        max_queue_length,
        queue_full,
        limits: IndexLimits {
            max_topic_levels,
            max_subscriptions_per_client,
        },
    }
}

/// The limits as a `repr` shows them.
pub(crate) fn describe_config(config: MemoryStorageConfig) -> String {
    let shown = |limit: Option<usize>| limit.map_or_else(|| "None".to_owned(), |n| n.to_string());
    format!(
        "max_queue_length={} queue_full=\"{}\" max_topic_levels={} max_subscriptions_per_client={}",
        shown(config.max_queue_length),
        match config.queue_full {
            QueueFullPolicy::Reject => "reject",
            QueueFullPolicy::DropOldest => "drop_oldest",
            QueueFullPolicy::DropNewest => "drop_newest",
        },
        shown(config.limits.max_topic_levels),
        shown(config.limits.max_subscriptions_per_client)
    )
}

storage_methods!(PyMemoryStorage {
    /// The default of `max_queue_length`.
    #[classattr]
    const DEFAULT_MAX_QUEUE_LENGTH: usize = DEFAULT_MAX_QUEUE_LENGTH;

    /// The default of `max_topic_levels`.
    #[classattr]
    const DEFAULT_MAX_TOPIC_LEVELS: usize = DEFAULT_MAX_TOPIC_LEVELS;

    #[new]
    #[pyo3(signature = (*, max_queue_length=DEFAULT_MAX_QUEUE_LENGTH, queue_full="reject", max_topic_levels=DEFAULT_MAX_TOPIC_LEVELS, max_subscriptions_per_client=None))]
    fn new(
        #[pyo3(from_py_with = limit::<MaxQueueLength>)] max_queue_length: Option<usize>,
        #[pyo3(from_py_with = choice::<QueueFull>)] queue_full: &'static str,
        #[pyo3(from_py_with = limit::<MaxTopicLevels>)] max_topic_levels: Option<usize>,
        #[pyo3(from_py_with = limit::<MaxSubscriptionsPerClient>)]
        max_subscriptions_per_client: Option<usize>,
    ) -> PyClassInitializer<Self> {
        let config = storage_config(
            max_queue_length,
            queue_full,
            max_topic_levels,
            max_subscriptions_per_client,
        );
        PyClassInitializer::from(PyStorageInterface).add_subclass(Self {
            inner: Arc::new(MemoryStorage::with_config(config)),
        })
    }

    fn __repr__(&self) -> String {
        format!("<MemoryStorage {}>", describe_config(self.inner.config()))
    }
});
