//! `MemorySessionStore` for Python.

use std::sync::Arc;

use pyo3::prelude::*;

use super::{PySession, PySessionInterface, instant};
use crate::constants::ProtocolVersion;
use crate::python::convert::{
    ExpiryInterval, ProtocolVersionArg, client_id, extract_bool, int, int_value,
};
use crate::python::message::PyWill;
use crate::session::{MemorySessionStore, SessionInterface};

/// Sessions and Wills by client identifier, in memory, with an expiry sweep.
#[pyclass(
    extends = PySessionInterface,
    subclass,
    name = "MemorySessionStore",
    module = "mqtt_common.src.session"
)]
pub(crate) struct PyMemorySessionStore {
    inner: Arc<MemorySessionStore>,
}

impl PyMemorySessionStore {
    /// The Rust store behind a Python `MemorySessionStore`, used directly.
    pub(crate) fn core_of(obj: &Bound<'_, PyAny>) -> Option<Arc<dyn SessionInterface>> {
        let memory = obj.cast::<Self>().ok()?;
        Some(Arc::clone(&memory.borrow().inner) as Arc<dyn SessionInterface>)
    }
}

#[pymethods]
impl PyMemorySessionStore {
    #[new]
    fn new() -> PyClassInitializer<Self> {
        PyClassInitializer::from(PySessionInterface).add_subclass(Self {
            inner: Arc::new(MemorySessionStore::new()),
        })
    }

    /// Return the session for a CONNECT and whether one was present (resumed).
    #[pyo3(signature = (client_id, clean_start, expiry_interval=0, protocol_version=4))]
    fn create_session(
        &self,
        client_id: &Bound<'_, PyAny>,
        clean_start: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = int::<ExpiryInterval>)] expiry_interval: i128,
        #[pyo3(from_py_with = int::<ProtocolVersionArg>)] protocol_version: i128,
    ) -> PyResult<(PySession, bool)> {
        let (session, present) = self.inner.create_session(
            self::client_id(client_id)?,
            extract_bool("clean_start", clean_start)?,
            int_value("expiry_interval", expiry_interval)?,
            int_value::<ProtocolVersion>("protocol_version", protocol_version)?,
        )?;
        Ok((PySession::from(session), present))
    }

    /// Return the stored session of a client, or None.
    fn get_session(&self, client_id: &Bound<'_, PyAny>) -> PyResult<Option<PySession>> {
        Ok(self
            .inner
            .get_session(self::client_id(client_id)?)?
            .map(PySession::from))
    }

    /// Store a session, replacing the client's previous one.
    fn save_session(&self, session: &Bound<'_, PyAny>) -> PyResult<()> {
        let session = PySession::core_of("session", session)?;
        Ok(self.inner.save_session(&session)?)
    }

    /// Delete a client's session and Will; return whether there was a session.
    fn delete_session(&self, client_id: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.inner.delete_session(self::client_id(client_id)?)?)
    }

    /// Set the client's Will.
    fn set_will(&self, client_id: &Bound<'_, PyAny>, will: &Bound<'_, PyAny>) -> PyResult<()> {
        let will = PyWill::core_of("will", will)?;
        Ok(self.inner.set_will(self::client_id(client_id)?, will)?)
    }

    /// Return the client's Will, or None.
    fn get_will(&self, py: Python<'_>, client_id: &Bound<'_, PyAny>) -> PyResult<Option<PyWill>> {
        self.inner
            .get_will(self::client_id(client_id)?)?
            .map(|will| PyWill::from_core(py, will))
            .transpose()
    }

    /// Remove the client's Will (a normal DISCONNECT); return it, or None.
    fn clear_will(&self, py: Python<'_>, client_id: &Bound<'_, PyAny>) -> PyResult<Option<PyWill>> {
        self.inner
            .clear_will(self::client_id(client_id)?)?
            .map(|will| PyWill::from_core(py, will))
            .transpose()
    }

    /// Remove the sessions expired by `now` (default: now); return their client ids.
    #[pyo3(signature = (now=None))]
    fn expire_sessions(&self, now: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<String>> {
        Ok(self.inner.expire_sessions(instant("now", now)?)?)
    }

    /// Remove and return the Wills due by `now` (default: now), as (client id, Will).
    #[pyo3(signature = (now=None))]
    fn take_due_wills(
        &self,
        py: Python<'_>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<(String, PyWill)>> {
        self.inner
            .take_due_wills(instant("now", now)?)?
            .into_iter()
            .map(|(client, will)| Ok((client, PyWill::from_core(py, will)?)))
            .collect()
    }

    fn __len__(&self) -> PyResult<usize> {
        Ok(self.inner.len()?)
    }
}
