//! `Session` for Python: a client's session state, safe to share between threads.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};

use crate::constants::{PacketType, ProtocolVersion};
use crate::error::Error;
use crate::packet_id::PacketId;
use crate::python::auth::PyAuthCredentials;
use crate::python::constants::{packet_type_member, protocol_version_member};
use crate::python::convert::{
    CleanStart, ExpiryInterval, ProtocolVersionArg, client_id, flag, int, int_arg, int_value,
    present, wrong_type,
};
use crate::python::message::PyMessage;
use crate::session::{OutgoingState, Session};

/// POSIX seconds.
pub(crate) fn seconds(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A POSIX timestamp (`time.time()`), or now.
pub(crate) fn instant(
    field: &'static str,
    obj: Option<&Bound<'_, PyAny>>,
) -> Result<SystemTime, Error> {
    let Some(obj) = present(obj) else {
        return Ok(SystemTime::now());
    };
    let value: f64 = obj
        .extract()
        .map_err(|_| wrong_type(field, "float (a POSIX timestamp)", obj))?;
    Duration::try_from_secs_f64(value)
        .map(|d| UNIX_EPOCH + d)
        .map_err(|_| wrong_type(field, "a non-negative POSIX timestamp", obj))
}

/// A client's session: settings, expiry, and the QoS 1 and 2 flows in flight both ways.
///
/// Threads may share one: a reader acknowledging while a writer sends is the normal
/// broker layout. Each method takes the session's lock only around the core call; Python
/// objects are converted before and after, so holding the lock never needs the GIL.
#[pyclass(frozen, name = "Session", module = "mqtt_common.src.session")]
pub(crate) struct PySession {
    inner: Mutex<Session>,
}

impl From<Session> for PySession {
    fn from(session: Session) -> Self {
        Self {
            inner: Mutex::new(session),
        }
    }
}

impl PySession {
    /// The session's lock. Every core call either completes or changes nothing, so a
    /// panic in another thread (there is none to expect) leaves a consistent session.
    fn lock(&self) -> MutexGuard<'_, Session> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of the core session.
    pub(crate) fn snapshot(&self) -> Session {
        self.lock().clone()
    }

    /// The core session of a Python argument that must be a `Session`.
    pub(crate) fn core_of(field: &'static str, obj: &Bound<'_, PyAny>) -> Result<Session, Error> {
        let session = obj
            .cast::<Self>()
            .map_err(|_| wrong_type(field, "Session", obj))?;
        Ok(session.get().snapshot())
    }
}

#[pymethods]
impl PySession {
    #[new]
    #[pyo3(signature = (client_id, protocol_version=4, clean_start=true, expiry_interval=0))]
    fn new(
        client_id: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = int::<ProtocolVersionArg>)] protocol_version: i128,
        #[pyo3(from_py_with = flag::<CleanStart>)] clean_start: bool,
        #[pyo3(from_py_with = int::<ExpiryInterval>)] expiry_interval: i128,
    ) -> PyResult<Self> {
        let session = Session::new(
            self::client_id(client_id)?,
            int_value::<ProtocolVersion>("protocol_version", protocol_version)?,
            clean_start,
            int_value("expiry_interval", expiry_interval)?,
        )?;
        Ok(Self::from(session))
    }

    /// The client identifier.
    #[getter]
    fn client_id(&self) -> String {
        self.lock().client_id().to_owned()
    }

    /// The protocol version of the connection that last used the session.
    #[getter]
    fn protocol_version<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let version = self.lock().protocol_version();
        protocol_version_member(py, version)
    }

    /// Clean Start (3.1.1: Clean Session) of the connection that last used the session.
    #[getter]
    fn clean_start(&self) -> bool {
        self.lock().clean_start()
    }

    /// Session Expiry Interval in seconds (0: ends with the connection; 2**32-1: never).
    #[getter]
    fn expiry_interval(&self) -> u32 {
        self.lock().expiry_interval()
    }

    #[setter(expiry_interval)]
    fn set_expiry_interval(&self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let value = int_arg("expiry_interval", value)?;
        self.lock().set_expiry_interval(value);
        Ok(())
    }

    /// The peer's Receive Maximum.
    #[getter]
    fn receive_maximum(&self) -> u16 {
        self.lock().receive_maximum()
    }

    /// The Receive Maximum of this side (how many QoS 2 flows the peer may open).
    #[getter]
    fn local_receive_maximum(&self) -> u16 {
        self.lock().local_receive_maximum()
    }

    /// Set both Receive Maximums (neither may be 0).
    fn set_receive_maximums(
        &self,
        peer: &Bound<'_, PyAny>,
        local: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let peer = int_arg("receive_maximum", peer)?;
        let local = int_arg("local_receive_maximum", local)?;
        Ok(self.lock().set_receive_maximums(peer, local)?)
    }

    /// When the session was created (POSIX seconds).
    #[getter]
    fn created_at(&self) -> f64 {
        seconds(self.lock().created_at())
    }

    /// When the session last changed (POSIX seconds).
    #[getter]
    fn updated_at(&self) -> f64 {
        seconds(self.lock().updated_at())
    }

    /// When its connection ended (POSIX seconds), or None while connected.
    #[getter]
    fn disconnected_at(&self) -> Option<f64> {
        self.lock().disconnected_at().map(seconds)
    }

    /// When the session expires (POSIX seconds), or None.
    #[getter]
    fn expires_at(&self) -> Option<f64> {
        self.lock().expires_at().map(seconds)
    }

    /// Record who the session belongs to: these credentials' user name and certificate.
    ///
    /// The password and peer address are not kept.
    fn set_owner(&self, credentials: &Bound<'_, PyAny>) -> PyResult<()> {
        let credentials = credentials
            .cast::<PyAuthCredentials>()
            .map_err(|_| wrong_type("credentials", "AuthCredentials", credentials))?;
        self.lock().set_owner(&credentials.get().inner);
        Ok(())
    }

    /// The credentials to decide by while the client is away.
    ///
    /// The client identifier, with the owner's user name and certificate (no password).
    #[getter]
    fn owner(&self) -> PyAuthCredentials {
        PyAuthCredentials {
            inner: self.lock().owner(),
        }
    }

    /// Record that the connection ended at `at` (default: now).
    #[pyo3(signature = (at=None))]
    fn mark_disconnected(&self, at: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let at = instant("at", at)?;
        self.lock().mark_disconnected(at);
        Ok(())
    }

    /// Return whether the session has expired by `now` (default: now).
    #[pyo3(signature = (now=None))]
    fn is_expired(&self, now: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
        let now = instant("now", now)?;
        Ok(self.lock().is_expired(now))
    }

    /// Take the settings of a new connection that resumes this session.
    fn resume(
        &self,
        protocol_version: &Bound<'_, PyAny>,
        expiry_interval: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let version = int_arg::<ProtocolVersion>("protocol_version", protocol_version)?;
        let expiry = int_arg("expiry_interval", expiry_interval)?;
        self.lock().resume(version, expiry);
        Ok(())
    }

    /// Return a packet identifier for a new outgoing packet: non-zero and not in flight.
    fn next_packet_id(&self) -> PyResult<u16> {
        Ok(self.lock().next_packet_id()?.get())
    }

    /// Start the flow of an outgoing PUBLISH; return the message to send (with its id).
    fn send_publish(&self, py: Python<'_>, message: &Bound<'_, PyAny>) -> PyResult<PyMessage> {
        let message = PyMessage::core_of("message", message)?;
        let sent = self.lock().send_publish(message)?;
        Ok(PyMessage::from_core(py, sent))
    }

    /// PUBACK received: end a QoS 1 flow; return the acknowledged message.
    fn puback_received(&self, py: Python<'_>, packet_id: &Bound<'_, PyAny>) -> PyResult<PyMessage> {
        let id = int_arg::<PacketId>("packet_id", packet_id)?;
        let message = self.lock().puback_received(id)?;
        Ok(PyMessage::from_core(py, message))
    }

    /// PUBREC received: the peer has the QoS 2 message; send PUBREL next.
    fn pubrec_received(&self, packet_id: &Bound<'_, PyAny>) -> PyResult<()> {
        let id = int_arg::<PacketId>("packet_id", packet_id)?;
        Ok(self.lock().pubrec_received(id)?)
    }

    /// PUBREC with a failure reason received (MQTT 5.0): end the QoS 2 flow, no PUBREL.
    fn pubrec_failure_received(&self, packet_id: &Bound<'_, PyAny>) -> PyResult<()> {
        let id = int_arg::<PacketId>("packet_id", packet_id)?;
        Ok(self.lock().pubrec_failure_received(id)?)
    }

    /// PUBCOMP received: end a QoS 2 flow.
    fn pubcomp_received(&self, packet_id: &Bound<'_, PyAny>) -> PyResult<()> {
        let id = int_arg::<PacketId>("packet_id", packet_id)?;
        Ok(self.lock().pubcomp_received(id)?)
    }

    /// Record a PUBLISH received from the peer; True if it is new and must be delivered.
    fn publish_received(&self, message: &Bound<'_, PyAny>) -> PyResult<bool> {
        let message = PyMessage::core_of("message", message)?;
        Ok(self.lock().publish_received(&message)?)
    }

    /// PUBREL received: end an incoming QoS 2 flow.
    fn pubrel_received(&self, packet_id: &Bound<'_, PyAny>) -> PyResult<()> {
        let id = int_arg::<PacketId>("packet_id", packet_id)?;
        Ok(self.lock().pubrel_received(id)?)
    }

    /// Return the outgoing flows in flight: (packet id, packet awaited, message or None).
    fn outgoing<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let flights: Vec<_> = self
            .lock()
            .outgoing()
            .map(|(id, flight)| (id, flight.state, flight.message.clone()))
            .collect();
        let rows = flights
            .into_iter()
            .map(|(id, state, message)| {
                let awaited = match state {
                    OutgoingState::AwaitingPuback => PacketType::Puback,
                    OutgoingState::AwaitingPubrec => PacketType::Pubrec,
                    _ => PacketType::Pubcomp,
                };
                let message = message
                    .map(|m| Py::new(py, PyMessage::from_core(py, m)))
                    .transpose()?;
                PyTuple::new(
                    py,
                    [
                        id.get().into_pyobject(py)?.into_any(),
                        packet_type_member(py, awaited)?,
                        message.into_pyobject(py)?.into_any(),
                    ],
                )
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, rows)
    }

    /// Return the incoming QoS 2 packet identifiers waiting for PUBREL.
    fn incoming(&self) -> Vec<u16> {
        self.lock().incoming().map(PacketId::get).collect()
    }

    /// How many outgoing messages are in flight.
    #[getter]
    fn outgoing_count(&self) -> usize {
        self.lock().outgoing_count()
    }

    /// How many incoming QoS 2 messages wait for PUBREL.
    #[getter]
    fn incoming_count(&self) -> usize {
        self.lock().incoming_count()
    }

    /// Forget every flow in both directions.
    fn clear_in_flight(&self) {
        self.lock().clear_in_flight();
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        // One lock at a time: `session == session` must not wait for itself.
        let mine = self.snapshot();
        other
            .cast::<Self>()
            .is_ok_and(|other| mine == *other.get().lock())
    }

    fn __copy__(&self) -> Self {
        Self::from(self.snapshot())
    }

    fn __deepcopy__(&self, _memo: &Bound<'_, PyAny>) -> Self {
        self.__copy__()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let session = self.snapshot();
        Ok(format!(
            "<Session of {}, MQTT {}, expiry {} s, {} outgoing and {} incoming in flight>",
            PyString::new(py, session.client_id()).repr()?,
            session.protocol_version().as_str(),
            session.expiry_interval(),
            session.outgoing_count(),
            session.incoming_count()
        ))
    }
}
