//! The extension's one tokio runtime, on which Rust futures run while asyncio awaits
//! them: a Rust asynchronous backend is then an `Async*Interface` in Python with no
//! thread per call (pyo3-async-runtimes turns each future into an `asyncio.Future`,
//! resolved from the runtime through the event loop's `call_soon_threadsafe`).
//!
//! It starts on first use, its threads named `mqtt-common-rt` (at most two workers and
//! the one that hands answers to Python), and shuts down at interpreter exit (an
//! `atexit` hook), giving its tasks a moment to end.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3_async_runtimes::TaskLocals;
use pyo3_async_runtimes::generic::{ContextExt, Runtime as GenericRuntime};
use tokio::runtime::{Builder, Handle, Runtime};

use crate::error::Error;

/// The threads' name, as `ps -T` and `/proc/<pid>/task/*/comm` show it.
pub(crate) const THREAD_NAME: &str = "mqtt-common-rt";
/// How long the runtime's tasks have to end at exit.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

static RUNTIME: Mutex<Option<Runtime>> = Mutex::new(None);

tokio::task_local! {
    static TASK_LOCALS: TaskLocals;
}

thread_local! {
    /// The runtime an `awaitable` call on this thread spawns on: pyo3-async-runtimes
    /// spawns from the caller's thread, outside any runtime.
    static CALLER: std::cell::RefCell<Option<Handle>> = const { std::cell::RefCell::new(None) };
}

/// The runtime's handle, the runtime started if it is not running.
fn handle() -> Result<Handle, Error> {
    let mut runtime = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(running) = runtime.as_ref() {
        return Ok(running.handle().clone());
    }
    // Few threads: they only wait for backends and hand answers to the event loop.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
    let started = Builder::new_multi_thread()
        .worker_threads(threads)
        // pyo3-async-runtimes hands each answer to Python from a blocking task (it takes
        // the GIL there, not on a worker). Tokio would start a blocking thread for each
        // answer that waits meanwhile, up to 512; one thread takes them in turn instead.
        .max_blocking_threads(1)
        .thread_name(THREAD_NAME)
        .enable_all()
        .build()
        .map_err(|e| Error::storage_caused_by("cannot start the extension's tokio runtime", e))?;
    let handle = started.handle().clone();
    *runtime = Some(started);
    Ok(handle)
}

/// The runtime's handle, started (once) if needed, its shutdown then arranged for
/// interpreter exit.
fn ensure_started(py: Python<'_>) -> PyResult<Handle> {
    let starting = RUNTIME.lock().unwrap_or_else(|e| e.into_inner()).is_none();
    let handle = handle()?;
    if starting {
        let shutdown = pyo3::wrap_pyfunction!(shutdown_runtime, py)?;
        py.import("atexit")?.call_method1("register", (shutdown,))?;
    }
    Ok(handle)
}

/// Stop the extension's tokio runtime, giving its tasks a moment to end.
///
/// It starts again on next use. Registered with ``atexit`` when it starts.
#[pyfunction]
pub(crate) fn shutdown_runtime(py: Python<'_>) {
    let taken = RUNTIME.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(runtime) = taken {
        // Its tasks may need the GIL to hand over their last answers.
        py.detach(|| runtime.shutdown_timeout(SHUTDOWN_GRACE));
    }
}

/// Where pyo3-async-runtimes spawns: the runtime `awaitable` named on this thread (the
/// outer task, spawned from Python, which may itself run in some other runtime), or the
/// one it runs in (the inner tasks, on our workers).
fn spawner() -> Handle {
    CALLER
        .with_borrow(Clone::clone)
        .or_else(|| Handle::try_current().ok())
        .unwrap_or_else(|| {
            unreachable!("only `awaitable` converts futures, and it names a runtime")
        })
}

/// The runtime as pyo3-async-runtimes sees it.
struct Shared;

impl GenericRuntime for Shared {
    type JoinError = tokio::task::JoinError;
    type JoinHandle = tokio::task::JoinHandle<()>;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        spawner().spawn(fut)
    }

    fn spawn_blocking<F>(f: F) -> Self::JoinHandle
    where
        F: FnOnce() + Send + 'static,
    {
        spawner().spawn_blocking(f)
    }
}

impl ContextExt for Shared {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        Box::pin(TASK_LOCALS.scope(locals, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS.try_with(Clone::clone).ok()
    }
}

/// A value a future produced, made a Python object once the event loop takes it.
struct Answer<T> {
    value: T,
    convert: fn(Python<'_>, T) -> PyResult<Py<PyAny>>,
}

impl<'py, T> IntoPyObject<'py> for Answer<T> {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        (self.convert)(py, self.value).map(|object| object.into_bound(py))
    }
}

/// An `asyncio.Future` of the running loop that `future` (run on the shared runtime)
/// resolves: with `convert` of its value, or with its error as the documented
/// exception class.
pub(crate) fn awaitable<'py, T, F>(
    py: Python<'py>,
    future: F,
    convert: fn(Python<'_>, T) -> PyResult<Py<PyAny>>,
) -> PyResult<Bound<'py, PyAny>>
where
    T: Send + 'static,
    F: Future<Output = Result<T, Error>> + Send + 'static,
{
    let runtime = ensure_started(py)?;
    let previous = CALLER.replace(Some(runtime));
    let converted = pyo3_async_runtimes::generic::future_into_py::<Shared, _, _>(py, async move {
        let value = future.await.map_err(PyErr::from)?;
        Ok(Answer { value, convert })
    });
    CALLER.set(previous);
    converted
}

/// Runs `future` on the shared runtime and waits for it without the GIL (opening a
/// backend that connects, from a constructor). Spawned rather than `block_on`: the
/// caller may be inside some other runtime.
pub(crate) fn wait_for<T, F>(py: Python<'_>, future: F) -> PyResult<T>
where
    T: Send + 'static,
    F: Future<Output = Result<T, Error>> + Send + 'static,
{
    let runtime = ensure_started(py)?;
    let (answer, answered) = std::sync::mpsc::sync_channel(1);
    runtime.spawn(async move {
        let _ = answer.send(future.await);
    });
    match py.detach(move || answered.recv()) {
        Ok(result) => Ok(result?),
        Err(_) => Err(Error::storage("the extension's runtime stopped during the call").into()),
    }
}

/// `convert` for futures without a value: None.
pub(crate) fn none(py: Python<'_>, (): ()) -> PyResult<Py<PyAny>> {
    Ok(py.None())
}

/// `convert` for plain values (bool, int, str).
pub(crate) fn plain<T: for<'py> IntoPyObject<'py>>(
    py: Python<'_>,
    value: T,
) -> PyResult<Py<PyAny>> {
    value.into_py_any(py)
}
