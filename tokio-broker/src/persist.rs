//! Group commit: the router's facts of every connection, stored together, and each
//! connection told when what it is owed a promise for is stored.
//!
//! A connection sends its facts with a number; once they are stored it gets
//! `Committed(number)` and releases the acknowledgements (PUBACK, PUBREC, SUBACK) that
//! promise them. Facts that arrive while a commit runs wait for the next one, so a
//! commit serves every connection that had something to store meanwhile.

use std::sync::Arc;

use mqtt_common::router::{Fact, SessionCall};
use mqtt_common::{AsyncSessionInterface, AsyncStorageInterface, Session};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::mailbox::{Command, Mailbox};

/// What a connection (or the broker) asks to store.
struct Batch {
    facts: Vec<Fact>,
    sessions: Vec<Session>,
    /// Who to tell, and with which number, once stored.
    waiter: Option<(Arc<Mailbox>, u64)>,
}

/// The stores, and the task that writes to them.
pub struct Persister {
    batches: mpsc::UnboundedSender<Batch>,
    pub storage: Arc<dyn AsyncStorageInterface>,
    pub sessions: Arc<dyn AsyncSessionInterface>,
}

impl Persister {
    /// Starts the commit task.
    pub fn start(
        storage: Arc<dyn AsyncStorageInterface>,
        sessions: Arc<dyn AsyncSessionInterface>,
    ) -> (Self, JoinHandle<()>) {
        let (batches, received) = mpsc::unbounded_channel();
        let task = tokio::spawn(commit(received, storage.clone(), sessions.clone()));
        (
            Self {
                batches,
                storage,
                sessions,
            },
            task,
        )
    }

    /// Stores `facts` (and these sessions' state); tells `waiter` once they are stored.
    pub fn store(
        &self,
        facts: Vec<Fact>,
        sessions: Vec<Session>,
        waiter: Option<(Arc<Mailbox>, u64)>,
    ) {
        let batch = Batch {
            facts,
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
) {
    // Whether the last commit failed: the log says when the stores fail and when they
    // answer again, once each, not once per commit.
    let mut failing = false;
    while let Some(first) = received.recv().await {
        let mut batches = vec![first];
        while let Ok(more) = received.try_recv() {
            batches.push(more);
        }
        let facts: Vec<Fact> = batches.iter_mut().flat_map(|b| b.facts.drain(..)).collect();
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
        let (stored, saved) = tokio::join!(storage.persist(&facts), store_sessions);
        if let Err(err) = stored.and(saved) {
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
            for (mailbox, _) in batches.into_iter().filter_map(|b| b.waiter) {
                mailbox.post(Command::StoreFailed);
            }
            continue;
        }
        if failing {
            tracing::warn!("the stores answer again: what is received is stored");
            failing = false;
        }
        for (mailbox, number) in batches.into_iter().filter_map(|b| b.waiter) {
            mailbox.post(Command::Committed(number));
        }
    }
}
