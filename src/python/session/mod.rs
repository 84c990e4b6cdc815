//! Sessions for Python (`mqtt_common.src.session`): `Session`, the `SessionInterface`
//! base class, `MemorySessionStore`, and the adapter that lets Rust call a Python
//! session store.

mod asynchronous;
mod memory;
pub(crate) mod native;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "sqlite")]
mod sqlite;
mod state;

use std::sync::Arc;

use pyo3::prelude::*;

pub(crate) use asynchronous::PyNativeAsyncSessionStore;
pub(crate) use memory::PyMemorySessionStore;
#[cfg(feature = "redis")]
pub(crate) use redis::PyAsyncRedisSessionStore;
#[cfg(feature = "sqlite")]
pub(crate) use sqlite::{PyAsyncSqliteSessionStore, PySqliteSessionStore};

use native::NativeSessionStore;
pub(crate) use state::{PySession, instant, seconds};

use crate::constants::ProtocolVersion;
use crate::error::Error;
use crate::message::Will;
use crate::python::constants::protocol_version_member;
use crate::python::implementation::{PythonObject, expect_bool, wrong_return};
use crate::python::message::PyWill;
use crate::session::{Session, SessionInterface};

/// The Rust base of `mqtt_common.src.session.SessionInterface`.
#[pyclass(
    subclass,
    name = "SessionInterface",
    module = "mqtt_common.src.session"
)]
pub(crate) struct PySessionInterface;

#[pymethods]
impl PySessionInterface {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        Self
    }
}

/// A Python `SessionInterface` seen from Rust: each trait method calls the Python method.
///
/// Python exceptions come back unchanged (as callback errors); an `async def` method or
/// a wrong return type is a `TypeError` that names the method.
#[derive(Debug)]
pub struct PythonSessionStore {
    implementation: PythonObject,
}

/// The Rust session store behind a Python object: a `MemorySessionStore` or
/// `SqliteSessionStore` is used directly, any other `SessionInterface` subclass through [`PythonSessionStore`].
///
/// # Errors
/// `TypeError` for an object whose class does not derive from `SessionInterface`.
pub fn session_store_from_python(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn SessionInterface>> {
    if let Ok(memory) = obj.cast::<PyMemorySessionStore>() {
        return Ok(Arc::clone(memory.get().core()) as Arc<dyn SessionInterface>);
    }
    #[cfg(feature = "sqlite")]
    if let Ok(sqlite) = obj.cast::<PySqliteSessionStore>() {
        return Ok(Arc::clone(sqlite.get().core()) as Arc<dyn SessionInterface>);
    }
    Ok(Arc::new(PythonSessionStore {
        implementation: PythonObject::new::<PySessionInterface>(obj, "SessionInterface")?,
    }))
}

fn expect_session(result: &Bound<'_, PyAny>, method: &str) -> Result<Session, Error> {
    result
        .cast::<PySession>()
        .map(|s| s.get().snapshot())
        .map_err(|_| wrong_return(result, method, "Session"))
}

fn expect_optional_will(result: &Bound<'_, PyAny>, method: &str) -> Result<Option<Will>, Error> {
    if result.is_none() {
        return Ok(None);
    }
    if !result.is_instance_of::<PyWill>() {
        return Err(wrong_return(result, method, "Will | None"));
    }
    Ok(Some(PyWill::core_of("will", result)?))
}

impl SessionInterface for PythonSessionStore {
    fn create_session(
        &self,
        client_id: &str,
        clean_start: bool,
        expiry_interval: u32,
        protocol_version: ProtocolVersion,
    ) -> Result<(Session, bool), Error> {
        Python::attach(|py| {
            let version = protocol_version_member(py, protocol_version)?;
            let args = (client_id, clean_start, expiry_interval, version);
            let result = self.implementation.call(py, "create_session", args)?;
            let (session, present) = result
                .extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()
                .map_err(|_| wrong_return(&result, "create_session", "tuple[Session, bool]"))?;
            let present = expect_bool(&present, "create_session")?;
            Ok((expect_session(&session, "create_session")?, present))
        })
    }

    fn get_session(&self, client_id: &str) -> Result<Option<Session>, Error> {
        Python::attach(|py| {
            let result = self.implementation.call(py, "get_session", (client_id,))?;
            if result.is_none() {
                return Ok(None);
            }
            expect_session(&result, "get_session").map(Some)
        })
    }

    fn save_session(&self, session: &Session) -> Result<(), Error> {
        Python::attach(|py| {
            let session = Py::new(py, PySession::from(session.clone()))?;
            self.implementation.call(py, "save_session", (session,))?;
            Ok(())
        })
    }

    fn delete_session(&self, client_id: &str) -> Result<bool, Error> {
        Python::attach(|py| {
            expect_bool(
                &self
                    .implementation
                    .call(py, "delete_session", (client_id,))?,
                "delete_session",
            )
        })
    }

    fn set_will(&self, client_id: &str, will: Will) -> Result<(), Error> {
        Python::attach(|py| {
            let will = Py::new(py, PyWill::from_core(py, will)?)?;
            self.implementation
                .call(py, "set_will", (client_id, will))?;
            Ok(())
        })
    }

    fn get_will(&self, client_id: &str) -> Result<Option<Will>, Error> {
        Python::attach(|py| {
            expect_optional_will(
                &self.implementation.call(py, "get_will", (client_id,))?,
                "get_will",
            )
        })
    }

    fn clear_will(&self, client_id: &str) -> Result<Option<Will>, Error> {
        Python::attach(|py| {
            expect_optional_will(
                &self.implementation.call(py, "clear_will", (client_id,))?,
                "clear_will",
            )
        })
    }

    fn client_ids(&self) -> Result<Vec<String>, Error> {
        Python::attach(|py| {
            let result = self.implementation.call(py, "client_ids", ())?;
            result
                .extract::<Vec<String>>()
                .map_err(|_| wrong_return(&result, "client_ids", "list[str]"))
        })
    }
}
