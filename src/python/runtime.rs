//! The extension's one tokio runtime, on which Rust futures run while asyncio awaits
//! them: a Rust asynchronous backend is then an `Async*Interface` in Python with no
//! thread per call.
//!
//! A call creates an `asyncio.Future` on the running loop and spawns the Rust future on
//! the runtime; its answer goes to the loop's [`PyCompletions`] channel, which wakes the
//! loop once for every answer that came meanwhile (one byte on a socket the loop
//! watches), and the loop resolves them all in one go. Under load, answers come in
//! batches: one wake-up and one taking of the GIL per batch, not per call.
//!
//! It starts on first use, its threads named `mqtt-common-rt` (at most two workers), and
//! shuts down at interpreter exit (an `atexit` hook), giving its tasks a moment to end.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use tokio::runtime::{Builder, Handle, Runtime};

use crate::error::Error;

/// The threads' name, as `ps -T` and `/proc/<pid>/task/*/comm` show it.
pub(crate) const THREAD_NAME: &str = "mqtt-common-rt";
/// How long the runtime's tasks have to end at exit.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

static RUNTIME: Mutex<Option<Runtime>> = Mutex::new(None);

/// The runtime's handle, the runtime started if it is not running.
fn handle() -> Result<Handle, Error> {
    let mut runtime = RUNTIME.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(running) = runtime.as_ref() {
        return Ok(running.handle().clone());
    }
    // Few threads: they only wait for backends; the answers go to the event loop.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
    let started = Builder::new_multi_thread()
        .worker_threads(threads)
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
    let starting = RUNTIME
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .is_none();
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
    let taken = RUNTIME
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    if let Some(runtime) = taken {
        py.detach(|| runtime.shutdown_timeout(SHUTDOWN_GRACE));
    }
}

/// An answer waiting for the event loop: made a Python `(value, error)` with the GIL.
pub(crate) type Pending = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

/// Answers waiting for one event loop, and the socket that wakes it.
pub(crate) struct Completions {
    answers: Mutex<Vec<(u64, Pending)>>,
    /// One byte here wakes the loop, which watches `reader`.
    wake: std::os::unix::net::UnixStream,
    reader: std::os::unix::net::UnixStream,
}

impl Completions {
    /// Hands over the answer of call `token`; wakes the loop if it has none waiting.
    pub(crate) fn push(&self, token: u64, answer: Pending) {
        let mut answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        let first = answers.is_empty();
        answers.push((token, answer));
        drop(answers);
        if first {
            // A full socket means a wake-up is already pending: nothing is lost.
            let _ = std::io::Write::write(&mut &self.wake, &[1]);
        }
    }

    /// Hands over a result, made a Python object by `convert` once the loop takes it.
    pub(crate) fn push_result<T: Send + 'static>(
        &self,
        token: u64,
        result: Result<T, Error>,
        convert: fn(Python<'_>, T) -> PyResult<Py<PyAny>>,
    ) {
        self.push(token, Box::new(move |py| convert(py, result?)));
    }
}

/// Where the calls started from one event loop report back: the loop watches
/// ``fileno()`` and calls ``take()`` when it is readable.
#[pyclass(frozen, name = "_Completions", module = "mqtt_common._core")]
pub(crate) struct PyCompletions {
    shared: Arc<Completions>,
}

impl PyCompletions {
    /// A new channel.
    pub(crate) fn new() -> PyResult<Self> {
        let (wake, reader) = std::os::unix::net::UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        reader.set_nonblocking(true)?;
        Ok(Self {
            shared: Arc::new(Completions {
                answers: Mutex::new(Vec::new()),
                wake,
                reader,
            }),
        })
    }

    /// The channel, for the tasks that answer into it.
    pub(crate) fn shared(&self) -> Arc<Completions> {
        Arc::clone(&self.shared)
    }
}

/// One answer as Python takes it: `(token, value, error)`.
type Answer = (u64, Py<PyAny>, Py<PyAny>);

#[pymethods]
impl PyCompletions {
    #[new]
    fn make() -> PyResult<Self> {
        Self::new()
    }

    /// Return the file descriptor that becomes readable when answers wait.
    fn fileno(&self) -> i32 {
        std::os::fd::AsRawFd::as_raw_fd(&self.shared.reader)
    }

    /// Take the answers waiting, as ``(token, value, error)``.
    fn take(&self, py: Python<'_>) -> Vec<Answer> {
        // Read the wake-up bytes first: an answer pushed after this is in the list
        // below or writes a new byte.
        let mut buffer = [0_u8; 256];
        while matches!(std::io::Read::read(&mut &self.shared.reader, &mut buffer), Ok(n) if n > 0) {
        }
        let answers = std::mem::take(
            &mut *self
                .shared
                .answers
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        answers
            .into_iter()
            .map(|(token, answer)| match answer(py) {
                Ok(value) => (token, value, py.None()),
                Err(err) => (token, py.None(), err.into_value(py).into_any()),
            })
            .collect()
    }
}

/// The running event loop's report channel (``_asynchronous._native_reports()``), made on
/// its first call from that loop.
fn running_reports(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    static REPORTS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let reports = REPORTS.get_or_try_init(py, || {
        Ok::<_, PyErr>(
            py.import("mqtt_common.src._asynchronous")?
                .getattr("_native_reports")?
                .unbind(),
        )
    })?;
    reports.bind(py).call0()
}

/// An `asyncio.Future` of the running loop that `future` (run on the shared runtime)
/// resolves: with `convert` of its value, or with its error as the documented
/// exception class. The call goes on if the awaiting task is cancelled (a write is
/// not cut in half).
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
    let reports = running_reports(py)?;
    let completions = reports
        .getattr(pyo3::intern!(py, "completions"))?
        .cast_into::<PyCompletions>()?
        .get()
        .shared();
    let (token, waiting): (u64, Bound<'py, PyAny>) = reports
        .call_method0(pyo3::intern!(py, "expect"))?
        .extract()?;
    runtime.spawn(async move {
        completions.push_result(token, future.await, convert);
    });
    Ok(waiting)
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
