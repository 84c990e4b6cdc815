//! The `StorageInterface` base class, `MemoryStorage`, and the adapter that lets Rust
//! call a Python storage implementation.

use std::sync::Arc;

use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use super::convert::{extract_str, extract_topic, extract_uint, wrong_type};
use super::implementation::{PythonObject, expect_bool, wrong_return};
use super::message::PyMessage;
use super::subscription::PySubscription;
use crate::error::{Error, TopicKind, Violation};
use crate::memory_storage::{MemoryStorage, MemoryStorageConfig, QueueFullPolicy};
use crate::message::Message;
use crate::storage::StorageInterface;
use crate::subscription::Subscription;
use crate::topic::{TopicFilter, TopicName};

/// The Rust base of `mqtt_common.src.storage.StorageInterface`; the Python ABC declares
/// the abstract methods.
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
}

fn client_id<'a>(obj: &'a Bound<'_, PyAny>) -> Result<&'a str, Error> {
    extract_str("client_id", obj, Violation::InvalidUtf8)
}

fn topic_name(obj: &Bound<'_, PyAny>) -> Result<TopicName, Error> {
    TopicName::new(extract_topic("topic", TopicKind::Name, obj)?).map_err(|e| e.in_field("topic"))
}

fn topic_filter(obj: &Bound<'_, PyAny>) -> Result<TopicFilter, Error> {
    let text = extract_topic("topic_filter", TopicKind::Filter, obj)?;
    TopicFilter::new(text).map_err(|e| e.in_field("topic_filter"))
}

fn core_message(obj: &Bound<'_, PyAny>) -> Result<Message, Error> {
    let message = obj
        .cast::<PyMessage>()
        .map_err(|_| wrong_type("message", "Message", obj))?;
    Ok(message.get().core(obj.py())?.clone())
}

fn core_subscription(obj: &Bound<'_, PyAny>) -> Result<Subscription, Error> {
    let subscription = obj
        .cast::<PySubscription>()
        .map_err(|_| wrong_type("subscription", "Subscription", obj))?;
    Ok(subscription.get().inner.clone())
}

fn messages<'py>(py: Python<'py>, messages: Vec<Message>) -> PyResult<Bound<'py, PyList>> {
    let objects = messages
        .into_iter()
        .map(|m| Py::new(py, PyMessage::from_core(py, m)?))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, objects)
}

fn subscription_object(py: Python<'_>, subscription: Subscription) -> PyResult<Py<PySubscription>> {
    Py::new(
        py,
        PySubscription {
            inner: subscription,
        },
    )
}

/// Retained messages, queues for offline clients and subscriptions, in memory.
#[pyclass(
    extends = PyStorageInterface,
    subclass,
    name = "MemoryStorage",
    module = "mqtt_common.src.storage"
)]
pub(crate) struct PyMemoryStorage {
    inner: Arc<MemoryStorage>,
}

#[pymethods]
impl PyMemoryStorage {
    #[new]
    #[pyo3(
        signature = (**options),
        text_signature = "(*, max_queue_length=10000, queue_full='reject', max_topic_levels=128, max_subscriptions_per_client=None)"
    )]
    fn new(options: Option<&Bound<'_, PyDict>>) -> PyResult<PyClassInitializer<Self>> {
        let mut config = MemoryStorageConfig::default();
        for (key, value) in options.into_iter().flat_map(|o| o.iter()) {
            let limit = |field| -> Result<Option<usize>, Error> {
                if value.is_none() {
                    return Ok(None);
                }
                Ok(Some(
                    extract_uint(field, &value, 0, u32::MAX.into(), "§3.9.3")? as usize,
                ))
            };
            match key.extract::<&str>().unwrap_or_default() {
                "max_queue_length" => config.max_queue_length = limit("max_queue_length")?,
                "max_topic_levels" => config.limits.max_topic_levels = limit("max_topic_levels")?,
                "max_subscriptions_per_client" => {
                    config.limits.max_subscriptions_per_client =
                        limit("max_subscriptions_per_client")?;
                }
                "queue_full" => {
                    config.queue_full =
                        match extract_str("queue_full", &value, Violation::InvalidUtf8)? {
                            "reject" => QueueFullPolicy::Reject,
                            "drop_oldest" => QueueFullPolicy::DropOldest,
                            "drop_newest" => QueueFullPolicy::DropNewest,
                            _ => {
                                return Err(Error::invalid(
                                    "queue_full",
                                    Violation::WrongType {
                                        expected: "'reject', 'drop_oldest' or 'drop_newest'",
                                        found: value.repr()?.to_string(),
                                    },
                                )
                                .into());
                            }
                        }
                }
                _ => {
                    return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                        "MemoryStorage() got an unexpected keyword argument {}",
                        key.repr()?
                    )));
                }
            }
        }
        Ok(
            PyClassInitializer::from(PyStorageInterface).add_subclass(Self {
                inner: Arc::new(MemoryStorage::with_config(config)),
            }),
        )
    }

    /// Store a retained message; an empty payload deletes the topic's instead.
    fn store_retained(&self, message: &Bound<'_, PyAny>) -> PyResult<()> {
        Ok(self.inner.store_retained(core_message(message)?)?)
    }

    /// Every retained message whose topic matches the filter.
    fn get_retained<'py>(
        &self,
        py: Python<'py>,
        topic_filter: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        messages(
            py,
            self.inner
                .get_retained(&self::topic_filter(topic_filter)?)?,
        )
    }

    /// Delete the retained message of a topic; whether there was one.
    fn delete_retained(&self, topic: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.inner.delete_retained(&topic_name(topic)?)?)
    }

    /// Append a message to a client's queue.
    fn enqueue(&self, client_id: &Bound<'_, PyAny>, message: &Bound<'_, PyAny>) -> PyResult<()> {
        Ok(self
            .inner
            .enqueue(self::client_id(client_id)?, core_message(message)?)?)
    }

    /// Remove and return up to `limit` messages from the front of a client's queue.
    #[pyo3(signature = (client_id, limit=None))]
    fn dequeue<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
        limit: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let limit = match limit.filter(|l| !l.is_none()) {
            Some(obj) => Some(extract_uint("limit", obj, 0, u64::MAX, "§4.6")? as usize),
            None => None,
        };
        messages(py, self.inner.dequeue(self::client_id(client_id)?, limit)?)
    }

    /// How many messages a client's queue holds.
    fn queue_length(&self, client_id: &Bound<'_, PyAny>) -> PyResult<usize> {
        Ok(self.inner.queue_length(self::client_id(client_id)?)?)
    }

    /// Add a subscription; True when it replaced the client's one with that filter.
    fn add_subscription(
        &self,
        client_id: &Bound<'_, PyAny>,
        subscription: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        Ok(self.inner.add_subscription(
            self::client_id(client_id)?,
            core_subscription(subscription)?,
        )?)
    }

    /// Remove the client's subscription with exactly this filter; whether it existed.
    fn remove_subscription(
        &self,
        client_id: &Bound<'_, PyAny>,
        topic_filter: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let filter = self::topic_filter(topic_filter)?;
        Ok(self
            .inner
            .remove_subscription(self::client_id(client_id)?, &filter)?)
    }

    /// A client's subscriptions.
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

    /// Every (client id, subscription) whose filter matches the topic.
    fn get_subscribers<'py>(
        &self,
        py: Python<'py>,
        topic: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let found = self.inner.get_subscribers(&topic_name(topic)?)?;
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
            "MemoryStorage(max_queue_length={}, max_topic_levels={}, max_subscriptions_per_client={})",
            shown(config.max_queue_length),
            shown(config.limits.max_topic_levels),
            shown(config.limits.max_subscriptions_per_client)
        )
    }
}

/// A Python `StorageInterface` seen from Rust: each trait method calls the Python method.
///
/// Python exceptions come back unchanged (as [`Error::Callback`]); an `async def` method
/// or a wrong return type is a `TypeError` that names the method.
#[derive(Debug)]
pub struct PythonStorage {
    implementation: PythonObject,
}

/// The Rust storage behind a Python object: a `MemoryStorage` is used directly, without
/// going through Python; any other `StorageInterface` subclass through [`PythonStorage`].
///
/// # Errors
/// `TypeError` for an object whose class does not derive from `StorageInterface`.
pub fn storage_from_python(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn StorageInterface>> {
    if let Ok(memory) = obj.cast::<PyMemoryStorage>() {
        return Ok(Arc::clone(&memory.borrow().inner) as Arc<dyn StorageInterface>);
    }
    Ok(Arc::new(PythonStorage {
        implementation: PythonObject::new::<PyStorageInterface>(obj, "StorageInterface")?,
    }))
}

fn message_object<'py>(py: Python<'py>, message: Message) -> PyResult<Bound<'py, PyAny>> {
    Bound::new(py, PyMessage::from_core(py, message)?)?.into_bound_py_any(py)
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
    fn store_retained(&self, message: Message) -> Result<(), Error> {
        Python::attach(|py| {
            self.implementation
                .call(py, "store_retained", (message_object(py, message)?,))?;
            Ok(())
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
