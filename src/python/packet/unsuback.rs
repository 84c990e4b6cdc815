//! `Unsuback` for Python.

use pyo3::prelude::*;
use pyo3::types::PyList;

use super::suback::{reason_code_list, reason_codes};
use super::{PyUnsubscribe, ack_properties, ack_user_properties, repr_of};
use crate::packet::Unsuback;
use crate::packet_id::PacketId;
use crate::python::convert::{int_arg, present, wrong_type};

/// UNSUBACK: the answer to UNSUBSCRIBE.
///
/// In 5.0 it has one reason code per filter of the UNSUBSCRIBE; in 3.1.1 only the packet
/// identifier.
#[pyclass(frozen, eq, name = "Unsuback", module = "mqtt_common.models.packets")]
#[derive(PartialEq)]
pub(crate) struct PyUnsuback {
    pub(crate) inner: Unsuback,
}

impl From<Unsuback> for PyUnsuback {
    fn from(inner: Unsuback) -> Self {
        Self { inner }
    }
}

#[pymethods]
impl PyUnsuback {
    #[new]
    #[pyo3(signature = (packet_id, reason_codes=None, *, reason_string=None, user_properties=None))]
    fn new(
        packet_id: &Bound<'_, PyAny>,
        reason_codes: Option<&Bound<'_, PyAny>>,
        reason_string: Option<&Bound<'_, PyAny>>,
        user_properties: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let codes = present(reason_codes)
            .map(self::reason_codes)
            .transpose()?
            .unwrap_or_default();
        let properties = ack_properties(reason_string, user_properties)?;
        Ok(Self {
            inner: Unsuback::new(
                int_arg::<PacketId>("packet_id", packet_id)?,
                codes,
                properties,
            )?,
        })
    }

    /// Return the UNSUBACK that answers `unsubscribe`.
    ///
    /// It carries the UNSUBSCRIBE's packet identifier and exactly one reason code per
    /// filter, in order (3.1.1 leaves the codes out on the wire).
    #[staticmethod]
    #[pyo3(signature = (unsubscribe, reason_codes, *, reason_string=None, user_properties=None))]
    fn answering(
        unsubscribe: &Bound<'_, PyAny>,
        reason_codes: &Bound<'_, PyAny>,
        reason_string: Option<&Bound<'_, PyAny>>,
        user_properties: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let unsubscribe = unsubscribe
            .cast::<PyUnsubscribe>()
            .map_err(|_| wrong_type("unsubscribe", "Unsubscribe", unsubscribe))?;
        let properties = ack_properties(reason_string, user_properties)?;
        Ok(Self {
            inner: Unsuback::answering(
                &unsubscribe.get().inner,
                self::reason_codes(reason_codes)?,
                properties,
            )?,
        })
    }

    /// The packet identifier.
    #[getter]
    fn packet_id(&self) -> u16 {
        self.inner.packet_id().get()
    }

    /// One reason code per filter (MQTT 5.0; empty before).
    #[getter]
    fn reason_codes<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        reason_code_list(py, self.inner.reason_codes())
    }

    /// The Reason String, or None.
    #[getter]
    fn reason_string(&self) -> Option<&str> {
        self.inner.properties().reason_string.as_deref()
    }

    /// The User Properties.
    #[getter]
    fn user_properties<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        ack_user_properties(py, self.inner.properties())
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr_of(slf.as_any(), "Unsuback", &["packet_id", "reason_codes"])
    }
}
