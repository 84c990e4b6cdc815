//! `Subscription`, `SubscriptionIndex`, `Delivery` and `merge_overlapping` for Python.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use super::constants::{qos_member, retain_handling_member};
use super::convert::{
    apply_changes, extract_bool, extract_qos, extract_str, extract_topic, extract_uint, present,
    wrong_type,
};
use crate::constants::RetainHandling;
use crate::constants::protocol::MAX_SUBSCRIPTION_ID;
use crate::error::{Error, TopicKind, Violation};
use crate::index::{IndexLimits, SubscriptionIndex};
use crate::properties::SubscriptionId;
use crate::subscription::{Subscription, merge_overlapping as merge};
use crate::topic::{TopicFilter, validate_topic_name};

/// A subscription: a topic filter with its QoS and MQTT 5.0 options.
#[pyclass(
    frozen,
    eq,
    hash,
    name = "Subscription",
    module = "mqtt_common.models.subscription"
)]
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct PySubscription {
    pub(crate) inner: Subscription,
}

fn topic_filter(obj: &Bound<'_, PyAny>) -> Result<TopicFilter, Error> {
    let text = extract_topic("topic_filter", TopicKind::Filter, obj)?;
    TopicFilter::new(text).map_err(|e| e.in_field("topic_filter"))
}

/// The constructor's optional arguments; `None` means "not given".
struct SubscriptionArgs<'a, 'py> {
    qos: Option<&'a Bound<'py, PyAny>>,
    no_local: Option<&'a Bound<'py, PyAny>>,
    retain_as_published: Option<&'a Bound<'py, PyAny>>,
    retain_handling: Option<&'a Bound<'py, PyAny>>,
    subscription_id: Option<&'a Bound<'py, PyAny>>,
}

impl PySubscription {
    fn build(topic: &Bound<'_, PyAny>, args: SubscriptionArgs<'_, '_>) -> Result<Self, Error> {
        let mut builder = Subscription::builder(topic_filter(topic)?);
        if let Some(obj) = present(args.qos) {
            builder = builder.qos(extract_qos("qos", obj)?);
        }
        if let Some(obj) = present(args.no_local) {
            builder = builder.no_local(extract_bool("no_local", obj)?);
        }
        if let Some(obj) = present(args.retain_as_published) {
            builder = builder.retain_as_published(extract_bool("retain_as_published", obj)?);
        }
        if let Some(obj) = present(args.retain_handling) {
            const FIELD: &str = "retain_handling";
            let value = extract_uint(FIELD, obj, 0, u8::MAX.into(), "§3.8.3.1")?;
            let retain_handling =
                RetainHandling::try_from(value as u8).map_err(|v| Error::invalid(FIELD, v))?;
            builder = builder.retain_handling(retain_handling);
        }
        if let Some(obj) = present(args.subscription_id) {
            const FIELD: &str = "subscription_id";
            let value = extract_uint(FIELD, obj, 1, MAX_SUBSCRIPTION_ID.into(), "§3.8.2.1.2")?;
            let id = SubscriptionId::new(value as u32).map_err(|v| Error::invalid(FIELD, v))?;
            builder = builder.subscription_id(Some(id));
        }
        Ok(Self {
            inner: builder.build()?,
        })
    }

    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = &self.inner;
        let fields = PyDict::new(py);
        fields.set_item("topic_filter", s.topic_filter().as_str())?;
        fields.set_item("qos", s.qos().as_u8())?;
        fields.set_item("no_local", s.no_local())?;
        fields.set_item("retain_as_published", s.retain_as_published())?;
        fields.set_item("retain_handling", s.retain_handling().as_u8())?;
        fields.set_item(
            "subscription_id",
            s.subscription_id().map(SubscriptionId::get),
        )?;
        Ok(fields)
    }
}

#[pymethods]
impl PySubscription {
    #[new]
    #[pyo3(
        signature = (topic_filter, qos=None, *, no_local=None, retain_as_published=None, retain_handling=None, subscription_id=None),
        text_signature = "(topic_filter, qos=0, *, no_local=False, retain_as_published=False, retain_handling=0, subscription_id=None)"
    )]
    fn new(
        topic_filter: &Bound<'_, PyAny>,
        qos: Option<&Bound<'_, PyAny>>,
        no_local: Option<&Bound<'_, PyAny>>,
        retain_as_published: Option<&Bound<'_, PyAny>>,
        retain_handling: Option<&Bound<'_, PyAny>>,
        subscription_id: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let args = SubscriptionArgs {
            qos,
            no_local,
            retain_as_published,
            retain_handling,
            subscription_id,
        };
        Ok(Self::build(topic_filter, args)?)
    }

    /// The topic filter, `$share/<group>/` prefix included.
    #[getter]
    fn topic_filter(&self) -> &str {
        self.inner.topic_filter().as_str()
    }

    /// The maximum QoS granted.
    #[getter]
    fn qos<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        qos_member(py, self.inner.qos())
    }

    /// No Local: do not forward the client's own messages back to it.
    #[getter]
    fn no_local(&self) -> bool {
        self.inner.no_local()
    }

    /// Retain As Published: keep the RETAIN flag when forwarding.
    #[getter]
    fn retain_as_published(&self) -> bool {
        self.inner.retain_as_published()
    }

    /// When to send retained messages.
    #[getter]
    fn retain_handling<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        retain_handling_member(py, self.inner.retain_handling())
    }

    /// The Subscription Identifier, or None.
    #[getter]
    fn subscription_id(&self) -> Option<u32> {
        self.inner.subscription_id().map(SubscriptionId::get)
    }

    /// The share name of a shared subscription (`$share/<group>/...`), or None.
    #[getter]
    fn share_group(&self) -> Option<&str> {
        self.inner.share_group()
    }

    /// A copy with some fields changed, validated like the constructor.
    #[pyo3(signature = (**changes))]
    fn replace(&self, py: Python<'_>, changes: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let fields = self.fields(py)?;
        apply_changes(&fields, changes)?;
        let get = |name: &str| fields.get_item(name);
        let topic = get("topic_filter")?.unwrap_or_else(|| py.None().into_bound(py));
        let (qos, no_local, rap) = (get("qos")?, get("no_local")?, get("retain_as_published")?);
        let (retain_handling, subscription_id) = (get("retain_handling")?, get("subscription_id")?);
        let args = SubscriptionArgs {
            qos: qos.as_ref(),
            no_local: no_local.as_ref(),
            retain_as_published: rap.as_ref(),
            retain_handling: retain_handling.as_ref(),
            subscription_id: subscription_id.as_ref(),
        };
        Ok(Self::build(&topic, args)?)
    }

    #[pyo3(signature = (**changes))]
    fn __replace__(&self, py: Python<'_>, changes: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        self.replace(py, changes)
    }

    fn __getnewargs_ex__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyTuple>, Bound<'py, PyDict>)> {
        let fields = self.fields(py)?;
        let args = PyTuple::new(
            py,
            [fields.get_item("topic_filter")?, fields.get_item("qos")?],
        )?;
        fields.del_item("topic_filter")?;
        fields.del_item("qos")?;
        Ok((args, fields))
    }

    fn __copy__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __deepcopy__(slf: Py<Self>, _memo: &Bound<'_, PyAny>) -> Py<Self> {
        slf
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let s = &self.inner;
        let mut repr = format!(
            "Subscription(topic_filter={}, qos={}",
            PyString::new(py, s.topic_filter().as_str()).repr()?,
            s.qos().as_u8()
        );
        if s.no_local() {
            repr.push_str(", no_local=True");
        }
        if s.retain_as_published() {
            repr.push_str(", retain_as_published=True");
        }
        if s.retain_handling() != RetainHandling::SendAtSubscribe {
            repr.push_str(&format!(
                ", retain_handling={}",
                s.retain_handling().as_u8()
            ));
        }
        if let Some(id) = s.subscription_id() {
            repr.push_str(&format!(", subscription_id={}", id.get()));
        }
        repr.push(')');
        Ok(repr)
    }
}

/// What the Python index stores per subscription: the caller's objects, and the
/// `(client_id, subscription)` tuple that `match` hands back without building a new one.
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
#[pyclass(name = "SubscriptionIndex", module = "mqtt_common.utils.topic")]
pub(crate) struct PySubscriptionIndex {
    inner: SubscriptionIndex<IndexEntry>,
}

fn extract_client_id<'a, 'py>(
    obj: &'a Bound<'py, PyAny>,
) -> Result<&'a Bound<'py, PyString>, Error> {
    extract_str("client_id", obj, Violation::InvalidUtf8)?;
    obj.cast::<PyString>()
        .map_err(|_| wrong_type("client_id", "str", obj))
}

fn limit(field: &'static str, obj: Option<Bound<'_, PyAny>>) -> Result<Option<usize>, Error> {
    match obj {
        Some(obj) if !obj.is_none() => {
            Ok(Some(
                extract_uint(field, &obj, 0, u32::MAX.into(), "§3.9.3")? as usize,
            ))
        }
        _ => Ok(None),
    }
}

#[pymethods]
impl PySubscriptionIndex {
    #[new]
    #[pyo3(
        signature = (**limits),
        text_signature = "(*, max_topic_levels=128, max_subscriptions_per_client=None)"
    )]
    fn new(limits: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let mut parsed = IndexLimits::default();
        if let Some(limits) = limits {
            for (key, value) in limits.iter() {
                match key.extract::<&str>().unwrap_or_default() {
                    "max_topic_levels" => {
                        parsed.max_topic_levels = limit("max_topic_levels", Some(value))?;
                    }
                    "max_subscriptions_per_client" => {
                        parsed.max_subscriptions_per_client =
                            limit("max_subscriptions_per_client", Some(value))?;
                    }
                    _ => {
                        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                            "SubscriptionIndex() got an unexpected keyword argument {}",
                            key.repr()?
                        )));
                    }
                }
            }
        }
        Ok(Self {
            inner: SubscriptionIndex::with_limits(parsed),
        })
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

    /// Adds a subscription; True when it replaced the client's one with the same filter.
    fn subscribe(
        &mut self,
        py: Python<'_>,
        client_id: &Bound<'_, PyAny>,
        subscription: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let client = extract_client_id(client_id)?;
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

    /// Removes the client's subscription with exactly this filter; True if it existed.
    fn unsubscribe(
        &mut self,
        client_id: &Bound<'_, PyAny>,
        topic_filter: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let client = extract_client_id(client_id)?;
        let filter = self::topic_filter(topic_filter)?;
        Ok(self.inner.unsubscribe(client.to_str()?, &filter).is_some())
    }

    /// Removes every subscription of the client; returns how many there were.
    fn unsubscribe_all(&mut self, client_id: &Bound<'_, PyAny>) -> PyResult<usize> {
        let client = extract_client_id(client_id)?;
        Ok(self.inner.unsubscribe_all(client.to_str()?).len())
    }

    /// The client's subscriptions, in no particular order.
    fn subscriptions<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let client = extract_client_id(client_id)?;
        let found = self.inner.subscriptions(client.to_str()?);
        PyList::new(py, found.into_iter().map(|e| e.subscription.clone_ref(py)))
    }

    /// Every (client id, subscription) whose filter matches `topic`.
    #[pyo3(name = "match")]
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
            "SubscriptionIndex(subscriptions={}, clients={})",
            self.inner.len(),
            self.inner.client_count()
        )
    }
}

/// What to send one client for one PUBLISH when several of its subscriptions match.
#[pyclass(frozen, eq, name = "Delivery", module = "mqtt_common.utils.topic")]
#[derive(PartialEq)]
pub(crate) struct PyDelivery {
    #[pyo3(get)]
    client_id: String,
    qos: crate::constants::QoS,
    #[pyo3(get)]
    subscription_identifiers: Vec<u32>,
    #[pyo3(get)]
    retain_as_published: bool,
}

#[pymethods]
impl PyDelivery {
    /// The highest QoS of the matching subscriptions.
    #[getter]
    fn qos<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        qos_member(py, self.qos)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Delivery(client_id={}, qos={}, subscription_identifiers={:?}, retain_as_published={})",
            PyString::new(py, &self.client_id).repr()?,
            self.qos.as_u8(),
            self.subscription_identifiers,
            if self.retain_as_published {
                "True"
            } else {
                "False"
            }
        ))
    }
}

/// Merges the matches of one topic into one Delivery per client (shared subscriptions,
/// and the publisher's own No Local subscriptions, are left out).
#[pyfunction]
#[pyo3(signature = (matches, publisher=None))]
pub(super) fn merge_overlapping(
    matches: &Bound<'_, PyAny>,
    publisher: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<PyDelivery>> {
    const EXPECTED: &str = "an iterable of (str, Subscription) pairs";
    let mut pairs: Vec<(Bound<'_, PyString>, Bound<'_, PySubscription>)> = Vec::new();
    let items = matches
        .try_iter()
        .map_err(|_| wrong_type("matches", EXPECTED, matches))?;
    for item in items {
        let item = item?;
        let pair = item
            .extract::<(Bound<'_, PyString>, Bound<'_, PySubscription>)>()
            .map_err(|_| wrong_type("matches", EXPECTED, &item))?;
        pairs.push(pair);
    }
    let publisher = match present(publisher) {
        Some(obj) => Some(extract_str("publisher", obj, Violation::InvalidUtf8)?),
        None => None,
    };
    let texts = pairs
        .iter()
        .map(|(client, _)| client.to_str())
        .collect::<PyResult<Vec<_>>>()?;
    let merged = merge(
        texts
            .iter()
            .zip(&pairs)
            .map(|(client, (_, subscription))| (*client, &subscription.get().inner)),
        publisher,
    );
    Ok(merged
        .into_iter()
        .map(|delivery| PyDelivery {
            client_id: delivery.client_id.to_owned(),
            qos: delivery.qos,
            subscription_identifiers: delivery
                .subscription_ids
                .iter()
                .map(|id| id.get())
                .collect(),
            retain_as_published: delivery.retain_as_published,
        })
        .collect())
}
