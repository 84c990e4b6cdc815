//! `AsyncSqliteSessionStore` for Python: the SQLite session store as a native member of
//! the async family. Each method returns an `asyncio.Future` that the store's commit
//! resolves through the extension's runtime ([`crate::python::runtime`]), with no thread
//! per call.

use std::sync::Arc;

use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;

use super::PySession;
use super::sqlite::{describe, open};
use crate::constants::ProtocolVersion;
use crate::python::convert::{
    DurabilityArg, ExpiryInterval, ProtocolVersionArg, choice, client_id, durability_name,
    extract_bool, int, int_value,
};
use crate::python::message::PyWill;
use crate::python::runtime::{awaitable, none, plain};
use crate::session::AsyncSessionInterface;
use crate::sqlite::SqliteSessionStore;

/// SqliteSessionStore as an asynchronous session store; every method is awaitable.
///
/// A change's awaitable resolves once it is committed; changes awaited together share a
/// commit. Reads are served from memory. No thread is started per call: the store's
/// writer completes each call on the extension's shared tokio runtime.
#[pyclass(
    subclass,
    frozen,
    name = "AsyncSqliteSessionStore",
    module = "mqtt_common.src.session"
)]
pub(crate) struct PyAsyncSqliteSessionStore {
    inner: Arc<SqliteSessionStore>,
}

impl PyAsyncSqliteSessionStore {
    fn core(&self) -> Arc<dyn AsyncSessionInterface> {
        self.inner.clone()
    }
}

/// A Will found, as a Python `Will` or None.
fn will_or_none(py: Python<'_>, will: Option<crate::message::Will>) -> PyResult<Py<PyAny>> {
    match will {
        Some(will) => Ok(Py::new(py, PyWill::from_core(py, will)?)?.into_any()),
        None => Ok(py.None()),
    }
}

#[pymethods]
impl PyAsyncSqliteSessionStore {
    #[new]
    #[pyo3(signature = (path, *, durability="full"))]
    fn new(
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = choice::<DurabilityArg>)] durability: &'static str,
    ) -> PyResult<Self> {
        Ok(Self {
            inner: Arc::new(open(py, path, durability)?),
        })
    }

    /// The database file.
    #[getter]
    fn path(&self) -> std::path::PathBuf {
        self.inner.path().to_path_buf()
    }

    /// What a resolved change survives: "full" or "process_crash_only".
    #[getter]
    fn durability(&self) -> &'static str {
        durability_name(self.inner.durability())
    }

    /// Return the session for a CONNECT and whether one was present (resumed).
    #[pyo3(signature = (client_id, clean_start, expiry_interval=0, protocol_version=4))]
    fn create_session<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
        clean_start: &Bound<'py, PyAny>,
        #[pyo3(from_py_with = int::<ExpiryInterval>)] expiry_interval: i128,
        #[pyo3(from_py_with = int::<ProtocolVersionArg>)] protocol_version: i128,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client_id = self::client_id(client_id)?.to_owned();
        let clean_start = extract_bool("clean_start", clean_start)?;
        let expiry_interval = int_value("expiry_interval", expiry_interval)?;
        let version = int_value::<ProtocolVersion>("protocol_version", protocol_version)?;
        let core = self.core();
        awaitable(
            py,
            async move {
                core.create_session(&client_id, clean_start, expiry_interval, version)
                    .await
            },
            |py, (session, present)| (PySession::from(session), present).into_py_any(py),
        )
    }

    /// Return the stored session of a client, or None.
    fn get_session<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client_id = self::client_id(client_id)?.to_owned();
        let core = self.core();
        awaitable(
            py,
            async move { core.get_session(&client_id).await },
            |py, found| found.map(PySession::from).into_py_any(py),
        )
    }

    /// Store a session, replacing the client's previous one.
    fn save_session<'py>(
        &self,
        py: Python<'py>,
        session: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let session = PySession::core_of("session", session)?;
        let core = self.core();
        awaitable(py, async move { core.save_session(&session).await }, none)
    }

    /// Delete a client's session and Will; return whether there was a session.
    fn delete_session<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client_id = self::client_id(client_id)?.to_owned();
        let core = self.core();
        awaitable(
            py,
            async move { core.delete_session(&client_id).await },
            plain,
        )
    }

    /// Set the client's Will, replacing any other.
    fn set_will<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
        will: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let will = PyWill::core_of("will", will)?;
        let client_id = self::client_id(client_id)?.to_owned();
        let core = self.core();
        awaitable(
            py,
            async move { core.set_will(&client_id, will).await },
            none,
        )
    }

    /// Return the client's Will, or None.
    fn get_will<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client_id = self::client_id(client_id)?.to_owned();
        let core = self.core();
        awaitable(
            py,
            async move { core.get_will(&client_id).await },
            will_or_none,
        )
    }

    /// Remove the client's Will (a normal DISCONNECT); return it, or None.
    fn clear_will<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client_id = self::client_id(client_id)?.to_owned();
        let core = self.core();
        awaitable(
            py,
            async move { core.clear_will(&client_id).await },
            will_or_none,
        )
    }

    /// Return the client id of every stored session (to restore them after a restart).
    fn client_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let store = self.inner.clone();
        awaitable(py, async move { store.client_ids() }, plain)
    }

    /// Commit what is pending and release the file; later calls raise StorageError.
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let store = self.inner.clone();
        awaitable(py, async move { store.close() }, none)
    }

    fn __repr__(&self) -> String {
        describe("AsyncSqliteSessionStore", &self.inner)
    }
}
