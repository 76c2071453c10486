//! Whole requests on the `redis` engine next to raw redis-rs on the same server, in the same
//! run: a changed request against `GET` + `SET`, a read-only one against `GET`, and a new
//! visitor (no round trip at all); then a read-only request served by the client-side cache
//! (`client_cache=on`) against `GET`, with the commands the server ran for it, the hit rate,
//! and the cache's memory for 10 000 sessions. Prints each figure as a ratio; the targets
//! (within 5 % of the raw commands; 10x faster than `GET` and 0 commands for a cached read)
//! are measured here, never asserted. Run with `cargo xtask bench`.

use std::sync::Arc;

use session_bench::raw_redis::{RawRedis, Timer};
use session_bench::Target;
use session_core::{Manager, ManagerConfig, ProviderInit};
use session_redis::RedisProvider;

const ROUNDS: usize = 15;
const PER_ROUND: u32 = 2000;

fn main() {
    let Ok(url) = std::env::var("REDIS_URL") else {
        eprintln!("redis_ratio: not measured: REDIS_URL is not set (cargo xtask bench sets it)");
        return;
    };
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let target = Target::new("redis", &url).await.expect("the redis engine");
        let cookie = target.stored_session().await.expect("a stored session");
        let raw = RawRedis::connect(&url).await.expect("redis-rs");
        let sid = cookie.split_once('=').map(|(_, sid)| sid.to_owned()).expect("a session cookie");
        let (cached, provider) = cached_target(&url).await;
        // Warm: the tracking connection is made by the first read, in the background.
        while !provider.client_cache_stats().is_some_and(|s| s.hits > 0) {
            cached.read_only(&cookie).await.expect("a cached read");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let before = provider.client_cache_stats().unwrap_or_default();
        let mut timer = Timer::new(9);
        let mut n = 0u64;
        for _ in 0..ROUNDS {
            timer.round(0, PER_ROUND, || { n += 1; target.changed(&cookie, n) }).await.expect("changed");
            timer.round(1, PER_ROUND, || raw.get_set()).await.expect("GET + SET");
            timer.round(2, PER_ROUND, || target.read_only(&cookie)).await.expect("read-only");
            timer.round(3, PER_ROUND, || raw.get()).await.expect("GET");
            timer.round(4, PER_ROUND, || target.new_visitor()).await.expect("new visitor");
            timer.round(5, PER_ROUND, || raw.read_and_slide_script(&sid)).await.expect("EVALSHA");
            timer.round(6, PER_ROUND, || raw.hgetall_pttl(&sid)).await.expect("HGETALL + PTTL");
            timer.round(7, PER_ROUND, || raw.hgetall(&sid)).await.expect("HGETALL");
            timer.round(8, PER_ROUND, || cached.read_only(&cookie)).await.expect("cached read-only");
        }
        let after = provider.client_cache_stats().unwrap_or_default();
        let ratio = |a: usize, b: usize| timer.median(a).as_secs_f64() / timer.median(b).as_secs_f64();
        println!("redis engine vs raw redis-rs, median of {ROUNDS} rounds of {PER_ROUND} requests:");
        println!(
            "  changed request  {:>9.1?}  raw GET+SET {:>9.1?}  ratio {:.3}",
            timer.median(0),
            timer.median(1),
            ratio(0, 1)
        );
        println!(
            "  read-only        {:>9.1?}  raw GET     {:>9.1?}  ratio {:.3}",
            timer.median(2),
            timer.median(3),
            ratio(2, 3)
        );
        println!(
            "  new visitor      {:>9.1?}  (no round trip)      vs raw GET {:.3}",
            timer.median(4),
            ratio(4, 3)
        );
        println!(
            "  read designs alone, vs raw GET: read-and-slide script {:>9.1?} ratio {:.3}; HGETALL+PTTL pipeline {:>9.1?} ratio {:.3}",
            timer.median(5),
            ratio(5, 3),
            timer.median(6),
            ratio(6, 3)
        );
        println!("  HGETALL (the engine's read) {:>9.1?} ratio {:.3}", timer.median(7), ratio(7, 3));
        let commands = server_commands(&raw, || cached.read_only(&cookie)).await;
        let reads = (after.hits + after.misses + after.bypassed) - (before.hits + before.misses + before.bypassed);
        println!(
            "  read-only, client_cache=on {:>9.1?}  raw GET {:>9.1?}  ratio {:.3} ({:.1}x faster than GET, {:.1}x than uncached); \
             server commands per request {commands:.3}; hit rate {:.4} ({} hits of {reads} reads)",
            timer.median(8),
            timer.median(3),
            ratio(8, 3),
            1.0 / ratio(8, 3),
            1.0 / ratio(8, 2),
            (after.hits - before.hits) as f64 / reads.max(1) as f64,
            after.hits - before.hits,
        );
        memory(&target, &url).await;
    });
}

/// A target with the client-side cache on, and its provider (for the cache's counters).
async fn cached_target(url: &str) -> (Target, RedisProvider) {
    let sep = if url.contains('?') { '&' } else { '?' };
    let config = ManagerConfig::builder()
        .provider_config(format!("{url}{sep}client_cache=on"))
        .build()
        .expect("a configuration");
    let provider = RedisProvider::connect(&ProviderInit::new("redis", &config))
        .await
        .expect("the redis engine");
    let manager =
        Manager::with_provider("redis", Arc::new(provider.clone()), config).expect("a manager");
    (Target::with_manager(manager), provider)
}

/// The commands the server ran per call of `op`, over 2000 calls (`INFO stats`).
async fn server_commands<F, Fut, T>(raw: &RawRedis, mut op: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = session_core::Result<T>>,
{
    let first = raw.total_commands().await.expect("INFO stats");
    for _ in 0..PER_ROUND {
        op().await.expect("a request");
    }
    let last = raw.total_commands().await.expect("INFO stats");
    (last.saturating_sub(first + 1)) as f64 / f64::from(PER_ROUND)
}

/// The cache's memory for `SESSIONS` sessions like the benchmark's: what it counts, and
/// what the process's resident memory grew by while it filled.
async fn memory(target: &Target, url: &str) {
    const SESSIONS: usize = 10_000;
    let mut cookies = Vec::with_capacity(SESSIONS);
    for _ in 0..SESSIONS {
        cookies.push(target.stored_session().await.expect("a stored session"));
    }
    let (cached, provider) = cached_target(url).await;
    cached.read_only(&cookies[0]).await.expect("a read");
    while !provider.client_cache_stats().is_some_and(|s| s.tracking) {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let rss_before = resident_bytes();
    for cookie in &cookies {
        cached.read_only(cookie).await.expect("a read");
    }
    let grown = resident_bytes().saturating_sub(rss_before);
    let stats = provider.client_cache_stats().unwrap_or_default();
    println!(
        "  cache memory for {SESSIONS} sessions: {} entries counted as {} bytes ({} a session; bound {} bytes); \
         resident memory grew by {} bytes ({} a session)",
        stats.entries,
        stats.bytes,
        stats.bytes / stats.entries.max(1),
        stats.max_bytes,
        grown,
        grown / stats.entries.max(1),
    );
}

/// The process's resident set, from `/proc/self/statm` (0 where there is none).
fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}
