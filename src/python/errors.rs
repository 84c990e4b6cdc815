//! The one conversion from the core [`Error`] to a Python exception.
//!
//! The exception classes are defined in Python (`mqtt_common.models.errors`) because
//! `ValidationError` has two bases and every class carries attributes; Rust raises them
//! by looking each class up once. Their default reason codes are checked at import
//! against [`ErrorKind::PYTHON_CLASSES`].

use std::fmt;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};

use crate::error::{Error, ErrorKind};

const ERRORS_MODULE: &str = "mqtt_common.models.errors";

/// A Python exception on its way through Rust code (a Python implementation of an
/// interface, called through the Rust trait); it is raised again unchanged.
#[derive(Debug)]
pub struct PythonException(pub PyErr);

impl fmt::Display for PythonException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for PythonException {}

impl From<PyErr> for Error {
    fn from(err: PyErr) -> Self {
        Error::callback(Arc::new(PythonException(err)))
    }
}

impl From<Error> for PyErr {
    fn from(err: Error) -> PyErr {
        Python::attach(|py| {
            if let Some(exception) = err
                .callback_source()
                .and_then(|source| source.downcast_ref::<PythonException>())
            {
                return exception.0.clone_ref(py);
            }
            raise(py, &err).unwrap_or_else(|failure| failure)
        })
    }
}

/// Builds the exception instance: `Class(message, reason_code=..., spec_ref=...)`.
#[cold]
#[inline(never)]
fn raise(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let class = exception_class(py, err.kind())?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("reason_code", err.reason_code().as_u8())?;
    kwargs.set_item("spec_ref", err.spec_ref())?;
    if let Some(return_code) = err.return_code() {
        kwargs.set_item("return_code", return_code.as_u8())?;
    }
    let exception = class.call((err.to_string(),), Some(&kwargs))?;
    Ok(PyErr::from_value(exception))
}

fn exception_class(py: Python<'_>, kind: ErrorKind) -> PyResult<&Bound<'_, PyType>> {
    static CLASSES: PyOnceLock<Vec<(ErrorKind, Py<PyType>)>> = PyOnceLock::new();
    let classes = CLASSES.get_or_try_init(py, || {
        let module = py.import(ERRORS_MODULE)?;
        ErrorKind::PYTHON_CLASSES
            .iter()
            .map(|(name, kind, _)| {
                Ok((
                    *kind,
                    module.getattr(*name)?.cast_into::<PyType>()?.unbind(),
                ))
            })
            .collect::<PyResult<Vec<_>>>()
    })?;
    // Another language's error that is not a Python exception: the base class.
    let class = classes
        .iter()
        .find(|(k, _)| *k == kind)
        .or_else(|| classes.iter().find(|(k, _)| *k == ErrorKind::Callback))
        .map(|(_, class)| class.bind(py));
    class.ok_or_else(|| {
        pyo3::exceptions::PyImportError::new_err("mqtt_common.models.errors is incomplete")
    })
}
