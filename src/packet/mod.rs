//! The wire format: primitive types ([`wire`]), the fixed header and framing
//! ([`frame`]), and MQTT 5.0 properties ([`properties`]). Packet types build on these.

mod header;
pub mod properties;
mod publish;
pub mod wire;

pub use header::{FixedHeader, frame};
pub use properties::{Properties, PropertyValue};
pub use publish::{Direction, Publish};
