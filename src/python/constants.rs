//! The member tables that `mqtt_common.models.constants` checks its `IntEnum`s against,
//! and the cached enum members handed back to Python.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyModule;

use crate::constants::{
    ConnectReturnCode, PacketType, PropertyId, ProtocolVersion, QoS, ReasonCode, RetainHandling,
    protocol,
};
use crate::error::ErrorKind;

/// Adds the `*_MEMBERS` and `PROTOCOL_*` tables to the module.
pub(crate) fn add_tables(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("QOS_MEMBERS", QoS::MEMBERS.to_vec())?;
    module.add("PACKET_TYPE_MEMBERS", PacketType::MEMBERS.to_vec())?;
    module.add(
        "CONNECT_RETURN_CODE_MEMBERS",
        ConnectReturnCode::MEMBERS.to_vec(),
    )?;
    let mut reason_codes = ReasonCode::MEMBERS.to_vec();
    reason_codes.extend_from_slice(ReasonCode::ALIASES);
    module.add("REASON_CODE_MEMBERS", reason_codes)?;
    module.add(
        "PROTOCOL_VERSION_MEMBERS",
        ProtocolVersion::MEMBERS.to_vec(),
    )?;
    module.add("RETAIN_HANDLING_MEMBERS", RetainHandling::MEMBERS.to_vec())?;
    module.add("PROPERTY_ID_MEMBERS", PropertyId::MEMBERS.to_vec())?;
    module.add(
        "PROTOCOL_INT_CONSTANTS",
        protocol::INTEGER_CONSTANTS.to_vec(),
    )?;
    module.add(
        "PROTOCOL_STR_CONSTANTS",
        protocol::STRING_CONSTANTS.to_vec(),
    )?;
    let error_classes: Vec<(&str, u8)> = ErrorKind::PYTHON_CLASSES
        .iter()
        .map(|(name, _, code)| (*name, code.as_u8()))
        .collect();
    module.add("ERROR_CLASSES", error_classes)?;
    module.add("ACTION_MEMBERS", crate::auth::Action::MEMBERS.to_vec())?;
    module.add(
        "CONNECTION_STATE_MEMBERS",
        crate::network::ConnectionState::MEMBERS.to_vec(),
    )?;
    Ok(())
}

/// Return whether a reason code value reports a failure; backs `ReasonCode.is_error`.
#[pyfunction]
pub(crate) fn reason_code_is_error(value: u8) -> bool {
    ReasonCode::from_u8(value).is_some_and(ReasonCode::is_error)
}

/// The Python `IntEnum` member for a Rust code, from a per-enum cache filled on first
/// use (calling the enum class costs ~15x more than a cached lookup).
fn member<'py>(
    py: Python<'py>,
    cache: &PyOnceLock<Vec<(u8, Py<PyAny>)>>,
    class_name: &str,
    values: impl Iterator<Item = u8>,
    value: u8,
) -> PyResult<Bound<'py, PyAny>> {
    member_of(
        py,
        cache,
        "mqtt_common.models.constants",
        class_name,
        values,
        value,
    )
}

/// [`member`], for an enum of another module.
fn member_of<'py>(
    py: Python<'py>,
    cache: &PyOnceLock<Vec<(u8, Py<PyAny>)>>,
    module: &str,
    class_name: &str,
    values: impl Iterator<Item = u8>,
    value: u8,
) -> PyResult<Bound<'py, PyAny>> {
    let members = cache.get_or_try_init(py, || {
        let class = py.import(module)?.getattr(class_name)?;
        values
            .map(|value| Ok((value, class.call1((value,))?.unbind())))
            .collect::<PyResult<Vec<_>>>()
    })?;
    members
        .iter()
        .find(|(v, _)| *v == value)
        .map(|(_, member)| member.bind(py).clone())
        .ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(format!("{value} is not a {class_name}"))
        })
}

/// The `QualityOfService` member for a QoS.
pub(crate) fn qos_member(py: Python<'_>, qos: QoS) -> PyResult<Bound<'_, PyAny>> {
    static CACHE: PyOnceLock<Vec<(u8, Py<PyAny>)>> = PyOnceLock::new();
    let values = QoS::ALL.iter().map(|q| q.as_u8());
    member(py, &CACHE, "QualityOfService", values, qos.as_u8())
}

/// The `RetainHandling` member for a Retain Handling option.
pub(crate) fn retain_handling_member(
    py: Python<'_>,
    retain_handling: RetainHandling,
) -> PyResult<Bound<'_, PyAny>> {
    static CACHE: PyOnceLock<Vec<(u8, Py<PyAny>)>> = PyOnceLock::new();
    let values = RetainHandling::ALL.iter().map(|r| r.as_u8());
    member(
        py,
        &CACHE,
        "RetainHandling",
        values,
        retain_handling.as_u8(),
    )
}

/// The `ProtocolVersion` member for a protocol version.
pub(crate) fn protocol_version_member(
    py: Python<'_>,
    version: ProtocolVersion,
) -> PyResult<Bound<'_, PyAny>> {
    static CACHE: PyOnceLock<Vec<(u8, Py<PyAny>)>> = PyOnceLock::new();
    let values = ProtocolVersion::ALL.iter().map(|v| v.as_u8());
    member(py, &CACHE, "ProtocolVersion", values, version.as_u8())
}

/// The `PacketType` member for a packet type.
pub(crate) fn packet_type_member(py: Python<'_>, packet: PacketType) -> PyResult<Bound<'_, PyAny>> {
    static CACHE: PyOnceLock<Vec<(u8, Py<PyAny>)>> = PyOnceLock::new();
    let values = PacketType::ALL.iter().map(|p| p.as_u8());
    member(py, &CACHE, "PacketType", values, packet.as_u8())
}

/// The `ReasonCode` member for a reason code.
pub(crate) fn reason_code_member(py: Python<'_>, code: ReasonCode) -> PyResult<Bound<'_, PyAny>> {
    static CACHE: PyOnceLock<Vec<(u8, Py<PyAny>)>> = PyOnceLock::new();
    let values = ReasonCode::ALL.iter().map(|c| c.as_u8());
    member(py, &CACHE, "ReasonCode", values, code.as_u8())
}

/// The `Action` member for an action.
pub(crate) fn action_member(
    py: Python<'_>,
    action: crate::auth::Action,
) -> PyResult<Bound<'_, PyAny>> {
    static CACHE: PyOnceLock<Vec<(u8, Py<PyAny>)>> = PyOnceLock::new();
    let values = crate::auth::Action::MEMBERS.iter().map(|(_, v)| *v);
    member_of(
        py,
        &CACHE,
        "mqtt_common.src.auth",
        "Action",
        values,
        action.as_u8(),
    )
}

/// The `ConnectReturnCode` member for a 3.1.1 return code.
pub(crate) fn return_code_member(
    py: Python<'_>,
    code: ConnectReturnCode,
) -> PyResult<Bound<'_, PyAny>> {
    static CACHE: PyOnceLock<Vec<(u8, Py<PyAny>)>> = PyOnceLock::new();
    let values = ConnectReturnCode::ALL.iter().map(|c| c.as_u8());
    member(py, &CACHE, "ConnectReturnCode", values, code.as_u8())
}
