//! `Disconnect` for Python.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::{properties_from_dict, properties_to_dict, py_reason_packet, repr_of};
use crate::constants::{PacketType, PropertyContext, ReasonCode};
use crate::packet::Disconnect;
use crate::python::constants::reason_code_member;
use crate::python::convert::{ReasonCodeArg, int, int_value};

py_reason_packet!(
    PyDisconnect,
    Disconnect,
    "Disconnect",
    PacketType::Disconnect,
    "DISCONNECT: the end of a connection, with a reason in MQTT 5.0."
);
