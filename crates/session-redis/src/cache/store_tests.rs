use std::time::Duration;

use super::*;

fn origin(epoch: u64) -> Arc<Origin> {
    let origin = Arc::new(Origin::default());
    origin.set(epoch);
    origin
}

fn session(value: u8, ends_in: Duration) -> Cached {
    let mut data = SessionData::new();
    data.insert("user", vec![value]);
    Cached {
        data,
        version: u64::from(value),
        expires: SystemTime::now() + ends_in,
    }
}

const HOUR: Duration = Duration::from_secs(3600);

fn cached_value(store: &Store, key: &str) -> Option<u8> {
    store
        .get(key, SystemTime::now())
        .map(|c| c.data.get("user").expect("the value")[0])
}

fn fill(store: &Store, key: &str, origin: &Arc<Origin>, value: u8, bytes: usize) -> bool {
    let ticket = store.begin(key, origin, origin.epoch()).expect("a ticket");
    store.install(ticket, session(value, HOUR), bytes)
}

#[test]
fn a_read_installs_and_hits_until_its_end() {
    let store = Store::new(100, 1 << 20);
    let live = origin(7);
    assert!(fill(&store, "k", &live, 1, 100));
    assert_eq!(cached_value(&store, "k"), Some(1));
    let ticket = store.begin("short", &live, 7).unwrap();
    store.install(ticket, session(2, Duration::from_millis(30)), 100);
    assert_eq!(cached_value(&store, "short"), Some(2));
    std::thread::sleep(Duration::from_millis(40));
    assert_eq!(cached_value(&store, "short"), None, "served past #x");
    assert_eq!(store.usage().0, 1, "the expired entry is dropped");
}

#[test]
fn a_change_while_the_read_is_in_flight_withdraws_its_ticket() {
    let store = Store::new(100, 1 << 20);
    let live = origin(7);
    // Invalidation between send and reply: the reply is what the key held before.
    let ticket = store.begin("k", &live, 7).unwrap();
    store.invalidate("k");
    assert!(!store.install(ticket, session(1, HOUR), 100));
    assert_eq!(cached_value(&store, "k"), None);
    // A newer read of the same key supersedes an older one.
    let older = store.begin("k", &live, 7).unwrap();
    let newer = store.begin("k", &live, 7).unwrap();
    assert!(!store.install(older, session(1, HOUR), 100));
    assert!(store.install(newer, session(2, HOUR), 100));
    assert_eq!(cached_value(&store, "k"), Some(2));
    // A flush withdraws every ticket.
    let ticket = store.begin("j", &live, 7).unwrap();
    store.flush(None);
    assert!(!store.install(ticket, session(3, HOUR), 100));
    assert_eq!(store.usage(), (0, 0));
    assert_eq!(store.counters.refused.load(Ordering::Relaxed), 3);
}

#[test]
fn own_writes_drop_the_copy_and_block_installs_until_done() {
    let store = Store::new(100, 1 << 20);
    let live = origin(7);
    assert!(fill(&store, "k", &live, 1, 100));
    let before = store.begin("k", &live, 7).unwrap();
    let mark = store.writing("k".into());
    assert_eq!(cached_value(&store, "k"), None, "kept during our own write");
    assert!(
        store.begin("k", &live, 7).is_none(),
        "a ticket during our write"
    );
    assert!(!store.install(before, session(1, HOUR), 100));
    let nested = store.writing("k".into());
    drop(mark);
    assert!(store.begin("k", &live, 7).is_none(), "one write still runs");
    let during = {
        drop(nested);
        store.begin("k", &live, 7).unwrap()
    };
    assert!(store.install(during, session(2, HOUR), 100));
    // A ticket taken before a write began cannot install after it ended.
    let stale = store.begin("k", &live, 7).unwrap();
    drop(store.writing("k".into()));
    assert!(!store.install(stale, session(1, HOUR), 100));
    assert_eq!(cached_value(&store, "k"), None);
}

#[test]
fn a_lost_connection_invalidates_what_it_covered_only() {
    let store = Store::new(100, 1 << 20);
    let (a, b) = (origin(1), origin(2));
    assert!(fill(&store, "a", &a, 1, 100));
    assert!(fill(&store, "b", &b, 2, 100));
    a.set(0);
    assert_eq!(cached_value(&store, "a"), None, "served without tracking");
    assert!(fill(&store, "a2", &b, 3, 100));
    store.flush(Some(&b));
    assert_eq!(store.usage(), (0, 0));
    // A reply read in an epoch that has ended is not installed.
    a.set(5);
    let ticket = store.begin("a", &a, 5).unwrap();
    a.set(6);
    assert!(!store.install(ticket, session(1, HOUR), 100));
    assert!(
        store.begin("a", &origin(0), 0).is_none(),
        "a ticket without tracking"
    );
}

#[test]
fn bounds_hold_and_the_least_recent_goes_first() {
    let store = Store::new(3, 1 << 20);
    let live = origin(1);
    for (i, key) in ["a", "b", "c"].iter().enumerate() {
        assert!(fill(&store, key, &live, i as u8, 100));
    }
    assert_eq!(cached_value(&store, "a"), Some(0)); // now the most recent
    assert!(fill(&store, "d", &live, 3, 100));
    assert_eq!(store.usage(), (3, 300));
    assert_eq!(cached_value(&store, "b"), None, "b was the least recent");
    assert_eq!(cached_value(&store, "a"), Some(0));

    let bytes = Store::new(10, 1000);
    for i in 0..10u8 {
        fill(&bytes, &format!("k{i}"), &live, i, 300);
    }
    let (entries, used) = bytes.usage();
    assert!(
        used <= 1000 && entries == 3,
        "{entries} entries, {used} bytes"
    );
    assert!(
        !fill(&bytes, "huge", &live, 1, 1001),
        "bigger than the whole cache"
    );
    assert_eq!(bytes.counters.evictions.load(Ordering::Relaxed), 7);
}

#[test]
fn large_caches_spread_over_shards_within_the_bounds() {
    let store = Store::new(10_000, 10_000 * 1000);
    let live = origin(1);
    for i in 0..20_000u32 {
        fill(&store, &format!("session:{{{i}}}"), &live, 1, 500);
    }
    let (entries, bytes) = store.usage();
    let (max_entries, max_bytes) = store.bounds();
    assert!((9_000..=10_000).contains(&entries), "{entries}");
    assert!(
        bytes <= max_bytes && max_entries <= 10_000,
        "{bytes} {max_entries}"
    );
    assert_eq!(
        Store::weigh("k", [(&b"ab"[..], &b"cde"[..])].into_iter()),
        1 + ENTRY_OVERHEAD + 5 + VALUE_OVERHEAD
    );
}
