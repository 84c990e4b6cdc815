//! SubscriptionIndex and TopicTree: differential tests against a brute-force loop over
//! `topic_matches`, rebuild equality after random operations, and hostile input.

use std::collections::BTreeSet;

use mqtt_common::{
    IndexLimits, QoS, ReasonCode, Subscription, SubscriptionId, SubscriptionIndex, TopicFilter,
    TopicName, TopicTree, Violation, merge_overlapping, topic_matches,
};
use proptest::prelude::*;

fn filter(text: &str) -> TopicFilter {
    TopicFilter::new(text).unwrap()
}

fn sub(text: &str) -> Subscription {
    Subscription::new(filter(text), QoS::AtMostOnce)
}

fn unlimited() -> IndexLimits {
    IndexLimits {
        max_topic_levels: None,
        max_subscriptions_per_client: None,
    }
}

/// `(client, filter text)` pairs the index returns for `topic`, sorted.
fn matched(index: &SubscriptionIndex, topic: &str) -> BTreeSet<(String, String)> {
    index
        .matches(&TopicName::new(topic).unwrap())
        .into_iter()
        .map(|(client, s)| (client.to_owned(), s.topic_filter().as_str().to_owned()))
        .collect()
}

/// Everything in the index as `(client, filter, qos)`, sorted.
fn snapshot(index: &SubscriptionIndex) -> BTreeSet<(String, String, u8)> {
    index
        .iter()
        .map(|(c, s)| {
            (
                c.to_owned(),
                s.topic_filter().as_str().to_owned(),
                s.qos().as_u8(),
            )
        })
        .collect()
}

#[test]
fn spec_corner_cases() {
    let mut index = SubscriptionIndex::new();
    for (client, text) in [
        ("a", "sport/#"),
        ("b", "sport/+"),
        ("c", "+/+"),
        ("d", "#"),
        ("e", "$SYS/#"),
        ("f", "+/monitor/Clients"),
        ("g", "$share/grp/sport/#"),
        ("h", "sport"),
        ("i", "sport/"),
    ] {
        index.subscribe(client, sub(text)).unwrap();
    }
    let clients = |topic: &str| -> Vec<String> {
        let mut found: Vec<String> = matched(&index, topic).into_iter().map(|(c, _)| c).collect();
        found.sort();
        found
    };
    assert_eq!(clients("sport"), ["a", "d", "g", "h"]); // '#' matches the parent level
    assert_eq!(clients("sport/"), ["a", "b", "c", "d", "g", "i"]); // '+' matches empty
    assert_eq!(clients("$SYS/monitor/Clients"), ["e"]); // no leading wildcard on '$'
    assert_eq!(clients("x/monitor/Clients"), ["d", "f"]);
}

#[test]
fn subscribe_replaces_the_same_filter_only() {
    let mut index = SubscriptionIndex::new();
    assert!(index.subscribe("c", sub("a/b")).unwrap().is_none());
    let again = Subscription::new(filter("a/b"), QoS::ExactlyOnce);
    let replaced = index.subscribe("c", again).unwrap().unwrap();
    assert_eq!(replaced.qos(), QoS::AtMostOnce);
    assert_eq!(index.len(), 1);
    // A shared subscription to the same filter is a different subscription.
    assert!(index.subscribe("c", sub("$share/g/a/b")).unwrap().is_none());
    assert!(index.subscribe("c", sub("$share/h/a/b")).unwrap().is_none());
    assert_eq!(index.len(), 3);
    assert_eq!(index.subscriptions("c").len(), 3);
    // UNSUBSCRIBE compares character by character [MQTT-3.10.4-1].
    assert!(index.unsubscribe("c", &filter("a/+")).is_none());
    assert!(index.unsubscribe("c", &filter("$share/g/a/b")).is_some());
    assert!(index.unsubscribe("c", &filter("$share/g/a/b")).is_none());
    assert_eq!(index.unsubscribe_all("c").len(), 2);
    assert!(index.is_empty());
    assert_eq!(
        (
            index.node_count(),
            index.level_count(),
            index.client_count()
        ),
        (1, 0, 0)
    );
}

#[test]
fn merge_gives_one_delivery_per_client() {
    let with_id = |text: &str, qos: QoS, id: u32| {
        Subscription::builder(filter(text))
            .qos(qos)
            .subscription_id(Some(SubscriptionId::new(id).unwrap()))
            .build()
            .unwrap()
    };
    let mut index = SubscriptionIndex::new();
    index
        .subscribe("c1", with_id("a/#", QoS::AtMostOnce, 3))
        .unwrap();
    index
        .subscribe("c1", with_id("a/+", QoS::ExactlyOnce, 1))
        .unwrap();
    index
        .subscribe(
            "c2",
            Subscription::builder(filter("a/b"))
                .no_local(true)
                .build()
                .unwrap(),
        )
        .unwrap();
    index.subscribe("c3", sub("$share/g/a/b")).unwrap();
    let topic = TopicName::new("a/b").unwrap();
    let matches = index.matches(&topic);
    assert_eq!(matches.len(), 4);
    let pairs = matches.iter().map(|(c, s)| (*c, *s));
    let mut deliveries = merge_overlapping(pairs.clone(), Some("c2"));
    deliveries.sort_by_key(|d| d.client_id);
    assert_eq!(
        deliveries.len(),
        1,
        "c2 is the publisher with no_local; c3 is shared"
    );
    assert_eq!(deliveries[0].client_id, "c1");
    assert_eq!(deliveries[0].qos, QoS::ExactlyOnce);
    let ids: Vec<u32> = deliveries[0]
        .subscription_identifiers
        .iter()
        .map(|id| id.get())
        .collect();
    assert_eq!(ids, [1, 3]);
    assert_eq!(merge_overlapping(pairs, None).len(), 2);
}

#[test]
fn limits_refuse_with_the_rule_named() {
    let mut index = SubscriptionIndex::with_limits(IndexLimits {
        max_topic_levels: Some(3),
        max_subscriptions_per_client: Some(2),
    });
    let err = index.subscribe("c", sub("a/b/c/d")).unwrap_err();
    assert!(matches!(
        err.violation(),
        Some(Violation::TooManyLevels {
            levels: 4,
            limit: 3,
            ..
        })
    ));
    assert_eq!(err.reason_code(), ReasonCode::TopicFilterInvalid);
    assert!(err.to_string().starts_with("topic_filter: "), "{err}");
    index.subscribe("c", sub("a")).unwrap();
    index.subscribe("c", sub("b")).unwrap();
    index.subscribe("c", sub("b")).unwrap(); // a replacement is not a new subscription
    let err = index.subscribe("c", sub("c")).unwrap_err();
    assert_eq!(
        err.violation(),
        Some(&Violation::TooManySubscriptions { limit: 2 })
    );
    assert_eq!(err.reason_code(), ReasonCode::QuotaExceeded);
    assert_eq!(index.len(), 2, "a refusal changes nothing");
    index.subscribe("other", sub("c")).unwrap();
    assert!(index.subscribe("bad\0id", sub("a")).is_err());
}

#[test]
fn a_million_subscriptions_by_one_client_are_refused_past_the_limit() {
    let limit = 10_000;
    let mut index = SubscriptionIndex::with_limits(IndexLimits {
        max_subscriptions_per_client: Some(limit),
        ..IndexLimits::default()
    });
    let mut refused = 0;
    for i in 0..1_000_000u32 {
        match index.subscribe("greedy", sub(&format!("flood/{i}"))) {
            Ok(_) => {}
            Err(err) => {
                assert!(matches!(
                    err.violation(),
                    Some(Violation::TooManySubscriptions { .. })
                ));
                refused += 1;
            }
        }
    }
    assert_eq!(index.len(), limit);
    assert_eq!(refused, 1_000_000 - limit);
}

#[test]
fn deep_filters_and_topics() {
    // The default limit refuses a 32,768-level filter at once, before building anything.
    let deep = "+/".repeat(32_767) + "+";
    let mut index = SubscriptionIndex::new();
    let err = index.subscribe("c", sub(&deep)).unwrap_err();
    assert!(matches!(
        err.violation(),
        Some(Violation::TooManyLevels { .. })
    ));
    assert_eq!(index.node_count(), 1);
    // Without a limit, the deepest filters and topics work on a small stack.
    std::thread::Builder::new()
        .stack_size(128 * 1024)
        .spawn(move || {
            let mut index = SubscriptionIndex::with_limits(unlimited());
            let empty_levels = "/".repeat(65_534); // 65,535 levels
            index.subscribe("deep", sub(&deep)).unwrap();
            index.subscribe("empty", sub(&empty_levels)).unwrap();
            index.subscribe("all", sub("#")).unwrap();
            let topic = "a/".repeat(32_767) + "a";
            let found = matched(&index, &topic);
            assert_eq!(found.len(), 2, "deep and all");
            assert_eq!(matched(&index, &empty_levels).len(), 2, "empty and all");
            let mut tree = TopicTree::with_max_topic_levels(None);
            tree.insert(TopicName::new(&empty_levels).unwrap(), 1)
                .unwrap();
            tree.insert(TopicName::new(&topic).unwrap(), 2).unwrap();
            assert_eq!(tree.matches(&filter("#")).len(), 2);
            assert_eq!(
                tree.matches(&filter(&deep)).len(),
                1,
                "only the 32,768-level topic"
            );
            assert_eq!(tree.remove(&topic), Some(2));
            assert_eq!(tree.remove(&empty_levels), Some(1));
            assert_eq!(tree.node_count(), 1);
            assert_eq!(index.unsubscribe_all("deep").len(), 1);
            assert_eq!(index.unsubscribe_all("empty").len(), 1);
            assert_eq!(index.node_count(), 2, "root and '#'");
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn retained_tree_spec_corner_cases() {
    let mut tree = TopicTree::new();
    for topic in [
        "sport",
        "sport/",
        "sport/tennis",
        "$SYS/uptime",
        "/finance",
        "a//b",
    ] {
        tree.insert(TopicName::new(topic).unwrap(), topic.to_owned())
            .unwrap();
    }
    let found = |f: &str| -> BTreeSet<&str> {
        tree.matches(&filter(f))
            .into_iter()
            .map(|(t, _)| t.as_str())
            .collect()
    };
    assert_eq!(
        found("sport/#"),
        BTreeSet::from(["sport", "sport/", "sport/tennis"])
    );
    assert_eq!(found("sport/+"), BTreeSet::from(["sport/", "sport/tennis"]));
    assert_eq!(found("+"), BTreeSet::from(["sport"]));
    assert_eq!(
        found("+/+"),
        BTreeSet::from(["sport/", "sport/tennis", "/finance"])
    );
    assert_eq!(found("#").len(), 5, "all but $SYS");
    assert_eq!(found("$SYS/#"), BTreeSet::from(["$SYS/uptime"]));
    assert_eq!(found("+/uptime"), BTreeSet::new());
    assert_eq!(found("a/+/b"), BTreeSet::from(["a//b"]));
    assert_eq!(found("$share/g/sport"), BTreeSet::from(["sport"]));
    assert_eq!(
        tree.insert(TopicName::new("sport").unwrap(), "new".into())
            .unwrap()
            .as_deref(),
        Some("sport")
    );
    assert_eq!(tree.get("sport").map(String::as_str), Some("new"));
    assert_eq!(tree.get("nothing"), None);
}

// ---- property tests --------------------------------------------------------------------

fn level() -> impl Strategy<Value = String> {
    prop_oneof![Just(""), Just("a"), Just("b"), Just("$s"), Just("c")].prop_map(str::to_owned)
}

fn topic() -> impl Strategy<Value = String> {
    prop::collection::vec(level(), 1..5)
        .prop_map(|l| l.join("/"))
        .prop_filter("non-empty", |t| !t.is_empty())
}

fn filter_text() -> impl Strategy<Value = String> {
    let filter_level = prop_oneof![3 => level(), 1 => Just("+".to_owned())];
    (
        prop::collection::vec(filter_level, 1..5),
        any::<bool>(),
        0..4u8,
    )
        .prop_map(|(mut levels, hash, share)| {
            if hash {
                levels.push("#".to_owned());
            }
            let text = levels.join("/");
            match share {
                0 => format!("$share/g/{text}"),
                1 => format!("$share/h/{text}"),
                _ => text,
            }
        })
        .prop_filter("valid filter", |text| TopicFilter::new(text).is_ok())
}

#[derive(Debug, Clone)]
enum Op {
    Subscribe(u8, String, u8),
    Unsubscribe(u8, String),
    UnsubscribeAll(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..4u8, filter_text(), 0..3u8).prop_map(|(c, f, q)| Op::Subscribe(c, f, q)),
        3 => (0..4u8, filter_text()).prop_map(|(c, f)| Op::Unsubscribe(c, f)),
        1 => (0..4u8).prop_map(Op::UnsubscribeAll),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn index_matches_brute_force(
        subs in prop::collection::vec((0..5u8, filter_text()), 0..40),
        topics in prop::collection::vec(topic(), 1..10),
    ) {
        let mut index = SubscriptionIndex::with_limits(unlimited());
        let mut model: Vec<(String, String)> = Vec::new();
        for (client, text) in &subs {
            let client = format!("c{client}");
            index.subscribe(&client, sub(text)).unwrap();
            if !model.contains(&(client.clone(), text.clone())) {
                model.push((client, text.clone()));
            }
        }
        for topic in &topics {
            let expected: BTreeSet<(String, String)> = model
                .iter()
                .filter(|(_, f)| topic_matches(f, topic).unwrap())
                .cloned()
                .collect();
            prop_assert_eq!(matched(&index, topic), expected, "topic {}", topic);
        }
    }

    #[test]
    fn index_after_random_operations_equals_a_rebuilt_one(ops in prop::collection::vec(op(), 0..80)) {
        let mut index = SubscriptionIndex::with_limits(unlimited());
        for op in &ops {
            match op {
                Op::Subscribe(c, f, q) => {
                    let s = Subscription::new(filter(f), QoS::try_from(*q).unwrap());
                    index.subscribe(&format!("c{c}"), s).unwrap();
                }
                Op::Unsubscribe(c, f) => {
                    index.unsubscribe(&format!("c{c}"), &filter(f));
                }
                Op::UnsubscribeAll(c) => {
                    index.unsubscribe_all(&format!("c{c}"));
                }
            }
        }
        let mut rebuilt = SubscriptionIndex::with_limits(unlimited());
        for (client, s) in index.iter() {
            rebuilt.subscribe(client, s.clone()).unwrap();
        }
        prop_assert_eq!(snapshot(&index), snapshot(&rebuilt));
        prop_assert_eq!(index.len(), rebuilt.len());
        prop_assert_eq!(index.node_count(), rebuilt.node_count(), "no empty nodes left behind");
        prop_assert_eq!(index.level_count(), rebuilt.level_count());
        prop_assert_eq!(index.client_count(), rebuilt.client_count());
        for topic in ["a", "a/b", "$s/a", "/", "b//c", "c/a/b/a"] {
            prop_assert_eq!(matched(&index, topic), matched(&rebuilt, topic));
        }
    }

    #[test]
    fn retained_tree_matches_brute_force(
        ops in prop::collection::vec((topic(), any::<bool>()), 0..60),
        filters in prop::collection::vec(filter_text(), 1..10),
    ) {
        let mut tree = TopicTree::with_max_topic_levels(None);
        let mut model = BTreeSet::new();
        for (topic, insert) in &ops {
            if *insert {
                tree.insert(TopicName::new(topic).unwrap(), ()).unwrap();
                model.insert(topic.clone());
            } else {
                prop_assert_eq!(tree.remove(topic).is_some(), model.remove(topic));
            }
        }
        prop_assert_eq!(tree.len(), model.len());
        for f in &filters {
            let found: BTreeSet<String> =
                tree.matches(&filter(f)).into_iter().map(|(t, _)| t.as_str().to_owned()).collect();
            let expected: BTreeSet<String> =
                model.iter().filter(|t| topic_matches(f, t).unwrap()).cloned().collect();
            prop_assert_eq!(found, expected, "filter {}", f);
        }
        let mut rebuilt = TopicTree::with_max_topic_levels(None);
        for topic in &model {
            rebuilt.insert(TopicName::new(topic).unwrap(), ()).unwrap();
        }
        prop_assert_eq!(tree.node_count(), rebuilt.node_count(), "no empty nodes left behind");
    }
}
