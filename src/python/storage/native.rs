//! What every Python storage class over a Rust storage shares: its methods, written once
//! ([`storage_methods!`]), and whether a call waits for the disk (then the GIL is
//! released while it does, so other Python threads run and their calls join the same
//! commit).

use std::sync::Arc;

use pyo3::prelude::*;

use crate::storage::StorageInterface;

/// A Python class whose behaviour is a Rust storage's.
pub(crate) trait NativeStorage {
    /// The Rust storage.
    type Core: StorageInterface + 'static;
    /// Whether its writes wait for a commit to the disk.
    const WAITS_FOR_DISK: bool;
    /// The Rust storage behind this object.
    fn core(&self) -> &Arc<Self::Core>;
}

/// Runs a write on the Rust storage, without the GIL if it waits for the disk.
pub(crate) fn write<S, R>(py: Python<'_>, storage: &S, call: impl FnOnce(&S::Core) -> R + Send) -> R
where
    S: NativeStorage,
    S::Core: Sync,
    R: Send,
{
    let core = storage.core();
    if S::WAITS_FOR_DISK {
        py.detach(|| call(core))
    } else {
        call(core)
    }
}

/// The `#[pymethods]` of a storage class over a Rust storage (a [`NativeStorage`]): the
/// class's own items (constructor, `__repr__`, ...) and then every `StorageInterface`
/// method.
macro_rules! storage_methods {
    ($class:ty { $($own:tt)* }) => {
        #[pymethods]
        impl $class {
            $($own)*

            /// Store a retained message; an empty payload deletes the topic's instead.
            ///
            /// ``arrived_at`` (POSIX seconds; default: now) is when it arrived: its expiry
            /// counts from then.
            #[pyo3(signature = (message, arrived_at=None))]
            fn store_retained(
                &self,
                py: Python<'_>,
                message: &Bound<'_, PyAny>,
                arrived_at: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<()> {
                let message = $crate::python::message::PyMessage::core_of("message", message)?;
                let arrived_at = $crate::python::session::instant("arrived_at", arrived_at)?;
                Ok($crate::python::storage::native::write(py, self, |s| {
                    s.store_retained_at(message, arrived_at)
                })?)
            }

            /// Return every retained message with its arrival time (POSIX seconds).
            fn retained_messages<'py>(
                &self,
                py: Python<'py>,
            ) -> PyResult<Bound<'py, pyo3::types::PyList>> {
                $crate::python::storage::timed_messages(py, self.core().retained_messages()?)
            }

            /// Store a message a session is owed under the router's entry number ``seq``.
            fn enqueue_entry(
                &self,
                py: Python<'_>,
                client_id: &Bound<'_, PyAny>,
                seq: &Bound<'_, PyAny>,
                message: &Bound<'_, PyAny>,
                enqueued_at: &Bound<'_, PyAny>,
            ) -> PyResult<()> {
                let entry = $crate::python::storage::queued_entry(seq, message, enqueued_at)?;
                let client_id = $crate::python::convert::client_id(client_id)?;
                Ok($crate::python::storage::native::write(py, self, |s| {
                    s.enqueue_entry(client_id, entry)
                })?)
            }

            /// Remove the queued message with entry number ``seq``; return whether there was one.
            fn remove_queued(
                &self,
                py: Python<'_>,
                client_id: &Bound<'_, PyAny>,
                seq: &Bound<'_, PyAny>,
            ) -> PyResult<bool> {
                let seq = $crate::python::protocol::counter("seq", seq)?;
                let client_id = $crate::python::convert::client_id(client_id)?;
                Ok($crate::python::storage::native::write(py, self, |s| {
                    s.remove_queued(client_id, seq)
                })?)
            }

            /// Return a client's queued messages as (entry number, message, enqueue time).
            fn queued_messages<'py>(
                &self,
                py: Python<'py>,
                client_id: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, pyo3::types::PyList>> {
                let client_id = $crate::python::convert::client_id(client_id)?;
                $crate::python::storage::queued_entries(py, self.core().queued_messages(client_id)?)
            }

            /// Store the router's facts that concern this storage, in order.
            fn persist(&self, py: Python<'_>, facts: &Bound<'_, PyAny>) -> PyResult<()> {
                let facts = $crate::python::router::facts_of(facts)?;
                Ok($crate::python::storage::native::write(py, self, |s| s.persist(&facts))?)
            }

            /// Return every retained message whose topic matches the filter.
            fn get_retained<'py>(
                &self,
                py: Python<'py>,
                topic_filter: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, pyo3::types::PyList>> {
                let filter = $crate::python::convert::topic_filter("topic_filter", topic_filter)?;
                $crate::python::storage::messages(py, self.core().get_retained(&filter)?)
            }

            /// Delete the retained message of a topic; return whether there was one.
            fn delete_retained(&self, py: Python<'_>, topic: &Bound<'_, PyAny>) -> PyResult<bool> {
                let topic = $crate::python::convert::topic_name("topic", topic)?;
                Ok($crate::python::storage::native::write(py, self, |s| s.delete_retained(&topic))?)
            }

            /// Append a message to a client's queue.
            fn enqueue(
                &self,
                py: Python<'_>,
                client_id: &Bound<'_, PyAny>,
                message: &Bound<'_, PyAny>,
            ) -> PyResult<()> {
                let message = $crate::python::message::PyMessage::core_of("message", message)?;
                let client_id = $crate::python::convert::client_id(client_id)?;
                Ok($crate::python::storage::native::write(py, self, |s| s.enqueue(client_id, message))?)
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
            ) -> PyResult<Bound<'py, pyo3::types::PyList>> {
                let limit = $crate::python::convert::present(limit)
                    .map(|obj| $crate::python::convert::int_arg::<usize>("limit", obj))
                    .transpose()?;
                let client_id = $crate::python::convert::client_id(client_id)?;
                let taken = $crate::python::storage::native::write(py, self, |s| s.dequeue(client_id, limit))?;
                $crate::python::storage::messages(py, taken)
            }

            /// Return how many messages a client's queue holds.
            fn queue_length(&self, client_id: &Bound<'_, PyAny>) -> PyResult<usize> {
                Ok(self.core().queue_length($crate::python::convert::client_id(client_id)?)?)
            }

            /// Add a subscription; return True when it replaced the client's one with that filter.
            fn add_subscription(
                &self,
                py: Python<'_>,
                client_id: &Bound<'_, PyAny>,
                subscription: &Bound<'_, PyAny>,
            ) -> PyResult<bool> {
                let subscription =
                    $crate::python::topic::PySubscription::core_of("subscription", subscription)?;
                let client_id = $crate::python::convert::client_id(client_id)?;
                Ok($crate::python::storage::native::write(py, self, |s| {
                    s.add_subscription(client_id, subscription)
                })?)
            }

            /// Remove the client's subscription with exactly this filter; return whether it existed.
            fn remove_subscription(
                &self,
                py: Python<'_>,
                client_id: &Bound<'_, PyAny>,
                topic_filter: &Bound<'_, PyAny>,
            ) -> PyResult<bool> {
                let filter = $crate::python::convert::topic_filter("topic_filter", topic_filter)?;
                let client_id = $crate::python::convert::client_id(client_id)?;
                Ok($crate::python::storage::native::write(py, self, |s| {
                    s.remove_subscription(client_id, &filter)
                })?)
            }

            /// Return a client's subscriptions.
            fn get_subscriptions<'py>(
                &self,
                py: Python<'py>,
                client_id: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, pyo3::types::PyList>> {
                let found = self
                    .core()
                    .get_subscriptions($crate::python::convert::client_id(client_id)?)?;
                let objects = found
                    .into_iter()
                    .map(|s| $crate::python::storage::subscription_object(py, s))
                    .collect::<PyResult<Vec<_>>>()?;
                pyo3::types::PyList::new(py, objects)
            }

            /// Return every (client id, subscription) whose filter matches the topic.
            fn get_subscribers<'py>(
                &self,
                py: Python<'py>,
                topic: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, pyo3::types::PyList>> {
                let topic = $crate::python::convert::topic_name("topic", topic)?;
                let found = self.core().get_subscribers(&topic)?;
                let pairs = found
                    .into_iter()
                    .map(|(client, s)| {
                        (client, $crate::python::storage::subscription_object(py, s)?).into_pyobject(py)
                    })
                    .collect::<PyResult<Vec<_>>>()?;
                pyo3::types::PyList::new(py, pairs)
            }

            /// Release the storage; later calls raise StorageError.
            fn close(&self, py: Python<'_>) -> PyResult<()> {
                Ok($crate::python::storage::native::write(py, self, |s| s.close())?)
            }
        }
    };
}

pub(crate) use storage_methods;
