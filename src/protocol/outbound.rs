//! The server-to-client side of a connection: how a routed message becomes a PUBLISH for
//! this client (QoS, retain, subscription identifiers, message expiry, topic alias), and
//! what waits for the client's Receive Maximum.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use crate::constants::QoS;
use crate::detach::Detach;
use crate::message::{Message, TopicAlias};
use crate::topic::{Delivery, Subscription, SubscriptionId, TopicName};

/// What a route asks of one delivery: the subscription (or the merged overlapping
/// subscriptions) that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The QoS granted to the subscription: the delivery's is the lower of this and the
    /// message's ([MQTT-3.8.4-8]).
    pub qos: QoS,
    /// The Subscription Identifiers to send (MQTT 5.0).
    pub subscription_identifiers: Vec<SubscriptionId>,
    /// Retain As Published: keep the message's RETAIN flag ([MQTT-3.3.1-12]); otherwise
    /// a routed message is sent with RETAIN 0 ([MQTT-3.3.1-13]).
    pub retain_as_published: bool,
    /// A retained message sent because of a new subscription: RETAIN 1 whatever the
    /// subscription says ([MQTT-3.3.1-9]).
    pub from_retained: bool,
}

impl Route {
    /// The route of a retained message sent for a new subscription.
    #[must_use]
    pub fn retained(mut self) -> Self {
        self.from_retained = true;
        self
    }

    /// The message as this client gets it: its QoS, RETAIN flag and subscription
    /// identifiers; no packet identifier, no DUP, no topic alias yet.
    pub(crate) fn apply(&self, message: &Message) -> Message {
        let retain = if self.from_retained {
            true
        } else {
            self.retain_as_published && message.retain()
        };
        let qos = message.qos().min(self.qos);
        let mut properties = message.properties().clone();
        properties.topic_alias = None;
        properties
            .subscription_identifiers
            .clone_from(&self.subscription_identifiers);
        let same = qos == message.qos()
            && retain == message.retain()
            && !message.dup()
            && message.message_id().is_none()
            && properties == *message.properties();
        if same {
            return message.clone();
        }
        let built = message
            .to_builder()
            .qos(qos)
            .retain(retain)
            .dup(false)
            .message_id(None)
            .properties(properties)
            .build();
        // Every field comes from a valid message, lowered or cleared: it cannot fail,
        // and if it did, the original is the safe thing to send.
        built.unwrap_or_else(|_| message.clone())
    }
}

impl From<&Subscription> for Route {
    fn from(subscription: &Subscription) -> Self {
        Self {
            qos: subscription.qos(),
            subscription_identifiers: subscription.subscription_id().into_iter().collect(),
            retain_as_published: subscription.retain_as_published(),
            from_retained: false,
        }
    }
}

impl From<&Delivery<'_>> for Route {
    fn from(delivery: &Delivery<'_>) -> Self {
        Self {
            qos: delivery.qos,
            subscription_identifiers: delivery.subscription_identifiers.clone(),
            retain_as_published: delivery.retain_as_published,
            from_retained: false,
        }
    }
}

/// The topic aliases this side has set for the client, within the client's Topic Alias
/// Maximum. When every alias is taken, the least recently used one is given to the new
/// topic (the PUBLISH carries the topic again, which redefines it, §3.3.2.3.4).
#[derive(Debug, Default)]
pub(crate) struct AliasTable {
    maximum: u16,
    by_topic: HashMap<TopicName, (TopicAlias, u64)>,
    by_use: BTreeMap<u64, TopicName>,
    clock: u64,
}

impl AliasTable {
    pub(crate) fn new(maximum: u16) -> Self {
        Self {
            maximum,
            ..Self::default()
        }
    }

    /// The alias to send `topic` with, and whether the topic must be sent too (the
    /// first time, or when the alias is reassigned). `None`: no aliases. Nothing changes
    /// until [`use_alias`](Self::use_alias): the PUBLISH may yet not be sent.
    pub(crate) fn alias_for(&self, topic: &TopicName) -> Option<(TopicAlias, bool)> {
        if self.maximum == 0 {
            return None;
        }
        if let Some((alias, _)) = self.by_topic.get(topic) {
            return Some((*alias, false));
        }
        let alias = if self.by_topic.len() < usize::from(self.maximum) {
            TopicAlias::new(u16::try_from(self.by_topic.len() + 1).ok()?).ok()?
        } else {
            let (_, oldest) = self.by_use.first_key_value()?;
            self.by_topic.get(oldest)?.0
        };
        Some((alias, true))
    }

    /// Records that `topic` was sent with `alias` (from [`alias_for`](Self::alias_for)),
    /// which the client now maps to it.
    pub(crate) fn use_alias(&mut self, topic: &TopicName, alias: TopicAlias) {
        self.clock += 1;
        if let Some((kept, &(known, used))) = self.by_topic.get_key_value(topic)
            && known == alias
        {
            let kept = kept.clone();
            self.by_use.remove(&used);
            self.by_use.insert(self.clock, kept);
            if let Some(entry) = self.by_topic.get_mut(topic) {
                entry.1 = self.clock;
            }
            return;
        }
        // A reassigned alias forgets its previous topic.
        if let Some(previous) = self
            .by_topic
            .iter()
            .find(|(_, (known, _))| *known == alias)
            .map(|(topic, _)| topic.clone())
            && let Some((_, used)) = self.by_topic.remove(&previous)
        {
            self.by_use.remove(&used);
        }
        // Kept while the alias lives: in memory of its own, not a slice of a read.
        let kept = topic.detached();
        self.by_topic.insert(kept.clone(), (alias, self.clock));
        self.by_use.insert(self.clock, kept);
    }
}

/// A delivery waiting for the client's Receive Maximum, with when it began to wait (for
/// its Message Expiry Interval).
#[derive(Debug)]
pub(crate) struct Waiting {
    pub(crate) message: Message,
    pub(crate) since: Duration,
    pub(crate) tag: Option<u64>,
}

/// The deliveries waiting, oldest first, bounded.
#[derive(Debug)]
pub(crate) struct WaitingQueue {
    queue: VecDeque<Waiting>,
    limit: usize,
}

impl WaitingQueue {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            queue: VecDeque::new(),
            limit,
        }
    }

    /// Queues a delivery; `false` when the queue is full.
    pub(crate) fn push(&mut self, message: Message, now: Duration, tag: Option<u64>) -> bool {
        if self.queue.len() >= self.limit {
            return false;
        }
        self.queue.push_back(Waiting {
            message,
            since: now,
            tag,
        });
        true
    }

    pub(crate) fn pop(&mut self) -> Option<Waiting> {
        self.queue.pop_front()
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    pub(crate) fn drain(&mut self) -> impl Iterator<Item = Waiting> + '_ {
        self.queue.drain(..)
    }
}

/// The message with its Message Expiry Interval counted down by the time it waited
/// (§3.3.2.3.3), or `None` if it expired meanwhile ([MQTT-3.3.2-5]).
pub(crate) fn count_down(message: Message, waited: Duration) -> Option<Message> {
    let Some(interval) = message.properties().message_expiry_interval else {
        return Some(message);
    };
    let waited = u32::try_from(waited.as_secs()).unwrap_or(u32::MAX);
    if waited == 0 {
        return Some(message);
    }
    if waited >= interval {
        return None;
    }
    let mut properties = message.properties().clone();
    properties.message_expiry_interval = Some(interval - waited);
    message.to_builder().properties(properties).build().ok()
}
