//! [`SubscriptionIndex`]: which subscriptions match a topic, without scanning them all.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::error::{Error, TopicKind, Violation};
use crate::topic::subscription::{Subscription, check_client_id};
use crate::topic::trie::{HASH, IdMap, LevelTree, NodeId, PLUS, ROOT};
use crate::topic::{TopicFilter, TopicName};

/// The default of [`IndexLimits::max_topic_levels`], as in EMQX.
pub const DEFAULT_MAX_TOPIC_LEVELS: usize = 128;

/// Limits against hostile input. A refusal is a a validation error naming the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexLimits {
    /// The most levels a topic filter (or retained topic name) may have; `None` for no
    /// limit. Matching never recurses, so this bounds memory, not stack.
    pub max_topic_levels: Option<usize>,
    /// The most subscriptions one client may hold; `None` for no limit.
    pub max_subscriptions_per_client: Option<usize>,
}

impl Default for IndexLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl IndexLimits {
    /// The defaults: [`DEFAULT_MAX_TOPIC_LEVELS`] levels, any number of subscriptions.
    pub const DEFAULT: Self = Self {
        max_topic_levels: Some(DEFAULT_MAX_TOPIC_LEVELS),
        max_subscriptions_per_client: None,
    };

    pub(crate) fn check_levels(&self, kind: TopicKind, levels: usize) -> Result<(), Error> {
        match self.max_topic_levels {
            Some(limit) if levels > limit => Err(Violation::TooManyLevels {
                kind,
                levels,
                limit,
            }
            .into()),
            _ => Ok(()),
        }
    }
}

#[derive(Debug)]
struct Entry<V> {
    client: u32,
    value: V,
}

#[derive(Debug)]
struct ClientState {
    id: Arc<str>,
    /// The nodes holding this client's subscriptions.
    nodes: ClientNodes,
}

/// Past this many subscriptions, a client's nodes move from a list to a map, so that a
/// client with a million subscriptions cannot make each unsubscribe scan them all.
const CLIENT_LIST_MAX: usize = 64;

/// The nodes holding one client's subscriptions, a node once per subscription there
/// (a client may hold one unshared and several shared subscriptions at one node).
#[derive(Debug)]
enum ClientNodes {
    /// Most clients: a few subscriptions, 4 bytes each.
    List(Vec<NodeId>),
    /// Node to the number of the client's subscriptions at it.
    Map(IdMap<NodeId, u32>, usize),
}

impl ClientNodes {
    fn len(&self) -> usize {
        match self {
            Self::List(nodes) => nodes.len(),
            Self::Map(_, len) => *len,
        }
    }

    fn add(&mut self, node: NodeId) {
        match self {
            Self::List(nodes) if nodes.len() < CLIENT_LIST_MAX => nodes.push(node),
            Self::List(nodes) => {
                let mut map = IdMap::default();
                for &n in nodes.iter() {
                    *map.entry(n).or_default() += 1;
                }
                *map.entry(node).or_default() += 1;
                *self = Self::Map(map, nodes.len() + 1);
            }
            Self::Map(map, len) => {
                *map.entry(node).or_default() += 1;
                *len += 1;
            }
        }
    }

    /// Forgets `count` subscriptions at `node`.
    fn remove(&mut self, node: NodeId, count: usize) {
        match self {
            Self::List(nodes) => {
                for _ in 0..count {
                    if let Some(i) = nodes.iter().position(|&n| n == node) {
                        nodes.swap_remove(i);
                    }
                }
            }
            Self::Map(map, len) => {
                if let Some(at_node) = map.get_mut(&node) {
                    let removed = (*at_node as usize).min(count);
                    *at_node -= removed as u32;
                    *len -= removed;
                    if *at_node == 0 {
                        map.remove(&node);
                    }
                }
            }
        }
    }

    /// Each node once.
    fn distinct(&self) -> Vec<NodeId> {
        match self {
            Self::List(nodes) => {
                let mut distinct = nodes.clone();
                distinct.sort_unstable();
                distinct.dedup();
                distinct
            }
            Self::Map(map, _) => map.keys().copied().collect(),
        }
    }

    fn remap(&mut self, remap: &[NodeId]) {
        match self {
            Self::List(nodes) => nodes.iter_mut().for_each(|n| *n = remap[*n as usize]),
            Self::Map(map, _) => {
                *map = map.drain().map(|(n, c)| (remap[n as usize], c)).collect();
            }
        }
    }
}

/// Every client's subscriptions, indexed by topic filter: [`matches`](Self::matches) finds
/// the subscriptions whose filter matches a topic in time that depends on the topic's
/// length and the number of matches, not on how many subscriptions there are.
///
/// Each client holds at most one subscription per topic filter: subscribing again with
/// the same filter (compared character by character, [MQTT-3.10.4-1]) replaces it.
/// Values are [`Subscription`]s, or any type that carries one (`V: AsRef<Subscription>`),
/// so a caller can keep its own data beside each subscription.
///
/// Matching follows §4.7: `#` matches the parent level, `+` matches empty levels,
/// wildcards at the first level do not match `$` topics. Shared subscriptions are
/// returned with the rest (their [`Subscription::share_group`] tells them apart) so that a
/// broker can pick one member per group; `no_local` is left to the caller (see
/// [`crate::merge_overlapping`]).
///
/// # Examples
/// ```
/// use mqtt_common::{QoS, Subscription, SubscriptionIndex, TopicFilter, TopicName};
/// let mut index = SubscriptionIndex::new();
/// let filter = |f| TopicFilter::new(f).unwrap();
/// index.subscribe("c1", Subscription::new(filter("site/+/temp"), QoS::AtLeastOnce))?;
/// index.subscribe("c2", Subscription::new(filter("site/#"), QoS::AtMostOnce))?;
/// index.subscribe("c3", Subscription::new(filter("site/7/humidity"), QoS::AtMostOnce))?;
///
/// let topic = TopicName::new("site/7/temp")?;
/// let mut clients: Vec<&str> = index.matches(&topic).into_iter().map(|(c, _)| c).collect();
/// clients.sort();
/// assert_eq!(clients, ["c1", "c2"]);
///
/// assert!(index.unsubscribe("c2", &filter("site/#")).is_some());
/// assert_eq!(index.len(), 2);
/// # Ok::<(), mqtt_common::Error>(())
/// ```
pub struct SubscriptionIndex<V = Subscription> {
    tree: LevelTree<Vec<Entry<V>>>,
    clients: HashMap<Arc<str>, u32>,
    slots: Vec<Option<ClientState>>,
    free_slots: Vec<u32>,
    len: usize,
    limits: IndexLimits,
}

impl<V: AsRef<Subscription>> Default for SubscriptionIndex<V> {
    fn default() -> Self {
        Self::with_limits(IndexLimits::default())
    }
}

impl<V> fmt::Debug for SubscriptionIndex<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscriptionIndex")
            .field("len", &self.len)
            .field("clients", &self.clients.len())
            .field("nodes", &self.tree.node_count())
            .field("limits", &self.limits)
            .finish()
    }
}

impl<V: AsRef<Subscription>> SubscriptionIndex<V> {
    /// An empty index with the default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty index with the given limits.
    pub fn with_limits(limits: IndexLimits) -> Self {
        Self {
            tree: LevelTree::default(),
            clients: HashMap::new(),
            slots: Vec::new(),
            free_slots: Vec::new(),
            len: 0,
            limits,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> IndexLimits {
        self.limits
    }

    /// Adds a client's subscription, or replaces the one it has with the same filter;
    /// returns the replaced value.
    ///
    /// # Errors
    /// a validation error for an invalid client id (field `client_id`), a filter over
    /// [`IndexLimits::max_topic_levels`] ([`Violation::TooManyLevels`], field
    /// `topic_filter`), or a new subscription over
    /// [`IndexLimits::max_subscriptions_per_client`] ([`Violation::TooManySubscriptions`]).
    /// Nothing changes when it fails.
    pub fn subscribe(&mut self, client_id: &str, value: V) -> Result<Option<V>, Error> {
        check_client_id(client_id)?;
        let subscription = value.as_ref();
        let filter = subscription.topic_filter();
        self.limits
            .check_levels(TopicKind::Filter, filter.levels().count())
            .map_err(|e| e.in_field("topic_filter"))?;
        let slot = self.clients.get(client_id).copied();
        if let Some(slot) = slot {
            let mut path = Vec::new();
            if self.tree.find_path(filter.levels(), &mut path) {
                let node = path[path.len() - 1];
                let share_group = subscription.share_group();
                let existing =
                    self.tree.value_mut(node).iter_mut().find(|e| {
                        e.client == slot && e.value.as_ref().share_group() == share_group
                    });
                if let Some(existing) = existing {
                    return Ok(Some(std::mem::replace(&mut existing.value, value)));
                }
            }
        }
        if let Some(limit) = self.limits.max_subscriptions_per_client {
            let count = slot.map_or(0, |slot| self.state(slot).map_or(0, |s| s.nodes.len()));
            if count >= limit {
                return Err(Error::invalid(
                    "subscription",
                    Violation::TooManySubscriptions { limit },
                ));
            }
        }
        let slot = match slot {
            Some(slot) => slot,
            None => self.add_client(client_id),
        };
        let node = self
            .tree
            .insert_path(value.as_ref().topic_filter().levels());
        let entries = self.tree.value_mut(node);
        // Most filters have one subscriber: do not let `push` reserve room for four.
        entries.reserve_exact(1);
        entries.push(Entry {
            client: slot,
            value,
        });
        if let Some(state) = self.slots[slot as usize].as_mut() {
            state.nodes.add(node);
        }
        self.len += 1;
        Ok(None)
    }

    /// Removes a client's subscription with exactly this filter; returns it.
    pub fn unsubscribe(&mut self, client_id: &str, topic_filter: &TopicFilter) -> Option<V> {
        let slot = *self.clients.get(client_id)?;
        let mut path = Vec::new();
        if !self.tree.find_path(topic_filter.levels(), &mut path) {
            return None;
        }
        let node = path[path.len() - 1];
        let share_group = topic_filter.share_group();
        let entries = self.tree.value_mut(node);
        let position = entries
            .iter()
            .position(|e| e.client == slot && e.value.as_ref().share_group() == share_group)?;
        let entry = entries.swap_remove(position);
        self.forget(slot, node, 1);
        self.tree.prune(&path, topic_filter.levels(), Vec::is_empty);
        self.after_removal();
        Some(entry.value)
    }

    /// Removes every subscription of a client; returns them.
    pub fn unsubscribe_all(&mut self, client_id: &str) -> Vec<V> {
        let Some(slot) = self.clients.get(client_id).copied() else {
            return Vec::new();
        };
        let nodes = self
            .state(slot)
            .map(|state| state.nodes.distinct())
            .unwrap_or_default();
        let mut removed = Vec::new();
        let mut path = Vec::new();
        for node in nodes {
            let start = removed.len();
            removed.extend(
                self.tree
                    .value_mut(node)
                    .extract_if(.., |e| e.client == slot)
                    .map(|e| e.value),
            );
            let Some(first) = removed.get(start) else {
                continue;
            };
            let filter = first.as_ref().topic_filter().clone();
            self.forget(slot, node, removed.len() - start);
            if self.tree.find_path(filter.levels(), &mut path) {
                self.tree.prune(&path, filter.levels(), Vec::is_empty);
            }
        }
        self.after_removal();
        removed
    }

    /// A client's subscriptions, in no particular order.
    pub fn subscriptions(&self, client_id: &str) -> Vec<&V> {
        let Some(state) = self.clients.get(client_id).and_then(|&s| self.state(s)) else {
            return Vec::new();
        };
        let slot = self.clients[client_id];
        state
            .nodes
            .distinct()
            .into_iter()
            .flat_map(|node| self.tree.node(node).value.iter())
            .filter(|e| e.client == slot)
            .map(|e| &e.value)
            .collect()
    }

    /// Every `(client id, value)` whose filter matches `topic`, in no particular order.
    pub fn matches(&self, topic: &TopicName) -> Vec<(&str, &V)> {
        let mut found = Vec::new();
        self.for_each_match(topic, |client, value| found.push((client, value)));
        found
    }

    /// Calls `f(client id, value)` for every subscription whose filter matches `topic`.
    pub fn for_each_match<'a>(&'a self, topic: &TopicName, mut f: impl FnMut(&'a str, &'a V)) {
        self.visit_matches(topic.as_str(), &mut f);
    }

    /// The matching walk over a valid topic name: one set of live nodes per level, so
    /// the work is bounded by the levels times the nodes that can still match.
    pub(crate) fn visit_matches<'a>(&'a self, topic: &str, f: &mut impl FnMut(&'a str, &'a V)) {
        let system = topic.starts_with('$');
        let mut current = Frontier::default();
        let mut next = Frontier::default();
        current.push(ROOT);
        for (depth, name) in topic.split('/').enumerate() {
            let level = self.tree.level(name);
            // [MQTT-4.7.2-1]: no wildcard at the first level matches a `$` topic.
            let wildcards = depth > 0 || !system;
            for node in current.iter() {
                if wildcards {
                    if let Some(hash) = self.tree.child(node, HASH) {
                        self.emit(hash, f);
                    }
                    if let Some(plus) = self.tree.child(node, PLUS) {
                        next.push(plus);
                    }
                }
                if let Some(child) = level.and_then(|level| self.tree.child(node, level)) {
                    next.push(child);
                }
            }
            std::mem::swap(&mut current, &mut next);
            next.clear();
            if current.is_empty() {
                return;
            }
        }
        for node in current.iter() {
            self.emit(node, f);
            // `a/#` also matches `a`.
            if let Some(hash) = self.tree.child(node, HASH) {
                self.emit(hash, f);
            }
        }
    }

    fn emit<'a>(&'a self, node: NodeId, f: &mut impl FnMut(&'a str, &'a V)) {
        for entry in &self.tree.node(node).value {
            f(self.client_id(entry.client), &entry.value);
        }
    }

    /// Every `(client id, value)` in the index, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.tree
            .values()
            .flatten()
            .map(|e| (self.client_id(e.client), &e.value))
    }

    /// How many subscriptions the index holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the index holds no subscription.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many clients hold at least one subscription.
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// Trie nodes in use, the root included: 1 when empty. For tests and diagnostics.
    pub fn node_count(&self) -> usize {
        self.tree.node_count()
    }

    /// Distinct level strings in use (`+` and `#` aside): 0 when empty.
    pub fn level_count(&self) -> usize {
        self.tree.level_count()
    }

    fn state(&self, slot: u32) -> Option<&ClientState> {
        self.slots.get(slot as usize).and_then(Option::as_ref)
    }

    fn client_id(&self, slot: u32) -> &str {
        self.state(slot).map_or("", |state| &state.id)
    }

    fn add_client(&mut self, client_id: &str) -> u32 {
        let id: Arc<str> = client_id.into();
        let state = Some(ClientState {
            id: Arc::clone(&id),
            nodes: ClientNodes::List(Vec::new()),
        });
        let slot = match self.free_slots.pop() {
            Some(slot) => {
                self.slots[slot as usize] = state;
                slot
            }
            None => {
                self.slots.push(state);
                (self.slots.len() - 1) as u32
            }
        };
        self.clients.insert(id, slot);
        slot
    }

    /// Records that `removed` subscriptions of a client left `node`.
    fn forget(&mut self, slot: u32, node: NodeId, removed: usize) {
        self.len -= removed;
        let Some(state) = self.slots[slot as usize].as_mut() else {
            return;
        };
        state.nodes.remove(node, removed);
        if state.nodes.len() == 0 {
            self.clients.remove(&state.id);
            self.slots[slot as usize] = None;
            self.free_slots.push(slot);
        }
    }

    /// Gives memory back: all of it when the index is empty, the arena's free half when
    /// removals have left it sparse.
    fn after_removal(&mut self) {
        if self.len == 0 {
            *self = Self::with_limits(self.limits);
        } else if self.tree.wants_compaction() {
            let mut remap = vec![NodeId::MAX; self.tree.arena_len()];
            self.tree.compact(|old, new| remap[old as usize] = new);
            for state in self.slots.iter_mut().flatten() {
                state.nodes.remap(&remap);
            }
        }
    }
}

/// The nodes that can still match after some levels: on the stack while few (nearly
/// always), on the heap past that, so matching usually allocates nothing.
#[derive(Default)]
struct Frontier {
    inline: [NodeId; FRONTIER_INLINE],
    len: usize,
    spill: Vec<NodeId>,
}

const FRONTIER_INLINE: usize = 16;

impl Frontier {
    #[inline]
    fn push(&mut self, node: NodeId) {
        if self.len < FRONTIER_INLINE {
            self.inline[self.len] = node;
            self.len += 1;
        } else {
            self.spill.push(node);
        }
    }

    fn iter(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.inline[..self.len].iter().chain(&self.spill).copied()
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn clear(&mut self) {
        self.len = 0;
        self.spill.clear();
    }
}
