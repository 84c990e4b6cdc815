//! The retained messages a router keeps: one per topic, with its arrival time and
//! expiry, and their count and size, held against the configured bounds.
//!
//! The broker's own `$SYS` topics (clients may not publish there) count against no
//! bound: an operator's bound is for what clients retain.

use std::time::{Duration, SystemTime};

use crate::error::Error;
use crate::message::Message;
use crate::topic::{TopicFilter, TopicName, TopicTree};

/// A retained message, when it arrived, and when it expires.
#[derive(Debug)]
pub(super) struct Retained {
    pub(super) message: Message,
    pub(super) arrived_at: SystemTime,
    pub(super) expires_at: Option<SystemTime>,
}

impl Retained {
    /// A message retained at `arrived_at`; it expires when its Message Expiry Interval
    /// runs out.
    pub(super) fn new(message: Message, arrived_at: SystemTime) -> Self {
        let expires_at = message
            .properties()
            .message_expiry_interval
            .map(|seconds| arrived_at + Duration::from_secs(u64::from(seconds)));
        Self {
            message,
            arrived_at,
            expires_at,
        }
    }
}

/// What a retained message counts against `max_retained_bytes`: its topic and payload
/// (nothing for a `$SYS` topic).
pub(super) fn retained_size(message: &Message) -> usize {
    if is_broker_topic(message.topic()) {
        return 0;
    }
    message.topic().as_str().len() + message.payload().len()
}

/// Whether a topic is the broker's own (`$SYS`), which no bound counts and no store
/// keeps.
pub(super) fn is_broker_topic(topic: &TopicName) -> bool {
    crate::topic::is_sys_topic(topic.as_str())
}

/// The retained messages by topic, and how many (and how many bytes) count against
/// the bounds.
#[derive(Debug)]
pub(super) struct RetainedMessages {
    tree: TopicTree<Retained>,
    broker_topics: usize,
    bytes: usize,
}

impl RetainedMessages {
    /// None yet; a topic may have at most `max_topic_levels` levels.
    pub(super) fn new(max_topic_levels: Option<usize>) -> Self {
        Self {
            tree: TopicTree::with_max_topic_levels(max_topic_levels),
            broker_topics: 0,
            bytes: 0,
        }
    }

    /// How many topics hold a retained message.
    pub(super) fn len(&self) -> usize {
        self.tree.len()
    }

    /// How many count against `max_retained_messages` (those outside `$SYS`).
    pub(super) fn counted(&self) -> usize {
        self.tree.len() - self.broker_topics
    }

    /// The bytes of their topics and payloads (outside `$SYS`).
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether retaining `message` keeps within `max_messages` and `max_bytes` (None: no
    /// bound), counting the one it replaces out. A store already past a bound (the
    /// bounds were lowered across a restart) refuses growth, never shrinking.
    pub(super) fn fits(
        &self,
        message: &Message,
        max_messages: Option<usize>,
        max_bytes: Option<usize>,
    ) -> bool {
        // Without bounds (the default) nothing is looked up: a retained publication
        // walks the tree once, to store it.
        if (max_messages.is_none() && max_bytes.is_none()) || is_broker_topic(message.topic()) {
            return true;
        }
        let previous = self.tree.get(message.topic().as_str());
        let count = self.counted() + usize::from(previous.is_none());
        let freed = previous.map_or(0, |p| retained_size(&p.message));
        let size = retained_size(message);
        let bytes = self.bytes.saturating_sub(freed) + size;
        let count_fits = max_messages.is_none_or(|max| count <= max || previous.is_some());
        let bytes_fits = max_bytes.is_none_or(|max| bytes <= max || size <= freed);
        count_fits && bytes_fits
    }

    /// The retained message of `topic`.
    pub(super) fn get(&self, topic: &str) -> Option<&Retained> {
        self.tree.get(topic)
    }

    /// Keeps `retained` as its topic's; returns the one it replaces.
    ///
    /// # Errors
    /// A validation error for a topic with more levels than allowed.
    pub(super) fn insert(&mut self, retained: Retained) -> Result<Option<Retained>, Error> {
        let size = retained_size(&retained.message);
        let topic = retained.message.topic().clone();
        let broker_topic = is_broker_topic(&topic);
        let previous = self.tree.insert(topic, retained)?;
        self.bytes += size;
        match &previous {
            Some(previous) => self.bytes -= retained_size(&previous.message),
            None => self.broker_topics += usize::from(broker_topic),
        }
        Ok(previous)
    }

    /// Removes the retained message of `topic`, and returns it.
    pub(super) fn remove(&mut self, topic: &str) -> Option<Retained> {
        let removed = self.tree.remove(topic)?;
        self.bytes -= retained_size(&removed.message);
        self.broker_topics -= usize::from(is_broker_topic(removed.message.topic()));
        Some(removed)
    }

    /// Calls `f` with every retained message whose topic `filter` matches.
    pub(super) fn for_each_match<'a>(
        &'a self,
        filter: &TopicFilter,
        f: impl FnMut(&'a TopicName, &'a Retained),
    ) {
        self.tree.for_each_match(filter, f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constants::QoS;

    fn message(topic: &str, payload: &'static [u8]) -> Message {
        Message::builder(TopicName::new(topic).expect("a valid topic"))
            .payload(payload)
            .qos(QoS::AtMostOnce)
            .retain(true)
            .build()
            .expect("a valid message")
    }

    fn retained(topic: &str, payload: &'static [u8]) -> Retained {
        Retained::new(message(topic, payload), SystemTime::UNIX_EPOCH)
    }

    #[test]
    fn counts_bytes_of_topic_and_payload_across_replacement_and_removal() {
        let mut store = RetainedMessages::new(None);
        store.insert(retained("a/b", b"12345")).expect("kept");
        store.insert(retained("c", b"1")).expect("kept");
        assert_eq!((store.len(), store.bytes()), (2, 8 + 2));
        store.insert(retained("a/b", b"1")).expect("replaced");
        assert_eq!((store.len(), store.bytes()), (2, 4 + 2));
        assert!(store.remove("a/b").is_some());
        assert!(store.remove("a/b").is_none());
        assert_eq!((store.len(), store.bytes()), (1, 2));
    }

    #[test]
    fn a_full_store_takes_replacements_but_no_new_topic() {
        let mut store = RetainedMessages::new(None);
        store.insert(retained("a", b"12")).expect("kept");
        assert!(store.fits(&message("a", b"34"), Some(1), None));
        assert!(!store.fits(&message("b", b"34"), Some(1), None));
        assert!(store.fits(&message("b", b"34"), Some(2), None));
    }

    #[test]
    fn the_byte_bound_counts_the_replaced_message_out() {
        let mut store = RetainedMessages::new(None);
        store.insert(retained("a", b"1234")).expect("kept");
        assert!(store.fits(&message("a", b"123456789"), None, Some(10)));
        assert!(!store.fits(&message("a", b"1234567890"), None, Some(10)));
        assert!(!store.fits(&message("b", b"12345"), None, Some(10)));
        assert!(store.fits(&message("b", b"1234"), None, Some(10)));
    }

    #[test]
    fn the_brokers_own_topics_count_against_no_bound() {
        let mut store = RetainedMessages::new(None);
        store
            .insert(retained("$SYS/broker/uptime", b"10 seconds"))
            .expect("kept");
        store.insert(retained("a", b"1")).expect("kept");
        assert_eq!((store.len(), store.counted(), store.bytes()), (2, 1, 2));
        assert!(store.fits(&message("$SYS/broker/version", b"1.0"), Some(1), Some(2)));
        assert!(!store.fits(&message("b", b"1"), Some(1), None));
        assert!(store.remove("$SYS/broker/uptime").is_some());
        assert_eq!((store.len(), store.counted(), store.bytes()), (1, 1, 2));
    }

    #[test]
    fn a_store_past_its_bounds_still_takes_smaller_replacements() {
        let mut store = RetainedMessages::new(None);
        store.insert(retained("a", b"123456")).expect("kept");
        store.insert(retained("b", b"123456")).expect("kept");
        assert!(store.fits(&message("a", b"12"), Some(1), Some(4)));
        assert!(!store.fits(&message("c", b"1"), Some(1), Some(4)));
    }
}
