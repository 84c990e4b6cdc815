//! The asynchronous family: the contract kits over the adapted Memory, SQLite and
//! file-auth backends (inline and on the blocking pool), and what the adapters add.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use mqtt_common::asynchronous::{Blocking, Inline};
use mqtt_common::auth::{FileAuth, HashKind, hash_password};
use mqtt_common::testing::{AuthExamples, auth_contract, session_contract, storage_contract};
use mqtt_common::{
    Action, AsyncAuthInterface, AsyncSessionInterface, AsyncStorageInterface, AuthCredentials,
    AuthInterface, Error, MemorySessionStore, MemoryStorage, Message, ProtocolVersion, Session,
    SessionInterface, SqliteSessionStore, SqliteStorage, StorageInterface, TopicFilter, TopicName,
    Will,
};
use pollster::block_on;

/// A directory of its own for each use, removed at the end of the test.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "mqtt-common-async-{name}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("a scratch directory");
        Self(path)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn memory_backends_keep_the_contract_inline_and_on_the_pool() {
    block_on(storage_contract(|| Inline::new(MemoryStorage::new())));
    block_on(storage_contract(|| Blocking::new(MemoryStorage::new())));
    block_on(session_contract(|| Inline::new(MemorySessionStore::new())));
    block_on(session_contract(
        || Blocking::new(MemorySessionStore::new()),
    ));
}

#[test]
fn sqlite_backends_keep_the_contract_on_the_pool() {
    let scratch = Scratch::new("sqlite");
    let n = AtomicUsize::new(0);
    let path =
        |kind: &str| scratch.file(&format!("{kind}-{}.db", n.fetch_add(1, Ordering::Relaxed)));
    block_on(storage_contract(|| {
        Blocking::new(SqliteStorage::open(path("storage")).expect("a new SQLite storage"))
    }));
    block_on(session_contract(|| {
        Blocking::new(SqliteSessionStore::open(path("sessions")).expect("a new session store"))
    }));
}

#[test]
fn sqlite_stores_keep_the_contract_natively() {
    let scratch = Scratch::new("native");
    let n = AtomicUsize::new(0);
    let path =
        |kind: &str| scratch.file(&format!("{kind}-{}.db", n.fetch_add(1, Ordering::Relaxed)));
    block_on(storage_contract(|| {
        SqliteStorage::open(path("storage")).expect("a new SQLite storage")
    }));
    block_on(session_contract(|| {
        SqliteSessionStore::open(path("sessions")).expect("a new session store")
    }));
}

#[test]
fn native_sqlite_writes_are_answered_by_the_stores_writer_not_a_thread_each() {
    let scratch = Scratch::new("started");
    let storage = SqliteStorage::open(scratch.file("s.db")).expect("a new SQLite storage");
    // Started together, before anything waits: each is queued to the store's writer,
    // which commits them together and completes every future itself.
    let writes: Vec<_> = (0..200)
        .map(|i| {
            let topic = TopicName::new(&format!("t/{i}")).expect("topic");
            let message = Message::new(topic, "x").expect("message");
            AsyncStorageInterface::store_retained(&storage, message)
        })
        .collect();
    for write in writes {
        block_on(write).expect("a committed write");
    }
    let all = TopicFilter::new("t/#").expect("filter");
    assert_eq!(
        StorageInterface::get_retained(&storage, &all)
            .expect("read")
            .len(),
        200
    );
    let sessions = SqliteSessionStore::open(scratch.file("n.db")).expect("a session store");
    let ids: Vec<String> = (0..50).map(|i| format!("c{i}")).collect();
    let created: Vec<_> = ids
        .iter()
        .map(|id| {
            AsyncSessionInterface::create_session(&sessions, id, false, 60, ProtocolVersion::V5)
        })
        .collect();
    for creation in created {
        let (session, present) = block_on(creation).expect("a committed session");
        assert!(!present, "{} was new", session.client_id());
    }
    assert_eq!(sessions.len().expect("a count"), 50);
}

fn file_auth(dir: &Path, passwords: &str, acl: &str) -> FileAuth {
    std::fs::write(dir.join("passwd"), passwords).expect("password file");
    std::fs::write(dir.join("acl"), acl).expect("ACL file");
    FileAuth::new(false)
        .with_password_file(dir.join("passwd"))
        .and_then(|auth| auth.with_acl_file(dir.join("acl")))
        .expect("the files are valid")
}

fn examples() -> AuthExamples {
    let alice = AuthCredentials::new("phone")
        .and_then(|c| c.with_username("alice"))
        .expect("credentials");
    let bob = AuthCredentials::new("laptop")
        .and_then(|c| c.with_username("bob"))
        .expect("credentials");
    AuthExamples {
        accepted: alice.clone().with_password(b"s3cret".as_slice()),
        rejected: alice.clone().with_password(b"guess".as_slice()),
        allowed: (alice.clone(), "alice/phone".to_owned(), Action::Publish),
        denied: (bob, "alice/phone".to_owned(), Action::Publish),
    }
}

#[test]
fn file_auth_keeps_the_contract_inline_and_on_the_pool() {
    let configured = Scratch::new("auth");
    let empty = Scratch::new("auth-empty");
    let hash =
        hash_password(b"s3cret", HashKind::Sha512Pbkdf2 { iterations: 101 }).expect("a hash");
    let passwords = format!("alice:{hash}\nbob:{hash}\n");
    let acl = "user alice\ntopic readwrite alice/#\nuser bob\ntopic read bob/#\n";
    let make = || file_auth(&configured.0, &passwords, acl);
    let unconfigured = || file_auth(&empty.0, "", "");
    block_on(auth_contract(
        &Inline::new(make()),
        &Inline::new(unconfigured()),
        &examples(),
    ));
    block_on(auth_contract(
        &Blocking::new(make()),
        &Blocking::new(unconfigured()),
        &examples(),
    ));
}

/// A provider whose `authenticate` waits until `expected` calls are in it at once (or
/// five seconds pass): true only if they were.
struct Together {
    inside: Mutex<usize>,
    all_in: Condvar,
    expected: usize,
}

impl AuthInterface for Together {
    fn authenticate(&self, _: &AuthCredentials) -> Result<bool, Error> {
        let mut inside = self.inside.lock().expect("lock");
        *inside += 1;
        self.all_in.notify_all();
        let (inside, _) = self
            .all_in
            .wait_timeout_while(inside, Duration::from_secs(5), |n| *n < self.expected)
            .expect("lock");
        Ok(*inside >= self.expected)
    }

    fn authorize(&self, _: &AuthCredentials, _: &str, _: Action) -> Result<bool, Error> {
        Ok(true)
    }
}

fn together(expected: usize) -> Together {
    Together {
        inside: Mutex::new(0),
        all_in: Condvar::new(),
        expected,
    }
}

#[test]
fn blocking_calls_wait_on_the_pool_side_by_side_not_on_the_caller() {
    let provider = Blocking::new(together(8));
    let credentials = AuthCredentials::new("c").expect("credentials");
    // Eight calls that each wait for the other seven: made one after another on the
    // caller's thread, the first would wait alone and answer false.
    let calls: Vec<_> = (0..8)
        .map(|_| provider.authenticate(&credentials))
        .collect();
    for call in calls {
        assert!(
            block_on(call).expect("a call"),
            "the calls did not run side by side"
        );
    }
}

#[test]
fn the_async_traits_are_object_safe_and_their_futures_send() {
    fn assert_send<T: Send>(_: &T) {}
    let storage: Box<dyn AsyncStorageInterface> = Box::new(Inline::new(MemoryStorage::new()));
    let future = storage.queue_length("c1");
    assert_send(&future);
    assert_eq!(block_on(future).expect("a length"), 0);
    let auth: std::sync::Arc<dyn AsyncAuthInterface> =
        std::sync::Arc::new(Blocking::new(together(1)));
    let credentials = AuthCredentials::new("c").expect("credentials");
    let knows = auth.knows(&credentials);
    assert_send(&knows);
    assert!(block_on(knows).expect("an answer"));
}

/// Allows everything: what the auth kit must catch.
struct AllowAll;

impl AuthInterface for AllowAll {
    fn authenticate(&self, _: &AuthCredentials) -> Result<bool, Error> {
        Ok(true)
    }

    fn authorize(&self, _: &AuthCredentials, _: &str, _: Action) -> Result<bool, Error> {
        Ok(true)
    }
}

/// A session store that forgets Wills: what the session kit must catch.
struct NoWills(MemorySessionStore);

impl SessionInterface for NoWills {
    fn create_session(
        &self,
        client_id: &str,
        clean_start: bool,
        expiry_interval: u32,
        protocol_version: ProtocolVersion,
    ) -> Result<(Session, bool), Error> {
        self.0
            .create_session(client_id, clean_start, expiry_interval, protocol_version)
    }

    fn get_session(&self, client_id: &str) -> Result<Option<Session>, Error> {
        self.0.get_session(client_id)
    }

    fn save_session(&self, session: &Session) -> Result<(), Error> {
        self.0.save_session(session)
    }

    fn delete_session(&self, client_id: &str) -> Result<bool, Error> {
        self.0.delete_session(client_id)
    }

    fn set_will(&self, _: &str, _: Will) -> Result<(), Error> {
        Ok(())
    }

    fn get_will(&self, client_id: &str) -> Result<Option<Will>, Error> {
        self.0.get_will(client_id)
    }

    fn clear_will(&self, client_id: &str) -> Result<Option<Will>, Error> {
        self.0.clear_will(client_id)
    }

    fn client_ids(&self) -> Result<Vec<String>, Error> {
        self.0.client_ids()
    }
}

#[test]
fn the_kits_catch_a_backend_that_breaks_the_contract() {
    let broken_auth = std::panic::catch_unwind(|| {
        block_on(auth_contract(
            &Inline::new(AllowAll),
            &Inline::new(AllowAll),
            &examples(),
        ));
    });
    let message = broken_auth.expect_err("a provider that allows everything passed");
    let text = message
        .downcast_ref::<String>()
        .map(String::as_str)
        .unwrap_or_default();
    assert!(text.contains("authenticate"), "{text}");
    let broken_store = std::panic::catch_unwind(|| {
        block_on(session_contract(|| {
            Inline::new(NoWills(MemorySessionStore::new()))
        }));
    });
    let message = broken_store.expect_err("a store without Wills passed");
    let text = message
        .downcast_ref::<String>()
        .map(String::as_str)
        .unwrap_or_default();
    assert!(text.contains("wills"), "{text}");
}
