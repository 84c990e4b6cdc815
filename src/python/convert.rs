//! Argument extraction: Python's lenient inputs become Rust values, and a value of the
//! wrong type becomes a `ValidationError` that names the field (never a bare
//! `TypeError` from PyO3's machinery).

use bytes::Bytes;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyInt, PyList, PyMemoryView, PyString, PyTuple,
};

use crate::constants::QoS;
use crate::error::{Error, TopicKind, Violation};
use crate::string::MqttString;

/// A `ValidationError` for a value of the wrong type.
pub(super) fn wrong_type(
    field: &'static str,
    expected: &'static str,
    obj: &Bound<'_, PyAny>,
) -> Error {
    let found = obj
        .get_type()
        .name()
        .map_or_else(|_| "an unknown type".to_owned(), |name| name.to_string());
    Error::invalid(field, Violation::WrongType { expected, found })
}

/// A `str` as `&str`; a lone surrogate is `bad_utf8`.
#[inline]
pub(super) fn extract_str<'a>(
    field: &'static str,
    obj: &'a Bound<'_, PyAny>,
    bad_utf8: Violation,
) -> Result<&'a str, Error> {
    let string = obj
        .cast::<PyString>()
        .map_err(|_| wrong_type(field, "str", obj))?;
    string.to_str().map_err(|_| Error::invalid(field, bad_utf8))
}

/// A `bool` (and only a `bool`: `retain=1` is a mistake worth reporting).
#[inline]
pub(super) fn extract_bool(field: &'static str, obj: &Bound<'_, PyAny>) -> Result<bool, Error> {
    obj.cast::<PyBool>()
        .map(|b| b.is_true())
        .map_err(|_| wrong_type(field, "bool", obj))
}

/// An `int` (not a `bool`) in `min..=max`.
#[inline]
pub(super) fn extract_uint(
    field: &'static str,
    obj: &Bound<'_, PyAny>,
    min: u64,
    max: u64,
    spec_ref: &'static str,
) -> Result<u64, Error> {
    // An exact `int` is the common case and one pointer comparison; the general check
    // lets `int` subclasses (IntEnum members) through and keeps `bool` out.
    let is_int = obj.is_exact_instance_of::<PyInt>()
        || (obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>());
    if !is_int {
        return Err(wrong_type(field, "int", obj));
    }
    match obj.extract::<u64>() {
        Ok(value) if (min..=max).contains(&value) => Ok(value),
        _ => {
            let value = obj.str().map_or_else(|_| "?".to_owned(), |s| s.to_string());
            Err(Error::invalid(
                field,
                Violation::OutOfRange {
                    value,
                    min,
                    max,
                    spec_ref,
                },
            ))
        }
    }
}

/// A QoS level: an `int` (or `QualityOfService`) of 0, 1 or 2.
#[inline]
pub(super) fn extract_qos(field: &'static str, obj: &Bound<'_, PyAny>) -> Result<QoS, Error> {
    let value = extract_uint(field, obj, 0, u8::MAX.into(), "MQTT-3.3.1-4")?;
    QoS::try_from(value as u8).map_err(|v| Error::invalid(field, v))
}

/// A bytes-like value or a `str` (encoded as UTF-8) as a `bytes` object: `bytes` is
/// kept as it is (no copy), `bytearray` and `memoryview` are copied once.
pub(super) fn extract_bytes<'py>(
    field: &'static str,
    obj: &Bound<'py, PyAny>,
) -> Result<Bound<'py, PyBytes>, Error> {
    let py = obj.py();
    if let Ok(bytes) = obj.cast::<PyBytes>() {
        return Ok(bytes.clone());
    }
    if let Ok(string) = obj.cast::<PyString>() {
        return string
            .to_str()
            .map(|text| PyBytes::new(py, text.as_bytes()))
            .map_err(|_| Error::invalid(field, Violation::InvalidUtf8));
    }
    if let Ok(array) = obj.cast::<PyByteArray>() {
        return Ok(PyBytes::new(py, &array.to_vec()));
    }
    if obj.is_instance_of::<PyMemoryView>() {
        // bytes(view) copies any buffer layout into one contiguous block.
        return py
            .get_type::<PyBytes>()
            .call1((obj,))
            .and_then(|b| Ok(b.cast_into::<PyBytes>()?))
            .map_err(|_| wrong_type(field, "a contiguous bytes-like object", obj));
    }
    Err(wrong_type(
        field,
        "bytes, bytearray, memoryview or str",
        obj,
    ))
}

/// The `Bytes` view of a Python `bytes` object, sharing its memory.
pub(super) fn shared_bytes(bytes: &Bound<'_, PyBytes>) -> Bytes {
    Bytes::from_owner(PyBackedBytes::from(bytes.clone()))
}

/// `None` and a missing argument both mean "the default".
#[inline]
pub(super) fn present<'a, 'py>(
    obj: Option<&'a Bound<'py, PyAny>>,
) -> Option<&'a Bound<'py, PyAny>> {
    obj.filter(|obj| !obj.is_none())
}

/// Applies `replace(**changes)` to the constructor's `fields`; a key that names no field
/// is a `TypeError`, as for any call with an unexpected keyword.
pub(super) fn apply_changes(
    fields: &Bound<'_, PyDict>,
    changes: Option<&Bound<'_, PyDict>>,
) -> PyResult<()> {
    let Some(changes) = changes else {
        return Ok(());
    };
    for (key, value) in changes.iter() {
        if !fields.contains(&key)? {
            return Err(PyTypeError::new_err(format!(
                "replace() got an unexpected keyword argument {}",
                key.repr()?
            )));
        }
        fields.set_item(key, value)?;
    }
    Ok(())
}

/// A topic name or filter given as `str`; a lone surrogate is a topic UTF-8 violation.
#[inline]
pub(super) fn extract_topic<'a>(
    field: &'static str,
    kind: TopicKind,
    obj: &'a Bound<'_, PyAny>,
) -> Result<&'a str, Error> {
    extract_str(field, obj, Violation::TopicInvalidUtf8 { kind })
}

pub(super) fn mqtt_string(
    field: &'static str,
    obj: &Bound<'_, PyAny>,
) -> Result<MqttString, Error> {
    let text = extract_str(field, obj, Violation::InvalidUtf8)?;
    MqttString::new(text).map_err(|v| Error::invalid(field, v))
}

/// Iterates a list or tuple (a `str` or `bytes` is refused, though it is iterable).
pub(super) fn iterate<'py>(
    field: &'static str,
    expected: &'static str,
    obj: &Bound<'py, PyAny>,
) -> Result<Bound<'py, pyo3::types::PyIterator>, Error> {
    if !(obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>()) {
        return Err(wrong_type(field, expected, obj));
    }
    obj.try_iter().map_err(|_| wrong_type(field, expected, obj))
}

/// User Properties given as a list (or tuple) of `(str, str)` pairs, in order.
pub(super) fn extract_user_properties(
    field: &'static str,
    obj: &Bound<'_, PyAny>,
) -> Result<Vec<(MqttString, MqttString)>, Error> {
    const EXPECTED: &str = "a list of (str, str) pairs";
    let mut pairs = Vec::new();
    for pair in iterate(field, EXPECTED, obj)? {
        let pair = pair.map_err(|_| wrong_type(field, EXPECTED, obj))?;
        let Ok(tuple) = pair.cast::<PyTuple>() else {
            return Err(wrong_type(field, "a (str, str) pair", &pair));
        };
        if tuple.len() != 2 {
            return Err(wrong_type(field, "a (str, str) pair", &pair));
        }
        let half = |i| {
            tuple
                .get_item(i)
                .map_err(|_| wrong_type(field, "a (str, str) pair", &pair))
        };
        pairs.push((
            mqtt_string(field, &half(0)?)?,
            mqtt_string(field, &half(1)?)?,
        ));
    }
    Ok(pairs)
}
