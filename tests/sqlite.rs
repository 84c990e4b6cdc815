//! SqliteStorage and SqliteSessionStore: everything survives a reopen, files that are not
//! ours (or are newer, corrupt or in use) are refused with a clear error, and concurrent
//! writers lose nothing. Killing the process under load is the Python crash test's.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use mqtt_common::{
    AuthCredentials, Durability, ErrorKind, IndexLimits, MemoryStorageConfig, Message, PacketId,
    ProtocolVersion, PublishProperties, QoS, QueueFullPolicy, RetainHandling, SessionInterface,
    SqliteSessionStore, SqliteStorage, StorageInterface, Subscription, SubscriptionId, TopicFilter,
    TopicName, Will,
};

/// A directory of its own under the system's temporary one, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mqtt-common-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn topic(text: &str) -> TopicName {
    TopicName::new(text).unwrap()
}

fn filter(text: &str) -> TopicFilter {
    TopicFilter::new(text).unwrap()
}

fn msg(topic_name: &str, payload: &str) -> Message {
    Message::new(topic(topic_name), payload.to_owned()).unwrap()
}

fn qos1(topic_name: &str, payload: &str, id: Option<u16>) -> Message {
    Message::builder(topic(topic_name))
        .payload(payload.to_owned())
        .qos(QoS::AtLeastOnce)
        .message_id(id.map(|id| PacketId::new(id).unwrap()))
        .build()
        .unwrap()
}

fn sorted(mut messages: Vec<Message>) -> Vec<Message> {
    messages.sort_by(|a, b| a.topic().as_str().cmp(b.topic().as_str()));
    messages
}

fn storage_state(storage: &SqliteStorage) -> (Vec<Message>, Vec<Message>, Vec<Subscription>) {
    let mut retained = storage.get_retained(&filter("#")).unwrap();
    retained.extend(storage.get_retained(&filter("$SYS/#")).unwrap());
    (
        sorted(retained),
        storage.dequeue("c1", None).unwrap(),
        storage.get_subscriptions("c1").unwrap(),
    )
}

#[test]
fn storage_survives_a_reopen() {
    let dir = TempDir::new("storage-reopen");
    let path = dir.file("storage.db");
    let storage = SqliteStorage::open(&path).unwrap();
    let with_properties = Message::builder(topic("site/1/temp"))
        .payload(vec![0_u8, 1, 255])
        .retain(true)
        .qos(QoS::ExactlyOnce)
        .message_id(Some(PacketId::new(7).unwrap()))
        .properties(PublishProperties {
            message_expiry_interval: Some(60),
            user_properties: vec![("k".try_into().unwrap(), "v".try_into().unwrap())],
            ..PublishProperties::default()
        })
        .build()
        .unwrap();
    storage.store_retained(with_properties).unwrap();
    storage.store_retained(msg("site/2/temp", "20")).unwrap();
    storage.store_retained(msg("site/2/temp", "")).unwrap(); // deletes
    storage.store_retained(msg("$SYS/uptime", "5")).unwrap();
    storage.store_retained(msg("gone", "x")).unwrap();
    assert!(storage.delete_retained(&topic("gone")).unwrap());
    for n in 0..5 {
        storage
            .enqueue("c1", qos1("q", &n.to_string(), None))
            .unwrap();
    }
    assert_eq!(storage.dequeue("c1", Some(2)).unwrap().len(), 2);
    storage.enqueue("c2", qos1("q", "other", Some(3))).unwrap();
    let detailed = Subscription::builder(filter("site/+/temp"))
        .qos(QoS::AtLeastOnce)
        .no_local(true)
        .retain_as_published(true)
        .retain_handling(RetainHandling::DoNotSend)
        .subscription_id(Some(SubscriptionId::new(42).unwrap()))
        .build()
        .unwrap();
    storage
        .add_subscription("c1", Subscription::new(filter("a/#"), QoS::AtMostOnce))
        .unwrap();
    assert!(!storage.add_subscription("c1", detailed.clone()).unwrap());
    assert!(
        storage.add_subscription("c1", detailed).unwrap(),
        "replaced"
    );
    storage
        .add_subscription(
            "c2",
            Subscription::new(filter("$share/g/site/#"), QoS::AtLeastOnce),
        )
        .unwrap();
    storage
        .add_subscription("c2", Subscription::new(filter("x"), QoS::AtLeastOnce))
        .unwrap();
    assert!(storage.remove_subscription("c2", &filter("x")).unwrap());

    let subscribers_before = storage.get_subscribers(&topic("site/1/temp")).unwrap();
    let before = storage_state(&storage);
    assert_eq!(before.1.len(), 3);
    // Put the queue back (dequeue took it for the comparison).
    for message in &before.1 {
        storage.enqueue("c1", message.clone()).unwrap();
    }
    storage.close().unwrap();

    let reopened = SqliteStorage::open(&path).unwrap();
    assert_eq!(
        reopened.get_subscribers(&topic("site/1/temp")).unwrap(),
        subscribers_before
    );
    assert_eq!(reopened.queue_length("c2").unwrap(), 1);
    assert_eq!(storage_state(&reopened), before);
    assert_eq!(
        reopened.dequeue("c2", None).unwrap(),
        [qos1("q", "other", Some(3))]
    );
    reopened.close().unwrap();
    let again = SqliteStorage::open(&path).unwrap();
    assert_eq!(again.queue_length("c1").unwrap(), 0, "dequeued for good");
    assert_eq!(again.queue_length("c2").unwrap(), 0);
}

#[test]
fn queue_policies_are_kept_in_the_file() {
    let dir = TempDir::new("storage-policies");
    for (policy, expected) in [
        (QueueFullPolicy::Reject, ["0", "1", "2"]),
        (QueueFullPolicy::DropOldest, ["2", "3", "4"]),
        (QueueFullPolicy::DropNewest, ["0", "1", "2"]),
    ] {
        let path = dir.file(&format!("{policy:?}.db"));
        let config = MemoryStorageConfig {
            max_queue_length: Some(3),
            queue_full: policy,
            limits: IndexLimits::default(),
        };
        let storage = SqliteStorage::open_with(&path, config, Durability::Full).unwrap();
        for n in 0..5 {
            let result = storage.enqueue("c", qos1("t", &n.to_string(), None));
            if policy == QueueFullPolicy::Reject && n >= 3 {
                assert_eq!(result.unwrap_err().kind(), ErrorKind::Storage);
            } else {
                result.unwrap();
            }
        }
        drop(storage); // dropping closes too
        let reopened = SqliteStorage::open_with(&path, config, Durability::Full).unwrap();
        let payloads: Vec<String> = reopened
            .dequeue("c", None)
            .unwrap()
            .iter()
            .map(|m| String::from_utf8(m.payload().to_vec()).unwrap())
            .collect();
        assert_eq!(payloads, expected, "{policy:?}");
    }
}

#[test]
fn a_lowered_queue_limit_keeps_what_was_queued() {
    let dir = TempDir::new("storage-lowered");
    let path = dir.file("storage.db");
    let storage = SqliteStorage::open(&path).unwrap();
    for n in 0..4 {
        storage
            .enqueue("c", qos1("t", &n.to_string(), None))
            .unwrap();
    }
    storage.close().unwrap();
    let config = MemoryStorageConfig {
        max_queue_length: Some(2),
        ..MemoryStorageConfig::default()
    };
    let reopened = SqliteStorage::open_with(&path, config, Durability::ProcessCrashOnly).unwrap();
    assert_eq!(reopened.queue_length("c").unwrap(), 4);
    assert_eq!(reopened.durability(), Durability::ProcessCrashOnly);
    assert!(
        reopened.enqueue("c", qos1("t", "new", None)).is_err(),
        "full until drained"
    );
}

fn session_with_flows() -> Session {
    let mut session = Session::new("c1", ProtocolVersion::V5, false, 600).unwrap();
    session.set_receive_maximums(10, 20).unwrap();
    let mut ids = Vec::new();
    for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce, QoS::ExactlyOnce] {
        let message = Message::builder(topic("out"))
            .payload("p")
            .qos(qos)
            .build()
            .unwrap();
        ids.push(session.send_publish(message).unwrap().message_id().unwrap());
    }
    session.pubrec_received(ids[2]).unwrap(); // now awaiting PUBCOMP
    let incoming = Message::builder(topic("in"))
        .qos(QoS::ExactlyOnce)
        .message_id(Some(PacketId::new(9).unwrap()))
        .build()
        .unwrap();
    session.publish_received(&incoming).unwrap();
    session
}

use mqtt_common::Session;

#[test]
fn sessions_survive_a_reopen_with_their_flows() {
    let dir = TempDir::new("sessions-reopen");
    let path = dir.file("sessions.db");
    let store = SqliteSessionStore::open(&path).unwrap();
    let (_, present) = store
        .create_session("c1", false, 600, ProtocolVersion::V5)
        .unwrap();
    assert!(!present);
    let mut session = session_with_flows();
    store.save_session(&session).unwrap();
    session.mark_disconnected(SystemTime::now());
    store.save_session(&session).unwrap();
    let will = Will {
        message: qos1("status/c1", "offline", None),
        delay_interval: 30,
    };
    store.set_will("c1", will.clone()).unwrap();
    store
        .create_session("c2", false, 0, ProtocolVersion::V311)
        .unwrap();
    store.set_will("c2", Will::new(msg("w", "x"))).unwrap();
    assert!(store.clear_will("c2").unwrap().is_some());
    assert_eq!(store.client_ids().unwrap(), ["c1", "c2"]);
    store.close().unwrap();
    assert_eq!(
        store.get_session("c1").unwrap_err().kind(),
        ErrorKind::Storage
    );

    let reopened = SqliteSessionStore::open(&path).unwrap();
    assert_eq!(reopened.get_session("c1").unwrap().as_ref(), Some(&session));
    assert_eq!(reopened.get_will("c1").unwrap(), Some(will));
    assert_eq!(reopened.get_will("c2").unwrap(), None);
    assert_eq!(reopened.len().unwrap(), 2);

    // The flows go on where they stood, and each step is kept.
    let mut resumed = reopened.get_session("c1").unwrap().unwrap();
    let ids: Vec<PacketId> = resumed.outgoing().map(|(id, _)| id).collect();
    resumed.puback_received(ids[0]).unwrap();
    resumed.pubrec_received(ids[1]).unwrap();
    resumed.pubcomp_received(ids[2]).unwrap();
    resumed.pubrel_received(PacketId::new(9).unwrap()).unwrap();
    reopened.save_session(&resumed).unwrap();
    reopened.close().unwrap();
    let again = SqliteSessionStore::open(&path).unwrap();
    let stored = again.get_session("c1").unwrap().unwrap();
    assert_eq!(stored, resumed);
    assert_eq!((stored.outgoing_count(), stored.incoming_count()), (1, 0));
    let (session, present) = again
        .create_session("c1", true, 0, ProtocolVersion::V5)
        .unwrap();
    assert!(!present, "clean start discards it");
    assert_eq!(session.outgoing_count(), 0);
    assert!(again.delete_session("c2").unwrap());
    again.close().unwrap();
    let last = SqliteSessionStore::open(&path).unwrap();
    assert_eq!(last.get_session("c1").unwrap().unwrap().outgoing_count(), 0);
    assert_eq!(last.client_ids().unwrap(), ["c1"]);
}

#[test]
fn expiry_and_due_wills_are_kept_in_the_file() {
    let dir = TempDir::new("sessions-expiry");
    let path = dir.file("sessions.db");
    let store = SqliteSessionStore::open(&path).unwrap();
    let past = SystemTime::now() - Duration::from_secs(100);
    for (client, expiry, delay) in [("gone", 10, 5), ("kept", 1000, 500), ("will-due", 1000, 5)] {
        let (mut session, _) = store
            .create_session(client, false, expiry, ProtocolVersion::V5)
            .unwrap();
        session.mark_disconnected(past);
        store.save_session(&session).unwrap();
        store
            .set_will(
                client,
                Will {
                    message: msg("w", client),
                    delay_interval: delay,
                },
            )
            .unwrap();
    }
    let now = SystemTime::now();
    let mut due: Vec<String> = store
        .take_due_wills(now)
        .unwrap()
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    due.sort();
    assert_eq!(due, ["gone", "will-due"]);
    assert_eq!(store.expire_sessions(now).unwrap(), ["gone"]);
    drop(store);
    let reopened = SqliteSessionStore::open(&path).unwrap();
    assert_eq!(reopened.client_ids().unwrap(), ["kept", "will-due"]);
    assert!(reopened.get_will("kept").unwrap().is_some());
    assert!(reopened.get_will("will-due").unwrap().is_none());
    assert!(reopened.take_due_wills(now).unwrap().is_empty());
}

#[test]
fn an_invalid_client_id_is_refused_and_nothing_is_written() {
    let dir = TempDir::new("sessions-invalid");
    let store = SqliteSessionStore::open(dir.file("s.db")).unwrap();
    let err = store
        .create_session("bad\0id", false, 0, ProtocolVersion::V5)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation);
    assert!(store.is_empty().unwrap());
    store
        .create_session("fine", false, 0, ProtocolVersion::V5)
        .unwrap();
    assert_eq!(store.len().unwrap(), 1);
}

fn open_error(result: Result<impl std::fmt::Debug, mqtt_common::Error>) -> String {
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
    err.to_string()
}

#[test]
fn a_second_open_is_refused_while_the_first_holds_the_file() {
    let dir = TempDir::new("locked");
    let path = dir.file("storage.db");
    let first = SqliteStorage::open(&path).unwrap();
    let message = open_error(SqliteStorage::open(&path));
    assert!(message.contains("locked"), "{message}");
    assert!(message.contains("storage.db"), "{message}");
    first.close().unwrap();
    SqliteStorage::open(&path).unwrap().close().unwrap();

    let sessions = dir.file("sessions.db");
    let first = SqliteSessionStore::open(&sessions).unwrap();
    assert!(open_error(SqliteSessionStore::open(&sessions)).contains("locked"));
    drop(first);
    SqliteSessionStore::open(&sessions).unwrap();
}

#[test]
fn a_session_keeps_its_owner_across_a_reopen() {
    let dir = TempDir::new("owner");
    let path = dir.file("sessions.db");
    let store = SqliteSessionStore::open(&path).unwrap();
    let (mut session, _) = store
        .create_session("bob-phone", false, 600, ProtocolVersion::V311)
        .unwrap();
    let credentials = AuthCredentials::new("bob-phone")
        .unwrap()
        .with_username("bob")
        .unwrap()
        .with_password(b"secret".as_slice())
        .with_certificate(b"DER bytes".as_slice())
        .with_peer("10.0.0.1:5000");
    session.set_owner(&credentials);
    store.save_session(&session).unwrap();
    store.close().unwrap();

    let reopened = SqliteSessionStore::open(&path).unwrap();
    let owner = reopened.get_session("bob-phone").unwrap().unwrap().owner();
    assert_eq!(owner.client_id(), "bob-phone");
    assert_eq!(owner.username(), Some("bob"));
    assert_eq!(owner.certificate().map(|c| &c[..]), Some(&b"DER bytes"[..]));
    assert_eq!(owner.password(), None, "a password is never stored");
    assert_eq!(owner.peer(), None);
}

#[test]
fn a_schema_1_session_file_is_migrated_and_keeps_its_sessions() {
    let dir = TempDir::new("migrate");
    let path = dir.file("sessions.db");
    // What version 1 of the session store wrote: no owner columns.
    tamper(
        &path,
        "PRAGMA application_id = 1297175379; PRAGMA user_version = 1;
         CREATE TABLE sessions (client_id TEXT PRIMARY KEY NOT NULL, protocol_version INTEGER
           NOT NULL, clean_start INTEGER NOT NULL, expiry_interval INTEGER NOT NULL,
           receive_maximum INTEGER NOT NULL, local_receive_maximum INTEGER NOT NULL,
           next_packet_id INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER
           NOT NULL, disconnected_at INTEGER) WITHOUT ROWID;
         CREATE TABLE outgoing (client_id TEXT NOT NULL, packet_id INTEGER NOT NULL, state
           INTEGER NOT NULL, message BLOB, PRIMARY KEY (client_id, packet_id)) WITHOUT ROWID;
         CREATE TABLE incoming (client_id TEXT NOT NULL, packet_id INTEGER NOT NULL,
           received_at INTEGER NOT NULL, PRIMARY KEY (client_id, packet_id)) WITHOUT ROWID;
         CREATE TABLE wills (client_id TEXT PRIMARY KEY NOT NULL, delay_interval INTEGER NOT
           NULL, message BLOB NOT NULL) WITHOUT ROWID;
         INSERT INTO sessions VALUES ('old', 4, 0, 4294967295, 65535, 65535, 7, 0, 0, 5);",
    );
    let store = SqliteSessionStore::open(&path).unwrap();
    let old = store.get_session("old").unwrap().unwrap();
    assert_eq!(old.expiry_interval(), u32::MAX);
    assert_eq!(old.owner().username(), None, "no owner was recorded then");
    let mut owned = old.clone();
    owned.set_owner(
        &AuthCredentials::new("old")
            .unwrap()
            .with_username("carol")
            .unwrap(),
    );
    store.save_session(&owned).unwrap();
    store.close().unwrap();
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, 2);
    let reopened = SqliteSessionStore::open(&path).unwrap();
    let stored = reopened.get_session("old").unwrap().unwrap();
    assert_eq!(stored.owner().username(), Some("carol"));
}

#[test]
fn a_schema_1_storage_file_is_migrated_and_keeps_its_queues_in_order() {
    let dir = TempDir::new("migrate-storage");
    let path = dir.file("storage.db");
    let record = |payload: &str| {
        // A version 1 message record: format 1, QoS 1, no id, then a 5.0 PUBLISH at QoS 0.
        let mut bytes = vec![
            1_u8,
            1,
            0,
            0,
            0x30,
            (4 + payload.len()) as u8,
            0,
            1,
            b'q',
            0,
        ];
        bytes.extend_from_slice(payload.as_bytes());
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    tamper(
        &path,
        &format!(
            "PRAGMA application_id = 1297175635; PRAGMA user_version = 1;
             CREATE TABLE retained (topic TEXT PRIMARY KEY NOT NULL, message BLOB NOT NULL)
               WITHOUT ROWID;
             CREATE TABLE queued (id INTEGER PRIMARY KEY, client_id TEXT NOT NULL,
               message BLOB NOT NULL);
             CREATE INDEX queued_by_client ON queued (client_id, id);
             CREATE TABLE subscriptions (id INTEGER PRIMARY KEY, client_id TEXT NOT NULL,
               topic_filter TEXT NOT NULL, qos INTEGER NOT NULL, no_local INTEGER NOT NULL,
               retain_as_published INTEGER NOT NULL, retain_handling INTEGER NOT NULL,
               subscription_id INTEGER, UNIQUE (client_id, topic_filter));
             INSERT INTO queued (client_id, message) VALUES ('c1', x'{}'), ('c2', x'{}'),
               ('c1', x'{}');",
            record("first"),
            record("other"),
            record("second")
        ),
    );
    let before = SystemTime::now();
    let storage = SqliteStorage::open(&path).unwrap();
    let queued = storage.queued_messages("c1").unwrap();
    let payloads: Vec<&[u8]> = queued.iter().map(|q| &q.message.payload()[..]).collect();
    assert_eq!(payloads, [b"first".as_slice(), b"second"]);
    assert!(queued[0].seq < queued[1].seq);
    assert!(
        queued.iter().all(|q| q.enqueued_at >= before),
        "old rows count from the open"
    );
    // New entries follow the old ones, and are removed by number.
    let next = queued[1].seq + 1;
    storage
        .enqueue_entry(
            "c1",
            mqtt_common::router::QueuedMessage {
                seq: next,
                message: qos1("q", "third", None),
                enqueued_at: before,
            },
        )
        .unwrap();
    assert!(storage.remove_queued("c1", queued[0].seq).unwrap());
    storage.close().unwrap();
    let reopened = SqliteStorage::open(&path).unwrap();
    let left: Vec<(u64, Vec<u8>)> = reopened
        .queued_messages("c1")
        .unwrap()
        .into_iter()
        .map(|q| (q.seq, q.message.payload().to_vec()))
        .collect();
    assert_eq!(
        left,
        [
            (queued[1].seq, b"second".to_vec()),
            (next, b"third".to_vec())
        ]
    );
    assert_eq!(reopened.dequeue("c2", None).unwrap().len(), 1);
}

fn tamper(path: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(sql).unwrap();
}

#[test]
fn files_that_are_not_ours_or_newer_are_refused() {
    let dir = TempDir::new("refused");
    let path = dir.file("storage.db");
    SqliteStorage::open(&path).unwrap().close().unwrap();
    tamper(&path, "PRAGMA user_version = 99");
    let message = open_error(SqliteStorage::open(&path));
    assert!(
        message.contains("newer version") && message.contains("99"),
        "{message}"
    );

    let sessions = dir.file("sessions.db");
    SqliteSessionStore::open(&sessions)
        .unwrap()
        .close()
        .unwrap();
    let message = open_error(SqliteStorage::open(&sessions));
    assert!(
        message.contains("not the database of an mqtt-common storage"),
        "{message}"
    );
    let message = open_error(SqliteSessionStore::open(&path));
    assert!(message.contains("session store"), "{message}");

    let other = dir.file("other.db");
    tamper(&other, "CREATE TABLE t (x)");
    assert!(open_error(SqliteStorage::open(&other)).contains("not the database"));

    let garbage = dir.file("garbage.db");
    std::fs::write(&garbage, vec![0x5a_u8; 8192]).unwrap();
    let message = open_error(SqliteStorage::open(&garbage));
    assert!(message.contains("not an SQLite database"), "{message}");

    let missing_dir = dir.file("no/such/dir/storage.db");
    assert!(open_error(SqliteStorage::open(&missing_dir)).contains("cannot open"));
}

#[test]
fn unreadable_rows_are_refused_at_open() {
    let dir = TempDir::new("unreadable");
    let path = dir.file("storage.db");
    SqliteStorage::open(&path).unwrap().close().unwrap();
    tamper(
        &path,
        "INSERT INTO retained (topic, message) VALUES ('a/b', x'01000000ff')",
    );
    let message = open_error(SqliteStorage::open(&path));
    assert!(message.contains("retained topic \"a/b\""), "{message}");

    let sessions = dir.file("sessions.db");
    let store = SqliteSessionStore::open(&sessions).unwrap();
    store
        .create_session("c", false, 10, ProtocolVersion::V5)
        .unwrap();
    store.close().unwrap();
    tamper(&sessions, "UPDATE sessions SET protocol_version = 9");
    let message = open_error(SqliteSessionStore::open(&sessions));
    assert!(
        message.contains("protocol_version") && message.contains("\"c\""),
        "{message}"
    );
    tamper(
        &sessions,
        "UPDATE sessions SET protocol_version = 5, receive_maximum = 0",
    );
    assert!(open_error(SqliteSessionStore::open(&sessions)).contains("unreadable"));
}

#[test]
fn concurrent_writers_lose_nothing_and_keep_each_queue_in_order() {
    let dir = TempDir::new("concurrent");
    let path = dir.file("storage.db");
    let storage = Arc::new(
        SqliteStorage::open_with(
            &path,
            MemoryStorageConfig::default(),
            Durability::ProcessCrashOnly,
        )
        .unwrap(),
    );
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let storage = Arc::clone(&storage);
            std::thread::spawn(move || {
                let client = format!("client-{t}");
                for n in 0..100 {
                    storage
                        .enqueue(&client, qos1("q", &n.to_string(), None))
                        .unwrap();
                    storage
                        .store_retained(msg(&format!("r/{t}"), &n.to_string()))
                        .unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    storage.close().unwrap();
    let reopened = SqliteStorage::open(&path).unwrap();
    for t in 0..16 {
        let payloads: Vec<String> = reopened
            .dequeue(&format!("client-{t}"), None)
            .unwrap()
            .iter()
            .map(|m| String::from_utf8(m.payload().to_vec()).unwrap())
            .collect();
        let expected: Vec<String> = (0..100).map(|n: i32| n.to_string()).collect();
        assert_eq!(payloads, expected);
        let retained = reopened.get_retained(&filter(&format!("r/{t}"))).unwrap();
        assert_eq!(&retained[0].payload()[..], b"99");
    }
}

#[test]
fn a_closed_store_refuses_calls() {
    let dir = TempDir::new("closed");
    let storage = SqliteStorage::open(dir.file("s.db")).unwrap();
    storage.close().unwrap();
    storage.close().unwrap(); // twice is harmless
    for result in [
        storage.store_retained(msg("a", "b")).map(drop),
        storage.get_retained(&filter("#")).map(drop),
        storage.enqueue("c", msg("a", "b")).map(drop),
        storage.queue_length("c").map(drop),
    ] {
        assert_eq!(result.unwrap_err().kind(), ErrorKind::Storage);
    }
}

#[test]
fn started_writes_are_answered_once_committed_in_order() {
    use mqtt_common::sqlite::{StorageWrite, StorageWritten};
    use std::sync::mpsc;
    let dir = TempDir::new("storage-started");
    let config = MemoryStorageConfig {
        max_queue_length: Some(150),
        queue_full: QueueFullPolicy::Reject,
        limits: IndexLimits::default(),
    };
    let storage = SqliteStorage::open_with(dir.file("s.db"), config, Durability::Full).unwrap();
    let (answers, answered) = mpsc::channel();
    for n in 0..200_u32 {
        let answers = answers.clone();
        let write = StorageWrite::Enqueue {
            client_id: "c".to_owned(),
            message: qos1("t", &n.to_string(), None),
        };
        storage
            .start(write, move |answer| answers.send((n, answer)).unwrap())
            .unwrap();
    }
    let mut results: Vec<(u32, Result<StorageWritten, mqtt_common::Error>)> = (0..200)
        .map(|_| answered.recv_timeout(Duration::from_secs(10)).unwrap())
        .collect();
    results.sort_by_key(|(n, _)| *n);
    for (n, answer) in &results {
        match answer {
            Ok(written) => {
                assert!(*n < 150, "{n}");
                assert_eq!(*written, StorageWritten::Done);
            }
            Err(err) => {
                assert!(*n >= 150, "{n}: {err}");
                assert_eq!(err.kind(), ErrorKind::Storage); // the queue is full
            }
        }
    }
    // Nothing to commit: answered at once, on this thread.
    let (taken_tx, taken) = mpsc::channel();
    let write = StorageWrite::Dequeue {
        client_id: "nobody".to_owned(),
        limit: None,
    };
    storage
        .start(write, move |answer| taken_tx.send(answer).unwrap())
        .unwrap();
    assert_eq!(
        taken.try_recv().unwrap().unwrap(),
        StorageWritten::Messages(vec![])
    );
    storage.close().unwrap();
    let reopened = SqliteStorage::open_with(dir.file("s.db"), config, Durability::Full).unwrap();
    let payloads: Vec<String> = reopened
        .dequeue("c", None)
        .unwrap()
        .iter()
        .map(|m| String::from_utf8(m.payload().to_vec()).unwrap())
        .collect();
    assert_eq!(
        payloads,
        (0..150).map(|n| n.to_string()).collect::<Vec<_>>()
    );
    reopened.close().unwrap();
    let closed = reopened.start(
        StorageWrite::StoreRetained {
            message: msg("a", "b"),
            arrived_at: SystemTime::now(),
        },
        |_| {},
    );
    assert_eq!(closed.unwrap_err().kind(), ErrorKind::Storage);
}
