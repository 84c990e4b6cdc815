//! `AsyncRedisStorage` for Python: [`RedisStorage`] as a native asynchronous storage.

use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;

use super::asynchronous::PyNativeAsyncStorage;
use super::memory::storage_config;
use crate::python::convert::{
    MaxQueueLength, MaxSubscriptionsPerClient, MaxTopicLevels, QueueFull, choice, limit, path_arg,
};
use crate::python::protocol::config::seconds_arg;
use crate::python::runtime::wait_for;
use crate::redis::{RedisConfig, RedisStorage};
use crate::storage::{AsyncStorageInterface, DEFAULT_MAX_QUEUE_LENGTH};
use crate::topic::DEFAULT_MAX_TOPIC_LEVELS;

/// RedisStorage as an asynchronous storage: every method returns an awaitable.
///
/// A write's awaitable resolves once Redis acknowledged it (and the replicas asked for,
/// if any). The calls run on the extension's shared tokio runtime over one pipelined
/// connection, with no thread per call. The constructor connects (the URL of any node
/// of a Redis Cluster uses the cluster) and checks the key layout's version.
#[pyclass(
    extends = PyNativeAsyncStorage,
    subclass,
    frozen,
    name = "AsyncRedisStorage",
    module = "mqtt_common.src.storage"
)]
pub(crate) struct PyAsyncRedisStorage {
    inner: Arc<RedisStorage>,
    prefix: String,
}

#[pymethods]
impl PyAsyncRedisStorage {
    #[new]
    #[pyo3(signature = (url, *, prefix="mqtt", replicas=0, replica_timeout=None, tls_ca=None, max_queue_length=DEFAULT_MAX_QUEUE_LENGTH, queue_full="reject", max_topic_levels=DEFAULT_MAX_TOPIC_LEVELS, max_subscriptions_per_client=None))]
    #[allow(clippy::too_many_arguments)] // the constructor's keyword arguments, as given
    fn new(
        py: Python<'_>,
        url: &str,
        prefix: &str,
        replicas: u32,
        replica_timeout: Option<&Bound<'_, PyAny>>,
        tls_ca: Option<&Bound<'_, PyAny>>,
        #[pyo3(from_py_with = limit::<MaxQueueLength>)] max_queue_length: Option<usize>,
        #[pyo3(from_py_with = choice::<QueueFull>)] queue_full: &'static str,
        #[pyo3(from_py_with = limit::<MaxTopicLevels>)] max_topic_levels: Option<usize>,
        #[pyo3(from_py_with = limit::<MaxSubscriptionsPerClient>)]
        max_subscriptions_per_client: Option<usize>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let config = redis_config(url, prefix, replicas, replica_timeout, tls_ca)?;
        let limits = storage_config(
            max_queue_length,
            queue_full,
            max_topic_levels,
            max_subscriptions_per_client,
        );
        let storage = wait_for(py, async move { RedisStorage::open(&config, limits).await })?;
        let inner = Arc::new(storage);
        let core: Arc<dyn AsyncStorageInterface> = inner.clone();
        Ok(
            PyClassInitializer::from(PyNativeAsyncStorage::over(core)).add_subclass(Self {
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

    /// What every key of this storage starts with.
    #[getter]
    fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Whether the server is a Redis Cluster node (the cluster is used).
    #[getter]
    fn is_cluster(&self) -> bool {
        self.inner.is_cluster()
    }

    fn __repr__(&self) -> String {
        format!(
            "<AsyncRedisStorage {:?} prefix={:?}>",
            self.inner.server(),
            self.prefix
        )
    }
}

/// How long a write waits for its replicas when the constructor does not say.
const REPLICA_TIMEOUT: Duration = Duration::from_secs(1);

/// The connection settings from the constructors' arguments.
pub(crate) fn redis_config(
    url: &str,
    prefix: &str,
    replicas: u32,
    replica_timeout: Option<&Bound<'_, PyAny>>,
    tls_ca: Option<&Bound<'_, PyAny>>,
) -> PyResult<RedisConfig> {
    let mut config = RedisConfig::new(url).with_prefix(prefix);
    if let Some(path) = tls_ca.filter(|path| !path.is_none()) {
        config = config.with_tls_ca(path_arg(path)?);
    }
    let timeout = match replica_timeout {
        Some(seconds) if !seconds.is_none() => seconds_arg("replica_timeout", seconds)?,
        _ => REPLICA_TIMEOUT,
    };
    if replicas > 0 {
        config = config.with_replicas(replicas, timeout);
    }
    Ok(config)
}
