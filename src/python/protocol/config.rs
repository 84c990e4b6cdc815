//! `ServerConfig` for Python.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyFloat;

use crate::constants::QoS;
use crate::error::{Error, Violation};
use crate::protocol::ServerConfig;
use crate::python::constants::qos_member;
use crate::python::convert::{
    ConnectTimeout, Field, HoldAcknowledgements, MaxKeepAlive, MaxPacketsBeforeConnack,
    MaxQueuedMessages, MaximumPacketSize, MaximumQos, ReceiveMaximum, RetainAvailable,
    SharedSubscriptionAvailable, SubscriptionIdentifiersAvailable, TopicAliasMaximum,
    WildcardSubscriptionAvailable, flag, int, int_arg, int_value, present, repr, wrong_type,
};

const DEFAULT: ServerConfig = ServerConfig::DEFAULT;

/// The constructor's keywords, in order.
const FIELDS: [&str; 14] = [
    "receive_maximum",
    "maximum_qos",
    "retain_available",
    "maximum_packet_size",
    "topic_alias_maximum",
    "wildcard_subscription_available",
    "subscription_identifiers_available",
    "shared_subscription_available",
    "max_keep_alive",
    "connect_timeout",
    "max_queued_messages",
    "max_packets_before_connack",
    "hold_acknowledgements",
    "max_publish_rate",
];

/// A non-negative number of seconds (`int` or `float`) as a duration.
pub(crate) fn seconds_arg(field: &'static str, obj: &Bound<'_, PyAny>) -> Result<Duration, Error> {
    let is_number = obj.is_instance_of::<PyFloat>()
        || obj.is_instance_of::<pyo3::types::PyInt>()
            && !obj.is_instance_of::<pyo3::types::PyBool>();
    let value: f64 = match obj.extract() {
        Ok(value) if is_number => value,
        _ => return Err(wrong_type(field, "float (seconds)", obj)),
    };
    Duration::try_from_secs_f64(value).map_err(|_| {
        Error::invalid(
            field,
            Violation::NotOneOf {
                value: obj
                    .repr()
                    .map_or_else(|_| value.to_string(), |r| r.to_string()),
                choices: &["a finite number of seconds, 0 or more"],
            },
        )
    })
}

fn connect_timeout(obj: &Bound<'_, PyAny>) -> PyResult<Duration> {
    Ok(seconds_arg(ConnectTimeout::NAME, obj)?)
}

fn max_publish_rate(obj: &Bound<'_, PyAny>) -> PyResult<Option<NonZeroU32>> {
    match present(Some(obj)) {
        None => Ok(None),
        Some(obj) => {
            let rate: u32 = int_arg("max_publish_rate", obj)?;
            Ok(Some(NonZeroU32::new(rate).ok_or_else(|| {
                Error::invalid(
                    "max_publish_rate",
                    Violation::NotOneOf {
                        value: "0".to_owned(),
                        choices: &["a rate of 1 or more PUBLISH per second, or None"],
                    },
                )
            })?))
        }
    }
}

fn max_keep_alive(obj: &Bound<'_, PyAny>) -> PyResult<Option<u16>> {
    match present(Some(obj)) {
        None => Ok(None),
        Some(obj) => Ok(Some(int_arg(MaxKeepAlive::NAME, obj)?)),
    }
}

/// The server's limits, enforced by every ServerConnection.
///
/// MQTT 5.0 clients are told them in the CONNACK. Each field is the Rust
/// `ServerConfig`'s: Receive Maximum, Maximum QoS, Retain Available, Maximum Packet Size,
/// Topic Alias Maximum, the three Available flags, the longest Keep Alive a client may
/// choose (None: any), how long a new connection may take to send CONNECT, how many
/// deliveries may wait for the client's Receive Maximum, how many packets a client
/// may send before its CONNECT is answered, whether acknowledgements of received
/// PUBLISH wait until the broker releases them (``hold_acknowledgements``), and how many
/// PUBLISH a client may send per second (``max_publish_rate``; None: any).
#[pyclass(frozen, eq, name = "ServerConfig", module = "mqtt_common.protocol")]
#[derive(PartialEq)]
pub(crate) struct PyServerConfig {
    /// Shared with the connections made with it.
    pub(crate) inner: Arc<ServerConfig>,
}

#[pymethods]
impl PyServerConfig {
    #[new]
    #[pyo3(signature = (
        *,
        receive_maximum = i128::from(DEFAULT.receive_maximum),
        maximum_qos = i128::from(DEFAULT.maximum_qos.as_u8()),
        retain_available = DEFAULT.retain_available,
        maximum_packet_size = i128::from(DEFAULT.maximum_packet_size),
        topic_alias_maximum = i128::from(DEFAULT.topic_alias_maximum),
        wildcard_subscription_available = DEFAULT.wildcard_subscription_available,
        subscription_identifiers_available = DEFAULT.subscription_identifiers_available,
        shared_subscription_available = DEFAULT.shared_subscription_available,
        max_keep_alive = None,
        connect_timeout = DEFAULT.connect_timeout,
        max_queued_messages = DEFAULT.max_queued_messages as i128,
        max_packets_before_connack = DEFAULT.max_packets_before_connack as i128,
        hold_acknowledgements = DEFAULT.hold_acknowledgements,
        max_publish_rate = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        #[pyo3(from_py_with = int::<ReceiveMaximum>)] receive_maximum: i128,
        #[pyo3(from_py_with = int::<MaximumQos>)] maximum_qos: i128,
        #[pyo3(from_py_with = flag::<RetainAvailable>)] retain_available: bool,
        #[pyo3(from_py_with = int::<MaximumPacketSize>)] maximum_packet_size: i128,
        #[pyo3(from_py_with = int::<TopicAliasMaximum>)] topic_alias_maximum: i128,
        #[pyo3(from_py_with = flag::<WildcardSubscriptionAvailable>)]
        wildcard_subscription_available: bool,
        #[pyo3(from_py_with = flag::<SubscriptionIdentifiersAvailable>)]
        subscription_identifiers_available: bool,
        #[pyo3(from_py_with = flag::<SharedSubscriptionAvailable>)]
        shared_subscription_available: bool,
        #[pyo3(from_py_with = max_keep_alive)] max_keep_alive: Option<u16>,
        #[pyo3(from_py_with = connect_timeout)] connect_timeout: Duration,
        #[pyo3(from_py_with = int::<MaxQueuedMessages>)] max_queued_messages: i128,
        #[pyo3(from_py_with = int::<MaxPacketsBeforeConnack>)] max_packets_before_connack: i128,
        #[pyo3(from_py_with = flag::<HoldAcknowledgements>)] hold_acknowledgements: bool,
        #[pyo3(from_py_with = max_publish_rate)] max_publish_rate: Option<NonZeroU32>,
    ) -> PyResult<Self> {
        Ok(Self {
            inner: Arc::new(ServerConfig {
                receive_maximum: int_value(ReceiveMaximum::NAME, receive_maximum)?,
                maximum_qos: int_value::<QoS>(MaximumQos::NAME, maximum_qos)?,
                retain_available,
                maximum_packet_size: int_value(MaximumPacketSize::NAME, maximum_packet_size)?,
                topic_alias_maximum: int_value(TopicAliasMaximum::NAME, topic_alias_maximum)?,
                wildcard_subscription_available,
                subscription_identifiers_available,
                shared_subscription_available,
                max_keep_alive,
                connect_timeout,
                max_queued_messages: int_value(MaxQueuedMessages::NAME, max_queued_messages)?,
                max_packets_before_connack: int_value(
                    MaxPacketsBeforeConnack::NAME,
                    max_packets_before_connack,
                )?,
                hold_acknowledgements,
                max_publish_rate,
            }),
        })
    }

    /// How many QoS 1 and 2 PUBLISH a client may leave unacknowledged towards us.
    #[getter]
    fn receive_maximum(&self) -> u16 {
        self.inner.receive_maximum
    }

    /// The highest QoS accepted in a PUBLISH or a Will.
    #[getter]
    fn maximum_qos<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        qos_member(py, self.inner.maximum_qos)
    }

    /// Whether retained messages are accepted.
    #[getter]
    fn retain_available(&self) -> bool {
        self.inner.retain_available
    }

    /// The largest packet accepted, in bytes.
    #[getter]
    fn maximum_packet_size(&self) -> u32 {
        self.inner.maximum_packet_size
    }

    /// How many topic aliases a client may set (0: none).
    #[getter]
    fn topic_alias_maximum(&self) -> u16 {
        self.inner.topic_alias_maximum
    }

    /// Whether subscriptions may use wildcards.
    #[getter]
    fn wildcard_subscription_available(&self) -> bool {
        self.inner.wildcard_subscription_available
    }

    /// Whether subscriptions may carry a Subscription Identifier.
    #[getter]
    fn subscription_identifiers_available(&self) -> bool {
        self.inner.subscription_identifiers_available
    }

    /// Whether shared subscriptions are accepted.
    #[getter]
    fn shared_subscription_available(&self) -> bool {
        self.inner.shared_subscription_available
    }

    /// The longest Keep Alive a client may choose, in seconds, or None for any.
    #[getter]
    fn max_keep_alive(&self) -> Option<u16> {
        self.inner.max_keep_alive
    }

    /// How long a new connection may take to send CONNECT, in seconds.
    #[getter]
    fn connect_timeout(&self) -> f64 {
        self.inner.connect_timeout.as_secs_f64()
    }

    /// How many deliveries may wait for a client's Receive Maximum.
    #[getter]
    fn max_queued_messages(&self) -> usize {
        self.inner.max_queued_messages
    }

    /// How many packets a client may send before its CONNECT is answered.
    #[getter]
    fn max_packets_before_connack(&self) -> usize {
        self.inner.max_packets_before_connack
    }

    /// How many PUBLISH a client may send per second (a burst of a second's worth).
    #[getter]
    fn max_publish_rate(&self) -> Option<u32> {
        self.inner.max_publish_rate.map(NonZeroU32::get)
    }

    /// Whether acknowledgements of received PUBLISH wait for release_acknowledgements().
    #[getter]
    fn hold_acknowledgements(&self) -> bool {
        self.inner.hold_acknowledgements
    }

    /// Return a copy with these limits changed.
    #[pyo3(signature = (**changes))]
    fn replace<'py>(
        slf: &Bound<'py, Self>,
        changes: Option<&Bound<'py, pyo3::types::PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fields = FIELDS
            .iter()
            .map(|name| Ok((*name, slf.getattr(*name)?)))
            .collect::<PyResult<Vec<_>>>()?;
        crate::python::convert::replace(slf.as_any(), fields, changes)
    }

    #[pyo3(signature = (**changes))]
    fn __replace__<'py>(
        slf: &Bound<'py, Self>,
        changes: Option<&Bound<'py, pyo3::types::PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        Self::replace(slf, changes)
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        // The fields that differ from the defaults, each read through its getter.
        let py = slf.py();
        let defaults = Bound::new(
            py,
            Self {
                inner: Arc::new(DEFAULT),
            },
        )?;
        let mut fields = Vec::new();
        for name in FIELDS {
            let value = slf.getattr(name)?;
            if !value.eq(defaults.getattr(name)?)? {
                fields.push((name, value));
            }
        }
        repr(slf.as_any(), "ServerConfig", &fields, &[])
    }
}
