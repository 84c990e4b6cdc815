//! `Pingreq` and `Pingresp` for Python.

use pyo3::prelude::*;

macro_rules! py_empty {
    ($py:ident, $name:literal, $doc:literal) => {
        #[doc = $doc]
        #[pyclass(frozen, eq, name = $name, module = "mqtt_common.models.packets")]
        #[derive(PartialEq)]
        pub(crate) struct $py;

        #[pymethods]
        impl $py {
            #[new]
            fn new() -> Self {
                Self
            }

            fn __repr__(&self) -> &'static str {
                concat!($name, "()")
            }
        }
    };
}

py_empty!(
    PyPingreq,
    "Pingreq",
    "PINGREQ: a client's keep-alive probe, without a body."
);
py_empty!(
    PyPingresp,
    "Pingresp",
    "PINGRESP: the server's answer to PINGREQ, without a body."
);
