//! [`SqliteSessionStore`]: [`MemorySessionStore`]'s behaviour, kept in an SQLite file.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use rusqlite::{Connection, Transaction, params};

use crate::constants::ProtocolVersion;
use crate::error::Error;
use crate::message::Will;
use crate::packet_id::PacketId;
use crate::records::{decode_message, encode_message, nanos, narrow, time};
use crate::session::SessionParts;
use crate::session::{InFlight, MemorySessionStore, OutgoingState, Session, SessionInterface};
use crate::sqlite::Durability;
use crate::sqlite::database::{self, Schema, failed};
use crate::sqlite::writer::{Failure, Mirror, Writer};

/// The session store's tables: a row per session, per message in flight each way, and
/// per Will. Schema version 2 adds the session's owner (user name and client
/// certificate), so that decisions taken while the client is away are its owner's, and
/// the tag of each outgoing flow (a router's entry), so that a restart knows which queued
/// message each flow carries.
const SCHEMA: Schema = Schema {
    kind: "session store",
    application_id: 0x4D51_5353, // "MQSS"
    migrations: &[
        "
        CREATE TABLE sessions (
            client_id TEXT PRIMARY KEY NOT NULL,
            protocol_version INTEGER NOT NULL,
            clean_start INTEGER NOT NULL,
            expiry_interval INTEGER NOT NULL,
            receive_maximum INTEGER NOT NULL,
            local_receive_maximum INTEGER NOT NULL,
            next_packet_id INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            disconnected_at INTEGER
        ) WITHOUT ROWID;
        CREATE TABLE outgoing (
            client_id TEXT NOT NULL,
            packet_id INTEGER NOT NULL,
            state INTEGER NOT NULL,
            message BLOB,
            PRIMARY KEY (client_id, packet_id)
        ) WITHOUT ROWID;
        CREATE TABLE incoming (
            client_id TEXT NOT NULL,
            packet_id INTEGER NOT NULL,
            received_at INTEGER NOT NULL,
            PRIMARY KEY (client_id, packet_id)
        ) WITHOUT ROWID;
        CREATE TABLE wills (
            client_id TEXT PRIMARY KEY NOT NULL,
            delay_interval INTEGER NOT NULL,
            message BLOB NOT NULL
        ) WITHOUT ROWID;
    ",
        "
        ALTER TABLE sessions ADD COLUMN username TEXT;
        ALTER TABLE sessions ADD COLUMN certificate BLOB;
        ALTER TABLE outgoing ADD COLUMN tag INTEGER;
    ",
    ],
};

/// Sessions (with their QoS 1 and 2 flows in flight both ways, and their expiry) and
/// Wills (with their delay), kept in an SQLite file: [`MemorySessionStore`]'s behaviour,
/// surviving the process.
///
/// The durability contract, the group commit, the single-process lock and the reads
/// served from memory are [`SqliteStorage`](crate::SqliteStorage)'s. Saving a session
/// writes only what changed since the stored one (its row, and the flows that began or
/// moved on).
///
/// # Examples
/// ```
/// use mqtt_common::{ProtocolVersion, SessionInterface, SqliteSessionStore};
/// let dir = std::env::temp_dir().join(format!("mqtt-common-doc-s-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("sessions.db");
/// # let _ = std::fs::remove_file(&path);
/// let store = SqliteSessionStore::open(&path)?;
/// let (session, _) = store.create_session("c1", false, 3600, ProtocolVersion::V5)?;
/// store.save_session(&session)?;
/// store.close()?;
///
/// let reopened = SqliteSessionStore::open(&path)?;
/// let (_, present) = reopened.create_session("c1", false, 3600, ProtocolVersion::V5)?;
/// assert!(present, "the session survived the restart");
/// # reopened.close()?;
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), mqtt_common::Error>(())
/// ```
pub struct SqliteSessionStore {
    mirror: Arc<MemorySessionStore>,
    writer: Writer<MemorySessionStore>,
    path: PathBuf,
    durability: Durability,
    closed: AtomicBool,
}

impl fmt::Debug for SqliteSessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteSessionStore")
            .field("path", &self.path)
            .field("durability", &self.durability)
            .finish_non_exhaustive()
    }
}

/// What a store holds for one client.
#[derive(Debug, Default, PartialEq)]
struct Entry {
    session: Option<Session>,
    will: Option<Will>,
}

impl Entry {
    fn of(mirror: &MemorySessionStore, client_id: &str) -> Result<Self, Failure> {
        Ok(Self {
            session: mirror.get_session(client_id).map_err(Failure::Refused)?,
            will: mirror.get_will(client_id).map_err(Failure::Refused)?,
        })
    }
}

impl SqliteSessionStore {
    /// Opens the session store in the file at `path` (created if missing), with
    /// [`Durability::Full`].
    ///
    /// # Errors
    /// As [`SqliteStorage::open`](crate::SqliteStorage::open).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::open_with(path, Durability::Full)
    }

    /// Opens the session store at `path` with this durability.
    ///
    /// # Errors
    /// As [`SqliteStorage::open`](crate::SqliteStorage::open).
    pub fn open_with(path: impl AsRef<Path>, durability: Durability) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let conn = database::open(&path, &SCHEMA, durability)?;
        let mirror = Arc::new(MemorySessionStore::load(&conn, &MemorySessionStore::new())?);
        let writer = Writer::new(conn, Arc::clone(&mirror), SCHEMA.kind);
        Ok(Self {
            mirror,
            writer,
            path,
            durability,
            closed: AtomicBool::new(false),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What a returned call survives.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// How many sessions are stored.
    ///
    /// # Errors
    /// a storage error once closed.
    pub fn len(&self) -> Result<usize, Error> {
        self.read()?.len()
    }

    /// Whether no session is stored.
    ///
    /// # Errors
    /// a storage error once closed.
    pub fn is_empty(&self) -> Result<bool, Error> {
        Ok(self.len()? == 0)
    }

    /// As [`MemorySessionStore::expire_sessions`], kept in the file.
    ///
    /// # Errors
    /// a storage error if the database failed (nothing was removed) or once closed.
    pub fn expire_sessions(&self, now: SystemTime) -> Result<Vec<String>, Error> {
        self.writer.call(move |txn, mirror| {
            let expired = mirror.expire_sessions(now).map_err(Failure::Refused)?;
            for client_id in &expired {
                delete_session_rows(txn, client_id)?;
                txn.prepare_cached("DELETE FROM wills WHERE client_id = ?1")?
                    .execute([client_id])?;
            }
            Ok(expired)
        })
    }

    /// As [`MemorySessionStore::take_due_wills`], kept in the file.
    ///
    /// # Errors
    /// a storage error if the database failed (no Will was taken) or once closed.
    pub fn take_due_wills(&self, now: SystemTime) -> Result<Vec<(String, Will)>, Error> {
        self.writer.call(move |txn, mirror| {
            let due = mirror.take_due_wills(now).map_err(Failure::Refused)?;
            for (client_id, _) in &due {
                txn.prepare_cached("DELETE FROM wills WHERE client_id = ?1")?
                    .execute([client_id])?;
            }
            Ok(due)
        })
    }

    /// Commits what is pending, folds the WAL into the file and releases its lock;
    /// later calls fail with a storage error. Closing twice is harmless.
    ///
    /// # Errors
    /// a storage error if the last commit failed.
    pub fn close(&self) -> Result<(), Error> {
        self.closed.store(true, Ordering::Release);
        self.writer.close()
    }

    fn read(&self) -> Result<&MemorySessionStore, Error> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::storage("the session store is closed"));
        }
        Ok(&self.mirror)
    }

    /// Runs a change on the mirror and writes what it changed for `client_id`.
    fn change<R, F>(&self, client_id: &str, change: F) -> Result<R, Error>
    where
        F: FnOnce(&MemorySessionStore) -> Result<R, Error> + Send + 'static,
        R: Send + 'static,
    {
        self.writer.call(change_work(client_id, change))
    }

    /// Starts [`change`](Self::change) without waiting: `done` gets its result once it
    /// is committed (see [`Writer::start`]).
    pub(super) fn start_change<R, F, D>(
        &self,
        client_id: &str,
        change: F,
        done: D,
    ) -> Result<(), Error>
    where
        F: FnOnce(&MemorySessionStore) -> Result<R, Error> + Send + 'static,
        R: Send + 'static,
        D: FnOnce(Result<R, Error>) + Send + 'static,
    {
        self.writer.start(change_work(client_id, change), done)
    }
}

impl Drop for SqliteSessionStore {
    fn drop(&mut self) {
        let _ = self.writer.close();
    }
}

impl SessionInterface for SqliteSessionStore {
    fn create_session(
        &self,
        client_id: &str,
        clean_start: bool,
        expiry_interval: u32,
        protocol_version: ProtocolVersion,
    ) -> Result<(Session, bool), Error> {
        let id = client_id.to_owned();
        self.change(client_id, move |mirror| {
            mirror.create_session(&id, clean_start, expiry_interval, protocol_version)
        })
    }

    fn get_session(&self, client_id: &str) -> Result<Option<Session>, Error> {
        self.read()?.get_session(client_id)
    }

    fn save_session(&self, session: &Session) -> Result<(), Error> {
        let session = session.clone();
        let client_id = session.client_id().to_owned();
        self.change(&client_id, move |mirror| mirror.save_session(&session))
    }

    fn delete_session(&self, client_id: &str) -> Result<bool, Error> {
        let id = client_id.to_owned();
        self.change(client_id, move |mirror| mirror.delete_session(&id))
    }

    fn set_will(&self, client_id: &str, will: Will) -> Result<(), Error> {
        let id = client_id.to_owned();
        self.change(client_id, move |mirror| mirror.set_will(&id, will))
    }

    fn get_will(&self, client_id: &str) -> Result<Option<Will>, Error> {
        self.read()?.get_will(client_id)
    }

    fn clear_will(&self, client_id: &str) -> Result<Option<Will>, Error> {
        if self.read()?.get_will(client_id)?.is_none() {
            return Ok(None); // nothing to write: no transaction to wait for
        }
        let id = client_id.to_owned();
        self.change(client_id, move |mirror| mirror.clear_will(&id))
    }

    fn client_ids(&self) -> Result<Vec<String>, Error> {
        self.read()?.client_ids()
    }
}

/// The transaction work of a change for `client_id`: the mirror changed, then the rows
/// that differ written.
fn change_work<R, F>(
    client_id: &str,
    change: F,
) -> impl FnOnce(&Transaction<'_>, &MemorySessionStore) -> Result<R, Failure> + Send + 'static
where
    F: FnOnce(&MemorySessionStore) -> Result<R, Error> + Send + 'static,
    R: Send + 'static,
{
    let client_id = client_id.to_owned();
    move |txn, mirror| {
        let before = Entry::of(mirror, &client_id)?;
        let result = change(mirror).map_err(Failure::Refused)?;
        let after = Entry::of(mirror, &client_id)?;
        write_changes(txn, &client_id, &before, &after)?;
        Ok(result)
    }
}

fn delete_session_rows(txn: &Transaction<'_>, client_id: &str) -> Result<(), Failure> {
    for table in [
        "DELETE FROM sessions WHERE client_id = ?1",
        "DELETE FROM outgoing WHERE client_id = ?1",
        "DELETE FROM incoming WHERE client_id = ?1",
    ] {
        txn.prepare_cached(table)?.execute([client_id])?;
    }
    Ok(())
}

/// Writes what differs between what the store held for a client and what it holds now.
fn write_changes(
    txn: &Transaction<'_>,
    client_id: &str,
    before: &Entry,
    after: &Entry,
) -> Result<(), Failure> {
    match (&before.session, &after.session) {
        (Some(_), None) => delete_session_rows(txn, client_id)?,
        (old, Some(new)) if old.as_ref() != Some(new) => write_session(txn, old.as_ref(), new)?,
        _ => {}
    }
    if before.will != after.will {
        match &after.will {
            None => {
                txn.prepare_cached("DELETE FROM wills WHERE client_id = ?1")?
                    .execute([client_id])?;
            }
            Some(will) => {
                let record = encode_message(&will.message).map_err(Failure::Refused)?;
                txn.prepare_cached(
                    "INSERT OR REPLACE INTO wills (client_id, delay_interval, message) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![client_id, will.delay_interval, record])?;
            }
        }
    }
    Ok(())
}

fn state_code(state: OutgoingState) -> u8 {
    match state {
        OutgoingState::AwaitingPuback => 1,
        OutgoingState::AwaitingPubrec => 2,
        OutgoingState::AwaitingPubcomp => 3,
    }
}

fn state_of(code: i64) -> Option<OutgoingState> {
    match code {
        1 => Some(OutgoingState::AwaitingPuback),
        2 => Some(OutgoingState::AwaitingPubrec),
        3 => Some(OutgoingState::AwaitingPubcomp),
        _ => None,
    }
}

/// Writes a session's row and the flows that differ from `old`'s.
fn write_session(
    txn: &Transaction<'_>,
    old: Option<&Session>,
    new: &Session,
) -> Result<(), Failure> {
    let parts = new.to_parts();
    let client_id = parts.client_id.as_str();
    txn.prepare_cached(
        "INSERT OR REPLACE INTO sessions (client_id, protocol_version, clean_start, \
         expiry_interval, receive_maximum, local_receive_maximum, next_packet_id, created_at, \
         updated_at, disconnected_at, username, certificate) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        client_id,
        parts.protocol_version as u8,
        parts.clean_start,
        parts.expiry_interval,
        parts.receive_maximum,
        parts.local_receive_maximum,
        parts.next_packet_id,
        nanos(parts.created_at),
        nanos(parts.updated_at),
        parts.disconnected_at.map(nanos),
        parts.username,
        parts.certificate.as_deref(),
    ])?;
    let (old_outgoing, old_incoming) = match old {
        Some(old) => {
            let parts = old.to_parts();
            (parts.outgoing, parts.incoming)
        }
        None => (BTreeMap::new(), BTreeMap::new()),
    };
    for id in old_outgoing
        .keys()
        .filter(|id| !parts.outgoing.contains_key(id))
    {
        txn.prepare_cached("DELETE FROM outgoing WHERE client_id = ?1 AND packet_id = ?2")?
            .execute(params![client_id, id.get()])?;
    }
    for (id, flight) in &parts.outgoing {
        if old_outgoing.get(id) == Some(flight) {
            continue;
        }
        let record = flight
            .message
            .as_ref()
            .map(encode_message)
            .transpose()
            .map_err(Failure::Refused)?;
        txn.prepare_cached(
            "INSERT OR REPLACE INTO outgoing (client_id, packet_id, state, message, tag) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            client_id,
            id.get(),
            state_code(flight.state),
            record,
            flight.tag.map(u64::cast_signed)
        ])?;
    }
    for id in old_incoming
        .keys()
        .filter(|id| !parts.incoming.contains_key(id))
    {
        txn.prepare_cached("DELETE FROM incoming WHERE client_id = ?1 AND packet_id = ?2")?
            .execute(params![client_id, id.get()])?;
    }
    for (id, received_at) in &parts.incoming {
        if old_incoming.get(id) == Some(received_at) {
            continue;
        }
        txn.prepare_cached(
            "INSERT OR REPLACE INTO incoming (client_id, packet_id, received_at) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![client_id, id.get(), nanos(*received_at)])?;
    }
    Ok(())
}

impl Mirror for MemorySessionStore {
    fn load(conn: &Connection, _like: &Self) -> Result<Self, Error> {
        let reading = |e| failed("cannot read the session store", e);
        let store = Self::new();
        let mut outgoing: HashMap<String, BTreeMap<PacketId, InFlight>> = HashMap::new();
        let mut statement = conn
            .prepare("SELECT client_id, packet_id, state, message, tag FROM outgoing")
            .map_err(reading)?;
        let mut rows = statement.query([]).map_err(reading)?;
        while let Some(row) = rows.next().map_err(reading)? {
            let client_id: String = row.get(0).map_err(reading)?;
            let packet_id: i64 = row.get(1).map_err(reading)?;
            let whose = format!("the flow {packet_id} of {client_id:?}");
            let id: PacketId = narrow(packet_id, "packet_id", &whose)?;
            let code: i64 = row.get(2).map_err(reading)?;
            let state = state_of(code).ok_or_else(|| {
                Error::storage(format!("the stored state of {whose} is unknown: {code}"))
            })?;
            let message = row
                .get::<_, Option<Vec<u8>>>(3)
                .map_err(reading)?
                .map(|record| decode_message(record, &whose))
                .transpose()?;
            outgoing.entry(client_id).or_default().insert(
                id,
                InFlight {
                    state,
                    message,
                    tag: row
                        .get::<_, Option<i64>>(4)
                        .map_err(reading)?
                        .map(i64::cast_unsigned),
                },
            );
        }
        let mut incoming: HashMap<String, BTreeMap<PacketId, SystemTime>> = HashMap::new();
        let mut statement = conn
            .prepare("SELECT client_id, packet_id, received_at FROM incoming")
            .map_err(reading)?;
        let mut rows = statement.query([]).map_err(reading)?;
        while let Some(row) = rows.next().map_err(reading)? {
            let client_id: String = row.get(0).map_err(reading)?;
            let packet_id: i64 = row.get(1).map_err(reading)?;
            let id: PacketId = narrow(
                packet_id,
                "packet_id",
                &format_args!("an incoming flow of {client_id:?}"),
            )?;
            let received_at = time(row.get(2).map_err(reading)?);
            incoming
                .entry(client_id)
                .or_default()
                .insert(id, received_at);
        }
        let mut statement = conn
            .prepare(
                "SELECT client_id, protocol_version, clean_start, expiry_interval, receive_maximum, \
                 local_receive_maximum, next_packet_id, created_at, updated_at, disconnected_at, \
                 username, certificate FROM sessions",
            )
            .map_err(reading)?;
        let mut rows = statement.query([]).map_err(reading)?;
        while let Some(row) = rows.next().map_err(reading)? {
            let client_id: String = row.get(0).map_err(reading)?;
            let whose = format!("the session of {client_id:?}");
            let parts = SessionParts {
                protocol_version: narrow(row.get(1).map_err(reading)?, "protocol_version", &whose)?,
                clean_start: row.get(2).map_err(reading)?,
                expiry_interval: narrow(row.get(3).map_err(reading)?, "expiry_interval", &whose)?,
                receive_maximum: narrow(row.get(4).map_err(reading)?, "receive_maximum", &whose)?,
                local_receive_maximum: narrow(
                    row.get(5).map_err(reading)?,
                    "local_receive_maximum",
                    &whose,
                )?,
                next_packet_id: narrow(row.get(6).map_err(reading)?, "next_packet_id", &whose)?,
                created_at: time(row.get(7).map_err(reading)?),
                updated_at: time(row.get(8).map_err(reading)?),
                disconnected_at: row.get::<_, Option<i64>>(9).map_err(reading)?.map(time),
                username: row.get(10).map_err(reading)?,
                certificate: row
                    .get::<_, Option<Vec<u8>>>(11)
                    .map_err(reading)?
                    .map(bytes::Bytes::from),
                outgoing: outgoing.remove(&client_id).unwrap_or_default(),
                incoming: incoming.remove(&client_id).unwrap_or_default(),
                client_id,
            };
            let session = Session::from_parts(parts)
                .map_err(|e| Error::storage(format!("{whose} is unreadable: {e}")))?;
            store.save_session(&session)?;
        }
        let mut statement = conn
            .prepare("SELECT client_id, delay_interval, message FROM wills")
            .map_err(reading)?;
        let mut rows = statement.query([]).map_err(reading)?;
        while let Some(row) = rows.next().map_err(reading)? {
            let client_id: String = row.get(0).map_err(reading)?;
            let whose = format!("the Will of {client_id:?}");
            let will = Will {
                delay_interval: narrow(row.get(1).map_err(reading)?, "delay_interval", &whose)?,
                message: decode_message(row.get(2).map_err(reading)?, &whose)?,
            };
            store.set_will(&client_id, will)?;
        }
        Ok(store)
    }

    fn replace_contents(&self, other: Self) -> Result<(), Error> {
        MemorySessionStore::replace_contents(self, other)
    }
}
