//! Group commit: the router's facts of every connection, stored together, and each
//! connection told when what it is owed a promise for is stored.
//!
//! A connection sends its facts with a number; once they are stored it gets
//! `Committed(number)` and releases the acknowledgements (PUBACK, PUBREC, SUBACK) that
//! promise them. Facts that arrive while a commit runs wait for the next one, so a
//! commit serves every connection that had something to store meanwhile.

use std::sync::Arc;

use mqtt_common::router::{Change, Fact, Forward, SessionCall};
use mqtt_common::{AsyncSessionInterface, AsyncStorageInterface, RedisNode, Session};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::mailbox::{Command, Mailbox};

/// What one turn of a connection (or of the broker) asks to write.
#[derive(Debug, Default)]
pub struct Writes {
    /// For the stores.
    pub facts: Vec<Fact>,
    /// For the other nodes of a cluster, in order.
    pub cluster: Vec<ClusterWrite>,
}

impl Writes {
    pub fn is_empty(&self) -> bool {
        self.facts.is_empty() && self.cluster.is_empty()
    }

    pub fn append(&mut self, other: &mut Self) {
        self.facts.append(&mut other.facts);
        self.cluster.append(&mut other.cluster);
    }
}

/// A message for another node, or a change for all.
#[derive(Debug)]
pub enum ClusterWrite {
    Forward(Forward),
    Change(Change),
}

/// Who is told once a batch is stored.
pub enum Waiter {
    /// A connection, with the number its acknowledgements wait for.
    Connection(Arc<Mailbox>, u64),
    /// A task awaiting the outcome (true: stored).
    Task(oneshot::Sender<bool>),
}

/// What a connection (or the broker) asks to store.
struct Batch {
    writes: Writes,
    sessions: Vec<Session>,
    waiter: Option<Waiter>,
}

/// The stores, and the task that writes to them.
pub struct Persister {
    batches: mpsc::UnboundedSender<Batch>,
    pub storage: Arc<dyn AsyncStorageInterface>,
    pub sessions: Arc<dyn AsyncSessionInterface>,
}

impl Persister {
    /// Starts the commit task; with `node`, a cluster's forwards and changes are sent
    /// with the facts.
    pub fn start(
        storage: Arc<dyn AsyncStorageInterface>,
        sessions: Arc<dyn AsyncSessionInterface>,
        node: Option<RedisNode>,
    ) -> (Self, JoinHandle<()>) {
        let (batches, received) = mpsc::unbounded_channel();
        let task = tokio::spawn(commit(received, storage.clone(), sessions.clone(), node));
        (
            Self {
                batches,
                storage,
                sessions,
            },
            task,
        )
    }

    /// Stores `writes` (and these sessions' state); tells `waiter` once they are stored.
    pub fn store(&self, writes: Writes, sessions: Vec<Session>, waiter: Option<Waiter>) {
        let batch = Batch {
            writes,
            sessions,
            waiter,
        };
        if self.batches.send(batch).is_err() {
            tracing::error!("the commit task has stopped: facts are not stored");
        }
    }

    /// Stops taking batches; the task stores what it has, then ends.
    pub fn stop(
        self,
    ) -> (
        Arc<dyn AsyncStorageInterface>,
        Arc<dyn AsyncSessionInterface>,
    ) {
        (self.storage, self.sessions)
    }
}

async fn commit(
    mut received: mpsc::UnboundedReceiver<Batch>,
    storage: Arc<dyn AsyncStorageInterface>,
    sessions: Arc<dyn AsyncSessionInterface>,
    node: Option<RedisNode>,
) {
    // Whether the last commit failed: the log says when the stores fail and when they
    // answer again, once each, not once per commit.
    let mut failing = false;
    while let Some(first) = received.recv().await {
        let mut batches = vec![first];
        while let Ok(more) = received.try_recv() {
            batches.push(more);
        }
        let facts: Vec<Fact> = batches
            .iter_mut()
            .flat_map(|b| b.writes.facts.drain(..))
            .collect();
        let (mut forwards, mut changes) = (Vec::new(), Vec::new());
        for write in batches.iter_mut().flat_map(|b| b.writes.cluster.drain(..)) {
            match write {
                ClusterWrite::Forward(forward) => forwards.push(forward),
                ClusterWrite::Change(change) => changes.push(change),
            }
        }
        let states: Vec<Session> = batches
            .iter_mut()
            .flat_map(|b| b.sessions.drain(..))
            .collect();
        // The sessions' facts and the states saved with them, in one call: a store that
        // can sends them together.
        let calls: Vec<SessionCall> = facts
            .iter()
            .filter_map(Fact::session_call)
            .chain(states.into_iter().map(SessionCall::SaveSession))
            .collect();
        let store_sessions = sessions.persist(&calls);
        let send = async {
            match &node {
                Some(node) => node.send(&forwards, &changes, &facts).await,
                None => Ok(()),
            }
        };
        let (stored, saved, sent) = tokio::join!(storage.persist(&facts), store_sessions, send);
        if let Err(err) = stored.and(saved).and(sent) {
            // Nothing is released: what was promised was not stored. Its connections
            // end, so that no later commit releases it either; their clients send again
            // what they were not acknowledged, after a reconnect.
            if !failing {
                tracing::error!(
                    "cannot store what was received (its connections end until the stores \
                     answer again): {err}"
                );
                failing = true;
            } else {
                tracing::debug!("cannot store what was received: {err}");
            }
            for waiter in batches.into_iter().filter_map(|b| b.waiter) {
                match waiter {
                    Waiter::Connection(mailbox, _) => mailbox.post(Command::StoreFailed),
                    Waiter::Task(done) => drop(done.send(false)),
                }
            }
            continue;
        }
        if failing {
            tracing::warn!("the stores answer again: what is received is stored");
            failing = false;
        }
        for waiter in batches.into_iter().filter_map(|b| b.waiter) {
            match waiter {
                Waiter::Connection(mailbox, number) => mailbox.post(Command::Committed(number)),
                Waiter::Task(done) => drop(done.send(true)),
            }
        }
    }
}
