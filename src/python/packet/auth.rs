//! `Auth` for Python.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::{properties_from_dict, properties_to_dict, py_reason_packet, repr_of};
use crate::constants::{PacketType, PropertyContext, ReasonCode};
use crate::packet::Auth;
use crate::python::constants::reason_code_member;
use crate::python::convert::{ReasonCodeArg, int, int_value};

py_reason_packet!(
    PyAuth,
    Auth,
    "Auth",
    PacketType::Auth,
    "AUTH: a step of an enhanced authentication exchange (MQTT 5.0)."
);
