//! Group commit: the calls that arrive together share one transaction, and so one
//! commit (and its `fsync`), instead of paying one each.
//!
//! Theory of operation (leader and followers, as in RocksDB's write path): a call puts
//! its job in the queue. If no batch is being committed, the caller becomes the leader:
//! it takes every queued job (up to [`MAX_BATCH`]) and the connection, and, inside one
//! transaction, runs each job: the job changes the in-memory mirror that readers use,
//! then writes the same change to the database. It commits, and only then answers each
//! job, waking its caller: a call returns once what it stored is durable. The calls
//! that arrived meanwhile sleep; when the leader is done, it wakes the first of them,
//! which leads the next batch. A lone caller thus
//! commits on its own thread, with no hand-off to wake up, and many callers share
//! commits. A job that refuses (a full queue, an invalid client id) changes nothing and
//! only its caller hears of it. A database failure (a full disk, an I/O error) rolls the
//! whole batch back, every caller in it gets the error, and the mirror is reloaded from
//! the file, so memory never holds what the file does not.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, Thread};

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::error::Error;
use crate::sqlite::database::failed;

/// The most calls one transaction carries: bounds a batch's latency.
pub(crate) const MAX_BATCH: usize = 1024;

/// Why a job did not do its work.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The call is refused; nothing was changed (for example a full queue).
    Refused(Error),
    /// The database failed: the batch is rolled back.
    Database(Error),
}

impl From<rusqlite::Error> for Failure {
    fn from(err: rusqlite::Error) -> Self {
        Self::Database(failed("the database refused a write", err))
    }
}

/// What a store keeps in memory and the writer keeps equal to its database.
pub(crate) trait Mirror: Send + Sync + Sized + 'static {
    /// Reads everything the database holds into a mirror like `like` (same limits).
    ///
    /// # Errors
    /// a storage error for a database that cannot be read or holds unreadable rows.
    fn load(conn: &Connection, like: &Self) -> Result<Self, Error>;

    /// Takes `other`'s contents in place of its own.
    ///
    /// # Errors
    /// a storage error if its lock was poisoned.
    fn replace_contents(&self, other: Self) -> Result<(), Error>;
}

/// One call's work, queued for the batch's leader.
trait Job<M>: Send {
    /// Does the work inside the batch's transaction.
    fn run(&mut self, txn: &Transaction<'_>, mirror: &M) -> Result<(), Error>;
    /// Answers the caller (waking it, if it waits): `outcome` is the batch's commit, or
    /// why it was abandoned.
    fn finish(self: Box<Self>, outcome: Result<(), Error>);
    /// The caller's thread, parked until its answer comes or it is its turn to lead.
    fn caller(&self) -> &Thread;
}

/// Where a call's answer lands; its caller looks there each time it wakes.
type Slot<R> = Arc<Mutex<Option<Result<R, Error>>>>;

/// One call: its work, then its answer given to `reply`. `caller` is the thread to wake
/// when it is the call's turn to lead: the waiting caller's own, or the helper's for a
/// started call nobody waits for.
struct Call<F, R, D> {
    work: Option<F>,
    result: Option<Result<R, Error>>,
    reply: D,
    caller: Thread,
}

impl<M, F, R, D> Job<M> for Call<F, R, D>
where
    F: FnOnce(&Transaction<'_>, &M) -> Result<R, Failure> + Send,
    R: Send,
    D: FnOnce(Result<R, Error>) + Send,
{
    fn run(&mut self, txn: &Transaction<'_>, mirror: &M) -> Result<(), Error> {
        let Some(work) = self.work.take() else {
            return Ok(());
        };
        match work(txn, mirror) {
            Ok(value) => self.result = Some(Ok(value)),
            Err(Failure::Refused(err)) => self.result = Some(Err(err)),
            Err(Failure::Database(err)) => return Err(err),
        }
        Ok(())
    }

    fn finish(self: Box<Self>, outcome: Result<(), Error>) {
        let answer = match (self.result, outcome) {
            (Some(Err(refused)), _) => Err(refused),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (_, Err(err)) => Err(err),
            (None, Ok(())) => Err(Error::storage("the call was not run")),
        };
        (self.reply)(answer);
    }

    fn caller(&self) -> &Thread {
        &self.caller
    }
}

/// What the callers share, under one lock.
struct Queue<M> {
    /// The jobs no leader has taken yet.
    pending: VecDeque<Box<dyn Job<M>>>,
    /// The connection, while no leader holds it; None once closed.
    conn: Option<Connection>,
    /// Whether a leader is committing a batch.
    leading: bool,
    /// Whether the store is closed (or closing).
    closed: bool,
    /// Set when a failed write could not be undone in memory: nothing more is written.
    stopped: Option<Error>,
}

/// The queue and the mirror, shared by the callers and the helper thread.
struct Shared<M> {
    queue: Mutex<Queue<M>>,
    /// Signalled when a batch ends, for a close waiting for it (callers are woken one
    /// by one: only those with an answer, and the next leader).
    batch_done: Condvar,
    mirror: Arc<M>,
}

/// A store's connection and the way calls reach it.
pub(crate) struct Writer<M> {
    shared: Arc<Shared<M>>,
    /// The thread that leads the batches of started calls (whose callers do not wait),
    /// made on the first such call.
    helper: Mutex<Option<std::thread::JoinHandle<()>>>,
    kind: &'static str,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing under these locks is left half-changed by a panic elsewhere: go on.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<M: Mirror> Shared<M> {
    /// Commits the queued jobs as one batch, the queue's lock released meanwhile.
    fn lead<'a>(
        &'a self,
        mut queue: MutexGuard<'a, Queue<M>>,
        mut conn: Connection,
    ) -> MutexGuard<'a, Queue<M>> {
        queue.leading = true;
        let take = queue.pending.len().min(MAX_BATCH);
        let mut batch: Vec<Box<dyn Job<M>>> = queue.pending.drain(..take).collect();
        let mut stopped = queue.stopped.clone();
        drop(queue);
        let outcome = match &stopped {
            Some(err) => Err(err.clone()),
            None => commit_batch(&mut conn, &*self.mirror, &mut batch, &mut stopped),
        };
        for job in batch {
            job.finish(outcome.clone());
        }
        let mut queue = lock(&self.queue);
        queue.conn = Some(conn);
        queue.leading = false;
        queue.stopped = stopped;
        // Whoever waits first leads the next batch.
        if let Some(next) = queue.pending.front() {
            next.caller().unpark();
        }
        self.batch_done.notify_all();
        queue
    }

    /// The helper thread: leads whenever started calls wait and nobody leads; ends
    /// once the store is closed.
    fn help(&self) {
        let mut queue = lock(&self.queue);
        loop {
            if queue.closed {
                return;
            }
            if !queue.leading
                && !queue.pending.is_empty()
                && let Some(conn) = queue.conn.take()
            {
                queue = self.lead(queue, conn);
                continue;
            }
            drop(queue);
            thread::park();
            queue = lock(&self.queue);
        }
    }
}

impl<M: Mirror> Writer<M> {
    /// Takes `conn`, through which every write of the store goes from now on.
    pub(crate) fn new(conn: Connection, mirror: Arc<M>, kind: &'static str) -> Self {
        Self {
            shared: Arc::new(Shared {
                queue: Mutex::new(Queue {
                    pending: VecDeque::new(),
                    conn: Some(conn),
                    leading: false,
                    closed: false,
                    stopped: None,
                }),
                batch_done: Condvar::new(),
                mirror,
            }),
            helper: Mutex::new(None),
            kind,
        }
    }

    /// Runs `work` in a transaction and returns its result once that transaction is
    /// committed.
    ///
    /// # Errors
    /// what `work` refused with; a storage error if the database failed (nothing of the
    /// call was kept) or the store is closed.
    pub(crate) fn call<R, F>(&self, work: F) -> Result<R, Error>
    where
        F: FnOnce(&Transaction<'_>, &M) -> Result<R, Failure> + Send + 'static,
        R: Send + 'static,
    {
        let slot: Slot<R> = Arc::new(Mutex::new(None));
        let mut queue = lock(&self.shared.queue);
        if queue.closed {
            return Err(self.closed());
        }
        let caller = thread::current();
        let reply = {
            let (slot, caller) = (Arc::clone(&slot), caller.clone());
            move |answer| {
                *lock(&slot) = Some(answer);
                caller.unpark();
            }
        };
        queue.pending.push_back(Box::new(Call {
            work: Some(work),
            result: None,
            reply,
            caller,
        }));
        loop {
            if !queue.leading
                && !queue.pending.is_empty()
                && let Some(conn) = queue.conn.take()
            {
                queue = self.shared.lead(queue, conn);
            }
            if let Some(answer) = lock(&slot).take() {
                return answer;
            }
            drop(queue);
            // An unpark that came first makes this return at once: no wake-up is lost.
            thread::park();
            queue = lock(&self.shared.queue);
        }
    }

    /// Starts `work` without waiting for it: `done` is called with its result once its
    /// transaction is committed (or failed), on the thread that committed it. Calls
    /// started together share a commit, as waiting calls do.
    ///
    /// # Errors
    /// a storage error if the store is closed or the helper thread cannot be started;
    /// `done` is then not called.
    pub(crate) fn start<R, F, D>(&self, work: F, done: D) -> Result<(), Error>
    where
        F: FnOnce(&Transaction<'_>, &M) -> Result<R, Failure> + Send + 'static,
        R: Send + 'static,
        D: FnOnce(Result<R, Error>) + Send + 'static,
    {
        let helper = self.helper()?;
        let mut queue = lock(&self.shared.queue);
        if queue.closed {
            return Err(self.closed());
        }
        queue.pending.push_back(Box::new(Call {
            work: Some(work),
            result: None,
            reply: done,
            caller: helper.clone(),
        }));
        if !queue.leading {
            helper.unpark();
        }
        Ok(())
    }

    /// The helper thread, started on first use.
    fn helper(&self) -> Result<Thread, Error> {
        let mut helper = lock(&self.helper);
        if let Some(running) = helper.as_ref() {
            return Ok(running.thread().clone());
        }
        let shared = Arc::clone(&self.shared);
        let running = std::thread::Builder::new()
            .name(format!("mqtt-common {} commits", self.kind))
            .spawn(move || shared.help())
            .map_err(|e| {
                Error::storage_caused_by(format!("cannot start the {} helper", self.kind), e)
            })?;
        let thread = running.thread().clone();
        *helper = Some(running);
        Ok(thread)
    }

    /// Waits for the batch under way, checkpoints the WAL into the database file and
    /// closes the connection; later calls fail. Closing twice is harmless.
    ///
    /// # Errors
    /// a storage error if the checkpoint failed.
    pub(crate) fn close(&self) -> Result<(), Error> {
        let mut queue = lock(&self.shared.queue);
        queue.closed = true;
        while queue.leading {
            queue = self
                .shared
                .batch_done
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let conn = queue.conn.take();
        let orphans: Vec<Box<dyn Job<M>>> = queue.pending.drain(..).collect();
        drop(queue);
        // Calls queued behind the close are answered as closed, outside the lock: a
        // started call's answer may run code that calls the store.
        for job in orphans {
            job.finish(Err(self.closed()));
        }
        if let Some(helper) = lock(&self.helper).take() {
            helper.thread().unpark();
            if helper.thread().id() != thread::current().id() {
                let _ = helper.join();
            }
        }
        conn.map_or(Ok(()), |conn| checkpoint(&conn))
    }

    fn closed(&self) -> Error {
        Error::storage(format!("the {} is closed", self.kind))
    }
}

/// Runs and commits a batch; on failure, reloads the mirror from the rolled-back file
/// (or, if even that fails, stops the writer).
fn commit_batch<M: Mirror>(
    conn: &mut Connection,
    mirror: &M,
    batch: &mut [Box<dyn Job<M>>],
    stopped: &mut Option<Error>,
) -> Result<(), Error> {
    let Err(err) = run_batch(conn, mirror, batch) else {
        return Ok(());
    };
    // The transaction is rolled back; the mirror may hold some of its changes.
    if let Err(reload) = M::load(conn, mirror).and_then(|fresh| mirror.replace_contents(fresh)) {
        let stop = Error::storage(format!(
            "{err}; then the store could not reload its database ({reload}), so it \
             writes nothing more: close and reopen it"
        ));
        *stopped = Some(stop.clone());
        return Err(stop);
    }
    Err(err)
}

fn run_batch<M: Mirror>(
    conn: &mut Connection,
    mirror: &M,
    batch: &mut [Box<dyn Job<M>>],
) -> Result<(), Error> {
    let txn = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| failed("cannot begin a transaction", e))?;
    for job in batch.iter_mut() {
        job.run(&txn, mirror)?;
    }
    txn.commit().map_err(|e| failed("cannot commit", e))
}

fn checkpoint(conn: &Connection) -> Result<(), Error> {
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .map_err(|e| failed("cannot checkpoint the WAL on close", e))
}
