//! Storage for Python (`mqtt_common.src.storage`): the `StorageInterface` base class,
//! `MemoryStorage`, and the adapter that lets Rust call a Python storage implementation.

mod asynchronous;
mod memory;
pub(crate) mod native;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::sync::Arc;

use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

pub(crate) use asynchronous::PyNativeAsyncStorage;
pub(crate) use memory::PyMemoryStorage;
#[cfg(feature = "redis")]
pub(crate) use redis::{PyAsyncRedisStorage, redis_config};
#[cfg(feature = "sqlite")]
pub(crate) use sqlite::{PyAsyncSqliteStorage, PySqliteStorage};

use native::NativeStorage;

use crate::error::Error;
use crate::message::Message;
use crate::python::implementation::{PythonObject, expect_bool, wrong_return};
use crate::python::message::PyMessage;
use crate::python::session::seconds;
use crate::python::topic::PySubscription;
use crate::router::QueuedMessage;
use crate::storage::StorageInterface;
use crate::topic::{Subscription, TopicFilter, TopicName};
use std::time::SystemTime;

/// Python `Message` objects for core messages.
pub(crate) fn messages<'py>(
    py: Python<'py>,
    messages: Vec<Message>,
) -> PyResult<Bound<'py, PyList>> {
    let objects = messages
        .into_iter()
        .map(|m| Py::new(py, PyMessage::from_core(py, m)))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, objects)
}

/// A Python `Subscription` for a core one.
pub(crate) fn subscription_object(
    py: Python<'_>,
    subscription: Subscription,
) -> PyResult<Py<PySubscription>> {
    Py::new(
        py,
        PySubscription {
            inner: subscription,
        },
    )
}

/// The Rust base of `mqtt_common.src.storage.StorageInterface`.
///
/// The Python ABC declares the abstract methods.
#[pyclass(
    subclass,
    name = "StorageInterface",
    module = "mqtt_common.src.storage"
)]
pub(crate) struct PyStorageInterface;

#[pymethods]
impl PyStorageInterface {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        Self
    }

    /// Store the router's facts that concern this storage, in order, through its methods.
    fn persist(slf: &Bound<'_, Self>, facts: &Bound<'_, PyAny>) -> PyResult<()> {
        let facts = crate::python::router::facts_of(facts)?;
        let storage = PythonStorage {
            implementation: PythonObject::new::<PyStorageInterface>(
                slf.as_any(),
                "StorageInterface",
            )?,
        };
        Ok(storage.persist(&facts)?)
    }
}

/// Python `(Message, arrived_at)` tuples for core retained messages.
pub(crate) fn timed_messages<'py>(
    py: Python<'py>,
    kept: Vec<(Message, SystemTime)>,
) -> PyResult<Bound<'py, PyList>> {
    let items = kept
        .into_iter()
        .map(|(message, at)| {
            (Py::new(py, PyMessage::from_core(py, message))?, seconds(at)).into_pyobject(py)
        })
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}

/// Python `(seq, Message, enqueued_at)` tuples for core queued messages.
pub(crate) fn queued_entries<'py>(
    py: Python<'py>,
    entries: Vec<QueuedMessage>,
) -> PyResult<Bound<'py, PyList>> {
    let items = entries
        .into_iter()
        .map(|entry| {
            (
                entry.seq,
                Py::new(py, PyMessage::from_core(py, entry.message))?,
                seconds(entry.enqueued_at),
            )
                .into_pyobject(py)
        })
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}

/// A queued message from Python arguments.
pub(crate) fn queued_entry(
    seq: &Bound<'_, PyAny>,
    message: &Bound<'_, PyAny>,
    enqueued_at: &Bound<'_, PyAny>,
) -> Result<QueuedMessage, Error> {
    Ok(QueuedMessage {
        seq: crate::python::protocol::counter("seq", seq)?,
        message: PyMessage::core_of("message", message)?,
        enqueued_at: crate::python::session::instant("enqueued_at", Some(enqueued_at))?,
    })
}

/// A Python `StorageInterface` seen from Rust: each trait method calls the Python method.
///
/// Python exceptions come back unchanged (as callback errors); an `async def` method or
/// a wrong return type is a `TypeError` that names the method.
#[derive(Debug)]
pub struct PythonStorage {
    implementation: PythonObject,
}

/// The Rust storage behind a Python object: a `MemoryStorage` or `SqliteStorage` is used directly, without
/// going through Python; any other `StorageInterface` subclass through [`PythonStorage`].
///
/// # Errors
/// `TypeError` for an object whose class does not derive from `StorageInterface`.
pub fn storage_from_python(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn StorageInterface>> {
    if let Ok(memory) = obj.cast::<PyMemoryStorage>() {
        return Ok(Arc::clone(memory.get().core()) as Arc<dyn StorageInterface>);
    }
    #[cfg(feature = "sqlite")]
    if let Ok(sqlite) = obj.cast::<PySqliteStorage>() {
        return Ok(Arc::clone(sqlite.get().core()) as Arc<dyn StorageInterface>);
    }
    Ok(Arc::new(PythonStorage {
        implementation: PythonObject::new::<PyStorageInterface>(obj, "StorageInterface")?,
    }))
}

fn message_object<'py>(py: Python<'py>, message: Message) -> PyResult<Bound<'py, PyAny>> {
    Bound::new(py, PyMessage::from_core(py, message))?.into_bound_py_any(py)
}

fn expect_list<'py>(
    result: &Bound<'py, PyAny>,
    method: &str,
    expected: &str,
) -> Result<Vec<Bound<'py, PyAny>>, Error> {
    let list = result
        .cast::<PyList>()
        .map_err(|_| wrong_return(result, method, expected))?;
    Ok(list.iter().collect())
}

fn expect_messages(result: &Bound<'_, PyAny>, method: &str) -> Result<Vec<Message>, Error> {
    expect_list(result, method, "list[Message]")?
        .iter()
        .map(|item| match item.cast::<PyMessage>() {
            Ok(message) => Ok(message.get().core(item.py())?.clone()),
            Err(_) => Err(wrong_return(item, method, "list[Message]")),
        })
        .collect()
}

impl StorageInterface for PythonStorage {
    fn store_retained_at(&self, message: Message, arrived_at: SystemTime) -> Result<(), Error> {
        Python::attach(|py| {
            self.implementation.call(
                py,
                "store_retained",
                (message_object(py, message)?, seconds(arrived_at)),
            )?;
            Ok(())
        })
    }

    fn retained_messages(&self) -> Result<Vec<(Message, SystemTime)>, Error> {
        const EXPECTED: &str = "list[tuple[Message, float]]";
        Python::attach(|py| {
            let result = self
                .implementation
                .call(py, "retained_messages", PyTuple::empty(py))?;
            expect_list(&result, "retained_messages", EXPECTED)?
                .iter()
                .map(|item| {
                    let (message, at) = item
                        .extract::<(Bound<'_, PyMessage>, Bound<'_, PyAny>)>()
                        .map_err(|_| wrong_return(item, "retained_messages", EXPECTED))?;
                    let arrived_at = crate::python::session::instant("arrived_at", Some(&at))?;
                    Ok((message.get().core(py)?.clone(), arrived_at))
                })
                .collect()
        })
    }

    fn enqueue_entry(&self, client_id: &str, entry: QueuedMessage) -> Result<(), Error> {
        Python::attach(|py| {
            let message = message_object(py, entry.message)?;
            self.implementation.call(
                py,
                "enqueue_entry",
                (client_id, entry.seq, message, seconds(entry.enqueued_at)),
            )?;
            Ok(())
        })
    }

    fn remove_queued(&self, client_id: &str, seq: u64) -> Result<bool, Error> {
        Python::attach(|py| {
            expect_bool(
                &self
                    .implementation
                    .call(py, "remove_queued", (client_id, seq))?,
                "remove_queued",
            )
        })
    }

    fn queued_messages(&self, client_id: &str) -> Result<Vec<QueuedMessage>, Error> {
        const EXPECTED: &str = "list[tuple[int, Message, float]]";
        Python::attach(|py| {
            let result = self
                .implementation
                .call(py, "queued_messages", (client_id,))?;
            expect_list(&result, "queued_messages", EXPECTED)?
                .iter()
                .map(|item| {
                    let (seq, message, at) = item
                        .extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>, Bound<'_, PyAny>)>()
                        .map_err(|_| wrong_return(item, "queued_messages", EXPECTED))?;
                    queued_entry(&seq, &message, &at)
                })
                .collect()
        })
    }

    fn get_retained(&self, topic_filter: &TopicFilter) -> Result<Vec<Message>, Error> {
        Python::attach(|py| {
            let result = self
                .implementation
                .call(py, "get_retained", (topic_filter.as_str(),))?;
            expect_messages(&result, "get_retained")
        })
    }

    fn delete_retained(&self, topic: &TopicName) -> Result<bool, Error> {
        Python::attach(|py| {
            expect_bool(
                &self
                    .implementation
                    .call(py, "delete_retained", (topic.as_str(),))?,
                "delete_retained",
            )
        })
    }

    fn enqueue(&self, client_id: &str, message: Message) -> Result<(), Error> {
        Python::attach(|py| {
            self.implementation
                .call(py, "enqueue", (client_id, message_object(py, message)?))?;
            Ok(())
        })
    }

    fn dequeue(&self, client_id: &str, limit: Option<usize>) -> Result<Vec<Message>, Error> {
        Python::attach(|py| {
            let result = self
                .implementation
                .call(py, "dequeue", (client_id, limit))?;
            expect_messages(&result, "dequeue")
        })
    }

    fn queue_length(&self, client_id: &str) -> Result<usize, Error> {
        Python::attach(|py| {
            let result = self.implementation.call(py, "queue_length", (client_id,))?;
            result
                .extract::<usize>()
                .map_err(|_| wrong_return(&result, "queue_length", "int"))
        })
    }

    fn add_subscription(&self, client_id: &str, subscription: Subscription) -> Result<bool, Error> {
        Python::attach(|py| {
            let subscription = subscription_object(py, subscription)?;
            expect_bool(
                &self
                    .implementation
                    .call(py, "add_subscription", (client_id, subscription))?,
                "add_subscription",
            )
        })
    }

    fn remove_subscription(
        &self,
        client_id: &str,
        topic_filter: &TopicFilter,
    ) -> Result<bool, Error> {
        Python::attach(|py| {
            let result = self.implementation.call(
                py,
                "remove_subscription",
                (client_id, topic_filter.as_str()),
            )?;
            expect_bool(&result, "remove_subscription")
        })
    }

    fn get_subscriptions(&self, client_id: &str) -> Result<Vec<Subscription>, Error> {
        Python::attach(|py| {
            let result = self
                .implementation
                .call(py, "get_subscriptions", (client_id,))?;
            expect_list(&result, "get_subscriptions", "list[Subscription]")?
                .iter()
                .map(|item| match item.cast::<PySubscription>() {
                    Ok(s) => Ok(s.get().inner.clone()),
                    Err(_) => Err(wrong_return(
                        item,
                        "get_subscriptions",
                        "list[Subscription]",
                    )),
                })
                .collect()
        })
    }

    fn get_subscribers(&self, topic: &TopicName) -> Result<Vec<(String, Subscription)>, Error> {
        const EXPECTED: &str = "list[tuple[str, Subscription]]";
        Python::attach(|py| {
            let result = self
                .implementation
                .call(py, "get_subscribers", (topic.as_str(),))?;
            expect_list(&result, "get_subscribers", EXPECTED)?
                .iter()
                .map(|item| {
                    let pair = item
                        .extract::<(String, Bound<'_, PySubscription>)>()
                        .map_err(|_| wrong_return(item, "get_subscribers", EXPECTED))?;
                    Ok((pair.0, pair.1.get().inner.clone()))
                })
                .collect()
        })
    }

    fn close(&self) -> Result<(), Error> {
        Python::attach(|py| {
            self.implementation.call(py, "close", PyTuple::empty(py))?;
            Ok(())
        })
    }
}
