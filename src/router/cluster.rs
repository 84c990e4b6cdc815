//! A router that is one node of a cluster: which other nodes a message must reach, and
//! the state every node shares.
//!
//! Each node's router holds its own clients, as a lone router does. What the nodes share
//! travels as [`Change`]s, which a transport (a Redis stream, for the `redis` feature's
//! cluster) hands to every node in one order: which
//! topic filters each node's clients subscribe to, and the retained messages. A message
//! published on one node becomes a [`Forward`] for each other node with a matching
//! filter, which that node routes to its own clients with
//! [`Router::receive_forward`](super::Router::receive_forward).
//!
//! A shared subscription's group may have members on several nodes: the publishing node
//! chooses one of those nodes per message (by the router's [`SharedChoice`]), and that
//! node one of its members, so each message reaches one member cluster-wide.
//!
//! [`SharedChoice`]: super::SharedChoice

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::SystemTime;

use crate::constants::QoS;
use crate::error::Error;
use crate::message::Message;
use crate::topic::{IndexLimits, Subscription, SubscriptionIndex, TopicFilter, TopicName};

use super::config::SharedChoice;
use super::shared::Chooser;

/// The longest node identifier.
pub const MAX_NODE_ID_LEN: usize = 64;

/// A change to what the nodes of a cluster share, to be seen by every node (this one
/// included) in one order: pass each to [`Router::apply_change`](super::Router::apply_change).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// `node`'s clients have (`present`) or no longer have a subscription with exactly
    /// this filter.
    Filter {
        /// The node.
        node: String,
        /// The topic filter (a shared one with its `$share/<group>/` prefix).
        filter: TopicFilter,
        /// Whether the node has it now.
        present: bool,
    },
    /// A published message set a topic's retained message.
    Retained {
        /// The message (RETAIN set, no packet identifier).
        message: Message,
        /// When it arrived (its expiry counts from then, on every node).
        arrived_at: SystemTime,
    },
    /// A published message with an empty payload cleared a topic's retained message.
    RetainedCleared {
        /// The topic.
        topic: TopicName,
    },
}

/// A message published on this node, for the subscribers another node has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// The node to send it to.
    pub node: Arc<str>,
    /// The message as published (its QoS and RETAIN flag; no packet identifier).
    pub message: Message,
    /// The client that published it (for No Local), None for the broker's own (shared:
    /// a client's messages carry one copy of its id).
    pub publisher: Option<Arc<str>>,
    /// The shared subscriptions' groups (their `$share/...` filters) whose member this
    /// node chose that node to deliver to; its members of other groups get nothing.
    pub groups: Vec<String>,
    /// For this client alone (a session that moved to that node while the message was
    /// on its way); None: for every matching subscriber there.
    pub client: Option<String>,
    /// When it was published: its Message Expiry Interval counts down from then.
    pub published_at: SystemTime,
}

/// Whether `node` can name a cluster node: 1 to 64 ASCII letters, digits, `-`, `_` or
/// `.` (it appears in keys and logs).
///
/// # Errors
/// A validation error saying what is wrong.
pub fn check_node_id(node: &str) -> Result<(), Error> {
    let usable = !node.is_empty()
        && node.len() <= MAX_NODE_ID_LEN
        && node
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if usable {
        Ok(())
    } else {
        Err(Error::state(
            "node_id",
            format!(
                "{node:?} cannot name a node: use 1 to {MAX_NODE_ID_LEN} ASCII letters, digits, \
                 '-', '_' or '.'"
            ),
        ))
    }
}

/// A cluster node's view of the cluster, inside its router.
#[derive(Debug)]
pub(super) struct ClusterView {
    pub(super) node: Arc<str>,
    /// Every node's filters, this node's included, as subscriptions of a "client" named
    /// after the node.
    filters: SubscriptionIndex,
    /// How many of this node's clients hold each filter.
    local: HashMap<String, u32>,
    /// The turn of each shared group among the nodes that have members.
    chooser: Chooser,
    /// Sessions that moved to another node: where, and until when their subscriptions
    /// here forward to it.
    moved: HashMap<String, (Arc<str>, SystemTime)>,
    /// One shared name per other node with filters, so that a message's forward to a
    /// node costs no allocation of its name.
    names: Vec<Arc<str>>,
}

/// Where a message published on this node goes.
#[derive(Debug, Default)]
pub(super) struct Plan {
    /// The other nodes, each with the shared groups chosen to it, in the order of their
    /// names (a cluster has few nodes: a list is cheaper than a map).
    pub(super) remote: Vec<(Arc<str>, Vec<String>)>,
    /// The shared groups this node's own members serve.
    pub(super) local_groups: Vec<String>,
}

impl ClusterView {
    pub(super) fn new(node: &str, choice: SharedChoice) -> Result<Self, Error> {
        check_node_id(node)?;
        Ok(Self {
            node: Arc::from(node),
            filters: SubscriptionIndex::with_limits(IndexLimits {
                max_topic_levels: None,
                max_subscriptions_per_client: None,
            }),
            local: HashMap::new(),
            chooser: Chooser::new(choice),
            moved: HashMap::new(),
            names: Vec::new(),
        })
    }

    /// Another node's change of filters (this node's own are known first hand).
    pub(super) fn apply_filter(&mut self, node: &str, filter: &TopicFilter, present: bool) {
        if node == &*self.node || check_node_id(node).is_err() {
            return;
        }
        if present {
            let entry = Subscription::new(filter.clone(), QoS::AtMostOnce);
            // Without limits, a well-formed node and filter are always indexed.
            let _ = self.filters.subscribe(node, entry);
        } else {
            self.filters.unsubscribe(node, filter);
            if filter.is_shared() && !self.has_group(filter) {
                self.chooser.forget(filter.as_str());
            }
        }
    }

    /// Whether any node still has a member of this shared filter's group.
    fn has_group(&self, filter: &TopicFilter) -> bool {
        let mut found = false;
        self.filters.iter().for_each(|(_, s)| {
            found |= s.topic_filter() == filter;
        });
        found
    }

    /// A session moved to `node`; its subscriptions here forward to it until `until`.
    pub(super) fn moved(&mut self, client: &str, node: &str, until: SystemTime) {
        self.moved
            .insert(client.to_owned(), (Arc::from(node), until));
    }

    /// The node a session moved to, during its grace.
    pub(super) fn moved_to(&self, client: &str) -> Option<Arc<str>> {
        self.moved.get(client).map(|(node, _)| node.clone())
    }

    /// The end of a moved session's grace.
    pub(super) fn moved_until(&self, client: &str) -> Option<SystemTime> {
        self.moved.get(client).map(|(_, until)| *until)
    }

    /// The grace of a moved session ends (or it came back); whether it had moved.
    pub(super) fn arrived(&mut self, client: &str) -> bool {
        self.moved.remove(client).is_some()
    }

    /// Forgets every filter of a node that left.
    pub(super) fn forget_node(&mut self, node: &str) {
        if node != &*self.node {
            self.filters.unsubscribe_all(node);
            self.names.retain(|name| &**name != node);
        }
    }

    /// The nodes known to have filters, this one's included.
    pub(super) fn nodes(&self) -> Vec<String> {
        let mut nodes: Vec<String> = self.filters.iter().map(|(n, _)| n.to_owned()).collect();
        nodes.sort_unstable();
        nodes.dedup();
        nodes
    }

    /// One more of this node's clients holds `filter`: a change for the others when it is
    /// the first.
    pub(super) fn local_added(&mut self, filter: &TopicFilter) -> Option<Change> {
        let count = self.local.entry(filter.as_str().to_owned()).or_insert(0);
        *count += 1;
        (*count == 1).then(|| {
            let entry = Subscription::new(filter.clone(), QoS::AtMostOnce);
            let _ = self.filters.subscribe(&self.node, entry);
            Change::Filter {
                node: self.node.to_string(),
                filter: filter.clone(),
                present: true,
            }
        })
    }

    /// One fewer of this node's clients holds `filter`: a change for the others when it
    /// was the last.
    pub(super) fn local_removed(&mut self, filter: &TopicFilter) -> Option<Change> {
        let count = self.local.get_mut(filter.as_str())?;
        *count -= 1;
        if *count > 0 {
            return None;
        }
        self.local.remove(filter.as_str());
        self.filters.unsubscribe(&self.node, filter);
        Some(Change::Filter {
            node: self.node.to_string(),
            filter: filter.clone(),
            present: false,
        })
    }

    /// This node's filters (to announce them all, when it starts).
    pub(super) fn local_filters(&self) -> Vec<TopicFilter> {
        let mut filters: Vec<TopicFilter> = self
            .filters
            .subscriptions(&self.node)
            .into_iter()
            .map(|s| s.topic_filter().clone())
            .collect();
        filters.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
        filters
    }

    /// The nodes a message on `topic` from `publisher` goes to, and which node serves
    /// each shared group.
    pub(super) fn plan(&mut self, topic: &TopicName, publisher: Option<&str>) -> Plan {
        let mut plan = Plan::default();
        let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let (own, names) = (&*self.node, &mut self.names);
        self.filters.for_each_match(topic, |node, subscription| {
            let filter = subscription.topic_filter();
            if filter.is_shared() {
                groups.entry(filter.as_str()).or_default().push(node);
            } else if node != own && !plan.remote.iter().any(|(n, _)| &**n == node) {
                plan.remote.push((name_of(names, node), Vec::new()));
            }
        });
        for (group, mut nodes) in groups {
            nodes.sort_unstable();
            let chosen = nodes[self.chooser.choose(group, nodes.len(), publisher)];
            if chosen == own {
                plan.local_groups.push(group.to_owned());
            } else if let Some((_, served)) = plan.remote.iter_mut().find(|(n, _)| &**n == chosen) {
                served.push(group.to_owned());
            } else {
                plan.remote
                    .push((name_of(names, chosen), vec![group.to_owned()]));
            }
        }
        plan.remote.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        plan
    }
}

/// The shared name of `node`, made the first time it is needed.
fn name_of(names: &mut Vec<Arc<str>>, node: &str) -> Arc<str> {
    if let Some(name) = names.iter().find(|name| &***name == node) {
        return name.clone();
    }
    let name: Arc<str> = Arc::from(node);
    names.push(name.clone());
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(f: &str) -> TopicFilter {
        TopicFilter::new(f).unwrap()
    }

    #[test]
    fn node_ids_are_checked() {
        assert!(check_node_id("node-1.a_b").is_ok());
        for bad in ["", "a b", "a{b}", &"x".repeat(65), "é"] {
            assert!(check_node_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_first_and_last_local_holder_of_a_filter_are_announced() {
        let mut view = ClusterView::new("n1", SharedChoice::RoundRobin).unwrap();
        assert!(view.local_added(&filter("a/#")).is_some());
        assert!(view.local_added(&filter("a/#")).is_none());
        assert!(view.local_removed(&filter("a/#")).is_none());
        let last = view.local_removed(&filter("a/#"));
        assert!(matches!(last, Some(Change::Filter { present: false, .. })));
        assert!(view.local_removed(&filter("a/#")).is_none());
        assert!(view.local_filters().is_empty());
    }

    #[test]
    fn a_message_goes_to_the_nodes_with_matches_and_each_group_to_one() {
        let mut view = ClusterView::new("n1", SharedChoice::RoundRobin).unwrap();
        view.apply_filter("n2", &filter("a/+"), true);
        view.apply_filter("n3", &filter("b/#"), true);
        view.apply_filter("n2", &filter("$share/g/a/#"), true);
        view.apply_filter("n3", &filter("$share/g/a/#"), true);
        view.local_added(&filter("$share/g/a/#"));
        let topic = TopicName::new("a/x").unwrap();
        let mut served: BTreeMap<String, usize> = BTreeMap::new();
        for _ in 0..6 {
            let plan = view.plan(&topic, None);
            assert!(plan.remote.iter().any(|(n, _)| &**n == "n2"), "n2 has a/+");
            let mut servers = plan.local_groups.len();
            if !plan.local_groups.is_empty() {
                *served.entry("n1".into()).or_default() += 1;
            }
            for (node, groups) in &plan.remote {
                servers += groups.len();
                if !groups.is_empty() {
                    *served.entry(node.to_string()).or_default() += 1;
                }
            }
            assert_eq!(servers, 1, "one node serves the group");
        }
        assert_eq!(served.values().copied().collect::<Vec<_>>(), [2, 2, 2]);
        view.apply_filter("n2", &filter("a/+"), false);
        view.forget_node("n3");
        let plan = view.plan(&TopicName::new("b/1").unwrap(), None);
        assert!(plan.remote.is_empty());
        assert_eq!(view.nodes(), ["n1", "n2"]);
    }

    #[test]
    fn a_node_ignores_changes_named_after_itself() {
        let mut view = ClusterView::new("n1", SharedChoice::RoundRobin).unwrap();
        view.apply_filter("n1", &filter("a"), true);
        assert!(view.nodes().is_empty());
    }
}
