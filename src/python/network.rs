//! The `NetworkInterface` base class (with its helpers) and the adapter that lets Rust
//! call a Python network implementation.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyList;

use super::constants::reason_code_member;
use super::convert::client_id;
use super::implementation::{PythonObject, wrong_return};
use super::message::PyMessage;
use super::packet::{PyPublish, packet_to_py};
use crate::constants::ReasonCode;
use crate::error::Error;
use crate::network::{ConnectionState, NetworkInterface};
use crate::packet::{Packet, Publish};

/// The Rust base of `mqtt_common.src.network.NetworkInterface`.
///
/// The Python ABC declares the abstract methods; the helpers here are built on them.
#[pyclass(
    subclass,
    name = "NetworkInterface",
    module = "mqtt_common.src.network"
)]
pub(crate) struct PyNetworkInterface;

#[pymethods]
impl PyNetworkInterface {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        Self
    }

    /// Return whether a client is connected: `connection_state(client_id) == CONNECTED`.
    fn is_connected(slf: &Bound<'_, Self>, client_id: &Bound<'_, PyAny>) -> PyResult<bool> {
        let network = PythonNetwork::from_bound(slf.as_any());
        Ok(network.is_connected(self::client_id(client_id)?)?)
    }

    /// Send a message to a client as a PUBLISH, through `send`.
    ///
    /// QoS 1 and 2 messages need their message_id.
    fn deliver(
        slf: &Bound<'_, Self>,
        client_id: &Bound<'_, PyAny>,
        message: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let network = PythonNetwork::from_bound(slf.as_any());
        let message = PyMessage::core_of("message", message)?;
        Ok(network.deliver(self::client_id(client_id)?, &message)?)
    }
}

/// A Python `NetworkInterface` seen from Rust: each trait method calls the Python method.
///
/// Python exceptions come back unchanged (as callback errors); an `async def` method or
/// a wrong return type is a `TypeError` that names the method.
#[derive(Debug)]
pub struct PythonNetwork {
    implementation: PythonObject,
}

impl PythonNetwork {
    fn from_bound(obj: &Bound<'_, PyAny>) -> Self {
        Self {
            implementation: PythonObject::trusted(obj),
        }
    }
}

/// The Rust network behind a Python `NetworkInterface` subclass.
///
/// # Errors
/// `TypeError` for an object whose class does not derive from `NetworkInterface`.
pub fn network_from_python(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn NetworkInterface>> {
    Ok(Arc::new(PythonNetwork {
        implementation: PythonObject::new::<PyNetworkInterface>(obj, "NetworkInterface")?,
    }))
}

impl NetworkInterface for PythonNetwork {
    fn send(&self, client_id: &str, packet: &Packet) -> Result<(), Error> {
        Python::attach(|py| {
            let packet = packet_to_py(py, packet.clone())?;
            self.implementation.call(py, "send", (client_id, packet))?;
            Ok(())
        })
    }

    fn disconnect(&self, client_id: &str, reason_code: Option<ReasonCode>) -> Result<(), Error> {
        Python::attach(|py| {
            let reason = reason_code.map(|c| reason_code_member(py, c)).transpose()?;
            self.implementation
                .call(py, "disconnect", (client_id, reason))?;
            Ok(())
        })
    }

    fn connection_state(&self, client_id: &str) -> Result<ConnectionState, Error> {
        Python::attach(|py| {
            let result = self
                .implementation
                .call(py, "connection_state", (client_id,))?;
            result
                .extract::<u8>()
                .ok()
                .and_then(ConnectionState::from_u8)
                .ok_or_else(|| wrong_return(&result, "connection_state", "ConnectionState"))
        })
    }

    fn connected_clients(&self) -> Result<Vec<String>, Error> {
        Python::attach(|py| {
            let result = self.implementation.call(py, "connected_clients", ())?;
            let list = result
                .cast::<PyList>()
                .map_err(|_| wrong_return(&result, "connected_clients", "list[str]"))?;
            list.iter()
                .map(|item| {
                    item.extract::<String>()
                        .map_err(|_| wrong_return(&item, "connected_clients", "list[str]"))
                })
                .collect()
        })
    }

    fn deliver(&self, client_id: &str, message: &crate::message::Message) -> Result<(), Error> {
        // The Python implementation receives the same Publish class Python code builds.
        let publish = Publish::from_message(message)?;
        Python::attach(|py| {
            let publish = Py::new(py, PyPublish::from(publish))?;
            self.implementation.call(py, "send", (client_id, publish))?;
            Ok(())
        })
    }
}
