//! Packet identifiers (MQTT 5.0 §2.2.1).

use std::fmt;
use std::num::NonZeroU16;

use crate::error::Violation;
use crate::integer::FromInteger;

/// A packet identifier: 1 to 65,535 ([MQTT-2.2.1-3]). `Option<PacketId>` is two bytes.
///
/// # Examples
/// ```
/// use mqtt_common::PacketId;
/// assert_eq!(PacketId::new(12345)?.get(), 12345);
/// assert!(PacketId::new(0).is_err());
/// # Ok::<(), mqtt_common::Violation>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PacketId(NonZeroU16);

impl PacketId {
    /// The smallest identifier, 1.
    pub const MIN: Self = Self(NonZeroU16::MIN);
    /// The largest identifier, 65,535.
    pub const MAX: Self = Self(NonZeroU16::MAX);

    /// Checks that the identifier is not 0.
    ///
    /// # Errors
    /// [`Violation::PacketIdZero`].
    #[inline]
    pub const fn new(value: u16) -> Result<Self, Violation> {
        match NonZeroU16::new(value) {
            Some(value) => Ok(Self(value)),
            None => Err(Violation::PacketIdZero),
        }
    }

    /// The identifier.
    #[inline]
    pub const fn get(self) -> u16 {
        self.0.get()
    }
}

impl TryFrom<u16> for PacketId {
    type Error = Violation;

    fn try_from(value: u16) -> Result<Self, Violation> {
        Self::new(value)
    }
}

impl FromInteger for PacketId {
    /// # Errors
    /// [`Violation::OutOfRange`] past a Two Byte Integer, [`Violation::PacketIdZero`].
    fn from_integer(value: i128) -> Result<Self, Violation> {
        Self::new(u16::from_integer(value)?)
    }
}

impl From<PacketId> for u16 {
    fn from(id: PacketId) -> u16 {
        id.get()
    }
}

impl fmt::Debug for PacketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.get(), f)
    }
}

impl fmt::Display for PacketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.get(), f)
    }
}
