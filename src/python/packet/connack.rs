//! `Connack` for Python.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::{properties_from_dict, properties_to_dict, repr_of};
use crate::constants::{PacketType, PropertyContext, ProtocolVersion, ReasonCode};
use crate::packet::Connack;
use crate::python::constants::{reason_code_member, return_code_member};
use crate::python::convert::{ReasonCodeArg, SessionPresent, flag, int, int_arg, int_value};

/// CONNACK: the server's answer to CONNECT.
#[pyclass(frozen, eq, name = "Connack", module = "mqtt_common.models.packets")]
#[derive(PartialEq)]
pub(crate) struct PyConnack {
    pub(crate) inner: Connack,
}

impl From<Connack> for PyConnack {
    fn from(inner: Connack) -> Self {
        Self { inner }
    }
}

#[pymethods]
impl PyConnack {
    #[new]
    #[pyo3(signature = (session_present=false, reason_code=0, *, properties=None))]
    fn new(
        #[pyo3(from_py_with = flag::<SessionPresent>)] session_present: bool,
        #[pyo3(from_py_with = int::<ReasonCodeArg>)] reason_code: i128,
        properties: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let properties =
            properties_from_dict(properties, PropertyContext::Packet(PacketType::Connack))?;
        let reason_code = int_value::<ReasonCode>("reason_code", reason_code)?;
        Ok(Self {
            inner: Connack::new(session_present, reason_code, properties)?,
        })
    }

    /// Return the CONNACK that refuses a client of `protocol_version` for `reason_code`.
    ///
    /// It carries the code itself in 5.0, and the closest 3.1.1 return code before: a
    /// lossy conversion the server asks for explicitly.
    #[staticmethod]
    fn refusing(
        reason_code: &Bound<'_, PyAny>,
        protocol_version: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let reason_code = int_arg::<ReasonCode>("reason_code", reason_code)?;
        let version = int_arg::<ProtocolVersion>("protocol_version", protocol_version)?;
        Ok(Self {
            inner: Connack::refusing(reason_code, version),
        })
    }

    /// Whether the server resumed a session.
    #[getter]
    fn session_present(&self) -> bool {
        self.inner.session_present()
    }

    /// The 5.0 reason code.
    #[getter]
    fn reason_code<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        reason_code_member(py, self.inner.reason_code())
    }

    /// The 3.1.1 return code with the reason code's meaning, or None if 3.1.1 has none.
    #[getter]
    fn return_code<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .return_code()
            .map(|code| return_code_member(py, code))
            .transpose()
    }

    /// The CONNACK properties (MQTT 5.0), by snake_case name.
    #[getter]
    fn properties<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        properties_to_dict(py, self.inner.properties())
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr_of(
            slf.as_any(),
            "Connack",
            &["session_present", "reason_code", "properties"],
        )
    }
}
