//! Routers as nodes of a cluster, joined by a transport in memory: what the nodes share
//! reaches every node in one order, and forwards reach their node.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use mqtt_common::codec::{Packet, encode};
use mqtt_common::packet::{Connect, Properties, PropertyValue};
use mqtt_common::protocol::{Acceptance, Event, ServerConfig, ServerConnection};
use mqtt_common::router::{Action, Change, Connecting, Fact, Forward, Router, RouterConfig};
use mqtt_common::{
    Message, MqttString, PacketType, PropertyContext, PropertyId, ProtocolVersion,
    PublishProperties, QoS, Subscription, TopicFilter, TopicName,
};

const CLOCK: Duration = Duration::from_secs(1);

/// Three routers and the traffic between them.
struct Cluster {
    nodes: BTreeMap<String, Router>,
    /// Changes in the order the transport carries them, not yet applied.
    changes: Vec<Change>,
    forwards: Vec<Forward>,
    /// (node, client) for every delivery made.
    delivered: Vec<(String, String, Message)>,
    facts: Vec<(String, Fact)>,
    engines: BTreeMap<(String, u64), ServerConnection>,
    now: SystemTime,
}

impl Cluster {
    fn new(names: &[&str]) -> Self {
        let nodes = names
            .iter()
            .map(|n| {
                let router = Router::clustered(RouterConfig::default(), n).unwrap();
                ((*n).to_owned(), router)
            })
            .collect();
        Self {
            nodes,
            changes: Vec::new(),
            forwards: Vec::new(),
            delivered: Vec::new(),
            facts: Vec::new(),
            engines: BTreeMap::new(),
            now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000),
        }
    }

    fn node(&mut self, name: &str) -> &mut Router {
        self.nodes.get_mut(name).unwrap()
    }

    fn take(&mut self, node: &str, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Deliver(out) => {
                    self.delivered
                        .push((node.to_owned(), out.client_id.to_string(), out.message));
                }
                Action::Persist(fact) => self.facts.push((node.to_owned(), fact)),
                Action::Forward(forward) => self.forwards.push(forward),
                Action::Share(change) => self.changes.push(change),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// Carries everything in flight until nothing is.
    fn settle(&mut self) {
        while !self.changes.is_empty() || !self.forwards.is_empty() {
            for change in std::mem::take(&mut self.changes) {
                for router in self.nodes.values_mut() {
                    router.apply_change(&change).unwrap();
                }
            }
            for forward in std::mem::take(&mut self.forwards) {
                let node = forward.node.to_string();
                let now = self.now;
                let published = self.node(&node).receive_forward(&forward, now, |_| true);
                self.take(&node, published.actions);
            }
        }
    }

    fn connect(&mut self, node: &str, connection: u64, client: &str, expiry: u32) {
        let connect = Connect {
            protocol_version: ProtocolVersion::V5,
            clean_start: true,
            keep_alive: 0,
            client_id: MqttString::new(client).unwrap(),
            will: None,
            username: None,
            password: None,
            properties: Properties::new(
                vec![(
                    PropertyId::SessionExpiryInterval,
                    PropertyValue::FourByteInteger(expiry),
                )],
                PropertyContext::Packet(PacketType::Connect),
            )
            .unwrap(),
        };
        let bytes = encode(&Packet::Connect(Box::new(connect)), ProtocolVersion::V5).unwrap();
        let mut engine = ServerConnection::new(ServerConfig::default(), CLOCK).unwrap();
        let events = engine.receive_data(&bytes, CLOCK);
        let [Event::Connect(request)] = &events[..] else {
            panic!("{events:?}")
        };
        let owner = request.credentials.clone();
        let now = self.now;
        let Connecting::Accepted(accepted) = self
            .node(node)
            .connect(connection, request, client, &owner, now)
            .unwrap()
        else {
            panic!("not accepted")
        };
        engine
            .accept(accepted.session, Acceptance::default())
            .unwrap();
        self.engines.insert((node.to_owned(), connection), engine);
        self.take(node, accepted.actions);
    }

    /// The connection is lost (its session stays if it was persistent).
    fn drop_connection(&mut self, node: &str, connection: u64) {
        let mut engine = self.engines.remove(&(node.to_owned(), connection)).unwrap();
        let closed = engine.connection_lost().unwrap();
        let now = self.now;
        let actions = self.node(node).closed(connection, &closed, now);
        self.take(node, actions);
    }

    fn subscribe(&mut self, node: &str, connection: u64, filter: &str) {
        let wanted = Subscription::new(TopicFilter::new(filter).unwrap(), QoS::AtLeastOnce);
        let now = self.now;
        let answered = self
            .node(node)
            .subscribe(connection, &[wanted], &[], now)
            .unwrap();
        self.take(node, answered.actions);
        self.settle();
    }

    fn publish(&mut self, node: &str, message: &Message, publisher: &str) -> bool {
        let now = self.now;
        let published = self.node(node).publish(message, Some(publisher), now);
        self.take(node, published.actions);
        self.settle();
        published.matched
    }

    fn deliveries(&mut self) -> Vec<(String, String, String)> {
        std::mem::take(&mut self.delivered)
            .into_iter()
            .map(|(node, client, m)| (node, client, m.topic().to_string()))
            .collect()
    }
}

fn message(topic: &str, qos: QoS) -> Message {
    Message::builder(TopicName::new(topic).unwrap())
        .payload("x")
        .qos(qos)
        .build()
        .unwrap()
}

fn retained(topic: &str, payload: &str) -> Message {
    Message::builder(TopicName::new(topic).unwrap())
        .payload(payload.to_owned())
        .retain(true)
        .build()
        .unwrap()
}

fn triple(node: &str, client: &str, topic: &str) -> (String, String, String) {
    (node.to_owned(), client.to_owned(), topic.to_owned())
}

#[test]
fn a_message_reaches_the_subscribers_of_every_node_and_only_the_nodes_with_some() {
    let mut cluster = Cluster::new(&["n1", "n2", "n3"]);
    cluster.connect("n1", 1, "pub", 0);
    cluster.connect("n2", 1, "s2", 0);
    cluster.connect("n3", 1, "s3", 0);
    cluster.subscribe("n2", 1, "a/+");
    cluster.subscribe("n3", 1, "b/#");
    assert!(cluster.publish("n1", &message("a/1", QoS::AtLeastOnce), "pub"));
    assert_eq!(cluster.deliveries(), [triple("n2", "s2", "a/1")]);
    assert!(!cluster.publish("n1", &message("c", QoS::AtMostOnce), "pub"));
    assert!(cluster.forwards.is_empty());
    assert_eq!(cluster.node("n1").known_nodes(), ["n2", "n3"]);
}

#[test]
fn a_filter_leaves_the_other_nodes_with_its_last_local_subscriber() {
    let mut cluster = Cluster::new(&["n1", "n2"]);
    cluster.connect("n2", 1, "a", 0);
    cluster.connect("n2", 2, "b", 0);
    cluster.subscribe("n2", 1, "t");
    cluster.subscribe("n2", 2, "t");
    assert_eq!(cluster.node("n2").node_filters().len(), 1);
    let answered = cluster
        .node("n2")
        .unsubscribe(1, &[TopicFilter::new("t").unwrap()])
        .unwrap();
    cluster.take("n2", answered.actions);
    assert!(cluster.changes.is_empty(), "b still has it");
    // b's session ends with its connection: its filters go with it.
    cluster.drop_connection("n2", 2);
    assert!(matches!(
        &cluster.changes[..],
        [Change::Filter { present: false, .. }]
    ));
    cluster.settle();
    assert!(!cluster.publish("n1", &message("t", QoS::AtMostOnce), "x"));
}

#[test]
fn retained_messages_are_the_same_on_every_node() {
    let mut cluster = Cluster::new(&["n1", "n2", "n3"]);
    cluster.publish("n1", &retained("r", "one"), "p");
    cluster.publish("n2", &retained("r", "two"), "p");
    for node in ["n1", "n2", "n3"] {
        cluster.connect(node, 9, &format!("s-{node}"), 0);
        cluster.subscribe(node, 9, "r");
    }
    let payloads: Vec<String> = std::mem::take(&mut cluster.delivered)
        .into_iter()
        .map(|(_, _, m)| String::from_utf8(m.payload().to_vec()).unwrap())
        .collect();
    assert_eq!(payloads, ["two", "two", "two"]);
    cluster.publish("n3", &retained("r", ""), "p");
    for node in ["n1", "n2", "n3"] {
        assert_eq!(cluster.node(node).stats().retained, 0, "{node}");
    }
    let cleared = cluster
        .facts
        .iter()
        .filter(|(_, f)| matches!(f, Fact::RetainedCleared { .. }))
        .count();
    assert_eq!(cleared, 1, "the node that cleared it stores the clear");
}

#[test]
fn a_shared_group_across_nodes_gets_each_message_once() {
    let mut cluster = Cluster::new(&["n1", "n2", "n3"]);
    cluster.connect("n1", 1, "m1", 0);
    cluster.connect("n2", 1, "m2", 0);
    cluster.connect("n2", 2, "m3", 0);
    cluster.subscribe("n1", 1, "$share/g/job/#");
    cluster.subscribe("n2", 1, "$share/g/job/#");
    cluster.subscribe("n2", 2, "$share/g/job/#");
    cluster.connect("n3", 1, "pub", 0);
    let mut per_client: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..12 {
        cluster.publish("n3", &message("job/1", QoS::AtLeastOnce), "pub");
        let got = cluster.deliveries();
        assert_eq!(got.len(), 1, "{got:?}");
        *per_client.entry(got[0].1.clone()).or_default() += 1;
    }
    assert_eq!(per_client.len(), 3, "{per_client:?}");
    assert_eq!(per_client["m1"], 6, "half to each node: {per_client:?}");
}

#[test]
fn a_forwarded_message_counts_its_expiry_down_from_its_publication() {
    let mut cluster = Cluster::new(&["n1", "n2"]);
    cluster.connect("n2", 1, "s", 0);
    cluster.subscribe("n2", 1, "e");
    let properties = PublishProperties {
        message_expiry_interval: Some(10),
        ..Default::default()
    };
    let expiring = Message::builder(TopicName::new("e").unwrap())
        .payload("x")
        .qos(QoS::AtLeastOnce)
        .properties(properties)
        .build()
        .unwrap();
    let now = cluster.now;
    let published = cluster.node("n1").publish(&expiring, None, now);
    cluster.take("n1", published.actions);
    let mut forward = cluster.forwards.pop().unwrap();
    let late = forward.published_at + Duration::from_secs(4);
    let got = cluster.node("n2").receive_forward(&forward, late, |_| true);
    let Action::Deliver(out) = &got.actions[0] else {
        panic!("{got:?}")
    };
    assert_eq!(out.message.properties().message_expiry_interval, Some(6));
    forward.published_at -= Duration::from_secs(11);
    let expired = cluster.node("n2").receive_forward(&forward, now, |_| true);
    assert!(expired.actions.is_empty());
}

#[test]
fn a_persistent_session_away_is_still_served_through_its_node() {
    let mut cluster = Cluster::new(&["n1", "n2"]);
    cluster.connect("n2", 1, "away", 3600);
    cluster.subscribe("n2", 1, "q");
    cluster.drop_connection("n2", 1);
    assert!(cluster.changes.is_empty(), "its session keeps its filter");
    cluster.facts.clear();
    cluster.publish("n1", &message("q", QoS::AtLeastOnce), "p");
    assert!(
        cluster
            .facts
            .iter()
            .any(|(node, f)| node == "n2" && matches!(f, Fact::Queued { .. })),
        "{:?}",
        cluster.facts
    );
}

#[test]
fn a_lone_router_makes_no_cluster_actions_and_a_bad_node_id_is_refused() {
    let mut router = Router::default();
    assert_eq!(router.node_id(), None);
    let published = router.publish(&retained("r", "x"), None, SystemTime::now());
    assert!(
        published
            .actions
            .iter()
            .all(|a| !matches!(a, Action::Forward(_) | Action::Share(_)))
    );
    let err = Router::clustered(RouterConfig::default(), "a b").unwrap_err();
    assert!(err.to_string().contains("cannot name a node"), "{err}");
}

#[test]
fn a_released_session_forwards_what_its_old_node_still_gets_then_leaves_it() {
    let mut cluster = Cluster::new(&["n1", "n2", "n3"]);
    cluster.connect("n2", 1, "mover", 3600);
    cluster.subscribe("n2", 1, "m");
    cluster.drop_connection("n2", 1);
    let now = cluster.now;
    let grace = Duration::from_secs(10);
    cluster
        .node("n2")
        .release("mover", "n3", grace, now)
        .unwrap();
    assert!(!cluster.node("n2").has_session("mover"));
    // On n3, the session and another subscriber of the same filter.
    cluster.connect("n3", 1, "mover", 3600);
    cluster.subscribe("n3", 1, "m");
    cluster.connect("n3", 2, "other", 0);
    cluster.subscribe("n3", 2, "m");
    // A node that still routes "m" to n2 (n3's filter not yet seen there).
    cluster
        .node("n1")
        .apply_change(&Change::Filter {
            node: "n3".to_owned(),
            filter: TopicFilter::new("m").unwrap(),
            present: false,
        })
        .unwrap();
    cluster.publish("n1", &message("m", QoS::AtLeastOnce), "p");
    assert_eq!(cluster.deliveries(), [triple("n3", "mover", "m")]);
    // After the grace, n2 lets the filter go.
    let later = now + grace;
    let actions = cluster.node("n2").handle_timeout(later);
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::Share(Change::Filter { present: false, .. }))),
        "{actions:?}"
    );
    // Released where it is connected: refused.
    let err = cluster.node("n3").release("mover", "n2", grace, now);
    assert!(err.is_err());
}

#[test]
fn a_shared_group_skips_a_member_whose_session_moved() {
    let mut cluster = Cluster::new(&["n1", "n2"]);
    cluster.connect("n1", 1, "mover", 3600);
    cluster.subscribe("n1", 1, "$share/g/s");
    cluster.connect("n1", 2, "stay", 3600);
    cluster.subscribe("n1", 2, "$share/g/s");
    // Both away: the group's member is chosen among all its members.
    cluster.drop_connection("n1", 1);
    cluster.drop_connection("n1", 2);
    let now = cluster.now;
    cluster
        .node("n1")
        .release("mover", "n2", Duration::from_secs(10), now)
        .unwrap();
    cluster.facts.clear();
    for _ in 0..4 {
        cluster.publish("n1", &message("s", QoS::AtLeastOnce), "p");
    }
    let queued: Vec<&str> = cluster
        .facts
        .iter()
        .filter_map(|(_, fact)| match fact {
            Fact::Queued { client_id, .. } => Some(client_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        queued, ["stay"; 4],
        "every message to the member still here"
    );
}
