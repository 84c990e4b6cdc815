//! `Metrics` for Python: the counters a broker's engines add to, shared by its
//! connections (`ServerConnection(..., metrics=...)`).

use std::sync::Arc;

use pyo3::prelude::*;

use crate::metrics::{Metrics, MetricsSnapshot};

/// Counters shared by a broker's connections.
///
/// Bytes, packets and PUBLISH messages in and out, deliveries dropped by cause,
/// connections accepted and refused. Pass one to every ``ServerConnection``
/// (``metrics=``); read them with ``snapshot``.
#[pyclass(frozen, name = "Metrics", module = "mqtt_common.protocol")]
pub(crate) struct PyMetrics {
    pub(crate) inner: Arc<Metrics>,
}

/// The counters at one moment (each counts since the ``Metrics`` was made).
#[pyclass(frozen, name = "MetricsSnapshot", module = "mqtt_common.protocol")]
pub(crate) struct PyMetricsSnapshot {
    inner: MetricsSnapshot,
}

#[pymethods]
impl PyMetrics {
    #[new]
    fn new() -> Self {
        Self {
            inner: Arc::new(Metrics::default()),
        }
    }

    /// Return the counters now.
    fn snapshot(&self) -> PyMetricsSnapshot {
        PyMetricsSnapshot {
            inner: self.inner.snapshot(),
        }
    }

    fn __repr__(&self) -> String {
        let now = self.inner.snapshot();
        format!(
            "<Metrics {} received, {} sent>",
            now.total_received(),
            now.total_sent()
        )
    }
}

#[pymethods]
impl PyMetricsSnapshot {
    /// Bytes read from clients.
    #[getter]
    fn bytes_received(&self) -> u64 {
        self.inner.bytes_received
    }

    /// Bytes written to clients.
    #[getter]
    fn bytes_sent(&self) -> u64 {
        self.inner.bytes_sent
    }

    /// MQTT packets read from clients, of every type.
    #[getter]
    fn packets_received(&self) -> u64 {
        self.inner.packets_received
    }

    /// MQTT packets written to clients, of every type.
    #[getter]
    fn packets_sent(&self) -> u64 {
        self.inner.packets_sent
    }

    /// PUBLISH packets received from clients, by QoS: (QoS 0, QoS 1, QoS 2).
    #[getter]
    fn messages_received(&self) -> (u64, u64, u64) {
        let [q0, q1, q2] = self.inner.messages_received;
        (q0, q1, q2)
    }

    /// PUBLISH packets sent to clients, by QoS: (QoS 0, QoS 1, QoS 2).
    #[getter]
    fn messages_sent(&self) -> (u64, u64, u64) {
        let [q0, q1, q2] = self.inner.messages_sent;
        (q0, q1, q2)
    }

    /// Deliveries dropped because they were larger than the client accepts.
    #[getter]
    fn dropped_too_large(&self) -> u64 {
        self.inner.dropped_too_large
    }

    /// Deliveries dropped because their Message Expiry Interval ran out while waiting.
    #[getter]
    fn dropped_expired(&self) -> u64 {
        self.inner.dropped_expired
    }

    /// Deliveries dropped because the connection's queue was full.
    #[getter]
    fn dropped_queue_full(&self) -> u64 {
        self.inner.dropped_queue_full
    }

    /// CONNECTs accepted.
    #[getter]
    fn connections_accepted(&self) -> u64 {
        self.inner.connections_accepted
    }

    /// CONNECTs refused, for any reason.
    #[getter]
    fn connections_refused(&self) -> u64 {
        self.inner.connections_refused
    }

    /// CONNECTs refused for a bad user name or password, or as not authorized.
    #[getter]
    fn auth_refused(&self) -> u64 {
        self.inner.auth_refused
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.inner)
    }
}
