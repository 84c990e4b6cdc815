//! The primitive data types of the wire format (MQTT 5.0 §1.5): reading from a frame and
//! writing into a buffer.
//!
//! A [`Reader`] walks one complete packet body. Every length prefix is checked against
//! what remains of the frame, so a field can never reach past its packet: that is a
//! [`Violation::Truncated`], never "need more bytes" (only the framer may say that).
//! Strings are slices of the frame, not copies.

use bytes::{Buf, BufMut, Bytes};

use crate::constants::protocol::MAX_REMAINING_LENGTH;
use crate::error::Violation;
use crate::packet_id::PacketId;
use crate::string::MqttString;

/// How strictly UTF-8 strings are read beyond the MUSTs of §1.5.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Utf8Policy {
    /// Also refuse control characters U+0001–U+001F and U+007F–U+009F and the
    /// non-characters, which senders SHOULD NOT send and receivers MAY refuse (as
    /// Mosquitto does).
    #[default]
    Strict,
    /// Accept every string the MUSTs allow.
    Lenient,
}

/// Whether a code point is one a receiver may refuse under [`Utf8Policy::Strict`].
fn is_discouraged(c: char) -> bool {
    let cp = c as u32;
    matches!(cp, 0x01..=0x1F | 0x7F..=0x9F | 0xFDD0..=0xFDEF) || (cp & 0xFFFE) == 0xFFFE
}

/// Reads the fields of one packet body, front to back.
#[derive(Debug, Clone)]
pub struct Reader {
    buf: Bytes,
    policy: Utf8Policy,
}

impl Reader {
    /// A reader over one complete packet body.
    pub fn new(body: Bytes, policy: Utf8Policy) -> Self {
        Self { buf: body, policy }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn need(&self, len: usize, what: &'static str) -> Result<(), Violation> {
        if self.buf.len() < len {
            return Err(Violation::Truncated { what });
        }
        Ok(())
    }

    /// Reads a Property Length of 0 if that is what comes next, and says whether it did:
    /// the common case, without building a property list.
    pub fn skip_empty_properties(&mut self) -> bool {
        let empty = self.buf.first() == Some(&0);
        if empty {
            self.buf.advance(1);
        }
        empty
    }

    /// A byte.
    ///
    /// # Errors
    /// [`Violation::Truncated`].
    pub fn u8(&mut self, what: &'static str) -> Result<u8, Violation> {
        self.need(1, what)?;
        Ok(self.buf.get_u8())
    }

    /// A Two Byte Integer, big-endian (§1.5.2).
    ///
    /// # Errors
    /// [`Violation::Truncated`].
    pub fn u16(&mut self, what: &'static str) -> Result<u16, Violation> {
        self.need(2, what)?;
        Ok(self.buf.get_u16())
    }

    /// A Packet Identifier (§2.2.1): two bytes, never 0.
    ///
    /// # Errors
    /// [`Violation::Truncated`], or [`Violation::PacketIdZero`] ([MQTT-2.2.1-3]).
    pub fn packet_id(&mut self) -> Result<PacketId, Violation> {
        PacketId::new(self.u16("packet identifier")?)
    }

    /// A Four Byte Integer, big-endian (§1.5.3).
    ///
    /// # Errors
    /// [`Violation::Truncated`].
    pub fn u32(&mut self, what: &'static str) -> Result<u32, Violation> {
        self.need(4, what)?;
        Ok(self.buf.get_u32())
    }

    /// A Variable Byte Integer (§1.5.5): at most four bytes, in the fewest bytes.
    ///
    /// # Errors
    /// [`Violation::Truncated`], [`Violation::VariableIntegerTooLong`] or
    /// [`Violation::VariableIntegerNotMinimal`].
    pub fn variable_integer(&mut self, what: &'static str) -> Result<u32, Violation> {
        match decode_variable_integer(&self.buf)? {
            Some((value, len)) => {
                self.buf.advance(len);
                Ok(value)
            }
            None => Err(Violation::Truncated { what }),
        }
    }

    /// Exactly `len` bytes, as a slice of the frame.
    ///
    /// # Errors
    /// [`Violation::Truncated`].
    pub fn bytes(&mut self, len: usize, what: &'static str) -> Result<Bytes, Violation> {
        self.need(len, what)?;
        Ok(self.buf.split_to(len))
    }

    /// Binary Data (§1.5.6): a two-byte length, then that many bytes.
    ///
    /// # Errors
    /// [`Violation::Truncated`].
    pub fn binary(&mut self, what: &'static str) -> Result<Bytes, Violation> {
        let len = self.u16(what)?;
        self.bytes(usize::from(len), what)
    }

    /// A UTF-8 Encoded String (§1.5.4), checked under the reader's [`Utf8Policy`].
    ///
    /// # Errors
    /// [`Violation::Truncated`], [`Violation::InvalidUtf8`],
    /// [`Violation::StringContainsNull`] or [`Violation::StringHasControlCharacter`].
    pub fn string(&mut self, what: &'static str) -> Result<MqttString, Violation> {
        let text = MqttString::from_bytes(self.binary(what)?)?;
        self.check_policy(&text)?;
        Ok(text)
    }

    /// Applies the reader's [`Utf8Policy`] to text already checked against the MUSTs
    /// (a topic name or filter).
    ///
    /// # Errors
    /// [`Violation::StringHasControlCharacter`] under [`Utf8Policy::Strict`].
    pub fn check_policy(&self, text: &str) -> Result<(), Violation> {
        // Printable ASCII is the common case and checks a byte at a time, vectorised.
        if text.bytes().all(|b| (0x20..0x7F).contains(&b)) {
            return Ok(());
        }
        if self.policy == Utf8Policy::Strict
            && let Some(c) = text.chars().find(|&c| is_discouraged(c))
        {
            return Err(Violation::StringHasControlCharacter {
                code_point: c as u32,
            });
        }
        Ok(())
    }

    /// A UTF-8 String Pair (§1.5.7): both halves are UTF-8 strings ([MQTT-1.5.7-1]).
    ///
    /// # Errors
    /// As [`Reader::string`].
    pub fn string_pair(
        &mut self,
        what: &'static str,
    ) -> Result<(MqttString, MqttString), Violation> {
        Ok((self.string(what)?, self.string(what)?))
    }

    /// A reader over the next `len` bytes (a property block), with the same policy.
    ///
    /// # Errors
    /// [`Violation::Truncated`].
    pub fn take(&mut self, len: usize, what: &'static str) -> Result<Reader, Violation> {
        Ok(Reader::new(self.bytes(len, what)?, self.policy))
    }

    /// Everything not yet read (a PUBLISH payload), as a slice of the frame.
    pub fn rest(&mut self) -> Bytes {
        self.buf.split_off(0)
    }

    /// Checks that every byte was read: the Remaining Length must equal the fields.
    ///
    /// # Errors
    /// [`Violation::TrailingBytes`].
    pub fn finish(self, after: &'static str) -> Result<(), Violation> {
        if self.buf.is_empty() {
            return Ok(());
        }
        Err(Violation::TrailingBytes {
            what: after,
            len: self.buf.len(),
        })
    }
}

/// Decodes a Variable Byte Integer at the start of `buf`: `Ok(None)` when `buf` ends
/// before it does (only meaningful to a framer), else the value and its length.
///
/// # Errors
/// [`Violation::VariableIntegerTooLong`] for a fifth byte (CVE-2026-21888) and
/// [`Violation::VariableIntegerNotMinimal`] for an encoding longer than needed.
///
/// # Examples
/// ```
/// use mqtt_common::packet::wire::decode_variable_integer;
/// assert_eq!(decode_variable_integer(&[0xFF, 0xFF, 0xFF, 0x7F]), Ok(Some((268_435_455, 4))));
/// assert_eq!(decode_variable_integer(&[0x80]), Ok(None));
/// assert!(decode_variable_integer(&[0x80, 0x80, 0x80, 0x80, 0x01]).is_err());
/// assert!(decode_variable_integer(&[0x80, 0x00]).is_err()); // 0 in two bytes
/// ```
pub fn decode_variable_integer(buf: &[u8]) -> Result<Option<(u32, usize)>, Violation> {
    let mut value: u32 = 0;
    for (i, &byte) in buf.iter().enumerate() {
        if i == 4 {
            return Err(Violation::VariableIntegerTooLong);
        }
        value |= u32::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            let len = i + 1;
            // A last byte of 0 after the first means the same value fits in fewer.
            if len > 1 && byte == 0 {
                return Err(Violation::VariableIntegerNotMinimal);
            }
            return Ok(Some((value, len)));
        }
    }
    if buf.len() >= 4 {
        return Err(Violation::VariableIntegerTooLong);
    }
    Ok(None)
}

/// The number of bytes a Variable Byte Integer of `value` takes (1 to 4).
///
/// # Examples
/// ```
/// use mqtt_common::packet::wire::variable_integer_len;
/// assert_eq!(variable_integer_len(127), 1);
/// assert_eq!(variable_integer_len(128), 2);
/// assert_eq!(variable_integer_len(268_435_455), 4);
/// ```
pub const fn variable_integer_len(value: u32) -> usize {
    match value {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// Writes a Variable Byte Integer in the fewest bytes. Values above 268,435,455 do not
/// fit and are a caller bug: they are clamped so that the output stays well-formed.
pub fn put_variable_integer(buf: &mut impl BufMut, value: u32) {
    debug_assert!(
        value <= MAX_REMAINING_LENGTH,
        "variable byte integer out of range"
    );
    let mut value = value.min(MAX_REMAINING_LENGTH);
    loop {
        let byte = (value & 0x7F) as u8;
        value >>= 7;
        if value == 0 {
            buf.put_u8(byte);
            return;
        }
        buf.put_u8(byte | 0x80);
    }
}

/// Writes Binary Data: a two-byte length, then the bytes. Callers pass values whose
/// types bound them to 65,535 bytes ([`MqttString`], [`crate::BinaryData`]).
pub fn put_binary(buf: &mut impl BufMut, data: &[u8]) {
    debug_assert!(data.len() <= usize::from(u16::MAX));
    buf.put_u16(data.len().min(usize::from(u16::MAX)) as u16);
    buf.put_slice(&data[..data.len().min(usize::from(u16::MAX))]);
}

/// Writes a UTF-8 Encoded String.
pub fn put_string(buf: &mut impl BufMut, text: &MqttString) {
    put_binary(buf, text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discouraged_code_points() {
        for c in [
            '\u{1}',
            '\u{1F}',
            '\u{7F}',
            '\u{9F}',
            '\u{FDD0}',
            '\u{FFFE}',
            '\u{FFFF}',
            '\u{1FFFF}',
        ] {
            assert!(is_discouraged(c), "{c:?}");
        }
        for c in ['a', ' ', '\u{A0}', '\u{FEFF}', '\u{FFFD}', '\u{1F600}'] {
            assert!(!is_discouraged(c), "{c:?}");
        }
    }
}
