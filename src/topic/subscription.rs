//! A client's subscription: a topic filter and its options (MQTT 5.0 §3.8.3.1), and the
//! merge of overlapping subscriptions into one delivery per client (§3.3.4).

use std::num::NonZeroU32;

use crate::constants::protocol::MAX_SUBSCRIPTION_ID;
use crate::constants::{QoS, RetainHandling};
use crate::detach::Detach;
use crate::error::{Error, Violation};
use crate::integer::FromInteger;
use crate::topic::TopicFilter;

/// A Subscription Identifier: 1 to 268,435,455 (§3.8.2.1.2).
///
/// # Examples
/// ```
/// use mqtt_common::SubscriptionId;
/// assert_eq!(SubscriptionId::new(7)?.get(), 7);
/// assert!(SubscriptionId::new(0).is_err());
/// assert!(SubscriptionId::new(268_435_456).is_err());
/// # Ok::<(), mqtt_common::Violation>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionId(NonZeroU32);
// Invariant: at most MAX_SUBSCRIPTION_ID, checked by `new`.

impl SubscriptionId {
    /// Checks the range.
    ///
    /// # Errors
    /// [`Violation::SubscriptionIdOutOfRange`].
    pub const fn new(value: u32) -> Result<Self, Violation> {
        match NonZeroU32::new(value) {
            Some(nonzero) if value <= MAX_SUBSCRIPTION_ID => Ok(Self(nonzero)),
            _ => Err(Violation::SubscriptionIdOutOfRange {
                value: value as i128,
            }),
        }
    }

    /// The identifier.
    #[inline]
    pub const fn get(self) -> u32 {
        self.0.get()
    }
}

impl FromInteger for SubscriptionId {
    /// # Errors
    /// [`Violation::SubscriptionIdOutOfRange`].
    fn from_integer(value: i128) -> Result<Self, Violation> {
        u32::try_from(value)
            .map_err(|_| Violation::SubscriptionIdOutOfRange { value })
            .and_then(Self::new)
    }
}

/// A subscription: a topic filter with its QoS and MQTT 5.0 options.
///
/// # Examples
/// ```
/// use mqtt_common::{QoS, Subscription, TopicFilter};
/// let subscription = Subscription::builder(TopicFilter::new("$share/g/site/+/temp")?)
///     .qos(QoS::AtLeastOnce)
///     .build()?;
/// assert_eq!(subscription.share_group(), Some("g"));
///
/// // No Local on a shared subscription is a Protocol Error [MQTT-3.8.3-4].
/// let err = Subscription::builder(TopicFilter::new("$share/g/a")?)
///     .no_local(true)
///     .build()
///     .unwrap_err();
/// assert_eq!(err.spec_ref(), Some("MQTT-3.8.3-4"));
/// # Ok::<(), mqtt_common::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subscription {
    topic_filter: TopicFilter,
    qos: QoS,
    no_local: bool,
    retain_as_published: bool,
    retain_handling: RetainHandling,
    subscription_id: Option<SubscriptionId>,
}

impl Subscription {
    /// A subscription with default options (no_local and retain_as_published off,
    /// retained messages sent at subscribe, no subscription identifier).
    pub fn new(topic_filter: TopicFilter, qos: QoS) -> Self {
        Self {
            topic_filter,
            qos,
            no_local: false,
            retain_as_published: false,
            retain_handling: RetainHandling::SendAtSubscribe,
            subscription_id: None,
        }
    }

    /// A builder for every option.
    pub fn builder(topic_filter: TopicFilter) -> SubscriptionBuilder {
        SubscriptionBuilder(Self::new(topic_filter, QoS::AtMostOnce))
    }

    /// A builder holding this subscription's fields, to change some of them.
    pub fn to_builder(&self) -> SubscriptionBuilder {
        SubscriptionBuilder(self.clone())
    }

    /// The topic filter, `$share/<group>/` prefix included.
    #[inline]
    pub fn topic_filter(&self) -> &TopicFilter {
        &self.topic_filter
    }

    /// The maximum QoS granted.
    #[inline]
    pub fn qos(&self) -> QoS {
        self.qos
    }

    /// No Local: do not forward the client's own messages back to it.
    #[inline]
    pub fn no_local(&self) -> bool {
        self.no_local
    }

    /// Retain As Published: keep the RETAIN flag when forwarding.
    #[inline]
    pub fn retain_as_published(&self) -> bool {
        self.retain_as_published
    }

    /// When to send retained messages.
    #[inline]
    pub fn retain_handling(&self) -> RetainHandling {
        self.retain_handling
    }

    /// The Subscription Identifier, if the client gave one.
    #[inline]
    pub fn subscription_id(&self) -> Option<SubscriptionId> {
        self.subscription_id
    }

    /// The share name of a shared subscription.
    #[inline]
    pub fn share_group(&self) -> Option<&str> {
        self.topic_filter.share_group()
    }
}

impl AsRef<Subscription> for Subscription {
    fn as_ref(&self) -> &Subscription {
        self
    }
}

/// Builds a [`Subscription`]; [`build`](SubscriptionBuilder::build) checks the options
/// together.
#[derive(Debug, Clone)]
#[must_use]
pub struct SubscriptionBuilder(Subscription);

impl SubscriptionBuilder {
    /// Sets the topic filter.
    pub fn topic_filter(mut self, topic_filter: TopicFilter) -> Self {
        self.0.topic_filter = topic_filter;
        self
    }

    /// Sets the maximum QoS.
    pub fn qos(mut self, qos: QoS) -> Self {
        self.0.qos = qos;
        self
    }

    /// Sets No Local.
    pub fn no_local(mut self, no_local: bool) -> Self {
        self.0.no_local = no_local;
        self
    }

    /// Sets Retain As Published.
    pub fn retain_as_published(mut self, retain_as_published: bool) -> Self {
        self.0.retain_as_published = retain_as_published;
        self
    }

    /// Sets Retain Handling.
    pub fn retain_handling(mut self, retain_handling: RetainHandling) -> Self {
        self.0.retain_handling = retain_handling;
        self
    }

    /// Sets or clears the Subscription Identifier.
    pub fn subscription_id(mut self, subscription_id: Option<SubscriptionId>) -> Self {
        self.0.subscription_id = subscription_id;
        self
    }

    /// Checks the options together and builds the subscription.
    ///
    /// # Errors
    /// [`Violation::NoLocalOnSharedSubscription`] (field `no_local`).
    pub fn build(self) -> Result<Subscription, Error> {
        if self.0.no_local && self.0.topic_filter.is_shared() {
            return Err(Error::invalid(
                "no_local",
                Violation::NoLocalOnSharedSubscription,
            ));
        }
        Ok(self.0)
    }
}

/// What to send one client for one PUBLISH when several of its subscriptions match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery<'a> {
    /// The client to send to.
    pub client_id: &'a str,
    /// The highest QoS of the matching subscriptions ([MQTT-3.3.4-2]).
    pub qos: QoS,
    /// Every Subscription Identifier of the matching subscriptions, ascending
    /// ([MQTT-3.3.4-3], [MQTT-3.3.4-4]).
    pub subscription_identifiers: Vec<SubscriptionId>,
    /// Whether any matching subscription asked for Retain As Published.
    pub retain_as_published: bool,
}

/// Merges the matches of one topic into one [`Delivery`] per client, in first-seen order.
///
/// Shared subscriptions are left out: the broker picks one member of each group from
/// the matches itself. When `publisher` is given, that client's No Local subscriptions
/// are left out too ([MQTT-3.8.3-3]).
///
/// # Examples
/// ```
/// use mqtt_common::{merge_overlapping, QoS, Subscription, SubscriptionId, TopicFilter};
/// let a = Subscription::builder(TopicFilter::new("site/#")?)
///     .subscription_id(Some(SubscriptionId::new(7)?))
///     .build()?;
/// let b = Subscription::new(TopicFilter::new("site/+/temp")?, QoS::ExactlyOnce);
/// let deliveries = merge_overlapping([("c1", &a), ("c1", &b)], None);
/// assert_eq!(deliveries.len(), 1);
/// assert_eq!(deliveries[0].qos, QoS::ExactlyOnce);
/// assert_eq!(deliveries[0].subscription_identifiers, [SubscriptionId::new(7)?]);
/// # Ok::<(), mqtt_common::Error>(())
/// ```
pub fn merge_overlapping<'a>(
    matches: impl IntoIterator<Item = (&'a str, &'a Subscription)>,
    publisher: Option<&str>,
) -> Vec<Delivery<'a>> {
    let mut deliveries: Vec<Delivery<'a>> = Vec::new();
    let mut position: std::collections::HashMap<&'a str, usize> = Default::default();
    for (client_id, subscription) in matches {
        if subscription.topic_filter.is_shared()
            || (subscription.no_local && publisher == Some(client_id))
        {
            continue;
        }
        let index = *position.entry(client_id).or_insert_with(|| {
            deliveries.push(Delivery {
                client_id,
                qos: subscription.qos,
                subscription_identifiers: Vec::new(),
                retain_as_published: false,
            });
            deliveries.len() - 1
        });
        let delivery = &mut deliveries[index];
        delivery.qos = delivery.qos.max(subscription.qos);
        delivery.retain_as_published |= subscription.retain_as_published;
        if let Some(id) = subscription.subscription_id {
            delivery.subscription_identifiers.push(id);
        }
    }
    for delivery in &mut deliveries {
        delivery.subscription_identifiers.sort_unstable();
        delivery.subscription_identifiers.dedup();
    }
    deliveries
}

/// A client identifier checked as an MQTT string ([MQTT-1.5.4-1], [MQTT-1.5.4-2]).
pub(crate) fn check_client_id(client_id: &str) -> Result<(), Error> {
    crate::string::check_str(client_id).map_err(|v| Error::invalid("client_id", v))
}

impl Detach for Subscription {
    fn detached(&self) -> Self {
        Self {
            topic_filter: self.topic_filter.detached(),
            qos: self.qos,
            no_local: self.no_local,
            retain_as_published: self.retain_as_published,
            retain_handling: self.retain_handling,
            subscription_id: self.subscription_id,
        }
    }
}
