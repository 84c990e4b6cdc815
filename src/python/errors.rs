//! The one conversion from the core [`Error`] to a Python exception.
//!
//! The exception classes are defined in Python (`mqtt_common.models.errors`) because
//! `ValidationError` has two bases and every class carries attributes; Rust raises them
//! by looking each class up once.

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
        Error::Callback(Arc::new(PythonException(err)))
    }
}

impl From<Error> for PyErr {
    fn from(err: Error) -> PyErr {
        Python::attach(|py| {
            if let Error::Callback(inner) = &err
                && let Some(exception) = inner.downcast_ref::<PythonException>()
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
    static VALIDATION: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static MALFORMED: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static PROTOCOL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static CONNECT: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static AUTHENTICATION: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static AUTHORIZATION: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static STORAGE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    static BASE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let (cell, name) = match kind {
        ErrorKind::Validation => (&VALIDATION, "ValidationError"),
        ErrorKind::MalformedPacket => (&MALFORMED, "MalformedPacketError"),
        ErrorKind::Protocol => (&PROTOCOL, "ProtocolError"),
        ErrorKind::Connect => (&CONNECT, "ConnectError"),
        ErrorKind::Authentication => (&AUTHENTICATION, "AuthenticationError"),
        ErrorKind::Authorization => (&AUTHORIZATION, "AuthorizationError"),
        ErrorKind::Storage => (&STORAGE, "StorageError"),
        // Another language's error that is not a Python exception: the base class.
        ErrorKind::Callback => (&BASE, "MQTTError"),
    };
    cell.import(py, ERRORS_MODULE, name)
}
