//! `SysTopics` for Python: a broker's `$SYS` figures, as the library computes them.

use pyo3::prelude::*;

use crate::error::Error;
use crate::python::convert::wrong_type;
use crate::python::message::PyMessage;
use crate::python::router::PyRouter;
use crate::sys_topics::{SysInput, SysTopics};

use super::config::seconds_arg;
use super::metrics::PyMetrics;

/// A broker's ``$SYS`` figures, with mosquitto's names and meanings.
///
/// ``SysTopics(interval, version, *, node_id=None)``: every ``interval`` seconds call
/// ``changed`` and publish the retained messages it returns through the router (a
/// router keeps ``$SYS`` messages in memory only). The first call returns every figure,
/// later ones those that changed; the load averages are per minute over 1, 5 and 15
/// minutes, as mosquitto weighs them. ``ValidationError`` for an ``interval`` that is
/// not above 0 seconds; ``StateError`` for a ``node_id`` no cluster node can have.
#[pyclass(name = "SysTopics", module = "mqtt_common.protocol")]
pub(crate) struct PySysTopics {
    inner: SysTopics,
}

#[pymethods]
impl PySysTopics {
    #[new]
    #[pyo3(signature = (interval, version, *, node_id = None))]
    fn new(interval: &Bound<'_, PyAny>, version: &str, node_id: Option<&str>) -> PyResult<Self> {
        let seconds = seconds_arg("interval", interval)?;
        if seconds.is_zero() {
            return Err(wrong_type("interval", "a number of seconds above 0", interval).into());
        }
        Ok(Self {
            inner: SysTopics::new(node_id, version, seconds)?,
        })
    }

    /// What every topic starts with: ``$SYS/broker/`` (``$SYS/broker/nodes/<id>/``).
    #[getter]
    fn prefix(&self) -> &str {
        self.inner.prefix()
    }

    /// Return the retained messages of the figures that changed since the last call.
    ///
    /// ``metrics``: the engines' counters; ``router``: for its counts; ``connected``:
    /// connections open now; ``max_connected``: the most at once; ``uptime``: seconds.
    #[pyo3(signature = (metrics, router, *, connected, max_connected, uptime))]
    fn changed(
        &mut self,
        py: Python<'_>,
        metrics: &Bound<'_, PyAny>,
        router: &Bound<'_, PyAny>,
        connected: usize,
        max_connected: usize,
        uptime: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<PyMessage>> {
        let metrics = metrics
            .cast::<PyMetrics>()
            .map_err(|_| wrong_type("metrics", "Metrics", metrics))?;
        let router = router
            .cast::<PyRouter>()
            .map_err(|_| wrong_type("router", "Router", router))?;
        let stats = router
            .try_borrow()
            .map_err(|_| Error::state("router", "the router is in use by another call"))?
            .inner
            .stats();
        let input = SysInput {
            metrics: metrics.get().inner.snapshot(),
            stats,
            connected,
            max_connected,
            uptime: seconds_arg("uptime", uptime)?,
        };
        Ok(self
            .inner
            .changed(&input)
            .into_iter()
            .map(|message| PyMessage::from_core(py, message))
            .collect())
    }
}
