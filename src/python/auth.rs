//! `AuthCredentials`, the `AuthInterface` base class, and the adapter that lets Rust call
//! a Python implementation.

use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use super::convert::{extract_bytes, extract_str, present, shared_bytes};
use super::implementation::{PythonObject, expect_bool};
use crate::auth::{Action, AuthCredentials, AuthInterface};
use crate::error::{Error, Violation};

/// What a client presents when it connects; `repr` never shows the password.
#[pyclass(
    frozen,
    eq,
    hash,
    name = "AuthCredentials",
    module = "mqtt_common.src.auth"
)]
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct PyAuthCredentials {
    pub(crate) inner: AuthCredentials,
}

#[pymethods]
impl PyAuthCredentials {
    #[new]
    #[pyo3(signature = (client_id, username=None, password=None, certificate=None, peer=None))]
    fn new(
        client_id: &Bound<'_, PyAny>,
        username: Option<&Bound<'_, PyAny>>,
        password: Option<&Bound<'_, PyAny>>,
        certificate: Option<&Bound<'_, PyAny>>,
        peer: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let client_id = extract_str("client_id", client_id, Violation::InvalidUtf8)?;
        let mut inner = AuthCredentials::new(client_id)?;
        if let Some(obj) = present(username) {
            inner = inner.with_username(extract_str("username", obj, Violation::InvalidUtf8)?)?;
        }
        if let Some(obj) = present(password) {
            inner = inner.with_password(shared_bytes(&extract_bytes("password", obj)?));
        }
        if let Some(obj) = present(certificate) {
            inner = inner.with_certificate(shared_bytes(&extract_bytes("certificate", obj)?));
        }
        if let Some(obj) = present(peer) {
            inner = inner.with_peer(extract_str("peer", obj, Violation::InvalidUtf8)?);
        }
        Ok(Self { inner })
    }

    /// The client identifier.
    #[getter]
    fn client_id(&self) -> &str {
        self.inner.client_id()
    }

    /// The user name, or None.
    #[getter]
    fn username(&self) -> Option<&str> {
        self.inner.username()
    }

    /// The password (binary data), or None.
    #[getter]
    fn password<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.inner.password().map(|p| PyBytes::new(py, p))
    }

    /// The client certificate (DER or PEM), or None.
    #[getter]
    fn certificate<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.inner.certificate().map(|c| PyBytes::new(py, c))
    }

    /// The peer's address, or None.
    #[getter]
    fn peer(&self) -> Option<&str> {
        self.inner.peer()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let text = |s: Option<&str>| -> PyResult<String> {
            Ok(match s {
                Some(s) => PyString::new(py, s).repr()?.to_string(),
                None => "None".into(),
            })
        };
        Ok(format!(
            "AuthCredentials(client_id={}, username={}, password={}, certificate={}, peer={})",
            text(Some(self.inner.client_id()))?,
            text(self.inner.username())?,
            if self.inner.password().is_some() {
                "'<redacted>'"
            } else {
                "None"
            },
            match self.inner.certificate() {
                Some(c) => format!("<{} bytes>", c.len()),
                None => "None".into(),
            },
            text(self.inner.peer())?,
        ))
    }
}

/// The Rust base of `mqtt_common.src.auth.AuthInterface`; the Python ABC declares the
/// abstract methods.
#[pyclass(subclass, name = "AuthInterface", module = "mqtt_common.src.auth")]
pub(crate) struct PyAuthInterface;

#[pymethods]
impl PyAuthInterface {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        Self
    }
}

/// A Python `AuthInterface` seen from Rust: each trait method calls the Python method.
///
/// A Python exception comes back as [`Error::Callback`] and is raised again unchanged
/// when the error returns to Python; an `async def` method or a wrong return type is a
/// `TypeError` that names the method.
#[derive(Debug)]
pub struct PythonAuth {
    implementation: PythonObject,
}

impl PythonAuth {
    /// Wraps a Python object whose class derives from `AuthInterface`.
    ///
    /// # Errors
    /// `TypeError` for any other object (duck types are refused).
    pub fn new(implementation: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self {
            implementation: PythonObject::new::<PyAuthInterface>(implementation, "AuthInterface")?,
        })
    }

    fn credentials<'py>(
        py: Python<'py>,
        credentials: &AuthCredentials,
    ) -> PyResult<Bound<'py, PyAny>> {
        Bound::new(
            py,
            PyAuthCredentials {
                inner: credentials.clone(),
            },
        )?
        .into_bound_py_any(py)
    }
}

impl AuthInterface for PythonAuth {
    fn authenticate(&self, credentials: &AuthCredentials) -> Result<bool, Error> {
        Python::attach(|py| {
            let args = (Self::credentials(py, credentials)?,);
            let result = self.implementation.call(py, "authenticate", args)?;
            expect_bool(&result, "authenticate")
        })
    }

    fn authorize(
        &self,
        credentials: &AuthCredentials,
        topic: &str,
        action: Action,
    ) -> Result<bool, Error> {
        Python::attach(|py| {
            let action = action_member(py, action)?;
            let args = (Self::credentials(py, credentials)?, topic, action);
            let result = self.implementation.call(py, "authorize", args)?;
            expect_bool(&result, "authorize")
        })
    }
}

/// The Python `Action` member for an action.
fn action_member(py: Python<'_>, action: Action) -> PyResult<Bound<'_, PyAny>> {
    py.import("mqtt_common.src.auth")?
        .getattr("Action")?
        .call1((action.as_u8(),))
}
