//! `Unsubscribe` for Python.

use pyo3::prelude::*;
use pyo3::types::PyList;

use super::repr_of;
use crate::packet::Unsubscribe;
use crate::packet_id::PacketId;
use crate::python::convert::{
    int_arg, iterate, topic_filter, user_properties, user_properties_list,
};

/// UNSUBSCRIBE: a packet identifier and one or more topic filters.
#[pyclass(
    frozen,
    eq,
    name = "Unsubscribe",
    module = "mqtt_common.models.packets"
)]
#[derive(PartialEq)]
pub(crate) struct PyUnsubscribe {
    pub(crate) inner: Unsubscribe,
}

impl From<Unsubscribe> for PyUnsubscribe {
    fn from(inner: Unsubscribe) -> Self {
        Self { inner }
    }
}

#[pymethods]
impl PyUnsubscribe {
    #[new]
    #[pyo3(signature = (packet_id, topic_filters, *, user_properties=None))]
    fn new(
        packet_id: &Bound<'_, PyAny>,
        topic_filters: &Bound<'_, PyAny>,
        user_properties: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        const FIELD: &str = "topic_filters";
        let mut filters = Vec::new();
        for item in iterate(FIELD, "a list of str", topic_filters)? {
            filters.push(topic_filter(FIELD, &item?)?);
        }
        let users = self::user_properties("user_properties", user_properties)?;
        Ok(Self {
            inner: Unsubscribe::new(int_arg::<PacketId>("packet_id", packet_id)?, filters, users)?,
        })
    }

    /// The packet identifier.
    #[getter]
    fn packet_id(&self) -> u16 {
        self.inner.packet_id().get()
    }

    /// The topic filters, in order.
    #[getter]
    fn topic_filters(&self) -> Vec<&str> {
        self.inner
            .topic_filters()
            .iter()
            .map(|f| f.as_str())
            .collect()
    }

    /// The User Properties.
    #[getter]
    fn user_properties<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        user_properties_list(py, self.inner.user_properties())
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr_of(slf.as_any(), "Unsubscribe", &["packet_id", "topic_filters"])
    }
}
