//! [`SqliteStorage`]: [`MemoryStorage`]'s behaviour, kept in an SQLite file.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use rusqlite::{Connection, Transaction, params};

use crate::error::Error;
use crate::message::Message;
use crate::records::{decode_message, encode_message, nanos, narrow, time};
use crate::router::{Fact, QueuedMessage};
use crate::sqlite::Durability;
use crate::sqlite::database::{self, Schema, failed};
use crate::sqlite::writer::{Failure, Mirror, Writer};
use crate::storage::Enqueued;
use crate::storage::{MemoryStorage, MemoryStorageConfig, StorageInterface};
use crate::topic::{Subscription, SubscriptionId, TopicFilter, TopicName};

/// The storage's tables. Schema version 2 adds the arrival time of retained messages, and
/// the entry number (a router's, increasing per client; queue order) and enqueue time
/// of queued messages; rows from version 1 get their row id as entry number, and their
/// times read as the moment the file is opened.
const SCHEMA: Schema = Schema {
    kind: "storage",
    application_id: 0x4D51_5453, // "MQTS"
    migrations: &[
        "
        CREATE TABLE retained (
            topic TEXT PRIMARY KEY NOT NULL,
            message BLOB NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE queued (
            id INTEGER PRIMARY KEY,
            client_id TEXT NOT NULL,
            message BLOB NOT NULL
        );
        CREATE INDEX queued_by_client ON queued (client_id, id);
        CREATE TABLE subscriptions (
            id INTEGER PRIMARY KEY,
            client_id TEXT NOT NULL,
            topic_filter TEXT NOT NULL,
            qos INTEGER NOT NULL,
            no_local INTEGER NOT NULL,
            retain_as_published INTEGER NOT NULL,
            retain_handling INTEGER NOT NULL,
            subscription_id INTEGER,
            UNIQUE (client_id, topic_filter)
        );
    ",
        "
        ALTER TABLE retained ADD COLUMN arrived_at INTEGER;
        ALTER TABLE queued ADD COLUMN seq INTEGER;
        ALTER TABLE queued ADD COLUMN enqueued_at INTEGER;
        UPDATE queued SET seq = id;
        CREATE UNIQUE INDEX queued_by_seq ON queued (client_id, seq);
    ",
    ],
};

/// Retained messages, queues for offline clients and subscriptions, kept in an SQLite
/// file: [`MemoryStorage`]'s behaviour and limits, surviving the process.
///
/// Durability: when a call that changes something returns `Ok`, the change is committed
/// to the file and survives the process being killed (and, with [`Durability::Full`],
/// an OS crash or a power loss). Concurrent calls share one transaction (group commit),
/// so many writers cost little more than one. Reads (`get_subscribers`, `get_retained`,
/// `get_subscriptions`, `queue_length`) are served from memory, which is loaded when the
/// file is opened; they see a change as soon as it is applied, which can be just before
/// its commit. A write the database refuses (a full disk) fails every call committed
/// with it, none of which is kept, and memory is reloaded from the file.
///
/// One process at a time: the file is locked while the storage is open, and a second
/// open (from any process) fails with a storage error.
///
/// # Examples
/// ```
/// use mqtt_common::{Message, SqliteStorage, StorageInterface, TopicFilter, TopicName};
/// let dir = std::env::temp_dir().join(format!("mqtt-common-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("storage.db");
/// # let _ = std::fs::remove_file(&path);
/// let storage = SqliteStorage::open(&path)?;
/// storage.store_retained(Message::new(TopicName::new("site/1/temp")?, "21.5")?)?;
/// storage.close()?;
///
/// let reopened = SqliteStorage::open(&path)?;
/// assert_eq!(reopened.get_retained(&TopicFilter::new("site/#")?)?.len(), 1);
/// # reopened.close()?;
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), mqtt_common::Error>(())
/// ```
pub struct SqliteStorage {
    mirror: Arc<MemoryStorage>,
    writer: Writer<MemoryStorage>,
    path: PathBuf,
    durability: Durability,
}

impl fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStorage")
            .field("path", &self.path)
            .field("durability", &self.durability)
            .field("config", &self.mirror.config())
            .finish_non_exhaustive()
    }
}

impl SqliteStorage {
    /// Opens the storage in the file at `path` (created if missing), with
    /// [`MemoryStorageConfig::default`]'s limits and [`Durability::Full`].
    ///
    /// # Errors
    /// a storage error, naming the file, when it cannot be opened or created, is not an
    /// SQLite database or not a storage's, is corrupt or holds unreadable rows, was
    /// written by a newer version, or is held by another process.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::open_with(path, MemoryStorageConfig::default(), Durability::Full)
    }

    /// Opens the storage at `path` with these limits and durability.
    ///
    /// # Errors
    /// As [`SqliteStorage::open`]; also a validation error if what the file holds breaks
    /// a limit on subscriptions or topic levels (a queue longer than
    /// `max_queue_length` is kept: the limit bounds what comes next).
    pub fn open_with(
        path: impl AsRef<Path>,
        config: MemoryStorageConfig,
        durability: Durability,
    ) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let conn = database::open(&path, &SCHEMA, durability)?;
        let mirror = Arc::new(MemoryStorage::load(
            &conn,
            &MemoryStorage::with_config(config),
        )?);
        let writer = Writer::new(conn, Arc::clone(&mirror), SCHEMA.kind);
        Ok(Self {
            mirror,
            writer,
            path,
            durability,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The limits in force.
    pub fn config(&self) -> MemoryStorageConfig {
        self.mirror.config()
    }

    /// What a returned call survives.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// How many retained messages are stored.
    ///
    /// # Errors
    /// a storage error once closed.
    pub fn retained_count(&self) -> Result<usize, Error> {
        self.mirror.retained_count()
    }
}

impl Drop for SqliteStorage {
    fn drop(&mut self) {
        let _ = self.writer.close();
    }
}

fn refused(err: Error) -> Failure {
    Failure::Refused(err)
}

fn delete_oldest(txn: &Transaction<'_>, client_id: &str, count: usize) -> Result<(), Failure> {
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    txn.prepare_cached(
        "DELETE FROM queued WHERE id IN \
         (SELECT id FROM queued WHERE client_id = ?1 ORDER BY seq LIMIT ?2)",
    )?
    .execute(params![client_id, count])?;
    Ok(())
}

/// A write to a [`SqliteStorage`], for [`SqliteStorage::start`]: the
/// [`StorageInterface`] write methods as values.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum StorageWrite {
    /// [`StorageInterface::store_retained_at`].
    StoreRetained {
        /// The message.
        message: Message,
        /// When it arrived.
        arrived_at: SystemTime,
    },
    /// [`StorageInterface::delete_retained`].
    DeleteRetained(TopicName),
    /// [`StorageInterface::enqueue`].
    Enqueue {
        /// The client.
        client_id: String,
        /// The message.
        message: Message,
    },
    /// [`StorageInterface::enqueue_entry`].
    EnqueueEntry {
        /// The client.
        client_id: String,
        /// The entry.
        entry: QueuedMessage,
    },
    /// [`StorageInterface::remove_queued`].
    RemoveQueued {
        /// The client.
        client_id: String,
        /// The entry number.
        seq: u64,
    },
    /// [`StorageInterface::persist`]: the facts, in one transaction.
    Persist(Vec<Fact>),
    /// [`StorageInterface::dequeue`].
    Dequeue {
        /// The client.
        client_id: String,
        /// The most messages to take; all if `None`.
        limit: Option<usize>,
    },
    /// [`StorageInterface::add_subscription`].
    AddSubscription {
        /// The client.
        client_id: String,
        /// The subscription.
        subscription: Subscription,
    },
    /// [`StorageInterface::remove_subscription`].
    RemoveSubscription {
        /// The client.
        client_id: String,
        /// The filter of the subscription.
        topic_filter: TopicFilter,
    },
}

/// What a [`StorageWrite`] gives back.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StorageWritten {
    /// Nothing (`store_retained`, `enqueue`).
    Done,
    /// Whether there was one (`delete_retained`, `remove_subscription`), or whether it
    /// replaced one (`add_subscription`).
    Existed(bool),
    /// The messages taken (`dequeue`).
    Messages(Vec<Message>),
}

impl StorageWritten {
    pub(super) fn existed(self) -> bool {
        matches!(self, Self::Existed(true))
    }

    pub(super) fn messages(self) -> Vec<Message> {
        match self {
            Self::Messages(messages) => messages,
            _ => Vec::new(),
        }
    }
}

type Work =
    Box<dyn FnOnce(&Transaction<'_>, &MemoryStorage) -> Result<StorageWritten, Failure> + Send>;

/// The transaction work of a write: the mirror changed, then the same change written.
fn work(write: StorageWrite) -> Result<Work, Error> {
    Ok(match write {
        StorageWrite::StoreRetained {
            message,
            arrived_at,
        } => {
            let topic = message.topic().clone();
            let record = if message.payload().is_empty() {
                None
            } else {
                Some(encode_message(&message)?)
            };
            Box::new(move |txn, mirror| {
                mirror
                    .store_retained_at(message, arrived_at)
                    .map_err(refused)?;
                match record {
                    Some(record) => txn
                        .prepare_cached(
                            "INSERT OR REPLACE INTO retained (topic, message, arrived_at) \
                             VALUES (?1, ?2, ?3)",
                        )?
                        .execute(params![topic.as_str(), record, nanos(arrived_at)])?,
                    None => txn
                        .prepare_cached("DELETE FROM retained WHERE topic = ?1")?
                        .execute([topic.as_str()])?,
                };
                Ok(StorageWritten::Done)
            })
        }
        StorageWrite::DeleteRetained(topic) => Box::new(move |txn, mirror| {
            let existed = mirror.delete_retained(&topic).map_err(refused)?;
            if existed {
                txn.prepare_cached("DELETE FROM retained WHERE topic = ?1")?
                    .execute([topic.as_str()])?;
            }
            Ok(StorageWritten::Existed(existed))
        }),
        StorageWrite::Enqueue { client_id, message } => {
            let record = encode_message(&message)?;
            Box::new(move |txn, mirror| {
                let seq = match mirror
                    .enqueue_reporting(&client_id, message)
                    .map_err(refused)?
                {
                    Enqueued::Dropped => return Ok(StorageWritten::Done),
                    Enqueued::ReplacedOldest(seq) => {
                        delete_oldest(txn, &client_id, 1)?;
                        seq
                    }
                    Enqueued::Appended(seq) => seq,
                };
                insert_queued(txn, &client_id, seq, &record, SystemTime::now())?;
                Ok(StorageWritten::Done)
            })
        }
        StorageWrite::EnqueueEntry { client_id, entry } => {
            let record = encode_message(&entry.message)?;
            Box::new(move |txn, mirror| {
                let (seq, at) = (entry.seq, entry.enqueued_at);
                mirror.enqueue_entry(&client_id, entry).map_err(refused)?;
                insert_queued(txn, &client_id, seq, &record, at)?;
                Ok(StorageWritten::Done)
            })
        }
        StorageWrite::RemoveQueued { client_id, seq } => Box::new(move |txn, mirror| {
            let existed = mirror.remove_queued(&client_id, seq).map_err(refused)?;
            if existed {
                txn.prepare_cached("DELETE FROM queued WHERE client_id = ?1 AND seq = ?2")?
                    .execute(params![client_id, seq.cast_signed()])?;
            }
            Ok(StorageWritten::Existed(existed))
        }),
        StorageWrite::Persist(facts) => {
            let mut works = Vec::with_capacity(facts.len());
            for fact in facts {
                works.push(fact_work(fact)?);
            }
            Box::new(move |txn, mirror| {
                for work in works {
                    work(txn, mirror)?;
                }
                Ok(StorageWritten::Done)
            })
        }
        StorageWrite::Dequeue { client_id, limit } => Box::new(move |txn, mirror| {
            let taken = mirror.dequeue(&client_id, limit).map_err(refused)?;
            if !taken.is_empty() {
                delete_oldest(txn, &client_id, taken.len())?;
            }
            Ok(StorageWritten::Messages(taken))
        }),
        StorageWrite::AddSubscription {
            client_id,
            subscription,
        } => Box::new(move |txn, mirror| {
            let replaced = mirror
                .add_subscription(&client_id, subscription.clone())
                .map_err(refused)?;
            txn.prepare_cached(
                "INSERT INTO subscriptions (client_id, topic_filter, qos, no_local, \
                 retain_as_published, retain_handling, subscription_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (client_id, topic_filter) DO UPDATE SET qos = excluded.qos, \
                 no_local = excluded.no_local, retain_as_published = excluded.retain_as_published, \
                 retain_handling = excluded.retain_handling, subscription_id = excluded.subscription_id",
            )?
            .execute(params![
                client_id,
                subscription.topic_filter().as_str(),
                subscription.qos() as u8,
                subscription.no_local(),
                subscription.retain_as_published(),
                subscription.retain_handling() as u8,
                subscription.subscription_id().map(SubscriptionId::get),
            ])?;
            Ok(StorageWritten::Existed(replaced))
        }),
        StorageWrite::RemoveSubscription {
            client_id,
            topic_filter,
        } => Box::new(move |txn, mirror| {
            let existed = mirror
                .remove_subscription(&client_id, &topic_filter)
                .map_err(refused)?;
            if existed {
                txn.prepare_cached(
                    "DELETE FROM subscriptions WHERE client_id = ?1 AND topic_filter = ?2",
                )?
                .execute(params![client_id, topic_filter.as_str()])?;
            }
            Ok(StorageWritten::Existed(existed))
        }),
    })
}

/// Writes a queued message's row (replacing one with its entry number).
fn insert_queued(
    txn: &Transaction<'_>,
    client_id: &str,
    seq: u64,
    record: &[u8],
    enqueued_at: SystemTime,
) -> Result<(), Failure> {
    txn.prepare_cached(
        "INSERT OR REPLACE INTO queued (client_id, seq, message, enqueued_at) \
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        client_id,
        seq.cast_signed(),
        record,
        nanos(enqueued_at)
    ])?;
    Ok(())
}

/// The transaction work of one of the router's facts; nothing for the session store's.
fn fact_work(fact: Fact) -> Result<Work, Error> {
    let write = match fact {
        Fact::Retained {
            message,
            arrived_at,
        } => StorageWrite::StoreRetained {
            message,
            arrived_at,
        },
        Fact::RetainedCleared { topic } => StorageWrite::DeleteRetained(topic),
        Fact::Subscribed {
            client_id,
            subscription,
        } => StorageWrite::AddSubscription {
            client_id,
            subscription,
        },
        Fact::Unsubscribed {
            client_id,
            topic_filter,
        } => StorageWrite::RemoveSubscription {
            client_id,
            topic_filter,
        },
        Fact::Queued {
            client_id,
            seq,
            message,
            enqueued_at,
        } => StorageWrite::EnqueueEntry {
            client_id,
            entry: QueuedMessage {
                seq,
                message,
                enqueued_at,
            },
        },
        Fact::Dequeued { client_id, seq } => StorageWrite::RemoveQueued { client_id, seq },
        Fact::SessionEnded { client_id } => {
            // What the session had here goes: its subscriptions and its queue.
            return Ok(Box::new(move |txn, mirror| {
                for subscription in mirror.get_subscriptions(&client_id).map_err(refused)? {
                    let topic_filter = subscription.topic_filter().clone();
                    let client_id = client_id.clone();
                    work(StorageWrite::RemoveSubscription {
                        client_id,
                        topic_filter,
                    })
                    .map_err(refused)?(txn, mirror)?;
                }
                let client_id = client_id.clone();
                work(StorageWrite::Dequeue {
                    client_id,
                    limit: None,
                })
                .map_err(refused)?(txn, mirror)
            }));
        }
        _ => return Ok(Box::new(|_, _| Ok(StorageWritten::Done))),
    };
    work(write)
}

impl SqliteStorage {
    /// The answer of a write that needs no transaction: a dequeue from an empty queue.
    fn without_transaction(&self, write: &StorageWrite) -> Result<Option<StorageWritten>, Error> {
        if let StorageWrite::Dequeue { client_id, .. } = write
            && self.mirror.queue_length(client_id)? == 0
        {
            return Ok(Some(StorageWritten::Messages(Vec::new())));
        }
        Ok(None)
    }

    fn write(&self, write: StorageWrite) -> Result<StorageWritten, Error> {
        if let Some(answer) = self.without_transaction(&write)? {
            return Ok(answer);
        }
        self.writer.call(work(write)?)
    }

    /// Starts a write without waiting for it: `done` gets its result once it is
    /// committed, on the thread that committed it (or at once, on this thread, when
    /// there is nothing to commit). Writes started together share a commit, as calls
    /// made together do; an asyncio adapter uses this to wait for the disk without a
    /// thread per call.
    ///
    /// # Errors
    /// a validation or storage error found before the write is queued (a closed
    /// store, a message that cannot be stored); `done` is then not called.
    pub fn start(
        &self,
        write: StorageWrite,
        done: impl FnOnce(Result<StorageWritten, Error>) + Send + 'static,
    ) -> Result<(), Error> {
        if let Some(answer) = self.without_transaction(&write)? {
            done(Ok(answer));
            return Ok(());
        }
        self.writer.start(work(write)?, done)
    }
}

impl StorageInterface for SqliteStorage {
    fn store_retained_at(&self, message: Message, arrived_at: SystemTime) -> Result<(), Error> {
        self.write(StorageWrite::StoreRetained {
            message,
            arrived_at,
        })
        .map(drop)
    }

    fn retained_messages(&self) -> Result<Vec<(Message, SystemTime)>, Error> {
        self.mirror.retained_messages()
    }

    fn enqueue_entry(&self, client_id: &str, entry: QueuedMessage) -> Result<(), Error> {
        let client_id = client_id.to_owned();
        self.write(StorageWrite::EnqueueEntry { client_id, entry })
            .map(drop)
    }

    fn remove_queued(&self, client_id: &str, seq: u64) -> Result<bool, Error> {
        let client_id = client_id.to_owned();
        self.write(StorageWrite::RemoveQueued { client_id, seq })
            .map(StorageWritten::existed)
    }

    fn queued_messages(&self, client_id: &str) -> Result<Vec<QueuedMessage>, Error> {
        self.mirror.queued_messages(client_id)
    }

    /// Stores the facts in one transaction: all of them, or none and an error.
    fn persist(&self, facts: &[Fact]) -> Result<(), Error> {
        if facts.is_empty() {
            return Ok(());
        }
        self.write(StorageWrite::Persist(facts.to_vec())).map(drop)
    }

    fn get_retained(&self, topic_filter: &TopicFilter) -> Result<Vec<Message>, Error> {
        self.mirror.get_retained(topic_filter)
    }

    fn delete_retained(&self, topic: &TopicName) -> Result<bool, Error> {
        self.write(StorageWrite::DeleteRetained(topic.clone()))
            .map(StorageWritten::existed)
    }

    fn enqueue(&self, client_id: &str, message: Message) -> Result<(), Error> {
        let client_id = client_id.to_owned();
        self.write(StorageWrite::Enqueue { client_id, message })
            .map(drop)
    }

    fn dequeue(&self, client_id: &str, limit: Option<usize>) -> Result<Vec<Message>, Error> {
        let client_id = client_id.to_owned();
        self.write(StorageWrite::Dequeue { client_id, limit })
            .map(StorageWritten::messages)
    }

    fn queue_length(&self, client_id: &str) -> Result<usize, Error> {
        self.mirror.queue_length(client_id)
    }

    fn add_subscription(&self, client_id: &str, subscription: Subscription) -> Result<bool, Error> {
        let client_id = client_id.to_owned();
        self.write(StorageWrite::AddSubscription {
            client_id,
            subscription,
        })
        .map(StorageWritten::existed)
    }

    fn remove_subscription(
        &self,
        client_id: &str,
        topic_filter: &TopicFilter,
    ) -> Result<bool, Error> {
        let client_id = client_id.to_owned();
        let topic_filter = topic_filter.clone();
        self.write(StorageWrite::RemoveSubscription {
            client_id,
            topic_filter,
        })
        .map(StorageWritten::existed)
    }

    fn get_subscriptions(&self, client_id: &str) -> Result<Vec<Subscription>, Error> {
        self.mirror.get_subscriptions(client_id)
    }

    fn get_subscribers(&self, topic: &TopicName) -> Result<Vec<(String, Subscription)>, Error> {
        self.mirror.get_subscribers(topic)
    }

    /// Commits what is pending, folds the WAL into the file, releases the file's lock;
    /// later calls fail with a storage error.
    fn close(&self) -> Result<(), Error> {
        let closed = self.writer.close();
        self.mirror.close()?;
        closed
    }
}

impl Mirror for MemoryStorage {
    fn load(conn: &Connection, like: &Self) -> Result<Self, Error> {
        let reading = |e| failed("cannot read the storage", e);
        let storage = Self::with_config(like.config());
        // Rows written before arrival and enqueue times were kept count from now.
        let opened = SystemTime::now();
        let mut retained = conn
            .prepare("SELECT topic, message, arrived_at FROM retained")
            .map_err(reading)?;
        let mut rows = retained.query([]).map_err(reading)?;
        while let Some(row) = rows.next().map_err(reading)? {
            let topic: String = row.get(0).map_err(reading)?;
            let whose = format!("retained topic {topic:?}");
            let arrived_at = row
                .get::<_, Option<i64>>(2)
                .map_err(reading)?
                .map_or(opened, time);
            storage.store_retained_at(
                decode_message(row.get(1).map_err(reading)?, &whose)?,
                arrived_at,
            )?;
        }
        let mut queued = conn
            .prepare(
                "SELECT client_id, seq, message, enqueued_at FROM queued ORDER BY client_id, seq",
            )
            .map_err(reading)?;
        let mut rows = queued.query([]).map_err(reading)?;
        let mut queues: HashMap<String, Vec<QueuedMessage>> = HashMap::new();
        while let Some(row) = rows.next().map_err(reading)? {
            let client_id: String = row.get(0).map_err(reading)?;
            let whose = format!("a message queued for {client_id:?}");
            let seq: i64 = row.get(1).map_err(reading)?;
            let message = decode_message(row.get(2).map_err(reading)?, &whose)?;
            let enqueued_at = row
                .get::<_, Option<i64>>(3)
                .map_err(reading)?
                .map_or(opened, time);
            queues.entry(client_id).or_default().push(QueuedMessage {
                seq: seq.cast_unsigned(),
                message,
                enqueued_at,
            });
        }
        for (client_id, messages) in queues {
            storage.restore_queue(&client_id, messages)?;
        }
        let mut subscriptions = conn
            .prepare(
                "SELECT client_id, topic_filter, qos, no_local, retain_as_published, \
                 retain_handling, subscription_id FROM subscriptions ORDER BY id",
            )
            .map_err(reading)?;
        let mut rows = subscriptions.query([]).map_err(reading)?;
        while let Some(row) = rows.next().map_err(reading)? {
            let client_id: String = row.get(0).map_err(reading)?;
            let topic_filter: String = row.get(1).map_err(reading)?;
            let whose = format!("the subscription of {client_id:?} to {topic_filter:?}");
            let subscription_id: Option<i64> = row.get(6).map_err(reading)?;
            let subscription = TopicFilter::new(&topic_filter)
                .and_then(|filter| {
                    Subscription::builder(filter)
                        .qos(narrow(row.get(2).map_err(reading)?, "qos", &whose)?)
                        .no_local(row.get(3).map_err(reading)?)
                        .retain_as_published(row.get(4).map_err(reading)?)
                        .retain_handling(narrow(
                            row.get(5).map_err(reading)?,
                            "retain_handling",
                            &whose,
                        )?)
                        .subscription_id(
                            subscription_id
                                .map(|id| narrow(id, "subscription_id", &whose))
                                .transpose()?,
                        )
                        .build()
                })
                .map_err(|e| Error::storage(format!("{whose} is unreadable: {e}")))?;
            storage.add_subscription(&client_id, subscription)?;
        }
        Ok(storage)
    }

    fn replace_contents(&self, other: Self) -> Result<(), Error> {
        MemoryStorage::replace_contents(self, other)
    }
}
