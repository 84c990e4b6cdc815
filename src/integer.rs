//! Integers from callers whose integers have any size (Python's): each field's type says
//! which range it takes and which rule sets it, so no binding writes a range again.

use std::num::{NonZeroU16, NonZeroU32};

use crate::constants::{
    ConnectReturnCode, IntegerWidth, PacketType, PropertyId, ProtocolVersion, QoS, ReasonCode,
    RetainHandling,
};
use crate::error::Violation;

/// A value built from an integer of any size, checked against the rules of its type.
///
/// # Examples
/// ```
/// use mqtt_common::integer::FromInteger;
/// use mqtt_common::{PacketId, QoS};
/// assert_eq!(u16::from_integer(60)?, 60);
/// assert_eq!(QoS::from_integer(1)?, QoS::AtLeastOnce);
/// assert_eq!(PacketId::from_integer(7)?.get(), 7);
///
/// let err = u16::from_integer(-1).unwrap_err();
/// assert_eq!(err.to_string(), "expected an integer from 0 to 65535, got -1");
/// assert_eq!(err.spec_ref(), Some("§1.5.2"));
/// assert!(PacketId::from_integer(0).is_err());
/// # Ok::<(), mqtt_common::Violation>(())
/// ```
pub trait FromInteger: Sized {
    /// The value for `value`.
    ///
    /// # Errors
    /// The [`Violation`] of the type's rule: [`Violation::OutOfRange`] for a value its
    /// representation cannot hold, or the type's own (a packet identifier of 0, ...).
    fn from_integer(value: i128) -> Result<Self, Violation>;
}

/// `value` as an integer of `width`.
fn within(value: i128, width: IntegerWidth) -> Result<u32, Violation> {
    let (min, max) = width.range();
    if (i128::from(min)..=i128::from(max)).contains(&value) {
        // In range of a u32 by the check above.
        Ok(value as u32)
    } else {
        Err(Violation::OutOfRange { value, width })
    }
}

impl FromInteger for u8 {
    fn from_integer(value: i128) -> Result<Self, Violation> {
        within(value, IntegerWidth::Byte).map(|v| v as u8)
    }
}

impl FromInteger for u16 {
    fn from_integer(value: i128) -> Result<Self, Violation> {
        within(value, IntegerWidth::TwoByte).map(|v| v as u16)
    }
}

impl FromInteger for u32 {
    fn from_integer(value: i128) -> Result<Self, Violation> {
        within(value, IntegerWidth::FourByte)
    }
}

/// A count or limit of this implementation (a queue length, a number of levels).
impl FromInteger for usize {
    fn from_integer(value: i128) -> Result<Self, Violation> {
        within(value, IntegerWidth::Count).map(|v| v as usize)
    }
}

/// A Two Byte Integer that may not be 0 (a Receive Maximum).
impl FromInteger for NonZeroU16 {
    fn from_integer(value: i128) -> Result<Self, Violation> {
        NonZeroU16::new(u16::from_integer(value)?).ok_or(Violation::OutOfRange {
            value,
            width: IntegerWidth::TwoByte,
        })
    }
}

/// A Four Byte Integer that may not be 0 (a Maximum Packet Size).
impl FromInteger for NonZeroU32 {
    fn from_integer(value: i128) -> Result<Self, Violation> {
        NonZeroU32::new(u32::from_integer(value)?).ok_or(Violation::OutOfRange {
            value,
            width: IntegerWidth::FourByte,
        })
    }
}

macro_rules! code_from_integer {
    ($($type:ty),+) => {
        $(impl FromInteger for $type {
            fn from_integer(value: i128) -> Result<Self, Violation> {
                Self::from_int(value).map_err(Violation::from)
            }
        })+
    };
}

code_from_integer!(
    QoS,
    PacketType,
    ConnectReturnCode,
    ReasonCode,
    RetainHandling,
    ProtocolVersion,
    PropertyId
);
