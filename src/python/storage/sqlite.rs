//! `SqliteStorage` for Python.

use std::sync::Arc;

use pyo3::prelude::*;

use super::PyStorageInterface;
use super::asynchronous::PyNativeAsyncStorage;
use super::memory::{describe_config, storage_config};
use super::native::{NativeStorage, storage_methods};
use crate::python::convert::{
    DurabilityArg, MaxQueueLength, MaxSubscriptionsPerClient, MaxTopicLevels, QueueFull, choice,
    durability, durability_name, limit, path_arg,
};
use crate::python::runtime::PyCompletions;
use crate::sqlite::{SqliteStorage, StorageWrite, StorageWritten};
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
        let storage = open(
            py,
            path,
            max_queue_length,
            queue_full,
            max_topic_levels,
            max_subscriptions_per_client,
            durability,
        )?;
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

    /// A new place for started writes to report back to one event loop.
    fn _completions(&self) -> PyResult<PyCompletions> {
        PyCompletions::new()
    }

    /// Start the write method ``name`` with ``args`` without waiting: once it is
    /// committed its answer goes to ``completions`` under ``token``. The asyncio adapter
    /// waits for the disk this way, without a thread per call.
    #[pyo3(signature = (completions, token, name, *args))]
    fn _start(
        &self,
        completions: &Bound<'_, PyCompletions>,
        token: u64,
        name: &Bound<'_, PyAny>,
        args: &Bound<'_, pyo3::types::PyTuple>,
    ) -> PyResult<()> {
        let write = started_write(crate::python::convert::extract_str("name", name)?, args)?;
        let completions = completions.get().shared();
        self.inner.start(write, move |answer| {
            completions.push_result(token, answer, written_object);
        })?;
        Ok(())
    }

    fn __repr__(&self) -> String {
        describe("SqliteStorage", &self.inner)
    }
});

/// Opens the storage a Python constructor names (the synchronous and the asynchronous
/// class take the same options), without the GIL while the file is read.
#[allow(clippy::too_many_arguments)] // the constructor's keyword arguments, as given
pub(super) fn open(
    py: Python<'_>,
    path: &Bound<'_, PyAny>,
    max_queue_length: Option<usize>,
    queue_full: &'static str,
    max_topic_levels: Option<usize>,
    max_subscriptions_per_client: Option<usize>,
    durability: &'static str,
) -> PyResult<SqliteStorage> {
    let path = path_arg(path)?;
    let config = storage_config(
        max_queue_length,
        queue_full,
        max_topic_levels,
        max_subscriptions_per_client,
    );
    let durability = self::durability(durability);
    Ok(py.detach(|| SqliteStorage::open_with(&path, config, durability))?)
}

/// `<Class 'path' durability=... limits>`, a storage's `repr`.
pub(super) fn describe(class: &str, storage: &SqliteStorage) -> String {
    format!(
        "<{class} {:?} durability={:?} {}>",
        storage.path().display().to_string(),
        durability_name(storage.durability()),
        describe_config(storage.config())
    )
}

/// The write a `_start` call names, its arguments checked as the method's own are.
fn started_write(name: &str, args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<StorageWrite> {
    use crate::python::convert::{client_id, int_arg, present, topic_filter, topic_name};
    use crate::python::message::PyMessage;
    use crate::python::topic::PySubscription;
    let (fewest, most) = match name {
        "delete_retained" | "persist" => (1, 1),
        "store_retained" | "dequeue" => (1, 2),
        "enqueue_entry" => (4, 4),
        _ => (2, 2),
    };
    if !(fewest..=most).contains(&args.len()) {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "{name}() takes {fewest} to {most} arguments, got {}",
            args.len()
        )));
    }
    let arg = |index: usize| args.get_item(index);
    Ok(match name {
        "store_retained" => StorageWrite::StoreRetained {
            message: PyMessage::core_of("message", &arg(0)?)?,
            arrived_at: crate::python::session::instant(
                "arrived_at",
                if args.len() > 1 { Some(arg(1)?) } else { None }.as_ref(),
            )?,
        },
        "enqueue_entry" => StorageWrite::EnqueueEntry {
            client_id: client_id(&arg(0)?)?.to_owned(),
            entry: crate::python::storage::queued_entry(&arg(1)?, &arg(2)?, &arg(3)?)?,
        },
        "remove_queued" => StorageWrite::RemoveQueued {
            client_id: client_id(&arg(0)?)?.to_owned(),
            seq: crate::python::protocol::counter("seq", &arg(1)?)?,
        },
        "persist" => StorageWrite::Persist(crate::python::router::facts_of(&arg(0)?)?),
        "delete_retained" => StorageWrite::DeleteRetained(topic_name("topic", &arg(0)?)?),
        "enqueue" => StorageWrite::Enqueue {
            client_id: client_id(&arg(0)?)?.to_owned(),
            message: PyMessage::core_of("message", &arg(1)?)?,
        },
        "dequeue" => {
            let limit = if args.len() > 1 { Some(arg(1)?) } else { None };
            StorageWrite::Dequeue {
                client_id: client_id(&arg(0)?)?.to_owned(),
                limit: present(limit.as_ref())
                    .map(|obj| int_arg::<usize>("limit", obj))
                    .transpose()?,
            }
        }
        "add_subscription" => StorageWrite::AddSubscription {
            client_id: client_id(&arg(0)?)?.to_owned(),
            subscription: PySubscription::core_of("subscription", &arg(1)?)?,
        },
        "remove_subscription" => StorageWrite::RemoveSubscription {
            client_id: client_id(&arg(0)?)?.to_owned(),
            topic_filter: topic_filter("topic_filter", &arg(1)?)?,
        },
        other => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "{other:?} is not a write method of SqliteStorage"
            )));
        }
    })
}

/// A write's result as the synchronous method returns it.
fn written_object(py: Python<'_>, written: StorageWritten) -> PyResult<Py<PyAny>> {
    Ok(match written {
        StorageWritten::Existed(flag) => pyo3::types::PyBool::new(py, flag)
            .to_owned()
            .into_any()
            .unbind(),
        StorageWritten::Messages(messages) => crate::python::storage::messages(py, messages)?
            .into_any()
            .unbind(),
        _ => py.None(),
    })
}

/// SqliteStorage as an asynchronous storage: every method returns an awaitable.
///
/// A write's awaitable resolves once the write is committed; writes awaited together
/// share a commit. Reads are served from memory. No thread is started per call: the
/// storage's writer completes each call on the extension's shared tokio runtime.
#[pyclass(
    extends = PyNativeAsyncStorage,
    subclass,
    frozen,
    name = "AsyncSqliteStorage",
    module = "mqtt_common.src.storage"
)]
pub(crate) struct PyAsyncSqliteStorage {
    inner: Arc<SqliteStorage>,
}

#[pymethods]
impl PyAsyncSqliteStorage {
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
        let storage = open(
            py,
            path,
            max_queue_length,
            queue_full,
            max_topic_levels,
            max_subscriptions_per_client,
            durability,
        )?;
        let inner = Arc::new(storage);
        // Named in full: the synchronous trait's methods are called here by name.
        let core: Arc<dyn crate::storage::AsyncStorageInterface> = inner.clone();
        Ok(PyClassInitializer::from(PyNativeAsyncStorage::over(core)).add_subclass(Self { inner }))
    }

    /// The database file.
    #[getter]
    fn path(&self) -> std::path::PathBuf {
        self.inner.path().to_path_buf()
    }

    /// What a resolved write survives: "full" or "process_crash_only".
    #[getter]
    fn durability(&self) -> &'static str {
        durability_name(self.inner.durability())
    }

    fn __repr__(&self) -> String {
        describe("AsyncSqliteStorage", &self.inner)
    }
}
