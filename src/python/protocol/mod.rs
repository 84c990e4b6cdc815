//! `mqtt_common.protocol` for Python: the sans-I/O server engine.

pub(crate) mod config;
mod event;
mod metrics;
mod sys_topics;

pub(crate) use config::PyServerConfig;
pub(crate) use event::{
    PyAuthStep, PyClosed, PyConnectRequest, PyDelivered, PyDiscarded, PySubscribeRequest,
    PyUnsubscribeRequest,
};
pub(crate) use metrics::{PyMetrics, PyMetricsSnapshot};
pub(crate) use sys_topics::PySysTopics;

use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use crate::constants::ReasonCode;
use crate::error::Error;
use crate::message::Message;
use crate::packet_id::PacketId;
use crate::protocol::{Acceptance, Event, Route, ServerConnection};
use crate::python::convert::{
    Field, ReasonCodeArg, Retained, SessionPresent, Tag, extract_binary, flag, int, int_arg,
    int_value, mqtt_string, present, shared_bytes, wrong_type,
};
use crate::python::message::PyMessage;
use crate::python::session::PySession;
use crate::python::topic::{PyDelivery, PySubscription};
use crate::topic::SubscriptionId;
use config::seconds_arg;
use event::event_to_py;

/// The configuration of connections made without one, shared by them all.
static DEFAULT_CONFIG: LazyLock<Arc<crate::protocol::ServerConfig>> =
    LazyLock::new(|| Arc::new(crate::protocol::ServerConfig::DEFAULT));

/// `now`: seconds on the caller's monotonic clock (`time.monotonic()`).
fn now_arg(obj: &Bound<'_, PyAny>) -> PyResult<Duration> {
    Ok(seconds_arg("now", obj)?)
}

/// Reason codes given as a list of ints or `ReasonCode`s.
fn reason_codes(obj: &Bound<'_, PyAny>) -> Result<Vec<ReasonCode>, Error> {
    const FIELD: &str = "reason_codes";
    let items = obj
        .try_iter()
        .map_err(|_| wrong_type(FIELD, "a list of ReasonCode", obj))?;
    items
        .map(|item| {
            let item = item.map_err(|_| wrong_type(FIELD, "a list of ReasonCode", obj))?;
            int_arg::<ReasonCode>(FIELD, &item)
        })
        .collect()
}

/// Optional binary data (`bytes`, `bytearray` or `memoryview`).
fn optional_data(
    field: &'static str,
    obj: Option<&Bound<'_, PyAny>>,
) -> Result<Option<Bytes>, Error> {
    present(obj)
        .map(|obj| {
            let data = extract_binary(field, obj, "bytes, bytearray or memoryview")?;
            Ok(Bytes::copy_from_slice(data.as_bytes()))
        })
        .transpose()
}

/// The route of a delivery: a `Subscription` or a `Delivery` (overlapping subscriptions
/// merged).
fn route_of(obj: &Bound<'_, PyAny>, retained: bool) -> Result<Route, Error> {
    let route = if let Ok(subscription) = obj.cast::<PySubscription>() {
        Route::from(&subscription.get().inner)
    } else if let Ok(delivery) = obj.cast::<PyDelivery>() {
        let delivery = delivery.get();
        Route {
            qos: delivery.qos,
            subscription_identifiers: delivery
                .subscription_identifiers
                .iter()
                .map(|&id| SubscriptionId::new(id))
                .collect::<Result<_, _>>()?,
            retain_as_published: delivery.retain_as_published,
            from_retained: false,
        }
    } else {
        return Err(wrong_type("subscription", "Subscription or Delivery", obj));
    };
    Ok(if retained { route.retained() } else { route })
}

/// One client connection on a server, sans I/O: bytes in, events and bytes out.
///
/// Feed it what the socket read with ``receive_data(data, now)`` and act on the events it
/// returns: ``ConnectRequest`` (answer with ``accept`` or ``refuse``), ``Message`` (a
/// message the client published, to route), ``SubscribeRequest`` and
/// ``UnsubscribeRequest`` (answer with ``answer_subscribe`` / ``answer_unsubscribe``),
/// ``AuthStep``, ``Delivered`` and ``Closed``. Write ``data_to_send()`` to the socket,
/// and call ``handle_timeout(now)`` at ``next_deadline()``. ``now`` is seconds on one
/// monotonic clock of your choice, such as ``time.monotonic()``. A call the state does
/// not allow raises StateError and changes nothing.
#[pyclass(frozen, name = "ServerConnection", module = "mqtt_common.protocol")]
pub(crate) struct PyServerConnection {
    inner: Mutex<ServerConnection>,
}

impl PyServerConnection {
    pub(crate) fn lock(&self) -> MutexGuard<'_, ServerConnection> {
        // Every engine call completes or changes nothing: a poisoned lock still guards a
        // consistent connection.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub(crate) fn events_to_py(py: Python<'_>, events: Vec<Event>) -> PyResult<Bound<'_, PyList>> {
    let list = PyList::empty(py);
    for event in events {
        list.append(event_to_py(py, event)?)?;
    }
    Ok(list)
}

#[pymethods]
impl PyServerConnection {
    #[new]
    #[pyo3(signature = (config=None, now=Duration::ZERO, *, metrics=None))]
    fn new(
        config: Option<&Bound<'_, PyAny>>,
        #[pyo3(from_py_with = now_arg)] now: Duration,
        metrics: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let config = match present(config) {
            None => Arc::clone(&DEFAULT_CONFIG),
            Some(obj) => obj
                .cast::<PyServerConfig>()
                .map_err(|_| wrong_type("config", "ServerConfig", obj))?
                .get()
                .inner
                .clone(),
        };
        let mut engine = ServerConnection::new(config, now)?;
        if let Some(obj) = present(metrics) {
            let metrics = obj
                .cast::<PyMetrics>()
                .map_err(|_| wrong_type("metrics", "Metrics", obj))?;
            engine.set_metrics(Arc::clone(&metrics.get().inner));
        }
        Ok(Self {
            inner: Mutex::new(engine),
        })
    }

    /// Hand the connection the bytes the socket read; return the events they caused.
    fn receive_data<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        now: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let data = extract_binary("data", data, "bytes, bytearray or memoryview")?;
        let now = now_arg(now)?;
        // The caller's `bytes` object, shared: messages' payloads point into it.
        let events = self.lock().receive_bytes(shared_bytes(&data), now);
        events_to_py(py, events)
    }

    /// Take the bytes to write to the socket.
    fn data_to_send<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let data = self.lock().data_to_send();
        PyBytes::new(py, &data)
    }

    /// When ``handle_timeout`` must be called next, in seconds, or None.
    fn next_deadline(&self) -> Option<f64> {
        self.lock().next_deadline().map(|d| d.as_secs_f64())
    }

    /// Run the timers due at ``now`` (connect timeout, keep alive); return the events.
    fn handle_timeout<'py>(
        &self,
        py: Python<'py>,
        now: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let now = now_arg(now)?;
        let events = self.lock().handle_timeout(now);
        events_to_py(py, events)
    }

    /// Report that the network connection was lost; return the Closed event.
    ///
    /// None if the connection had already ended.
    fn connection_lost(&self, py: Python<'_>) -> PyResult<Option<PyClosed>> {
        let closed = self.lock().connection_lost();
        closed
            .map(|closed| PyClosed::from_core(py, closed))
            .transpose()
    }

    /// Accept the CONNECT with ``session``; return the events of packets held until now.
    #[pyo3(signature = (session, *, session_present=false, assigned_client_id=None, authentication_data=None))]
    fn accept<'py>(
        &self,
        py: Python<'py>,
        session: &Bound<'py, PyAny>,
        #[pyo3(from_py_with = flag::<SessionPresent>)] session_present: bool,
        assigned_client_id: Option<&Bound<'py, PyAny>>,
        authentication_data: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let session = PySession::core_of("session", session)?;
        let acceptance = Acceptance {
            session_present,
            assigned_client_id: present(assigned_client_id)
                .map(|obj| mqtt_string("assigned_client_id", obj))
                .transpose()?,
            authentication_data: optional_data("authentication_data", authentication_data)?,
        };
        let events = self.lock().accept(session, acceptance)?;
        events_to_py(py, events)
    }

    /// Refuse the CONNECT with ``reason_code``; return the Closed event.
    fn refuse(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = int::<ReasonCodeArg>)] reason_code: i128,
    ) -> PyResult<PyClosed> {
        let reason_code = int_value::<ReasonCode>(ReasonCodeArg::NAME, reason_code)?;
        let closed = self.lock().refuse(reason_code)?;
        PyClosed::from_core(py, closed)
    }

    /// Send an AUTH with Continue authentication during an enhanced authentication.
    #[pyo3(signature = (authentication_data=None))]
    fn auth_continue(&self, authentication_data: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let data = optional_data("authentication_data", authentication_data)?;
        Ok(self.lock().auth_continue(data)?)
    }

    /// End a re-authentication with success.
    #[pyo3(signature = (authentication_data=None))]
    fn auth_success(&self, authentication_data: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let data = optional_data("authentication_data", authentication_data)?;
        Ok(self.lock().auth_success(data)?)
    }

    /// Give a received QoS 1 or 2 PUBLISH's acknowledgement another reason than Success.
    fn set_publish_reason(
        &self,
        packet_id: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = int::<ReasonCodeArg>)] reason_code: i128,
    ) -> PyResult<()> {
        let packet_id = int_arg::<PacketId>("packet_id", packet_id)?;
        let reason_code = int_value::<ReasonCode>(ReasonCodeArg::NAME, reason_code)?;
        Ok(self.lock().set_publish_reason(packet_id, reason_code)?)
    }

    /// Answer a SUBSCRIBE with one reason code per subscription of its request.
    ///
    /// Return None, or the Closed event if the answer was larger than the client's
    /// Maximum Packet Size and the connection ended instead.
    fn answer_subscribe(
        &self,
        py: Python<'_>,
        packet_id: &Bound<'_, PyAny>,
        reason_codes: &Bound<'_, PyAny>,
    ) -> PyResult<Option<PyClosed>> {
        let packet_id = int_arg::<PacketId>("packet_id", packet_id)?;
        let codes = self::reason_codes(reason_codes)?;
        let closed = self.lock().answer_subscribe(packet_id, &codes)?;
        closed
            .map(|closed| PyClosed::from_core(py, closed))
            .transpose()
    }

    /// Answer an UNSUBSCRIBE with one reason code per topic filter.
    ///
    /// Return None, or the Closed event if the answer was larger than the client's
    /// Maximum Packet Size and the connection ended instead.
    fn answer_unsubscribe(
        &self,
        py: Python<'_>,
        packet_id: &Bound<'_, PyAny>,
        reason_codes: &Bound<'_, PyAny>,
    ) -> PyResult<Option<PyClosed>> {
        let packet_id = int_arg::<PacketId>("packet_id", packet_id)?;
        let codes = self::reason_codes(reason_codes)?;
        let closed = self.lock().answer_unsubscribe(packet_id, &codes)?;
        closed
            .map(|closed| PyClosed::from_core(py, closed))
            .transpose()
    }

    /// Deliver a routed message through ``subscription`` (a Subscription or a Delivery).
    ///
    /// Return what became of it: "sent", "queued" (waiting for the client's Receive
    /// Maximum), "too_large", "expired", "queue_full" or "closed" (the connection has
    /// ended: queue it for the session). ``retained=True`` marks a retained message sent
    /// because of a new subscription. A ``tag`` (an int, a router's entry number) comes
    /// back in the Delivered or Discarded event that ends the delivery, and in the session.
    #[pyo3(signature = (message, subscription, now, *, retained=false, tag=None))]
    fn deliver(
        &self,
        message: &Bound<'_, PyAny>,
        subscription: &Bound<'_, PyAny>,
        now: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = flag::<Retained>)] retained: bool,
        tag: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<&'static str> {
        let py_message = message
            .cast::<PyMessage>()
            .map_err(|_| wrong_type("message", "Message", message))?;
        let route = route_of(subscription, retained)?;
        let now = now_arg(now)?;
        let tag = present(tag)
            .map(|obj| counter(Tag::NAME, obj))
            .transpose()?;
        let core: &Message = py_message.get().core(message.py())?;
        let outcome = self.lock().deliver_tagged(core, &route, now, tag)?;
        Ok(outcome.as_str())
    }

    /// Return the mark of every acknowledgement owed so far (for release_acknowledgements).
    fn acknowledgement_mark(&self) -> u64 {
        self.lock().acknowledgement_mark()
    }

    /// Let data_to_send() write the acknowledgements held up to ``mark``.
    fn release_acknowledgements(&self, mark: &Bound<'_, PyAny>) -> PyResult<()> {
        let mark = counter("mark", mark)?;
        self.lock().release_acknowledgements(mark);
        Ok(())
    }

    /// End the connection from this side with ``reason_code``; return the Closed event.
    #[pyo3(signature = (reason_code=0))]
    fn disconnect(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = int::<ReasonCodeArg>)] reason_code: i128,
    ) -> PyResult<PyClosed> {
        let reason_code = int_value::<ReasonCode>(ReasonCodeArg::NAME, reason_code)?;
        let closed = self.lock().disconnect(reason_code)?;
        PyClosed::from_core(py, closed)
    }

    /// Where the connection stands: awaiting_connect, connecting, connected or closed.
    #[getter]
    fn phase(&self) -> &'static str {
        self.lock().phase().name()
    }

    /// Whether the connection ended: write the last data_to_send(), then close.
    #[getter]
    fn is_closed(&self) -> bool {
        self.lock().is_closed()
    }

    /// The client's protocol version, once its CONNECT arrived; else None.
    #[getter]
    fn protocol_version<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let version = self.lock().protocol_version();
        version
            .map(|v| crate::python::constants::protocol_version_member(py, v))
            .transpose()
    }

    /// The client identifier in force (the assigned one, if any), once known.
    #[getter]
    fn client_id(&self) -> Option<String> {
        self.lock().client_id().map(str::to_owned)
    }

    /// The user name of the CONNECT, once it arrived; else None.
    #[getter]
    fn username(&self) -> Option<String> {
        self.lock().username().map(str::to_owned)
    }

    /// The Keep Alive in force, in seconds, once the CONNECT arrived.
    #[getter]
    fn keep_alive(&self) -> Option<u16> {
        self.lock().keep_alive()
    }

    /// A copy of the session, once accepted; else None.
    #[getter]
    fn session(&self) -> Option<PySession> {
        self.lock().session().cloned().map(PySession::from)
    }

    /// How many deliveries wait for the client's Receive Maximum.
    #[getter]
    fn queued_count(&self) -> usize {
        self.lock().queued_count()
    }

    /// The limits this connection enforces.
    #[getter]
    fn config(&self) -> PyServerConfig {
        PyServerConfig {
            inner: Arc::new(self.lock().config().clone()),
        }
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let connection = self.lock();
        let phase = connection.phase().name();
        match connection.client_id() {
            Some(id) => format!("<ServerConnection {phase} {}>", event::quoted(py, id)),
            None => format!("<ServerConnection {phase}>"),
        }
    }
}

/// A tag or mark: an `int` from 0 to 2**64-1.
pub(crate) fn counter(field: &'static str, obj: &Bound<'_, PyAny>) -> Result<u64, Error> {
    if obj.is_instance_of::<pyo3::types::PyBool>() {
        return Err(wrong_type(field, "int from 0 to 2**64-1", obj));
    }
    obj.extract::<u64>()
        .map_err(|_| wrong_type(field, "int from 0 to 2**64-1", obj))
}
