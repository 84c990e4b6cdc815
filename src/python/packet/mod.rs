//! The packet classes of `mqtt_common.models.packets`, one file per packet as in the
//! core: conversions around the core packets, nothing more.

mod ack;
mod auth;
mod connack;
mod connect;
mod disconnect;
mod ping;
mod publish;
mod suback;
mod subscribe;
mod unsuback;
mod unsubscribe;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

pub(crate) use ack::{PyPuback, PyPubcomp, PyPubrec, PyPubrel};
pub(crate) use auth::PyAuth;
pub(crate) use connack::PyConnack;
pub(crate) use connect::PyConnect;
pub(crate) use disconnect::PyDisconnect;
pub(crate) use ping::{PyPingreq, PyPingresp};
pub(crate) use publish::PyPublish;
pub(crate) use suback::PySuback;
pub(crate) use subscribe::PySubscribe;
pub(crate) use unsuback::PyUnsuback;
pub(crate) use unsubscribe::PyUnsubscribe;

use super::convert::{
    extract_binary, extract_int, extract_str, mqtt_string, present, shared_bytes, user_properties,
    user_properties_list, wrong_type,
};
use crate::constants::{PropertyContext, PropertyId, PropertyType};
use crate::error::{Error, Violation};
use crate::message::MessageRef;
use crate::packet::{AckProperties, Packet, PacketRef, Properties, PropertyValue};

/// The dict key of a property: its spec name in snake case.
fn property_key(property: PropertyId) -> String {
    property.name().to_ascii_lowercase()
}

/// Properties as a dict of snake_case names; User Properties as `user_properties`, a list
/// of pairs in order.
pub(crate) fn properties_to_dict<'py>(
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

/// Properties from such a dict (or None), checked for `context` by the core.
pub(crate) fn properties_from_dict(
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
        let name = extract_str(FIELD, &key)?;
        if name == "user_properties" {
            for (k, v) in user_properties("properties.user_properties", Some(&value))? {
                items.push((PropertyId::UserProperty, PropertyValue::StringPair(k, v)));
            }
            continue;
        }
        let unknown = || {
            Error::invalid(
                FIELD,
                Violation::UnknownField {
                    name: name.to_owned(),
                },
            )
        };
        let property = PropertyId::from_name(name)
            .filter(|p| *p != PropertyId::UserProperty && property_key(*p) == name)
            .ok_or_else(unknown)?;
        let value = match property.value_type() {
            PropertyType::Utf8String => PropertyValue::String(mqtt_string(FIELD, &value)?),
            PropertyType::BinaryData => {
                let bytes = extract_binary(FIELD, &value, "bytes, bytearray or memoryview")?;
                PropertyValue::Binary(shared_bytes(&bytes))
            }
            _ => PropertyValue::from_integer(property, extract_int(FIELD, &value)?)
                .map_err(|v| Error::invalid(FIELD, v))?,
        };
        items.push((property, value));
    }
    Properties::new(items, context)
}

/// The Reason String and User Properties of an acknowledgement.
pub(crate) fn ack_properties(
    reason_string: Option<&Bound<'_, PyAny>>,
    user_properties: Option<&Bound<'_, PyAny>>,
) -> Result<AckProperties, Error> {
    Ok(AckProperties {
        reason_string: present(reason_string)
            .map(|o| mqtt_string("reason_string", o))
            .transpose()?,
        user_properties: self::user_properties("user_properties", user_properties)?,
    })
}

/// The User Properties of an acknowledgement, as a list of pairs.
pub(crate) fn ack_user_properties<'py>(
    py: Python<'py>,
    properties: &AckProperties,
) -> PyResult<Bound<'py, PyList>> {
    user_properties_list(py, &properties.user_properties)
}

/// `Class(getter=repr(value), ...)` over the named getters.
pub(crate) fn repr_of(
    obj: &Bound<'_, PyAny>,
    class: &str,
    getters: &[&'static str],
) -> PyResult<String> {
    let fields = getters
        .iter()
        .map(|name| Ok((*name, obj.getattr(*name)?)))
        .collect::<PyResult<Vec<_>>>()?;
    super::convert::repr(obj, class, &fields, &[])
}

/// A packet whose body is a reason code and properties (DISCONNECT, AUTH).
macro_rules! py_reason_packet {
    ($py:ident, $rust:ident, $name:literal, $packet:expr, $doc:literal) => {
        #[doc = $doc]
        #[pyclass(frozen, eq, name = $name, module = "mqtt_common.models.packets")]
        #[derive(PartialEq)]
        pub(crate) struct $py {
            pub(crate) inner: $rust,
        }

        impl From<$rust> for $py {
            fn from(inner: $rust) -> Self {
                Self { inner }
            }
        }

        #[pymethods]
        impl $py {
            #[new]
            #[pyo3(signature = (reason_code=0, *, properties=None))]
            fn new(
                #[pyo3(from_py_with = int::<ReasonCodeArg>)] reason_code: i128,
                properties: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<Self> {
                let properties =
                    properties_from_dict(properties, PropertyContext::Packet($packet))?;
                let reason_code = int_value::<ReasonCode>("reason_code", reason_code)?;
                Ok(Self {
                    inner: $rust::new(reason_code, properties)?,
                })
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

            fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
                repr_of(slf.as_any(), $name, &["reason_code", "properties"])
            }
        }
    };
}

pub(crate) use py_reason_packet;

/// A Rust packet as its Python class.
pub(crate) fn packet_to_py(py: Python<'_>, packet: Packet) -> PyResult<Py<PyAny>> {
    Ok(match packet {
        Packet::Connect(inner) => Py::new(py, PyConnect::from(*inner))?.into_any(),
        Packet::Connack(inner) => Py::new(py, PyConnack::from(inner))?.into_any(),
        Packet::Publish(inner) => Py::new(py, PyPublish::from(inner))?.into_any(),
        Packet::Puback(inner) => Py::new(py, PyPuback::from(inner))?.into_any(),
        Packet::Pubrec(inner) => Py::new(py, PyPubrec::from(inner))?.into_any(),
        Packet::Pubrel(inner) => Py::new(py, PyPubrel::from(inner))?.into_any(),
        Packet::Pubcomp(inner) => Py::new(py, PyPubcomp::from(inner))?.into_any(),
        Packet::Subscribe(inner) => Py::new(py, PySubscribe::from(inner))?.into_any(),
        Packet::Suback(inner) => Py::new(py, PySuback::from(inner))?.into_any(),
        Packet::Unsubscribe(inner) => Py::new(py, PyUnsubscribe::from(inner))?.into_any(),
        Packet::Unsuback(inner) => Py::new(py, PyUnsuback::from(inner))?.into_any(),
        Packet::Pingreq => Py::new(py, PyPingreq)?.into_any(),
        Packet::Pingresp => Py::new(py, PyPingresp)?.into_any(),
        Packet::Disconnect(inner) => Py::new(py, PyDisconnect::from(inner))?.into_any(),
        Packet::Auth(inner) => Py::new(py, PyAuth::from(inner))?.into_any(),
    })
}

/// What `encode` writes: a core packet, borrowed, or a PUBLISH whose message lives in
/// Python objects.
pub(crate) enum Outgoing<'a> {
    /// A core packet.
    Packet(PacketRef<'a>),
    /// A PUBLISH built from Python values or a `Message`.
    Publish(MessageRef<'a>),
}

/// The packet inside a Python packet object, borrowed.
pub(crate) fn outgoing<'a>(py: Python<'a>, obj: &'a Bound<'_, PyAny>) -> PyResult<Outgoing<'a>> {
    // PUBLISH first: it is the one sent at message rate.
    if let Ok(publish) = obj.cast::<PyPublish>() {
        return publish.get().outgoing(py);
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
