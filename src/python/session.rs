//! `Will`, `Session`, the `SessionInterface` base class and `MemorySessionStore`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use super::constants::{packet_type_member, protocol_version_member};
use super::convert::{extract_bool, extract_str, extract_uint, present, wrong_type};
use super::implementation::{PythonObject, expect_bool, wrong_return};
use super::message::PyMessage;
use crate::constants::ProtocolVersion;
use crate::error::{Error, Violation};
use crate::memory_session::MemorySessionStore;
use crate::packet_id::PacketId;
use crate::session::{OutgoingState, Session, SessionInterface, Will};

/// A Will Message and its delay.
#[pyclass(frozen, name = "Will", module = "mqtt_common.src.session")]
pub(crate) struct PyWill {
    message: Py<PyMessage>,
    delay_interval: u32,
}

impl PyWill {
    pub(crate) fn core(&self, py: Python<'_>) -> PyResult<Will> {
        Ok(Will {
            message: self.message.get().core(py)?.clone(),
            delay_interval: self.delay_interval,
        })
    }

    pub(crate) fn from_core(py: Python<'_>, will: Will) -> PyResult<Self> {
        Ok(Self {
            message: Py::new(py, PyMessage::from_core(py, will.message)?)?,
            delay_interval: will.delay_interval,
        })
    }
}

#[pymethods]
impl PyWill {
    #[new]
    #[pyo3(signature = (message, delay_interval=None), text_signature = "(message, delay_interval=0)")]
    fn new(
        message: &Bound<'_, PyAny>,
        delay_interval: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let message = message
            .cast::<PyMessage>()
            .map_err(|_| wrong_type("message", "Message", message))?;
        let delay_interval = match present(delay_interval) {
            Some(obj) => {
                extract_uint("delay_interval", obj, 0, u32::MAX.into(), "§3.1.3.2.2")? as u32
            }
            None => 0,
        };
        Ok(Self {
            message: message.clone().unbind(),
            delay_interval,
        })
    }

    /// The message to publish.
    #[getter]
    fn message(&self, py: Python<'_>) -> Py<PyMessage> {
        self.message.clone_ref(py)
    }

    /// Seconds to wait after the connection ends (MQTT 5.0).
    #[getter]
    fn delay_interval(&self) -> u32 {
        self.delay_interval
    }

    fn __getnewargs__(&self, py: Python<'_>) -> (Py<PyMessage>, u32) {
        (self.message.clone_ref(py), self.delay_interval)
    }

    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        match other.cast::<Self>() {
            Ok(other) => Ok(self.core(py)? == other.get().core(py)?),
            Err(_) => Ok(false),
        }
    }

    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        Ok(self.message.bind(py).hash()? ^ self.delay_interval as isize)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Will(message={}, delay_interval={})",
            self.message.bind(py).repr()?,
            self.delay_interval
        ))
    }
}

fn packet_id(obj: &Bound<'_, PyAny>) -> Result<PacketId, Error> {
    let value = extract_uint("packet_id", obj, 0, u16::MAX.into(), "§2.2.1")?;
    PacketId::new(value as u16).map_err(|v| Error::invalid("packet_id", v))
}

fn protocol_version(obj: Option<&Bound<'_, PyAny>>) -> Result<ProtocolVersion, Error> {
    match present(obj) {
        None => Ok(ProtocolVersion::V311),
        Some(obj) => {
            let value = extract_uint("protocol_version", obj, 0, u8::MAX.into(), "MQTT-3.1.2-2")?;
            ProtocolVersion::try_from(value as u8)
                .map_err(|v| Error::invalid("protocol_version", v))
        }
    }
}

fn expiry_interval(obj: Option<&Bound<'_, PyAny>>) -> Result<u32, Error> {
    match present(obj) {
        None => Ok(0),
        Some(obj) => {
            Ok(extract_uint("expiry_interval", obj, 0, u32::MAX.into(), "§3.1.2.11.2")? as u32)
        }
    }
}

fn seconds(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A POSIX timestamp (`time.time()`), or now.
fn instant(field: &'static str, obj: Option<&Bound<'_, PyAny>>) -> Result<SystemTime, Error> {
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

fn message_core(obj: &Bound<'_, PyAny>) -> Result<crate::message::Message, Error> {
    let message = obj
        .cast::<PyMessage>()
        .map_err(|_| wrong_type("message", "Message", obj))?;
    Ok(message.get().core(obj.py())?.clone())
}

/// A client's session: protocol settings, expiry, and the QoS 1 and 2 flows in flight
/// in both directions.
#[pyclass(name = "Session", module = "mqtt_common.src.session")]
pub(crate) struct PySession {
    pub(crate) inner: Session,
}

#[pymethods]
impl PySession {
    #[new]
    #[pyo3(
        signature = (client_id, protocol_version=None, clean_start=None, expiry_interval=None),
        text_signature = "(client_id, protocol_version=ProtocolVersion.V3_1_1, clean_start=True, expiry_interval=0)"
    )]
    fn new(
        client_id: &Bound<'_, PyAny>,
        protocol_version: Option<&Bound<'_, PyAny>>,
        clean_start: Option<&Bound<'_, PyAny>>,
        expiry_interval: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let client_id = extract_str("client_id", client_id, Violation::InvalidUtf8)?;
        let clean_start = match present(clean_start) {
            Some(obj) => extract_bool("clean_start", obj)?,
            None => true,
        };
        let inner = Session::new(
            client_id,
            self::protocol_version(protocol_version)?,
            clean_start,
            self::expiry_interval(expiry_interval)?,
        )?;
        Ok(Self { inner })
    }

    /// The client identifier.
    #[getter]
    fn client_id(&self) -> &str {
        self.inner.client_id()
    }

    /// The protocol version of the connection that last used the session.
    #[getter]
    fn protocol_version<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        protocol_version_member(py, self.inner.protocol_version())
    }

    /// Clean Start (3.1.1: Clean Session) of the connection that last used the session.
    #[getter]
    fn clean_start(&self) -> bool {
        self.inner.clean_start()
    }

    /// Session Expiry Interval in seconds (0: ends with the connection; 2**32-1: never).
    #[getter]
    fn expiry_interval(&self) -> u32 {
        self.inner.expiry_interval()
    }

    #[setter(expiry_interval)]
    fn set_expiry_interval(&mut self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inner
            .set_expiry_interval(self::expiry_interval(Some(value))?);
        Ok(())
    }

    /// The peer's Receive Maximum.
    #[getter]
    fn receive_maximum(&self) -> u16 {
        self.inner.receive_maximum()
    }

    /// This side's Receive Maximum.
    #[getter]
    fn local_receive_maximum(&self) -> u16 {
        self.inner.local_receive_maximum()
    }

    /// Set both Receive Maximums (1..65535).
    fn set_receive_maximums(
        &mut self,
        peer: &Bound<'_, PyAny>,
        local: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let peer = extract_uint("receive_maximum", peer, 1, u16::MAX.into(), "§3.1.2.11.3")? as u16;
        let local = extract_uint(
            "local_receive_maximum",
            local,
            1,
            u16::MAX.into(),
            "§3.1.2.11.3",
        )? as u16;
        Ok(self.inner.set_receive_maximums(peer, local)?)
    }

    /// When the session was created (POSIX seconds).
    #[getter]
    fn created_at(&self) -> f64 {
        seconds(self.inner.created_at())
    }

    /// When the session last changed (POSIX seconds).
    #[getter]
    fn updated_at(&self) -> f64 {
        seconds(self.inner.updated_at())
    }

    /// When its connection ended (POSIX seconds), or None while connected.
    #[getter]
    fn disconnected_at(&self) -> Option<f64> {
        self.inner.disconnected_at().map(seconds)
    }

    /// When the session expires (POSIX seconds), or None.
    #[getter]
    fn expires_at(&self) -> Option<f64> {
        self.inner.expires_at().map(seconds)
    }

    /// Record that the connection ended at `at` (default: now).
    #[pyo3(signature = (at=None))]
    fn mark_disconnected(&mut self, at: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        self.inner.mark_disconnected(instant("at", at)?);
        Ok(())
    }

    /// Whether the session has expired by `now` (default: now).
    #[pyo3(signature = (now=None))]
    fn is_expired(&self, now: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
        Ok(self.inner.is_expired(instant("now", now)?))
    }

    /// Take the settings of a new connection that resumes this session.
    fn resume(
        &mut self,
        protocol_version: &Bound<'_, PyAny>,
        expiry_interval: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let version = self::protocol_version(Some(protocol_version))?;
        self.inner
            .resume(version, self::expiry_interval(Some(expiry_interval))?);
        Ok(())
    }

    /// A packet identifier for a new outgoing packet: non-zero and not in flight.
    fn next_packet_id(&mut self) -> PyResult<u16> {
        Ok(self.inner.next_packet_id()?.get())
    }

    /// Start the flow of an outgoing PUBLISH; return the message to send (with its id).
    fn send_publish(&mut self, py: Python<'_>, message: &Bound<'_, PyAny>) -> PyResult<PyMessage> {
        let sent = self.inner.send_publish(message_core(message)?)?;
        PyMessage::from_core(py, sent)
    }

    /// PUBACK received: end a QoS 1 flow; return the acknowledged message.
    fn puback_received(
        &mut self,
        py: Python<'_>,
        packet_id: &Bound<'_, PyAny>,
    ) -> PyResult<PyMessage> {
        let message = self.inner.puback_received(self::packet_id(packet_id)?)?;
        PyMessage::from_core(py, message)
    }

    /// PUBREC received: the peer has the QoS 2 message; send PUBREL next.
    fn pubrec_received(&mut self, packet_id: &Bound<'_, PyAny>) -> PyResult<()> {
        Ok(self.inner.pubrec_received(self::packet_id(packet_id)?)?)
    }

    /// PUBCOMP received: end a QoS 2 flow.
    fn pubcomp_received(&mut self, packet_id: &Bound<'_, PyAny>) -> PyResult<()> {
        Ok(self.inner.pubcomp_received(self::packet_id(packet_id)?)?)
    }

    /// A PUBLISH received from the peer; True if it is new and must be delivered.
    fn publish_received(&mut self, message: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.inner.publish_received(&message_core(message)?)?)
    }

    /// PUBREL received: end an incoming QoS 2 flow.
    fn pubrel_received(&mut self, packet_id: &Bound<'_, PyAny>) -> PyResult<()> {
        Ok(self.inner.pubrel_received(self::packet_id(packet_id)?)?)
    }

    /// Outgoing flows in flight: (packet id, the packet awaited, the message or None).
    fn outgoing<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let rows = self
            .inner
            .outgoing()
            .map(|(id, flight)| {
                let awaited = match flight.state {
                    OutgoingState::AwaitingPuback => crate::constants::PacketType::Puback,
                    OutgoingState::AwaitingPubrec => crate::constants::PacketType::Pubrec,
                    _ => crate::constants::PacketType::Pubcomp,
                };
                let message = match &flight.message {
                    Some(m) => Some(Py::new(py, PyMessage::from_core(py, m.clone())?)?),
                    None => None,
                };
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

    /// Incoming QoS 2 packet identifiers waiting for PUBREL.
    fn incoming(&self) -> Vec<u16> {
        self.inner.incoming().map(PacketId::get).collect()
    }

    /// Forget every flow in both directions.
    fn clear_in_flight(&mut self) {
        self.inner.clear_in_flight();
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Self>()
            .is_ok_and(|other| self.inner == other.borrow().inner)
    }

    fn __copy__(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }

    fn __deepcopy__(&self, _memo: &Bound<'_, PyAny>) -> Self {
        self.__copy__()
    }

    fn __repr__(&self) -> String {
        format!(
            "Session(client_id={:?}, protocol_version={}, clean_start={}, expiry_interval={}, outgoing={}, incoming={})",
            self.inner.client_id(),
            self.inner.protocol_version().name(),
            if self.inner.clean_start() {
                "True"
            } else {
                "False"
            },
            self.inner.expiry_interval(),
            self.inner.outgoing_count(),
            self.inner.incoming_count()
        )
    }
}

/// The Rust base of `mqtt_common.src.session.SessionInterface`.
#[pyclass(
    subclass,
    name = "SessionInterface",
    module = "mqtt_common.src.session"
)]
pub(crate) struct PySessionInterface;

#[pymethods]
impl PySessionInterface {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        Self
    }
}

/// Sessions and Wills by client identifier, in memory, with an expiry sweep.
#[pyclass(
    extends = PySessionInterface,
    subclass,
    name = "MemorySessionStore",
    module = "mqtt_common.src.session"
)]
pub(crate) struct PyMemorySessionStore {
    inner: Arc<MemorySessionStore>,
}

fn client<'a>(obj: &'a Bound<'_, PyAny>) -> Result<&'a str, Error> {
    extract_str("client_id", obj, Violation::InvalidUtf8)
}

#[pymethods]
impl PyMemorySessionStore {
    #[new]
    fn new() -> PyClassInitializer<Self> {
        PyClassInitializer::from(PySessionInterface).add_subclass(Self {
            inner: Arc::new(MemorySessionStore::new()),
        })
    }

    /// The session for a CONNECT and whether one was present (resumed).
    #[pyo3(
        signature = (client_id, clean_start, expiry_interval=None, protocol_version=None),
        text_signature = "(client_id, clean_start, expiry_interval=0, protocol_version=ProtocolVersion.V3_1_1)"
    )]
    fn create_session(
        &self,
        client_id: &Bound<'_, PyAny>,
        clean_start: &Bound<'_, PyAny>,
        expiry_interval: Option<&Bound<'_, PyAny>>,
        protocol_version: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(PySession, bool)> {
        let (session, present) = self.inner.create_session(
            client(client_id)?,
            extract_bool("clean_start", clean_start)?,
            self::expiry_interval(expiry_interval)?,
            self::protocol_version(protocol_version)?,
        )?;
        Ok((PySession { inner: session }, present))
    }

    /// The stored session of a client, or None.
    fn get_session(&self, client_id: &Bound<'_, PyAny>) -> PyResult<Option<PySession>> {
        Ok(self
            .inner
            .get_session(client(client_id)?)?
            .map(|inner| PySession { inner }))
    }

    /// Store a session, replacing the client's previous one.
    fn save_session(&self, session: &Bound<'_, PyAny>) -> PyResult<()> {
        let session = session
            .cast::<PySession>()
            .map_err(|_| wrong_type("session", "Session", session))?;
        Ok(self.inner.save_session(&session.borrow().inner)?)
    }

    /// Delete a client's session and Will; whether there was a session.
    fn delete_session(&self, client_id: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.inner.delete_session(client(client_id)?)?)
    }

    /// Set the client's Will.
    fn set_will(
        &self,
        py: Python<'_>,
        client_id: &Bound<'_, PyAny>,
        will: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let will = will
            .cast::<PyWill>()
            .map_err(|_| wrong_type("will", "Will", will))?;
        Ok(self
            .inner
            .set_will(client(client_id)?, will.get().core(py)?)?)
    }

    /// The client's Will, or None.
    fn get_will(&self, py: Python<'_>, client_id: &Bound<'_, PyAny>) -> PyResult<Option<PyWill>> {
        self.inner
            .get_will(client(client_id)?)?
            .map(|will| PyWill::from_core(py, will))
            .transpose()
    }

    /// Remove the client's Will (a normal DISCONNECT); return it, or None.
    fn clear_will(&self, py: Python<'_>, client_id: &Bound<'_, PyAny>) -> PyResult<Option<PyWill>> {
        self.inner
            .clear_will(client(client_id)?)?
            .map(|will| PyWill::from_core(py, will))
            .transpose()
    }

    /// Remove the sessions expired by `now` (default: now); return their client ids.
    #[pyo3(signature = (now=None))]
    fn expire_sessions(&self, now: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<String>> {
        Ok(self.inner.expire_sessions(instant("now", now)?)?)
    }

    /// Remove and return the Wills due by `now` (default: now), as (client id, Will).
    #[pyo3(signature = (now=None))]
    fn take_due_wills(
        &self,
        py: Python<'_>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<(String, PyWill)>> {
        self.inner
            .take_due_wills(instant("now", now)?)?
            .into_iter()
            .map(|(client, will)| Ok((client, PyWill::from_core(py, will)?)))
            .collect()
    }

    fn __len__(&self) -> PyResult<usize> {
        Ok(self.inner.len()?)
    }
}

/// A Python `SessionInterface` seen from Rust: each trait method calls the Python method.
///
/// Python exceptions come back unchanged (as [`Error::Callback`]); an `async def` method
/// or a wrong return type is a `TypeError` that names the method.
#[derive(Debug)]
pub struct PythonSessionStore {
    implementation: PythonObject,
}

/// The Rust session store behind a Python object: a `MemorySessionStore` is used
/// directly, any other `SessionInterface` subclass through [`PythonSessionStore`].
///
/// # Errors
/// `TypeError` for an object whose class does not derive from `SessionInterface`.
pub fn session_store_from_python(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn SessionInterface>> {
    if let Ok(memory) = obj.cast::<PyMemorySessionStore>() {
        return Ok(Arc::clone(&memory.borrow().inner) as Arc<dyn SessionInterface>);
    }
    Ok(Arc::new(PythonSessionStore {
        implementation: PythonObject::new::<PySessionInterface>(obj, "SessionInterface")?,
    }))
}

fn expect_session(result: &Bound<'_, PyAny>, method: &str) -> Result<Session, Error> {
    result
        .cast::<PySession>()
        .map(|s| s.borrow().inner.clone())
        .map_err(|_| wrong_return(result, method, "Session"))
}

fn expect_optional_will(result: &Bound<'_, PyAny>, method: &str) -> Result<Option<Will>, Error> {
    if result.is_none() {
        return Ok(None);
    }
    let will = result
        .cast::<PyWill>()
        .map_err(|_| wrong_return(result, method, "Will | None"))?;
    Ok(Some(will.get().core(result.py())?))
}

impl SessionInterface for PythonSessionStore {
    fn create_session(
        &self,
        client_id: &str,
        clean_start: bool,
        expiry_interval: u32,
        protocol_version: ProtocolVersion,
    ) -> Result<(Session, bool), Error> {
        Python::attach(|py| {
            let version = protocol_version_member(py, protocol_version)?;
            let args = (client_id, clean_start, expiry_interval, version);
            let result = self.implementation.call(py, "create_session", args)?;
            let (session, present) = result
                .extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()
                .map_err(|_| wrong_return(&result, "create_session", "tuple[Session, bool]"))?;
            let present = expect_bool(&present, "create_session")?;
            Ok((expect_session(&session, "create_session")?, present))
        })
    }

    fn get_session(&self, client_id: &str) -> Result<Option<Session>, Error> {
        Python::attach(|py| {
            let result = self.implementation.call(py, "get_session", (client_id,))?;
            if result.is_none() {
                return Ok(None);
            }
            expect_session(&result, "get_session").map(Some)
        })
    }

    fn save_session(&self, session: &Session) -> Result<(), Error> {
        Python::attach(|py| {
            let session = Py::new(
                py,
                PySession {
                    inner: session.clone(),
                },
            )?;
            self.implementation.call(py, "save_session", (session,))?;
            Ok(())
        })
    }

    fn delete_session(&self, client_id: &str) -> Result<bool, Error> {
        Python::attach(|py| {
            expect_bool(
                &self
                    .implementation
                    .call(py, "delete_session", (client_id,))?,
                "delete_session",
            )
        })
    }

    fn set_will(&self, client_id: &str, will: Will) -> Result<(), Error> {
        Python::attach(|py| {
            let will = Py::new(py, PyWill::from_core(py, will)?)?;
            self.implementation
                .call(py, "set_will", (client_id, will))?;
            Ok(())
        })
    }

    fn get_will(&self, client_id: &str) -> Result<Option<Will>, Error> {
        Python::attach(|py| {
            expect_optional_will(
                &self.implementation.call(py, "get_will", (client_id,))?,
                "get_will",
            )
        })
    }

    fn clear_will(&self, client_id: &str) -> Result<Option<Will>, Error> {
        Python::attach(|py| {
            expect_optional_will(
                &self.implementation.call(py, "clear_will", (client_id,))?,
                "clear_will",
            )
        })
    }
}
