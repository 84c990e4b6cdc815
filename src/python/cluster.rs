//! `mqtt_common.src.cluster` for Python: [`RedisNode`], a broker process's part in a
//! cluster on Redis, with its inbox, change log and live feed. Every method that talks
//! to Redis returns an awaitable resolved from the extension's shared runtime (no
//! thread per call); what to do with the answers is the clustered router's.

use std::sync::Arc;

use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::types::PyList;
use tokio::sync::Mutex;

use crate::error::Error;
use crate::python::convert::{topic_filter, wrong_type};
use crate::python::protocol::config::seconds_arg;
use crate::python::router::{changes_of, changes_to_py, facts_of, forwards_of, forwards_to_py};
use crate::python::runtime::{awaitable, none, plain};
use crate::python::storage::redis_config;
use crate::redis::{
    Adopted, ChangeLog, Inbound, Inbox, InboxEntry, Joined, Lease, LiveFeed, NodeConfig, RedisNode,
};
use crate::router::Change;

/// One broker process's part in a cluster on Redis.
///
/// Made by ``await RedisNode.join(url, node_id)``, which returns a ``Joined``. Its
/// leases run on Redis' clock; a node whose own lease another node took gets a
/// ``StateError`` from ``heartbeat`` and must stop.
#[pyclass(frozen, name = "RedisNode", module = "mqtt_common.src.cluster")]
pub(crate) struct PyRedisNode {
    inner: RedisNode,
}

/// What a node finds when it joins.
///
/// Itself, the other nodes' filters, and the three feeds it reads for ever (its inbox,
/// the change log, its live feed).
#[pyclass(frozen, name = "Joined", module = "mqtt_common.src.cluster")]
pub(crate) struct PyJoined {
    /// The node.
    #[pyo3(get)]
    node: Py<PyRedisNode>,
    /// The other nodes' filters, as changes to apply to the router before it routes.
    #[pyo3(get)]
    filters: Py<PyList>,
    /// Its inbox: messages for its clients and session hand-overs.
    #[pyo3(get)]
    inbox: Py<PyInbox>,
    /// The change log from the point it joined.
    #[pyo3(get)]
    changes: Py<PyChangeLog>,
    /// Its live feed: QoS 0 messages for its clients.
    #[pyo3(get)]
    live: Py<PyLiveFeed>,
}

/// A node's inbox: messages forwarded to its clients, and session hand-overs.
///
/// Read with ``read``, then ``done`` with the entries' ids once what they caused is
/// stored (or ``read_again`` after a failure: at least once).
#[pyclass(frozen, name = "Inbox", module = "mqtt_common.src.cluster")]
pub(crate) struct PyInbox {
    inner: Arc<Mutex<Inbox>>,
    node: String,
}

/// One entry of an inbox (or of a dead node's, drained).
///
/// ``kind`` says which: "forwards" (``forwards``, in order), "release" (``node`` takes
/// over ``client_id``'s session: let it go, then ``RedisNode.released``), "released"
/// (the session asked for is let go), or "unreadable" (``error`` says why; log it and
/// acknowledge it as the rest).
#[pyclass(frozen, name = "InboxEntry", module = "mqtt_common.src.cluster")]
pub(crate) struct PyInboxEntry {
    inner: InboxEntry,
}

/// The change log every node reads, in one order: apply each change to the router.
#[pyclass(frozen, name = "ChangeLog", module = "mqtt_common.src.cluster")]
pub(crate) struct PyChangeLog {
    inner: Arc<Mutex<ChangeLog>>,
}

/// A node's live feed: the QoS 0 messages other nodes send it (nothing stored).
#[pyclass(frozen, name = "LiveFeed", module = "mqtt_common.src.cluster")]
pub(crate) struct PyLiveFeed {
    inner: Arc<Mutex<LiveFeed>>,
}

/// What adopting a dead node gives.
///
/// Its sessions (take them up from the stores), and the changes that withdraw its
/// filters (send them once this node announced its own).
#[pyclass(frozen, name = "Adopted", module = "mqtt_common.src.cluster")]
pub(crate) struct PyAdopted {
    /// The dead node.
    #[pyo3(get)]
    node: String,
    /// The clients whose sessions it held.
    #[pyo3(get)]
    client_ids: Vec<String>,
    filters: Vec<Change>,
}

#[pymethods]
impl PyAdopted {
    /// The changes that withdraw the dead node's filters.
    #[getter]
    fn filters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        changes_to_py(py, self.filters.clone())
    }

    fn __repr__(&self) -> String {
        format!(
            "Adopted(node={:?}, {} sessions)",
            self.node,
            self.client_ids.len()
        )
    }
}

fn joined_to_py(py: Python<'_>, joined: Joined) -> PyResult<Py<PyAny>> {
    let node = joined.node.node_id().to_owned();
    let filters = joined
        .filters
        .into_iter()
        .map(|(node, filter)| Change::Filter {
            node,
            filter,
            present: true,
        })
        .collect();
    PyJoined {
        node: Py::new(py, PyRedisNode { inner: joined.node })?,
        filters: changes_to_py(py, filters)?.unbind(),
        inbox: Py::new(
            py,
            PyInbox {
                inner: Arc::new(Mutex::new(joined.inbox)),
                node,
            },
        )?,
        changes: Py::new(
            py,
            PyChangeLog {
                inner: Arc::new(Mutex::new(joined.changes)),
            },
        )?,
        live: Py::new(
            py,
            PyLiveFeed {
                inner: Arc::new(Mutex::new(joined.live)),
            },
        )?,
    }
    .into_py_any(py)
}

fn entries_to_py(py: Python<'_>, entries: Vec<InboxEntry>) -> PyResult<Py<PyAny>> {
    let objects = entries
        .into_iter()
        .map(|inner| Py::new(py, PyInboxEntry { inner }))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, objects)?.into_py_any(py)
}

fn forwards_list(py: Python<'_>, forwards: Vec<crate::router::Forward>) -> PyResult<Py<PyAny>> {
    forwards_to_py(py, forwards)?.into_py_any(py)
}

fn changes_list(py: Python<'_>, changes: Vec<Change>) -> PyResult<Py<PyAny>> {
    changes_to_py(py, changes)?.into_py_any(py)
}

fn adopted_to_py(py: Python<'_>, adopted: Option<Adopted>) -> PyResult<Py<PyAny>> {
    match adopted {
        None => Ok(py.None()),
        Some(adopted) => PyAdopted {
            node: adopted.node,
            client_ids: adopted.client_ids,
            filters: adopted.filters,
        }
        .into_py_any(py),
    }
}

fn lease_to_py(py: Python<'_>, lease: Lease) -> PyResult<Py<PyAny>> {
    let name = match lease {
        Lease::Held => "held",
        Lease::Ended => "ended",
        Lease::None => "none",
    };
    name.into_py_any(py)
}

/// A list of str from Python.
fn strings(field: &'static str, obj: &Bound<'_, PyAny>) -> Result<Vec<String>, Error> {
    obj.try_iter()
        .map_err(|_| wrong_type(field, "a list of str", obj))?
        .map(|item| {
            item.and_then(|i| i.extract::<String>())
                .map_err(|_| wrong_type(field, "a list of str", obj))
        })
        .collect()
}

#[pymethods]
impl PyRedisNode {
    /// Join the cluster whose keys are under ``prefix``: return an awaitable ``Joined``.
    ///
    /// Takes a lease of ``lease`` seconds (10 if None; renew it every third of it
    /// with ``heartbeat``), makes the node's inbox (keeping what a previous run left
    /// unread), notes the change log's end, then reads the other nodes' filters.
    #[staticmethod]
    #[pyo3(signature = (url, node_id, *, prefix="mqtt", lease=None, tls_ca=None, replicas=0, replica_timeout=None))]
    #[allow(clippy::too_many_arguments)] // the keyword arguments, as given
    fn join<'py>(
        py: Python<'py>,
        url: &str,
        node_id: &str,
        prefix: &str,
        lease: Option<&Bound<'py, PyAny>>,
        tls_ca: Option<&Bound<'py, PyAny>>,
        replicas: u32,
        replica_timeout: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let config = redis_config(url, prefix, replicas, replica_timeout, tls_ca)?;
        let mut node = NodeConfig::new(node_id);
        if let Some(lease) = lease.filter(|lease| !lease.is_none()) {
            node = node.with_lease(seconds_arg("lease", lease)?);
        }
        awaitable(
            py,
            async move { RedisNode::join(&config, &node).await },
            joined_to_py,
        )
    }

    /// The node's identifier.
    #[getter]
    fn node_id(&self) -> &str {
        self.inner.node_id()
    }

    /// Renew the lease; resolve to the other nodes whose lease has ended.
    ///
    /// A ``StateError`` if another node took this one's lease (it was taken for dead):
    /// the process must stop serving its clients.
    fn heartbeat<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let node = self.inner.clone();
        awaitable(py, async move { node.heartbeat().await }, plain)
    }

    /// Adopt a node whose lease ended: resolve to ``Adopted``.
    ///
    /// None if another node adopts it (or it came back).
    fn adopt<'py>(&self, py: Python<'py>, dead: String) -> PyResult<Bound<'py, PyAny>> {
        let node = self.inner.clone();
        awaitable(py, async move { node.adopt(&dead).await }, adopted_to_py)
    }

    /// Resolve to up to ``count`` entries left in an adopted node's inbox.
    fn drain<'py>(
        &self,
        py: Python<'py>,
        dead: String,
        count: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let node = self.inner.clone();
        awaitable(
            py,
            async move { node.drain(&dead, count).await },
            entries_to_py,
        )
    }

    /// Delete entries of an adopted node's inbox, routed and stored.
    fn drained<'py>(
        &self,
        py: Python<'py>,
        dead: String,
        ids: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ids = strings("ids", ids)?;
        let node = self.inner.clone();
        awaitable(py, async move { node.drained(&dead, &ids).await }, none)
    }

    /// Forget an adopted node, once its inbox is drained.
    fn forget<'py>(&self, py: Python<'py>, dead: String) -> PyResult<Bound<'py, PyAny>> {
        let node = self.inner.clone();
        awaitable(py, async move { node.forget(&dead).await }, none)
    }

    /// Announce every filter of this node's clients (``Router.node_filters``) at start.
    fn announce_all<'py>(
        &self,
        py: Python<'py>,
        filters: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let filters = filters_of(filters)?;
        let node = self.inner.clone();
        awaitable(py, async move { node.announce_all(&filters).await }, none)
    }

    /// Resolve to the clients whose sessions this node holds (to take up at start).
    fn client_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let node = self.inner.clone();
        awaitable(py, async move { node.client_ids().await }, plain)
    }

    /// Resolve to the node that holds a client's session, or None.
    fn holder_of<'py>(&self, py: Python<'py>, client_id: String) -> PyResult<Bound<'py, PyAny>> {
        let node = self.inner.clone();
        awaitable(py, async move { node.holder_of(&client_id).await }, plain)
    }

    /// Resolve to where a node's lease stands: "held", "ended" (it died) or "none".
    fn lease_of<'py>(&self, py: Python<'py>, node_id: String) -> PyResult<Bound<'py, PyAny>> {
        let node = self.inner.clone();
        awaitable(
            py,
            async move { node.lease_of(&node_id).await },
            lease_to_py,
        )
    }

    /// Resolve to whether a node's lease is held.
    fn is_alive<'py>(&self, py: Python<'py>, node_id: String) -> PyResult<Bound<'py, PyAny>> {
        let node = self.inner.clone();
        awaitable(py, async move { node.is_alive(&node_id).await }, plain)
    }

    /// Make this node a client's session holder; resolve to the previous one, or None.
    fn claim<'py>(&self, py: Python<'py>, client_id: String) -> PyResult<Bound<'py, PyAny>> {
        let node = self.inner.clone();
        awaitable(py, async move { node.claim(&client_id).await }, plain)
    }

    /// Ask ``holder`` to let a client's session go (an inbox entry "release" there).
    fn ask_release<'py>(
        &self,
        py: Python<'py>,
        holder: String,
        client_id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let node = self.inner.clone();
        awaitable(
            py,
            async move { node.ask_release(&holder, &client_id).await },
            none,
        )
    }

    /// Tell ``node_id`` that a client's session it asked for is let go.
    fn released<'py>(
        &self,
        py: Python<'py>,
        node_id: String,
        client_id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let node = self.inner.clone();
        awaitable(
            py,
            async move { node.released(&node_id, &client_id).await },
            none,
        )
    }

    /// Send a commit's forwards and changes, with its facts.
    ///
    /// The facts say which sessions this node holds begin or end. Resolves once Redis
    /// has them all: the publications they come from may then be acknowledged.
    fn send<'py>(
        &self,
        py: Python<'py>,
        forwards: &Bound<'py, PyAny>,
        changes: &Bound<'py, PyAny>,
        facts: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let forwards = forwards_of("forwards", forwards)?;
        let changes = changes_of("changes", changes)?;
        let facts = facts_of(facts)?;
        let node = self.inner.clone();
        awaitable(
            py,
            async move { node.send(&forwards, &changes, &facts).await },
            none,
        )
    }

    /// Send QoS 0 forwards to the other nodes' live feeds (nothing stored).
    ///
    /// Resolves once sent; to a node that has not read what it was sent before, only
    /// once it has (a slow node slows its senders rather than lose its feed).
    fn publish_live<'py>(
        &self,
        py: Python<'py>,
        forwards: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let forwards = forwards_of("forwards", forwards)?;
        let node = self.inner.clone();
        awaitable(py, async move { node.publish_live(&forwards).await }, none)
    }

    /// Leave the cluster: end the lease and withdraw these filters (the node's).
    fn leave<'py>(
        &self,
        py: Python<'py>,
        filters: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let filters = filters_of(filters)?;
        let node = self.inner.clone();
        awaitable(py, async move { node.leave(&filters).await }, none)
    }

    fn __repr__(&self) -> String {
        format!("<RedisNode {:?}>", self.inner.node_id())
    }
}

fn filters_of(obj: &Bound<'_, PyAny>) -> Result<Vec<crate::topic::TopicFilter>, Error> {
    obj.try_iter()
        .map_err(|_| wrong_type("filters", "a list of str", obj))?
        .map(|item| {
            let item = item.map_err(|_| wrong_type("filters", "a list of str", obj))?;
            topic_filter("filters", &item)
        })
        .collect()
}

#[pymethods]
impl PyInbox {
    /// Resolve to the next entries, oldest first (an empty list after a second).
    ///
    /// First those a previous run read and did not finish.
    fn read<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (inbox, node) = (self.inner.clone(), self.node.clone());
        awaitable(
            py,
            async move { inbox.lock().await.read(&node).await },
            entries_to_py,
        )
    }

    /// From the next read on, read again what was read and not ``done``.
    ///
    /// A ``StateError`` while a read or ``done`` is under way.
    fn read_again(&self) -> PyResult<()> {
        let mut inbox = self
            .inner
            .try_lock()
            .map_err(|_| Error::state("read_again", "a read of the inbox is under way"))?;
        inbox.read_again();
        Ok(())
    }

    /// Acknowledge and delete entries whose effects are stored.
    fn done<'py>(&self, py: Python<'py>, ids: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let ids = strings("ids", ids)?;
        let inbox = self.inner.clone();
        awaitable(py, async move { inbox.lock().await.done(&ids).await }, none)
    }

    fn __repr__(&self) -> String {
        format!("<Inbox of {:?}>", self.node)
    }
}

#[pymethods]
impl PyInboxEntry {
    /// The entry's id (for ``Inbox.done`` and ``RedisNode.drained``).
    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }

    /// What it holds: "forwards", "release", "released" or "unreadable".
    #[getter]
    fn kind(&self) -> &'static str {
        match &self.inner.item {
            Ok(Inbound::Forwards(_)) => "forwards",
            Ok(Inbound::Release { .. }) => "release",
            Ok(Inbound::Released { .. }) => "released",
            Err(_) => "unreadable",
        }
    }

    /// The messages of a "forwards" entry, in order (else empty).
    #[getter]
    fn forwards<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        match &self.inner.item {
            Ok(Inbound::Forwards(forwards)) => forwards_to_py(py, forwards.clone()),
            _ => Ok(PyList::empty(py)),
        }
    }

    /// The client of a "release" or "released" entry, else None.
    #[getter]
    fn client_id(&self) -> Option<&str> {
        match &self.inner.item {
            Ok(Inbound::Release { client_id, .. } | Inbound::Released { client_id }) => {
                Some(client_id)
            }
            _ => None,
        }
    }

    /// The node that asks for the session, in a "release" entry, else None.
    #[getter]
    fn node(&self) -> Option<&str> {
        match &self.inner.item {
            Ok(Inbound::Release { node, .. }) => Some(node),
            _ => None,
        }
    }

    /// Why an "unreadable" entry cannot be read, else None.
    #[getter]
    fn error(&self) -> Option<&str> {
        self.inner.item.as_ref().err().map(String::as_str)
    }

    fn __repr__(&self) -> String {
        format!("InboxEntry({:?}, {})", self.inner.id, self.kind())
    }
}

#[pymethods]
impl PyChangeLog {
    /// Resolve to the changes after the last read, in the log's order.
    ///
    /// An empty list after a second with none.
    fn read<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let log = self.inner.clone();
        awaitable(
            py,
            async move { log.lock().await.read().await },
            changes_list,
        )
    }

    fn __repr__(&self) -> &'static str {
        "<ChangeLog>"
    }
}

#[pymethods]
impl PyLiveFeed {
    /// Resolve to the next QoS 0 messages sent live, waiting for them.
    ///
    /// Call it again once they are routed: their sender is then told they were read.
    fn read<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let feed = self.inner.clone();
        awaitable(
            py,
            async move { feed.lock().await.read().await },
            forwards_list,
        )
    }

    fn __repr__(&self) -> &'static str {
        "<LiveFeed>"
    }
}

#[pymethods]
impl PyJoined {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Joined({:?}, {} filters of other nodes)",
            self.node.get().inner.node_id(),
            self.filters.bind(py).len()
        )
    }
}
