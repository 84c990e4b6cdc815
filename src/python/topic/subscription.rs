//! `Subscription`, `Delivery` and `merge_overlapping` for Python.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use crate::constants::{QoS, RetainHandling};
use crate::error::Error;
use crate::python::constants::{qos_member, retain_handling_member};
use crate::python::convert::{
    Fields, NoLocal, Qos, RetainAsPublished, RetainHandlingArg, extract_str, flag, int, int_arg,
    int_value, kwargs, present, repr, topic_filter, wrong_type,
};
use crate::topic::{Subscription, SubscriptionId, merge_overlapping as merge};

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

impl PySubscription {
    /// The core subscription of a Python argument that must be a `Subscription`.
    pub(crate) fn core_of(
        field: &'static str,
        obj: &Bound<'_, PyAny>,
    ) -> Result<Subscription, Error> {
        let subscription = obj
            .cast::<Self>()
            .map_err(|_| wrong_type(field, "Subscription", obj))?;
        Ok(subscription.get().inner.clone())
    }

    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Fields<'py>> {
        let s = &self.inner;
        Ok(vec![
            (
                "topic_filter",
                s.topic_filter().as_str().into_pyobject(py)?.into_any(),
            ),
            ("qos", qos_member(py, s.qos())?),
            (
                "no_local",
                s.no_local().into_pyobject(py)?.to_owned().into_any(),
            ),
            (
                "retain_as_published",
                s.retain_as_published()
                    .into_pyobject(py)?
                    .to_owned()
                    .into_any(),
            ),
            (
                "retain_handling",
                retain_handling_member(py, s.retain_handling())?,
            ),
            (
                "subscription_id",
                s.subscription_id()
                    .map(SubscriptionId::get)
                    .into_pyobject(py)?,
            ),
        ])
    }
}

#[pymethods]
impl PySubscription {
    #[new]
    #[pyo3(signature = (topic_filter, qos=0, *, no_local=false, retain_as_published=false, retain_handling=0, subscription_id=None))]
    fn new(
        topic_filter: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = int::<Qos>)] qos: i128,
        #[pyo3(from_py_with = flag::<NoLocal>)] no_local: bool,
        #[pyo3(from_py_with = flag::<RetainAsPublished>)] retain_as_published: bool,
        #[pyo3(from_py_with = int::<RetainHandlingArg>)] retain_handling: i128,
        subscription_id: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let inner = Subscription::builder(self::topic_filter("topic_filter", topic_filter)?)
            .qos(int_value::<QoS>("qos", qos)?)
            .no_local(no_local)
            .retain_as_published(retain_as_published)
            .retain_handling(int_value::<RetainHandling>(
                "retain_handling",
                retain_handling,
            )?)
            .subscription_id(
                present(subscription_id)
                    .map(|obj| int_arg::<SubscriptionId>("subscription_id", obj))
                    .transpose()?,
            )
            .build()?;
        Ok(Self { inner })
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

    /// Return a copy with some fields changed, validated like the constructor.
    #[pyo3(signature = (**changes))]
    fn replace<'py>(
        slf: &Bound<'py, Self>,
        changes: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fields = slf.get().fields(slf.py())?;
        crate::python::convert::replace(slf.as_any(), fields, changes)
    }

    #[pyo3(signature = (**changes))]
    fn __replace__<'py>(
        slf: &Bound<'py, Self>,
        changes: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        Self::replace(slf, changes)
    }

    fn __getnewargs_ex__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyTuple>, Bound<'py, PyDict>)> {
        Ok((PyTuple::empty(py), kwargs(py, self.fields(py)?)?))
    }

    fn __copy__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __deepcopy__(slf: Py<Self>, _memo: &Bound<'_, PyAny>) -> Py<Self> {
        slf
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr(
            slf.as_any(),
            "Subscription",
            &slf.get().fields(slf.py())?,
            &[],
        )
    }
}

/// What to send one client for one PUBLISH when several of its subscriptions match.
#[pyclass(frozen, eq, name = "Delivery", module = "mqtt_common.utils.topic")]
#[derive(PartialEq)]
pub(crate) struct PyDelivery {
    /// The client to send to.
    #[pyo3(get)]
    client_id: String,
    pub(crate) qos: QoS,
    /// Every Subscription Identifier of the matching subscriptions, ascending.
    #[pyo3(get)]
    pub(crate) subscription_identifiers: Vec<u32>,
    /// Whether any matching subscription asked for Retain As Published.
    #[pyo3(get)]
    pub(crate) retain_as_published: bool,
}

#[pymethods]
impl PyDelivery {
    /// The highest QoS of the matching subscriptions.
    #[getter]
    fn qos<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        qos_member(py, self.qos)
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let (py, this) = (slf.py(), slf.get());
        let fields = vec![
            ("client_id", PyString::new(py, &this.client_id).into_any()),
            ("qos", qos_member(py, this.qos)?),
            (
                "subscription_identifiers",
                PyList::new(py, &this.subscription_identifiers)?.into_any(),
            ),
            (
                "retain_as_published",
                this.retain_as_published
                    .into_pyobject(py)?
                    .to_owned()
                    .into_any(),
            ),
        ];
        repr(slf.as_any(), "Delivery", &fields, &[])
    }
}

/// Merge the matches of one topic into one Delivery per client.
///
/// Shared subscriptions are left out (pick one member of each group from the matches),
/// and so are the publisher's own No Local subscriptions when `publisher` is given.
#[pyfunction]
#[pyo3(signature = (matches, publisher=None))]
pub(crate) fn merge_overlapping(
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
        Some(obj) => Some(extract_str("publisher", obj)?),
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
                .subscription_identifiers
                .iter()
                .map(|id| id.get())
                .collect(),
            retain_as_published: delivery.retain_as_published,
        })
        .collect())
}
