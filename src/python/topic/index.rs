//! `SubscriptionIndex` for Python.

use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};

use super::PySubscription;
use crate::error::TopicKind;
use crate::python::convert::{
    MaxSubscriptionsPerClient, MaxTopicLevels, client_id, extract_topic, limit, topic_filter,
    wrong_type,
};
use crate::topic::{
    DEFAULT_MAX_TOPIC_LEVELS, IndexLimits, Subscription, SubscriptionIndex, validate_topic_name,
};

/// What the Python index stores per subscription: the caller's objects, and the
/// `(client_id, subscription)` tuple that `matches` hands back without building a new one.
struct IndexEntry {
    subscription: Py<PySubscription>,
    pair: Py<PyTuple>,
}

impl AsRef<Subscription> for IndexEntry {
    fn as_ref(&self) -> &Subscription {
        &self.subscription.get().inner
    }
}

/// Every client's subscriptions, indexed by topic filter.
///
/// ``matches`` costs time that depends on the topic and the number of matches, not on
/// how many subscriptions there are. A client holds one subscription per filter
/// (compared character by character); subscribing again replaces it. The limits refuse
/// hostile input; None means no limit.
#[pyclass(name = "SubscriptionIndex", module = "mqtt_common.utils.topic")]
pub(crate) struct PySubscriptionIndex {
    inner: SubscriptionIndex<IndexEntry>,
}

/// The `client_id` argument, as the `str` object itself.
fn client_object<'a, 'py>(obj: &'a Bound<'py, PyAny>) -> PyResult<&'a Bound<'py, PyString>> {
    client_id(obj)?;
    Ok(obj
        .cast::<PyString>()
        .map_err(|_| wrong_type("client_id", "str", obj))?)
}

#[pymethods]
impl PySubscriptionIndex {
    /// The default of `max_topic_levels`.
    #[classattr]
    const DEFAULT_MAX_TOPIC_LEVELS: usize = DEFAULT_MAX_TOPIC_LEVELS;

    #[new]
    #[pyo3(signature = (*, max_topic_levels=DEFAULT_MAX_TOPIC_LEVELS, max_subscriptions_per_client=None))]
    fn new(
        #[pyo3(from_py_with = limit::<MaxTopicLevels>)] max_topic_levels: Option<usize>,
        #[pyo3(from_py_with = limit::<MaxSubscriptionsPerClient>)]
        max_subscriptions_per_client: Option<usize>,
    ) -> Self {
        Self {
            inner: SubscriptionIndex::with_limits(IndexLimits {
                max_topic_levels,
                max_subscriptions_per_client,
            }),
        }
    }

    /// The most levels a topic filter may have, or None for no limit.
    #[getter]
    fn max_topic_levels(&self) -> Option<usize> {
        self.inner.limits().max_topic_levels
    }

    /// The most subscriptions one client may hold, or None for no limit.
    #[getter]
    fn max_subscriptions_per_client(&self) -> Option<usize> {
        self.inner.limits().max_subscriptions_per_client
    }

    /// Add a subscription; True when it replaced the client's one with the same filter.
    fn subscribe(
        &mut self,
        py: Python<'_>,
        client_id: &Bound<'_, PyAny>,
        subscription: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let client = client_object(client_id)?;
        let subscription = subscription
            .cast::<PySubscription>()
            .map_err(|_| wrong_type("subscription", "Subscription", subscription))?;
        let pair = PyTuple::new(py, [client.as_any(), subscription.as_any()])?;
        let entry = IndexEntry {
            subscription: subscription.clone().unbind(),
            pair: pair.unbind(),
        };
        Ok(self.inner.subscribe(client.to_str()?, entry)?.is_some())
    }

    /// Remove the client's subscription with exactly this filter; True if it existed.
    fn unsubscribe(
        &mut self,
        client_id: &Bound<'_, PyAny>,
        topic_filter: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let client = self::client_id(client_id)?;
        let filter = self::topic_filter("topic_filter", topic_filter)?;
        Ok(self.inner.unsubscribe(client, &filter).is_some())
    }

    /// Remove every subscription of the client; return how many there were.
    fn unsubscribe_all(&mut self, client_id: &Bound<'_, PyAny>) -> PyResult<usize> {
        Ok(self
            .inner
            .unsubscribe_all(self::client_id(client_id)?)
            .len())
    }

    /// Return the client's subscriptions, in no particular order.
    fn subscriptions<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let found = self.inner.subscriptions(self::client_id(client_id)?);
        PyList::new(py, found.into_iter().map(|e| e.subscription.clone_ref(py)))
    }

    /// Return every (client id, subscription) whose filter matches ``topic``.
    ///
    /// Shared subscriptions are included (see ``share_group``); No Local is left to the
    /// caller, as is merging one client's overlapping matches (``merge_overlapping``).
    fn matches<'py>(
        &self,
        py: Python<'py>,
        topic: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let text = extract_topic("topic", TopicKind::Name, topic)?;
        validate_topic_name(text).map_err(|e| e.in_field("topic"))?;
        let mut found: Vec<&Py<PyTuple>> = Vec::new();
        self.inner
            .visit_matches(text, &mut |_, entry| found.push(&entry.pair));
        PyList::new(py, found.into_iter().map(|pair| pair.bind(py)))
    }

    /// Trie nodes in use, the root included: 1 when the index is empty.
    #[getter]
    fn node_count(&self) -> usize {
        self.inner.node_count()
    }

    /// How many clients hold at least one subscription.
    #[getter]
    fn client_count(&self) -> usize {
        self.inner.client_count()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "<SubscriptionIndex of {} subscriptions from {} clients>",
            self.inner.len(),
            self.inner.client_count()
        )
    }
}
