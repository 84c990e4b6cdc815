//! The SQLite stores as native members of the asynchronous family: a write is handed to
//! the store's writer and its future resolves when the writer's commit answers, so no
//! thread waits per call (as [`Blocking`](crate::asynchronous::Blocking) would make
//! one), and writes started together share a commit. Reads are answered from the
//! in-memory mirror, at once.
//!
//! A store implements both families; with both traits in scope, name the one meant:
//! `AsyncStorageInterface::get_retained(&storage, &filter)`.

use std::time::SystemTime;

use futures_channel::oneshot;

use crate::asynchronous::{BoxFuture, ready};
use crate::constants::ProtocolVersion;
use crate::error::Error;
use crate::message::{Message, Will};
use crate::router::{Fact, QueuedMessage};
use crate::session::{AsyncSessionInterface, Session, SessionInterface};
use crate::storage::{AsyncStorageInterface, StorageInterface};
use crate::topic::{Subscription, TopicFilter, TopicName};

use super::{SqliteSessionStore, SqliteStorage, StorageWrite, StorageWritten};

/// The answer a started write gets, as a future. `start` hands the store the callback
/// that completes it.
fn started<T: Send + 'static>(
    start: impl FnOnce(Box<dyn FnOnce(Result<T, Error>) + Send>) -> Result<(), Error>,
) -> BoxFuture<'static, Result<T, Error>> {
    let (sender, receiver) = oneshot::channel();
    let answer = Box::new(move |answer| {
        // The caller stopped waiting: the write is committed all the same.
        let _ = sender.send(answer);
    });
    match start(answer) {
        Err(err) => ready(Err(err)),
        Ok(()) => Box::pin(async move {
            receiver.await.unwrap_or_else(|_| {
                Err(Error::storage("the SQLite writer stopped before answering"))
            })
        }),
    }
}

impl SqliteStorage {
    fn write_started(
        &self,
        write: StorageWrite,
    ) -> BoxFuture<'static, Result<StorageWritten, Error>> {
        started(|answer| self.start(write, answer))
    }

    fn write_then<T: Send + 'static>(
        &self,
        write: StorageWrite,
        then: fn(StorageWritten) -> T,
    ) -> BoxFuture<'static, Result<T, Error>> {
        let written = self.write_started(write);
        Box::pin(async move { written.await.map(then) })
    }
}

impl AsyncStorageInterface for SqliteStorage {
    fn store_retained_at(
        &self,
        message: Message,
        arrived_at: SystemTime,
    ) -> BoxFuture<'_, Result<(), Error>> {
        self.write_then(
            StorageWrite::StoreRetained {
                message,
                arrived_at,
            },
            drop,
        )
    }

    fn retained_messages(&self) -> BoxFuture<'_, Result<Vec<(Message, SystemTime)>, Error>> {
        ready(StorageInterface::retained_messages(self))
    }

    fn get_retained<'a>(
        &'a self,
        topic_filter: &'a TopicFilter,
    ) -> BoxFuture<'a, Result<Vec<Message>, Error>> {
        ready(StorageInterface::get_retained(self, topic_filter))
    }

    fn delete_retained<'a>(&'a self, topic: &'a TopicName) -> BoxFuture<'a, Result<bool, Error>> {
        let write = StorageWrite::DeleteRetained(topic.clone());
        self.write_then(write, StorageWritten::existed)
    }

    fn enqueue<'a>(
        &'a self,
        client_id: &'a str,
        message: Message,
    ) -> BoxFuture<'a, Result<(), Error>> {
        let client_id = client_id.to_owned();
        self.write_then(StorageWrite::Enqueue { client_id, message }, drop)
    }

    fn enqueue_entry<'a>(
        &'a self,
        client_id: &'a str,
        entry: QueuedMessage,
    ) -> BoxFuture<'a, Result<(), Error>> {
        let client_id = client_id.to_owned();
        self.write_then(StorageWrite::EnqueueEntry { client_id, entry }, drop)
    }

    fn remove_queued<'a>(
        &'a self,
        client_id: &'a str,
        seq: u64,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        let client_id = client_id.to_owned();
        self.write_then(
            StorageWrite::RemoveQueued { client_id, seq },
            StorageWritten::existed,
        )
    }

    fn queued_messages<'a>(
        &'a self,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<QueuedMessage>, Error>> {
        ready(StorageInterface::queued_messages(self, client_id))
    }

    /// The facts in one transaction, shared with the writes started together.
    fn persist<'a>(&'a self, facts: &'a [Fact]) -> BoxFuture<'a, Result<(), Error>> {
        if facts.is_empty() {
            return ready(Ok(()));
        }
        self.write_then(StorageWrite::Persist(facts.to_vec()), drop)
    }

    fn dequeue<'a>(
        &'a self,
        client_id: &'a str,
        limit: Option<usize>,
    ) -> BoxFuture<'a, Result<Vec<Message>, Error>> {
        let client_id = client_id.to_owned();
        self.write_then(
            StorageWrite::Dequeue { client_id, limit },
            StorageWritten::messages,
        )
    }

    fn queue_length<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<usize, Error>> {
        ready(StorageInterface::queue_length(self, client_id))
    }

    fn add_subscription<'a>(
        &'a self,
        client_id: &'a str,
        subscription: Subscription,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        let client_id = client_id.to_owned();
        let write = StorageWrite::AddSubscription {
            client_id,
            subscription,
        };
        self.write_then(write, StorageWritten::existed)
    }

    fn remove_subscription<'a>(
        &'a self,
        client_id: &'a str,
        topic_filter: &'a TopicFilter,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        let write = StorageWrite::RemoveSubscription {
            client_id: client_id.to_owned(),
            topic_filter: topic_filter.clone(),
        };
        self.write_then(write, StorageWritten::existed)
    }

    fn get_subscriptions<'a>(
        &'a self,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<Subscription>, Error>> {
        ready(StorageInterface::get_subscriptions(self, client_id))
    }

    fn get_subscribers<'a>(
        &'a self,
        topic: &'a TopicName,
    ) -> BoxFuture<'a, Result<Vec<(String, Subscription)>, Error>> {
        ready(StorageInterface::get_subscribers(self, topic))
    }

    /// Waits for the last commit inside the future: it happens once, at shutdown.
    fn close(&self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move { StorageInterface::close(self) })
    }
}

impl AsyncSessionInterface for SqliteSessionStore {
    fn create_session<'a>(
        &'a self,
        client_id: &'a str,
        clean_start: bool,
        expiry_interval: u32,
        protocol_version: ProtocolVersion,
    ) -> BoxFuture<'a, Result<(Session, bool), Error>> {
        let id = client_id.to_owned();
        started(|answer| {
            self.start_change(
                client_id,
                move |mirror| {
                    mirror.create_session(&id, clean_start, expiry_interval, protocol_version)
                },
                answer,
            )
        })
    }

    fn get_session<'a>(
        &'a self,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Session>, Error>> {
        ready(SessionInterface::get_session(self, client_id))
    }

    fn save_session<'a>(&'a self, session: &'a Session) -> BoxFuture<'a, Result<(), Error>> {
        let session = session.clone();
        let client_id = session.client_id().to_owned();
        started(|answer| {
            self.start_change(
                &client_id,
                move |mirror| mirror.save_session(&session),
                answer,
            )
        })
    }

    fn delete_session<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<bool, Error>> {
        let id = client_id.to_owned();
        started(|answer| {
            self.start_change(client_id, move |mirror| mirror.delete_session(&id), answer)
        })
    }

    fn set_will<'a>(&'a self, client_id: &'a str, will: Will) -> BoxFuture<'a, Result<(), Error>> {
        let id = client_id.to_owned();
        started(|answer| {
            self.start_change(client_id, move |mirror| mirror.set_will(&id, will), answer)
        })
    }

    fn get_will<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<Option<Will>, Error>> {
        ready(SessionInterface::get_will(self, client_id))
    }

    fn clear_will<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<Option<Will>, Error>> {
        match SessionInterface::get_will(self, client_id) {
            Err(err) => return ready(Err(err)),
            Ok(None) => return ready(Ok(None)), // nothing to write: no commit to wait for
            Ok(Some(_)) => {}
        }
        let id = client_id.to_owned();
        started(|answer| self.start_change(client_id, move |mirror| mirror.clear_will(&id), answer))
    }

    fn client_ids(&self) -> BoxFuture<'_, Result<Vec<String>, Error>> {
        // Read from the mirror in memory: nothing to wait for.
        ready(SessionInterface::client_ids(self))
    }
}
