//! The events of a `ServerConnection`, for Python: one class per kind; a published
//! message arrives as the `Message` itself.

use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

use crate::protocol::{
    AuthStep, Closed, ConnectRequest, Delivered, Event, Initiator, SubscribeRequest,
    UnsubscribeRequest,
};
use crate::python::auth::PyAuthCredentials;
use crate::python::constants::{protocol_version_member, reason_code_member};
use crate::python::message::{PyMessage, PyWill};
use crate::python::packet::PyConnect;
use crate::python::session::PySession;
use crate::python::topic::PySubscription;
use crate::string::MqttString;

/// User Properties as a list of `(name, value)` pairs.
fn pairs<'py>(py: Python<'py>, pairs: &[(MqttString, MqttString)]) -> PyResult<Bound<'py, PyList>> {
    PyList::new(
        py,
        pairs
            .iter()
            .map(|(k, v)| PyTuple::new(py, [k.as_str(), v.as_str()]))
            .collect::<PyResult<Vec<_>>>()?,
    )
}

/// A string as Python writes it in a repr.
pub(crate) fn quoted(py: Python<'_>, text: &str) -> String {
    PyString::new(py, text)
        .repr()
        .map_or_else(|_| format!("{text:?}"), |r| r.to_string())
}

fn optional_bytes<'py>(py: Python<'py>, data: Option<&[u8]>) -> Option<Bound<'py, PyBytes>> {
    data.map(|data| PyBytes::new(py, data))
}

/// The event as its Python object.
pub(crate) fn event_to_py(py: Python<'_>, event: Event) -> PyResult<Bound<'_, PyAny>> {
    match event {
        Event::Message(message) => {
            Bound::new(py, PyMessage::from_core(py, message))?.into_bound_py_any(py)
        }
        Event::Connect(inner) => {
            Bound::new(py, PyConnectRequest { inner: *inner })?.into_bound_py_any(py)
        }
        Event::Auth(inner) => Bound::new(py, PyAuthStep { inner })?.into_bound_py_any(py),
        Event::Subscribe(inner) => {
            Bound::new(py, PySubscribeRequest { inner })?.into_bound_py_any(py)
        }
        Event::Unsubscribe(inner) => {
            Bound::new(py, PyUnsubscribeRequest { inner })?.into_bound_py_any(py)
        }
        Event::Delivered(delivered) => {
            Bound::new(py, PyDelivered::from_core(py, delivered)?)?.into_bound_py_any(py)
        }
        Event::Closed(closed) => {
            Bound::new(py, PyClosed::from_core(py, *closed)?)?.into_bound_py_any(py)
        }
        Event::Discarded(discarded) => {
            Bound::new(py, PyDiscarded { tag: discarded.tag })?.into_bound_py_any(py)
        }
        // `Event` is non-exhaustive for Rust users; every kind is handled above.
        #[allow(unreachable_patterns)]
        _ => Ok(py.None().into_bound(py)),
    }
}

/// A client asks to connect: answer with `accept`, `refuse` or `auth_continue`.
#[pyclass(frozen, name = "ConnectRequest", module = "mqtt_common.protocol")]
pub(crate) struct PyConnectRequest {
    pub(crate) inner: ConnectRequest,
}

#[pymethods]
impl PyConnectRequest {
    /// The client identifier asked for ("" when the server is to assign one).
    #[getter]
    fn client_id(&self) -> &str {
        self.inner.client_id()
    }

    /// The protocol version the client speaks.
    #[getter]
    fn protocol_version<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        protocol_version_member(py, self.inner.protocol_version())
    }

    /// Clean Start (3.1.1: Clean Session): the client wants no previous session.
    #[getter]
    fn clean_start(&self) -> bool {
        self.inner.clean_start()
    }

    /// The Keep Alive the client asked for, in seconds.
    #[getter]
    fn keep_alive(&self) -> u16 {
        self.inner.connect.keep_alive
    }

    /// The user name, or None.
    #[getter]
    fn username(&self) -> Option<&str> {
        self.inner.credentials.username()
    }

    /// The password (binary), or None.
    #[getter]
    fn password<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        optional_bytes(py, self.inner.credentials.password().map(|p| &p[..]))
    }

    /// The Will, or None.
    #[getter]
    fn will(&self, py: Python<'_>) -> PyResult<Option<PyWill>> {
        self.inner
            .will()
            .map(|will| PyWill::from_core(py, will.clone()))
            .transpose()
    }

    /// The credentials for an AuthInterface; replace() adds peer and certificate.
    #[getter]
    fn credentials(&self) -> PyAuthCredentials {
        PyAuthCredentials {
            inner: self.inner.credentials.clone(),
        }
    }

    /// Whether the client left its identifier empty: ``accept`` must assign one.
    #[getter]
    fn needs_client_id(&self) -> bool {
        self.inner.needs_client_id
    }

    /// The Session Expiry Interval asked for, in seconds.
    ///
    /// For 3.x it is 0 with Clean Session and 4294967295 (never) without.
    #[getter]
    fn session_expiry_interval(&self) -> u32 {
        self.inner.session_expiry_interval
    }

    /// The Authentication Method of an enhanced authentication, or None.
    #[getter]
    fn authentication_method(&self) -> Option<&str> {
        self.inner.authentication_method.as_deref()
    }

    /// The Authentication Data sent with it, or None.
    #[getter]
    fn authentication_data<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        optional_bytes(py, self.inner.authentication_data.as_deref())
    }

    /// The CONNECT packet as it arrived.
    #[getter]
    fn connect(&self) -> PyConnect {
        PyConnect::from(self.inner.connect.clone())
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "ConnectRequest(client_id={}, protocol_version=ProtocolVersion.{})",
            quoted(py, self.inner.client_id()),
            self.inner.protocol_version().name()
        )
    }
}

/// An AUTH from the client: a step of an enhanced authentication (MQTT 5.0).
#[pyclass(frozen, name = "AuthStep", module = "mqtt_common.protocol")]
pub(crate) struct PyAuthStep {
    inner: AuthStep,
}

#[pymethods]
impl PyAuthStep {
    /// Continue authentication (0x18) or Re-authenticate (0x19).
    #[getter]
    fn reason_code<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        reason_code_member(py, self.inner.reason_code)
    }

    /// The Authentication Method.
    #[getter]
    fn authentication_method(&self) -> Option<&str> {
        self.inner.authentication_method.as_deref()
    }

    /// The Authentication Data, or None.
    #[getter]
    fn authentication_data<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        optional_bytes(py, self.inner.authentication_data.as_deref())
    }

    fn __repr__(&self) -> String {
        format!(
            "AuthStep(reason_code=ReasonCode.{})",
            self.inner.reason_code.name()
        )
    }
}

/// A SUBSCRIBE: answer with ``answer_subscribe``, one reason code per subscription.
#[pyclass(frozen, name = "SubscribeRequest", module = "mqtt_common.protocol")]
pub(crate) struct PySubscribeRequest {
    inner: SubscribeRequest,
}

#[pymethods]
impl PySubscribeRequest {
    /// The packet identifier to answer.
    #[getter]
    fn packet_id(&self) -> u16 {
        self.inner.packet_id.get()
    }

    /// The subscriptions, in the packet's order.
    #[getter]
    fn subscriptions(&self) -> Vec<PySubscription> {
        self.inner
            .subscriptions
            .iter()
            .map(|s| PySubscription { inner: s.clone() })
            .collect()
    }

    /// The packet's User Properties.
    #[getter]
    fn user_properties<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        pairs(py, &self.inner.user_properties)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let filters: Vec<String> = self
            .inner
            .subscriptions
            .iter()
            .map(|s| quoted(py, s.topic_filter().as_str()))
            .collect();
        format!(
            "SubscribeRequest(packet_id={}, topic_filters=[{}])",
            self.inner.packet_id,
            filters.join(", ")
        )
    }
}

/// An UNSUBSCRIBE: answer with ``answer_unsubscribe``, one reason code per filter.
#[pyclass(frozen, name = "UnsubscribeRequest", module = "mqtt_common.protocol")]
pub(crate) struct PyUnsubscribeRequest {
    inner: UnsubscribeRequest,
}

#[pymethods]
impl PyUnsubscribeRequest {
    /// The packet identifier to answer.
    #[getter]
    fn packet_id(&self) -> u16 {
        self.inner.packet_id.get()
    }

    /// The topic filters, in the packet's order.
    #[getter]
    fn topic_filters(&self) -> Vec<&str> {
        self.inner
            .topic_filters
            .iter()
            .map(|f| f.as_str())
            .collect()
    }

    /// The packet's User Properties.
    #[getter]
    fn user_properties<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        pairs(py, &self.inner.user_properties)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let filters: Vec<String> = self.topic_filters().iter().map(|f| quoted(py, f)).collect();
        format!(
            "UnsubscribeRequest(packet_id={}, topic_filters=[{}])",
            self.inner.packet_id,
            filters.join(", ")
        )
    }
}

/// The client has a message this connection delivered: its QoS 1 or 2 flow ended.
#[pyclass(frozen, name = "Delivered", module = "mqtt_common.protocol")]
pub(crate) struct PyDelivered {
    /// The packet identifier, now free again.
    #[pyo3(get)]
    packet_id: u16,
    /// The message of a QoS 1 flow; None for QoS 2, which forgets it at PUBREC.
    #[pyo3(get)]
    message: Option<Py<PyMessage>>,
    /// The tag given with the delivery (``deliver(..., tag=...)``), or None.
    #[pyo3(get)]
    tag: Option<u64>,
}

impl PyDelivered {
    fn from_core(py: Python<'_>, delivered: Delivered) -> PyResult<Self> {
        Ok(Self {
            packet_id: delivered.packet_id.get(),
            message: delivered
                .message
                .map(|m| Py::new(py, PyMessage::from_core(py, m)))
                .transpose()?,
            tag: delivered.tag,
        })
    }
}

/// A tagged delivery ended without reaching the client.
///
/// It expired or grew too large while it waited for the client's Receive Maximum, or a
/// 5.0 client refused it (PUBREC with a failure code).
#[pyclass(frozen, name = "Discarded", module = "mqtt_common.protocol")]
pub(crate) struct PyDiscarded {
    /// The tag given with the delivery.
    #[pyo3(get)]
    tag: u64,
}

#[pymethods]
impl PyDiscarded {
    fn __repr__(&self) -> String {
        format!("Discarded(tag={})", self.tag)
    }
}

#[pymethods]
impl PyDelivered {
    fn __repr__(&self) -> String {
        format!("Delivered(packet_id={})", self.packet_id)
    }
}

/// How a connection ended, and what the broker still has to do about it.
#[pyclass(frozen, name = "Closed", module = "mqtt_common.protocol")]
pub(crate) struct PyClosed {
    /// Who ended it: "client", "server" or "network".
    #[pyo3(get)]
    initiator: &'static str,
    reason_code: crate::constants::ReasonCode,
    /// The broken rule (an MQTTError), when a protocol error or a timeout ended it.
    #[pyo3(get)]
    error: Option<Py<PyAny>>,
    /// The Will to publish after ``will_delay`` seconds, or None.
    #[pyo3(get)]
    will: Option<Py<PyWill>>,
    /// Seconds to wait before publishing the Will: its delay, or the session's expiry.
    #[pyo3(get)]
    will_delay: u32,
    /// The Session Expiry Interval in force at the end.
    #[pyo3(get)]
    session_expiry_interval: u32,
    /// The session as the connection left it, to save; None if never accepted.
    #[pyo3(get)]
    session: Option<Py<PySession>>,
    /// Deliveries that waited for the client's Receive Maximum and were never sent.
    #[pyo3(get)]
    undelivered: Py<PyList>,
    /// The event itself, for the router.
    pub(crate) core: Closed,
}

impl PyClosed {
    pub(crate) fn from_core(py: Python<'_>, closed: Closed) -> PyResult<Self> {
        let core = closed.clone();
        let initiator = match closed.initiator {
            Initiator::Client => "client",
            Initiator::Server => "server",
            _ => "network",
        };
        let undelivered = closed
            .undelivered
            .into_iter()
            .map(|u| Py::new(py, PyMessage::from_core(py, u.message)))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(Self {
            initiator,
            reason_code: closed.reason_code,
            error: closed
                .error
                .map(|err| PyErr::from(err).into_value(py).into_any()),
            will: closed
                .will
                .map(|will| Py::new(py, PyWill::from_core(py, will)?))
                .transpose()?,
            will_delay: closed.will_delay,
            session_expiry_interval: closed.session_expiry_interval,
            session: closed
                .session
                .map(|session| Py::new(py, PySession::from(session)))
                .transpose()?,
            undelivered: PyList::new(py, undelivered)?.unbind(),
            core,
        })
    }
}

#[pymethods]
impl PyClosed {
    /// Why: the client's or this side's DISCONNECT reason (lost: UNSPECIFIED_ERROR).
    #[getter]
    fn reason_code<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        reason_code_member(py, self.reason_code)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Closed(initiator={}, reason_code=ReasonCode.{})",
            quoted(py, self.initiator),
            self.reason_code.name()
        )
    }
}
