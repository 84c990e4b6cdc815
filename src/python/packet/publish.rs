//! `Publish` for Python.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use super::Outgoing;
use crate::message::{DEBUG_PAYLOAD_PREFIX, MessageRef, PublishProperties, TopicAlias};
use crate::packet::{Publish, check_packet_id};
use crate::packet_id::PacketId;
use crate::python::constants::qos_member;
use crate::python::convert::{Dup, Qos, Retain, flag, int, int_arg, repr};
use crate::python::message::{PyMessage, PyPublishProperties};

/// PUBLISH: an application message on the wire.
// No `eq` here: equality is by content across both representations (`__eq__` below).
#[pyclass(frozen, name = "Publish", module = "mqtt_common.models.packets")]
pub(crate) struct PyPublish {
    repr: PublishRepr,
}

/// Where a Python `Publish` keeps its message. Both encode through the core's one
/// PUBLISH writer and compare through its `MessageRef`.
enum PublishRepr {
    /// Decoded, or handed over from Rust: the core packet.
    Core(Publish),
    /// Built from Python values or a `Message`: a Python `Message`, which keeps the
    /// caller's objects, so building one allocates nothing beyond the object itself.
    Message(PyMessage),
}

impl From<Publish> for PyPublish {
    fn from(inner: Publish) -> Self {
        Self {
            repr: PublishRepr::Core(inner),
        }
    }
}

impl PyPublish {
    /// A PUBLISH of a Python message; `id_field` names the packet identifier as the caller
    /// gave it.
    fn from_message_object(message: PyMessage, id_field: &'static str) -> PyResult<Self> {
        check_packet_id(id_field, message.header())?;
        Ok(Self {
            repr: PublishRepr::Message(message),
        })
    }

    /// The core packet, owned.
    pub(crate) fn core(&self, py: Python<'_>) -> PyResult<Publish> {
        Ok(match &self.repr {
            PublishRepr::Core(publish) => publish.clone(),
            PublishRepr::Message(message) => Publish::try_from(message.core(py)?.clone())?,
        })
    }

    /// The message the packet carries, borrowed.
    fn as_message_ref<'a>(&'a self, py: Python<'a>) -> PyResult<MessageRef<'a>> {
        match &self.repr {
            PublishRepr::Core(publish) => Ok(publish.as_message_ref()),
            PublishRepr::Message(message) => message.as_ref(py),
        }
    }

    /// What `encode` writes.
    pub(crate) fn outgoing<'a>(&'a self, py: Python<'a>) -> PyResult<Outgoing<'a>> {
        Ok(match &self.repr {
            PublishRepr::Core(publish) => {
                Outgoing::Packet(crate::packet::PacketRef::Publish(publish))
            }
            PublishRepr::Message(message) => Outgoing::Publish(message.as_ref(py)?),
        })
    }
}

#[pymethods]
impl PyPublish {
    #[new]
    #[pyo3(signature = (topic, payload=None, qos=0, retain=false, packet_id=None, *, dup=false, properties=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        topic: &Bound<'_, PyAny>,
        payload: Option<&Bound<'_, PyAny>>,
        #[pyo3(from_py_with = int::<Qos>)] qos: i128,
        #[pyo3(from_py_with = flag::<Retain>)] retain: bool,
        packet_id: Option<&Bound<'_, PyAny>>,
        #[pyo3(from_py_with = flag::<Dup>)] dup: bool,
        properties: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        // A PUBLISH is a message on the wire: build the message, with its checks.
        let message = PyMessage::build(
            topic,
            payload,
            qos,
            retain,
            "packet_id",
            packet_id,
            dup,
            properties,
        )?;
        Self::from_message_object(message, "packet_id")
    }

    /// Return the PUBLISH that carries a message (QoS 1 and 2 need a message_id).
    #[staticmethod]
    fn from_message(message: &Bound<'_, PyMessage>) -> PyResult<Self> {
        Self::from_message_object(message.get().clone_ref(message.py()), "message_id")
    }

    /// Return this PUBLISH with a Topic Alias (MQTT 5.0), the topic still sent.
    ///
    /// The receiver maps the alias to the topic; later packets may name it by the alias
    /// alone (`without_topic`).
    fn with_topic_alias(&self, py: Python<'_>, alias: &Bound<'_, PyAny>) -> PyResult<Self> {
        let alias = int_arg::<TopicAlias>("alias", alias)?;
        Ok(Self::from(self.core(py)?.with_topic_alias(alias)))
    }

    /// Return this PUBLISH named by its Topic Alias alone (MQTT 5.0).
    ///
    /// For a receiver that already maps the alias to the topic.
    fn without_topic(&self, py: Python<'_>) -> PyResult<Self> {
        Ok(Self::from(self.core(py)?.without_topic()?))
    }

    /// Return the message it carries, or None when only an unresolved Topic Alias names it.
    fn to_message(&self, py: Python<'_>) -> Option<PyMessage> {
        match &self.repr {
            PublishRepr::Core(publish) => publish
                .to_message()
                .map(|message| PyMessage::from_core(py, message)),
            PublishRepr::Message(message) => Some(message.clone_ref(py)),
        }
    }

    /// The topic name ("" when only a Topic Alias names it).
    #[getter]
    fn topic<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        match &self.repr {
            PublishRepr::Core(publish) => {
                PyString::new(py, publish.topic().map_or("", |t| t.as_str()))
            }
            PublishRepr::Message(message) => message.topic_object(py).clone(),
        }
    }

    /// The payload.
    #[getter]
    fn payload<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        match &self.repr {
            PublishRepr::Core(publish) => PyBytes::new(py, publish.payload()),
            PublishRepr::Message(message) => message.payload_object(py).clone(),
        }
    }

    /// The QoS level.
    #[getter]
    fn qos<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        qos_member(py, self.header().qos)
    }

    /// The RETAIN flag.
    #[getter]
    fn retain(&self) -> bool {
        self.header().retain
    }

    /// The DUP flag.
    #[getter]
    fn dup(&self) -> bool {
        self.header().dup
    }

    /// The packet identifier, or None at QoS 0.
    #[getter]
    fn packet_id(&self) -> Option<u16> {
        self.header().message_id.map(PacketId::get)
    }

    /// The PUBLISH properties (MQTT 5.0).
    #[getter]
    fn properties(&self) -> PyPublishProperties {
        let properties: &PublishProperties = self.header().properties();
        PyPublishProperties::from(properties.clone())
    }

    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        match other.cast::<Self>() {
            Ok(other) => Ok(self.as_message_ref(py)? == other.get().as_message_ref(py)?),
            Err(_) => Ok(false),
        }
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let py = slf.py();
        let this = slf.get();
        let message = this.as_message_ref(py)?;
        let properties = match &this.header().properties {
            Some(properties) => {
                Bound::new(py, PyPublishProperties::from(*properties.clone()))?.into_any()
            }
            None => py.None().into_bound(py),
        };
        let fields = vec![
            ("topic", Self::topic(this, py).into_any()),
            ("payload", Self::payload(this, py).into_any()),
            ("qos", Self::qos(this, py)?),
            (
                "retain",
                message
                    .header
                    .retain
                    .into_pyobject(py)?
                    .to_owned()
                    .into_any(),
            ),
            ("packet_id", this.packet_id().into_pyobject(py)?),
            (
                "dup",
                message.header.dup.into_pyobject(py)?.to_owned().into_any(),
            ),
            ("properties", properties),
        ];
        let mut overrides = Vec::new();
        if message.payload.len() > DEBUG_PAYLOAD_PREFIX {
            let shown = PyBytes::new(py, &message.payload[..DEBUG_PAYLOAD_PREFIX]).repr()?;
            overrides.push((
                "payload",
                format!("{shown}...({} bytes)", message.payload.len()),
            ));
        }
        repr(slf.as_any(), "Publish", &fields, &overrides)
    }
}

impl PyPublish {
    /// QoS, flags, packet identifier and properties: read without touching the topic.
    fn header(&self) -> &crate::message::Header {
        match &self.repr {
            PublishRepr::Core(publish) => publish.header(),
            PublishRepr::Message(message) => message.header(),
        }
    }
}
