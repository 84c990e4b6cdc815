//! Validated byte strings of MQTT: UTF-8 Encoded Strings (§1.5.4) and Binary Data (§1.5.6).
//!
//! Both wrap [`Bytes`], so a decoder can hand out slices of its input without copying.

#![allow(unsafe_code)]

use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use bytes::Bytes;

use crate::constants::protocol::{MAX_BINARY_LENGTH, MAX_STRING_LENGTH};
use crate::detach::Detach;
use crate::error::Violation;

/// A UTF-8 Encoded String of MQTT (§1.5.4): well-formed UTF-8 without surrogates
/// ([MQTT-1.5.4-1]), no U+0000 ([MQTT-1.5.4-2]), at most 65,535 bytes. A byte order mark
/// is kept as U+FEFF ([MQTT-1.5.4-3]).
///
/// # Examples
/// ```
/// use mqtt_common::MqttString;
/// let s = MqttString::new("text/plain")?;
/// assert_eq!(s.as_str(), "text/plain");
/// assert!(MqttString::new("a\0b").is_err());
/// # Ok::<(), mqtt_common::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MqttString(Bytes);
// Invariant: the bytes are valid UTF-8 with no U+0000 and at most 65_535 long. Every
// constructor below checks it; nothing else builds the struct.

impl MqttString {
    /// Copies and checks a `&str`.
    ///
    /// # Errors
    /// [`Violation::StringContainsNull`] or [`Violation::StringTooLong`].
    pub fn new(value: &str) -> Result<Self, Violation> {
        check_str(value)?;
        Ok(Self(Bytes::copy_from_slice(value.as_bytes())))
    }

    /// Copies a `&str` whose length and lack of U+0000 the caller has already checked
    /// (topic validation does, with its own error variants).
    pub(crate) fn from_checked_str(value: &str) -> Self {
        debug_assert!(check_str(value).is_ok());
        Self(Bytes::copy_from_slice(value.as_bytes()))
    }

    /// Checks bytes, without copying them.
    ///
    /// # Errors
    /// [`Violation::InvalidUtf8`], [`Violation::StringContainsNull`] or
    /// [`Violation::StringTooLong`].
    pub fn from_bytes(bytes: Bytes) -> Result<Self, Violation> {
        let text = std::str::from_utf8(&bytes).map_err(|_| Violation::InvalidUtf8)?;
        check_str(text)?;
        Ok(Self(bytes))
    }

    /// A string from a literal, checked at compile time in a `const`.
    ///
    /// # Panics
    /// If the literal contains U+0000 or is longer than 65,535 bytes.
    ///
    /// ```should_panic
    /// mqtt_common::MqttString::from_static("a\0b");
    /// ```
    pub const fn from_static(value: &'static str) -> Self {
        let bytes = value.as_bytes();
        assert!(bytes.len() <= MAX_STRING_LENGTH as usize, "string too long");
        let mut i = 0;
        while i < bytes.len() {
            assert!(bytes[i] != 0, "string contains U+0000");
            i += 1;
        }
        Self(Bytes::from_static(bytes))
    }

    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        // SAFETY: the invariant above: every constructor proved the bytes are valid UTF-8
        // (`str` input, `from_utf8`, or a `&'static str`), and `Bytes` is immutable.
        // Re-validating here would make every topic comparison O(n) twice.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }

    /// The underlying bytes (a cheap reference-counted clone).
    #[inline]
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Consumes the string, returning its bytes.
    #[inline]
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

/// Checks the rules a `&str` has not already proved: no U+0000, at most 65,535 bytes.
pub(crate) fn check_str(value: &str) -> Result<(), Violation> {
    if value.len() > MAX_STRING_LENGTH as usize {
        return Err(Violation::StringTooLong { len: value.len() });
    }
    if value.as_bytes().contains(&0) {
        return Err(Violation::StringContainsNull);
    }
    Ok(())
}

impl Deref for MqttString {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for MqttString {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for MqttString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for MqttString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MqttString {
    type Err = Violation;

    fn from_str(value: &str) -> Result<Self, Violation> {
        Self::new(value)
    }
}

impl TryFrom<&str> for MqttString {
    type Error = Violation;

    fn try_from(value: &str) -> Result<Self, Violation> {
        Self::new(value)
    }
}

impl TryFrom<String> for MqttString {
    type Error = Violation;

    fn try_from(value: String) -> Result<Self, Violation> {
        check_str(&value)?;
        Ok(Self(Bytes::from(value)))
    }
}

impl PartialEq<str> for MqttString {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for MqttString {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Binary Data of MQTT (§1.5.6): any bytes, at most 65,535 of them.
///
/// # Examples
/// ```
/// use mqtt_common::BinaryData;
/// let data = BinaryData::new(vec![0, 159, 146, 150])?;
/// assert_eq!(data.len(), 4);
/// assert!(BinaryData::new(vec![0; 65_536]).is_err());
/// # Ok::<(), mqtt_common::Violation>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct BinaryData(Bytes);
// Invariant: at most 65_535 bytes, checked by `new`.

impl BinaryData {
    /// Checks the length, without copying.
    ///
    /// # Errors
    /// [`Violation::BinaryTooLong`].
    pub fn new(data: impl Into<Bytes>) -> Result<Self, Violation> {
        let data = data.into();
        Self::check_len(data.len())?;
        Ok(Self(data))
    }

    /// The length rule: a two-byte length prefix, so at most 65,535 bytes.
    pub(crate) fn check_len(len: usize) -> Result<(), Violation> {
        if len > MAX_BINARY_LENGTH as usize {
            return Err(Violation::BinaryTooLong { len });
        }
        Ok(())
    }

    /// The bytes.
    #[inline]
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Consumes the value, returning its bytes.
    #[inline]
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl Deref for BinaryData {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for BinaryData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl Detach for MqttString {
    fn detached(&self) -> Self {
        // A copy of valid bytes is valid.
        Self(self.0.detached())
    }
}

impl Detach for BinaryData {
    fn detached(&self) -> Self {
        Self(self.0.detached())
    }
}
