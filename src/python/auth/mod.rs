//! `AuthCredentials`, the `AuthInterface` base class, and the adapter that lets Rust call
//! a Python implementation.

#[cfg(feature = "auth-files")]
mod files;

#[cfg(feature = "auth-files")]
pub(crate) use files::{
    PyAclFile, PyAuthChain, PyFileAuth, PyPasswordFile, certificate_username, hash_password,
};

use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};

use crate::auth::{Action, AuthCredentials, AuthInterface};
use crate::error::Error;
use crate::python::constants::action_member;
use crate::python::convert::{
    Fields, client_id, extract_bytes, extract_str, kwargs, present, repr, shared_bytes,
};
use crate::python::implementation::PythonObject;

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
        let mut inner = AuthCredentials::new(self::client_id(client_id)?)?;
        if let Some(obj) = present(username) {
            inner = inner.with_username(extract_str("username", obj)?)?;
        }
        if let Some(obj) = present(password) {
            inner = inner.with_password(shared_bytes(&extract_bytes("password", obj)?));
        }
        if let Some(obj) = present(certificate) {
            inner = inner.with_certificate(shared_bytes(&extract_bytes("certificate", obj)?));
        }
        if let Some(obj) = present(peer) {
            inner = inner.with_peer(extract_str("peer", obj)?);
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

    /// Return a copy with these fields changed (the network's peer and certificate).
    #[pyo3(signature = (**changes))]
    fn replace<'py>(
        slf: &Bound<'py, Self>,
        changes: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fields = slf.get().values(slf.py())?;
        crate::python::convert::replace(slf.as_any(), fields, changes)
    }

    #[pyo3(signature = (**changes))]
    fn __replace__<'py>(
        slf: &Bound<'py, Self>,
        changes: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        Self::replace(slf, changes)
    }

    fn __getnewargs_ex__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyTuple>, Bound<'py, PyDict>)> {
        Ok((PyTuple::empty(py), kwargs(py, self.values(py)?)?))
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr(
            slf.as_any(),
            "AuthCredentials",
            &slf.get().fields(slf.py())?,
            &[],
        )
    }
}

impl PyAuthCredentials {
    /// The fields with their values, password and certificate included: what pickling
    /// and `replace` rebuild the object from.
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Fields<'py>> {
        let mut fields = self.fields(py)?;
        fields[2].1 = self.password(py).into_pyobject(py)?.into_any();
        fields[3].1 = self.certificate(py).into_pyobject(py)?.into_any();
        Ok(fields)
    }

    /// The fields, with the password redacted and the certificate summarised: never shown.
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Fields<'py>> {
        let password = self.inner.password().map(|_| "<redacted>");
        let certificate = self
            .inner
            .certificate()
            .map(|c| format!("<{} bytes>", c.len()));
        Ok(vec![
            (
                "client_id",
                self.inner.client_id().into_pyobject(py)?.into_any(),
            ),
            ("username", self.inner.username().into_pyobject(py)?),
            ("password", password.into_pyobject(py)?),
            ("certificate", certificate.into_pyobject(py)?),
            ("peer", self.inner.peer().into_pyobject(py)?),
        ])
    }
}

/// The Rust base of `mqtt_common.src.auth.AuthInterface`.
///
/// The Python ABC declares the abstract methods.
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
/// A Python exception comes back as a callback error and is raised again unchanged
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

/// Only `True` grants: any other answer (a truthy object, say) is a refusal.
impl AuthInterface for PythonAuth {
    fn authenticate(&self, credentials: &AuthCredentials) -> Result<bool, Error> {
        Python::attach(|py| {
            let args = (Self::credentials(py, credentials)?,);
            let result = self.implementation.call(py, "authenticate", args)?;
            Ok(result.is(&*pyo3::types::PyBool::new(py, true)))
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
            Ok(result.is(&*pyo3::types::PyBool::new(py, true)))
        })
    }

    /// The `knows` method every `AuthInterface` has (True unless overridden).
    fn knows(&self, credentials: &AuthCredentials) -> Result<bool, Error> {
        Python::attach(|py| {
            let args = (Self::credentials(py, credentials)?,);
            let result = self.implementation.call(py, "knows", args)?;
            Ok(result.is(&*pyo3::types::PyBool::new(py, true)))
        })
    }
}
