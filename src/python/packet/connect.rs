//! `Connect` for Python.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use super::{properties_from_dict, properties_to_dict, repr_of};
use crate::constants::{PacketType, PropertyContext, ProtocolVersion};
use crate::packet::Connect;
use crate::python::constants::protocol_version_member;
use crate::python::convert::{
    CleanStart, KeepAlive, ProtocolVersionArg, extract_bytes, flag, int, int_value, mqtt_string,
    present, shared_bytes,
};
use crate::python::message::PyWill;
use crate::string::MqttString;

/// CONNECT: the first packet of every connection.
#[pyclass(frozen, eq, name = "Connect", module = "mqtt_common.models.packets")]
#[derive(PartialEq)]
pub(crate) struct PyConnect {
    pub(crate) inner: Connect,
}

impl From<Connect> for PyConnect {
    fn from(inner: Connect) -> Self {
        Self { inner }
    }
}

#[pymethods]
impl PyConnect {
    #[new]
    #[pyo3(signature = (client_id=None, *, protocol_version=4, clean_start=true, keep_alive=60, username=None, password=None, will=None, properties=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        client_id: Option<&Bound<'_, PyAny>>,
        #[pyo3(from_py_with = int::<ProtocolVersionArg>)] protocol_version: i128,
        #[pyo3(from_py_with = flag::<CleanStart>)] clean_start: bool,
        #[pyo3(from_py_with = int::<KeepAlive>)] keep_alive: i128,
        username: Option<&Bound<'_, PyAny>>,
        password: Option<&Bound<'_, PyAny>>,
        will: Option<&Bound<'_, PyAny>>,
        properties: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let client_id = match present(client_id) {
            Some(obj) => mqtt_string("client_id", obj)?,
            None => MqttString::default(),
        };
        let mut inner = Connect::new(
            int_value::<ProtocolVersion>("protocol_version", protocol_version)?,
            client_id,
        );
        inner.clean_start = clean_start;
        inner.keep_alive = int_value("keep_alive", keep_alive)?;
        inner.username = present(username)
            .map(|o| mqtt_string("username", o))
            .transpose()?;
        inner.password = present(password)
            .map(|o| extract_bytes("password", o).map(|b| shared_bytes(&b)))
            .transpose()?;
        inner.will = present(will)
            .map(|obj| PyWill::core_of("will", obj))
            .transpose()?;
        inner.properties =
            properties_from_dict(properties, PropertyContext::Packet(PacketType::Connect))?;
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

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        // The password is never shown.
        repr_of(
            slf.as_any(),
            "Connect",
            &[
                "client_id",
                "protocol_version",
                "clean_start",
                "keep_alive",
                "username",
            ],
        )
    }
}
