//! Workloads shared by the benchmarks: deterministic, realistic topic and filter mixes.

use mqtt_common::{QoS, Subscription, TopicFilter};

/// Metric names at the last level of a device topic.
pub const METRICS: [&str; 10] = [
    "temp", "humidity", "pressure", "battery", "status", "rssi", "voltage", "current", "co2",
    "light",
];

/// A small, seeded xorshift generator: the same workload on every run.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator with this seed.
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    /// The next number below `bound`.
    pub fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound as u64) as usize
    }
}

/// The shape of a workload of `filters` subscriptions: sites of 100 devices with ten
/// metrics each, `filters / 100` sites, so ten device topics per filter and one or two
/// matching subscriptions per topic.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// How many subscriptions.
    pub filters: usize,
    /// How many sites.
    pub sites: usize,
}

impl Workload {
    /// The workload for `filters` subscriptions.
    pub fn new(filters: usize) -> Self {
        Self {
            filters,
            sites: (filters / 100).max(1),
        }
    }

    /// The i-th filter of the mix: 80% exact, 15% with `+`, 5% with `#`.
    pub fn filter(&self, rng: &mut Rng) -> String {
        let site = rng.below(self.sites);
        let device = rng.below(100);
        let metric = METRICS[rng.below(METRICS.len())];
        match rng.below(100) {
            0..80 => format!("site/{site}/device/{device}/{metric}"),
            80..95 => format!("site/{site}/device/+/{metric}"),
            _ => format!("site/{site}/device/{device}/#"),
        }
    }

    /// A topic a device publishes to.
    pub fn topic(&self, rng: &mut Rng) -> String {
        let site = rng.below(self.sites);
        let device = rng.below(100);
        let metric = METRICS[rng.below(METRICS.len())];
        format!("site/{site}/device/{device}/{metric}")
    }

    /// `(client id, subscription)` pairs: ten subscriptions per client on average.
    pub fn subscriptions(&self, seed: u64) -> Vec<(String, Subscription)> {
        let mut rng = Rng::new(seed);
        let clients = (self.filters / 10).max(1);
        (0..self.filters)
            .map(|_| {
                let filter = TopicFilter::new(&self.filter(&mut rng)).expect("valid filter");
                let client = format!("client-{}", rng.below(clients));
                (client, Subscription::new(filter, QoS::AtLeastOnce))
            })
            .collect()
    }
}
