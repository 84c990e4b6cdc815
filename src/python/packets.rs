//! The packet classes of `mqtt_common.models.packets` and the codec of
//! `mqtt_common.utils.codec`: conversions around the Rust codec, nothing more.

use bytes::Bytes;
use std::borrow::Cow;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

use super::constants::{
    protocol_version_member, qos_member, reason_code_member, return_code_member,
};
use super::convert::{
    extract_bool, extract_bytes, extract_str, extract_uint, extract_user_properties, iterate,
    mqtt_string, present, shared_bytes, wrong_type,
};
use super::message::{MessageArgs, PyMessage, PyPublishProperties, topic_alias_arg};
use super::session::PyWill;
use super::subscription::PySubscription;
use crate::codec::{self, Decoder, Packet, PacketRef, check_encoded_size};
use crate::constants::{
    PacketType, PropertyContext, PropertyId, PropertyType, ProtocolVersion, QoS, ReasonCode,
};
use crate::error::{Error, TopicKind, Violation};
use crate::packet::wire::Utf8Policy;
use crate::packet::{
    AckProperties, Auth, Connack, Connect, Direction, Disconnect, Properties, PropertyValue,
    Puback, Pubcomp, Publish, PublishWire, Pubrec, Pubrel, Suback, Subscribe, Unsuback,
    Unsubscribe, check_packet_id,
};
use crate::packet_id::PacketId;
use crate::string::MqttString;
use crate::topic::TopicFilter;

/// The dict key of a property: its spec name in snake case.
fn property_key(property: PropertyId) -> String {
    property.name().to_ascii_lowercase()
}

/// Properties as a dict of snake_case names; User Properties as `user_properties`, a list
/// of pairs in order.
fn properties_to_dict<'py>(
    py: Python<'py>,
    properties: &Properties,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    let users = PyList::empty(py);
    for (property, value) in properties.iter() {
        match value {
            PropertyValue::StringPair(k, v) => users.append((k.as_str(), v.as_str()))?,
            PropertyValue::String(s) => dict.set_item(property_key(*property), s.as_str())?,
            PropertyValue::Binary(b) => {
                dict.set_item(property_key(*property), PyBytes::new(py, b))?
            }
            other => dict.set_item(property_key(*property), other.as_u32())?,
        }
    }
    if !users.is_empty() {
        dict.set_item("user_properties", users)?;
    }
    Ok(dict)
}

/// Properties from such a dict (or None), checked for `context`.
fn properties_from_dict(
    obj: Option<&Bound<'_, PyAny>>,
    context: PropertyContext,
) -> Result<Properties, Error> {
    const FIELD: &str = "properties";
    let Some(obj) = present(obj) else {
        return Ok(Properties::default());
    };
    let dict = obj
        .cast::<PyDict>()
        .map_err(|_| wrong_type(FIELD, "dict or None", obj))?;
    let mut items = Vec::new();
    for (key, value) in dict.iter() {
        let name = extract_str(FIELD, &key, Violation::InvalidUtf8)?;
        if name == "user_properties" {
            for (k, v) in extract_user_properties("properties.user_properties", &value)? {
                items.push((PropertyId::UserProperty, PropertyValue::StringPair(k, v)));
            }
            continue;
        }
        let property = PropertyId::ALL
            .iter()
            .copied()
            .find(|p| property_key(*p) == name && *p != PropertyId::UserProperty)
            .ok_or_else(|| {
                Error::invalid(
                    FIELD,
                    Violation::UnknownField {
                        name: name.to_owned(),
                    },
                )
            })?;
        let max = match property.value_type() {
            PropertyType::Byte => u8::MAX.into(),
            PropertyType::TwoByteInteger => u16::MAX.into(),
            PropertyType::FourByteInteger => u32::MAX.into(),
            _ => crate::constants::protocol::MAX_REMAINING_LENGTH.into(),
        };
        let number = |value: &Bound<'_, PyAny>| {
            extract_uint(FIELD, value, 0, max, "§2.2.2.2").map(|n| n as u32)
        };
        let value = match property.value_type() {
            PropertyType::Byte => PropertyValue::Byte(number(&value)? as u8),
            PropertyType::TwoByteInteger => PropertyValue::TwoByteInteger(number(&value)? as u16),
            PropertyType::FourByteInteger => PropertyValue::FourByteInteger(number(&value)?),
            PropertyType::VariableByteInteger => {
                PropertyValue::VariableByteInteger(number(&value)?)
            }
            PropertyType::Utf8String => PropertyValue::String(mqtt_string(FIELD, &value)?),
            PropertyType::BinaryData => {
                PropertyValue::Binary(shared_bytes(&extract_bytes(FIELD, &value)?))
            }
            _ => {
                return Err(Error::invalid(
                    FIELD,
                    Violation::UnknownField {
                        name: name.to_owned(),
                    },
                ));
            }
        };
        items.push((property, value));
    }
    Properties::new(items, context).map_err(|err| match err {
        Error::MalformedPacket(v) | Error::Protocol(v) => Error::invalid(FIELD, v),
        other => other,
    })
}

fn packet_id(obj: &Bound<'_, PyAny>) -> Result<PacketId, Error> {
    let value = extract_uint("packet_id", obj, 0, u16::MAX.into(), "§2.2.1")?;
    PacketId::new(value as u16).map_err(|v| Error::invalid("packet_id", v))
}

fn reason_code(obj: Option<&Bound<'_, PyAny>>) -> Result<ReasonCode, Error> {
    match present(obj) {
        None => Ok(ReasonCode::Success),
        Some(obj) => {
            let value = extract_uint("reason_code", obj, 0, u8::MAX.into(), "§2.4")?;
            ReasonCode::try_from(value as u8).map_err(|v| Error::invalid("reason_code", v))
        }
    }
}

fn protocol_version(
    obj: Option<&Bound<'_, PyAny>>,
    default: ProtocolVersion,
) -> Result<ProtocolVersion, Error> {
    match present(obj) {
        None => Ok(default),
        Some(obj) => {
            let value = extract_uint("protocol_version", obj, 0, u8::MAX.into(), "MQTT-3.1.2-2")?;
            ProtocolVersion::try_from(value as u8)
                .map_err(|v| Error::invalid("protocol_version", v))
        }
    }
}

fn ack_properties(
    reason_string: Option<&Bound<'_, PyAny>>,
    user_properties: Option<&Bound<'_, PyAny>>,
) -> Result<AckProperties, Error> {
    Ok(AckProperties {
        reason_string: present(reason_string)
            .map(|o| mqtt_string("reason_string", o))
            .transpose()?,
        user_properties: user_properties_arg(user_properties)?,
    })
}

/// The `user_properties` argument: absent or None means none.
fn user_properties_arg(
    obj: Option<&Bound<'_, PyAny>>,
) -> Result<Vec<(MqttString, MqttString)>, Error> {
    present(obj)
        .map(|o| extract_user_properties("user_properties", o))
        .transpose()
        .map(Option::unwrap_or_default)
}

fn pairs(user_properties: &[(MqttString, MqttString)]) -> Vec<(&str, &str)> {
    user_properties
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// CONNECT.
#[pyclass(frozen, eq, name = "Connect", module = "mqtt_common.models.packets")]
#[derive(PartialEq)]
pub(crate) struct PyConnect {
    inner: Connect,
}

#[pymethods]
impl PyConnect {
    #[new]
    #[pyo3(signature = (client_id=None, *, protocol_version=None, clean_start=None, keep_alive=None, username=None, password=None, will=None, properties=None),
           text_signature = "(client_id='', *, protocol_version=ProtocolVersion.V3_1_1, clean_start=True, keep_alive=60, username=None, password=None, will=None, properties=None)")]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        client_id: Option<&Bound<'_, PyAny>>,
        protocol_version: Option<&Bound<'_, PyAny>>,
        clean_start: Option<&Bound<'_, PyAny>>,
        keep_alive: Option<&Bound<'_, PyAny>>,
        username: Option<&Bound<'_, PyAny>>,
        password: Option<&Bound<'_, PyAny>>,
        will: Option<&Bound<'_, PyAny>>,
        properties: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let will = match present(will) {
            Some(obj) => Some(
                obj.cast::<PyWill>()
                    .map_err(|_| wrong_type("will", "Will", obj))?
                    .get()
                    .core(py)?,
            ),
            None => None,
        };
        let inner = Connect {
            protocol_version: self::protocol_version(protocol_version, ProtocolVersion::V311)?,
            clean_start: present(clean_start)
                .map(|o| extract_bool("clean_start", o))
                .transpose()?
                .unwrap_or(true),
            keep_alive: present(keep_alive)
                .map(|o| {
                    extract_uint("keep_alive", o, 0, u16::MAX.into(), "§3.1.2.10").map(|v| v as u16)
                })
                .transpose()?
                .unwrap_or(60),
            client_id: present(client_id)
                .map(|o| mqtt_string("client_id", o))
                .transpose()?
                .unwrap_or_default(),
            will,
            username: present(username)
                .map(|o| mqtt_string("username", o))
                .transpose()?,
            password: present(password)
                .map(|o| extract_bytes("password", o).map(|b| shared_bytes(&b)))
                .transpose()?,
            properties: properties_from_dict(
                properties,
                PropertyContext::Packet(PacketType::Connect),
            )?,
        };
        Ok(Self { inner })
    }

    /// The client identifier ("" asks the server for one).
    #[getter]
    fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// The protocol version.
    #[getter]
    fn protocol_version<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        protocol_version_member(py, self.inner.protocol_version)
    }

    /// Clean Start (3.1.1: Clean Session).
    #[getter]
    fn clean_start(&self) -> bool {
        self.inner.clean_start
    }

    /// Keep Alive, in seconds.
    #[getter]
    fn keep_alive(&self) -> u16 {
        self.inner.keep_alive
    }

    /// The user name, or None.
    #[getter]
    fn username(&self) -> Option<&str> {
        self.inner.username.as_deref()
    }

    /// The password, or None.
    #[getter]
    fn password<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.inner.password.as_ref().map(|p| PyBytes::new(py, p))
    }

    /// The Will, or None.
    #[getter]
    fn will(&self, py: Python<'_>) -> PyResult<Option<PyWill>> {
        self.inner
            .will
            .clone()
            .map(|w| PyWill::from_core(py, w))
            .transpose()
    }

    /// The CONNECT properties (MQTT 5.0), by snake_case name.
    #[getter]
    fn properties<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        properties_to_dict(py, &self.inner.properties)
    }

    fn __repr__(&self) -> String {
        format!(
            "Connect(client_id={:?}, protocol_version={}, clean_start={}, keep_alive={})",
            self.inner.client_id.as_str(),
            self.inner.protocol_version.name(),
            if self.inner.clean_start {
                "True"
            } else {
                "False"
            },
            self.inner.keep_alive
        )
    }
}

/// CONNACK.
#[pyclass(frozen, eq, name = "Connack", module = "mqtt_common.models.packets")]
#[derive(PartialEq)]
pub(crate) struct PyConnack {
    inner: Connack,
}

#[pymethods]
impl PyConnack {
    #[new]
    #[pyo3(signature = (session_present=None, reason_code=None, *, properties=None), text_signature = "(session_present=False, reason_code=ReasonCode.SUCCESS, *, properties=None)")]
    fn new(
        session_present: Option<&Bound<'_, PyAny>>,
        reason_code: Option<&Bound<'_, PyAny>>,
        properties: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let session_present = present(session_present)
            .map(|o| extract_bool("session_present", o))
            .transpose()?
            .unwrap_or(false);
        let properties =
            properties_from_dict(properties, PropertyContext::Packet(PacketType::Connack))?;
        Ok(Self {
            inner: Connack::new(session_present, self::reason_code(reason_code)?, properties)?,
        })
    }

    /// Whether the server resumed a session.
    #[getter]
    fn session_present(&self) -> bool {
        self.inner.session_present()
    }

    /// The 5.0 reason code.
    #[getter]
    fn reason_code<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        reason_code_member(py, self.inner.reason_code())
    }

    /// The 3.1.1 return code that goes with it.
    #[getter]
    fn return_code<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        return_code_member(py, self.inner.return_code())
    }

    /// The CONNACK properties (MQTT 5.0), by snake_case name.
    #[getter]
    fn properties<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        properties_to_dict(py, self.inner.properties())
    }

    fn __repr__(&self) -> String {
        format!(
            "Connack(session_present={}, reason_code={})",
            if self.inner.session_present() {
                "True"
            } else {
                "False"
            },
            self.inner.reason_code().name()
        )
    }
}

/// PUBLISH.
// No `eq` here: equality is by content across both representations (`__eq__` below).
#[pyclass(frozen, name = "Publish", module = "mqtt_common.models.packets")]
pub(crate) struct PyPublish {
    repr: PublishRepr,
}

/// Where a Python `Publish` keeps its fields.
enum PublishRepr {
    /// Decoded, or handed over from Rust: the core packet.
    Core(Publish),
    /// Built from Python values or a `Message`: the checked Python objects, as a `Message`
    /// keeps them, so building one allocates nothing beyond the object itself; `encode`
    /// writes straight from them.
    Fields(PyMessage),
}

impl PyPublish {
    pub(super) fn from_inner(inner: Publish) -> Self {
        Self {
            repr: PublishRepr::Core(inner),
        }
    }

    /// A PUBLISH kept as checked Python objects; `id_field` names the packet identifier as
    /// the caller gave it.
    fn from_fields(message: PyMessage, id_field: &'static str) -> PyResult<Self> {
        check_packet_id(id_field, message.qos, message.message_id)?;
        Ok(Self {
            repr: PublishRepr::Fields(message),
        })
    }

    /// The core packet: borrowed, or built from the Python fields.
    fn core(&self, py: Python<'_>) -> PyResult<Cow<'_, Publish>> {
        Ok(match &self.repr {
            PublishRepr::Core(publish) => Cow::Borrowed(publish),
            PublishRepr::Fields(message) => {
                Cow::Owned(Publish::try_from(message.core(py)?.clone())?)
            }
        })
    }

    /// QoS, RETAIN, DUP and the packet identifier: plain values in both representations,
    /// read without touching the topic.
    fn header(&self) -> (QoS, bool, bool, Option<PacketId>) {
        match &self.repr {
            PublishRepr::Core(p) => (p.qos(), p.retain(), p.dup(), p.packet_id()),
            PublishRepr::Fields(m) => (m.qos, m.retain, m.dup, m.message_id),
        }
    }

    /// What `encode` writes.
    fn wire<'a>(&'a self, py: Python<'a>) -> PyResult<PublishWire<'a>> {
        match &self.repr {
            PublishRepr::Core(publish) => Ok(publish.wire()),
            PublishRepr::Fields(message) => message.wire(py),
        }
    }
}

#[pymethods]
impl PyPublish {
    #[new]
    #[pyo3(signature = (topic, payload=None, qos=None, retain=None, packet_id=None, *, dup=None, properties=None),
           text_signature = "(topic, payload=b'', qos=0, retain=False, packet_id=None, *, dup=False, properties=None)")]
    #[allow(clippy::too_many_arguments)]
    fn new(
        topic: &Bound<'_, PyAny>,
        payload: Option<&Bound<'_, PyAny>>,
        qos: Option<&Bound<'_, PyAny>>,
        retain: Option<&Bound<'_, PyAny>>,
        packet_id: Option<&Bound<'_, PyAny>>,
        dup: Option<&Bound<'_, PyAny>>,
        properties: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        // A PUBLISH is a message on the wire: build the message, with its checks.
        let args = MessageArgs {
            payload,
            qos,
            retain,
            message_id: packet_id,
            dup,
            properties,
        };
        Self::from_fields(PyMessage::build(topic, args)?, "packet_id")
    }

    /// The PUBLISH that carries a message (QoS 1 and 2 need a message_id).
    #[staticmethod]
    fn from_message(message: &Bound<'_, PyMessage>) -> PyResult<Self> {
        Self::from_fields(message.get().clone_ref(message.py()), "message_id")
    }

    /// This PUBLISH with a Topic Alias (MQTT 5.0), the topic still sent: the receiver maps
    /// the alias to it.
    fn with_topic_alias(&self, py: Python<'_>, alias: &Bound<'_, PyAny>) -> PyResult<Self> {
        let alias = topic_alias_arg("alias", alias)?;
        Ok(Self::from_inner(
            self.core(py)?.into_owned().with_topic_alias(alias),
        ))
    }

    /// This PUBLISH named by its Topic Alias alone (MQTT 5.0), for a receiver that maps it.
    fn without_topic(&self, py: Python<'_>) -> PyResult<Self> {
        Ok(Self::from_inner(
            self.core(py)?.into_owned().without_topic()?,
        ))
    }

    /// The message it carries, or None when only a Topic Alias names the topic.
    fn to_message(&self, py: Python<'_>) -> PyResult<Option<PyMessage>> {
        match &self.repr {
            PublishRepr::Core(publish) => publish
                .to_message()?
                .map(|m| PyMessage::from_core(py, m))
                .transpose(),
            PublishRepr::Fields(message) => Ok(Some(message.clone_ref(py))),
        }
    }

    /// The topic name ("" when only a Topic Alias names it).
    #[getter]
    fn topic<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        match &self.repr {
            PublishRepr::Core(publish) => {
                PyString::new(py, publish.topic().map_or("", |t| t.as_str()))
            }
            PublishRepr::Fields(message) => message.topic.bind(py).clone(),
        }
    }

    /// The payload.
    #[getter]
    fn payload<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        match &self.repr {
            PublishRepr::Core(publish) => PyBytes::new(py, publish.payload()),
            PublishRepr::Fields(message) => message.payload.bind(py).clone(),
        }
    }

    /// The QoS level.
    #[getter]
    fn qos<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (qos, ..) = self.header();
        qos_member(py, qos)
    }

    /// The RETAIN flag.
    #[getter]
    fn retain(&self) -> bool {
        let (_, retain, ..) = self.header();
        retain
    }

    /// The DUP flag.
    #[getter]
    fn dup(&self) -> bool {
        let (.., dup, _) = self.header();
        dup
    }

    /// The packet identifier, or None at QoS 0.
    #[getter]
    fn packet_id(&self) -> Option<u16> {
        let (.., packet_id) = self.header();
        packet_id.map(PacketId::get)
    }

    /// The PUBLISH properties (MQTT 5.0).
    #[getter]
    fn properties<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyPublishProperties>> {
        match &self.repr {
            PublishRepr::Fields(PyMessage {
                properties: Some(properties),
                ..
            }) => Ok(properties.bind(py).clone()),
            _ => {
                let properties = self.wire(py)?.properties.cloned().unwrap_or_default();
                Bound::new(py, PyPublishProperties::from(properties))
            }
        }
    }

    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        match other.cast::<Self>() {
            Ok(other) => Ok(self.core(py)? == other.get().core(py)?),
            Err(_) => Ok(false),
        }
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let wire = self.wire(py)?;
        Ok(format!(
            "Publish(topic={:?}, qos={}, packet_id={:?}, payload=<{} bytes>)",
            String::from_utf8_lossy(wire.topic),
            wire.qos.as_u8(),
            wire.packet_id.map(PacketId::get),
            wire.payload.len()
        ))
    }
}

macro_rules! py_ack {
    ($py:ident, $rust:ident, $name:literal) => {
        #[doc = concat!($name, ": an acknowledgement of a PUBLISH flow.")]
        #[pyclass(frozen, eq, name = $name, module = "mqtt_common.models.packets")]
        #[derive(PartialEq)]
        pub(crate) struct $py {
            inner: $rust,
        }

        #[pymethods]
        impl $py {
            #[new]
            #[pyo3(signature = (packet_id, reason_code=None, *, reason_string=None, user_properties=None),
                   text_signature = "(packet_id, reason_code=ReasonCode.SUCCESS, *, reason_string=None, user_properties=None)")]
            fn new(packet_id: &Bound<'_, PyAny>, reason_code: Option<&Bound<'_, PyAny>>, reason_string: Option<&Bound<'_, PyAny>>, user_properties: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
                let properties = ack_properties(reason_string, user_properties)?;
                let inner = $rust::new(self::packet_id(packet_id)?).with_reason(self::reason_code(reason_code)?, properties)?;
                Ok(Self { inner })
            }

            /// The packet identifier acknowledged.
            #[getter]
            fn packet_id(&self) -> u16 {
                self.inner.packet_id().get()
            }

            /// The reason code (Success before 5.0).
            #[getter]
            fn reason_code<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                reason_code_member(py, self.inner.reason_code())
            }

            /// The Reason String, or None.
            #[getter]
            fn reason_string(&self) -> Option<&str> {
                self.inner.properties().reason_string.as_deref()
            }

            /// The User Properties.
            #[getter]
            fn user_properties(&self) -> Vec<(&str, &str)> {
                pairs(&self.inner.properties().user_properties)
            }

            fn __repr__(&self) -> String {
                format!(concat!($name, "(packet_id={}, reason_code={})"), self.inner.packet_id(), self.inner.reason_code().name())
            }
        }
    };
}

py_ack!(PyPuback, Puback, "Puback");
py_ack!(PyPubrec, Pubrec, "Pubrec");
py_ack!(PyPubrel, Pubrel, "Pubrel");
py_ack!(PyPubcomp, Pubcomp, "Pubcomp");

/// SUBSCRIBE.
#[pyclass(frozen, eq, name = "Subscribe", module = "mqtt_common.models.packets")]
#[derive(PartialEq)]
pub(crate) struct PySubscribe {
    inner: Subscribe,
}

#[pymethods]
impl PySubscribe {
    #[new]
    #[pyo3(signature = (packet_id, subscriptions, *, user_properties=None))]
    fn new(
        packet_id: &Bound<'_, PyAny>,
        subscriptions: &Bound<'_, PyAny>,
        user_properties: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        const EXPECTED: &str = "a list of Subscription";
        let mut list = Vec::new();
        for item in iterate("subscriptions", EXPECTED, subscriptions)? {
            let item = item?;
            let subscription = item
                .cast::<PySubscription>()
                .map_err(|_| wrong_type("subscriptions", EXPECTED, &item))?;
            list.push(subscription.get().inner.clone());
        }
        let users = user_properties_arg(user_properties)?;
        Ok(Self {
            inner: Subscribe::new(self::packet_id(packet_id)?, list, users)?,
        })
    }

    /// The packet identifier.
    #[getter]
    fn packet_id(&self) -> u16 {
        self.inner.packet_id().get()
    }

    /// The subscriptions, in order.
    #[getter]
    fn subscriptions(&self) -> Vec<PySubscription> {
        self.inner
            .subscriptions()
            .iter()
            .map(|s| PySubscription { inner: s.clone() })
            .collect()
    }

    /// The User Properties.
    #[getter]
    fn user_properties(&self) -> Vec<(&str, &str)> {
        pairs(self.inner.user_properties())
    }

    fn __repr__(&self) -> String {
        let filters: Vec<&str> = self
            .inner
            .subscriptions()
            .iter()
            .map(|s| s.topic_filter().as_str())
            .collect();
        format!(
            "Subscribe(packet_id={}, topic_filters={:?})",
            self.inner.packet_id(),
            filters
        )
    }
}

/// SUBACK.
#[pyclass(frozen, eq, name = "Suback", module = "mqtt_common.models.packets")]
#[derive(PartialEq)]
pub(crate) struct PySuback {
    inner: Suback,
}

fn reason_codes(obj: &Bound<'_, PyAny>) -> Result<Vec<ReasonCode>, Error> {
    iterate("reason_codes", "a list of ReasonCode", obj)?
        .map(|item| {
            reason_code(Some(&item.map_err(|_| {
                wrong_type("reason_codes", "a list of ReasonCode", obj)
            })?))
        })
        .collect()
}

fn reason_code_list<'py>(
    py: Python<'py>,
    codes: &[ReasonCode],
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    codes.iter().map(|c| reason_code_member(py, *c)).collect()
}

#[pymethods]
impl PySuback {
    #[new]
    #[pyo3(signature = (packet_id, reason_codes, *, reason_string=None, user_properties=None))]
    fn new(
        packet_id: &Bound<'_, PyAny>,
        reason_codes: &Bound<'_, PyAny>,
        reason_string: Option<&Bound<'_, PyAny>>,
        user_properties: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let properties = ack_properties(reason_string, user_properties)?;
        Ok(Self {
            inner: Suback::new(
                self::packet_id(packet_id)?,
                self::reason_codes(reason_codes)?,
                properties,
            )?,
        })
    }

    /// The SUBACK that answers `subscribe`: its packet identifier, and exactly one reason
    /// code per filter, in order.
    #[staticmethod]
    #[pyo3(signature = (subscribe, reason_codes, *, reason_string=None, user_properties=None))]
    fn answering(
        subscribe: &Bound<'_, PyAny>,
        reason_codes: &Bound<'_, PyAny>,
        reason_string: Option<&Bound<'_, PyAny>>,
        user_properties: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let subscribe = subscribe
            .cast::<PySubscribe>()
            .map_err(|_| wrong_type("subscribe", "a Subscribe", subscribe))?;
        let properties = ack_properties(reason_string, user_properties)?;
        Ok(Self {
            inner: Suback::answering(
                &subscribe.get().inner,
                self::reason_codes(reason_codes)?,
                properties,
            )?,
        })
    }

    /// The packet identifier.
    #[getter]
    fn packet_id(&self) -> u16 {
        self.inner.packet_id().get()
    }

    /// One reason code per filter, in order.
    #[getter]
    fn reason_codes<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        reason_code_list(py, self.inner.reason_codes())
    }

    /// The 3.1.1 return codes: granted QoS, or 0x80 for a failure.
    #[getter]
    fn return_codes(&self) -> Vec<u32> {
        // u32, not u8: PyO3 turns a Vec<u8> into bytes.
        self.inner.return_codes().map(u32::from).collect()
    }

    /// The Reason String, or None.
    #[getter]
    fn reason_string(&self) -> Option<&str> {
        self.inner.properties().reason_string.as_deref()
    }

    /// The User Properties.
    #[getter]
    fn user_properties(&self) -> Vec<(&str, &str)> {
        pairs(&self.inner.properties().user_properties)
    }

    fn __repr__(&self) -> String {
        let codes: Vec<&str> = self.inner.reason_codes().iter().map(|c| c.name()).collect();
        format!(
            "Suback(packet_id={}, reason_codes={:?})",
            self.inner.packet_id(),
            codes
        )
    }
}

/// UNSUBSCRIBE.
#[pyclass(
    frozen,
    eq,
    name = "Unsubscribe",
    module = "mqtt_common.models.packets"
)]
#[derive(PartialEq)]
pub(crate) struct PyUnsubscribe {
    inner: Unsubscribe,
}

#[pymethods]
impl PyUnsubscribe {
    #[new]
    #[pyo3(signature = (packet_id, topic_filters, *, user_properties=None))]
    fn new(
        packet_id: &Bound<'_, PyAny>,
        topic_filters: &Bound<'_, PyAny>,
        user_properties: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        const EXPECTED: &str = "a list of str";
        let mut filters = Vec::new();
        for item in iterate("topic_filters", EXPECTED, topic_filters)? {
            let item = item?;
            let text = extract_str(
                "topic_filters",
                &item,
                Violation::TopicInvalidUtf8 {
                    kind: TopicKind::Filter,
                },
            )?;
            filters.push(TopicFilter::new(text).map_err(|e| e.in_field("topic_filters"))?);
        }
        let users = user_properties_arg(user_properties)?;
        Ok(Self {
            inner: Unsubscribe::new(self::packet_id(packet_id)?, filters, users)?,
        })
    }

    /// The packet identifier.
    #[getter]
    fn packet_id(&self) -> u16 {
        self.inner.packet_id().get()
    }

    /// The topic filters, in order.
    #[getter]
    fn topic_filters(&self) -> Vec<&str> {
        self.inner.filters().iter().map(|f| f.as_str()).collect()
    }

    /// The User Properties.
    #[getter]
    fn user_properties(&self) -> Vec<(&str, &str)> {
        pairs(self.inner.user_properties())
    }

    fn __repr__(&self) -> String {
        format!(
            "Unsubscribe(packet_id={}, topic_filters={:?})",
            self.inner.packet_id(),
            self.topic_filters()
        )
    }
}

/// UNSUBACK.
#[pyclass(frozen, eq, name = "Unsuback", module = "mqtt_common.models.packets")]
#[derive(PartialEq)]
pub(crate) struct PyUnsuback {
    inner: Unsuback,
}

#[pymethods]
impl PyUnsuback {
    #[new]
    #[pyo3(signature = (packet_id, reason_codes=None, *, reason_string=None, user_properties=None))]
    fn new(
        packet_id: &Bound<'_, PyAny>,
        reason_codes: Option<&Bound<'_, PyAny>>,
        reason_string: Option<&Bound<'_, PyAny>>,
        user_properties: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let codes = present(reason_codes)
            .map(self::reason_codes)
            .transpose()?
            .unwrap_or_default();
        let properties = ack_properties(reason_string, user_properties)?;
        Ok(Self {
            inner: Unsuback::new(self::packet_id(packet_id)?, codes, properties)?,
        })
    }

    /// The UNSUBACK that answers `unsubscribe`: its packet identifier, and exactly one
    /// reason code per filter, in order (3.1.1 leaves them out on the wire).
    #[staticmethod]
    #[pyo3(signature = (unsubscribe, reason_codes, *, reason_string=None, user_properties=None))]
    fn answering(
        unsubscribe: &Bound<'_, PyAny>,
        reason_codes: &Bound<'_, PyAny>,
        reason_string: Option<&Bound<'_, PyAny>>,
        user_properties: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let unsubscribe = unsubscribe
            .cast::<PyUnsubscribe>()
            .map_err(|_| wrong_type("unsubscribe", "an Unsubscribe", unsubscribe))?;
        let properties = ack_properties(reason_string, user_properties)?;
        Ok(Self {
            inner: Unsuback::answering(
                &unsubscribe.get().inner,
                self::reason_codes(reason_codes)?,
                properties,
            )?,
        })
    }

    /// The packet identifier.
    #[getter]
    fn packet_id(&self) -> u16 {
        self.inner.packet_id().get()
    }

    /// One reason code per filter (MQTT 5.0; empty before).
    #[getter]
    fn reason_codes<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        reason_code_list(py, self.inner.reason_codes())
    }

    /// The Reason String, or None.
    #[getter]
    fn reason_string(&self) -> Option<&str> {
        self.inner.properties().reason_string.as_deref()
    }

    /// The User Properties.
    #[getter]
    fn user_properties(&self) -> Vec<(&str, &str)> {
        pairs(&self.inner.properties().user_properties)
    }

    fn __repr__(&self) -> String {
        format!("Unsuback(packet_id={})", self.inner.packet_id())
    }
}

macro_rules! py_empty {
    ($py:ident, $name:literal) => {
        #[doc = concat!($name, ": a packet without a body.")]
        #[pyclass(frozen, eq, name = $name, module = "mqtt_common.models.packets")]
        #[derive(PartialEq)]
        pub(crate) struct $py;

        #[pymethods]
        impl $py {
            #[new]
            fn new() -> Self {
                Self
            }

            fn __repr__(&self) -> &'static str {
                concat!($name, "()")
            }
        }
    };
}

py_empty!(PyPingreq, "Pingreq");
py_empty!(PyPingresp, "Pingresp");

macro_rules! py_reason_packet {
    ($py:ident, $rust:ident, $name:literal, $packet:expr) => {
        #[doc = concat!($name, ": a reason code and properties.")]
        #[pyclass(frozen, eq, name = $name, module = "mqtt_common.models.packets")]
        #[derive(PartialEq)]
        pub(crate) struct $py {
            inner: $rust,
        }

        #[pymethods]
        impl $py {
            #[new]
            #[pyo3(signature = (reason_code=None, *, properties=None), text_signature = "(reason_code=ReasonCode.SUCCESS, *, properties=None)")]
            fn new(reason_code: Option<&Bound<'_, PyAny>>, properties: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
                let properties = properties_from_dict(properties, PropertyContext::Packet($packet))?;
                Ok(Self { inner: $rust::new(self::reason_code(reason_code)?, properties)? })
            }

            /// The reason code.
            #[getter]
            fn reason_code<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                reason_code_member(py, self.inner.reason_code())
            }

            /// The properties (MQTT 5.0), by snake_case name.
            #[getter]
            fn properties<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                properties_to_dict(py, self.inner.properties())
            }

            fn __repr__(&self) -> String {
                format!(concat!($name, "(reason_code={})"), self.inner.reason_code().name())
            }
        }
    };
}

py_reason_packet!(
    PyDisconnect,
    Disconnect,
    "Disconnect",
    PacketType::Disconnect
);
py_reason_packet!(PyAuth, Auth, "Auth", PacketType::Auth);

/// A Rust packet as its Python class.
pub(crate) fn packet_to_py(py: Python<'_>, packet: Packet) -> PyResult<Py<PyAny>> {
    Ok(match packet {
        Packet::Connect(inner) => Py::new(py, PyConnect { inner: *inner })?.into_any(),
        Packet::Connack(inner) => Py::new(py, PyConnack { inner })?.into_any(),
        Packet::Publish(inner) => Py::new(py, PyPublish::from_inner(inner))?.into_any(),
        Packet::Puback(inner) => Py::new(py, PyPuback { inner })?.into_any(),
        Packet::Pubrec(inner) => Py::new(py, PyPubrec { inner })?.into_any(),
        Packet::Pubrel(inner) => Py::new(py, PyPubrel { inner })?.into_any(),
        Packet::Pubcomp(inner) => Py::new(py, PyPubcomp { inner })?.into_any(),
        Packet::Subscribe(inner) => Py::new(py, PySubscribe { inner })?.into_any(),
        Packet::Suback(inner) => Py::new(py, PySuback { inner })?.into_any(),
        Packet::Unsubscribe(inner) => Py::new(py, PyUnsubscribe { inner })?.into_any(),
        Packet::Unsuback(inner) => Py::new(py, PyUnsuback { inner })?.into_any(),
        Packet::Pingreq => Py::new(py, PyPingreq)?.into_any(),
        Packet::Pingresp => Py::new(py, PyPingresp)?.into_any(),
        Packet::Disconnect(inner) => Py::new(py, PyDisconnect { inner })?.into_any(),
        Packet::Auth(inner) => Py::new(py, PyAuth { inner })?.into_any(),
    })
}

/// What `encode` writes: a core packet, borrowed, or the fields of a PUBLISH built from
/// Python values.
enum Outgoing<'a> {
    Packet(PacketRef<'a>),
    Publish(PublishWire<'a>),
}

/// The packet inside a Python packet object, borrowed.
fn outgoing<'a>(py: Python<'a>, obj: &'a Bound<'_, PyAny>) -> PyResult<Outgoing<'a>> {
    // PUBLISH first: it is the one sent at message rate.
    if let Ok(publish) = obj.cast::<PyPublish>() {
        return Ok(match &publish.get().repr {
            PublishRepr::Core(core) => Outgoing::Packet(PacketRef::Publish(core)),
            PublishRepr::Fields(message) => Outgoing::Publish(message.wire(py)?),
        });
    }
    macro_rules! try_cast {
        ($($py:ident => $variant:ident),*) => {
            $(if let Ok(p) = obj.cast::<$py>() {
                return Ok(Outgoing::Packet(PacketRef::$variant(&p.get().inner)));
            })*
        };
    }
    try_cast!(PyConnect => Connect, PyConnack => Connack, PyPuback => Puback,
              PyPubrec => Pubrec, PyPubrel => Pubrel, PyPubcomp => Pubcomp, PySubscribe => Subscribe,
              PySuback => Suback, PyUnsubscribe => Unsubscribe, PyUnsuback => Unsuback,
              PyDisconnect => Disconnect, PyAuth => Auth);
    if obj.is_instance_of::<PyPingreq>() {
        return Ok(Outgoing::Packet(PacketRef::Pingreq));
    }
    if obj.is_instance_of::<PyPingresp>() {
        return Ok(Outgoing::Packet(PacketRef::Pingresp));
    }
    Err(wrong_type("packet", "a packet from mqtt_common.models.packets", obj).into())
}

fn direction(obj: Option<&Bound<'_, PyAny>>) -> Result<Direction, Error> {
    let Some(obj) = present(obj) else {
        return Ok(Direction::FromClient);
    };
    match extract_str("direction", obj, Violation::InvalidUtf8)? {
        "from_client" => Ok(Direction::FromClient),
        "from_server" => Ok(Direction::FromServer),
        other => Err(Error::invalid(
            "direction",
            Violation::UnknownField {
                name: other.to_owned(),
            },
        )),
    }
}

/// Wire data: bytes-like only (a `str` would be encoded, which is never what is meant).
fn data(obj: &Bound<'_, PyAny>) -> Result<Bytes, Error> {
    if obj.is_instance_of::<pyo3::types::PyString>() {
        return Err(wrong_type("data", "bytes, bytearray or memoryview", obj));
    }
    Ok(shared_bytes(&extract_bytes("data", obj)?))
}

/// A sans-I/O streaming decoder for one connection.
#[pyclass(name = "Decoder", module = "mqtt_common.utils.codec")]
pub(crate) struct PyDecoder {
    inner: Decoder,
}

#[pymethods]
impl PyDecoder {
    #[new]
    #[pyo3(signature = (protocol_version=None, max_packet_size=None, direction=None, *, topic_alias_maximum=None, strict_utf8=None),
           text_signature = "(protocol_version=None, max_packet_size=1048576, direction='from_client', *, topic_alias_maximum=0, strict_utf8=True)")]
    fn new(
        protocol_version: Option<&Bound<'_, PyAny>>,
        max_packet_size: Option<&Bound<'_, PyAny>>,
        direction: Option<&Bound<'_, PyAny>>,
        topic_alias_maximum: Option<&Bound<'_, PyAny>>,
        strict_utf8: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let mut inner = Decoder::new(self::direction(direction)?);
        if let Some(obj) = present(protocol_version) {
            inner = inner.with_version(self::protocol_version(Some(obj), ProtocolVersion::V5)?);
        }
        if let Some(obj) = present(max_packet_size) {
            inner = inner.with_max_packet_size(extract_uint(
                "max_packet_size",
                obj,
                2,
                u32::MAX.into(),
                "MQTT-3.2.2-15",
            )? as u32);
        }
        if let Some(obj) = present(topic_alias_maximum) {
            inner = inner.with_topic_alias_maximum(extract_uint(
                "topic_alias_maximum",
                obj,
                0,
                u16::MAX.into(),
                "§3.2.2.3.8",
            )? as u16);
        }
        if let Some(obj) = present(strict_utf8) {
            let policy = if extract_bool("strict_utf8", obj)? {
                Utf8Policy::Strict
            } else {
                Utf8Policy::Lenient
            };
            inner = inner.with_utf8_policy(policy);
        }
        Ok(Self { inner })
    }

    /// Buffer `data` and return every complete packet; incomplete bytes wait for more.
    ///
    /// A bad packet raises, unless good packets came before it in this call: those are
    /// returned, and the error is raised by the next call (the decoder stays failed).
    fn feed<'py>(
        &mut self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        self.inner.feed_bytes(self::data(data)?);
        let packets = PyList::empty(py);
        loop {
            match self.inner.next_packet() {
                Ok(Some(packet)) => packets.append(packet_to_py(py, packet)?)?,
                Ok(None) => break,
                Err(_) if !packets.is_empty() => break,
                Err(err) => return Err(err.into()),
            }
        }
        Ok(packets)
    }

    /// The protocol version, once known (given, or learned from CONNECT).
    #[getter]
    fn protocol_version<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .protocol_version()
            .map(|v| protocol_version_member(py, v))
            .transpose()
    }

    /// Bytes buffered and not yet decoded.
    #[getter]
    fn buffered(&self) -> usize {
        self.inner.buffered()
    }

    /// Tell a server-side decoder the CONNACK has been sent, ending an enhanced
    /// authentication exchange (until then only AUTH and DISCONNECT are accepted).
    fn connack_sent(&mut self) {
        self.inner.connack_sent();
    }

    /// Whether CONNECT named an Authentication Method and no CONNACK has been sent.
    #[getter]
    fn is_authenticating(&self) -> bool {
        self.inner.is_authenticating()
    }
}

/// Encode a packet for a protocol version.
#[pyfunction]
pub(super) fn encode<'py>(
    py: Python<'py>,
    packet: &Bound<'py, PyAny>,
    protocol_version: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let version = self::protocol_version(Some(protocol_version), ProtocolVersion::V5)?;
    // Written straight into the new `bytes` object: no intermediate buffer to copy.
    match outgoing(py, packet)? {
        Outgoing::Packet(packet) => {
            PyBytes::new_with(py, packet.encoded_len(version), |mut out| {
                Ok(packet.encode(version, &mut out)?)
            })
        }
        Outgoing::Publish(publish) => {
            let len = publish.encoded_len(version);
            check_encoded_size(len)?;
            PyBytes::new_with(py, len, |mut out| {
                publish.encode(version, &mut out);
                Ok(())
            })
        }
    }
}

/// Decode exactly one complete packet.
#[pyfunction]
#[pyo3(signature = (data, protocol_version, direction=None))]
pub(super) fn decode(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    protocol_version: &Bound<'_, PyAny>,
    direction: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let version = self::protocol_version(Some(protocol_version), ProtocolVersion::V5)?;
    let packet = codec::decode(self::data(data)?, version, self::direction(direction)?)?;
    packet_to_py(py, packet)
}
