//! `$SYS` topics: a broker's figures with mosquitto's names and meanings, sans I/O.
//!
//! A broker calls [`SysTopics::changed`] every interval with what it knows then (the
//! engines' [`MetricsSnapshot`], the router's [`RouterStats`], its connections) and
//! publishes the retained messages it returns through its router: the figures that
//! changed since the last call, under `$SYS/broker/` (or `$SYS/broker/nodes/<node>/` for
//! a node of a cluster). The load averages are per minute, exponentially weighted over
//! 1, 5 and 15 minutes, as mosquitto weighs them. The router keeps `$SYS` retained
//! messages in memory only: a restart publishes them afresh.
//!
//! # Examples
//! ```
//! use std::time::Duration;
//! use mqtt_common::metrics::Metrics;
//! use mqtt_common::router::Router;
//! use mqtt_common::sys_topics::{SysInput, SysTopics};
//!
//! let mut topics = SysTopics::new(None, "my-broker 1.0", Duration::from_secs(10))?;
//! let input = SysInput {
//!     metrics: Metrics::default().snapshot(),
//!     stats: Router::default().stats(),
//!     connected: 0,
//!     max_connected: 0,
//!     uptime: Duration::from_secs(3),
//! };
//! let first = topics.changed(&input);
//! assert!(first.iter().any(|m| m.topic().as_str() == "$SYS/broker/uptime"));
//! assert!(topics.changed(&input).is_empty()); // nothing moved
//! # Ok::<(), mqtt_common::Error>(())
//! ```

use std::collections::HashMap;
use std::time::Duration;

use crate::error::Error;
use crate::message::Message;
use crate::metrics::MetricsSnapshot;
use crate::router::{RouterStats, check_node_id};
use crate::topic::TopicName;

/// The periods of the load averages, in minutes, as mosquitto's topics name them.
const PERIODS: [u32; 3] = [1, 5, 15];

/// What a broker knows when it publishes its figures.
#[derive(Debug, Clone, Copy)]
pub struct SysInput {
    /// The engines' counters.
    pub metrics: MetricsSnapshot,
    /// The router's counts.
    pub stats: RouterStats,
    /// Connections open now.
    pub connected: usize,
    /// The most connections open at once since the start.
    pub max_connected: usize,
    /// How long the broker has run.
    pub uptime: Duration,
}

/// The `$SYS` figures of one broker, and what it last published of them.
#[derive(Debug, Clone)]
pub struct SysTopics {
    prefix: String,
    version: String,
    interval: Duration,
    published: HashMap<&'static str, String>,
    /// The totals of the last call, for the load averages.
    totals: HashMap<&'static str, u64>,
    loads: HashMap<&'static str, [f64; 3]>,
}

impl SysTopics {
    /// The figures of a broker (of node `node`, in a cluster) that says it is `version`
    /// (`$SYS/broker/version`) and publishes them every `interval`.
    ///
    /// # Errors
    /// A state error for a node identifier [`check_node_id`] refuses (it could not be a
    /// topic level).
    pub fn new(
        node: Option<&str>,
        version: impl Into<String>,
        interval: Duration,
    ) -> Result<Self, Error> {
        let prefix = match node {
            None => "$SYS/broker/".to_owned(),
            Some(node) => {
                check_node_id(node)?;
                format!("$SYS/broker/nodes/{node}/")
            }
        };
        Ok(Self {
            prefix,
            version: version.into(),
            interval,
            published: HashMap::new(),
            totals: HashMap::new(),
            loads: HashMap::new(),
        })
    }

    /// What every topic starts with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Every figure now, by its name under the prefix (`"clients/connected"`), in a
    /// stable order; the load averages take in what happened since the last call.
    pub fn figures(&mut self, input: &SysInput) -> Vec<(&'static str, String)> {
        let counted = &input.metrics;
        let stats = &input.stats;
        let received: u64 = counted.messages_received.iter().sum();
        let sent: u64 = counted.messages_sent.iter().sum();
        let dropped = counted.total_dropped() + stats.dropped;
        let mut figures = vec![
            ("version", self.version.clone()),
            ("uptime", format!("{} seconds", input.uptime.as_secs())),
            ("clients/connected", input.connected.to_string()),
            (
                "clients/disconnected",
                stats.sessions.saturating_sub(input.connected).to_string(),
            ),
            (
                "clients/total",
                stats.sessions.max(input.connected).to_string(),
            ),
            ("clients/maximum", input.max_connected.to_string()),
            ("messages/received", counted.packets_received.to_string()),
            ("messages/sent", counted.packets_sent.to_string()),
            ("publish/messages/received", received.to_string()),
            ("publish/messages/sent", sent.to_string()),
            ("publish/messages/dropped", dropped.to_string()),
            ("bytes/received", counted.bytes_received.to_string()),
            ("bytes/sent", counted.bytes_sent.to_string()),
            ("subscriptions/count", stats.subscriptions.to_string()),
            ("retained messages/count", stats.retained.to_string()),
            ("store/messages/count", stats.queued.to_string()),
        ];
        let totals: [(&'static str, [&'static str; 3], u64); 8] = [
            ("messages/received", LOAD_NAMES[0], counted.packets_received),
            ("messages/sent", LOAD_NAMES[1], counted.packets_sent),
            ("publish/received", LOAD_NAMES[2], received),
            ("publish/sent", LOAD_NAMES[3], sent),
            ("publish/dropped", LOAD_NAMES[4], dropped),
            ("bytes/received", LOAD_NAMES[5], counted.bytes_received),
            ("bytes/sent", LOAD_NAMES[6], counted.bytes_sent),
            ("connections", LOAD_NAMES[7], counted.connections_accepted),
        ];
        for (name, topics, total) in totals {
            let load = self.load(name, total);
            for (topic, value) in topics.into_iter().zip(load) {
                figures.push((topic, format!("{value:.2}")));
            }
        }
        figures
    }

    /// The retained messages of the figures that changed since the last call (all of
    /// them the first time), to publish through the router.
    pub fn changed(&mut self, input: &SysInput) -> Vec<Message> {
        let mut messages = Vec::new();
        for (name, value) in self.figures(input) {
            if self.published.get(name) == Some(&value) {
                continue;
            }
            let topic = format!("{}{name}", self.prefix);
            // The node id is checked when made and the names are fixed: always valid.
            let Ok(topic) = TopicName::new(&topic) else {
                continue;
            };
            let Ok(message) = Message::builder(topic)
                .payload(value.clone())
                .retain(true)
                .build()
            else {
                continue;
            };
            self.published.insert(name, value);
            messages.push(message);
        }
        messages
    }

    /// Adds what happened to a total since the last call to its load averages.
    fn load(&mut self, name: &'static str, total: u64) -> [f64; 3] {
        let last = self.totals.insert(name, total);
        let load = self.loads.entry(name).or_insert([0.0; 3]);
        let seconds = self.interval.as_secs_f64();
        if let Some(last) = last
            && seconds > 0.0
        {
            // Counts as f64: a load average is an approximation by nature.
            #[allow(clippy::cast_precision_loss)]
            let per_minute = total.saturating_sub(last) as f64 * 60.0 / seconds;
            for (average, minutes) in load.iter_mut().zip(PERIODS) {
                let kept = (-seconds / (60.0 * f64::from(minutes))).exp();
                *average = *average * kept + per_minute * (1.0 - kept);
            }
        }
        *load
    }
}

/// The topics of each load average, by period.
const LOAD_NAMES: [[&str; 3]; 8] = [
    [
        "load/messages/received/1min",
        "load/messages/received/5min",
        "load/messages/received/15min",
    ],
    [
        "load/messages/sent/1min",
        "load/messages/sent/5min",
        "load/messages/sent/15min",
    ],
    [
        "load/publish/received/1min",
        "load/publish/received/5min",
        "load/publish/received/15min",
    ],
    [
        "load/publish/sent/1min",
        "load/publish/sent/5min",
        "load/publish/sent/15min",
    ],
    [
        "load/publish/dropped/1min",
        "load/publish/dropped/5min",
        "load/publish/dropped/15min",
    ],
    [
        "load/bytes/received/1min",
        "load/bytes/received/5min",
        "load/bytes/received/15min",
    ],
    [
        "load/bytes/sent/1min",
        "load/bytes/sent/5min",
        "load/bytes/sent/15min",
    ],
    [
        "load/connections/1min",
        "load/connections/5min",
        "load/connections/15min",
    ],
];

#[cfg(test)]
mod tests {
    use super::*;

    fn input(packets: u64, connected: usize) -> SysInput {
        let metrics = MetricsSnapshot {
            packets_received: packets,
            ..MetricsSnapshot::default()
        };
        SysInput {
            metrics,
            stats: RouterStats::default(),
            connected,
            max_connected: connected,
            uptime: Duration::from_secs(7),
        }
    }

    fn value(messages: &[Message], topic: &str) -> Option<String> {
        messages
            .iter()
            .find(|m| m.topic().as_str() == topic)
            .map(|m| String::from_utf8_lossy(m.payload()).into_owned())
    }

    #[test]
    fn first_every_figure_then_only_what_changed() {
        let mut topics = SysTopics::new(None, "b 1", Duration::from_secs(10)).unwrap();
        let first = topics.changed(&input(0, 1));
        assert_eq!(first.len(), 16 + 24);
        assert!(first.iter().all(Message::retain));
        assert_eq!(
            value(&first, "$SYS/broker/clients/connected"),
            Some("1".into())
        );
        assert_eq!(
            value(&first, "$SYS/broker/uptime"),
            Some("7 seconds".into())
        );
        let second = topics.changed(&input(0, 2));
        let topics_changed: Vec<&str> = second.iter().map(|m| m.topic().as_str()).collect();
        assert_eq!(
            topics_changed,
            [
                "$SYS/broker/clients/connected",
                "$SYS/broker/clients/total",
                "$SYS/broker/clients/maximum"
            ]
        );
    }

    #[test]
    fn load_averages_weigh_each_interval_as_mosquitto_does() {
        let mut topics = SysTopics::new(Some("n1"), "b 1", Duration::from_secs(60)).unwrap();
        topics.changed(&input(0, 0));
        let after = topics.changed(&input(600, 0));
        // 600 packets in a minute: the 1-minute average takes 1 - e^-1 of it.
        let expected = 600.0 * (1.0 - (-1.0_f64).exp());
        assert_eq!(
            value(&after, "$SYS/broker/nodes/n1/load/messages/received/1min"),
            Some(format!("{expected:.2}"))
        );
    }

    #[test]
    fn a_node_id_that_cannot_be_a_topic_level_is_refused() {
        for bad in ["a+b", "a#", "a/b", ""] {
            assert!(SysTopics::new(Some(bad), "b 1", Duration::from_secs(1)).is_err());
        }
        let topics = SysTopics::new(Some("n-1"), "b 1", Duration::from_secs(1)).unwrap();
        assert_eq!(topics.prefix(), "$SYS/broker/nodes/n-1/");
    }
}
