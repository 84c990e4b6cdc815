//! `mqtt_common.router` for Python: the router, the facts it persists, and its answers.
//!
//! One convenience is the binding's own: a connection's engine may be attached to the
//! router, and deliveries to it are then handed to the engine here, in Rust, without a
//! Python object per delivery. Every rule is the core router's.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::constants::ReasonCode;
use crate::error::Error;
use crate::protocol::DeliveryOutcome;
use crate::python::auth::PyAuthCredentials;
use crate::python::constants::reason_code_member;
use crate::python::convert::{
    Field, MaxConnections, MaxQueuedMessagesPerSession, MaxRetainedBytes, MaxRetainedMessages,
    MaxSubscriptionsPerClient, MaxTopicLevels, RouterQueueFull, SharedChoiceArg, choice, client_id,
    int, int_arg, int_value, limit, present, topic_filter, topic_name, wrong_type,
};
use crate::python::convert::{extract_binary, shared_bytes};
use crate::python::message::{PyMessage, PyWill};
use crate::python::protocol::{
    PyClosed, PyConnectRequest, PyServerConnection, counter, events_to_py,
};
use crate::python::session::{PySession, instant, seconds};
use crate::python::topic::PySubscription;
mod cluster;

pub(crate) use cluster::{
    PyChange, PyForward, changes_of, changes_to_py, forwards_of, forwards_to_py,
};

use crate::router::{
    Action, Change, Connecting, ConnectionId, Fact, Forward, Outgoing, QueueFull, QueuedMessage,
    Router, RouterConfig, SharedChoice,
};
use crate::topic::{IndexLimits, Subscription, TopicName};

/// The router's facts from a Python list of `Fact`.
pub(crate) fn facts_of(obj: &Bound<'_, PyAny>) -> Result<Vec<Fact>, Error> {
    cluster::items_of("facts", "a list of Fact", obj, |item| {
        item.cast::<PyFact>().ok().map(|f| f.get().inner.clone())
    })
}

/// A fact for the stores: what a restart needs.
///
/// ``kind`` says which: "retained", "retained_cleared", "subscribed", "unsubscribed",
/// "queued", "dequeued" (the storage's: ``StorageInterface.persist``), "session",
/// "will" (the session store's), "session_ended" (both).
#[pyclass(frozen, name = "Fact", module = "mqtt_common.router")]
pub(crate) struct PyFact {
    pub(crate) inner: Fact,
}

#[pymethods]
impl PyFact {
    /// Which fact it is ("retained", "queued", "session", ...: see the class).
    #[getter]
    fn kind(&self) -> &'static str {
        match &self.inner {
            Fact::Retained { .. } => "retained",
            Fact::RetainedCleared { .. } => "retained_cleared",
            Fact::Subscribed { .. } => "subscribed",
            Fact::Unsubscribed { .. } => "unsubscribed",
            Fact::Queued { .. } => "queued",
            Fact::Dequeued { .. } => "dequeued",
            Fact::Session { .. } => "session",
            Fact::Will { .. } => "will",
            _ => "session_ended",
        }
    }

    /// Whether the session store keeps it (a session, a Will, the end of a session).
    #[getter]
    fn for_sessions(&self) -> bool {
        matches!(
            self.inner,
            Fact::Session { .. } | Fact::Will { .. } | Fact::SessionEnded { .. }
        )
    }

    /// Whether the storage keeps it (everything but a session and a Will).
    #[getter]
    fn for_storage(&self) -> bool {
        !matches!(self.inner, Fact::Session { .. } | Fact::Will { .. })
    }

    /// The client it concerns, or None (retained messages).
    #[getter]
    fn client_id(&self) -> Option<&str> {
        match &self.inner {
            Fact::Subscribed { client_id, .. }
            | Fact::Unsubscribed { client_id, .. }
            | Fact::Queued { client_id, .. }
            | Fact::Dequeued { client_id, .. }
            | Fact::Will { client_id, .. }
            | Fact::SessionEnded { client_id } => Some(client_id),
            Fact::Session { session } => Some(session.client_id()),
            _ => None,
        }
    }

    /// The message of a "retained" or "queued" fact, else None.
    #[getter]
    fn message(&self, py: Python<'_>) -> PyResult<Option<Py<PyMessage>>> {
        match &self.inner {
            Fact::Retained { message, .. } | Fact::Queued { message, .. } => Ok(Some(Py::new(
                py,
                PyMessage::from_core(py, message.clone()),
            )?)),
            _ => Ok(None),
        }
    }

    /// The topic of a "retained_cleared" fact, else None.
    #[getter]
    fn topic(&self) -> Option<&str> {
        match &self.inner {
            Fact::RetainedCleared { topic } => Some(topic.as_str()),
            _ => None,
        }
    }

    /// The subscription of a "subscribed" fact, else None.
    #[getter]
    fn subscription(&self) -> Option<PySubscription> {
        match &self.inner {
            Fact::Subscribed { subscription, .. } => Some(PySubscription {
                inner: subscription.clone(),
            }),
            _ => None,
        }
    }

    /// The filter of an "unsubscribed" fact, else None.
    #[getter]
    fn topic_filter(&self) -> Option<&str> {
        match &self.inner {
            Fact::Unsubscribed { topic_filter, .. } => Some(topic_filter.as_str()),
            _ => None,
        }
    }

    /// The entry number of a "queued" or "dequeued" fact, else None.
    #[getter]
    fn seq(&self) -> Option<u64> {
        match &self.inner {
            Fact::Queued { seq, .. } | Fact::Dequeued { seq, .. } => Some(*seq),
            _ => None,
        }
    }

    /// When a retained message arrived, or a message was queued (POSIX seconds).
    #[getter]
    fn at(&self) -> Option<f64> {
        match &self.inner {
            Fact::Retained { arrived_at, .. } => Some(seconds(*arrived_at)),
            Fact::Queued { enqueued_at, .. } => Some(seconds(*enqueued_at)),
            _ => None,
        }
    }

    /// The session of a "session" fact, else None.
    #[getter]
    fn session(&self) -> Option<PySession> {
        match &self.inner {
            Fact::Session { session } => Some(PySession::from(session.clone())),
            _ => None,
        }
    }

    /// The Will of a "will" fact (None: the client has none any more).
    #[getter]
    fn will(&self, py: Python<'_>) -> PyResult<Option<Py<PyWill>>> {
        match &self.inner {
            Fact::Will {
                will: Some(will), ..
            } => Ok(Some(Py::new(py, PyWill::from_core(py, will.clone())?)?)),
            _ => Ok(None),
        }
    }

    /// Return the storage call that stores it, as (method name, arguments), or None.
    ///
    /// None for the session store's facts. "forget_client" (client id,) means: remove
    /// each of the client's subscriptions, then dequeue all of its queue.
    fn storage_call<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        use crate::storage::StorageCall;
        let message =
            |m: &crate::message::Message| Py::new(py, PyMessage::from_core(py, m.clone()));
        let Some(call) = crate::storage::storage_call(&self.inner) else {
            return Ok(None);
        };
        let (name, args): (&str, Vec<Py<PyAny>>) = match &call {
            StorageCall::StoreRetained(m, at) => (
                "store_retained",
                vec![message(m)?.into_any(), seconds(*at).into_py_any(py)?],
            ),
            StorageCall::DeleteRetained(topic) => {
                ("delete_retained", vec![topic.as_str().into_py_any(py)?])
            }
            StorageCall::AddSubscription(client, subscription) => (
                "add_subscription",
                vec![
                    client.into_py_any(py)?,
                    Py::new(
                        py,
                        PySubscription {
                            inner: subscription.clone(),
                        },
                    )?
                    .into_any(),
                ],
            ),
            StorageCall::RemoveSubscription(client, filter) => (
                "remove_subscription",
                vec![client.into_py_any(py)?, filter.as_str().into_py_any(py)?],
            ),
            StorageCall::EnqueueEntry(client, entry) => (
                "enqueue_entry",
                vec![
                    client.into_py_any(py)?,
                    entry.seq.into_py_any(py)?,
                    message(&entry.message)?.into_any(),
                    seconds(entry.enqueued_at).into_py_any(py)?,
                ],
            ),
            StorageCall::RemoveQueued(client, seq) => (
                "remove_queued",
                vec![client.into_py_any(py)?, seq.into_py_any(py)?],
            ),
            StorageCall::ForgetClient(client) => ("forget_client", vec![client.into_py_any(py)?]),
        };
        let args = PyTuple::new(py, args)?;
        Ok(Some(PyTuple::new(
            py,
            [name.into_py_any(py)?, args.into_any().unbind()],
        )?))
    }

    /// Return the session-store call that stores it, as (method name, arguments), or None.
    ///
    /// None for the storage's facts: "save_session" (session,), "set_will" (client id,
    /// will), "clear_will" (client id,) or "delete_session" (client id,).
    fn session_call<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        use crate::router::SessionCall;
        let Some(call) = self.inner.session_call() else {
            return Ok(None);
        };
        let (name, args): (&str, Vec<Py<PyAny>>) = match call {
            SessionCall::SaveSession(session) => (
                "save_session",
                vec![Py::new(py, PySession::from(session))?.into_any()],
            ),
            SessionCall::SetWill(client, will) => (
                "set_will",
                vec![
                    client.into_py_any(py)?,
                    Py::new(py, PyWill::from_core(py, will)?)?.into_any(),
                ],
            ),
            SessionCall::ClearWill(client) => ("clear_will", vec![client.into_py_any(py)?]),
            SessionCall::DeleteSession(client) => ("delete_session", vec![client.into_py_any(py)?]),
        };
        let args = PyTuple::new(py, args)?;
        Ok(Some(PyTuple::new(
            py,
            [name.into_py_any(py)?, args.into_any().unbind()],
        )?))
    }

    fn __repr__(&self) -> String {
        match self.client_id() {
            Some(client) => format!("Fact({}, client_id={client:?})", self.kind()),
            None => format!("Fact({})", self.kind()),
        }
    }
}

/// A delivery to a connected client that the broker hands to its engine itself.
///
/// A retained message for a new subscription, after checking the client may receive it.
#[pyclass(frozen, name = "Outgoing", module = "mqtt_common.router")]
pub(crate) struct PyOutgoing {
    inner: Outgoing,
}

#[pymethods]
impl PyOutgoing {
    /// The connection to deliver on.
    #[getter]
    fn connection(&self) -> ConnectionId {
        self.inner.connection
    }

    /// Its client.
    #[getter]
    fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// The message (its expiry counted down).
    #[getter]
    fn message(&self, py: Python<'_>) -> PyResult<Py<PyMessage>> {
        Py::new(py, PyMessage::from_core(py, self.inner.message.clone()))
    }

    /// Whether it is a retained message sent because of a new subscription.
    #[getter]
    fn retained(&self) -> bool {
        self.inner.route.from_retained
    }

    fn __repr__(&self) -> String {
        format!(
            "Outgoing(connection={}, topic={:?})",
            self.inner.connection,
            self.inner.message.topic().as_str()
        )
    }
}

/// What a router call decided, for the broker to carry out.
///
/// Deliveries to attached engines are already made (``touched`` names their
/// connections, whose output to write). ``facts`` are to be stored before the
/// acknowledgements that promise them are released; ``wills`` are Wills now due (publish
/// each with ``publish`` if its owner may); ``dropped`` names sessions whose full queue
/// dropped a message.
#[pyclass(name = "Routed", module = "mqtt_common.router")]
pub(crate) struct PyRouted {
    /// The facts to store, in order.
    #[pyo3(get)]
    facts: Py<PyList>,
    /// Wills now due: (client id, owner's credentials, message).
    #[pyo3(get)]
    wills: Py<PyList>,
    /// Sessions whose full queue dropped a message (one entry per message).
    #[pyo3(get)]
    dropped: Py<PyList>,
    /// Connections given output.
    #[pyo3(get)]
    touched: Py<PyList>,
    /// For a publication: whether any subscription matched.
    #[pyo3(get)]
    matched: bool,
    /// For a publication: the publisher's acknowledgement code if not Success, else None.
    ///
    /// 0x97 Quota exceeded: refused, routed nowhere; 0x10 No matching subscribers.
    #[pyo3(get)]
    reason_code: Option<Py<PyAny>>,
    /// For ``receive``: the topics of the messages refused (0x97), for the log.
    #[pyo3(get)]
    refused: Py<PyList>,
    /// For a SUBSCRIBE or UNSUBSCRIBE: one reason code per filter.
    #[pyo3(get)]
    reason_codes: Py<PyList>,
    /// For a SUBSCRIBE: the retained messages to deliver (not yet delivered).
    #[pyo3(get)]
    retained: Py<PyList>,
    /// For ``receive``: the events left for the broker, in order.
    #[pyo3(get)]
    events: Py<PyList>,
    /// In a cluster: messages for other nodes, to send with the facts.
    #[pyo3(get)]
    forwards: Py<PyList>,
    /// In a cluster: changes every node must see, to send with the facts.
    #[pyo3(get)]
    changes: Py<PyList>,
}

#[pymethods]
impl PyRouted {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Routed(facts={}, touched={}, matched={})",
            self.facts.bind(py).len(),
            self.touched.bind(py).len(),
            if self.matched { "True" } else { "False" }
        )
    }
}

/// A connection the router accepted, or must first take over.
#[pyclass(frozen, name = "Connected", module = "mqtt_common.router")]
pub(crate) struct PyConnected {
    /// The connection to end first (0x8E), then connect again; None once accepted.
    #[pyo3(get)]
    take_over: Option<ConnectionId>,
    /// The session to accept the CONNECT with (None with ``take_over``).
    #[pyo3(get)]
    session: Option<Py<PySession>>,
    /// Whether it was resumed (CONNACK's Session Present).
    #[pyo3(get)]
    session_present: bool,
    /// The facts to store (the new session, its Will).
    #[pyo3(get)]
    facts: Py<PyList>,
    /// In a cluster: changes every node must see, to send with the facts.
    ///
    /// The filters of a session a clean start ended.
    #[pyo3(get)]
    changes: Py<PyList>,
}

#[pymethods]
impl PyConnected {
    fn __repr__(&self) -> String {
        match self.take_over {
            Some(held) => format!("Connected(take_over={held})"),
            None => format!(
                "Connected(session_present={})",
                if self.session_present {
                    "True"
                } else {
                    "False"
                }
            ),
        }
    }
}

/// MQTT's rules between clients, sans I/O.
///
/// Subscriptions, retained messages, sessions that outlive their connections and what
/// they are owed, Wills, expiry, takeover.
///
/// Time comes in twice: ``now``, the wall clock (``time.time()``: facts outlive the
/// process), and ``clock``, the engines' clock (``loop.time()``), for deliveries.
///
/// ``max_retained_messages`` and ``max_retained_bytes`` (topics and payloads) bound the
/// retained messages outside ``$SYS``: one more is refused whole with 0x97
/// (``Routed.reason_code``).
/// ``max_connections`` bounds the clients connected (``connection_refusal``). None:
/// no bound.
#[pyclass(name = "Router", module = "mqtt_common.router")]
pub(crate) struct PyRouter {
    pub(crate) inner: Router,
    engines: HashMap<ConnectionId, Py<PyServerConnection>>,
    /// Deliveries decided at a connection's CONNECT, made when its engine is attached.
    pending: HashMap<ConnectionId, Vec<Outgoing>>,
}

/// What a call's actions amount to, gathered for Python.
#[derive(Default)]
struct Gathered {
    facts: Vec<Fact>,
    wills: Vec<(
        String,
        crate::auth::AuthCredentials,
        crate::message::Message,
    )>,
    dropped: Vec<String>,
    touched: Vec<ConnectionId>,
    retained: Vec<Outgoing>,
    forwards: Vec<Forward>,
    changes: Vec<Change>,
}

/// `now`: POSIX seconds on the wall clock.
fn wall(obj: &Bound<'_, PyAny>) -> Result<SystemTime, Error> {
    instant("now", Some(obj))
}

/// `clock`: seconds on the engines' clock.
fn engine_clock(obj: &Bound<'_, PyAny>) -> Result<Duration, Error> {
    let value: f64 = obj
        .extract()
        .map_err(|_| wrong_type("clock", "float (seconds on the engines' clock)", obj))?;
    Duration::try_from_secs_f64(value)
        .map_err(|_| wrong_type("clock", "a non-negative number of seconds", obj))
}

impl PyRouter {
    /// Carries out the actions: deliveries to attached engines (their settlements when
    /// they end at once), facts, Wills and drops gathered for Python.
    fn gather(
        &mut self,
        py: Python<'_>,
        actions: Vec<Action>,
        clock: Duration,
        keep_retained: bool,
        gathered: &mut Gathered,
    ) -> PyResult<()> {
        let mut pending: std::collections::VecDeque<Action> = actions.into();
        while let Some(action) = pending.pop_front() {
            match action {
                Action::Persist(fact) => gathered.facts.push(fact),
                Action::Deliver(out) if keep_retained && out.route.from_retained => {
                    gathered.retained.push(out);
                }
                Action::Deliver(out) => {
                    let connection = out.connection;
                    if let Some(settled) = self.hand_over(py, out, clock)? {
                        pending.extend(settled);
                    }
                    if !gathered.touched.contains(&connection) {
                        gathered.touched.push(connection);
                    }
                }
                Action::PublishWill {
                    client_id,
                    owner,
                    message,
                } => gathered.wills.push((client_id, owner, message)),
                Action::Dropped { client_id, .. } => gathered.dropped.push(client_id),
                Action::Forward(forward) => gathered.forwards.push(forward),
                Action::Share(change) => gathered.changes.push(change),
            }
        }
        Ok(())
    }

    /// Hands a delivery to its connection's engine (or keeps it for the engine not yet
    /// attached); returns the actions of a delivery that ended at once.
    fn hand_over(
        &mut self,
        py: Python<'_>,
        out: Outgoing,
        clock: Duration,
    ) -> PyResult<Option<Vec<Action>>> {
        let Some(engine) = self.engines.get(&out.connection) else {
            self.pending.entry(out.connection).or_default().push(out);
            return Ok(None);
        };
        let outcome = engine.bind(py).get().lock().deliver_tagged(
            &out.message,
            &out.route,
            clock,
            out.tag,
        )?;
        Ok(match (outcome, out.tag) {
            (DeliveryOutcome::TooLarge | DeliveryOutcome::Expired, Some(tag)) => {
                Some(self.inner.settled(out.connection, tag))
            }
            _ => None,
        })
    }

    fn routed(
        py: Python<'_>,
        gathered: Gathered,
        matched: bool,
        reason_codes: Vec<ReasonCode>,
    ) -> PyResult<PyRouted> {
        let facts = gathered
            .facts
            .into_iter()
            .map(|inner| Py::new(py, PyFact { inner }))
            .collect::<PyResult<Vec<_>>>()?;
        let wills = gathered
            .wills
            .into_iter()
            .map(|(client, owner, message)| {
                (
                    client,
                    PyAuthCredentials { inner: owner },
                    PyMessage::from_core(py, message),
                )
                    .into_py_any(py)
            })
            .collect::<PyResult<Vec<_>>>()?;
        let codes = reason_codes
            .into_iter()
            .map(|code| reason_code_member(py, code))
            .collect::<PyResult<Vec<_>>>()?;
        let retained = gathered
            .retained
            .into_iter()
            .map(|inner| Py::new(py, PyOutgoing { inner }))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyRouted {
            facts: PyList::new(py, facts)?.unbind(),
            wills: PyList::new(py, wills)?.unbind(),
            dropped: PyList::new(py, gathered.dropped)?.unbind(),
            touched: PyList::new(py, gathered.touched)?.unbind(),
            matched,
            reason_code: None,
            refused: PyList::empty(py).unbind(),
            reason_codes: PyList::new(py, codes)?.unbind(),
            retained: PyList::new(py, retained)?.unbind(),
            events: PyList::empty(py).unbind(),
            forwards: cluster::forwards_to_py(py, gathered.forwards)?.unbind(),
            changes: cluster::changes_to_py(py, gathered.changes)?.unbind(),
        })
    }

    fn finish(
        &mut self,
        py: Python<'_>,
        actions: Vec<Action>,
        clock: Duration,
    ) -> PyResult<PyRouted> {
        let mut gathered = Gathered::default();
        self.gather(py, actions, clock, false, &mut gathered)?;
        Self::routed(py, gathered, false, Vec::new())
    }
}

/// Core subscriptions from a Python iterable of `Subscription`.
fn subscriptions_of(obj: &Bound<'_, PyAny>) -> PyResult<Vec<Subscription>> {
    obj.try_iter()
        .map_err(|_| wrong_type("subscriptions", "a list of Subscription", obj))?
        .map(|item| PySubscription::core_of("subscriptions", &item?).map_err(PyErr::from))
        .collect()
}

/// The clients a broker allows to receive a message, or None: any.
fn allowed_set(
    receivers: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<std::collections::HashSet<String>>> {
    let Some(allowed) = present(receivers) else {
        return Ok(None);
    };
    allowed
        .try_iter()
        .map_err(|_| wrong_type("receivers", "a collection of client ids", allowed))?
        .map(|item| item.and_then(|i| i.extract::<String>()))
        .collect::<PyResult<_>>()
        .map(Some)
}

fn connection_arg(obj: &Bound<'_, PyAny>) -> Result<ConnectionId, Error> {
    counter("connection", obj)
}

#[pymethods]
impl PyRouter {
    #[new]
    #[pyo3(signature = (
        *,
        max_queued_messages = RouterConfig::DEFAULT.max_queued_messages as i128,
        queue_full = "drop_new",
        shared_choice = "round_robin",
        max_subscriptions_per_client = None,
        max_topic_levels = None,
        max_retained_messages = None,
        max_retained_bytes = None,
        max_connections = None,
        node_id = None,
    ))]
    #[allow(clippy::too_many_arguments)] // the keyword arguments, as given
    fn new(
        #[pyo3(from_py_with = int::<MaxQueuedMessagesPerSession>)] max_queued_messages: i128,
        #[pyo3(from_py_with = choice::<RouterQueueFull>)] queue_full: &'static str,
        #[pyo3(from_py_with = choice::<SharedChoiceArg>)] shared_choice: &'static str,
        #[pyo3(from_py_with = limit::<MaxSubscriptionsPerClient>)]
        max_subscriptions_per_client: Option<usize>,
        #[pyo3(from_py_with = limit::<MaxTopicLevels>)] max_topic_levels: Option<usize>,
        #[pyo3(from_py_with = limit::<MaxRetainedMessages>)] max_retained_messages: Option<usize>,
        #[pyo3(from_py_with = limit::<MaxRetainedBytes>)] max_retained_bytes: Option<usize>,
        #[pyo3(from_py_with = limit::<MaxConnections>)] max_connections: Option<usize>,
        node_id: Option<&str>,
    ) -> PyResult<Self> {
        let config = RouterConfig {
            max_queued_messages: int_value(MaxQueuedMessagesPerSession::NAME, max_queued_messages)?,
            queue_full: QueueFull::from_name(queue_full).unwrap_or_default(),
            shared_choice: SharedChoice::from_name(shared_choice).unwrap_or_default(),
            limits: IndexLimits {
                max_topic_levels: max_topic_levels.or(IndexLimits::DEFAULT.max_topic_levels),
                max_subscriptions_per_client,
            },
            max_retained_messages,
            max_retained_bytes,
            max_connections,
        };
        let inner = match node_id {
            Some(node) => Router::clustered(config, node)?,
            None => Router::new(config),
        };
        Ok(Self {
            inner,
            engines: HashMap::new(),
            pending: HashMap::new(),
        })
    }

    /// Return a client identifier for a client that gave none.
    ///
    /// ``auto-`` and a random UUID, never one a session here holds.
    fn assign_client_id(&mut self) -> String {
        self.inner.assign_client_id()
    }

    /// Return whether a session (connected or away) holds this client identifier.
    fn has_session(&self, client_id: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.inner.has_session(self::client_id(client_id)?))
    }

    /// Return the credentials of a client's session owner (no password), or None.
    fn owner(&self, client_id: &Bound<'_, PyAny>) -> PyResult<Option<PyAuthCredentials>> {
        Ok(self
            .inner
            .owner(self::client_id(client_id)?)
            .map(|owner| PyAuthCredentials {
                inner: owner.clone(),
            }))
    }

    /// Change the bounds on retained messages and connections from now on (a reload).
    ///
    /// None: no bound. What is there already stays: past a lowered bound, only growth
    /// is refused.
    #[pyo3(signature = (*, max_retained_messages, max_retained_bytes, max_connections))]
    fn set_bounds(
        &mut self,
        #[pyo3(from_py_with = limit::<MaxRetainedMessages>)] max_retained_messages: Option<usize>,
        #[pyo3(from_py_with = limit::<MaxRetainedBytes>)] max_retained_bytes: Option<usize>,
        #[pyo3(from_py_with = limit::<MaxConnections>)] max_connections: Option<usize>,
    ) {
        self.inner
            .set_bounds(max_retained_messages, max_retained_bytes, max_connections);
    }

    /// Return why one more client may not connect as ``client_id``, or None if it may.
    ///
    /// 0x97 Quota exceeded (for the CONNACK) when ``max_connections`` clients are
    /// connected; a client taking its own session over always may. Ask before
    /// ``connect``.
    fn connection_refusal(
        &self,
        py: Python<'_>,
        client_id: &Bound<'_, PyAny>,
    ) -> PyResult<Option<Py<PyAny>>> {
        self.inner
            .connection_refusal(self::client_id(client_id)?)
            .map(|code| reason_code_member(py, code).map(Bound::unbind))
            .transpose()
    }

    /// Return the client identifier a connection holds, or None.
    fn client_of(&self, connection: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
        Ok(self
            .inner
            .client_of(connection_arg(connection)?)
            .map(str::to_owned))
    }

    /// Take back a session a store kept, with its Will, subscriptions and queue.
    ///
    /// The queue is (entry number, message, enqueue time) tuples. Call
    /// ``handle_timeout`` once every session and retained message is back.
    fn restore_session(
        &mut self,
        py: Python<'_>,
        session: &Bound<'_, PyAny>,
        will: &Bound<'_, PyAny>,
        subscriptions: &Bound<'_, PyAny>,
        queue: &Bound<'_, PyAny>,
        now: &Bound<'_, PyAny>,
    ) -> PyResult<PyRouted> {
        let session = PySession::core_of("session", session)?;
        let will = present(Some(will))
            .map(|w| PyWill::core_of("will", w))
            .transpose()?;
        let subscriptions = subscriptions_of(subscriptions)?;
        let queue = queue
            .try_iter()
            .map_err(|_| wrong_type("queue", "a list of (seq, Message, float)", queue))?
            .map(|item| {
                let item = item?;
                let (seq, message, at) = item
                    .extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>, Bound<'_, PyAny>)>()
                    .map_err(|_| wrong_type("queue", "a list of (seq, Message, float)", &item))?;
                Ok(crate::python::storage::queued_entry(&seq, &message, &at)?)
            })
            .collect::<PyResult<Vec<QueuedMessage>>>()?;
        let actions =
            self.inner
                .restore_session(session, will, subscriptions, queue, wall(now)?)?;
        self.finish(py, actions, Duration::ZERO)
    }

    /// Take back a retained message a store kept, with its arrival time.
    fn restore_retained(
        &mut self,
        message: &Bound<'_, PyAny>,
        arrived_at: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let message = PyMessage::core_of("message", message)?;
        let arrived_at = instant("arrived_at", Some(arrived_at))?;
        Ok(self.inner.restore_retained(message, arrived_at)?)
    }

    /// Connect a client on ``connection`` as ``client_id``, authenticated as ``owner``.
    ///
    /// Return ``Connected``: the session to accept with, or the connection to take over
    /// first. The deliveries its queue owes are made once its engine is attached.
    fn connect(
        &mut self,
        py: Python<'_>,
        connection: &Bound<'_, PyAny>,
        request: &Bound<'_, PyConnectRequest>,
        client_id: &Bound<'_, PyAny>,
        owner: &Bound<'_, PyAuthCredentials>,
        now: &Bound<'_, PyAny>,
    ) -> PyResult<PyConnected> {
        let connection = connection_arg(connection)?;
        let outcome = self.inner.connect(
            connection,
            &request.get().inner,
            self::client_id(client_id)?,
            &owner.get().inner,
            wall(now)?,
        )?;
        let accepted = match outcome {
            Connecting::TakeOver(held) => {
                return Ok(PyConnected {
                    take_over: Some(held),
                    session: None,
                    session_present: false,
                    facts: PyList::empty(py).unbind(),
                    changes: PyList::empty(py).unbind(),
                });
            }
            Connecting::Accepted(accepted) => *accepted,
        };
        let (mut facts, mut changes) = (Vec::new(), Vec::new());
        for action in accepted.actions {
            match action {
                Action::Persist(fact) => facts.push(Py::new(py, PyFact { inner: fact })?),
                Action::Deliver(out) => self.pending.entry(connection).or_default().push(out),
                Action::Share(change) => changes.push(change),
                _ => {}
            }
        }
        Ok(PyConnected {
            take_over: None,
            session: Some(Py::new(py, PySession::from(accepted.session))?),
            session_present: accepted.session_present,
            facts: PyList::new(py, facts)?.unbind(),
            changes: cluster::changes_to_py(py, changes)?.unbind(),
        })
    }

    /// Deliver to ``engine`` from now on what goes to ``connection``.
    ///
    /// Call it once the engine accepted the CONNECT: what the session's queue owes goes
    /// now. Return what that did.
    fn attach(
        &mut self,
        py: Python<'_>,
        connection: &Bound<'_, PyAny>,
        engine: &Bound<'_, PyServerConnection>,
        clock: &Bound<'_, PyAny>,
    ) -> PyResult<PyRouted> {
        let connection = connection_arg(connection)?;
        self.engines.insert(connection, engine.clone().unbind());
        let owed = self.pending.remove(&connection).unwrap_or_default();
        let actions = owed.into_iter().map(Action::Deliver).collect();
        self.finish(py, actions, engine_clock(clock)?)
    }

    /// Hand an attached connection's read to its engine; route what needs nobody else.
    ///
    /// Its QoS 0 and 1 messages are published, its tagged deliveries settled. Return
    /// what that did. ``events`` holds the events left for the broker, in order,
    /// from the first that needs it (a SUBSCRIBE, a QoS 2 message, the end of the
    /// connection). For a broker that authorizes nothing: one with an authorization
    /// provider calls the engine's ``receive_data`` and decides each publication.
    fn receive(
        &mut self,
        py: Python<'_>,
        connection: &Bound<'_, PyAny>,
        data: &Bound<'_, PyAny>,
        now: &Bound<'_, PyAny>,
        clock: &Bound<'_, PyAny>,
    ) -> PyResult<PyRouted> {
        let id = connection_arg(connection)?;
        let Some(engine) = self.engines.get(&id).map(|e| e.clone_ref(py)) else {
            return Err(Error::state("receive", format!("no engine is attached to {id}")).into());
        };
        let data = extract_binary("data", data, "bytes, bytearray or memoryview")?;
        let (now, clock) = (wall(now)?, engine_clock(clock)?);
        // The caller's `bytes` object, shared: messages' payloads point into it.
        let events = engine
            .get()
            .lock()
            .receive_bytes(shared_bytes(&data), clock);
        let routed = self.inner.route_events(id, events, now);
        if !routed.reasons.is_empty() {
            let mut engine = engine.get().lock();
            for (packet_id, code) in routed.reasons {
                // Cannot fail: this read queued the acknowledgement, and an engine that
                // has ended since ignores the call.
                let _ = engine.set_publish_reason(packet_id, code);
            }
        }
        let mut gathered = Gathered::default();
        self.gather(py, routed.actions, clock, false, &mut gathered)?;
        let mut answer = Self::routed(py, gathered, false, Vec::new())?;
        answer.events = events_to_py(py, routed.rest)?.unbind();
        if !routed.refused.is_empty() {
            let topics = routed.refused.iter().map(TopicName::as_str);
            answer.refused = PyList::new(py, topics)?.unbind();
        }
        Ok(answer)
    }

    /// Take note that a connection ended (its engine's Closed event).
    ///
    /// The session keeps what it is owed, or ends; its Will is due now or later. The
    /// engine is detached.
    fn closed(
        &mut self,
        py: Python<'_>,
        connection: &Bound<'_, PyAny>,
        closed: &Bound<'_, PyClosed>,
        now: &Bound<'_, PyAny>,
        clock: &Bound<'_, PyAny>,
    ) -> PyResult<PyRouted> {
        let connection = connection_arg(connection)?;
        self.engines.remove(&connection);
        self.pending.remove(&connection);
        let actions = self
            .inner
            .closed(connection, &closed.get().core, wall(now)?);
        self.finish(py, actions, engine_clock(clock)?)
    }

    /// Take note that a tagged delivery ended (Delivered or Discarded): no longer owed.
    fn settled(
        &mut self,
        py: Python<'_>,
        connection: &Bound<'_, PyAny>,
        tag: &Bound<'_, PyAny>,
    ) -> PyResult<PyRouted> {
        let actions = self
            .inner
            .settled(connection_arg(connection)?, counter("tag", tag)?);
        self.finish(py, actions, Duration::ZERO)
    }

    /// Route a published message (a retained one is stored or cleared).
    ///
    /// ``publisher``: the client that published it (for No Local). ``receivers``: only
    /// these clients may receive it (the broker's authorization); None: any.
    #[pyo3(signature = (message, now, clock, *, publisher=None, receivers=None))]
    fn publish(
        &mut self,
        py: Python<'_>,
        message: &Bound<'_, PyAny>,
        now: &Bound<'_, PyAny>,
        clock: &Bound<'_, PyAny>,
        publisher: Option<&Bound<'_, PyAny>>,
        receivers: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyRouted> {
        let py_message = message
            .cast::<PyMessage>()
            .map_err(|_| wrong_type("message", "Message", message))?;
        let core = py_message.get().core(py)?;
        let publisher = present(publisher)
            .map(|obj| self::client_id(obj).map(str::to_owned))
            .transpose()?;
        let now = wall(now)?;
        let clock = engine_clock(clock)?;
        let published = match allowed_set(receivers)? {
            None => self.inner.publish(core, publisher.as_deref(), now),
            Some(allowed) => {
                self.inner
                    .publish_filtered(core, publisher.as_deref(), now, |client| {
                        allowed.contains(client)
                    })
            }
        };
        let reason_code = published.reason_code();
        let mut gathered = Gathered::default();
        self.gather(py, published.actions, clock, false, &mut gathered)?;
        let mut answer = Self::routed(py, gathered, published.matched, Vec::new())?;
        answer.reason_code = reason_code
            .map(|code| reason_code_member(py, code).map(Bound::unbind))
            .transpose()?;
        Ok(answer)
    }

    /// Return the clients a message on ``topic`` would go to, with their owners' credentials.
    ///
    /// Ask which may receive it, then ``publish(..., receivers=...)``.
    fn receivers<'py>(
        &self,
        py: Python<'py>,
        topic: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let topic = topic_name("topic", topic)?;
        let found = self
            .inner
            .receivers(&topic)
            .into_iter()
            .map(|(client, owner)| (client, PyAuthCredentials { inner: owner }).into_py_any(py))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, found)
    }

    /// Make the subscriptions of a SUBSCRIBE, now, in order.
    ///
    /// Except those ``refused`` (a reason code per subscription, None for allowed).
    /// Return the reason codes, the facts, and the retained messages to deliver
    /// (``deliver`` each the client may receive).
    #[pyo3(signature = (connection, subscriptions, now, *, refused=None))]
    fn subscribe(
        &mut self,
        py: Python<'_>,
        connection: &Bound<'_, PyAny>,
        subscriptions: &Bound<'_, PyAny>,
        now: &Bound<'_, PyAny>,
        refused: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyRouted> {
        let subscriptions = subscriptions_of(subscriptions)?;
        let refused = match present(refused) {
            None => Vec::new(),
            Some(codes) => codes
                .try_iter()
                .map_err(|_| wrong_type("refused", "a list of ReasonCode or None", codes))?
                .map(|item| {
                    let item = item?;
                    present(Some(&item))
                        .map(|code| int_arg::<ReasonCode>("refused", code))
                        .transpose()
                        .map_err(PyErr::from)
                })
                .collect::<PyResult<Vec<_>>>()?,
        };
        let answered = self.inner.subscribe(
            connection_arg(connection)?,
            &subscriptions,
            &refused,
            wall(now)?,
        )?;
        let mut gathered = Gathered::default();
        self.gather(py, answered.actions, Duration::ZERO, true, &mut gathered)?;
        Self::routed(py, gathered, false, answered.reason_codes)
    }

    /// Remove the subscriptions of an UNSUBSCRIBE; return a reason code per filter.
    fn unsubscribe(
        &mut self,
        py: Python<'_>,
        connection: &Bound<'_, PyAny>,
        topic_filters: &Bound<'_, PyAny>,
    ) -> PyResult<PyRouted> {
        let filters = topic_filters
            .try_iter()
            .map_err(|_| wrong_type("topic_filters", "a list of str", topic_filters))?
            .map(|item| topic_filter("topic_filters", &item?).map_err(PyErr::from))
            .collect::<PyResult<Vec<_>>>()?;
        let answered = self
            .inner
            .unsubscribe(connection_arg(connection)?, &filters)?;
        let mut gathered = Gathered::default();
        self.gather(py, answered.actions, Duration::ZERO, false, &mut gathered)?;
        Self::routed(py, gathered, false, answered.reason_codes)
    }

    /// Deliver an Outgoing (a retained message ``subscribe`` returned) to its engine.
    ///
    /// Return the outcome ("sent", "queued", ...; "closed" if it is gone).
    fn deliver(
        &mut self,
        py: Python<'_>,
        outgoing: &Bound<'_, PyOutgoing>,
        clock: &Bound<'_, PyAny>,
    ) -> PyResult<&'static str> {
        let out = &outgoing.get().inner;
        let Some(engine) = self.engines.get(&out.connection) else {
            return Ok(DeliveryOutcome::Closed.as_str());
        };
        let outcome = engine.bind(py).get().lock().deliver_tagged(
            &out.message,
            &out.route,
            engine_clock(clock)?,
            out.tag,
        )?;
        Ok(outcome.as_str())
    }

    /// When ``handle_timeout`` is due next (POSIX seconds), or None.
    fn next_deadline(&self) -> Option<f64> {
        self.inner.next_deadline().map(seconds)
    }

    /// Run what is due at ``now``: Wills, session expiry, retained messages' expiry.
    fn handle_timeout(
        &mut self,
        py: Python<'_>,
        now: &Bound<'_, PyAny>,
        clock: &Bound<'_, PyAny>,
    ) -> PyResult<PyRouted> {
        let actions = self.inner.handle_timeout(wall(now)?);
        self.finish(py, actions, engine_clock(clock)?)
    }

    /// Return a client's subscriptions.
    fn subscriptions<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let found = self
            .inner
            .subscriptions(self::client_id(client_id)?)
            .into_iter()
            .map(|inner| Py::new(py, PySubscription { inner }))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, found)
    }

    /// Return counts: sessions, connected, subscriptions, retained, queued, dropped.
    ///
    /// Also ``retained_bytes`` (their topics' and payloads' bytes) and
    /// ``retained_refused`` (retained messages refused for the bounds on them).
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let stats = self.inner.stats();
        let dict = pyo3::types::PyDict::new(py);
        dict.set_item("sessions", stats.sessions)?;
        dict.set_item("connected", stats.connected)?;
        dict.set_item("subscriptions", stats.subscriptions)?;
        dict.set_item("retained", stats.retained)?;
        dict.set_item("retained_bytes", stats.retained_bytes)?;
        dict.set_item("retained_refused", stats.retained_refused)?;
        dict.set_item("queued", stats.queued)?;
        dict.set_item("dropped", stats.dropped)?;
        Ok(dict)
    }

    // ---- a node of a cluster ----

    /// The router's node identifier, if it is a node of a cluster (``node_id=``).
    #[getter]
    fn node_id(&self) -> Option<&str> {
        self.inner.node_id()
    }

    /// Return the topic filters this node's clients subscribe to, each once.
    ///
    /// What a node announces to the others when it starts.
    fn node_filters(&self) -> Vec<String> {
        self.inner
            .node_filters()
            .into_iter()
            .map(|filter| filter.as_str().to_owned())
            .collect()
    }

    /// Return the nodes known to have subscribers, this one included.
    fn known_nodes(&self) -> Vec<String> {
        self.inner.known_nodes()
    }

    /// Apply a change every node sees, in the order the transport gives.
    ///
    /// This node's own changes included: the order decides which of two nodes'
    /// retained messages on one topic stays. Nothing is stored (the node that made the
    /// change stored it).
    fn apply_change(&mut self, change: &Bound<'_, PyAny>) -> PyResult<()> {
        let change = change
            .cast::<PyChange>()
            .map_err(|_| wrong_type("change", "Change", change))?;
        Ok(self.inner.apply_change(&change.get().inner)?)
    }

    /// Route a message another node forwarded to this node's clients.
    ///
    /// As ``publish``, to ``receivers`` only when given; its expiry counts down from
    /// its publication.
    #[pyo3(signature = (forward, now, clock, *, receivers=None))]
    fn receive_forward(
        &mut self,
        py: Python<'_>,
        forward: &Bound<'_, PyAny>,
        now: &Bound<'_, PyAny>,
        clock: &Bound<'_, PyAny>,
        receivers: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyRouted> {
        let forward = forward
            .cast::<PyForward>()
            .map_err(|_| wrong_type("forward", "Forward", forward))?;
        let (now, clock) = (wall(now)?, engine_clock(clock)?);
        let published = match allowed_set(receivers)? {
            None => self
                .inner
                .receive_forward(&forward.get().inner, now, |_| true),
            Some(allowed) => self
                .inner
                .receive_forward(&forward.get().inner, now, |client| allowed.contains(client)),
        };
        let mut gathered = Gathered::default();
        self.gather(py, published.actions, clock, false, &mut gathered)?;
        Self::routed(py, gathered, published.matched, Vec::new())
    }

    /// Route messages other nodes forwarded to this node's clients, in order.
    ///
    /// As ``receive_forward`` for each, in one call: for a broker that authorizes
    /// nobody's receiving (one with an authorization provider asks for each message).
    fn receive_forwards(
        &mut self,
        py: Python<'_>,
        forwards: &Bound<'_, PyAny>,
        now: &Bound<'_, PyAny>,
        clock: &Bound<'_, PyAny>,
    ) -> PyResult<PyRouted> {
        let (now, clock) = (wall(now)?, engine_clock(clock)?);
        let mut actions = Vec::new();
        let mut matched = false;
        let items = forwards
            .try_iter()
            .map_err(|_| wrong_type("forwards", "a list of Forward", forwards))?;
        for item in items {
            let item = item?;
            let forward = item
                .cast::<PyForward>()
                .map_err(|_| wrong_type("forwards", "a list of Forward", &item))?;
            let published = self
                .inner
                .receive_forward(&forward.get().inner, now, |_| true);
            matched |= published.matched;
            actions.extend(published.actions);
        }
        let mut gathered = Gathered::default();
        self.gather(py, actions, clock, false, &mut gathered)?;
        Self::routed(py, gathered, matched, Vec::new())
    }

    /// Let another node have a client's session, which it resumes from the stores.
    ///
    /// Call it once the client's connection here ended and its facts are stored. For
    /// ``grace`` seconds its subscriptions still forward to ``node`` what they match.
    fn release(
        &mut self,
        client_id: &Bound<'_, PyAny>,
        node: &str,
        grace: &Bound<'_, PyAny>,
        now: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let grace = crate::python::protocol::config::seconds_arg("grace", grace)?;
        Ok(self
            .inner
            .release(self::client_id(client_id)?, node, grace, wall(now)?)?)
    }

    /// Forget the filters of a node that left the cluster.
    fn forget_node(&mut self, node: &str) {
        self.inner.forget_node(node);
    }

    /// Return the connection that holds a client identifier, or None.
    fn connection_of(&self, client_id: &Bound<'_, PyAny>) -> PyResult<Option<ConnectionId>> {
        Ok(self.inner.connection_of(self::client_id(client_id)?))
    }

    fn __repr__(&self) -> String {
        let stats = self.inner.stats();
        format!(
            "<Router {} sessions, {} connected, {} subscriptions, {} retained>",
            stats.sessions, stats.connected, stats.subscriptions, stats.retained
        )
    }
}
