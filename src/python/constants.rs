//! The member tables that `mqtt_common.models.constants` checks its `IntEnum`s against,
//! and the cached enum members handed back to Python.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyModule;

use crate::constants::{
    ConnectReturnCode, PacketType, PropertyId, ProtocolVersion, QoS, ReasonCode, protocol,
};

/// Adds the `*_MEMBERS` and `PROTOCOL_*` tables to the module.
pub(super) fn add_tables(module: &Bound<'_, PyModule>) -> PyResult<()> {
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
    module.add("PROPERTY_ID_MEMBERS", PropertyId::MEMBERS.to_vec())?;
    module.add(
        "PROTOCOL_INT_CONSTANTS",
        protocol::INTEGER_CONSTANTS.to_vec(),
    )?;
    module.add(
        "PROTOCOL_STR_CONSTANTS",
        protocol::STRING_CONSTANTS.to_vec(),
    )?;
    Ok(())
}

/// Whether a reason code value reports a failure; backs `ReasonCode.is_error`.
#[pyfunction]
pub(super) fn reason_code_is_error(value: u8) -> bool {
    ReasonCode::from_u8(value).is_some_and(ReasonCode::is_error)
}

/// The `QualityOfService` member for a QoS, without calling the enum class.
pub(super) fn qos_member(py: Python<'_>, qos: QoS) -> PyResult<Bound<'_, PyAny>> {
    static MEMBERS: PyOnceLock<Vec<Py<PyAny>>> = PyOnceLock::new();
    let members = MEMBERS.get_or_try_init(py, || {
        let class = py
            .import("mqtt_common.models.constants")?
            .getattr("QualityOfService")?;
        QoS::ALL
            .iter()
            .map(|qos| Ok(class.call1((qos.as_u8(),))?.unbind()))
            .collect::<PyResult<Vec<_>>>()
    })?;
    Ok(members[qos.as_u8() as usize].bind(py).clone())
}
