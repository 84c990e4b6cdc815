//! Copies that own their memory, for what a program keeps long.
//!
//! What a `Decoder` fed with `feed_bytes` returns are slices of the bytes it was given: no copy, and right for a message passed on at once. But each slice keeps
//! the whole read alive, so a value kept for hours (a session's client id, a Will, a
//! subscription, a retained message) would hold a buffer of up to a socket read for
//! the sake of a few bytes. [`Detach::detached`] copies such a value, once, into memory
//! of its own.
//!
//! # Examples
//! ```
//! use mqtt_common::bytes::Bytes;
//! use mqtt_common::{Detach, MqttString};
//!
//! let read = Bytes::from(b"client-7 and the rest of a large read".to_vec());
//! let id = MqttString::from_bytes(read.slice(..8))?; // shares `read`
//! let kept = id.detached();                            // its own 8 bytes
//! assert_eq!(kept, id);
//! assert_ne!(kept.as_bytes().as_ptr(), id.as_bytes().as_ptr());
//! # Ok::<(), mqtt_common::error::Violation>(())
//! ```

use bytes::Bytes;

/// A value that can be copied into memory of its own, sharing none with a decoded read.
pub trait Detach {
    /// An equal value whose bytes are its own (the same value when it has no bytes).
    #[must_use]
    fn detached(&self) -> Self;
}

impl Detach for Bytes {
    fn detached(&self) -> Self {
        Bytes::copy_from_slice(self)
    }
}

impl<T: Detach> Detach for Option<T> {
    fn detached(&self) -> Self {
        self.as_ref().map(Detach::detached)
    }
}

impl<T: Detach> Detach for Box<T> {
    fn detached(&self) -> Self {
        Box::new(T::detached(self))
    }
}
