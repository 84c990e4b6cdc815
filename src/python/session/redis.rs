//! `AsyncRedisSessionStore` for Python: [`RedisSessionStore`] as a native asynchronous
//! session store.

use std::sync::Arc;

use pyo3::prelude::*;

use super::asynchronous::PyNativeAsyncSessionStore;
use crate::python::runtime::{awaitable, none, wait_for};
use crate::python::storage::redis_config;
use crate::redis::RedisSessionStore;
use crate::session::AsyncSessionInterface;

/// RedisSessionStore as an asynchronous session store; every method is awaitable.
///
/// A change's awaitable resolves once Redis acknowledged it (and the replicas asked
/// for, if any). The calls run on the extension's shared tokio runtime over one
/// pipelined connection, with no thread per call. The constructor connects and checks
/// the key layout's version.
#[pyclass(
    extends = PyNativeAsyncSessionStore,
    subclass,
    frozen,
    name = "AsyncRedisSessionStore",
    module = "mqtt_common.src.session"
)]
pub(crate) struct PyAsyncRedisSessionStore {
    inner: Arc<RedisSessionStore>,
    prefix: String,
}

#[pymethods]
impl PyAsyncRedisSessionStore {
    #[new]
    #[pyo3(signature = (url, *, prefix="mqtt", replicas=0, replica_timeout=None, tls_ca=None))]
    fn new(
        py: Python<'_>,
        url: &str,
        prefix: &str,
        replicas: u32,
        replica_timeout: Option<&Bound<'_, PyAny>>,
        tls_ca: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let config = redis_config(url, prefix, replicas, replica_timeout, tls_ca)?;
        let store = wait_for(py, async move { RedisSessionStore::open(&config).await })?;
        let inner = Arc::new(store);
        let core: Arc<dyn AsyncSessionInterface> = inner.clone();
        Ok(
            PyClassInitializer::from(PyNativeAsyncSessionStore::over(core)).add_subclass(Self {
                inner,
                prefix: prefix.to_owned(),
            }),
        )
    }

    /// The server's URL (without its password).
    #[getter]
    fn server(&self) -> &str {
        self.inner.server()
    }

    /// What every key of this store starts with.
    #[getter]
    fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Stop the store; later calls raise StorageError (every resolved change is stored).
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let store = self.inner.clone();
        awaitable(
            py,
            async move {
                store.close();
                Ok(())
            },
            none,
        )
    }

    fn __repr__(&self) -> String {
        format!(
            "<AsyncRedisSessionStore {:?} prefix={:?}>",
            self.inner.server(),
            self.prefix
        )
    }
}
