//! The topic engine: topic names, topic filters and matching (MQTT 5.0 §4.7, shared
//! subscriptions §4.8.2), subscriptions, the [`SubscriptionIndex`] that routes a topic to
//! the subscriptions that match it, and the [`TopicTree`] that finds stored topics (the
//! retained messages) by filter.
//!
//! Matching follows the spec exactly: `#` also matches the parent level (`a/#` matches
//! `a`), `+` matches one whole level including an empty one, a filter whose first
//! character is a wildcard never matches a topic starting with `$` ([MQTT-4.7.2-1]),
//! comparison is byte for byte and case-sensitive with no normalisation
//! ([MQTT-4.7.3-4]). Nothing recurses over levels, so a topic of 65,535 levels costs a
//! loop, not a stack.

use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use bytes::Bytes;

mod index;
mod subscription;
mod topic_tree;
mod trie;

pub use index::{DEFAULT_MAX_TOPIC_LEVELS, IndexLimits, SubscriptionIndex};
#[cfg(feature = "redis")]
pub(crate) use subscription::check_client_id;
pub use subscription::{
    Delivery, Subscription, SubscriptionBuilder, SubscriptionId, merge_overlapping,
};
pub use topic_tree::TopicTree;

use crate::constants::protocol::{MAX_TOPIC_LENGTH, SHARED_SUBSCRIPTION_PREFIX};
use crate::detach::Detach;
use crate::error::{Error, TopicKind, Violation};
use crate::string::MqttString;

/// A topic name, as in PUBLISH: UTF-8, 1 to 65,535 bytes, no U+0000, no `+` or `#`.
///
/// # Examples
/// ```
/// use mqtt_common::TopicName;
/// let topic: TopicName = "sensors/temperature".parse()?;
/// assert_eq!(topic.as_str(), "sensors/temperature");
/// assert_eq!(topic.levels().count(), 2);
/// assert!(TopicName::new("sensors/+").is_err());
/// # Ok::<(), mqtt_common::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicName(MqttString);
// Invariant: `check_topic_name` accepted the text; built only by the constructors below.

impl TopicName {
    /// Copies and checks a topic name.
    ///
    /// # Errors
    /// A validation error with [`Violation::TopicEmpty`], [`Violation::TopicTooLong`],
    /// [`Violation::TopicContainsNull`] or [`Violation::TopicNameHasWildcard`].
    pub fn new(topic: &str) -> Result<Self, Error> {
        check_topic_name(topic)?;
        Ok(Self(MqttString::from_checked_str(topic)))
    }

    /// Checks a topic name given as bytes (from the wire), without copying.
    ///
    /// # Errors
    /// As [`TopicName::new`], plus [`Violation::TopicInvalidUtf8`].
    pub fn from_bytes(bytes: Bytes) -> Result<Self, Error> {
        Ok(Self::from_wire(bytes)?)
    }

    /// As [`from_bytes`](Self::from_bytes), reporting the broken rule itself.
    pub(crate) fn from_wire(bytes: Bytes) -> Result<Self, Violation> {
        let text = topic_text(bytes, TopicKind::Name)?;
        check_topic_name(&text)?;
        Ok(Self(text))
    }

    /// A topic name from a literal.
    ///
    /// # Panics
    /// If the literal is not a valid topic name.
    ///
    /// ```should_panic
    /// mqtt_common::TopicName::from_static("a/#");
    /// ```
    pub const fn from_static(topic: &'static str) -> Self {
        let bytes = topic.as_bytes();
        assert!(!bytes.is_empty(), "topic name is empty");
        let mut i = 0;
        while i < bytes.len() {
            assert!(
                bytes[i] != b'+' && bytes[i] != b'#',
                "topic name contains a wildcard"
            );
            i += 1;
        }
        Self(MqttString::from_static(topic))
    }

    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The text as a validated MQTT string.
    #[inline]
    pub fn as_mqtt_str(&self) -> &MqttString {
        &self.0
    }

    /// The levels, split on `/` (`"a//b"` has three, the middle one empty).
    pub fn levels(&self) -> std::str::Split<'_, char> {
        self.as_str().split('/')
    }

    /// Whether this is a `$` topic, which wildcards at the first level do not match.
    #[inline]
    pub fn is_system(&self) -> bool {
        self.as_str().starts_with('$')
    }
}

/// Checks a topic name; see [`TopicName::new`].
///
/// # Examples
/// ```
/// use mqtt_common::{topic::validate_topic_name, Violation};
/// assert!(validate_topic_name("a/b").is_ok());
/// let err = validate_topic_name("").unwrap_err();
/// assert_eq!(err.spec_ref(), Some("MQTT-4.7.3-1"));
/// ```
///
/// # Errors
/// As [`TopicName::new`].
pub fn validate_topic_name(topic: &str) -> Result<(), Error> {
    check_topic_name(topic).map_err(Error::from)
}

fn check_topic_name(topic: &str) -> Result<(), Violation> {
    check_length(topic, TopicKind::Name)?;
    // One pass without an early exit, which the compiler vectorises: a valid name is
    // read to its end anyway, and this is on every PUBLISH's path.
    let (nul, wildcard) = topic.bytes().fold((false, false), |(nul, wildcard), b| {
        (nul | (b == 0), wildcard | (b == b'+') | (b == b'#'))
    });
    if nul {
        return Err(Violation::TopicContainsNull {
            kind: TopicKind::Name,
        });
    }
    if wildcard {
        return Err(Violation::TopicNameHasWildcard);
    }
    Ok(())
}

/// Decodes topic bytes as an MQTT string, reporting problems as topic violations.
fn topic_text(bytes: Bytes, kind: TopicKind) -> Result<MqttString, Violation> {
    MqttString::from_bytes(bytes).map_err(|violation| match violation {
        Violation::StringContainsNull => Violation::TopicContainsNull { kind },
        Violation::StringTooLong { len } => Violation::TopicTooLong { kind, len },
        _ => Violation::TopicInvalidUtf8 { kind },
    })
}

/// The length rules shared by names and filters: not empty, at most 65,535 bytes.
fn check_length(topic: &str, kind: TopicKind) -> Result<(), Violation> {
    if topic.is_empty() {
        return Err(Violation::TopicEmpty { kind });
    }
    if topic.len() > MAX_TOPIC_LENGTH as usize {
        return Err(Violation::TopicTooLong {
            kind,
            len: topic.len(),
        });
    }
    Ok(())
}

/// A topic filter, as in SUBSCRIBE: a topic with `+` and `#` wildcards in valid places,
/// optionally a shared subscription `$share/<share name>/<filter>`.
///
/// # Examples
/// ```
/// use mqtt_common::{TopicFilter, TopicName};
/// let filter = TopicFilter::new("$share/workers/site/+/temp")?;
/// assert_eq!(filter.share_group(), Some("workers"));
/// assert_eq!(filter.filter(), "site/+/temp");
/// assert!(filter.matches(&TopicName::new("site/42/temp")?));
/// assert!(TopicFilter::new("site/#/temp").is_err());
/// # Ok::<(), mqtt_common::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicFilter {
    text: MqttString,
    /// Byte offset of the filter proper: 0, or just after `$share/<name>/`.
    filter_start: u16,
    has_wildcards: bool,
}
// Invariant: `parse_filter` accepted `text` and computed the other two fields from it.

impl TopicFilter {
    /// Copies and checks a topic filter.
    ///
    /// # Errors
    /// A validation error with [`Violation::TopicEmpty`], [`Violation::TopicTooLong`],
    /// [`Violation::TopicContainsNull`], [`Violation::MisplacedMultiLevelWildcard`],
    /// [`Violation::MisplacedSingleLevelWildcard`], [`Violation::ShareNameEmpty`],
    /// [`Violation::ShareNameHasWildcard`] or [`Violation::SharedFilterMissing`].
    pub fn new(filter: &str) -> Result<Self, Error> {
        let (filter_start, has_wildcards) = parse_filter(filter)?;
        Ok(Self {
            text: MqttString::from_checked_str(filter),
            filter_start,
            has_wildcards,
        })
    }

    /// Checks a topic filter given as bytes (from the wire), without copying.
    ///
    /// # Errors
    /// As [`TopicFilter::new`], plus [`Violation::TopicInvalidUtf8`].
    pub fn from_bytes(bytes: Bytes) -> Result<Self, Error> {
        Ok(Self::from_wire(bytes)?)
    }

    /// As [`from_bytes`](Self::from_bytes), reporting the broken rule itself.
    pub(crate) fn from_wire(bytes: Bytes) -> Result<Self, Violation> {
        let text = topic_text(bytes, TopicKind::Filter)?;
        let (filter_start, has_wildcards) = parse_filter(&text)?;
        Ok(Self {
            text,
            filter_start,
            has_wildcards,
        })
    }

    /// The whole text, `$share/<name>/` prefix included.
    #[inline]
    pub fn as_str(&self) -> &str {
        self.text.as_str()
    }

    /// The text as a validated MQTT string.
    #[inline]
    pub fn as_mqtt_str(&self) -> &MqttString {
        &self.text
    }

    /// The filter that topics are matched against: without the `$share/<name>/` prefix.
    #[inline]
    pub fn filter(&self) -> &str {
        &self.as_str()[self.filter_start as usize..]
    }

    /// The share name of a shared subscription (`$share/<name>/...`).
    pub fn share_group(&self) -> Option<&str> {
        if self.filter_start == 0 {
            return None;
        }
        Some(&self.as_str()[SHARED_SUBSCRIPTION_PREFIX.len()..self.filter_start as usize - 1])
    }

    /// Whether this is a shared subscription.
    #[inline]
    pub fn is_shared(&self) -> bool {
        self.filter_start != 0
    }

    /// Whether the filter (share prefix aside) contains `+` or `#`.
    #[inline]
    pub fn has_wildcards(&self) -> bool {
        self.has_wildcards
    }

    /// The levels of [`filter`](Self::filter), split on `/`.
    pub fn levels(&self) -> std::str::Split<'_, char> {
        self.filter().split('/')
    }

    /// Whether this filter matches the topic name.
    #[inline]
    pub fn matches(&self, topic: &TopicName) -> bool {
        if self.has_wildcards {
            wildcard_match(self.filter(), topic.as_str())
        } else {
            self.filter() == topic.as_str()
        }
    }
}

/// Checks a topic filter; see [`TopicFilter::new`].
///
/// # Errors
/// As [`TopicFilter::new`].
pub fn validate_topic_filter(filter: &str) -> Result<(), Error> {
    parse_filter(filter).map(drop).map_err(Error::from)
}

/// Checks a filter, returning where the filter proper starts and whether it has
/// wildcards.
fn parse_filter(text: &str) -> Result<(u16, bool), Violation> {
    check_length(text, TopicKind::Filter)?;
    if text.as_bytes().contains(&0) {
        return Err(Violation::TopicContainsNull {
            kind: TopicKind::Filter,
        });
    }
    let mut filter_start = 0;
    if let Some(rest) = text.strip_prefix(SHARED_SUBSCRIPTION_PREFIX) {
        let Some(slash) = rest.find('/') else {
            return Err(if rest.is_empty() {
                Violation::ShareNameEmpty
            } else {
                Violation::SharedFilterMissing
            });
        };
        let share_name = &rest[..slash];
        if share_name.is_empty() {
            return Err(Violation::ShareNameEmpty);
        }
        if share_name.contains(['+', '#']) {
            return Err(Violation::ShareNameHasWildcard);
        }
        // Fits in u16: the whole text is at most 65,535 bytes (checked above).
        filter_start = (SHARED_SUBSCRIPTION_PREFIX.len() + slash + 1) as u16;
        if text.len() == filter_start as usize {
            return Err(Violation::SharedFilterMissing);
        }
    }
    let filter = &text.as_bytes()[filter_start as usize..];
    // One pass over the bytes (`/`, `+` and `#` are ASCII): a wildcard must be a whole
    // level, and `#` the last one.
    let mut has_wildcards = false;
    for (i, &byte) in filter.iter().enumerate() {
        if byte != b'#' && byte != b'+' {
            continue;
        }
        let level_start = filter[..i]
            .iter()
            .rposition(|&b| b == b'/')
            .map_or(0, |s| s + 1);
        let level_end = filter[i..]
            .iter()
            .position(|&b| b == b'/')
            .map_or(filter.len(), |e| i + e);
        let level = &filter[level_start..level_end];
        if level.contains(&b'#') {
            if level != b"#" || level_end != filter.len() {
                return Err(Violation::MisplacedMultiLevelWildcard);
            }
        } else if level != b"+" {
            return Err(Violation::MisplacedSingleLevelWildcard);
        }
        has_wildcards = true;
    }
    Ok((filter_start, has_wildcards))
}

/// Matches a valid filter (share prefix removed) against a valid topic name, level by
/// level, iteratively.
fn wildcard_match(filter: &str, topic: &str) -> bool {
    // [MQTT-4.7.2-1]: a filter starting with a wildcard does not match `$` topics.
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    // Split as bytes: `/` is ASCII, and a byte predicate is cheaper per level than a
    // `char` pattern search, with levels as short as topics' usually are.
    let mut filter_levels = filter.as_bytes().split(|&b| b == b'/');
    let mut topic_levels = topic.as_bytes().split(|&b| b == b'/');
    loop {
        match (filter_levels.next(), topic_levels.next()) {
            // `#` matches the rest, including nothing at all (the parent level).
            (Some(b"#"), _) => return true,
            (Some(f), Some(t)) => {
                if f != b"+" && f != t {
                    return false;
                }
            }
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// Whether `topic` is the server's: a `$SYS` topic, as mosquitto counts them (every
/// topic that starts so). Clients may not publish there nor leave a Will there; no
/// bound counts its retained messages and no store keeps them.
///
/// # Examples
/// ```
/// use mqtt_common::topic::is_sys_topic;
/// assert!(is_sys_topic("$SYS/broker/uptime"));
/// assert!(!is_sys_topic("sensors/$SYS"));
/// ```
pub fn is_sys_topic(topic: &str) -> bool {
    topic.starts_with("$SYS")
}

/// Whether `topic_filter` matches `topic`, after checking both.
///
/// A shared subscription filter matches what its filter part matches.
///
/// # Examples
/// ```
/// use mqtt_common::topic_matches;
/// assert!(topic_matches("sport/#", "sport")?);
/// assert!(topic_matches("+/+", "/finance")?);
/// assert!(!topic_matches("#", "$SYS/uptime")?);
/// assert!(topic_matches("$SYS/#", "$SYS/uptime")?);
/// assert!(topic_matches("a/b", "a/+").is_err());
/// # Ok::<(), mqtt_common::Error>(())
/// ```
///
/// # Errors
/// A validation error for the field `topic_filter` or `topic` when either is invalid.
pub fn topic_matches(topic_filter: &str, topic: &str) -> Result<bool, Error> {
    let (filter_start, has_wildcards) =
        parse_filter(topic_filter).map_err(|v| Error::invalid("topic_filter", v))?;
    check_topic_name(topic).map_err(|v| Error::invalid("topic", v))?;
    let filter = &topic_filter[filter_start as usize..];
    Ok(if has_wildcards {
        wildcard_match(filter, topic)
    } else {
        filter == topic
    })
}

macro_rules! topic_traits {
    ($name:ident) => {
        impl Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                self.as_str()
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.as_str(), f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;

            fn from_str(value: &str) -> Result<Self, Error> {
                Self::new(value)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = Error;

            fn try_from(value: &str) -> Result<Self, Error> {
                Self::new(value)
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;

            fn try_from(value: String) -> Result<Self, Error> {
                Self::from_bytes(Bytes::from(value))
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

topic_traits!(TopicName);
topic_traits!(TopicFilter);

impl Detach for TopicName {
    fn detached(&self) -> Self {
        Self(self.0.detached())
    }
}

impl Detach for TopicFilter {
    fn detached(&self) -> Self {
        Self {
            text: self.text.detached(),
            ..*self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_group_offsets() {
        let filter = TopicFilter::new("$share/g/a/#").unwrap();
        assert_eq!(filter.share_group(), Some("g"));
        assert_eq!(filter.filter(), "a/#");
        assert!(filter.has_wildcards());
    }
}
