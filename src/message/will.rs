//! The Will Message (MQTT 5.0 §3.1.2.5, §3.1.3.3): what a broker publishes for a client
//! whose connection ends without a normal DISCONNECT.

use std::time::{Duration, SystemTime};

use crate::detach::Detach;
use crate::message::Message;

/// A Will Message: published for the client when its connection ends without a
/// DISCONNECT, after `delay_interval` seconds (MQTT 5.0), or when its session expires,
/// whichever comes first (CVE-2019-11778).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Will {
    /// The message to publish.
    pub message: Message,
    /// Seconds to wait after the connection ends (0 in MQTT 3.1.1).
    pub delay_interval: u32,
}

impl Will {
    /// A Will published as soon as the connection ends.
    pub fn new(message: Message) -> Self {
        Self {
            message,
            delay_interval: 0,
        }
    }

    /// When the Will is due for a connection that ended at `disconnected_at`, in a
    /// session that expires `session_expiry` seconds after that: the earlier of the two.
    pub fn due_at(&self, disconnected_at: SystemTime, session_expiry: u32) -> SystemTime {
        let delay = self.delay_interval.min(session_expiry);
        disconnected_at + Duration::from_secs(u64::from(delay))
    }
}

impl Detach for Will {
    fn detached(&self) -> Self {
        Self {
            message: self.message.detached(),
            ..*self
        }
    }
}
