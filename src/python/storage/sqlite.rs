//! `SqliteStorage` for Python.

use std::sync::Arc;

use pyo3::prelude::*;

use super::PyStorageInterface;
use super::memory::{describe_config, storage_config};
use super::native::{NativeStorage, storage_methods};
use crate::python::convert::{
    DurabilityArg, MaxQueueLength, MaxSubscriptionsPerClient, MaxTopicLevels, QueueFull, choice,
    durability, durability_name, limit, path_arg,
};
use crate::sqlite::SqliteStorage;
use crate::storage::{DEFAULT_MAX_QUEUE_LENGTH, StorageInterface};
use crate::topic::DEFAULT_MAX_TOPIC_LEVELS;

/// MemoryStorage's behaviour and limits, kept in an SQLite file that survives the process.
///
/// A call that changes something returns once the change is committed; concurrent calls
/// share a commit. Reads are served from memory. The file is locked while open: a second
/// open raises StorageError. ``durability`` is "full" (survives a power loss) or
/// "process_crash_only" (faster; survives the process being killed, not an OS crash).
#[pyclass(
    extends = PyStorageInterface,
    subclass,
    frozen,
    name = "SqliteStorage",
    module = "mqtt_common.src.storage"
)]
pub(crate) struct PySqliteStorage {
    inner: Arc<SqliteStorage>,
}

impl NativeStorage for PySqliteStorage {
    type Core = SqliteStorage;
    const WAITS_FOR_DISK: bool = true;

    fn core(&self) -> &Arc<SqliteStorage> {
        &self.inner
    }
}

storage_methods!(PySqliteStorage {
    #[new]
    #[pyo3(signature = (path, *, max_queue_length=DEFAULT_MAX_QUEUE_LENGTH, queue_full="reject", max_topic_levels=DEFAULT_MAX_TOPIC_LEVELS, max_subscriptions_per_client=None, durability="full"))]
    fn new(
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = limit::<MaxQueueLength>)] max_queue_length: Option<usize>,
        #[pyo3(from_py_with = choice::<QueueFull>)] queue_full: &'static str,
        #[pyo3(from_py_with = limit::<MaxTopicLevels>)] max_topic_levels: Option<usize>,
        #[pyo3(from_py_with = limit::<MaxSubscriptionsPerClient>)]
        max_subscriptions_per_client: Option<usize>,
        #[pyo3(from_py_with = choice::<DurabilityArg>)] durability: &'static str,
    ) -> PyResult<PyClassInitializer<Self>> {
        let path = path_arg(path)?;
        let config = storage_config(
            max_queue_length,
            queue_full,
            max_topic_levels,
            max_subscriptions_per_client,
        );
        let durability = self::durability(durability);
        let storage = py.detach(|| SqliteStorage::open_with(&path, config, durability))?;
        Ok(PyClassInitializer::from(PyStorageInterface).add_subclass(Self {
            inner: Arc::new(storage),
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

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc_info))]
    fn __exit__(&self, py: Python<'_>, _exc_info: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<()> {
        Ok(py.detach(|| self.inner.close())?)
    }

    fn __repr__(&self) -> String {
        format!(
            "<SqliteStorage {:?} durability={:?} {}>",
            self.inner.path().display().to_string(),
            durability_name(self.inner.durability()),
            describe_config(self.inner.config())
        )
    }
});
