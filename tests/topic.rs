//! Topic names, filters and matching: every topic row of SPEC-CHECKLIST.md, accepted and
//! rejected, plus a property test against a level-by-level reference matcher.

use bytes::Bytes;
use mqtt_common::{
    ReasonCode, TopicFilter, TopicKind, TopicName, Violation, topic_matches, validate_topic_filter,
    validate_topic_name,
};
use proptest::prelude::*;

const VALID_NAMES: &[&str] = &[
    "a",
    "/",
    "//",
    "sport/tennis/player1",
    "/finance",
    "finance/",
    "$SYS/broker/uptime",
    "ACCOUNTS",
    "with space/and\ttab",
    "\u{FEFF}bom-kept",        // [MQTT-1.5.4-3]: U+FEFF is kept, not stripped
    "caf\u{e9}/\u{1F600}",     // non-ASCII
    "\u{1}control\u{7f}chars", // valid by the spec (SHOULD NOT, receiver MAY close)
    "$share",                  // only `$share/` starts a shared subscription
];

fn assert_violation(result: Result<(), mqtt_common::Error>, expected: &Violation, spec_ref: &str) {
    let err = result.expect_err("input should be rejected");
    assert_eq!(err.violation(), Some(expected), "{err}");
    assert_eq!(err.spec_ref(), Some(spec_ref), "{err}");
    assert!(err.to_string().ends_with(&format!("[{spec_ref}]")), "{err}");
}

#[test]
fn valid_topic_names_are_accepted_and_kept_verbatim() {
    for name in VALID_NAMES {
        validate_topic_name(name).unwrap();
        let topic = TopicName::new(name).unwrap();
        assert_eq!(topic.as_str(), *name, "no normalisation [MQTT-4.7.3-4]");
        assert_eq!(
            TopicName::from_bytes(Bytes::from(name.to_string())).unwrap(),
            topic
        );
    }
}

#[test]
fn longest_topic_name_is_accepted() {
    let name = "a".repeat(65_535);
    validate_topic_name(&name).unwrap();
}

#[test]
fn invalid_topic_names_are_rejected_with_their_rule() {
    let name = TopicKind::Name;
    let too_long = "a".repeat(65_536);
    let cases: &[(&str, Violation, &str)] = &[
        ("", Violation::TopicEmpty { kind: name }, "MQTT-4.7.3-1"),
        (
            "a\0b",
            Violation::TopicContainsNull { kind: name },
            "MQTT-4.7.3-2",
        ),
        (
            &too_long,
            Violation::TopicTooLong {
                kind: name,
                len: 65_536,
            },
            "MQTT-4.7.3-3",
        ),
        ("a/+", Violation::TopicNameHasWildcard, "MQTT-3.3.2-2"),
        ("a/#", Violation::TopicNameHasWildcard, "MQTT-3.3.2-2"),
        ("+", Violation::TopicNameHasWildcard, "MQTT-3.3.2-2"),
        ("a+b", Violation::TopicNameHasWildcard, "MQTT-3.3.2-2"),
    ];
    for (input, violation, spec_ref) in cases {
        assert_violation(validate_topic_name(input), violation, spec_ref);
        let err = TopicName::new(input).unwrap_err();
        assert_eq!(err.reason_code(), ReasonCode::TopicNameInvalid);
    }
}

#[test]
fn topic_bytes_must_be_well_formed_utf8() {
    // Surrogate, overlong NUL, out-of-range lead bytes, truncated, lone continuation.
    let bad: &[&[u8]] = &[
        b"\xED\xA0\x80",
        b"\xC0\x80",
        b"\xF5\x80\x80\x80",
        b"\xFF",
        b"a\xE2\x82",
        b"\x80",
    ];
    for bytes in bad {
        let err = TopicName::from_bytes(Bytes::from_static(bytes)).unwrap_err();
        assert_eq!(
            err.violation(),
            Some(&Violation::TopicInvalidUtf8 {
                kind: TopicKind::Name
            })
        );
        assert_eq!(err.spec_ref(), Some("MQTT-1.5.4-1"));
        let err = TopicFilter::from_bytes(Bytes::from_static(bytes)).unwrap_err();
        assert_eq!(
            err.violation(),
            Some(&Violation::TopicInvalidUtf8 {
                kind: TopicKind::Filter
            })
        );
    }
}

#[test]
fn valid_topic_filters_are_accepted() {
    let cases = [
        "#",
        "+",
        "+/+",
        "/+",
        "+/",
        "sport/#",
        "sport/tennis/#",
        "sport/+/player1",
        "+/tennis/#",
        "$SYS/#",
        "$SYS/+",
        "a//b",
        "a/+/+/#",
        "$share/group/a/b",
        "$share/g/#",
        "$share/g/+",
        "$share/g//",
        "$share/g/$SYS/#",
    ];
    for filter in cases {
        validate_topic_filter(filter).unwrap();
        let parsed = TopicFilter::new(filter).unwrap();
        assert_eq!(parsed.as_str(), filter);
    }
    let longest = "+/".repeat(32_767) + "+";
    assert_eq!(longest.len(), 65_535);
    validate_topic_filter(&longest).unwrap();
}

#[test]
fn invalid_topic_filters_are_rejected_with_their_rule() {
    let filter = TopicKind::Filter;
    let too_long = "a".repeat(65_536);
    let cases: &[(&str, Violation, &str)] = &[
        ("", Violation::TopicEmpty { kind: filter }, "MQTT-4.7.3-1"),
        (
            "a/\0",
            Violation::TopicContainsNull { kind: filter },
            "MQTT-4.7.3-2",
        ),
        (
            &too_long,
            Violation::TopicTooLong {
                kind: filter,
                len: 65_536,
            },
            "MQTT-4.7.3-3",
        ),
        (
            "sport/tennis#",
            Violation::MisplacedMultiLevelWildcard,
            "MQTT-4.7.1-1",
        ),
        (
            "sport/tennis/#/ranking",
            Violation::MisplacedMultiLevelWildcard,
            "MQTT-4.7.1-1",
        ),
        ("#/", Violation::MisplacedMultiLevelWildcard, "MQTT-4.7.1-1"),
        ("##", Violation::MisplacedMultiLevelWildcard, "MQTT-4.7.1-1"),
        (
            "sport+",
            Violation::MisplacedSingleLevelWildcard,
            "MQTT-4.7.1-2",
        ),
        (
            "sport/+tennis",
            Violation::MisplacedSingleLevelWildcard,
            "MQTT-4.7.1-2",
        ),
        (
            "++",
            Violation::MisplacedSingleLevelWildcard,
            "MQTT-4.7.1-2",
        ),
        ("$share/", Violation::ShareNameEmpty, "MQTT-4.8.2-1"),
        ("$share//a", Violation::ShareNameEmpty, "MQTT-4.8.2-1"),
        (
            "$share/g+/a",
            Violation::ShareNameHasWildcard,
            "MQTT-4.8.2-2",
        ),
        (
            "$share/#/a",
            Violation::ShareNameHasWildcard,
            "MQTT-4.8.2-2",
        ),
        (
            "$share/group",
            Violation::SharedFilterMissing,
            "MQTT-4.8.2-2",
        ),
        (
            "$share/group/",
            Violation::SharedFilterMissing,
            "MQTT-4.8.2-2",
        ),
        (
            "$share/g/a#",
            Violation::MisplacedMultiLevelWildcard,
            "MQTT-4.7.1-1",
        ),
    ];
    for (input, violation, spec_ref) in cases {
        assert_violation(validate_topic_filter(input), violation, spec_ref);
        assert_eq!(
            TopicFilter::new(input).unwrap_err().reason_code(),
            ReasonCode::TopicFilterInvalid
        );
    }
}

#[test]
fn shared_subscription_parts() {
    let filter = TopicFilter::new("$share/consumer1/sport/tennis/+").unwrap();
    assert!(filter.is_shared());
    assert_eq!(filter.share_group(), Some("consumer1"));
    assert_eq!(filter.filter(), "sport/tennis/+");
    assert!(filter.has_wildcards());
    let plain = TopicFilter::new("sport/tennis").unwrap();
    assert_eq!(
        (
            plain.is_shared(),
            plain.share_group(),
            plain.has_wildcards()
        ),
        (false, None, false)
    );
}

/// (filter, topic, matches): the examples of MQTT 5.0 §4.7.1, §4.7.2, §4.7.3 and §4.8.2.
const MATCHES: &[(&str, &str, bool)] = &[
    ("sport/tennis/player1/#", "sport/tennis/player1", true),
    (
        "sport/tennis/player1/#",
        "sport/tennis/player1/ranking",
        true,
    ),
    (
        "sport/tennis/player1/#",
        "sport/tennis/player1/score/wimbledon",
        true,
    ),
    ("sport/#", "sport", true), // `#` matches the parent level
    ("#", "sport/tennis", true),
    ("#", "/", true),
    ("sport/tennis/+", "sport/tennis/player1", true),
    ("sport/tennis/+", "sport/tennis/player2", true),
    ("sport/tennis/+", "sport/tennis/player1/ranking", false),
    ("sport/+", "sport", false),
    ("sport/+", "sport/", true), // `+` matches an empty level
    ("+", "sport", true),
    ("+", "/finance", false),
    ("+/+", "/finance", true),
    ("/+", "/finance", true),
    ("+/+/+", "a//b", true),
    ("a//b", "a//b", true),
    ("a/b", "a//b", false),
    ("/finance", "finance", false), // a leading '/' makes a distinct topic
    ("finance/", "finance", false),
    // [MQTT-4.7.2-1]: filters starting with a wildcard never match `$` topics.
    ("#", "$SYS/monitor/Clients", false),
    ("+/monitor/Clients", "$SYS/monitor/Clients", false),
    ("$SYS/#", "$SYS/monitor/Clients", true),
    ("$SYS/monitor/+", "$SYS/monitor/Clients", true),
    ("$SYS/+/Clients", "$SYS/monitor/Clients", true), // only a *leading* wildcard is excluded
    ("+/$SYS", "a/$SYS", true),
    ("$share/g/#", "$SYS/x", false),
    // Case-sensitive, no normalisation [MQTT-4.7.3-4].
    ("ACCOUNTS", "Accounts", false),
    ("caf\u{e9}", "cafe\u{301}", false),
    ("\u{FEFF}a", "a", false),
    // Shared subscriptions match what their filter matches.
    ("$share/g/sport/+", "sport/tennis", true),
    ("$share/g/sport/+", "$share/g/sport/tennis", false),
];

#[test]
fn matching_follows_the_spec_examples() {
    for (filter, topic, expected) in MATCHES {
        assert_eq!(
            topic_matches(filter, topic).unwrap(),
            *expected,
            "{filter} vs {topic}"
        );
        let parsed = TopicFilter::new(filter).unwrap();
        assert_eq!(
            parsed.matches(&TopicName::new(topic).unwrap()),
            *expected,
            "{filter} vs {topic}"
        );
    }
}

#[test]
fn topic_matches_checks_both_arguments() {
    let err = topic_matches("a/#/b", "a").unwrap_err();
    assert!(err.to_string().starts_with("topic_filter: "), "{err}");
    let err = topic_matches("a/#", "a/+").unwrap_err();
    assert!(err.to_string().starts_with("topic: "), "{err}");
    assert_eq!(err.spec_ref(), Some("MQTT-3.3.2-2"));
}

#[test]
fn cve_2019_11779_deep_topics_do_not_overflow_the_stack() {
    // CVE-2019-11779: ~65,000 levels. Run on a small stack to prove nothing recurses.
    std::thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(|| {
            let topic = "a/".repeat(32_767) + "a";
            let deep_filter = "+/".repeat(32_767) + "+";
            assert!(topic_matches(&deep_filter, &topic).unwrap());
            assert!(topic_matches("a/#", &topic).unwrap());
            let empty_levels = "/".repeat(65_534); // 65,535 empty levels
            assert!(topic_matches("#", &empty_levels).unwrap());
            assert!(!topic_matches(&deep_filter, &empty_levels).unwrap());
            assert_eq!(
                TopicName::new(&empty_levels).unwrap().levels().count(),
                65_535
            );
        })
        .unwrap()
        .join()
        .unwrap();
}

/// The reference: a direct transcription of §4.7, recursive over level slices.
fn reference_matches(filter: &[&str], topic: &[&str]) -> bool {
    match (filter.split_first(), topic.split_first()) {
        (Some((&"#", _)), _) => true,
        (Some((&"+", f_rest)), Some((_, t_rest))) => reference_matches(f_rest, t_rest),
        (Some((f, f_rest)), Some((t, t_rest))) => f == t && reference_matches(f_rest, t_rest),
        (None, None) => true,
        _ => false,
    }
}

fn reference(filter: &str, topic: &str) -> bool {
    let filter = match filter.strip_prefix("$share/") {
        Some(rest) => &rest[rest.find('/').unwrap() + 1..],
        None => filter,
    };
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let f: Vec<&str> = filter.split('/').collect();
    let t: Vec<&str> = topic.split('/').collect();
    reference_matches(&f, &t)
}

fn topic_level() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("a".to_owned()),
        Just("b".to_owned()),
        Just("$SYS".to_owned()),
        Just("A".to_owned()),
        "[a-c$]{1,3}",
    ]
}

fn topic_name() -> impl Strategy<Value = String> {
    prop::collection::vec(topic_level(), 1..6)
        .prop_map(|levels| levels.join("/"))
        .prop_filter("non-empty", |t| !t.is_empty())
}

fn topic_filter() -> impl Strategy<Value = String> {
    let level = prop_oneof![3 => topic_level(), 2 => Just("+".to_owned())];
    (
        prop::collection::vec(level, 1..6),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(mut levels, hash, shared)| {
            if hash {
                levels.push("#".to_owned());
            }
            let filter = levels.join("/");
            if shared {
                format!("$share/grp/{filter}")
            } else {
                filter
            }
        })
        .prop_filter("valid", |f| validate_topic_filter(f).is_ok())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn topic_matches_agrees_with_the_reference(filter in topic_filter(), topic in topic_name()) {
        prop_assert_eq!(topic_matches(&filter, &topic).unwrap(), reference(&filter, &topic));
    }

    #[test]
    fn a_filter_equal_to_the_topic_matches_it(topic in topic_name()) {
        prop_assert!(topic_matches(&topic, &topic).unwrap());
    }

    #[test]
    fn validation_never_panics(text in ".{0,40}") {
        let _ = validate_topic_name(&text);
        let _ = validate_topic_filter(&text);
        let _ = topic_matches(&text, &text);
    }
}
