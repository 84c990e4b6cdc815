//! Argument extraction: Python's lenient inputs become Rust values, and a value of the
//! wrong type becomes a `ValidationError` that names the field (never a bare
//! `TypeError` from PyO3's machinery). Ranges and rules are the core's
//! ([`FromInteger`], the newtypes' constructors); nothing here knows a protocol limit.
//!
//! Parameters whose default is not `None` take a `from_py_with` extractor that knows
//! the field's name ([`Field`]) and a literal default in `#[pyo3(signature = ...)]`,
//! which is then the one place the default is written (PyO3 shows it in the runtime
//! signature).

use bytes::Bytes;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyInt, PyIterator, PyList, PyMemoryView, PyString,
    PyTuple,
};

use crate::error::{Error, TopicKind, Violation};
use crate::integer::FromInteger;
use crate::string::MqttString;
use crate::topic::{TopicFilter, TopicName};

/// A parameter, known to its extractor by name.
pub(crate) trait Field {
    /// The parameter's Python name.
    const NAME: &'static str;
}

/// A string parameter that takes one of a few values.
pub(crate) trait Choices: Field {
    /// The values, as the caller writes them.
    const CHOICES: &'static [&'static str];
}

macro_rules! fields {
    ($($marker:ident = $name:literal),+ $(,)?) => {
        $(
            #[doc = concat!("The `", $name, "` parameter.")]
            pub(crate) struct $marker;

            impl Field for $marker {
                const NAME: &'static str = $name;
            }
        )+
    };
}

fields! {
    Qos = "qos",
    Retain = "retain",
    Dup = "dup",
    NoLocal = "no_local",
    RetainAsPublished = "retain_as_published",
    RetainHandlingArg = "retain_handling",
    CleanStart = "clean_start",
    KeepAlive = "keep_alive",
    ProtocolVersionArg = "protocol_version",
    SessionPresent = "session_present",
    ReasonCodeArg = "reason_code",
    DelayInterval = "delay_interval",
    ExpiryInterval = "expiry_interval",
    TopicAliasMaximum = "topic_alias_maximum",
    StrictUtf8 = "strict_utf8",
    DirectionArg = "direction",
    QueueFull = "queue_full",
    MaxQueueLength = "max_queue_length",
    MaxTopicLevels = "max_topic_levels",
    MaxSubscriptionsPerClient = "max_subscriptions_per_client",
    MaxPacketSize = "max_packet_size",
    ClientId = "client_id",
    ReceiveMaximum = "receive_maximum",
    MaximumQos = "maximum_qos",
    RetainAvailable = "retain_available",
    MaximumPacketSize = "maximum_packet_size",
    WildcardSubscriptionAvailable = "wildcard_subscription_available",
    SubscriptionIdentifiersAvailable = "subscription_identifiers_available",
    SharedSubscriptionAvailable = "shared_subscription_available",
    MaxKeepAlive = "max_keep_alive",
    ConnectTimeout = "connect_timeout",
    MaxQueuedMessages = "max_queued_messages",
    MaxPacketsBeforeConnack = "max_packets_before_connack",
    HoldAcknowledgements = "hold_acknowledgements",
    RouterQueueFull = "queue_full",
    SharedChoiceArg = "shared_choice",
    MaxQueuedMessagesPerSession = "max_queued_messages",
    MaxRetainedMessages = "max_retained_messages",
    MaxRetainedBytes = "max_retained_bytes",
    MaxConnections = "max_connections",
    Tag = "tag",
    Retained = "retained",
}

#[cfg(feature = "sqlite")]
fields! {
    DurabilityArg = "durability",
}

#[cfg(feature = "auth-files")]
fields! {
    HashKindArg = "kind",
    CertificateIdentityArg = "identity",
    UseCertificate = "use_certificate",
    ChainRuleArg = "rule",
}

#[cfg(feature = "auth-files")]
impl Choices for UseCertificate {
    const CHOICES: &'static [&'static str] = &["common_name", "subject"];
}

#[cfg(feature = "auth-files")]
impl Choices for CertificateIdentityArg {
    const CHOICES: &'static [&'static str] = &["common_name", "subject"];
}

#[cfg(feature = "auth-files")]
impl Choices for ChainRuleArg {
    const CHOICES: &'static [&'static str] = &["first", "all"];
}

#[cfg(feature = "auth-files")]
impl Choices for HashKindArg {
    const CHOICES: &'static [&'static str] = &["sha512-pbkdf2", "argon2id", "sha512"];
}

impl Choices for DirectionArg {
    const CHOICES: &'static [&'static str] = &["from_client", "from_server"];
}

impl Choices for RouterQueueFull {
    const CHOICES: &'static [&'static str] = &["drop_new", "drop_oldest"];
}

impl Choices for SharedChoiceArg {
    const CHOICES: &'static [&'static str] = &["round_robin", "random", "sticky"];
}

impl Choices for QueueFull {
    const CHOICES: &'static [&'static str] = &["reject", "drop_oldest", "drop_newest"];
}

#[cfg(feature = "sqlite")]
impl Choices for DurabilityArg {
    const CHOICES: &'static [&'static str] = &["full", "process_crash_only"];
}

/// A file's path, from a `str` or an `os.PathLike`.
#[cfg(any(feature = "sqlite", feature = "auth-files"))]
pub(crate) fn path_arg(obj: &Bound<'_, PyAny>) -> PyResult<std::path::PathBuf> {
    obj.extract()
        .map_err(|_| wrong_type("path", "str or os.PathLike", obj).into())
}

/// The `durability` keyword as the Rust setting, and back.
#[cfg(feature = "sqlite")]
pub(crate) fn durability(name: &str) -> crate::sqlite::Durability {
    match name {
        "process_crash_only" => crate::sqlite::Durability::ProcessCrashOnly,
        _ => crate::sqlite::Durability::Full,
    }
}

/// The name a `durability` keyword gives a Rust setting.
#[cfg(feature = "sqlite")]
pub(crate) fn durability_name(durability: crate::sqlite::Durability) -> &'static str {
    match durability {
        crate::sqlite::Durability::Full => "full",
        crate::sqlite::Durability::ProcessCrashOnly => "process_crash_only",
    }
}

/// A `ValidationError` for a value of the wrong type.
pub(crate) fn wrong_type(
    field: &'static str,
    expected: &'static str,
    obj: &Bound<'_, PyAny>,
) -> Error {
    Error::invalid(
        field,
        Violation::WrongType {
            expected,
            found: type_name(obj),
        },
    )
}

/// The name of an object's type, as Python writes it.
pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "an object".to_owned(), |name| name.to_string())
}

/// An `int` (not a `bool`) as an integer of any size up to 128 bits.
#[inline]
pub(crate) fn extract_int(field: &'static str, obj: &Bound<'_, PyAny>) -> Result<i128, Error> {
    // An exact `int` is the common case and one pointer comparison; the general check
    // lets `int` subclasses (IntEnum members) through and keeps `bool` out.
    let is_int = obj.is_exact_instance_of::<PyInt>()
        || (obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>());
    if !is_int {
        return Err(wrong_type(field, "int", obj));
    }
    if let Ok(value) = obj.extract::<i64>() {
        return Ok(value.into());
    }
    obj.extract::<i128>()
        .map_err(|_| wrong_type(field, "an int of at most 128 bits", obj))
}

/// An integer argument, checked by its type's rules.
#[inline]
pub(crate) fn int_arg<T: FromInteger>(
    field: &'static str,
    obj: &Bound<'_, PyAny>,
) -> Result<T, Error> {
    T::from_integer(extract_int(field, obj)?).map_err(|v| Error::invalid(field, v))
}

/// An integer already extracted by [`int`], checked by its type's rules.
#[inline]
pub(crate) fn int_value<T: FromInteger>(field: &'static str, value: i128) -> Result<T, Error> {
    T::from_integer(value).map_err(|v| Error::invalid(field, v))
}

/// The `from_py_with` extractor of an integer parameter.
pub(crate) fn int<F: Field>(obj: &Bound<'_, PyAny>) -> PyResult<i128> {
    Ok(extract_int(F::NAME, obj)?)
}

/// A `bool` (and only a `bool`: `retain=1` is a mistake worth reporting).
#[inline]
pub(crate) fn extract_bool(field: &'static str, obj: &Bound<'_, PyAny>) -> Result<bool, Error> {
    obj.cast::<PyBool>()
        .map(|b| b.is_true())
        .map_err(|_| wrong_type(field, "bool", obj))
}

/// The `from_py_with` extractor of a `bool` parameter.
pub(crate) fn flag<F: Field>(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(extract_bool(F::NAME, obj)?)
}

/// The `from_py_with` extractor of a limit: a count, or `None` for no limit.
pub(crate) fn limit<F: Field>(obj: &Bound<'_, PyAny>) -> PyResult<Option<usize>> {
    if obj.is_none() {
        return Ok(None);
    }
    Ok(Some(int_arg(F::NAME, obj)?))
}

/// The `from_py_with` extractor of a string parameter with a few allowed values.
pub(crate) fn choice<F: Choices>(obj: &Bound<'_, PyAny>) -> PyResult<&'static str> {
    let text = extract_str(F::NAME, obj)?;
    match F::CHOICES.iter().find(|choice| **choice == text) {
        Some(choice) => Ok(choice),
        None => Err(Error::invalid(
            F::NAME,
            Violation::NotOneOf {
                value: obj.repr()?.to_string(),
                choices: F::CHOICES,
            },
        )
        .into()),
    }
}

/// A `str` as `&str`; a lone surrogate is `bad_utf8`.
#[inline]
pub(crate) fn extract_str<'a>(
    field: &'static str,
    obj: &'a Bound<'_, PyAny>,
) -> Result<&'a str, Error> {
    str_of(field, obj, || Violation::InvalidUtf8)
}

/// A `str`, with the violation a lone surrogate breaks; built only then, as a
/// `Violation` has drop glue that would cost every call.
fn str_of<'a>(
    field: &'static str,
    obj: &'a Bound<'_, PyAny>,
    bad_utf8: impl FnOnce() -> Violation,
) -> Result<&'a str, Error> {
    let string = obj
        .cast::<PyString>()
        .map_err(|_| wrong_type(field, "str", obj))?;
    string
        .to_str()
        .map_err(|_| Error::invalid(field, bad_utf8()))
}

/// A string MQTT can carry.
pub(crate) fn mqtt_string(
    field: &'static str,
    obj: &Bound<'_, PyAny>,
) -> Result<MqttString, Error> {
    let text = extract_str(field, obj)?;
    MqttString::new(text).map_err(|v| Error::invalid(field, v))
}

/// A client identifier: a string MQTT can carry.
pub(crate) fn client_id<'a>(obj: &'a Bound<'_, PyAny>) -> Result<&'a str, Error> {
    let text = extract_str(ClientId::NAME, obj)?;
    crate::string::check_str(text).map_err(|v| Error::invalid(ClientId::NAME, v))?;
    Ok(text)
}

/// A topic name or filter given as `str`; a lone surrogate is a topic UTF-8 violation.
#[inline]
pub(crate) fn extract_topic<'a>(
    field: &'static str,
    kind: TopicKind,
    obj: &'a Bound<'_, PyAny>,
) -> Result<&'a str, Error> {
    str_of(field, obj, || Violation::TopicInvalidUtf8 { kind })
}

/// A topic name argument.
pub(crate) fn topic_name(field: &'static str, obj: &Bound<'_, PyAny>) -> Result<TopicName, Error> {
    TopicName::new(extract_topic(field, TopicKind::Name, obj)?).map_err(|e| e.in_field(field))
}

/// A topic filter argument.
pub(crate) fn topic_filter(
    field: &'static str,
    obj: &Bound<'_, PyAny>,
) -> Result<TopicFilter, Error> {
    TopicFilter::new(extract_topic(field, TopicKind::Filter, obj)?).map_err(|e| e.in_field(field))
}

/// A bytes-like value or a `str` (encoded as UTF-8) as a `bytes` object: `bytes` is
/// kept as it is (no copy), `bytearray` and `memoryview` are copied once.
pub(crate) fn extract_bytes<'py>(
    field: &'static str,
    obj: &Bound<'py, PyAny>,
) -> Result<Bound<'py, PyBytes>, Error> {
    if let Ok(string) = obj.cast::<PyString>() {
        let py = obj.py();
        return string
            .to_str()
            .map(|text| PyBytes::new(py, text.as_bytes()))
            .map_err(|_| Error::invalid(field, Violation::InvalidUtf8));
    }
    extract_binary(field, obj, "bytes, bytearray, memoryview or str")
}

/// Bytes-like data only: `str` is refused (wire data, certificates), as encoding text
/// is never what is meant there.
pub(crate) fn extract_binary<'py>(
    field: &'static str,
    obj: &Bound<'py, PyAny>,
    expected: &'static str,
) -> Result<Bound<'py, PyBytes>, Error> {
    let py = obj.py();
    if let Ok(bytes) = obj.cast::<PyBytes>() {
        return Ok(bytes.clone());
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
    Err(wrong_type(field, expected, obj))
}

/// The `Bytes` view of a Python `bytes` object, sharing its memory.
pub(crate) fn shared_bytes(bytes: &Bound<'_, PyBytes>) -> Bytes {
    Bytes::from_owner(PyBackedBytes::from(bytes.clone()))
}

/// `None` and a missing argument both mean "absent", for parameters whose default is
/// `None`.
#[inline]
pub(crate) fn present<'a, 'py>(
    obj: Option<&'a Bound<'py, PyAny>>,
) -> Option<&'a Bound<'py, PyAny>> {
    obj.filter(|obj| !obj.is_none())
}

/// Iterates a list or tuple (a `str` or `bytes` is refused, though it is iterable).
pub(crate) fn iterate<'py>(
    field: &'static str,
    expected: &'static str,
    obj: &Bound<'py, PyAny>,
) -> Result<Bound<'py, PyIterator>, Error> {
    if !(obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>()) {
        return Err(wrong_type(field, expected, obj));
    }
    obj.try_iter().map_err(|_| wrong_type(field, expected, obj))
}

/// User Properties given as a list (or tuple) of `(str, str)` pairs, in order; `None`
/// for none.
pub(crate) fn user_properties(
    field: &'static str,
    obj: Option<&Bound<'_, PyAny>>,
) -> Result<Vec<(MqttString, MqttString)>, Error> {
    const EXPECTED: &str = "a list of (str, str) pairs";
    let Some(obj) = present(obj) else {
        return Ok(Vec::new());
    };
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

/// User Properties as a list of `(str, str)` tuples, in order.
pub(crate) fn user_properties_list<'py>(
    py: Python<'py>,
    pairs: &[(MqttString, MqttString)],
) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// The fields of a value object, by constructor keyword: what `repr`, pickling and
/// `replace` are built on, so each class lists its fields once.
pub(crate) type Fields<'py> = Vec<(&'static str, Bound<'py, PyAny>)>;

/// `Class(field=value, ...)`, as Python writes a call that would build the object:
/// fields equal to their default in the class's signature are left out, enum members are
/// written `Enum.MEMBER`, and `overrides` replaces a field's text (a long payload cut
/// short, say).
pub(crate) fn repr(
    obj: &Bound<'_, PyAny>,
    class: &str,
    fields: &Fields<'_>,
    overrides: &[(&str, String)],
) -> PyResult<String> {
    let py = obj.py();
    let defaults = signature_defaults(obj)?;
    let mut text = format!("{class}(");
    let mut first = true;
    for (name, value) in fields {
        if let Some(default) = defaults
            .as_ref()
            .and_then(|d| d.get_item(*name).ok().flatten())
            && is_default(value, &default)?
        {
            continue;
        }
        if !first {
            text.push_str(", ");
        }
        first = false;
        text.push_str(name);
        text.push('=');
        match overrides.iter().find(|(field, _)| field == name) {
            Some((_, shown)) => text.push_str(shown),
            None => text.push_str(&shown(py, value)?),
        }
    }
    text.push(')');
    Ok(text)
}

/// Whether a field's value says what its default says: equal and of the same kind, or
/// an empty collection where the default is `None`.
fn is_default(value: &Bound<'_, PyAny>, default: &Bound<'_, PyAny>) -> PyResult<bool> {
    if default.is_none() && !value.is_none() {
        return Ok(value.len().is_ok_and(|len| len == 0));
    }
    // `False == 0` in Python: a bool and an int are never the same default.
    let same_kind = value.get_type().is(default.get_type())
        || (value.is_instance_of::<PyInt>()
            && default.is_instance_of::<PyInt>()
            && !value.is_instance_of::<PyBool>()
            && !default.is_instance_of::<PyBool>());
    Ok(same_kind && value.eq(default)?)
}

/// A value as a call's argument: `repr`, but `Enum.MEMBER` for an enum member.
fn shown(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<String> {
    if value.is_instance_of::<PyInt>()
        && !value.is_exact_instance_of::<PyInt>()
        && let Ok(name) = value.getattr(pyo3::intern!(py, "name"))
    {
        return Ok(format!("{}.{}", value.get_type().name()?, name.str()?));
    }
    Ok(value.repr()?.to_string())
}

/// The defaults of the constructor of `obj`'s class, by parameter name (`None` for a
/// class without a signature).
fn signature_defaults<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyDict>>> {
    let py = obj.py();
    let inspect = py.import(pyo3::intern!(py, "inspect"))?;
    let Ok(signature) = inspect.call_method1(pyo3::intern!(py, "signature"), (obj.get_type(),))
    else {
        return Ok(None);
    };
    let empty = inspect.getattr("Parameter")?.getattr("empty")?;
    let defaults = PyDict::new(py);
    for parameter in signature
        .getattr("parameters")?
        .call_method0("values")?
        .try_iter()?
    {
        let parameter = parameter?;
        let default = parameter.getattr("default")?;
        if !default.is(&empty) {
            defaults.set_item(parameter.getattr("name")?, default)?;
        }
    }
    Ok(Some(defaults))
}

/// The constructor's keyword arguments for these fields.
pub(crate) fn kwargs<'py>(py: Python<'py>, fields: Fields<'py>) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (name, value) in fields {
        dict.set_item(name, value)?;
    }
    Ok(dict)
}

/// `replace(**changes)`: a new object of `obj`'s class from its fields with some
/// changed, built by the constructor, so it is checked the same way. A key that names no
/// field is a `TypeError`, as for any call with an unexpected keyword.
pub(crate) fn replace<'py>(
    obj: &Bound<'py, PyAny>,
    fields: Fields<'py>,
    changes: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let kwargs = kwargs(obj.py(), fields)?;
    if let Some(changes) = changes {
        for (key, value) in changes.iter() {
            if !kwargs.contains(&key)? {
                return Err(PyTypeError::new_err(format!(
                    "replace() got an unexpected keyword argument {}",
                    key.repr()?
                )));
            }
            kwargs.set_item(key, value)?;
        }
    }
    obj.get_type().call((), Some(&kwargs))
}
