//! `PublishProperties` for Python: the MQTT 5.0 properties of a PUBLISH.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::error::{Error, TopicKind, Violation};
use crate::message::{PayloadFormat, PublishProperties, TopicAlias};
use crate::python::convert::{
    Fields, extract_bytes, extract_topic, int_arg, iterate, kwargs, mqtt_string, present, repr,
    shared_bytes, user_properties, user_properties_list, wrong_type,
};
use crate::string::BinaryData;
use crate::topic::SubscriptionId;

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
    pub(crate) inner: PublishProperties,
}

impl From<PublishProperties> for PyPublishProperties {
    fn from(inner: PublishProperties) -> Self {
        Self { inner }
    }
}

/// The constructor's keywords: what a dict of properties may hold.
const FIELDS: [&str; 8] = [
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
    /// The properties of a `PublishProperties` object, or of a dict with the same keys
    /// (built by the constructor, so checked the same way).
    pub(crate) fn coerce(obj: &Bound<'_, PyAny>) -> Result<PublishProperties, Error> {
        if let Ok(properties) = obj.cast::<Self>() {
            return Ok(properties.get().inner.clone());
        }
        let Ok(dict) = obj.cast::<PyDict>() else {
            return Err(wrong_type(
                "properties",
                "PublishProperties, dict or None",
                obj,
            ));
        };
        for key in dict.keys() {
            let known = key
                .cast::<PyString>()
                .ok()
                .and_then(|k| k.to_str().ok())
                .is_some_and(|name| FIELDS.contains(&name));
            if !known {
                let name = key.str().map_or_else(|_| "?".to_owned(), |s| s.to_string());
                return Err(Error::invalid(
                    "properties",
                    Violation::UnknownField { name },
                ));
            }
        }
        let built = obj
            .py()
            .get_type::<Self>()
            .call((), Some(dict))
            .map_err(Error::from)?;
        let properties = built
            .cast::<Self>()
            .map_err(|_| wrong_type("properties", "PublishProperties", obj))?;
        Ok(properties.get().inner.clone())
    }

    fn fields<'py>(slf: &Bound<'py, Self>) -> PyResult<Fields<'py>> {
        let mut fields = Vec::new();
        for name in FIELDS {
            let value = slf.getattr(name)?;
            let unset = value.is_none() || (value.is_instance_of::<PyList>() && value.len()? == 0);
            if !unset {
                fields.push((name, value));
            }
        }
        Ok(fields)
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
        let mut p = PublishProperties::default();
        if let Some(obj) = present(payload_format_indicator) {
            p.payload_format_indicator = Some(int_arg::<PayloadFormat>(
                "properties.payload_format_indicator",
                obj,
            )?);
        }
        if let Some(obj) = present(message_expiry_interval) {
            p.message_expiry_interval =
                Some(int_arg::<u32>("properties.message_expiry_interval", obj)?);
        }
        if let Some(obj) = present(content_type) {
            p.content_type = Some(mqtt_string("properties.content_type", obj)?);
        }
        if let Some(obj) = present(response_topic) {
            const FIELD: &str = "properties.response_topic";
            let text = extract_topic(FIELD, TopicKind::Name, obj)?;
            p.response_topic =
                Some(crate::message::response_topic(text).map_err(|e| e.in_field(FIELD))?);
        }
        if let Some(obj) = present(correlation_data) {
            const FIELD: &str = "properties.correlation_data";
            let bytes = extract_bytes(FIELD, obj)?;
            p.correlation_data =
                Some(BinaryData::new(shared_bytes(&bytes)).map_err(|v| Error::invalid(FIELD, v))?);
        }
        p.user_properties = self::user_properties("properties.user_properties", user_properties)?;
        if let Some(obj) = present(subscription_identifiers) {
            const FIELD: &str = "properties.subscription_identifiers";
            for item in iterate(FIELD, "a list of int", obj)? {
                let item = item.map_err(|_| wrong_type(FIELD, "a list of int", obj))?;
                p.subscription_identifiers
                    .push(int_arg::<SubscriptionId>(FIELD, &item)?);
            }
        }
        if let Some(obj) = present(topic_alias) {
            p.topic_alias = Some(int_arg::<TopicAlias>("properties.topic_alias", obj)?);
        }
        Ok(Self { inner: p })
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
    fn user_properties<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        user_properties_list(py, &self.inner.user_properties)
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

    /// Return the properties that are set, as a dict of the constructor's keywords.
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        kwargs(slf.py(), Self::fields(slf)?)
    }

    /// Return a copy with these fields changed.
    #[pyo3(signature = (**changes))]
    fn replace<'py>(
        slf: &Bound<'py, Self>,
        changes: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::python::convert::replace(slf.as_any(), Self::fields(slf)?, changes)
    }

    #[pyo3(signature = (**changes))]
    fn __replace__<'py>(
        slf: &Bound<'py, Self>,
        changes: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        Self::replace(slf, changes)
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
        repr(slf.as_any(), "PublishProperties", &Self::fields(slf)?, &[])
    }
}
