//! Counters every connection's engine adds to, for a broker's `$SYS` topics and metrics.
//!
//! One [`Metrics`] is shared (an `Arc`) by the engines of a broker's connections (the
//! protocol engine's `set_metrics`); each adds what it reads and writes with relaxed
//! atomic additions, and the broker reads a [`MetricsSnapshot`] whenever it reports.
//! The router's own counts (sessions, subscriptions, retained and queued messages) are
//! its `stats`.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::constants::QoS;

/// Counters shared by a broker's connections: bytes, packets and PUBLISH messages in
/// and out, deliveries dropped by cause, connections accepted and refused.
#[derive(Debug, Default)]
pub struct Metrics {
    bytes_received: AtomicU64,
    bytes_sent: AtomicU64,
    packets_received: AtomicU64,
    packets_sent: AtomicU64,
    messages_received: [AtomicU64; 3],
    messages_sent: [AtomicU64; 3],
    dropped_too_large: AtomicU64,
    dropped_expired: AtomicU64,
    dropped_queue_full: AtomicU64,
    connections_accepted: AtomicU64,
    connections_refused: AtomicU64,
    auth_refused: AtomicU64,
}

/// The counters at one moment (each counts since the [`Metrics`] was made).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// Bytes read from clients.
    pub bytes_received: u64,
    /// Bytes written to clients.
    pub bytes_sent: u64,
    /// MQTT packets read from clients, of every type.
    pub packets_received: u64,
    /// MQTT packets written to clients, of every type.
    pub packets_sent: u64,
    /// PUBLISH packets received from clients, by QoS (0, 1, 2).
    pub messages_received: [u64; 3],
    /// PUBLISH packets sent to clients, by QoS (0, 1, 2).
    pub messages_sent: [u64; 3],
    /// Deliveries dropped because they were larger than the client accepts.
    pub dropped_too_large: u64,
    /// Deliveries dropped because their Message Expiry Interval ran out while waiting.
    pub dropped_expired: u64,
    /// Deliveries dropped because the connection's queue was full.
    pub dropped_queue_full: u64,
    /// CONNECTs accepted.
    pub connections_accepted: u64,
    /// CONNECTs refused, for any reason.
    pub connections_refused: u64,
    /// CONNECTs refused for a bad user name or password, or as not authorized.
    pub auth_refused: u64,
}

impl MetricsSnapshot {
    /// PUBLISH packets received, of every QoS.
    pub fn total_received(&self) -> u64 {
        self.messages_received.iter().sum()
    }

    /// PUBLISH packets sent, of every QoS.
    pub fn total_sent(&self) -> u64 {
        self.messages_sent.iter().sum()
    }

    /// Deliveries dropped, for every cause.
    pub fn total_dropped(&self) -> u64 {
        self.dropped_too_large + self.dropped_expired + self.dropped_queue_full
    }
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl Metrics {
    /// The counters now.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        MetricsSnapshot {
            bytes_received: read(&self.bytes_received),
            bytes_sent: read(&self.bytes_sent),
            packets_received: read(&self.packets_received),
            packets_sent: read(&self.packets_sent),
            messages_received: self.messages_received.each_ref().map(read),
            messages_sent: self.messages_sent.each_ref().map(read),
            dropped_too_large: read(&self.dropped_too_large),
            dropped_expired: read(&self.dropped_expired),
            dropped_queue_full: read(&self.dropped_queue_full),
            connections_accepted: read(&self.connections_accepted),
            connections_refused: read(&self.connections_refused),
            auth_refused: read(&self.auth_refused),
        }
    }

    pub(crate) fn received(&self, bytes: usize) {
        add(&self.bytes_received, bytes as u64);
    }

    pub(crate) fn sent(&self, bytes: usize) {
        add(&self.bytes_sent, bytes as u64);
    }

    pub(crate) fn packet_received(&self) {
        add(&self.packets_received, 1);
    }

    pub(crate) fn message_received(&self, qos: QoS) {
        add(&self.messages_received[usize::from(qos.as_u8())], 1);
    }

    pub(crate) fn packet_sent(&self) {
        add(&self.packets_sent, 1);
    }

    pub(crate) fn message_sent(&self, qos: QoS) {
        add(&self.packets_sent, 1);
        add(&self.messages_sent[usize::from(qos.as_u8())], 1);
    }

    pub(crate) fn dropped_too_large(&self) {
        add(&self.dropped_too_large, 1);
    }

    pub(crate) fn dropped_expired(&self) {
        add(&self.dropped_expired, 1);
    }

    pub(crate) fn dropped_queue_full(&self) {
        add(&self.dropped_queue_full, 1);
    }

    pub(crate) fn accepted(&self) {
        add(&self.connections_accepted, 1);
    }

    pub(crate) fn refused(&self, auth: bool) {
        add(&self.connections_refused, 1);
        if auth {
            add(&self.auth_refused, 1);
        }
    }
}
