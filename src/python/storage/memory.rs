//! `MemoryStorage` for Python.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyList;

use super::{PyStorageInterface, messages, subscription_object};
use crate::python::convert::{
    MaxQueueLength, MaxSubscriptionsPerClient, MaxTopicLevels, QueueFull, choice, client_id,
    int_arg, limit, present, topic_filter, topic_name,
};
use crate::python::message::PyMessage;
use crate::python::topic::PySubscription;
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
    name = "MemoryStorage",
    module = "mqtt_common.src.storage"
)]
pub(crate) struct PyMemoryStorage {
    inner: Arc<MemoryStorage>,
}

impl PyMemoryStorage {
    /// The Rust storage behind a Python `MemoryStorage`, used directly.
    pub(crate) fn core_of(obj: &Bound<'_, PyAny>) -> Option<Arc<dyn StorageInterface>> {
        let memory = obj.cast::<Self>().ok()?;
        Some(Arc::clone(&memory.borrow().inner) as Arc<dyn StorageInterface>)
    }
}

#[pymethods]
impl PyMemoryStorage {
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
        let queue_full = match queue_full {
            "drop_oldest" => QueueFullPolicy::DropOldest,
            "drop_newest" => QueueFullPolicy::DropNewest,
            _ => QueueFullPolicy::Reject,
        };
        let config = MemoryStorageConfig {
            max_queue_length,
            queue_full,
            limits: IndexLimits {
                max_topic_levels,
                max_subscriptions_per_client,
            },
        };
        PyClassInitializer::from(PyStorageInterface).add_subclass(Self {
            inner: Arc::new(MemoryStorage::with_config(config)),
        })
    }

    /// Store a retained message; an empty payload deletes the topic's instead.
    fn store_retained(&self, message: &Bound<'_, PyAny>) -> PyResult<()> {
        Ok(self
            .inner
            .store_retained(PyMessage::core_of("message", message)?)?)
    }

    /// Return every retained message whose topic matches the filter.
    fn get_retained<'py>(
        &self,
        py: Python<'py>,
        topic_filter: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let filter = self::topic_filter("topic_filter", topic_filter)?;
        messages(py, self.inner.get_retained(&filter)?)
    }

    /// Delete the retained message of a topic; return whether there was one.
    fn delete_retained(&self, topic: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.inner.delete_retained(&topic_name("topic", topic)?)?)
    }

    /// Append a message to a client's queue.
    fn enqueue(&self, client_id: &Bound<'_, PyAny>, message: &Bound<'_, PyAny>) -> PyResult<()> {
        let message = PyMessage::core_of("message", message)?;
        Ok(self.inner.enqueue(self::client_id(client_id)?, message)?)
    }

    /// Remove and return up to `limit` messages from the front of a client's queue.
    ///
    /// None takes all of them.
    #[pyo3(signature = (client_id, limit=None))]
    fn dequeue<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
        limit: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let limit = present(limit)
            .map(|obj| int_arg::<usize>("limit", obj))
            .transpose()?;
        messages(py, self.inner.dequeue(self::client_id(client_id)?, limit)?)
    }

    /// Return how many messages a client's queue holds.
    fn queue_length(&self, client_id: &Bound<'_, PyAny>) -> PyResult<usize> {
        Ok(self.inner.queue_length(self::client_id(client_id)?)?)
    }

    /// Add a subscription; return True when it replaced the client's one with that filter.
    fn add_subscription(
        &self,
        client_id: &Bound<'_, PyAny>,
        subscription: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let subscription = PySubscription::core_of("subscription", subscription)?;
        Ok(self
            .inner
            .add_subscription(self::client_id(client_id)?, subscription)?)
    }

    /// Remove the client's subscription with exactly this filter; return whether it existed.
    fn remove_subscription(
        &self,
        client_id: &Bound<'_, PyAny>,
        topic_filter: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let filter = self::topic_filter("topic_filter", topic_filter)?;
        Ok(self
            .inner
            .remove_subscription(self::client_id(client_id)?, &filter)?)
    }

    /// Return a client's subscriptions.
    fn get_subscriptions<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let found = self.inner.get_subscriptions(self::client_id(client_id)?)?;
        let objects = found
            .into_iter()
            .map(|s| subscription_object(py, s))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, objects)
    }

    /// Return every (client id, subscription) whose filter matches the topic.
    fn get_subscribers<'py>(
        &self,
        py: Python<'py>,
        topic: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let found = self.inner.get_subscribers(&topic_name("topic", topic)?)?;
        let pairs = found
            .into_iter()
            .map(|(client, s)| (client, subscription_object(py, s)?).into_pyobject(py))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, pairs)
    }

    /// Release the storage; later calls raise StorageError.
    fn close(&self) -> PyResult<()> {
        Ok(self.inner.close()?)
    }

    fn __repr__(&self) -> String {
        let config = self.inner.config();
        let shown =
            |limit: Option<usize>| limit.map_or_else(|| "None".to_owned(), |n| n.to_string());
        format!(
            "<MemoryStorage max_queue_length={} max_topic_levels={} max_subscriptions_per_client={}>",
            shown(config.max_queue_length),
            shown(config.limits.max_topic_levels),
            shown(config.limits.max_subscriptions_per_client)
        )
    }
}
