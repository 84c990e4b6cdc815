//! The level trie under [`crate::SubscriptionIndex`] and [`crate::TopicTree`].
//!
//! Theory of operation: a topic or filter is a path of levels from the root. Nodes live
//! in an arena (`Vec`) and are addressed by `u32` ids; each distinct level string is
//! interned once and edges are keyed by its id, so a level shared by a million filters
//! (`device`, `temp`) is stored once. `+` and `#` are ordinary levels with reserved ids.
//! Nothing here recurses: paths are walked with loops and subtrees with explicit stacks.
//! Removing a value prunes the nodes it leaves empty, and the arena is compacted when
//! more than half of it is free, so memory follows the live content.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Index of a node in the arena.
pub(crate) type NodeId = u32;
/// Interned id of a level string.
pub(crate) type LevelId = u32;

/// The root node: the empty path.
pub(crate) const ROOT: NodeId = 0;
/// The reserved level id of `+`.
pub(crate) const PLUS: LevelId = 0;
/// The reserved level id of `#`.
pub(crate) const HASH: LevelId = 1;

/// A multiplicative hasher for the trie's own integer ids.
///
/// Only for keys this module assigns (node and level ids), never for strings from the
/// network: those go through a randomly seeded hash, which resists flooding.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u32(&mut self, value: u32) {
        self.write_u64(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        // Fibonacci hashing: spreads sequential ids over the high bits hashbrown uses.
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` keyed by the trie's own ids.
pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// Marks a node without children in [`Children::level`].
const NO_CHILD: LevelId = LevelId::MAX;
/// Marks a node whose children are in a map in [`Children::level`].
const MANY_CHILDREN: LevelId = LevelId::MAX - 1;

/// A node's children in 8 bytes: most nodes have none or one, and those cost no
/// allocation; a node with more points into the tree's side table of maps.
#[derive(Debug, Clone, Copy)]
struct Children {
    /// `NO_CHILD`, `MANY_CHILDREN`, or the level of the only child.
    level: LevelId,
    /// The only child, or the index of the map in `LevelTree::maps`.
    target: u32,
}

impl Default for Children {
    fn default() -> Self {
        Self {
            level: NO_CHILD,
            target: 0,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Node<V> {
    children: Children,
    pub(crate) value: V,
}

#[derive(Debug, Clone, Copy)]
struct LevelInfo {
    /// Edges that use this level.
    refs: u32,
    /// Whether the level starts with `$` (the `$`-topic rule needs it at the first level).
    dollar: bool,
}

/// Level strings and their ids; `+` and `#` are never stored.
///
/// Level strings come from clients, so the map's hash is seeded at random per map
/// (foldhash): colliding levels cannot be precomputed. It is 4x faster than std's
/// SipHash on short strings, and every topic level of every PUBLISH is looked up here.
#[derive(Debug, Default)]
struct Interner {
    ids: HashMap<Box<str>, LevelId, foldhash::fast::RandomState>,
    info: Vec<LevelInfo>,
    free: Vec<LevelId>,
}

impl Interner {
    fn lookup(&self, name: &str) -> Option<LevelId> {
        match name {
            "+" => Some(PLUS),
            "#" => Some(HASH),
            _ => self.ids.get(name).copied(),
        }
    }

    /// The id of `name`, counting one more edge that uses it.
    fn acquire(&mut self, name: &str) -> LevelId {
        if let Some(id) = self.lookup(name) {
            if id > HASH {
                self.info[(id - 2) as usize].refs += 1;
            }
            return id;
        }
        let info = LevelInfo {
            refs: 1,
            dollar: name.starts_with('$'),
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.info[(id - 2) as usize] = info;
                id
            }
            None => {
                self.info.push(info);
                // Ids stay below the markers: 4 billion distinct levels would need far
                // more memory than any machine has before this could saturate.
                (self.info.len() as LevelId + 1).min(MANY_CHILDREN - 1)
            }
        };
        self.ids.insert(name.into(), id);
        id
    }

    /// Counts one edge fewer that uses `name`, forgetting it at zero.
    fn release(&mut self, name: &str) {
        let Some(id) = self.lookup(name) else { return };
        if id <= HASH {
            return;
        }
        let info = &mut self.info[(id - 2) as usize];
        info.refs -= 1;
        if info.refs == 0 {
            self.ids.remove(name);
            self.free.push(id);
        }
    }

    fn is_dollar(&self, id: LevelId) -> bool {
        id > HASH && self.info[(id - 2) as usize].dollar
    }

    fn len(&self) -> usize {
        self.ids.len()
    }
}

/// The arena trie.
#[derive(Debug)]
pub(crate) struct LevelTree<V> {
    nodes: Vec<Node<V>>,
    free: Vec<NodeId>,
    /// The children of nodes that have more than one.
    maps: Vec<IdMap<LevelId, NodeId>>,
    free_maps: Vec<u32>,
    interner: Interner,
}

impl<V: Default> Default for LevelTree<V> {
    fn default() -> Self {
        Self {
            nodes: vec![Node::default()],
            free: Vec::new(),
            maps: Vec::new(),
            free_maps: Vec::new(),
            interner: Interner::default(),
        }
    }
}

impl<V: Default> LevelTree<V> {
    #[inline]
    pub(crate) fn node(&self, id: NodeId) -> &Node<V> {
        &self.nodes[id as usize]
    }

    #[inline]
    pub(crate) fn value_mut(&mut self, id: NodeId) -> &mut V {
        &mut self.nodes[id as usize].value
    }

    /// The id of a level string, if any path uses it.
    #[inline]
    pub(crate) fn level(&self, name: &str) -> Option<LevelId> {
        self.interner.lookup(name)
    }

    /// Whether a level id names a level starting with `$`.
    #[inline]
    pub(crate) fn is_dollar(&self, level: LevelId) -> bool {
        self.interner.is_dollar(level)
    }

    /// The child of `node` along `level`.
    #[inline]
    pub(crate) fn child(&self, node: NodeId, level: LevelId) -> Option<NodeId> {
        let children = self.node(node).children;
        match children.level {
            NO_CHILD => None,
            MANY_CHILDREN => self.maps[children.target as usize].get(&level).copied(),
            only => (only == level).then_some(children.target),
        }
    }

    /// Calls `f(level, child)` for every child of `node`.
    pub(crate) fn for_each_child(&self, node: NodeId, mut f: impl FnMut(LevelId, NodeId)) {
        let children = self.node(node).children;
        match children.level {
            NO_CHILD => {}
            MANY_CHILDREN => self.maps[children.target as usize]
                .iter()
                .for_each(|(level, child)| f(*level, *child)),
            only => f(only, children.target),
        }
    }

    fn has_children(&self, node: NodeId) -> bool {
        self.node(node).children.level != NO_CHILD
    }

    /// The node at the end of `levels`, creating what is missing.
    pub(crate) fn insert_path<'a>(&mut self, levels: impl Iterator<Item = &'a str>) -> NodeId {
        let mut node = ROOT;
        for name in levels {
            let existing = self.level(name).and_then(|level| self.child(node, level));
            node = match existing {
                Some(child) => child,
                None => {
                    let level = self.interner.acquire(name);
                    let child = self.allocate();
                    self.add_child(node, level, child);
                    child
                }
            };
        }
        node
    }

    /// Fills `path` with the nodes from the root to the end of `levels`; false if the
    /// path does not exist.
    pub(crate) fn find_path<'a>(
        &self,
        levels: impl Iterator<Item = &'a str>,
        path: &mut Vec<NodeId>,
    ) -> bool {
        path.clear();
        path.push(ROOT);
        let mut node = ROOT;
        for name in levels {
            match self.level(name).and_then(|level| self.child(node, level)) {
                Some(child) => node = child,
                None => return false,
            }
            path.push(node);
        }
        true
    }

    /// Removes the nodes at the end of `path` (root first, as `find_path` gives it, with
    /// `levels` naming its edges) that hold an empty value and no children.
    pub(crate) fn prune<'a>(
        &mut self,
        path: &[NodeId],
        levels: impl DoubleEndedIterator<Item = &'a str>,
        is_empty: impl Fn(&V) -> bool,
    ) {
        for (depth, name) in (1..path.len()).rev().zip(levels.rev()) {
            let node = path[depth];
            if !is_empty(&self.node(node).value) || self.has_children(node) {
                return;
            }
            let Some(level) = self.level(name) else {
                return;
            };
            self.remove_child(path[depth - 1], level);
            self.interner.release(name);
            self.nodes[node as usize] = Node::default();
            self.free.push(node);
        }
    }

    /// Every node's value, free nodes included (they hold the default value).
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.nodes.iter().map(|node| &node.value)
    }

    /// The arena's length: one more than the largest node id.
    pub(crate) fn arena_len(&self) -> usize {
        self.nodes.len()
    }

    /// Nodes in use, the root included.
    pub(crate) fn node_count(&self) -> usize {
        self.nodes.len() - self.free.len()
    }

    /// Distinct level strings in use (`+` and `#` aside).
    pub(crate) fn level_count(&self) -> usize {
        self.interner.len()
    }

    /// Whether enough of the arena is free that compacting it pays.
    pub(crate) fn wants_compaction(&self) -> bool {
        self.nodes.len() > 1024 && self.free.len() * 2 > self.nodes.len()
    }

    /// Moves the live nodes into a fresh, dense arena; calls `remap(old, new)` for each.
    pub(crate) fn compact(&mut self, mut remap: impl FnMut(NodeId, NodeId)) {
        let live = self.node_count();
        let mut old = std::mem::take(&mut self.nodes);
        let mut old_maps = std::mem::take(&mut self.maps);
        self.free = Vec::new();
        self.free_maps = Vec::new();
        self.nodes = Vec::with_capacity(live);
        self.nodes.push(Node {
            children: Children::default(),
            value: std::mem::take(&mut old[ROOT as usize].value),
        });
        remap(ROOT, ROOT);
        // (old parent, new parent) pairs whose children are still to be copied.
        let mut stack = vec![(ROOT, ROOT)];
        let mut children = Vec::new();
        while let Some((old_parent, new_parent)) = stack.pop() {
            let old_children = old[old_parent as usize].children;
            children.clear();
            match old_children.level {
                NO_CHILD => {}
                MANY_CHILDREN => {
                    children.extend(std::mem::take(&mut old_maps[old_children.target as usize]))
                }
                only => children.push((only, old_children.target)),
            }
            for &(level, old_child) in &children {
                let new_child = self.nodes.len() as NodeId;
                self.nodes.push(Node {
                    children: Children::default(),
                    value: std::mem::take(&mut old[old_child as usize].value),
                });
                remap(old_child, new_child);
                self.add_child(new_parent, level, new_child);
                stack.push((old_child, new_child));
            }
        }
        self.interner.ids.shrink_to_fit();
    }

    fn allocate(&mut self) -> NodeId {
        match self.free.pop() {
            Some(id) => id,
            None => {
                if self.nodes.len() == self.nodes.capacity() {
                    // Grow by a quarter rather than double: at a million filters the
                    // doubling slack alone would cost tens of bytes per filter.
                    self.nodes.reserve_exact(self.nodes.len() / 4 + 16);
                }
                self.nodes.push(Node::default());
                (self.nodes.len() - 1) as NodeId
            }
        }
    }

    fn add_child(&mut self, node: NodeId, level: LevelId, child: NodeId) {
        let children = self.nodes[node as usize].children;
        let updated = match children.level {
            NO_CHILD => Children {
                level,
                target: child,
            },
            MANY_CHILDREN => {
                self.maps[children.target as usize].insert(level, child);
                children
            }
            only => {
                let mut map = IdMap::default();
                map.insert(only, children.target);
                map.insert(level, child);
                let index = match self.free_maps.pop() {
                    Some(index) => {
                        self.maps[index as usize] = map;
                        index
                    }
                    None => {
                        self.maps.push(map);
                        (self.maps.len() - 1) as u32
                    }
                };
                Children {
                    level: MANY_CHILDREN,
                    target: index,
                }
            }
        };
        self.nodes[node as usize].children = updated;
    }

    fn remove_child(&mut self, node: NodeId, level: LevelId) {
        let children = self.nodes[node as usize].children;
        let updated = match children.level {
            MANY_CHILDREN => {
                let map = &mut self.maps[children.target as usize];
                map.remove(&level);
                if map.len() > 1 {
                    if map.capacity() > 4 * map.len() {
                        map.shrink_to_fit();
                    }
                    return;
                }
                let remaining = map.iter().next().map(|(&l, &c)| (l, c));
                self.maps[children.target as usize] = IdMap::default();
                self.free_maps.push(children.target);
                match remaining {
                    Some((level, child)) => Children {
                        level,
                        target: child,
                    },
                    None => Children::default(),
                }
            }
            only if only == level => Children::default(),
            _ => return,
        };
        self.nodes[node as usize].children = updated;
    }
}
