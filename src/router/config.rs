//! What a [`Router`](super::Router) allows: the bounds of offline queues, retained
//! messages and connections, and how shared subscriptions pick a member.

use crate::topic::IndexLimits;

/// What a full offline queue does with one more message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum QueueFull {
    /// Drop the new message (mosquitto's way, and the default).
    #[default]
    DropNew,
    /// Drop the oldest queued message to make room for the new one.
    DropOldest,
}

impl QueueFull {
    /// The policy's name in snake_case ("drop_new"), as Python names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DropNew => "drop_new",
            Self::DropOldest => "drop_oldest",
        }
    }

    /// The policy named `name` ("drop_new" or "drop_oldest").
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "drop_new" => Some(Self::DropNew),
            "drop_oldest" => Some(Self::DropOldest),
            _ => None,
        }
    }
}

/// How one member of a shared subscription's group is picked for each message
/// (MQTT 5.0 §4.8.2). Connected members are preferred; a group whose members are all
/// away queues the message for the one picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SharedChoice {
    /// Each member in turn (the default).
    #[default]
    RoundRobin,
    /// A member at random.
    Random,
    /// The same member for the same publisher, while the group does not change.
    Sticky,
}

impl SharedChoice {
    /// The choice's name in snake_case ("round_robin"), as Python names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RoundRobin => "round_robin",
            Self::Random => "random",
            Self::Sticky => "sticky",
        }
    }

    /// The choice named `name` ("round_robin", "random" or "sticky").
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "round_robin" => Some(Self::RoundRobin),
            "random" => Some(Self::Random),
            "sticky" => Some(Self::Sticky),
            _ => None,
        }
    }
}

/// The router's bounds and choices.
///
/// # Examples
/// ```
/// use mqtt_common::router::{QueueFull, RouterConfig};
/// let config = RouterConfig { max_queued_messages: 100, ..RouterConfig::default() };
/// assert_eq!(config.queue_full, QueueFull::DropNew);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouterConfig {
    /// How many messages one offline session may have queued (and unacknowledged).
    pub max_queued_messages: usize,
    /// What a full queue drops.
    pub queue_full: QueueFull,
    /// How a shared subscription's member is picked.
    pub shared_choice: SharedChoice,
    /// Limits on subscriptions (per client, topic levels) and retained topics' levels.
    pub limits: IndexLimits,
    /// How many topics may hold a retained message (None: no bound). A retained
    /// message for one more topic is refused with 0x97 Quota exceeded; replacing or
    /// clearing one is always allowed. The broker's own `$SYS` topics are not counted.
    pub max_retained_messages: Option<usize>,
    /// How many bytes of topics and payloads the retained messages may hold (None: no
    /// bound). A retained message that would pass it is refused with 0x97.
    pub max_retained_bytes: Option<usize>,
    /// How many clients may be connected at once (None: no bound): see
    /// [`Router::connection_refusal`](super::Router::connection_refusal).
    pub max_connections: Option<usize>,
}

impl RouterConfig {
    /// The defaults: 10,000 queued messages per session, the new message dropped when
    /// full, round robin among shared subscribers, the index's default limits, no bound
    /// on retained messages or connections.
    pub const DEFAULT: Self = Self {
        max_queued_messages: 10_000,
        queue_full: QueueFull::DropNew,
        shared_choice: SharedChoice::RoundRobin,
        limits: IndexLimits::DEFAULT,
        max_retained_messages: None,
        max_retained_bytes: None,
        max_connections: None,
    };
}

impl Default for RouterConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}
