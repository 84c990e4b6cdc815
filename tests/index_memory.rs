//! Memory is measured, not assumed: a counting allocator shows that unsubscribing gives
//! the index's memory back. (Its own test binary, so the allocator sees only this.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use mqtt_common::{
    IndexLimits, QoS, Subscription, SubscriptionIndex, TopicFilter, TopicName, TopicTree,
};

struct Counting;

thread_local! {
    // Per thread, so the test harness's own threads cannot disturb the count.
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // `try_with`: the slot may be gone while the thread shuts down.
    let _ = LIVE.try_with(|live| live.set(live.get() + delta));
}

// SAFETY: forwards to the system allocator unchanged; only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.with(Cell::get)
}

/// The i-th filter of a realistic mix: 80% exact, 15% with `+`, 5% with `#`.
fn filter(i: usize) -> TopicFilter {
    let text = match i % 20 {
        0..=15 => format!("site/{}/device/{}/temp", i % 1000, i / 1000),
        16..=18 => format!("site/+/device/{}/m{}", i / 1000, i % 7),
        _ => format!("site/{}/#", i % 997),
    };
    TopicFilter::new(&text).unwrap()
}

#[test]
fn unsubscribing_everything_gives_the_memory_back() {
    const N: usize = 100_000;
    let mut index = SubscriptionIndex::with_limits(IndexLimits::default());
    let before = live();
    for i in 0..N {
        let subscription = Subscription::new(filter(i), QoS::AtLeastOnce);
        index
            .subscribe(&format!("client-{}", i % 5000), subscription)
            .unwrap();
    }
    let full = live() - before;
    assert!(full > 0);
    println!(
        "index: {full} bytes for {N} subscriptions ({} B each)",
        full / N as isize
    );

    // Unsubscribing 90% leaves at most about a tenth in use (the arena is compacted).
    for i in (0..N).filter(|i| i % 10 != 0) {
        assert!(
            index
                .unsubscribe(&format!("client-{}", i % 5000), &filter(i))
                .is_some()
        );
    }
    let tenth = live() - before;
    println!("after unsubscribing 90%: {tenth} bytes");
    assert!(tenth < full / 4, "{tenth} of {full} bytes still held");

    for i in (0..N).filter(|i| i % 10 == 0) {
        assert!(
            index
                .unsubscribe(&format!("client-{}", i % 5000), &filter(i))
                .is_some()
        );
    }
    assert!(index.is_empty());
    assert_eq!(index.node_count(), 1);
    let after = live() - before;
    println!("after unsubscribing all: {after} bytes");
    assert!(after <= 1024, "{after} bytes still held by an empty index");

    let mut tree = TopicTree::new();
    let before = live();
    for i in 0..50_000 {
        let topic = TopicName::new(&format!("site/{}/device/{}/temp", i % 1000, i / 1000)).unwrap();
        tree.insert(topic, i).unwrap();
    }
    assert!(live() - before > 0);
    for i in 0..50_000 {
        let topic = format!("site/{}/device/{}/temp", i % 1000, i / 1000);
        assert_eq!(tree.remove(&topic), Some(i));
    }
    let after = live() - before;
    assert!(
        after <= 1024,
        "{after} bytes still held by an empty topic tree"
    );
}
