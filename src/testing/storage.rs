//! The contract of [`AsyncStorageInterface`] (and so of every [`StorageInterface`]
//! through an adapter).
//!
//! [`StorageInterface`]: crate::storage::StorageInterface

use std::time::{Duration, SystemTime};

use crate::constants::QoS;
use crate::error::ErrorKind;
use crate::message::Message;
use crate::packet_id::PacketId;
use crate::router::{Fact, QueuedMessage};
use crate::storage::AsyncStorageInterface;
use crate::topic::Subscription;

use super::{filter, message, topic};

fn topics(messages: &[Message]) -> Vec<String> {
    let mut found: Vec<String> = messages.iter().map(|m| m.topic().to_string()).collect();
    found.sort();
    found
}

fn payloads(messages: &[Message]) -> Vec<Vec<u8>> {
    messages.iter().map(|m| m.payload().to_vec()).collect()
}

fn at(seconds: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + seconds)
}

/// Runs every check of the storage contract, each on a new, empty storage from `make`;
/// panics with the check's name and what went wrong at the first one that fails.
///
/// # Panics
/// When the storage breaks the contract (this is a test kit).
pub async fn storage_contract<S, F>(make: F)
where
    S: AsyncStorageInterface,
    F: Fn() -> S,
{
    retained_store_and_replace(&make()).await;
    retained_empty_payload_deletes(&make()).await;
    retained_wildcards(&make()).await;
    retained_dollar_topics(&make()).await;
    delete_retained(&make()).await;
    retained_messages_keep_their_arrival_time(&make()).await;
    queue_is_fifo_with_limits(&make()).await;
    queues_are_per_client(&make()).await;
    queued_messages_keep_their_fields(&make()).await;
    queued_entries_by_number(&make()).await;
    persist_stores_the_routers_facts(&make()).await;
    subscriptions(&make()).await;
    get_subscribers(&make()).await;
    closed_storage_fails_with_a_storage_error(&make()).await;
}

async fn retained_store_and_replace(storage: &impl AsyncStorageInterface) {
    let name = "retained_store_and_replace";
    storage
        .store_retained(message("site/1/temp", "20"))
        .await
        .expect(name);
    storage
        .store_retained(message("site/1/temp", "21"))
        .await
        .expect(name);
    let found = storage
        .get_retained(&filter("site/1/temp"))
        .await
        .expect(name);
    assert_eq!(
        payloads(&found),
        [b"21"],
        "{name}: a retained message replaces the topic's"
    );
}

async fn retained_empty_payload_deletes(storage: &impl AsyncStorageInterface) {
    let name = "retained_empty_payload_deletes [MQTT-3.3.1-6]";
    storage
        .store_retained(message("site/1/temp", "20"))
        .await
        .expect(name);
    storage
        .store_retained(message("site/1/temp", ""))
        .await
        .expect(name);
    storage
        .store_retained(message("never/stored", ""))
        .await
        .expect(name);
    let found = storage.get_retained(&filter("#")).await.expect(name);
    assert!(
        found.is_empty(),
        "{name}: an empty payload deletes and is not stored: {found:?}"
    );
}

async fn retained_wildcards(storage: &impl AsyncStorageInterface) {
    let name = "retained_wildcards";
    for name_of in [
        "site/1/temp",
        "site/2/temp",
        "site/1/humidity",
        "site",
        "other/x",
    ] {
        storage
            .store_retained(message(name_of, "v"))
            .await
            .expect(name);
    }
    let get = |text: &'static str| async move {
        topics(&storage.get_retained(&filter(text)).await.expect(name))
    };
    assert_eq!(
        get("site/+/temp").await,
        ["site/1/temp", "site/2/temp"],
        "{name}"
    );
    assert_eq!(
        get("site/#").await,
        ["site", "site/1/humidity", "site/1/temp", "site/2/temp"],
        "{name}: '#' matches the parent level"
    );
    assert_eq!(get("+").await, ["site"], "{name}");
}

async fn retained_dollar_topics(storage: &impl AsyncStorageInterface) {
    let name = "retained_dollar_topics [MQTT-4.7.2-1]";
    storage
        .store_retained(message("$SYS/uptime", "1"))
        .await
        .expect(name);
    storage.store_retained(message("a", "1")).await.expect(name);
    let get = |text: &'static str| async move {
        topics(&storage.get_retained(&filter(text)).await.expect(name))
    };
    assert_eq!(
        get("#").await,
        ["a"],
        "{name}: a wildcard first does not match '$'"
    );
    assert!(get("+/uptime").await.is_empty(), "{name}");
    assert_eq!(get("$SYS/#").await, ["$SYS/uptime"], "{name}");
}

async fn delete_retained(storage: &impl AsyncStorageInterface) {
    let name = "delete_retained";
    storage
        .store_retained(message("a/b", "v"))
        .await
        .expect(name);
    assert!(
        storage.delete_retained(&topic("a/b")).await.expect(name),
        "{name}: it was there"
    );
    assert!(
        !storage.delete_retained(&topic("a/b")).await.expect(name),
        "{name}: it is gone"
    );
    assert!(
        storage
            .get_retained(&filter("#"))
            .await
            .expect(name)
            .is_empty(),
        "{name}"
    );
}

async fn retained_messages_keep_their_arrival_time(storage: &impl AsyncStorageInterface) {
    let name = "retained_messages_keep_their_arrival_time";
    storage
        .store_retained_at(message("a", "1"), at(0))
        .await
        .expect(name);
    storage
        .store_retained_at(message("$SYS/b", "2"), at(1))
        .await
        .expect(name);
    let mut kept: Vec<(String, SystemTime)> = storage
        .retained_messages()
        .await
        .expect(name)
        .into_iter()
        .map(|(m, arrived)| (m.topic().to_string(), arrived))
        .collect();
    kept.sort();
    assert_eq!(
        kept,
        [("$SYS/b".to_owned(), at(1)), ("a".to_owned(), at(0))],
        "{name}"
    );
    storage
        .store_retained_at(message("a", ""), at(2))
        .await
        .expect(name);
    let left = storage.retained_messages().await.expect(name);
    assert_eq!(left.len(), 1, "{name}: the empty payload deleted 'a'");
}

async fn queue_is_fifo_with_limits(storage: &impl AsyncStorageInterface) {
    let name = "queue_is_fifo_with_limits";
    for payload in ["1", "2", "3", "4"] {
        storage
            .enqueue("c1", message("q", payload))
            .await
            .expect(name);
    }
    assert_eq!(storage.queue_length("c1").await.expect(name), 4, "{name}");
    let first = storage.dequeue("c1", Some(2)).await.expect(name);
    assert_eq!(
        payloads(&first),
        [b"1", b"2"],
        "{name}: oldest first, at most the limit"
    );
    let rest = storage.dequeue("c1", None).await.expect(name);
    assert_eq!(payloads(&rest), [b"3", b"4"], "{name}");
    assert_eq!(storage.queue_length("c1").await.expect(name), 0, "{name}");
    assert!(
        storage.dequeue("c1", None).await.expect(name).is_empty(),
        "{name}"
    );
}

async fn queues_are_per_client(storage: &impl AsyncStorageInterface) {
    let name = "queues_are_per_client";
    storage
        .enqueue("c1", message("q", "for c1"))
        .await
        .expect(name);
    storage
        .enqueue("c2", message("q", "for c2"))
        .await
        .expect(name);
    let c2 = storage.dequeue("c2", None).await.expect(name);
    assert_eq!(payloads(&c2), [b"for c2"], "{name}");
    assert_eq!(storage.queue_length("c1").await.expect(name), 1, "{name}");
    assert_eq!(
        storage.queue_length("nobody").await.expect(name),
        0,
        "{name}"
    );
}

async fn queued_messages_keep_their_fields(storage: &impl AsyncStorageInterface) {
    let name = "queued_messages_keep_their_fields";
    let kept = Message::builder(topic("a/b"))
        .payload(vec![0x00, 0xff])
        .qos(QoS::ExactlyOnce)
        .retain(true)
        .message_id(PacketId::new(7).ok())
        .build()
        .expect(name);
    storage.enqueue("c1", kept.clone()).await.expect(name);
    assert_eq!(
        storage.dequeue("c1", None).await.expect(name),
        [kept],
        "{name}"
    );
}

async fn queued_entries_by_number(storage: &impl AsyncStorageInterface) {
    let name = "queued_entries_by_number";
    let entry = |seq: u64, payload: &str, seconds: u64| QueuedMessage {
        seq,
        message: message("q", payload),
        enqueued_at: at(seconds),
    };
    for seq in [3, 1, 2] {
        storage
            .enqueue_entry("c1", entry(seq, &seq.to_string(), 10 + seq))
            .await
            .expect(name);
    }
    storage
        .enqueue_entry("c2", entry(1, "other", 5))
        .await
        .expect(name);
    let entries = storage.queued_messages("c1").await.expect(name);
    let seen: Vec<(u64, Vec<u8>, SystemTime)> = entries
        .iter()
        .map(|e| (e.seq, e.message.payload().to_vec(), e.enqueued_at))
        .collect();
    assert_eq!(
        seen,
        [
            (1, b"1".to_vec(), at(11)),
            (2, b"2".to_vec(), at(12)),
            (3, b"3".to_vec(), at(13))
        ],
        "{name}: in order of their numbers, with their enqueue time"
    );
    assert!(storage.remove_queued("c1", 2).await.expect(name), "{name}");
    assert!(
        !storage.remove_queued("c1", 2).await.expect(name),
        "{name}: removed once"
    );
    storage
        .enqueue_entry("c1", entry(3, "again", 20))
        .await
        .expect(name);
    let left: Vec<(u64, Vec<u8>)> = storage
        .queued_messages("c1")
        .await
        .expect(name)
        .iter()
        .map(|e| (e.seq, e.message.payload().to_vec()))
        .collect();
    assert_eq!(
        left,
        [(1, b"1".to_vec()), (3, b"again".to_vec())],
        "{name}: replaced"
    );
    assert!(
        storage
            .queued_messages("nobody")
            .await
            .expect(name)
            .is_empty(),
        "{name}"
    );
}

async fn persist_stores_the_routers_facts(storage: &impl AsyncStorageInterface) {
    let name = "persist_stores_the_routers_facts";
    let retained = message("q/1", "owed");
    let subscription = Subscription::new(filter("q/#"), QoS::AtLeastOnce);
    let facts = [
        Fact::Subscribed {
            client_id: "away".to_owned(),
            subscription: subscription.clone(),
        },
        Fact::Retained {
            message: retained.clone(),
            arrived_at: at(10),
        },
        Fact::Queued {
            client_id: "away".to_owned(),
            seq: 1,
            message: message("q/1", "owed"),
            enqueued_at: at(10),
        },
    ];
    storage.persist(&facts).await.expect(name);
    let queued = storage.queued_messages("away").await.expect(name);
    assert_eq!(queued.len(), 1, "{name}: the queued copy");
    assert_eq!(
        (queued[0].seq, queued[0].enqueued_at),
        (1, at(10)),
        "{name}"
    );
    let kept = storage.retained_messages().await.expect(name);
    assert_eq!(kept.len(), 1, "{name}: the retained message");
    assert_eq!(kept[0].1, at(10), "{name}: with its arrival time");
    assert_eq!(
        storage.get_subscriptions("away").await.expect(name),
        [subscription],
        "{name}"
    );
    let ended = [Fact::SessionEnded {
        client_id: "away".to_owned(),
    }];
    storage.persist(&ended).await.expect(name);
    assert!(
        storage
            .queued_messages("away")
            .await
            .expect(name)
            .is_empty(),
        "{name}"
    );
    assert!(
        storage
            .get_subscriptions("away")
            .await
            .expect(name)
            .is_empty(),
        "{name}"
    );
    assert_eq!(
        storage.retained_messages().await.expect(name).len(),
        1,
        "{name}"
    );
}

async fn subscriptions(storage: &impl AsyncStorageInterface) {
    let name = "subscriptions";
    let sub = |text: &str, qos: QoS| Subscription::new(filter(text), qos);
    assert!(
        !storage
            .add_subscription("c1", sub("a/+", QoS::AtMostOnce))
            .await
            .expect(name),
        "{name}: a new filter replaces nothing"
    );
    assert!(
        storage
            .add_subscription("c1", sub("a/+", QoS::ExactlyOnce))
            .await
            .expect(name),
        "{name}: the same filter replaces the subscription"
    );
    let held = storage.get_subscriptions("c1").await.expect(name);
    assert_eq!(held, [sub("a/+", QoS::ExactlyOnce)], "{name}");
    // Filters are compared character by character [MQTT-3.10.4-1].
    assert!(
        !storage
            .remove_subscription("c1", &filter("a/b"))
            .await
            .expect(name),
        "{name}"
    );
    assert!(
        storage
            .remove_subscription("c1", &filter("a/+"))
            .await
            .expect(name),
        "{name}"
    );
    assert!(
        !storage
            .remove_subscription("c1", &filter("a/+"))
            .await
            .expect(name),
        "{name}"
    );
    assert!(
        storage
            .get_subscriptions("c1")
            .await
            .expect(name)
            .is_empty(),
        "{name}"
    );
    storage
        .add_subscription("c1", sub("a", QoS::AtLeastOnce))
        .await
        .expect(name);
    storage
        .add_subscription("c2", sub("a", QoS::ExactlyOnce))
        .await
        .expect(name);
    let c1 = storage.get_subscriptions("c1").await.expect(name);
    assert_eq!(
        c1,
        [sub("a", QoS::AtLeastOnce)],
        "{name}: each client its own"
    );
}

async fn get_subscribers(storage: &impl AsyncStorageInterface) {
    let name = "get_subscribers";
    for (client, text) in [
        ("c1", "sport/#"),
        ("c2", "sport/+"),
        ("c3", "#"),
        ("c4", "other"),
        ("c5", "$share/g/sport/tennis"),
    ] {
        let subscription = Subscription::new(filter(text), QoS::AtMostOnce);
        storage
            .add_subscription(client, subscription)
            .await
            .expect(name);
    }
    let found = |text: &'static str| async move {
        let mut found: Vec<(String, String)> = storage
            .get_subscribers(&topic(text))
            .await
            .expect(name)
            .into_iter()
            .map(|(client, s)| (client, s.topic_filter().to_string()))
            .collect();
        found.sort();
        found
    };
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(c, f)| ((*c).to_owned(), (*f).to_owned()))
            .collect()
    };
    assert_eq!(
        found("sport/tennis").await,
        pairs(&[
            ("c1", "sport/#"),
            ("c2", "sport/+"),
            ("c3", "#"),
            ("c5", "$share/g/sport/tennis")
        ]),
        "{name}"
    );
    assert_eq!(
        found("sport").await,
        pairs(&[("c1", "sport/#"), ("c3", "#")]),
        "{name}: '#' matches the parent level"
    );
    assert!(
        found("$SYS/x").await.is_empty(),
        "{name}: '$' topics [MQTT-4.7.2-1]"
    );
}

async fn closed_storage_fails_with_a_storage_error(storage: &impl AsyncStorageInterface) {
    let name = "closed_storage_fails_with_a_storage_error";
    storage.close().await.expect(name);
    match storage.queue_length("c1").await {
        Err(err) => assert_eq!(err.kind(), ErrorKind::Storage, "{name}: {err}"),
        Ok(length) => panic!("{name}: a closed storage answered {length}"),
    }
}
