//! `NativeAsyncSessionStore`: the Python base class whose methods are an
//! `AsyncSessionInterface` implemented in Rust (`AsyncSqliteSessionStore`,
//! `AsyncRedisSessionStore`), each returning an `asyncio.Future` that the store resolves
//! through the extension's runtime ([`crate::python::runtime`]), with no thread per call.

use std::sync::Arc;

use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;

use super::PySession;
use crate::constants::ProtocolVersion;
use crate::python::convert::{
    ExpiryInterval, ProtocolVersionArg, client_id, extract_bool, int, int_value,
};
use crate::python::message::PyWill;
use crate::python::runtime::{awaitable, none, plain};
use crate::session::AsyncSessionInterface;

/// A session store implemented in Rust, asynchronous: every method returns an awaitable.
///
/// The base of the native asynchronous session stores (``AsyncSqliteSessionStore``,
/// ``AsyncRedisSessionStore``); not made directly.
#[pyclass(
    subclass,
    frozen,
    name = "NativeAsyncSessionStore",
    module = "mqtt_common.src.session"
)]
pub(crate) struct PyNativeAsyncSessionStore {
    core: Arc<dyn AsyncSessionInterface>,
}

impl PyNativeAsyncSessionStore {
    /// The base of a class over `core`.
    pub(crate) fn over(core: Arc<dyn AsyncSessionInterface>) -> Self {
        Self { core }
    }

    fn core(&self) -> Arc<dyn AsyncSessionInterface> {
        self.core.clone()
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
impl PyNativeAsyncSessionStore {
    /// Store the router's session facts in order; sent together where the store can.
    ///
    /// Sessions, Wills and the end of sessions; the storage's facts are left out.
    fn persist<'py>(
        &self,
        py: Python<'py>,
        facts: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let facts = crate::python::router::facts_of(facts)?;
        let calls: Vec<_> = facts
            .iter()
            .filter_map(crate::router::Fact::session_call)
            .collect();
        let core = self.core();
        awaitable(py, async move { core.persist(&calls).await }, none)
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

    /// Return the client ids of every stored session, sorted.
    fn client_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core();
        awaitable(py, async move { core.client_ids().await }, plain)
    }
}
