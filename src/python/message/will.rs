//! `Will` for Python: a Will Message and its delay.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use super::PyMessage;
use crate::message::Will;
use crate::python::convert::{DelayInterval, Fields, int, int_value, kwargs, repr, wrong_type};

/// A Will Message and its delay.
#[pyclass(frozen, name = "Will", module = "mqtt_common.src.session")]
pub(crate) struct PyWill {
    message: Py<PyMessage>,
    delay_interval: u32,
}

impl PyWill {
    /// The core Will.
    pub(crate) fn core(&self, py: Python<'_>) -> PyResult<Will> {
        Ok(Will {
            message: self.message.get().core(py)?.clone(),
            delay_interval: self.delay_interval,
        })
    }

    /// The core Will of a Python argument that must be a `Will`.
    pub(crate) fn core_of(field: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Will> {
        let will = obj
            .cast::<Self>()
            .map_err(|_| wrong_type(field, "Will", obj))?;
        will.get().core(obj.py())
    }

    /// A Python Will for a core one.
    pub(crate) fn from_core(py: Python<'_>, will: Will) -> PyResult<Self> {
        Ok(Self {
            message: Py::new(py, PyMessage::from_core(py, will.message))?,
            delay_interval: will.delay_interval,
        })
    }

    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Fields<'py>> {
        Ok(vec![
            ("message", self.message.bind(py).clone().into_any()),
            (
                "delay_interval",
                self.delay_interval.into_pyobject(py)?.into_any(),
            ),
        ])
    }
}

#[pymethods]
impl PyWill {
    #[new]
    #[pyo3(signature = (message, delay_interval=0))]
    fn new(
        message: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = int::<DelayInterval>)] delay_interval: i128,
    ) -> PyResult<Self> {
        let message = message
            .cast::<PyMessage>()
            .map_err(|_| wrong_type("message", "Message", message))?;
        Ok(Self {
            message: message.clone().unbind(),
            delay_interval: int_value("delay_interval", delay_interval)?,
        })
    }

    /// The message to publish.
    #[getter]
    fn message(&self, py: Python<'_>) -> Py<PyMessage> {
        self.message.clone_ref(py)
    }

    /// Seconds to wait after the connection ends (MQTT 5.0).
    #[getter]
    fn delay_interval(&self) -> u32 {
        self.delay_interval
    }

    fn __getnewargs_ex__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyTuple>, Bound<'py, PyDict>)> {
        Ok((PyTuple::empty(py), kwargs(py, self.fields(py)?)?))
    }

    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        match other.cast::<Self>() {
            Ok(other) => Ok(self.core(py)? == other.get().core(py)?),
            Err(_) => Ok(false),
        }
    }

    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        let message = self.message.get().content_hash(py)?;
        Ok(message ^ self.delay_interval as isize)
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr(slf.as_any(), "Will", &slf.get().fields(slf.py())?, &[])
    }
}
