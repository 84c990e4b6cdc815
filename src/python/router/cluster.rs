//! A clustered router's answers for Python: `Forward` (a message for another node) and
//! `Change` (what every node must see). Both are opaque carriers between the router and
//! the transport (`RedisNode`); their getters are for logs and tests.

use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::error::Error;
use crate::python::convert::wrong_type;
use crate::python::message::PyMessage;
use crate::python::session::seconds;
use crate::router::{Change, Forward};

/// A message published on this node for the subscribers another node has.
///
/// Made by a clustered ``Router`` (``Routed.forwards``) and by the transport (what
/// another node sent); routed with ``Router.receive_forward``.
#[pyclass(frozen, name = "Forward", module = "mqtt_common.router")]
pub(crate) struct PyForward {
    pub(crate) inner: Forward,
}

#[pymethods]
impl PyForward {
    /// The node it goes to.
    #[getter]
    fn node(&self) -> &str {
        &self.inner.node
    }

    /// The message as published (its QoS and RETAIN flag).
    #[getter]
    fn message(&self, py: Python<'_>) -> PyResult<Py<PyMessage>> {
        Py::new(py, PyMessage::from_core(py, self.inner.message.clone()))
    }

    /// The message's QoS (0 may go live, uncommitted).
    #[getter]
    fn qos(&self) -> u8 {
        self.inner.message.qos() as u8
    }

    /// The client that published it (for No Local), or None for the broker's own.
    #[getter]
    fn publisher(&self) -> Option<&str> {
        self.inner.publisher.as_deref()
    }

    /// The shared subscriptions (``$share/...`` filters) that node serves this message.
    #[getter]
    fn groups(&self) -> Vec<String> {
        self.inner.groups.clone()
    }

    /// The one client it is for (a session that moved to that node), or None: all.
    #[getter]
    fn client_id(&self) -> Option<&str> {
        self.inner.client.as_deref()
    }

    /// When it was published (POSIX seconds): its expiry counts down from then.
    #[getter]
    fn published_at(&self) -> f64 {
        seconds(self.inner.published_at)
    }

    fn __repr__(&self) -> String {
        format!(
            "Forward(node={:?}, topic={:?}, qos={})",
            &*self.inner.node,
            self.inner.message.topic().as_str(),
            self.inner.message.qos() as u8
        )
    }
}

/// A change every node of a cluster applies, in one order (``Router.apply_change``).
///
/// ``kind`` says which: "filter" (a node's clients have, or no longer have, a filter),
/// "retained" (a topic's retained message set), "retained_cleared".
#[pyclass(frozen, name = "Change", module = "mqtt_common.router")]
pub(crate) struct PyChange {
    pub(crate) inner: Change,
}

#[pymethods]
impl PyChange {
    /// Which change it is: "filter", "retained" or "retained_cleared".
    #[getter]
    fn kind(&self) -> &'static str {
        match &self.inner {
            Change::Filter { .. } => "filter",
            Change::Retained { .. } => "retained",
            _ => "retained_cleared",
        }
    }

    /// The node of a "filter" change, else None.
    #[getter]
    fn node(&self) -> Option<&str> {
        match &self.inner {
            Change::Filter { node, .. } => Some(node),
            _ => None,
        }
    }

    /// The topic filter of a "filter" change, else None.
    #[getter]
    fn topic_filter(&self) -> Option<&str> {
        match &self.inner {
            Change::Filter { filter, .. } => Some(filter.as_str()),
            _ => None,
        }
    }

    /// Whether the node has the filter now (a "filter" change), else None.
    #[getter]
    fn present(&self) -> Option<bool> {
        match &self.inner {
            Change::Filter { present, .. } => Some(*present),
            _ => None,
        }
    }

    /// The message of a "retained" change, else None.
    #[getter]
    fn message(&self, py: Python<'_>) -> PyResult<Option<Py<PyMessage>>> {
        match &self.inner {
            Change::Retained { message, .. } => Ok(Some(Py::new(
                py,
                PyMessage::from_core(py, message.clone()),
            )?)),
            _ => Ok(None),
        }
    }

    /// The topic of a "retained" or "retained_cleared" change, else None.
    #[getter]
    fn topic(&self) -> Option<&str> {
        match &self.inner {
            Change::Retained { message, .. } => Some(message.topic().as_str()),
            Change::RetainedCleared { topic } => Some(topic.as_str()),
            _ => None,
        }
    }

    /// When a "retained" message arrived (POSIX seconds), else None.
    #[getter]
    fn arrived_at(&self) -> Option<f64> {
        match &self.inner {
            Change::Retained { arrived_at, .. } => Some(seconds(*arrived_at)),
            _ => None,
        }
    }

    fn __repr__(&self) -> String {
        match &self.inner {
            Change::Filter {
                node,
                filter,
                present,
            } => format!(
                "Change(filter, node={node:?}, topic_filter={:?}, present={})",
                filter.as_str(),
                if *present { "True" } else { "False" }
            ),
            _ => format!("Change({}, topic={:?})", self.kind(), self.topic()),
        }
    }
}

/// Python objects for forwards.
pub(crate) fn forwards_to_py<'py>(
    py: Python<'py>,
    forwards: Vec<Forward>,
) -> PyResult<Bound<'py, PyList>> {
    let objects = forwards
        .into_iter()
        .map(|inner| Py::new(py, PyForward { inner }))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, objects)
}

/// Python objects for changes.
pub(crate) fn changes_to_py<'py>(
    py: Python<'py>,
    changes: Vec<Change>,
) -> PyResult<Bound<'py, PyList>> {
    let objects = changes
        .into_iter()
        .map(|inner| Py::new(py, PyChange { inner }))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, objects)
}

/// The forwards of a Python list of `Forward`.
pub(crate) fn forwards_of(
    field: &'static str,
    obj: &Bound<'_, PyAny>,
) -> Result<Vec<Forward>, Error> {
    items_of(field, "a list of Forward", obj, |item| {
        item.cast::<PyForward>().ok().map(|f| f.get().inner.clone())
    })
}

/// The changes of a Python list of `Change`.
pub(crate) fn changes_of(
    field: &'static str,
    obj: &Bound<'_, PyAny>,
) -> Result<Vec<Change>, Error> {
    items_of(field, "a list of Change", obj, |item| {
        item.cast::<PyChange>().ok().map(|c| c.get().inner.clone())
    })
}

pub(super) fn items_of<T>(
    field: &'static str,
    expected: &'static str,
    obj: &Bound<'_, PyAny>,
    convert: impl Fn(&Bound<'_, PyAny>) -> Option<T>,
) -> Result<Vec<T>, Error> {
    let items = obj
        .try_iter()
        .map_err(|_| wrong_type(field, expected, obj))?;
    items
        .map(|item| {
            let item = item.map_err(|_| wrong_type(field, expected, obj))?;
            convert(&item).ok_or_else(|| wrong_type(field, expected, &item))
        })
        .collect()
}
