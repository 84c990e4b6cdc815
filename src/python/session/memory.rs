//! `MemorySessionStore` for Python.

use std::sync::Arc;

use pyo3::prelude::*;

use super::PySessionInterface;
use super::native::{NativeSessionStore, session_store_methods};
use crate::session::{MemorySessionStore, SessionInterface};

/// Sessions and Wills by client identifier, in memory, with an expiry sweep.
#[pyclass(
    extends = PySessionInterface,
    subclass,
    frozen,
    name = "MemorySessionStore",
    module = "mqtt_common.src.session"
)]
pub(crate) struct PyMemorySessionStore {
    inner: Arc<MemorySessionStore>,
}

impl NativeSessionStore for PyMemorySessionStore {
    type Core = MemorySessionStore;
    // In-memory calls return at once: holding the GIL costs less than releasing it.
    const WAITS_FOR_DISK: bool = false;

    fn core(&self) -> &Arc<MemorySessionStore> {
        &self.inner
    }
}

session_store_methods!(PyMemorySessionStore {
    #[new]
    fn new() -> PyClassInitializer<Self> {
        PyClassInitializer::from(PySessionInterface).add_subclass(Self {
            inner: Arc::new(MemorySessionStore::new()),
        })
    }
});
