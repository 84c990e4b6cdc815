//! MemoryStorage and MemorySessionStore: the contract's behaviours, and threads that
//! store and read at once without losing anything.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use mqtt_common::ErrorKind;
use mqtt_common::{
    IndexLimits, MemorySessionStore, MemoryStorage, MemoryStorageConfig, Message, ProtocolVersion,
    QoS, QueueFullPolicy, SessionInterface, StorageInterface, Subscription, TopicFilter, TopicName,
    Will,
};

fn msg(topic: &str, payload: &str) -> Message {
    Message::new(TopicName::new(topic).unwrap(), payload.to_owned()).unwrap()
}

fn filter(text: &str) -> TopicFilter {
    TopicFilter::new(text).unwrap()
}

fn topics(messages: &[Message]) -> Vec<String> {
    let mut found: Vec<String> = messages.iter().map(|m| m.topic().to_string()).collect();
    found.sort();
    found
}

#[test]
fn retained_messages() {
    let storage = MemoryStorage::new();
    for topic in [
        "site/1/temp",
        "site/2/temp",
        "site/1/humidity",
        "$SYS/uptime",
    ] {
        storage.store_retained(msg(topic, "v1")).unwrap();
    }
    storage.store_retained(msg("site/1/temp", "v2")).unwrap(); // replaces
    assert_eq!(storage.retained_count().unwrap(), 4);
    let found = storage.get_retained(&filter("site/+/temp")).unwrap();
    assert_eq!(topics(&found), ["site/1/temp", "site/2/temp"]);
    assert!(found.iter().any(|m| m.payload().as_ref() == b"v2"));
    assert_eq!(
        storage.get_retained(&filter("#")).unwrap().len(),
        3,
        "not $SYS"
    );
    assert_eq!(storage.get_retained(&filter("$SYS/#")).unwrap().len(), 1);
    assert!(
        storage
            .delete_retained(&TopicName::new("site/1/temp").unwrap())
            .unwrap()
    );
    assert!(
        !storage
            .delete_retained(&TopicName::new("site/1/temp").unwrap())
            .unwrap()
    );
}

/// [MQTT-3.3.1-6] and [MQTT-3.3.1-7] (3.1.1: [MQTT-3.3.1-10], [MQTT-3.3.1-11]): a retained
/// message with an empty payload deletes the one kept for its topic and is not kept itself.
#[test]
fn mqtt_3_3_1_6_and_3_3_1_7_an_empty_retained_payload_deletes() {
    let storage = MemoryStorage::new();
    storage.store_retained(msg("site/1/temp", "21")).unwrap();
    storage.store_retained(msg("site/2/temp", "22")).unwrap();
    storage.store_retained(msg("site/2/temp", "")).unwrap();
    storage.store_retained(msg("never/stored", "")).unwrap();
    assert_eq!(
        topics(&storage.get_retained(&filter("#")).unwrap()),
        ["site/1/temp"]
    );
    assert_eq!(storage.retained_count().unwrap(), 1);
}

#[test]
fn queues_are_fifo_and_bounded() {
    let storage = MemoryStorage::new();
    for i in 0..5 {
        storage.enqueue("c", msg("q", &i.to_string())).unwrap();
    }
    assert_eq!(storage.queue_length("c").unwrap(), 5);
    let first = storage.dequeue("c", Some(2)).unwrap();
    assert_eq!(
        first
            .iter()
            .map(|m| m.payload().clone())
            .collect::<Vec<_>>(),
        ["0", "1"]
    );
    let rest = storage.dequeue("c", None).unwrap();
    assert_eq!(
        rest.iter().map(|m| m.payload().clone()).collect::<Vec<_>>(),
        ["2", "3", "4"]
    );
    assert_eq!(storage.queue_length("c").unwrap(), 0);
    assert!(storage.dequeue("nobody", None).unwrap().is_empty());

    let bounded = |policy| {
        MemoryStorage::with_config(MemoryStorageConfig {
            max_queue_length: Some(2),
            queue_full: policy,
            ..MemoryStorageConfig::default()
        })
    };
    let reject = bounded(QueueFullPolicy::Reject);
    reject.enqueue("c", msg("q", "a")).unwrap();
    reject.enqueue("c", msg("q", "b")).unwrap();
    let err = reject.enqueue("c", msg("q", "c")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage, "{err:?}");
    assert!(err.to_string().contains("full"), "{err}");
    let oldest = bounded(QueueFullPolicy::DropOldest);
    let newest = bounded(QueueFullPolicy::DropNewest);
    for storage in [&oldest, &newest] {
        for payload in ["a", "b", "c"] {
            storage.enqueue("c", msg("q", payload)).unwrap();
        }
    }
    let payloads = |s: &MemoryStorage| -> Vec<_> {
        s.dequeue("c", None)
            .unwrap()
            .iter()
            .map(|m| m.payload().clone())
            .collect()
    };
    assert_eq!(payloads(&oldest), ["b", "c"]);
    assert_eq!(payloads(&newest), ["a", "b"]);
}

#[test]
fn subscriptions() {
    let storage = MemoryStorage::with_config(MemoryStorageConfig {
        limits: IndexLimits {
            max_subscriptions_per_client: Some(2),
            ..IndexLimits::default()
        },
        ..MemoryStorageConfig::default()
    });
    let sub = |f: &str, qos| Subscription::new(filter(f), qos);
    assert!(
        !storage
            .add_subscription("c1", sub("a/+", QoS::AtMostOnce))
            .unwrap()
    );
    assert!(
        storage
            .add_subscription("c1", sub("a/+", QoS::ExactlyOnce))
            .unwrap(),
        "replaced"
    );
    storage
        .add_subscription("c2", sub("a/#", QoS::AtLeastOnce))
        .unwrap();
    let mut subscribers = storage
        .get_subscribers(&TopicName::new("a/b").unwrap())
        .unwrap();
    subscribers.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(subscribers.len(), 2);
    assert_eq!(subscribers[0].1.qos(), QoS::ExactlyOnce);
    assert_eq!(storage.get_subscriptions("c1").unwrap().len(), 1);
    storage
        .add_subscription("c1", sub("b", QoS::AtMostOnce))
        .unwrap();
    assert!(
        storage
            .add_subscription("c1", sub("c", QoS::AtMostOnce))
            .is_err(),
        "limit"
    );
    assert!(storage.remove_subscription("c1", &filter("a/+")).unwrap());
    assert!(!storage.remove_subscription("c1", &filter("a/+")).unwrap());
}

#[test]
fn closed_storage_refuses_everything() {
    let storage = MemoryStorage::new();
    storage.enqueue("c", msg("q", "x")).unwrap();
    storage.close().unwrap();
    assert_eq!(
        storage.queue_length("c").unwrap_err().kind(),
        ErrorKind::Storage
    );
    assert!(storage.store_retained(msg("a", "b")).is_err());
    assert!(
        storage
            .get_subscribers(&TopicName::new("a").unwrap())
            .is_err()
    );
    storage.close().unwrap(); // closing twice is harmless
}

#[test]
fn session_present_and_clean_start() {
    let store = MemorySessionStore::new();
    let (mut session, present) = store
        .create_session("c", false, 60, ProtocolVersion::V311)
        .unwrap();
    assert!(!present);
    session
        .send_publish(
            Message::builder(TopicName::new("a").unwrap())
                .qos(QoS::AtLeastOnce)
                .build()
                .unwrap(),
        )
        .unwrap();
    store.save_session(&session).unwrap();
    let (resumed, present) = store
        .create_session("c", false, 120, ProtocolVersion::V5)
        .unwrap();
    assert!(present);
    assert_eq!(resumed.outgoing_count(), 1, "in-flight state survives");
    assert_eq!(
        (resumed.expiry_interval(), resumed.protocol_version()),
        (120, ProtocolVersion::V5)
    );
    let (fresh, present) = store
        .create_session("c", true, 0, ProtocolVersion::V5)
        .unwrap();
    assert!(!present);
    assert_eq!(fresh.outgoing_count(), 0);
    assert!(store.delete_session("c").unwrap());
    assert!(!store.delete_session("c").unwrap());
    assert!(store.get_session("c").unwrap().is_none());
    assert!(
        store
            .create_session("bad\0id", true, 0, ProtocolVersion::V5)
            .is_err()
    );
}

#[test]
fn expired_sessions_are_not_resumed_and_are_swept() {
    let store = MemorySessionStore::new();
    let (mut session, _) = store
        .create_session("c", false, 10, ProtocolVersion::V5)
        .unwrap();
    let gone = SystemTime::now() - Duration::from_secs(60);
    session.mark_disconnected(gone);
    store.save_session(&session).unwrap();
    let (_, present) = store
        .create_session("c", false, 10, ProtocolVersion::V5)
        .unwrap();
    assert!(!present, "expired 50 seconds ago");

    let (mut session, _) = store
        .create_session("d", false, 10, ProtocolVersion::V5)
        .unwrap();
    session.mark_disconnected(gone);
    store.save_session(&session).unwrap();
    assert_eq!(store.expire_sessions(SystemTime::now()).unwrap(), ["d"]);
    assert_eq!(store.len().unwrap(), 1);
}

#[test]
fn cve_2019_11778_wills_fire_at_the_earlier_of_delay_and_expiry() {
    let store = MemorySessionStore::new();
    let will = |delay| Will {
        message: msg("lwt", "gone"),
        delay_interval: delay,
    };
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(10_000);
    for (client, expiry, delay) in [("short-expiry", 30, 300), ("short-delay", 3_600, 5)] {
        let (mut session, _) = store
            .create_session(client, false, expiry, ProtocolVersion::V5)
            .unwrap();
        store.set_will(client, will(delay)).unwrap();
        session.mark_disconnected(t0);
        store.save_session(&session).unwrap();
    }
    assert!(
        store
            .take_due_wills(t0 + Duration::from_secs(4))
            .unwrap()
            .is_empty()
    );
    let due = store.take_due_wills(t0 + Duration::from_secs(5)).unwrap();
    assert_eq!(
        due.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(),
        ["short-delay"]
    );
    let due = store.take_due_wills(t0 + Duration::from_secs(30)).unwrap();
    assert_eq!(
        due.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(),
        ["short-expiry"]
    );
    assert!(
        store
            .take_due_wills(t0 + Duration::from_secs(1_000))
            .unwrap()
            .is_empty(),
        "taken once"
    );

    // A normal DISCONNECT clears the Will; a new connection cancels a pending one.
    store.set_will("short-delay", will(0)).unwrap();
    assert!(store.clear_will("short-delay").unwrap().is_some());
    assert!(store.get_will("short-delay").unwrap().is_none());
    store.set_will("short-expiry", will(0)).unwrap();
    store
        .create_session("short-expiry", false, 30, ProtocolVersion::V5)
        .unwrap();
    assert!(store.get_will("short-expiry").unwrap().is_none());
}

#[test]
fn concurrent_threads_lose_nothing() {
    let storage = Arc::new(MemoryStorage::with_config(MemoryStorageConfig {
        max_queue_length: None,
        ..MemoryStorageConfig::default()
    }));
    let sessions = Arc::new(MemorySessionStore::new());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let storage = Arc::clone(&storage);
            let sessions = Arc::clone(&sessions);
            std::thread::spawn(move || {
                for i in 0..500 {
                    let client = format!("client-{t}");
                    storage
                        .store_retained(msg(&format!("t{t}/m{i}"), "x"))
                        .unwrap();
                    storage.enqueue(&client, msg("q", &i.to_string())).unwrap();
                    let sub = Subscription::new(filter(&format!("t{t}/f{i}")), QoS::AtLeastOnce);
                    storage.add_subscription(&client, sub).unwrap();
                    let _ = storage.get_retained(&filter("#")).unwrap();
                    let _ =
                        storage.get_subscribers(&TopicName::new(&format!("t{t}/f{i}")).unwrap());
                    let (session, _) = sessions
                        .create_session(&format!("{client}-{i}"), false, 60, ProtocolVersion::V5)
                        .unwrap();
                    sessions.save_session(&session).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(storage.retained_count().unwrap(), 8 * 500);
    for t in 0..8 {
        let client = format!("client-{t}");
        let queued = storage.dequeue(&client, None).unwrap();
        let order: Vec<String> = queued
            .iter()
            .map(|m| String::from_utf8_lossy(m.payload()).into_owned())
            .collect();
        assert_eq!(
            order,
            (0..500).map(|i| i.to_string()).collect::<Vec<_>>(),
            "FIFO per client"
        );
        assert_eq!(storage.get_subscriptions(&client).unwrap().len(), 500);
    }
    assert_eq!(sessions.len().unwrap(), 8 * 500);
}

#[test]
fn reference_implementations_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<MemoryStorage>();
    assert_send_sync::<MemorySessionStore>();
    let _: Box<dyn StorageInterface> = Box::new(MemoryStorage::new());
    let _: Box<dyn SessionInterface> = Box::new(MemorySessionStore::new());
}
