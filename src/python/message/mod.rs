//! `Message` for Python (`mqtt_common.models.message`), with `PublishProperties` and
//! `Will` beside it, as in the core.

mod publish_properties;
mod will;

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicIsize, Ordering};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple};

pub(crate) use publish_properties::PyPublishProperties;
pub(crate) use will::PyWill;

use super::constants::qos_member;
use super::convert::{
    Dup, Field, Fields, Qos, Retain, extract_bytes, extract_topic, flag, int, int_arg, int_value,
    present, repr, shared_bytes, wrong_type,
};
use crate::constants::QoS;
use crate::error::{Error, TopicKind};
use crate::message::{DEBUG_PAYLOAD_PREFIX, Header, Message, MessageRef};
use crate::packet_id::PacketId;
use crate::topic::{TopicName, validate_topic_name};

/// An MQTT application message: immutable and validated at construction.
///
/// A bad value of any type raises ValidationError, naming the field and the rule. The
/// payload may be ``bytes`` (kept without a copy), ``bytearray``, ``memoryview`` or
/// ``str`` (UTF-8); None means an empty payload.
#[pyclass(
    frozen,
    freelist = 64,
    name = "Message",
    module = "mqtt_common.models.message"
)]
pub(crate) struct PyMessage {
    // The caller's objects, already validated, handed back by the getters without a copy;
    // every other field is the core's own `Header`.
    topic: Py<PyString>,
    payload: Py<PyBytes>,
    header: Header,
    // The core message, built on first use: constructing one from Python then costs no
    // allocation beyond the Python object itself.
    core: PyOnceLock<Message>,
    // 0 until first asked (a computed 0 is kept as 1). An atomic rather than a
    // `PyOnceLock` keeps the object small: construction is the hot path, and every
    // byte of `Self` is moved on the way into the Python object.
    hash: AtomicIsize,
}

impl PyMessage {
    /// A Python message from the constructor's arguments, validated; `id_field` names
    /// the packet identifier as the caller knows it (`message_id`, or `packet_id` for a
    /// `Publish`).
    #[allow(clippy::too_many_arguments)]
    // Inlined, the message is built in place rather than moved through the stack twice:
    // Message(topic, payload) measured about 7% faster.
    #[inline(always)]
    pub(crate) fn build(
        topic: &Bound<'_, PyAny>,
        payload: Option<&Bound<'_, PyAny>>,
        qos: i128,
        retain: bool,
        id_field: &'static str,
        message_id: Option<&Bound<'_, PyAny>>,
        dup: bool,
        properties: Option<&Bound<'_, PyAny>>,
    ) -> Result<Self, Error> {
        let topic = topic
            .cast::<PyString>()
            .map_err(|_| wrong_type("topic", "str", topic))?;
        validate_topic_name(extract_topic("topic", TopicKind::Name, topic)?)
            .map_err(|e| e.in_field("topic"))?;
        let payload = match present(payload) {
            Some(obj) => extract_bytes("payload", obj)?,
            None => PyBytes::new(topic.py(), b""),
        };
        let mut header = Header {
            qos: int_value::<QoS>(Qos::NAME, qos)?,
            retain,
            dup,
            message_id: present(message_id)
                .map(|obj| int_arg::<PacketId>(id_field, obj))
                .transpose()?,
            properties: None,
        };
        if let Some(obj) = present(properties) {
            header.set_properties(PyPublishProperties::coerce(obj)?);
        }
        header.check_naming(payload.as_bytes().len(), id_field)?;
        Ok(Self {
            topic: topic.clone().unbind(),
            payload: payload.unbind(),
            header,
            core: PyOnceLock::new(),
            hash: AtomicIsize::new(0),
        })
    }

    /// A Python message for a core one (the payload is copied into a `bytes` once).
    pub(crate) fn from_core(py: Python<'_>, message: Message) -> Self {
        let this = Self {
            topic: PyString::new(py, message.topic().as_str()).unbind(),
            payload: PyBytes::new(py, message.payload()).unbind(),
            header: message.header().clone(),
            core: PyOnceLock::new(),
            hash: AtomicIsize::new(0),
        };
        // A fresh cell cannot be full: nothing else has seen it.
        let _ = this.core.set(py, message);
        this
    }

    /// The same message, sharing its objects.
    pub(crate) fn clone_ref(&self, py: Python<'_>) -> Self {
        Self {
            topic: self.topic.clone_ref(py),
            payload: self.payload.clone_ref(py),
            header: self.header.clone(),
            core: PyOnceLock::new(),
            hash: AtomicIsize::new(0),
        }
    }

    /// The message, borrowed: the topic's UTF-8 is the `str`'s own and the payload the
    /// `bytes` object's.
    pub(crate) fn as_ref<'a>(&'a self, py: Python<'a>) -> PyResult<MessageRef<'a>> {
        Ok(MessageRef {
            topic: self.topic.bind(py).to_str()?,
            payload: self.payload.bind(py).as_bytes(),
            header: &self.header,
        })
    }

    /// The header fields.
    pub(crate) fn header(&self) -> &Header {
        &self.header
    }

    /// The topic object.
    pub(crate) fn topic_object<'py>(&self, py: Python<'py>) -> &Bound<'py, PyString> {
        self.topic.bind(py)
    }

    /// The payload object.
    pub(crate) fn payload_object<'py>(&self, py: Python<'py>) -> &Bound<'py, PyBytes> {
        self.payload.bind(py)
    }

    /// The core message, built from the validated fields on first use.
    pub(crate) fn core(&self, py: Python<'_>) -> PyResult<&Message> {
        self.core.get_or_try_init(py, || {
            let topic = TopicName::new(self.topic.bind(py).to_str()?)?;
            let payload = shared_bytes(self.payload.bind(py));
            Ok(Message::from_parts(topic, payload, self.header.clone())?)
        })
    }

    /// The core message of a Python argument that must be a `Message`.
    pub(crate) fn core_of(field: &'static str, obj: &Bound<'_, PyAny>) -> Result<Message, Error> {
        let message = obj
            .cast::<Self>()
            .map_err(|_| wrong_type(field, "Message", obj))?;
        Ok(message.get().core(obj.py())?.clone())
    }

    /// The constructor's fields, by keyword (`id_field` names the packet identifier).
    pub(crate) fn fields<'py>(
        &self,
        py: Python<'py>,
        id_field: &'static str,
    ) -> PyResult<Fields<'py>> {
        Ok(vec![
            ("topic", self.topic.bind(py).clone().into_any()),
            ("payload", self.payload.bind(py).clone().into_any()),
            ("qos", qos_member(py, self.header.qos)?),
            (
                "retain",
                self.header.retain.into_pyobject(py)?.to_owned().into_any(),
            ),
            (
                id_field,
                self.header
                    .message_id
                    .map(PacketId::get)
                    .into_pyobject(py)?,
            ),
            (
                "dup",
                self.header.dup.into_pyobject(py)?.to_owned().into_any(),
            ),
            ("properties", self.properties_object(py)?),
        ])
    }

    /// The properties, or `None` when there are none.
    fn properties_object<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.header.properties {
            Some(properties) => {
                Ok(Bound::new(py, PyPublishProperties::from(*properties.clone()))?.into_any())
            }
            None => Ok(py.None().into_bound(py)),
        }
    }

    /// `Class(...)` with the payload cut short past [`DEBUG_PAYLOAD_PREFIX`] bytes.
    pub(crate) fn repr_as(
        &self,
        obj: &Bound<'_, PyAny>,
        class: &str,
        id_field: &'static str,
    ) -> PyResult<String> {
        let py = obj.py();
        let fields = self.fields(py, id_field)?;
        let payload = self.payload.bind(py).as_bytes();
        let mut overrides = Vec::new();
        if payload.len() > DEBUG_PAYLOAD_PREFIX {
            let shown = PyBytes::new(py, &payload[..DEBUG_PAYLOAD_PREFIX]).repr()?;
            overrides.push(("payload", format!("{shown}...({} bytes)", payload.len())));
        }
        repr(obj, class, &fields, &overrides)
    }

    /// The hash of the message's content, computed once.
    pub(crate) fn content_hash(&self, py: Python<'_>) -> PyResult<isize> {
        let known = self.hash.load(Ordering::Relaxed);
        if known != 0 {
            return Ok(known);
        }
        let mut hasher = DefaultHasher::new();
        self.as_ref(py)?.hash(&mut hasher);
        // Two threads may both compute it: they store the same value.
        let hash = (hasher.finish() as isize).max(1);
        self.hash.store(hash, Ordering::Relaxed);
        Ok(hash)
    }
}

#[pymethods]
impl PyMessage {
    #[new]
    #[pyo3(signature = (topic, payload=None, qos=0, retain=false, message_id=None, *, dup=false, properties=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        topic: &Bound<'_, PyAny>,
        payload: Option<&Bound<'_, PyAny>>,
        #[pyo3(from_py_with = int::<Qos>)] qos: i128,
        #[pyo3(from_py_with = flag::<Retain>)] retain: bool,
        message_id: Option<&Bound<'_, PyAny>>,
        #[pyo3(from_py_with = flag::<Dup>)] dup: bool,
        properties: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        Ok(Self::build(
            topic,
            payload,
            qos,
            retain,
            "message_id",
            message_id,
            dup,
            properties,
        )?)
    }

    /// The topic name.
    #[getter]
    fn topic(&self, py: Python<'_>) -> Py<PyString> {
        self.topic.clone_ref(py)
    }

    /// The payload (the very `bytes` object given, when one was).
    #[getter]
    fn payload(&self, py: Python<'_>) -> Py<PyBytes> {
        self.payload.clone_ref(py)
    }

    /// The QoS level.
    #[getter]
    fn qos<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        qos_member(py, self.header.qos)
    }

    /// The RETAIN flag.
    #[getter]
    fn retain(&self) -> bool {
        self.header.retain
    }

    /// The DUP flag.
    #[getter]
    fn dup(&self) -> bool {
        self.header.dup
    }

    /// The packet identifier, or None.
    #[getter]
    fn message_id(&self) -> Option<u16> {
        self.header.message_id.map(PacketId::get)
    }

    /// The MQTT 5.0 PUBLISH properties (empty when there are none).
    #[getter]
    fn properties(&self) -> PyPublishProperties {
        PyPublishProperties::from(self.header.properties().clone())
    }

    /// Return a copy with some fields changed, validated like the constructor.
    #[pyo3(signature = (**changes))]
    fn replace<'py>(
        slf: &Bound<'py, Self>,
        changes: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fields = slf.get().fields(slf.py(), "message_id")?;
        super::convert::replace(slf.as_any(), fields, changes)
    }

    #[pyo3(signature = (**changes))]
    fn __replace__<'py>(
        slf: &Bound<'py, Self>,
        changes: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        Self::replace(slf, changes)
    }

    fn __getnewargs_ex__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyTuple>, Bound<'py, PyDict>)> {
        let fields = self.fields(py, "message_id")?;
        Ok((PyTuple::empty(py), super::convert::kwargs(py, fields)?))
    }

    fn __copy__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __deepcopy__(slf: Py<Self>, _memo: &Bound<'_, PyAny>) -> Py<Self> {
        slf
    }

    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        match other.cast::<Self>() {
            Ok(other) => Ok(self.as_ref(py)? == other.get().as_ref(py)?),
            Err(_) => Ok(false),
        }
    }

    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        self.content_hash(py)
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        slf.get().repr_as(slf.as_any(), "Message", "message_id")
    }
}
