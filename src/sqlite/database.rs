//! Opening a store's database file: SQLite's settings, the lock that keeps every other
//! connection out, and the schema's version and migrations.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::error::Error;
use crate::sqlite::Durability;

/// What a store keeps in its file: which store it is, and how to bring a file up to the
/// schema this version writes.
pub(crate) struct Schema {
    /// Which store the file belongs to, in messages ("storage", "session store").
    pub(crate) kind: &'static str,
    /// SQLite's `application_id`: tells this store's files from any other.
    pub(crate) application_id: i32,
    /// `migrations[n]` brings a file from schema version `n` to `n + 1`; the file's
    /// `user_version` records where it stands.
    pub(crate) migrations: &'static [&'static str],
}

impl Schema {
    /// The schema version this version of the library writes.
    pub(crate) fn version(&self) -> i64 {
        i64::try_from(self.migrations.len()).unwrap_or(i64::MAX)
    }
}

/// A storage error for a database call that failed, saying what was being done.
pub(crate) fn failed(doing: impl std::fmt::Display, err: rusqlite::Error) -> Error {
    let why = match err.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            "the database is locked by another process or connection (a store's file has one \
             user at a time)"
                .to_owned()
        }
        Some(rusqlite::ErrorCode::NotADatabase) => "the file is not an SQLite database".to_owned(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => "the database file is corrupt".to_owned(),
        Some(rusqlite::ErrorCode::DiskFull) => {
            "the disk (or the file's size limit) is full".to_owned()
        }
        Some(rusqlite::ErrorCode::SystemIoFailure) => {
            "disk I/O error (the disk may be full or failing, or the file at its size limit)"
                .to_owned()
        }
        _ => err.to_string(),
    };
    Error::storage_caused_by(format!("{doing}: {why}"), err)
}

/// Opens (creating it if needed) the database of a store at `path`, holding it for this
/// connection alone, in WAL mode, brought up to the schema's version.
///
/// # Errors
/// a storage error, naming the file, when it cannot be opened or created, is not an
/// SQLite database or not this store's, is corrupt, was written by a newer version, or
/// is held by another process.
pub(crate) fn open(
    path: &Path,
    schema: &Schema,
    durability: Durability,
) -> Result<Connection, Error> {
    let shown = path.display();
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags)
        .map_err(|e| failed(format_args!("cannot open {shown}"), e))?;
    let setting_up = |e| failed(format_args!("cannot open {shown}"), e);
    // Refuse at once rather than wait: a held file means another broker runs on it.
    conn.busy_timeout(std::time::Duration::ZERO)
        .map_err(setting_up)?;
    // Exclusive locking: the first transaction below takes the file's lock and keeps it
    // until the store closes, so no other process (or connection) can use it meanwhile.
    // It also keeps WAL's index in this process's memory (no -shm file).
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
        .map_err(setting_up)?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(setting_up)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::storage(format!(
            "cannot open {shown}: SQLite would not use WAL mode for it (it chose {mode})"
        )));
    }
    conn.pragma_update(None, "synchronous", durability.synchronous())
        .map_err(setting_up)?;
    migrate(&mut conn, path, schema)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection, path: &Path, schema: &Schema) -> Result<(), Error> {
    let shown = path.display();
    let reading = |e| failed(format_args!("cannot open {shown}"), e);
    let txn = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(reading)?;
    let application_id: i32 = txn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(reading)?;
    let version: i64 = txn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(reading)?;
    let tables: i64 = txn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
        .map_err(reading)?;
    let fresh = application_id == 0 && version == 0 && tables == 0;
    if !fresh && application_id != schema.application_id {
        return Err(Error::storage(format!(
            "cannot open {shown}: it is not the database of an mqtt-common {} \
             (application id {application_id:#x}, expected {:#x})",
            schema.kind, schema.application_id
        )));
    }
    let latest = schema.version();
    if version > latest {
        return Err(Error::storage(format!(
            "cannot open {shown}: it was written by a newer version of mqtt-common \
             (schema version {version}; this version reads up to {latest})"
        )));
    }
    if version < 0 {
        return Err(Error::storage(format!(
            "cannot open {shown}: its schema version {version} is not one mqtt-common writes"
        )));
    }
    let upgrading = |e| {
        failed(
            format_args!("cannot bring {shown} to schema version {latest}"),
            e,
        )
    };
    for migration in schema
        .migrations
        .iter()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        txn.execute_batch(migration).map_err(upgrading)?;
    }
    if fresh {
        txn.pragma_update(None, "application_id", schema.application_id)
            .map_err(upgrading)?;
    }
    if version != latest {
        txn.pragma_update(None, "user_version", latest)
            .map_err(upgrading)?;
    }
    txn.commit().map_err(upgrading)
}
