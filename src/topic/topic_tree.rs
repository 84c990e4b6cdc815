//! [`TopicTree`]: values stored by topic name, found by topic filter (retained messages).

use std::fmt;

use crate::error::{Error, TopicKind};
use crate::topic::index::{DEFAULT_MAX_TOPIC_LEVELS, IndexLimits};
use crate::topic::trie::{LevelId, LevelTree, NodeId, ROOT};
use crate::topic::{TopicFilter, TopicName};

/// Values keyed by topic name, answering "which stored topics match this filter" without
/// scanning them all: the lookup behind retained messages.
///
/// Matching follows §4.7, as [`crate::SubscriptionIndex`] does, the other way round:
/// `#` matches the parent level, `+` matches empty levels, and a filter starting with a
/// wildcard does not match topics starting with `$`. Nothing recurses.
///
/// # Examples
/// ```
/// use mqtt_common::{TopicFilter, TopicName, TopicTree};
/// let mut retained = TopicTree::new();
/// retained.insert(TopicName::new("site/1/temp")?, 21.5)?;
/// retained.insert(TopicName::new("site/2/temp")?, 19.0)?;
/// retained.insert(TopicName::new("$SYS/uptime")?, 3.0)?;
///
/// let found = retained.matches(&TopicFilter::new("site/+/temp")?);
/// assert_eq!(found.len(), 2);
/// assert_eq!(retained.matches(&TopicFilter::new("#")?).len(), 2); // not $SYS
/// assert_eq!(retained.remove("site/1/temp"), Some(21.5));
/// # Ok::<(), mqtt_common::Error>(())
/// ```
pub struct TopicTree<V> {
    tree: LevelTree<Option<(TopicName, V)>>,
    len: usize,
    max_topic_levels: Option<usize>,
}

impl<V> Default for TopicTree<V> {
    fn default() -> Self {
        Self::with_max_topic_levels(Some(DEFAULT_MAX_TOPIC_LEVELS))
    }
}

impl<V> fmt::Debug for TopicTree<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TopicTree")
            .field("len", &self.len)
            .field("nodes", &self.tree.node_count())
            .finish()
    }
}

impl<V> TopicTree<V> {
    /// An empty tree with the default level limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty tree refusing topic names with more levels than `max_topic_levels`.
    pub fn with_max_topic_levels(max_topic_levels: Option<usize>) -> Self {
        Self {
            tree: LevelTree::default(),
            len: 0,
            max_topic_levels,
        }
    }

    /// Stores `value` under `topic`, returning the value it replaces.
    ///
    /// # Errors
    /// [`crate::Violation::TooManyLevels`] (field `topic`) past the level limit.
    pub fn insert(&mut self, topic: TopicName, value: V) -> Result<Option<V>, Error> {
        let limits = IndexLimits {
            max_topic_levels: self.max_topic_levels,
            max_subscriptions_per_client: None,
        };
        limits
            .check_levels(TopicKind::Name, topic.levels().count())
            .map_err(|e| e.in_field("topic"))?;
        let node = self.tree.insert_path(topic.levels());
        let previous = self.tree.value_mut(node).replace((topic, value));
        if previous.is_none() {
            self.len += 1;
        }
        Ok(previous.map(|(_, value)| value))
    }

    /// The value stored under `topic`.
    pub fn get(&self, topic: &str) -> Option<&V> {
        let mut path = Vec::new();
        if !self.tree.find_path(topic.split('/'), &mut path) {
            return None;
        }
        let node = path[path.len() - 1];
        self.tree.node(node).value.as_ref().map(|(_, value)| value)
    }

    /// Removes and returns the value stored under `topic`.
    pub fn remove(&mut self, topic: &str) -> Option<V> {
        let mut path = Vec::new();
        if !self.tree.find_path(topic.split('/'), &mut path) {
            return None;
        }
        let node = path[path.len() - 1];
        let (_, value) = self.tree.value_mut(node).take()?;
        self.len -= 1;
        self.tree.prune(&path, topic.split('/'), Option::is_none);
        if self.len == 0 {
            self.tree = LevelTree::default();
        } else if self.tree.wants_compaction() {
            self.tree.compact(|_, _| {});
        }
        Some(value)
    }

    /// Every stored `(topic, value)` whose topic matches `filter` (a shared
    /// subscription's filter matches what its filter part matches).
    pub fn matches(&self, filter: &TopicFilter) -> Vec<(&TopicName, &V)> {
        let mut found = Vec::new();
        self.for_each_match(filter, |topic, value| found.push((topic, value)));
        found
    }

    /// Calls `f(topic, value)` for every stored topic that `filter` matches.
    pub fn for_each_match<'a>(
        &'a self,
        filter: &TopicFilter,
        mut f: impl FnMut(&'a TopicName, &'a V),
    ) {
        let levels: Vec<&str> = filter.levels().collect();
        let mut emit = |node: NodeId| {
            if let Some((topic, value)) = &self.tree.node(node).value {
                f(topic, value);
            }
        };
        // (node, index of the filter level to match at its children)
        let mut stack = vec![(ROOT, 0usize)];
        let mut subtree = Vec::new();
        while let Some((node, depth)) = stack.pop() {
            let Some(&level) = levels.get(depth) else {
                emit(node);
                continue;
            };
            // [MQTT-4.7.2-1]: a leading wildcard does not match `$` topics.
            let visible = |level: LevelId| depth > 0 || !self.tree.is_dollar(level);
            match level {
                "#" => {
                    emit(node); // the parent level: `a/#` matches `a`
                    self.tree.for_each_child(node, |level, child| {
                        if visible(level) {
                            subtree.push(child);
                        }
                    });
                    while let Some(node) = subtree.pop() {
                        emit(node);
                        self.tree
                            .for_each_child(node, |_, child| subtree.push(child));
                    }
                }
                "+" => self.tree.for_each_child(node, |level, child| {
                    if visible(level) {
                        stack.push((child, depth + 1));
                    }
                }),
                name => {
                    let child = self.tree.level(name).and_then(|l| self.tree.child(node, l));
                    if let Some(child) = child {
                        stack.push((child, depth + 1));
                    }
                }
            }
        }
    }

    /// Every stored `(topic, value)`, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&TopicName, &V)> {
        self.tree
            .values()
            .filter_map(|value| value.as_ref().map(|(topic, value)| (topic, value)))
    }

    /// How many topics hold a value.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no topic holds a value.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Trie nodes in use, the root included: 1 when empty. For tests and diagnostics.
    pub fn node_count(&self) -> usize {
        self.tree.node_count()
    }
}
