//! `SqliteSessionStore` for Python.

use std::sync::Arc;

use pyo3::prelude::*;

use super::PySessionInterface;
use super::asynchronous::PyNativeAsyncSessionStore;
use super::native::{NativeSessionStore, session_store_methods};
use crate::python::convert::{DurabilityArg, choice, durability, durability_name, path_arg};
use crate::python::runtime::{awaitable, none};
use crate::session::SessionInterface;
use crate::sqlite::SqliteSessionStore;

/// MemorySessionStore's behaviour, kept in an SQLite file that survives the process.
///
/// It keeps sessions with their QoS 1 and 2 flows both ways and their expiry, and Wills
/// with their delay.
///
/// A call that changes something returns once the change is committed; concurrent calls
/// share a commit. The file is locked while open: a second open raises StorageError.
/// ``durability`` is "full" (survives a power loss) or "process_crash_only" (faster;
/// survives the process being killed, not an OS crash).
#[pyclass(
    extends = PySessionInterface,
    subclass,
    frozen,
    name = "SqliteSessionStore",
    module = "mqtt_common.src.session"
)]
pub(crate) struct PySqliteSessionStore {
    inner: Arc<SqliteSessionStore>,
}

impl NativeSessionStore for PySqliteSessionStore {
    type Core = SqliteSessionStore;
    const WAITS_FOR_DISK: bool = true;

    fn core(&self) -> &Arc<SqliteSessionStore> {
        &self.inner
    }
}

session_store_methods!(PySqliteSessionStore {
    #[new]
    #[pyo3(signature = (path, *, durability="full"))]
    fn new(
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = choice::<DurabilityArg>)] durability: &'static str,
    ) -> PyResult<PyClassInitializer<Self>> {
        let store = open(py, path, durability)?;
        Ok(PyClassInitializer::from(PySessionInterface).add_subclass(Self {
            inner: Arc::new(store),
        }))
    }

    /// The database file.
    #[getter]
    fn path(&self) -> std::path::PathBuf {
        self.inner.path().to_path_buf()
    }

    /// What a returned call survives: "full" or "process_crash_only".
    #[getter]
    fn durability(&self) -> &'static str {
        durability_name(self.inner.durability())
    }

    /// Commit what is pending and release the file; later calls raise StorageError.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        Ok(py.detach(|| self.inner.close())?)
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc_info))]
    fn __exit__(&self, py: Python<'_>, _exc_info: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<()> {
        Ok(py.detach(|| self.inner.close())?)
    }

    fn __repr__(&self) -> String {
        describe("SqliteSessionStore", &self.inner)
    }
});

/// Opens the store at a Python path with a durability name (checked by the caller),
/// without the GIL while the file is read.
pub(crate) fn open(
    py: Python<'_>,
    path: &Bound<'_, PyAny>,
    durability: &'static str,
) -> PyResult<SqliteSessionStore> {
    let path = path_arg(path)?;
    let durability = self::durability(durability);
    Ok(py.detach(|| SqliteSessionStore::open_with(&path, durability))?)
}

/// The `repr` of a Python class over the store.
pub(crate) fn describe(class: &str, store: &SqliteSessionStore) -> String {
    format!(
        "<{class} {:?} durability={:?}>",
        store.path().display().to_string(),
        durability_name(store.durability())
    )
}

/// SqliteSessionStore as an asynchronous session store; every method is awaitable.
///
/// A change's awaitable resolves once it is committed; changes awaited together share a
/// commit. Reads are served from memory. No thread is started per call: the store's
/// writer completes each call on the extension's shared tokio runtime.
#[pyclass(
    extends = PyNativeAsyncSessionStore,
    subclass,
    frozen,
    name = "AsyncSqliteSessionStore",
    module = "mqtt_common.src.session"
)]
pub(crate) struct PyAsyncSqliteSessionStore {
    inner: Arc<SqliteSessionStore>,
}

#[pymethods]
impl PyAsyncSqliteSessionStore {
    #[new]
    #[pyo3(signature = (path, *, durability="full"))]
    fn new(
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = choice::<DurabilityArg>)] durability: &'static str,
    ) -> PyResult<PyClassInitializer<Self>> {
        let inner = Arc::new(open(py, path, durability)?);
        // Named in full: the synchronous trait's methods are called here by name.
        let core: Arc<dyn crate::session::AsyncSessionInterface> = inner.clone();
        Ok(
            PyClassInitializer::from(PyNativeAsyncSessionStore::over(core))
                .add_subclass(Self { inner }),
        )
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

    /// Commit what is pending and release the file; later calls raise StorageError.
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let store = self.inner.clone();
        awaitable(py, async move { store.close() }, none)
    }

    fn __repr__(&self) -> String {
        describe("AsyncSqliteSessionStore", &self.inner)
    }
}
