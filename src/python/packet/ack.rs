//! `Puback`, `Pubrec`, `Pubrel` and `Pubcomp` for Python: one shape, four packets.

use pyo3::prelude::*;
use pyo3::types::PyList;

use super::{ack_properties, ack_user_properties, repr_of};
use crate::constants::ReasonCode;
use crate::packet::{Puback, Pubcomp, Pubrec, Pubrel};
use crate::packet_id::PacketId;
use crate::python::constants::reason_code_member;
use crate::python::convert::{ReasonCodeArg, int, int_arg, int_value};

macro_rules! py_ack {
    ($py:ident, $rust:ident, $name:literal, $doc:literal) => {
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
            #[pyo3(signature = (packet_id, reason_code=0, *, reason_string=None, user_properties=None))]
            fn new(
                packet_id: &Bound<'_, PyAny>,
                #[pyo3(from_py_with = int::<ReasonCodeArg>)] reason_code: i128,
                reason_string: Option<&Bound<'_, PyAny>>,
                user_properties: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<Self> {
                let properties = ack_properties(reason_string, user_properties)?;
                let reason_code = int_value::<ReasonCode>("reason_code", reason_code)?;
                let inner = $rust::new(int_arg::<PacketId>("packet_id", packet_id)?)
                    .with_reason(reason_code, properties)?;
                Ok(Self { inner })
            }

            /// The packet identifier acknowledged.
            #[getter]
            fn packet_id(&self) -> u16 {
                self.inner.packet_id().get()
            }

            /// The reason code (Success before 5.0).
            #[getter]
            fn reason_code<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                reason_code_member(py, self.inner.reason_code())
            }

            /// The Reason String, or None.
            #[getter]
            fn reason_string(&self) -> Option<&str> {
                self.inner.properties().reason_string.as_deref()
            }

            /// The User Properties.
            #[getter]
            fn user_properties<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
                ack_user_properties(py, self.inner.properties())
            }

            fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
                repr_of(slf.as_any(), $name, &["packet_id", "reason_code"])
            }
        }
    };
}

py_ack!(
    PyPuback,
    Puback,
    "Puback",
    "PUBACK: the end of a QoS 1 flow."
);
py_ack!(
    PyPubrec,
    Pubrec,
    "Pubrec",
    "PUBREC: the first answer in a QoS 2 flow."
);
py_ack!(
    PyPubrel,
    Pubrel,
    "Pubrel",
    "PUBREL: the release of a QoS 2 message."
);
py_ack!(
    PyPubcomp,
    Pubcomp,
    "Pubcomp",
    "PUBCOMP: the end of a QoS 2 flow."
);
