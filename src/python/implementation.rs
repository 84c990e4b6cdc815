//! Calling Python implementations of the interfaces from Rust: one place that turns a
//! Python call's outcome into a Rust result, so every adapter behaves the same.

use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyString};
use pyo3::{PyTypeInfo, call::PyCallArgs};

use crate::error::Error;

/// A Python implementation of an interface, held for calls from Rust.
#[derive(Debug)]
pub(super) struct PythonObject(Py<PyAny>);

impl PythonObject {
    /// Holds `obj` if its class derives from the interface's base class `T`.
    pub(super) fn new<T: PyTypeInfo>(obj: &Bound<'_, PyAny>, interface: &str) -> PyResult<Self> {
        require_instance::<T>(obj, interface)?;
        Ok(Self(obj.clone().unbind()))
    }

    /// Holds an object already known to implement the interface (`self` in a method of
    /// the interface's base class).
    pub(super) fn trusted(obj: &Bound<'_, PyAny>) -> Self {
        Self(obj.clone().unbind())
    }

    /// Calls one of its methods; see [`call`].
    pub(super) fn call<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        args: impl PyCallArgs<'py>,
    ) -> Result<Bound<'py, PyAny>, Error> {
        call(self.0.bind(py), &PyString::intern(py, method), args)
    }
}

/// Refuses objects that do not derive from the interface's base class: a duck type or an
/// `ABC.register`ed class has not promised the contract.
fn require_instance<T: PyTypeInfo>(obj: &Bound<'_, PyAny>, interface: &str) -> PyResult<()> {
    if obj.is_instance_of::<T>() {
        return Ok(());
    }
    Err(PyTypeError::new_err(format!(
        "expected an implementation of {interface} (a subclass of it), got {}",
        type_name(obj)
    )))
}

/// Calls `obj.method(*args)`. A Python exception is returned as it is; a coroutine (the
/// method was written `async def`) is closed and refused with a `TypeError`.
fn call<'py>(
    obj: &Bound<'py, PyAny>,
    method: &Bound<'py, PyString>,
    args: impl PyCallArgs<'py>,
) -> Result<Bound<'py, PyAny>, Error> {
    let result = obj.call_method1(method, args)?;
    if result
        .hasattr(intern!(obj.py(), "__await__"))
        .unwrap_or(false)
    {
        // Closing it avoids a "coroutine was never awaited" warning.
        let _ = result.call_method0(intern!(obj.py(), "close"));
        return Err(PyTypeError::new_err(format!(
            "{}.{method}() is a coroutine function (async def), but mqtt-common interfaces are \
             synchronous: make it a plain def that returns promptly",
            type_name(obj)
        ))
        .into());
    }
    Ok(result)
}

/// A method's result that must be a `bool`.
pub(super) fn expect_bool(result: &Bound<'_, PyAny>, method: &str) -> Result<bool, Error> {
    result
        .cast::<PyBool>()
        .map(|b| b.is_true())
        .map_err(|_| wrong_return(result, method, "bool"))
}

/// A `TypeError` naming the method, the type it must return, and what it returned.
pub(super) fn wrong_return(result: &Bound<'_, PyAny>, method: &str, expected: &str) -> Error {
    PyTypeError::new_err(format!(
        "{method}() must return {expected}, not {}",
        type_name(result)
    ))
    .into()
}

pub(super) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .qualname()
        .map_or_else(|_| "an object".to_owned(), |name| name.to_string())
}
