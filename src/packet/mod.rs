//! The wire format: primitive types ([`wire`]), the fixed header and framing
//! ([`frame`]), and MQTT 5.0 properties ([`properties`]). Packet types build on these.

mod ack;
mod connect;
mod disconnect;
mod header;
pub mod properties;
mod publish;
mod subscribe;
mod unsubscribe;
pub mod wire;

pub use ack::{AckProperties, Puback, Pubcomp, Pubrec, Pubrel, decode_empty};
pub use connect::{Connack, Connect};
pub use disconnect::{Auth, Disconnect};
pub use header::{FixedHeader, frame};
pub use properties::{Properties, PropertyValue};
pub use publish::{Direction, Publish};
// The Python `Publish` encodes from its own objects through the same writer.
#[cfg(feature = "python")]
pub(crate) use publish::{PublishWire, check_packet_id};
pub use subscribe::{Suback, Subscribe};
pub use unsubscribe::{Unsuback, Unsubscribe};
