//! `Subscribe` for Python.

use pyo3::prelude::*;
use pyo3::types::PyList;

use super::repr_of;
use crate::packet::Subscribe;
use crate::packet_id::PacketId;
use crate::python::convert::{int_arg, iterate, user_properties, user_properties_list};
use crate::python::topic::PySubscription;

/// SUBSCRIBE: a packet identifier and one or more subscriptions.
#[pyclass(frozen, eq, name = "Subscribe", module = "mqtt_common.models.packets")]
#[derive(PartialEq)]
pub(crate) struct PySubscribe {
    pub(crate) inner: Subscribe,
}

impl From<Subscribe> for PySubscribe {
    fn from(inner: Subscribe) -> Self {
        Self { inner }
    }
}

#[pymethods]
impl PySubscribe {
    #[new]
    #[pyo3(signature = (packet_id, subscriptions, *, user_properties=None))]
    fn new(
        packet_id: &Bound<'_, PyAny>,
        subscriptions: &Bound<'_, PyAny>,
        user_properties: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        const FIELD: &str = "subscriptions";
        let mut list = Vec::new();
        for item in iterate(FIELD, "a list of Subscription", subscriptions)? {
            list.push(PySubscription::core_of(FIELD, &item?)?);
        }
        let users = self::user_properties("user_properties", user_properties)?;
        Ok(Self {
            inner: Subscribe::new(int_arg::<PacketId>("packet_id", packet_id)?, list, users)?,
        })
    }

    /// The packet identifier.
    #[getter]
    fn packet_id(&self) -> u16 {
        self.inner.packet_id().get()
    }

    /// The subscriptions, in order.
    #[getter]
    fn subscriptions(&self) -> Vec<PySubscription> {
        self.inner
            .subscriptions()
            .iter()
            .map(|s| PySubscription { inner: s.clone() })
            .collect()
    }

    /// The User Properties.
    #[getter]
    fn user_properties<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        user_properties_list(py, self.inner.user_properties())
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr_of(slf.as_any(), "Subscribe", &["packet_id", "subscriptions"])
    }
}
