//! The codec of `mqtt_common.utils.codec`: the streaming `Decoder`, `encode` and `decode`.

use std::num::NonZeroU32;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use super::constants::protocol_version_member;
use super::convert::{
    DirectionArg, MaxPacketSize, StrictUtf8, TopicAliasMaximum, choice, extract_binary, flag, int,
    int_arg, int_value, present, shared_bytes,
};
use super::packet::{Outgoing, outgoing, packet_to_py};
use crate::codec::{DEFAULT_MAX_PACKET_SIZE, Decoder};
use crate::constants::ProtocolVersion;
use crate::error::Error;
use crate::packet::wire::Utf8Policy;
use crate::packet::{Direction, Encode, encode_checked};

/// The `direction` argument.
fn direction(name: &str) -> Direction {
    match name {
        "from_server" => Direction::FromServer,
        _ => Direction::FromClient,
    }
}

/// Wire data: bytes-like only (a `str` would be encoded, which is never what is meant).
fn data(obj: &Bound<'_, PyAny>) -> Result<bytes::Bytes, Error> {
    Ok(shared_bytes(&extract_binary(
        "data",
        obj,
        "bytes, bytearray or memoryview",
    )?))
}

/// The `from_py_with` extractor of `max_packet_size`: a size, or `None` for no limit.
fn max_packet_size(obj: &Bound<'_, PyAny>) -> PyResult<Option<u32>> {
    if obj.is_none() {
        return Ok(None);
    }
    let size: NonZeroU32 = int_arg(<MaxPacketSize as super::convert::Field>::NAME, obj)?;
    Ok(Some(size.get()))
}

/// A sans-I/O streaming decoder for one connection.
///
/// ``max_packet_size`` bounds every packet, fixed header included (None: no limit);
/// ``direction`` is who sends what is decoded; ``topic_alias_maximum`` is the highest
/// Topic Alias this side accepts.
#[pyclass(name = "Decoder", module = "mqtt_common.utils.codec")]
pub(crate) struct PyDecoder {
    inner: Decoder,
}

#[pymethods]
impl PyDecoder {
    /// The default of `max_packet_size`: 1 MiB.
    #[classattr]
    const DEFAULT_MAX_PACKET_SIZE: u32 = DEFAULT_MAX_PACKET_SIZE;

    #[new]
    #[pyo3(signature = (protocol_version=None, max_packet_size=DEFAULT_MAX_PACKET_SIZE, direction="from_client", *, topic_alias_maximum=0, strict_utf8=true))]
    fn new(
        protocol_version: Option<&Bound<'_, PyAny>>,
        #[pyo3(from_py_with = max_packet_size)] max_packet_size: Option<u32>,
        #[pyo3(from_py_with = choice::<DirectionArg>)] direction: &'static str,
        #[pyo3(from_py_with = int::<TopicAliasMaximum>)] topic_alias_maximum: i128,
        #[pyo3(from_py_with = flag::<StrictUtf8>)] strict_utf8: bool,
    ) -> PyResult<Self> {
        let inner = Decoder::new(self::direction(direction));
        let mut inner = match max_packet_size {
            Some(size) => inner.with_max_packet_size(size),
            None => inner.without_max_packet_size(),
        }
        .with_topic_alias_maximum(int_value("topic_alias_maximum", topic_alias_maximum)?)
        .with_utf8_policy(if strict_utf8 {
            Utf8Policy::Strict
        } else {
            Utf8Policy::Lenient
        });
        if let Some(obj) = present(protocol_version) {
            inner = inner.with_version(int_arg::<ProtocolVersion>("protocol_version", obj)?);
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

    /// Tell a server-side decoder the CONNACK has been sent.
    ///
    /// That ends an enhanced authentication exchange: until then only AUTH and DISCONNECT
    /// are accepted.
    fn connack_sent(&mut self) {
        self.inner.connack_sent();
    }

    /// Whether CONNECT named an Authentication Method and no CONNACK has been sent.
    #[getter]
    fn is_authenticating(&self) -> bool {
        self.inner.is_authenticating()
    }

    fn __repr__(&self) -> String {
        format!(
            "<Decoder {} bytes buffered{}>",
            self.inner.buffered(),
            if self.inner.is_failed() {
                ", failed"
            } else {
                ""
            }
        )
    }
}

/// Encode a packet for a protocol version.
#[pyfunction]
pub(crate) fn encode<'py>(
    py: Python<'py>,
    packet: &Bound<'py, PyAny>,
    protocol_version: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let version = int_arg::<ProtocolVersion>("protocol_version", protocol_version)?;
    // Written straight into the new `bytes` object: no intermediate buffer to copy.
    match outgoing(py, packet)? {
        Outgoing::Packet(packet) => {
            PyBytes::new_with(py, packet.encoded_len(version), |mut out| {
                Ok(packet.encode(version, &mut out)?)
            })
        }
        Outgoing::Publish(message) => {
            PyBytes::new_with(py, message.encoded_len(version), |mut out| {
                Ok(encode_checked(&message, version, &mut out)?)
            })
        }
    }
}

/// Decode exactly one complete packet.
#[pyfunction]
#[pyo3(signature = (data, protocol_version, direction="from_client"))]
pub(crate) fn decode(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    protocol_version: &Bound<'_, PyAny>,
    #[pyo3(from_py_with = choice::<DirectionArg>)] direction: &'static str,
) -> PyResult<Py<PyAny>> {
    let version = int_arg::<ProtocolVersion>("protocol_version", protocol_version)?;
    let packet = crate::packet::decode(self::data(data)?, version, self::direction(direction))?;
    packet_to_py(py, packet)
}
