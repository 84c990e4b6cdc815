//! The wire format: primitive types ([`wire`]) and the fixed header and framing
//! ([`frame`]). Packet types build on these.

mod header;
pub mod wire;

pub use header::{FixedHeader, frame};
