//! The client-side cache's coherence rules (`client_cache=on`), each checked with two app
//! instances on the same servers: A changes sessions (cache off, so nothing it does depends
//! on a cache), B reads them through its cache.
//!
//! - any change by A (a write, a destroy, a regenerate) stops B serving its copy within one
//!   invalidation delivery (the delay is measured and printed; asserted loosely);
//! - a cached entry never outlives its key's end (`#x`);
//! - a killed tracking connection (`CLIENT KILL`) flushes B's cache, B reads from the
//!   server until tracking is back, and then caches again;
//! - a conditional write of B that loses leaves no copy behind, and reads racing writes
//!   never install a stale copy;
//! - the cache stays within its bounds.

mod cache_common;
mod common;

use std::time::{Duration, Instant, SystemTime};

use cache_common::{instance, Instance};
use common::{cookie_request, Target};
use http::HeaderMap;
use session_core::row::RowBackend;
use session_core::{Expiry, Lifetime, SessionData};
use session_redis::{session_key, Topology};
use session_testkit::servers::redis::{Connection, Reply};

const ON: &str = "client_cache=on";
const HOUR: u64 = 3600;

/// A (cache off) and B (cache on `extra`) on `target`, sharing a prefix.
async fn pair(target: &Target, tag: &str, extra: &str) -> (Instance, Instance, String) {
    let prefix = common::unique_prefix(tag);
    let a = instance(target, &prefix, "", HOUR).await;
    let b = instance(target, &prefix, extra, HOUR).await;
    (a, b, prefix)
}

/// Polls, without I/O and without a timer (tokio's sleeps round up to 1 ms), until `check`
/// holds; the time it took. Panics after 2 s.
async fn within_delivery(what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let began = Instant::now();
    while !check() {
        assert!(
            began.elapsed() < Duration::from_secs(2),
            "{what}: no invalidation within 2 s"
        );
        tokio::task::yield_now().await;
    }
    began.elapsed()
}

async fn changes_anywhere_invalidate(topology: Topology) {
    let Some(target) = common::target(topology, "changes_anywhere_invalidate") else {
        return;
    };
    let (a, b, _) = pair(&target, "inval", ON).await;

    // A write.
    let sid = a.store("astaxie").await;
    assert_eq!(b.until_cached(&sid).await, "astaxie");
    let seen = b.stats().invalidations;
    a.set_user(&sid, "asta").await;
    within_delivery("a write", || b.stats().invalidations > seen).await;
    assert_eq!(b.user(&sid).await.as_deref(), Some("asta"));
    assert_eq!(b.until_cached(&sid).await, "asta");

    // A regenerate: the old id stops working at B, the new one works.
    let seen = b.stats().invalidations;
    let moved = a
        .manager
        .session_regenerate_id(&cookie_request(&sid), &mut HeaderMap::new())
        .await
        .unwrap();
    moved.release(&mut HeaderMap::new()).await.unwrap();
    within_delivery("a regenerate", || b.stats().invalidations > seen).await;
    assert_eq!(b.user(&sid).await, None, "the old id still served");
    assert_eq!(b.until_cached(&moved.id()).await, "asta");

    // A destroy, many times over: how long B keeps serving after A's DEL.
    let (mut after_call, mut after_reply) = (Vec::new(), Vec::new());
    for i in 0..20 {
        let sid = a.store(&format!("user{i}")).await;
        b.until_cached(&sid).await;
        let seen = b.stats().invalidations;
        let began = Instant::now();
        a.destroy(&sid).await;
        let replied = began.elapsed();
        within_delivery("a destroy", || b.stats().invalidations > seen).await;
        let applied = began.elapsed();
        after_call.push(applied);
        after_reply.push(applied.saturating_sub(replied));
        assert_eq!(b.user(&sid).await, None, "a destroyed session served");
    }
    after_call.sort();
    after_reply.sort();
    println!(
        "{}: destroy on A -> B's copy invalidated, 20 trials: from A's call median {:?} max {:?}; \
         after A's reply median {:?} max {:?}",
        topology.engine(),
        after_call[10],
        after_call[19],
        after_reply[10],
        after_reply[19]
    );
}

async fn entries_never_outlive_their_key(topology: Topology) {
    let Some(target) = common::target(topology, "entries_never_outlive_their_key") else {
        return;
    };
    let (a, b, prefix) = pair(&target, "ttl", ON).await;
    // A fixed end, so that no read is due to refresh it.
    let session = a
        .manager
        .session_start(&http::Request::new(()))
        .await
        .unwrap();
    session.set("user", "astaxie").await.unwrap();
    let end = SystemTime::now() + Duration::from_millis(1500);
    session
        .set_expiry(Some(Expiry::AtDateTime(end)))
        .await
        .unwrap();
    session.release(&mut HeaderMap::new()).await.unwrap();
    let sid = session.id();
    b.until_cached(&sid).await;
    let key = session_key(&prefix, &sid);
    let x = match target.call_str(&["HGET", &key, "#x"]).await {
        Reply::Bulk(Some(ms)) => String::from_utf8(ms).unwrap().parse::<u64>().unwrap(),
        other => panic!("#x: {other:?}"),
    };
    let ends = SystemTime::UNIX_EPOCH + Duration::from_millis(x);
    assert!(b.stats().entries == 1, "{:?}", b.stats());
    // Served up to its end…
    while SystemTime::now() + Duration::from_millis(200) < ends {
        assert_eq!(b.user(&sid).await.as_deref(), Some("astaxie"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // …and never after it, whether or not the server has expired the key yet.
    let wait = ends.duration_since(SystemTime::now()).unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(2)).await;
    let hits = b.stats().hits;
    // The server may keep the key a few milliseconds past `#x` (its TTL was set after the
    // writer took the time), and then returns it: what matters is that the cache did not.
    let _ = b.user(&sid).await;
    let stats = b.stats();
    assert_eq!(stats.hits, hits, "served from the cache past the key's end");
    assert!(stats.expired + stats.invalidations >= 1, "{stats:?}");
    assert!(
        common::eventually(Duration::from_secs(2), async || b
            .user(&sid)
            .await
            .is_none())
        .await,
        "the session outlived its end"
    );
    println!(
        "{}: entry dropped at its end by {}",
        topology.engine(),
        if stats.expired > 0 {
            "the #x bound"
        } else {
            "the server's expiry invalidation"
        }
    );
}

/// Kills B's tracking connections (found in `CLIENT LIST` by name and id); their count.
async fn kill_tracking(b: &Instance) -> usize {
    let clients = b.stats().tracking_clients;
    assert!(!clients.is_empty(), "no tracking connection to kill");
    tokio::task::spawn_blocking(move || {
        for (server, id) in &clients {
            let mut conn = Connection::open(server).expect("the tracking connection's server");
            let list = conn.call_text(&["CLIENT", "LIST"]).expect("CLIENT LIST");
            let line = list
                .lines()
                .find(|l| l.starts_with(&format!("id={id} ")))
                .unwrap_or_else(|| panic!("client {id} not in CLIENT LIST of {server}"));
            assert!(line.contains(" name=session-redis-cache "), "{line}");
            let flags = line
                .split(' ')
                .find_map(|f| f.strip_prefix("flags="))
                .unwrap();
            assert!(flags.contains('t'), "tracking is not on: {line}");
            let killed = conn
                .call(&["CLIENT", "KILL", "ID", &id.to_string()])
                .unwrap();
            assert_eq!(killed, Reply::Integer(1), "{line}");
        }
        clients.len()
    })
    .await
    .unwrap()
}

async fn a_killed_tracking_connection_flushes_and_bypasses(topology: Topology) {
    let Some(target) = common::target(topology, "a_killed_tracking_connection") else {
        return;
    };
    let (a, b, _) = pair(&target, "kill", ON).await;
    let sid = a.store("astaxie").await;
    b.until_cached(&sid).await;
    let stats = b.stats();
    let began = Instant::now();
    let killed = kill_tracking(&b).await;
    // A's change reaches no tracking connection of B: only the flush keeps B right.
    a.set_user(&sid, "asta").await;
    within_delivery("the lost connection", || {
        b.stats().flushes >= stats.flushes + killed as u64
    })
    .await;
    let noticed = began.elapsed();
    assert_eq!(b.stats().entries, 0, "entries kept without tracking");
    // The next read goes to the server: the uncached way, or on a new tracking connection
    // if it is already back (it is remade at once, in the background).
    let before = b.stats();
    assert_eq!(
        b.user(&sid).await.as_deref(),
        Some("asta"),
        "a stale copy served"
    );
    let after = b.stats();
    assert_eq!(
        after.hits, before.hits,
        "served from the cache after the flush"
    );
    assert_eq!(
        after.bypassed + after.misses,
        before.bypassed + before.misses + 1
    );
    // Tracking comes back, with a new connection, and the cache works again.
    assert_eq!(b.until_cached(&sid).await, "asta");
    // On a cluster the key's master is back first; the other masters' trackers are remade
    // in the background too, each at its own pace.
    let began = Instant::now();
    while !b.stats().tracking {
        let stats = b.stats();
        assert!(
            began.elapsed() < Duration::from_secs(10),
            "tracking connections not all remade within 10 s: {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let stats = b.stats();
    a.set_user(&sid, "again").await;
    within_delivery("the new connection", || {
        b.stats().invalidations > stats.invalidations
    })
    .await;
    assert_eq!(b.user(&sid).await.as_deref(), Some("again"));
    println!(
        "{}: killed tracking connection: cache flushed {noticed:?} after CLIENT KILL was sent",
        topology.engine()
    );
}

async fn lost_conditional_writes_leave_no_copy(topology: Topology) {
    let Some(target) = common::target(topology, "lost_conditional_writes_leave_no_copy") else {
        return;
    };
    let (a, b, _) = pair(&target, "cas", ON).await;
    let (rows_a, rows_b) = (a.provider.backend(), b.provider.backend());
    let life = Lifetime::sliding(Duration::from_secs(HOUR));
    let value = |v: u64| {
        let mut data = SessionData::new();
        data.insert("user", session_core::encode_value("user", &v).unwrap());
        data
    };
    let sid = a.store("x").await;
    b.until_cached(&sid).await;
    let cached = rows_b.load(&sid).await.unwrap().unwrap();
    // A lost compare-and-set changes nothing on the server, which sends nothing: B's own
    // write must drop its copy, and the next read goes to the server.
    let stale = cached.version + 100;
    assert!(!rows_b
        .replace(&sid, &stale, &value(1).encode(), &life)
        .await
        .unwrap());
    let misses = b.stats().misses;
    rows_b.load(&sid).await.unwrap().unwrap();
    assert_eq!(
        b.stats().misses,
        misses + 1,
        "the copy outlived B's lost write"
    );

    // B replaces what it read after A changed it: B loses, and then reads A's state.
    let read = rows_b.load(&sid).await.unwrap().unwrap();
    assert!(rows_a
        .replace(&sid, &read.version, &value(2).encode(), &life)
        .await
        .unwrap());
    assert!(!rows_b
        .replace(&sid, &read.version, &value(3).encode(), &life)
        .await
        .unwrap());
    let now = rows_b.load(&sid).await.unwrap().unwrap();
    assert_eq!(now.data.get("user"), value(2).get("user"));
    // B's merge only-if-present after A's destroy: gone, and B says so.
    rows_b.load(&sid).await.unwrap().unwrap();
    a.destroy(&sid).await;
    let changes = {
        let mut changes = session_core::ChangeSet::default();
        changes.set("user", session_core::encode_value("user", &4u64).unwrap());
        changes
    };
    let written = rows_b
        .merge(&sid, &changes, &value(4), &life, true)
        .await
        .unwrap();
    assert_eq!(written, Some(false));
    assert!(
        rows_b.load(&sid).await.unwrap().is_none(),
        "a destroyed session read"
    );
}

async fn racing_reads_never_install_a_stale_copy(topology: Topology) {
    let Some(target) = common::target(topology, "racing_reads_never_install_a_stale_copy") else {
        return;
    };
    let (a, b, _) = pair(&target, "race", ON).await;
    let sid = a.store("0").await;
    b.until_cached(&sid).await;
    let b = std::sync::Arc::new(b);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (b, sid, stop) = (b.clone(), sid.clone(), stop.clone());
            tokio::spawn(async move {
                let mut reads = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    b.user(&sid).await.expect("the session");
                    reads += 1;
                    // A hit never waits on anything: let the writer and the drivers run.
                    tokio::task::yield_now().await;
                }
                reads
            })
        })
        .collect();
    for i in 1..=200 {
        a.set_user(&sid, &i.to_string()).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut reads = 0;
    for reader in readers {
        reads += reader.await.unwrap();
    }
    // Once the last invalidation is in, B serves the last value, and keeps doing so.
    let deadline = Instant::now() + Duration::from_secs(2);
    while b.user(&sid).await.as_deref() != Some("200") {
        assert!(
            Instant::now() < deadline,
            "a stale copy stayed: {:?}",
            b.stats()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for _ in 0..20 {
        assert_eq!(b.user(&sid).await.as_deref(), Some("200"));
    }
    let stats = b.stats();
    println!(
        "{}: {reads} reads racing 200 writes: {} hits, {} misses, {} bypassed, {} replies refused",
        topology.engine(),
        stats.hits,
        stats.misses,
        stats.bypassed,
        stats.refused
    );
}

async fn the_cache_stays_within_its_bounds(topology: Topology) {
    let Some(target) = common::target(topology, "the_cache_stays_within_its_bounds") else {
        return;
    };
    let (a, b, _) = pair(&target, "bound", &format!("{ON}&client_cache_entries=50")).await;
    let mut sids = Vec::new();
    for i in 0..200 {
        sids.push(a.store(&format!("user{i}")).await);
    }
    b.until_cached(&sids[0]).await;
    for sid in &sids {
        b.user(sid).await.unwrap();
    }
    let stats = b.stats();
    assert!(stats.entries <= 50 && stats.entries > 0, "{stats:?}");
    assert!(stats.evictions >= 100, "{stats:?}");
    assert_eq!(stats.max_entries, 50);

    // In bytes: sessions of about 2 KiB in 16 KiB.
    let (a, b, _) = pair(&target, "bytes", &format!("{ON}&client_cache_bytes=16k")).await;
    let big = "x".repeat(2000);
    let mut sids = Vec::new();
    for _ in 0..30 {
        sids.push(a.store(&big).await);
    }
    b.until_cached(&sids[0]).await;
    for sid in &sids {
        assert_eq!(b.user(sid).await.as_deref(), Some(big.as_str()));
    }
    let stats = b.stats();
    assert!(stats.bytes <= 16 << 10 && stats.entries >= 4, "{stats:?}");
    assert!(stats.entries <= 8, "{stats:?}");
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod standalone {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Topology::Standalone).await;
                }
            )*
        }
        mod cluster {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Topology::Cluster).await;
                }
            )*
        }
    };
}

both!(
    changes_anywhere_invalidate,
    entries_never_outlive_their_key,
    a_killed_tracking_connection_flushes_and_bypasses,
    lost_conditional_writes_leave_no_copy,
    racing_reads_never_install_a_stale_copy,
    the_cache_stays_within_its_bounds,
);
