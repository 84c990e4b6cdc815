//! `NativeAsyncStorage`: the Python base class whose methods are an
//! `AsyncStorageInterface` implemented in Rust (`AsyncSqliteStorage`,
//! `AsyncRedisStorage`), each returning an `asyncio.Future` that the backend resolves
//! through the extension's runtime ([`crate::python::runtime`]), with no thread per call.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyList;

use super::{messages, queued_entries, queued_entry, subscription_object, timed_messages};
use crate::python::convert::{client_id, int_arg, present, topic_filter, topic_name};
use crate::python::message::PyMessage;
use crate::python::runtime::{awaitable, none, plain};
use crate::python::topic::PySubscription;
use crate::storage::AsyncStorageInterface;

/// A storage implemented in Rust, asynchronous: every method returns an awaitable.
///
/// The base of the native asynchronous storages (``AsyncSqliteStorage``,
/// ``AsyncRedisStorage``); not made directly.
#[pyclass(
    subclass,
    frozen,
    name = "NativeAsyncStorage",
    module = "mqtt_common.src.storage"
)]
pub(crate) struct PyNativeAsyncStorage {
    core: Arc<dyn AsyncStorageInterface>,
}

impl PyNativeAsyncStorage {
    /// The base of a class over `core`.
    pub(crate) fn over(core: Arc<dyn AsyncStorageInterface>) -> Self {
        Self { core }
    }

    fn core(&self) -> Arc<dyn AsyncStorageInterface> {
        self.core.clone()
    }
}

/// A list made for an answer, as the answer.
fn list(made: PyResult<Bound<'_, PyList>>) -> PyResult<Py<PyAny>> {
    made.map(|list| list.into_any().unbind())
}

#[pymethods]
impl PyNativeAsyncStorage {
    /// Store a retained message; an empty payload deletes the topic's instead.
    ///
    /// ``arrived_at`` (POSIX seconds; default: now) is when it arrived.
    #[pyo3(signature = (message, arrived_at=None))]
    fn store_retained<'py>(
        &self,
        py: Python<'py>,
        message: &Bound<'py, PyAny>,
        arrived_at: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let message = PyMessage::core_of("message", message)?;
        let arrived_at = crate::python::session::instant("arrived_at", arrived_at)?;
        let core = self.core();
        awaitable(
            py,
            async move { core.store_retained_at(message, arrived_at).await },
            none,
        )
    }

    /// Return every retained message with its arrival time (POSIX seconds).
    fn retained_messages<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core();
        awaitable(
            py,
            async move { core.retained_messages().await },
            |py, found| list(timed_messages(py, found)),
        )
    }

    /// Return every retained message whose topic matches the filter.
    fn get_retained<'py>(
        &self,
        py: Python<'py>,
        topic_filter: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let filter = self::topic_filter("topic_filter", topic_filter)?;
        let core = self.core();
        awaitable(
            py,
            async move { core.get_retained(&filter).await },
            |py, found| list(messages(py, found)),
        )
    }

    /// Delete the retained message of a topic; return whether there was one.
    fn delete_retained<'py>(
        &self,
        py: Python<'py>,
        topic: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let topic = topic_name("topic", topic)?;
        let core = self.core();
        awaitable(py, async move { core.delete_retained(&topic).await }, plain)
    }

    /// Append a message to a client's queue.
    fn enqueue<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
        message: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let message = PyMessage::core_of("message", message)?;
        let client_id = self::client_id(client_id)?.to_owned();
        let core = self.core();
        awaitable(
            py,
            async move { core.enqueue(&client_id, message).await },
            none,
        )
    }

    /// Store a message a session is owed under the router's entry number ``seq``.
    fn enqueue_entry<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
        seq: &Bound<'py, PyAny>,
        message: &Bound<'py, PyAny>,
        enqueued_at: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let entry = queued_entry(seq, message, enqueued_at)?;
        let client_id = self::client_id(client_id)?.to_owned();
        let core = self.core();
        awaitable(
            py,
            async move { core.enqueue_entry(&client_id, entry).await },
            none,
        )
    }

    /// Remove the queued message with entry number ``seq``; return whether there was one.
    fn remove_queued<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
        seq: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let seq = crate::python::protocol::counter("seq", seq)?;
        let client_id = self::client_id(client_id)?.to_owned();
        let core = self.core();
        awaitable(
            py,
            async move { core.remove_queued(&client_id, seq).await },
            plain,
        )
    }

    /// Return a client's queued messages as (entry number, message, enqueue time).
    fn queued_messages<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client_id = self::client_id(client_id)?.to_owned();
        let core = self.core();
        awaitable(
            py,
            async move { core.queued_messages(&client_id).await },
            |py, found| list(queued_entries(py, found)),
        )
    }

    /// Store the router's facts that concern this storage, in one transaction.
    fn persist<'py>(
        &self,
        py: Python<'py>,
        facts: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let facts = crate::python::router::facts_of(facts)?;
        let core = self.core();
        awaitable(py, async move { core.persist(&facts).await }, none)
    }

    /// Remove and return up to ``limit`` messages from the front of a client's queue.
    ///
    /// None takes all of them.
    #[pyo3(signature = (client_id, limit=None))]
    fn dequeue<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
        limit: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let limit = present(limit)
            .map(|obj| int_arg::<usize>("limit", obj))
            .transpose()?;
        let client_id = self::client_id(client_id)?.to_owned();
        let core = self.core();
        awaitable(
            py,
            async move { core.dequeue(&client_id, limit).await },
            |py, taken| list(messages(py, taken)),
        )
    }

    /// Return how many messages a client's queue holds.
    fn queue_length<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client_id = self::client_id(client_id)?.to_owned();
        let core = self.core();
        awaitable(
            py,
            async move { core.queue_length(&client_id).await },
            plain,
        )
    }

    /// Add a subscription; return True when it replaced the client's one with that filter.
    fn add_subscription<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
        subscription: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let subscription = PySubscription::core_of("subscription", subscription)?;
        let client_id = self::client_id(client_id)?.to_owned();
        let core = self.core();
        awaitable(
            py,
            async move { core.add_subscription(&client_id, subscription).await },
            plain,
        )
    }

    /// Remove the client's subscription with exactly this filter; return whether it existed.
    fn remove_subscription<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
        topic_filter: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let filter = self::topic_filter("topic_filter", topic_filter)?;
        let client_id = self::client_id(client_id)?.to_owned();
        let core = self.core();
        awaitable(
            py,
            async move { core.remove_subscription(&client_id, &filter).await },
            plain,
        )
    }

    /// Return a client's subscriptions.
    fn get_subscriptions<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client_id = self::client_id(client_id)?.to_owned();
        let core = self.core();
        awaitable(
            py,
            async move { core.get_subscriptions(&client_id).await },
            |py, found| {
                let objects = found
                    .into_iter()
                    .map(|s| subscription_object(py, s))
                    .collect::<PyResult<Vec<_>>>()?;
                list(PyList::new(py, objects))
            },
        )
    }

    /// Return every (client id, subscription) whose filter matches the topic.
    fn get_subscribers<'py>(
        &self,
        py: Python<'py>,
        topic: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let topic = topic_name("topic", topic)?;
        let core = self.core();
        awaitable(
            py,
            async move { core.get_subscribers(&topic).await },
            |py, found| {
                let pairs = found
                    .into_iter()
                    .map(|(client, s)| (client, subscription_object(py, s)?).into_pyobject(py))
                    .collect::<PyResult<Vec<_>>>()?;
                list(PyList::new(py, pairs))
            },
        )
    }

    /// Store what is pending and release the backend; later calls raise StorageError.
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core();
        awaitable(py, async move { core.close().await }, none)
    }
}
