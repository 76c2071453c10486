//! What a read-only request costs with the client-side cache on and off, counted by the
//! servers (`INFO commandstats`, every cluster node added up): one session read 100 times in
//! a row by an instance without the cache, then by one with it. Asserted: 100 `HGETALL`
//! without it; with it, one `HGETALL` for the first read (on the tracking connection) and
//! nothing at all for the 100 hot ones. Run with `--nocapture` to see the figures and the
//! hit rate. This binary runs nothing else, so the counters see only these requests.

mod cache_common;
mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cache_common::instance;
use common::Target;
use session_redis::Topology;

const READS: usize = 100;

/// The commands the servers ran during `requests`, noise left out.
async fn counted<F: std::future::Future<Output = ()>>(
    target: &Target,
    requests: F,
) -> BTreeMap<String, u64> {
    target.reset_stats().await;
    requests.await;
    let stats = target.stats().await;
    stats
        .iter()
        .filter(|(command, stat)| !common::NOISE.contains(command) && stat.calls > 0)
        .map(|(command, stat)| (command.to_owned(), stat.calls))
        .collect()
}

async fn cache_costs(topology: Topology) {
    let Some(target) = common::target(topology, "cache_costs") else {
        return;
    };
    let prefix = common::unique_prefix("ccost");
    let off = instance(&target, &prefix, "", 3600).await;
    let on = instance(&target, &prefix, "client_cache=on", 3600).await;
    let sid = off.store("astaxie").await;
    let cold = off.store("asta").await;
    // Warm up: pooled connections made, every tracking connection up.
    off.user(&sid).await;
    on.until_cached(&sid).await;
    assert!(
        common::eventually(Duration::from_secs(5), async || on.stats().tracking).await,
        "tracking never came up: {:?}",
        on.stats()
    );

    let began = Instant::now();
    let uncached = counted(&target, async {
        for _ in 0..READS {
            assert_eq!(off.user(&sid).await.as_deref(), Some("astaxie"));
        }
    })
    .await;
    let uncached_time = began.elapsed() / READS as u32;
    let first = counted(&target, async {
        assert_eq!(on.user(&cold).await.as_deref(), Some("asta"));
    })
    .await;
    let before = on.stats();
    let began = Instant::now();
    let hot = counted(&target, async {
        for _ in 0..READS {
            assert_eq!(on.user(&sid).await.as_deref(), Some("astaxie"));
        }
    })
    .await;
    let hot_time = began.elapsed() / READS as u32;
    let after = on.stats();
    let hits = after.hits - before.hits;

    println!(
        "{}: a session read {READ} times in a row (server counts, INFO commandstats):",
        topology.engine(),
        READ = READS
    );
    println!("  cache off: {uncached:?} ({uncached_time:?} a request)");
    println!("  cache on, first read of a session: {first:?}");
    println!(
        "  cache on, hot: {hot:?} ({hot_time:?} a request), {hits} hits of {READS}; \
         hit rate over this instance's life {:.3}; {} entries, {} bytes",
        after.hit_rate(),
        after.entries,
        after.bytes
    );
    assert_eq!(
        uncached,
        BTreeMap::from([("hgetall".to_owned(), READS as u64)])
    );
    assert_eq!(first, BTreeMap::from([("hgetall".to_owned(), 1)]));
    assert!(hot.is_empty(), "hot reads reached the server: {hot:?}");
    assert_eq!(hits, READS as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone() {
    cache_costs(Topology::Standalone).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster() {
    cache_costs(Topology::Cluster).await;
}
