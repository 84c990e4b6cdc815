//! SubscriptionIndex: match, insert and remove at 10k, 100k and 1M filters, and the heap
//! bytes per filter (a counting allocator; requested bytes, not allocator overhead).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use mqtt_common::{IndexLimits, SubscriptionIndex, TopicName};
use mqtt_common_benches::{Rng, Workload};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];

fn build(workload: Workload) -> SubscriptionIndex {
    let mut index = SubscriptionIndex::with_limits(IndexLimits::default());
    for (client, subscription) in workload.subscriptions(7) {
        index.subscribe(&client, subscription).expect("subscribe");
    }
    index
}

/// Heap bytes held by an index of each size, per filter; written for the summary.
fn memory() {
    let mut rows = Vec::new();
    for size in SIZES {
        let workload = Workload::new(size);
        // Counted from before the subscriptions exist: their filters are the index's too.
        let before = LIVE.load(Ordering::Relaxed);
        let subscriptions = workload.subscriptions(7);
        let mut index = SubscriptionIndex::with_limits(IndexLimits::default());
        for (client, subscription) in subscriptions {
            index.subscribe(&client, subscription).expect("subscribe");
        }
        let bytes = LIVE.load(Ordering::Relaxed) - before;
        let per_filter = bytes as f64 / size as f64;
        println!("memory/{size}: {bytes} bytes, {per_filter:.0} B per filter");
        rows.push(format!("\"{size}\": {per_filter:.1}"));
        drop(index);
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion");
    let _ = std::fs::create_dir_all(&path);
    let json = format!("{{{}}}", rows.join(", "));
    let _ = std::fs::write(path.join("index_memory.json"), json);
}

fn bench(c: &mut Criterion) {
    memory();
    let mut group = c.benchmark_group("index");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for size in SIZES {
        let workload = Workload::new(size);
        let mut index = build(workload);
        let mut rng = Rng::new(99);
        let topics: Vec<TopicName> = (0..4096)
            .map(|_| TopicName::new(&workload.topic(&mut rng)).expect("valid topic"))
            .collect();
        let matches: usize = topics.iter().map(|t| index.matches(t).len()).sum();
        println!(
            "index/{size}: {:.2} matches per topic",
            matches as f64 / topics.len() as f64
        );

        group.bench_function(BenchmarkId::new("match", size), |b| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % topics.len();
                let mut found = 0usize;
                index.for_each_match(&topics[i], |_, _| found += 1);
                black_box(found)
            })
        });

        // New subscriptions from fresh clients, into an index of `size`.
        let extra: Vec<_> = Workload::new(size).subscriptions(1234);
        let chunk = extra.len().min(10_000);
        let clients: Vec<String> = (0..chunk).map(|i| format!("new-{i}")).collect();
        group.bench_function(BenchmarkId::new("insert", size), |b| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                let mut done = 0u64;
                while done < iters {
                    let n = chunk.min((iters - done) as usize);
                    let batch: Vec<_> = extra[..n].iter().map(|(_, s)| s.clone()).collect();
                    let start = Instant::now();
                    for (client, subscription) in clients.iter().zip(batch) {
                        black_box(index.subscribe(client, subscription).ok());
                    }
                    elapsed += start.elapsed();
                    for (client, (_, subscription)) in clients.iter().zip(&extra[..n]) {
                        index.unsubscribe(client, subscription.topic_filter());
                    }
                    done += n as u64;
                }
                elapsed
            })
        });

        group.bench_function(BenchmarkId::new("remove", size), |b| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                let mut done = 0u64;
                while done < iters {
                    let n = chunk.min((iters - done) as usize);
                    for (client, (_, subscription)) in clients.iter().zip(&extra[..n]) {
                        let _ = index.subscribe(client, subscription.clone());
                    }
                    let start = Instant::now();
                    for (client, (_, subscription)) in clients.iter().zip(&extra[..n]) {
                        black_box(index.unsubscribe(client, subscription.topic_filter()));
                    }
                    elapsed += start.elapsed();
                    done += n as u64;
                }
                elapsed
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
