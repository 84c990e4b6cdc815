//! `Suback` for Python.

use pyo3::prelude::*;
use pyo3::types::PyList;

use super::{PySubscribe, ack_properties, ack_user_properties, repr_of};
use crate::constants::ReasonCode;
use crate::error::Error;
use crate::packet::Suback;
use crate::packet_id::PacketId;
use crate::python::constants::reason_code_member;
use crate::python::convert::{int_arg, iterate, wrong_type};

/// The `reason_codes` argument: a list of ints or `ReasonCode`s.
pub(crate) fn reason_codes(obj: &Bound<'_, PyAny>) -> Result<Vec<ReasonCode>, Error> {
    const FIELD: &str = "reason_codes";
    iterate(FIELD, "a list of ReasonCode", obj)?
        .map(|item| {
            let item = item.map_err(|_| wrong_type(FIELD, "a list of ReasonCode", obj))?;
            int_arg::<ReasonCode>(FIELD, &item)
        })
        .collect()
}

/// The reason codes as `ReasonCode` members.
pub(crate) fn reason_code_list<'py>(
    py: Python<'py>,
    codes: &[ReasonCode],
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    codes.iter().map(|c| reason_code_member(py, *c)).collect()
}

/// SUBACK: one reason code per filter of the SUBSCRIBE, in order.
#[pyclass(frozen, eq, name = "Suback", module = "mqtt_common.models.packets")]
#[derive(PartialEq)]
pub(crate) struct PySuback {
    pub(crate) inner: Suback,
}

impl From<Suback> for PySuback {
    fn from(inner: Suback) -> Self {
        Self { inner }
    }
}

#[pymethods]
impl PySuback {
    #[new]
    #[pyo3(signature = (packet_id, reason_codes, *, reason_string=None, user_properties=None))]
    fn new(
        packet_id: &Bound<'_, PyAny>,
        reason_codes: &Bound<'_, PyAny>,
        reason_string: Option<&Bound<'_, PyAny>>,
        user_properties: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let properties = ack_properties(reason_string, user_properties)?;
        Ok(Self {
            inner: Suback::new(
                int_arg::<PacketId>("packet_id", packet_id)?,
                self::reason_codes(reason_codes)?,
                properties,
            )?,
        })
    }

    /// Return the SUBACK that answers `subscribe`.
    ///
    /// It carries the SUBSCRIBE's packet identifier and exactly one reason code per
    /// filter, in order.
    #[staticmethod]
    #[pyo3(signature = (subscribe, reason_codes, *, reason_string=None, user_properties=None))]
    fn answering(
        subscribe: &Bound<'_, PyAny>,
        reason_codes: &Bound<'_, PyAny>,
        reason_string: Option<&Bound<'_, PyAny>>,
        user_properties: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let subscribe = subscribe
            .cast::<PySubscribe>()
            .map_err(|_| wrong_type("subscribe", "Subscribe", subscribe))?;
        let properties = ack_properties(reason_string, user_properties)?;
        Ok(Self {
            inner: Suback::answering(
                &subscribe.get().inner,
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

    /// One reason code per filter, in order.
    #[getter]
    fn reason_codes<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        reason_code_list(py, self.inner.reason_codes())
    }

    /// The 3.1.1 return codes: granted QoS, or 0x80 for a failure.
    #[getter]
    fn return_codes(&self) -> Vec<u32> {
        // u32, not u8: PyO3 turns a Vec<u8> into bytes.
        self.inner.return_codes().map(u32::from).collect()
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
        repr_of(slf.as_any(), "Suback", &["packet_id", "reason_codes"])
    }
}
