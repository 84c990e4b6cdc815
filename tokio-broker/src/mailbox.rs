//! What other tasks tell a connection: deliveries the router decided, a takeover, the
//! commit of its facts, the shutdown.
//!
//! A queue behind a mutex and the one waker of its one reader, rather than a channel: an
//! idle connection's mailbox allocates nothing (a channel allocates its first block of
//! slots up front), and waiting for it stores nothing in the connection's task.
//! It pushes back: past `HIGH_WATER` commands the connections that post to it pause
//! their reading until it drains (`congested`, `drained`), so that fast publishers slow
//! down to what a subscriber takes rather than filling memory. And it is bounded: a
//! connection that cannot keep up at all (its client does not read) is told to end.
//!
//! It also holds its connection's far deadline (a Keep Alive's, say), which the broker's
//! sweep checks a few times a second (`Broker::sweep_deadlines`), so that an idle
//! connection's task holds no timer of its own.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::task::{Context, Poll};

use atomic_waker::AtomicWaker;

use mqtt_common::router::{Forward, Outgoing};
use tokio::sync::{Notify, oneshot};

/// How many commands (each one read's deliveries) may wait for one connection.
const CAPACITY: usize = 10_000;
/// Past this many waiting commands, those who post pause (see `congested`).
const HIGH_WATER: usize = 64;

/// Something a connection must do.
#[derive(Debug)]
pub enum Command {
    /// Hand these messages to the engine, in order.
    Deliver(Vec<Outgoing>),
    /// Another connection takes the session over: end with 0x8E, then answer.
    TakeOver(oneshot::Sender<()>),
    /// The facts sent with this number (and all before) are stored.
    Committed(u64),
    /// Storing this connection's facts failed: what they promised must never be
    /// released, so the connection ends (0x80) and its client sends them again.
    StoreFailed,
    /// The broker stops: end with 0x8B.
    Shutdown,
    /// For the live sender of a cluster node (its mailbox, not a connection's): QoS 0
    /// messages for other nodes.
    Live(Vec<Forward>),
}

/// A connection's mailbox.
#[derive(Debug, Default)]
pub struct Mailbox {
    queue: Mutex<VecDeque<Command>>,
    /// Something was posted since the reader last looked.
    posted: AtomicBool,
    reader: AtomicWaker,
    drained: Notify,
    overflowed: AtomicBool,
    /// The connection's far deadline, in sweeps since the broker started (0: none). A
    /// `u32` fits beside the flags, where the struct has room anyway.
    due: AtomicU32,
}

impl Mailbox {
    /// Posts a command; past the capacity a delivery is refused and the mailbox marked
    /// overflowed instead (the connection then ends). The other commands are few and
    /// must arrive: they are always taken.
    pub fn post(&self, command: Command) {
        {
            let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            if queue.len() >= CAPACITY && matches!(command, Command::Deliver(_) | Command::Live(_))
            {
                self.overflowed.store(true, Ordering::Relaxed);
            } else {
                queue.push_back(command);
            }
        }
        self.posted.store(true, Ordering::Release);
        self.reader.wake();
    }

    /// Ready once something was posted since the last time it was; for the mailbox's
    /// one reader (a second one would take the first one's wake-up).
    pub fn poll_posted(&self, cx: &mut Context<'_>) -> Poll<()> {
        // Registered before the check, so a post in between wakes this reader.
        self.reader.register(cx.waker());
        if self.posted.swap(false, Ordering::AcqRel) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Takes everything posted so far.
    pub fn take(&self) -> VecDeque<Command> {
        let taken = std::mem::take(&mut *self.queue.lock().unwrap_or_else(|e| e.into_inner()));
        if !taken.is_empty() {
            self.drained.notify_waiters();
        }
        taken
    }

    /// Whether so much waits here that those who post should pause.
    pub fn congested(&self) -> bool {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).len() > HIGH_WATER
    }

    /// Waits until the owner takes what waits.
    pub async fn drained(&self) {
        // Registered before the check, so a `take` in between is not missed.
        let notified = self.drained.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if !self.congested() {
            return;
        }
        notified.await;
    }

    /// Sets the far deadline the sweep wakes the reader at (None: none).
    pub fn set_due(&self, sweep: Option<u32>) {
        self.due.store(sweep.unwrap_or(0), Ordering::Relaxed);
    }

    /// For the sweep: wakes the reader (with no mail) if its far deadline is due by
    /// `sweep`, once.
    pub fn wake_if_due(&self, sweep: u32) {
        let due = self.due.load(Ordering::Relaxed);
        if due != 0
            && due <= sweep
            && self
                .due
                .compare_exchange(due, 0, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.posted.store(true, Ordering::Release);
            self.reader.wake();
        }
    }

    /// Whether commands were refused for want of room.
    pub fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Relaxed)
    }
}
