//! `Message` and `PublishProperties` for Python.

use std::hash::{DefaultHasher, Hash, Hasher};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use super::constants::qos_member;
use super::convert::{
    apply_changes, extract_bool, extract_bytes, extract_qos, extract_topic, extract_uint,
    extract_user_properties, iterate, mqtt_string, present, shared_bytes, wrong_type,
};
use crate::constants::QoS;
use crate::constants::protocol::{MAX_PACKET_ID, MAX_SUBSCRIPTION_ID, MAX_TOPIC_ALIAS};
use crate::error::{Error, TopicKind, Violation};
use crate::message::{DEBUG_PAYLOAD_PREFIX, Message, MessageParts, check_fields};
use crate::packet::PublishWire;
use crate::packet_id::PacketId;
use crate::properties::{self, PayloadFormat, PublishProperties, SubscriptionId, TopicAlias};
use crate::string::BinaryData;
use crate::topic::{TopicName, validate_topic_name};

/// An MQTT application message: immutable and validated at construction.
#[pyclass(
    frozen,
    freelist = 64,
    name = "Message",
    module = "mqtt_common.models.message"
)]
pub(crate) struct PyMessage {
    // The caller's objects, already validated, handed back by the getters without a copy.
    pub(super) topic: Py<PyString>,
    pub(super) payload: Py<PyBytes>,
    pub(super) qos: QoS,
    pub(super) retain: bool,
    pub(super) dup: bool,
    pub(super) message_id: Option<PacketId>,
    pub(super) properties: Option<Py<PyPublishProperties>>,
    // The core message, built on first use: constructing one from Python then costs no
    // allocation beyond the Python object itself.
    core: PyOnceLock<Message>,
}

/// The constructor's optional arguments; `None` means "not given".
#[derive(Default)]
pub(crate) struct MessageArgs<'a, 'py> {
    pub(crate) payload: Option<&'a Bound<'py, PyAny>>,
    pub(crate) qos: Option<&'a Bound<'py, PyAny>>,
    pub(crate) retain: Option<&'a Bound<'py, PyAny>>,
    pub(crate) message_id: Option<&'a Bound<'py, PyAny>>,
    pub(crate) dup: Option<&'a Bound<'py, PyAny>>,
    pub(crate) properties: Option<&'a Bound<'py, PyAny>>,
}

/// The `topic` argument, which must be a `str`.
fn topic_arg<'py>(topic: &Bound<'py, PyAny>) -> Result<Bound<'py, PyString>, Error> {
    topic
        .cast::<PyString>()
        .cloned()
        .map_err(|_| wrong_type("topic", "str", topic))
}

/// A Topic Alias given as an `int`: 1 to 65,535.
pub(crate) fn topic_alias_arg(
    field: &'static str,
    obj: &Bound<'_, PyAny>,
) -> Result<TopicAlias, Error> {
    let value = extract_uint(field, obj, 0, MAX_TOPIC_ALIAS.into(), "§3.3.2.3.4")?;
    TopicAlias::new(value as u16).map_err(|v| Error::invalid(field, v))
}

/// The optional arguments, converted and checked together ([`check_fields`]).
struct Fields<'py> {
    payload: Bound<'py, PyBytes>,
    qos: QoS,
    retain: bool,
    dup: bool,
    message_id: Option<PacketId>,
    properties: Option<Bound<'py, PyPublishProperties>>,
}

impl<'py> Fields<'py> {
    fn extract(py: Python<'py>, args: MessageArgs<'_, 'py>) -> Result<Self, Error> {
        let payload = match present(args.payload) {
            Some(obj) => extract_bytes("payload", obj)?,
            None => PyBytes::new(py, b""),
        };
        let qos = match present(args.qos) {
            None => QoS::AtMostOnce,
            Some(obj) => extract_qos("qos", obj)?,
        };
        let retain = match present(args.retain) {
            Some(obj) => extract_bool("retain", obj)?,
            None => false,
        };
        let dup = match present(args.dup) {
            Some(obj) => extract_bool("dup", obj)?,
            None => false,
        };
        let message_id = match present(args.message_id) {
            None => None,
            Some(obj) => {
                let value = extract_uint("message_id", obj, 0, MAX_PACKET_ID.into(), "§2.2.1")?;
                Some(PacketId::new(value as u16).map_err(|v| Error::invalid("message_id", v))?)
            }
        };
        check_fields(payload.as_bytes().len(), qos, dup, message_id)?;
        let properties = match present(args.properties) {
            None => None,
            Some(obj) => {
                Some(PyPublishProperties::coerce(obj)?).filter(|p| !p.get().inner.is_empty())
            }
        };
        Ok(Self {
            payload,
            qos,
            retain,
            dup,
            message_id,
            properties,
        })
    }

    fn into_core(self, topic: TopicName) -> Result<Message, Error> {
        Message::from_parts(MessageParts {
            topic,
            payload: shared_bytes(&self.payload),
            qos: self.qos,
            retain: self.retain,
            dup: self.dup,
            message_id: self.message_id,
            properties: self.properties.map(|p| Box::new(p.get().inner.clone())),
        })
    }
}

impl PyMessage {
    /// A Python message from the constructor's arguments, validated.
    pub(crate) fn build(
        topic: &Bound<'_, PyAny>,
        args: MessageArgs<'_, '_>,
    ) -> Result<Self, Error> {
        let topic = topic_arg(topic)?;
        validate_topic_name(extract_topic("topic", TopicKind::Name, &topic)?)
            .map_err(|e| e.in_field("topic"))?;
        let fields = Fields::extract(topic.py(), args)?;
        Ok(Self {
            topic: topic.unbind(),
            payload: fields.payload.unbind(),
            qos: fields.qos,
            retain: fields.retain,
            dup: fields.dup,
            message_id: fields.message_id,
            properties: fields.properties.map(Bound::unbind),
            core: PyOnceLock::new(),
        })
    }

    /// A Python message for a core one (the payload is copied into a `bytes` once).
    pub(crate) fn from_core(py: Python<'_>, message: Message) -> PyResult<Self> {
        let properties = match message.properties().is_empty() {
            true => None,
            false => Some(Py::new(
                py,
                PyPublishProperties::from(message.properties().clone()),
            )?),
        };
        let this = Self {
            topic: PyString::new(py, message.topic().as_str()).unbind(),
            payload: PyBytes::new(py, message.payload()).unbind(),
            qos: message.qos(),
            retain: message.retain(),
            dup: message.dup(),
            message_id: message.message_id(),
            properties,
            core: PyOnceLock::new(),
        };
        // A fresh cell cannot be full: nothing else has seen it.
        let _ = this.core.set(py, message);
        Ok(this)
    }

    /// The same message, sharing its objects (the core is rebuilt on first use).
    pub(crate) fn clone_ref(&self, py: Python<'_>) -> Self {
        Self {
            topic: self.topic.clone_ref(py),
            payload: self.payload.clone_ref(py),
            qos: self.qos,
            retain: self.retain,
            dup: self.dup,
            message_id: self.message_id,
            properties: self.properties.as_ref().map(|p| p.clone_ref(py)),
            core: PyOnceLock::new(),
        }
    }

    /// The fields as a PUBLISH carries them, borrowed: the topic's UTF-8 is the `str`'s
    /// own and the payload the `bytes` object's.
    pub(crate) fn wire<'a>(&'a self, py: Python<'a>) -> PyResult<PublishWire<'a>> {
        Ok(PublishWire {
            dup: self.dup,
            qos: self.qos,
            retain: self.retain,
            topic: self.topic.bind(py).to_str()?.as_bytes(),
            packet_id: self.message_id,
            properties: self.properties.as_ref().map(|p| &p.get().inner),
            payload: self.payload.bind(py).as_bytes(),
        })
    }

    /// The core message, built from the validated fields on first use.
    pub(crate) fn core(&self, py: Python<'_>) -> PyResult<&Message> {
        self.core.get_or_try_init(py, || {
            let topic = TopicName::new(self.topic.bind(py).to_str()?)?;
            let fields = Fields {
                payload: self.payload.bind(py).clone(),
                qos: self.qos,
                retain: self.retain,
                dup: self.dup,
                message_id: self.message_id,
                properties: self.properties.as_ref().map(|p| p.bind(py).clone()),
            };
            Ok(fields.into_core(topic)?)
        })
    }

    /// The constructor's arguments by name (pickle, replace).
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let fields = PyDict::new(py);
        fields.set_item("topic", self.topic.bind(py))?;
        fields.set_item("payload", self.payload.bind(py))?;
        fields.set_item("qos", self.qos.as_u8())?;
        fields.set_item("retain", self.retain)?;
        fields.set_item("message_id", self.message_id.map(PacketId::get))?;
        fields.set_item("dup", self.dup)?;
        fields.set_item("properties", self.properties.as_ref().map(|p| p.bind(py)))?;
        Ok(fields)
    }

    /// A new message from `fields` (as made by [`Self::fields`], then changed).
    fn with_fields(&self, fields: &Bound<'_, PyDict>) -> PyResult<Self> {
        let get = |name: &str| fields.get_item(name);
        let topic =
            get("topic")?.unwrap_or_else(|| self.topic.bind(fields.py()).clone().into_any());
        let (payload, qos, retain) = (get("payload")?, get("qos")?, get("retain")?);
        let (message_id, dup, properties) = (get("message_id")?, get("dup")?, get("properties")?);
        let args = MessageArgs {
            payload: payload.as_ref(),
            qos: qos.as_ref(),
            retain: retain.as_ref(),
            message_id: message_id.as_ref(),
            dup: dup.as_ref(),
            properties: properties.as_ref(),
        };
        Ok(Self::build(&topic, args)?)
    }
}

#[pymethods]
impl PyMessage {
    #[new]
    #[pyo3(signature = (topic, payload=None, qos=None, retain=None, message_id=None, *, dup=None, properties=None))]
    // The documented defaults; `None` is accepted too and means the same.
    #[pyo3(
        text_signature = "(topic, payload=b'', qos=0, retain=False, message_id=None, *, dup=False, properties=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn new(
        topic: &Bound<'_, PyAny>,
        payload: Option<&Bound<'_, PyAny>>,
        qos: Option<&Bound<'_, PyAny>>,
        retain: Option<&Bound<'_, PyAny>>,
        message_id: Option<&Bound<'_, PyAny>>,
        dup: Option<&Bound<'_, PyAny>>,
        properties: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let args = MessageArgs {
            payload,
            qos,
            retain,
            message_id,
            dup,
            properties,
        };
        Ok(Self::build(topic, args)?)
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
        qos_member(py, self.qos)
    }

    /// The RETAIN flag.
    #[getter]
    fn retain(&self) -> bool {
        self.retain
    }

    /// The DUP flag.
    #[getter]
    fn dup(&self) -> bool {
        self.dup
    }

    /// The packet identifier, or None.
    #[getter]
    fn message_id(&self) -> Option<u16> {
        self.message_id.map(PacketId::get)
    }

    /// The MQTT 5.0 PUBLISH properties (empty when there are none).
    #[getter]
    fn properties(&self, py: Python<'_>) -> PyResult<Py<PyPublishProperties>> {
        match &self.properties {
            Some(properties) => Ok(properties.clone_ref(py)),
            None => Py::new(py, PyPublishProperties::from(PublishProperties::EMPTY)),
        }
    }

    /// A copy with some fields changed, validated like the constructor.
    #[pyo3(signature = (**changes))]
    fn replace(&self, py: Python<'_>, changes: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let fields = self.fields(py)?;
        apply_changes(&fields, changes)?;
        self.with_fields(&fields)
    }

    #[pyo3(signature = (**changes))]
    fn __replace__(&self, py: Python<'_>, changes: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        self.replace(py, changes)
    }

    fn __getnewargs_ex__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyTuple>, Bound<'py, PyDict>)> {
        let fields = self.fields(py)?;
        let positional = ["topic", "payload", "qos", "retain", "message_id"];
        let args = positional
            .iter()
            .map(|name| fields.get_item(name))
            .collect::<PyResult<Vec<_>>>()?;
        for name in positional {
            fields.del_item(name)?;
        }
        Ok((PyTuple::new(py, args)?, fields))
    }

    fn __copy__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __deepcopy__(slf: Py<Self>, _memo: &Bound<'_, PyAny>) -> Py<Self> {
        slf
    }

    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        match other.cast::<Self>() {
            Ok(other) => Ok(self.core(py)? == other.get().core(py)?),
            Err(_) => Ok(false),
        }
    }

    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        // Python caches the hash of str and bytes, so a large payload is hashed once
        // in its life, not on every call.
        let mut hasher = DefaultHasher::new();
        self.topic.bind(py).hash()?.hash(&mut hasher);
        self.payload.bind(py).hash()?.hash(&mut hasher);
        (self.qos, self.retain, self.dup, self.message_id).hash(&mut hasher);
        if let Some(properties) = &self.properties {
            properties.get().inner.hash(&mut hasher);
        }
        Ok(hasher.finish() as isize)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let payload = self.payload.bind(py);
        let bytes = payload.as_bytes();
        let shown = if bytes.len() > DEBUG_PAYLOAD_PREFIX {
            format!(
                "{}...({} bytes)",
                PyBytes::new(py, &bytes[..DEBUG_PAYLOAD_PREFIX]).repr()?,
                bytes.len()
            )
        } else {
            payload.repr()?.to_string()
        };
        let mut repr = format!(
            "Message(topic={}, payload={}, qos={}, retain={}",
            self.topic.bind(py).repr()?,
            shown,
            self.qos.as_u8(),
            if self.retain { "True" } else { "False" },
        );
        if let Some(id) = self.message_id {
            repr.push_str(&format!(", message_id={id}"));
        }
        if self.dup {
            repr.push_str(", dup=True");
        }
        if let Some(properties) = &self.properties {
            repr.push_str(&format!(", properties={}", properties.bind(py).repr()?));
        }
        repr.push(')');
        Ok(repr)
    }
}

/// The MQTT 5.0 properties of a PUBLISH.
#[pyclass(
    frozen,
    eq,
    hash,
    name = "PublishProperties",
    module = "mqtt_common.models.message"
)]
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct PyPublishProperties {
    inner: PublishProperties,
}

impl From<PublishProperties> for PyPublishProperties {
    fn from(inner: PublishProperties) -> Self {
        Self { inner }
    }
}

/// The Python names of the fields, in constructor order.
const PROPERTY_FIELDS: [&str; 8] = [
    "payload_format_indicator",
    "message_expiry_interval",
    "content_type",
    "response_topic",
    "correlation_data",
    "user_properties",
    "subscription_identifiers",
    "topic_alias",
];

impl PyPublishProperties {
    /// A `PublishProperties` object as it is, or one built from a dict of the same keys.
    fn coerce<'py>(obj: &Bound<'py, PyAny>) -> Result<Bound<'py, Self>, Error> {
        if let Ok(properties) = obj.cast::<Self>() {
            return Ok(properties.clone());
        }
        let Ok(dict) = obj.cast::<PyDict>() else {
            return Err(wrong_type(
                "properties",
                "PublishProperties, dict or None",
                obj,
            ));
        };
        let mut values: [Option<Bound<'py, PyAny>>; 8] = Default::default();
        for (key, value) in dict.iter() {
            let name = key
                .cast::<PyString>()
                .ok()
                .and_then(|k| k.to_str().ok().map(str::to_owned));
            let slot = name
                .as_deref()
                .and_then(|name| PROPERTY_FIELDS.iter().position(|field| *field == name));
            match slot {
                Some(slot) => values[slot] = Some(value),
                None => {
                    let name = name.unwrap_or_else(|| key.to_string());
                    return Err(Error::invalid(
                        "properties",
                        Violation::UnknownField { name },
                    ));
                }
            }
        }
        let [a, b, c, d, e, f, g, h] = values;
        let inner = Self::build(
            a.as_ref(),
            b.as_ref(),
            c.as_ref(),
            d.as_ref(),
            e.as_ref(),
            f.as_ref(),
            g.as_ref(),
            h.as_ref(),
        )?;
        Bound::new(obj.py(), Self { inner })
            .map_err(|_| wrong_type("properties", "PublishProperties", obj))
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        payload_format_indicator: Option<&Bound<'_, PyAny>>,
        message_expiry_interval: Option<&Bound<'_, PyAny>>,
        content_type: Option<&Bound<'_, PyAny>>,
        response_topic: Option<&Bound<'_, PyAny>>,
        correlation_data: Option<&Bound<'_, PyAny>>,
        user_properties: Option<&Bound<'_, PyAny>>,
        subscription_identifiers: Option<&Bound<'_, PyAny>>,
        topic_alias: Option<&Bound<'_, PyAny>>,
    ) -> Result<PublishProperties, Error> {
        let mut p = PublishProperties::default();
        if let Some(obj) = present(payload_format_indicator) {
            const FIELD: &str = "properties.payload_format_indicator";
            let value = extract_uint(FIELD, obj, 0, u64::MAX, "§3.3.2.3.2")?;
            p.payload_format_indicator =
                Some(PayloadFormat::try_from(value).map_err(|v| Error::invalid(FIELD, v))?);
        }
        if let Some(obj) = present(message_expiry_interval) {
            let value = extract_uint(
                "properties.message_expiry_interval",
                obj,
                0,
                u32::MAX.into(),
                "§3.3.2.3.3",
            )?;
            p.message_expiry_interval = Some(value as u32);
        }
        if let Some(obj) = present(content_type) {
            p.content_type = Some(mqtt_string("properties.content_type", obj)?);
        }
        if let Some(obj) = present(response_topic) {
            const FIELD: &str = "properties.response_topic";
            let text = extract_topic(FIELD, TopicKind::Name, obj)?;
            p.response_topic =
                Some(properties::response_topic(text).map_err(|e| e.in_field(FIELD))?);
        }
        if let Some(obj) = present(correlation_data) {
            const FIELD: &str = "properties.correlation_data";
            let bytes = extract_bytes(FIELD, obj)?;
            p.correlation_data =
                Some(BinaryData::new(shared_bytes(&bytes)).map_err(|v| Error::invalid(FIELD, v))?);
        }
        if let Some(obj) = present(user_properties) {
            p.user_properties = extract_user_properties("properties.user_properties", obj)?;
        }
        if let Some(obj) = present(subscription_identifiers) {
            const FIELD: &str = "properties.subscription_identifiers";
            for item in iterate(FIELD, "a list of int", obj)? {
                let item = item.map_err(|_| wrong_type(FIELD, "a list of int", obj))?;
                let value =
                    extract_uint(FIELD, &item, 1, MAX_SUBSCRIPTION_ID.into(), "§3.3.2.3.8")?;
                p.subscription_identifiers
                    .push(SubscriptionId::new(value as u32).map_err(|v| Error::invalid(FIELD, v))?);
            }
        }
        if let Some(obj) = present(topic_alias) {
            p.topic_alias = Some(topic_alias_arg("properties.topic_alias", obj)?);
        }
        Ok(p)
    }
}

#[pymethods]
impl PyPublishProperties {
    #[new]
    #[pyo3(signature = (*, payload_format_indicator=None, message_expiry_interval=None, content_type=None, response_topic=None, correlation_data=None, user_properties=None, subscription_identifiers=None, topic_alias=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        payload_format_indicator: Option<&Bound<'_, PyAny>>,
        message_expiry_interval: Option<&Bound<'_, PyAny>>,
        content_type: Option<&Bound<'_, PyAny>>,
        response_topic: Option<&Bound<'_, PyAny>>,
        correlation_data: Option<&Bound<'_, PyAny>>,
        user_properties: Option<&Bound<'_, PyAny>>,
        subscription_identifiers: Option<&Bound<'_, PyAny>>,
        topic_alias: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let inner = Self::build(
            payload_format_indicator,
            message_expiry_interval,
            content_type,
            response_topic,
            correlation_data,
            user_properties,
            subscription_identifiers,
            topic_alias,
        )?;
        Ok(Self { inner })
    }

    /// Payload Format Indicator: 0 (bytes) or 1 (UTF-8), or None.
    #[getter]
    fn payload_format_indicator(&self) -> Option<u8> {
        self.inner
            .payload_format_indicator
            .map(PayloadFormat::as_u8)
    }

    /// Message Expiry Interval in seconds, or None.
    #[getter]
    fn message_expiry_interval(&self) -> Option<u32> {
        self.inner.message_expiry_interval
    }

    /// Content Type, or None.
    #[getter]
    fn content_type(&self) -> Option<&str> {
        self.inner.content_type.as_deref()
    }

    /// Response Topic, or None.
    #[getter]
    fn response_topic(&self) -> Option<&str> {
        self.inner.response_topic.as_deref()
    }

    /// Correlation Data, or None.
    #[getter]
    fn correlation_data<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.inner
            .correlation_data
            .as_ref()
            .map(|data| PyBytes::new(py, data))
    }

    /// User Properties, in order, as (name, value) pairs.
    #[getter]
    fn user_properties(&self) -> Vec<(&str, &str)> {
        self.inner
            .user_properties
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
            .collect()
    }

    /// Subscription Identifiers.
    #[getter]
    fn subscription_identifiers(&self) -> Vec<u32> {
        self.inner
            .subscription_identifiers
            .iter()
            .map(|id| id.get())
            .collect()
    }

    /// Topic Alias, or None.
    #[getter]
    fn topic_alias(&self) -> Option<u16> {
        self.inner.topic_alias.map(TopicAlias::get)
    }

    /// The properties that are set, as a dict of the constructor's keywords.
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(slf.py());
        for name in PROPERTY_FIELDS {
            let value = slf.getattr(name)?;
            let unset = value.is_none() || (value.is_instance_of::<PyList>() && value.len()? == 0);
            if !unset {
                dict.set_item(name, value)?;
            }
        }
        Ok(dict)
    }

    fn __bool__(&self) -> bool {
        !self.inner.is_empty()
    }

    fn __getnewargs_ex__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyTuple>, Bound<'py, PyDict>)> {
        Ok((PyTuple::empty(slf.py()), Self::to_dict(slf)?))
    }

    fn __copy__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __deepcopy__(slf: Py<Self>, _memo: &Bound<'_, PyAny>) -> Py<Self> {
        slf
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let fields = Self::to_dict(slf)?
            .iter()
            .map(|(key, value)| Ok(format!("{}={}", key, value.repr()?)))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(format!("PublishProperties({})", fields.join(", ")))
    }
}
