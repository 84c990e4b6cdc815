//! Persistence in SQLite (the `sqlite` cargo feature): [`SqliteStorage`] and
//! [`SqliteSessionStore`], the in-memory stores' behaviour kept in a file that survives
//! the process, `kill -9` included.
//!
//! Theory of operation: each store keeps everything in memory, exactly as
//! [`MemoryStorage`](crate::MemoryStorage) and
//! [`MemorySessionStore`](crate::MemorySessionStore) do, and reads are answered from
//! there: a publish never waits for a query. Every change goes through one writer
//! thread that owns the database connection: it applies the change in memory, writes it
//! to the file, and commits, batching the calls that arrive together into one
//! transaction (group commit), and only then does the call return. When a store opens,
//! it loads what the file holds.
//!
//! Each store has a file of its own (a storage and a session store cannot share one);
//! the file is in WAL mode and holds:
//!
//! * a schema version (SQLite's `user_version`): a file from a newer version of this
//!   library is refused with a storage error, an older one is migrated when opened;
//! * an application id (SQLite's `application_id`): any other SQLite file, or the other
//!   store's, is refused;
//! * a lock for as long as the store is open (`locking_mode=EXCLUSIVE`): a second open,
//!   from this process or another, fails at once with a storage error, so two brokers
//!   can never write one file.
//!
//! Messages are stored as the MQTT 5.0 PUBLISH packet a server would send (see the
//! record layout in the source's `records` module), readable by any MQTT decoder.

mod asynchronous;
mod database;
mod sessions;
mod storage;
mod writer;

pub use sessions::SqliteSessionStore;
pub use storage::{SqliteStorage, StorageWrite, StorageWritten};

/// What a call that returned has survived. The default, [`Durability::Full`], is the
/// strongest; the other is faster and named for what it gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Durability {
    /// Each commit is flushed to the disk (`fsync`) before the calls in it return:
    /// their changes survive the process being killed, an OS crash and a power loss
    /// (SQLite's `synchronous=FULL`).
    #[default]
    Full,
    /// Each commit reaches the OS before the calls in it return, and the disk later:
    /// their changes survive the process being killed, but an OS crash or a power loss
    /// may lose the last ones (SQLite's `synchronous=NORMAL` in WAL mode). The file is
    /// never corrupted either way.
    ProcessCrashOnly,
}

impl Durability {
    /// SQLite's `synchronous` setting for it.
    fn synchronous(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::ProcessCrashOnly => "NORMAL",
        }
    }
}
