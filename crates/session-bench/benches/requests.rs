//! One request per iteration on each engine (those with servers when the servers are named): a new visitor, a read-only request,
//! and a request that changes one key. Run with `cargo xtask bench`.
//!
//! Next to the memcache engine, `memcache-raw` times the bare commands on the server that
//! holds the benchmark's session: one `mg` (what a read-only request costs at least) and an
//! `mg` + `ms` (a get and a set: what a changing request costs at least).

use criterion::{criterion_group, criterion_main, Criterion};
use memcache::exp::{AsyncMetaClient, Get, Meta, Set, Ttl};
use session_bench::{engines, session_id, Target, MEMCACHE_SERVERS};
use session_memcache::{MemcacheConfig, Placement};

fn requests(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime for the benchmarks");
    let dir = tempfile::tempdir().expect("a temporary directory for the file engine");
    for (engine, config) in engines(dir.path()) {
        let (target, cookie) = runtime.block_on(async {
            let target = Target::new(engine, &config).await.expect("engine starts");
            let cookie = target.stored_session().await.expect("session stored");
            (target, cookie)
        });
        let mut group = c.benchmark_group(engine);
        group.bench_function("new_visitor", |b| {
            b.to_async(&runtime)
                .iter(|| async { target.new_visitor().await.expect("request") })
        });
        group.bench_function("read_only", |b| {
            b.to_async(&runtime)
                .iter(|| async { target.read_only(&cookie).await.expect("request") })
        });
        let mut n = 0u64;
        group.bench_function("changed", |b| {
            b.to_async(&runtime).iter(|| {
                n += 1;
                let (target, cookie) = (&target, &cookie);
                async move { target.changed(cookie, n).await.expect("request") }
            })
        });
        group.finish();
        if engine == "memcache" {
            raw_memcache(c, &runtime, &config, &cookie);
        }
    }
}

/// The bare commands on the server of the benchmark's session, with a value of its size.
fn raw_memcache(c: &mut Criterion, runtime: &tokio::runtime::Runtime, list: &str, cookie: &str) {
    let servers = MemcacheConfig::parse(list).expect(MEMCACHE_SERVERS).servers;
    let sid = session_id(cookie).expect("the session cookie");
    let home = servers[Placement::server_for(sid.as_bytes(), &servers)].clone();
    let (client, value) = runtime.block_on(async {
        let client = AsyncMetaClient::connect(home).await.expect("memcached");
        let stored = client.run(Get::new(sid)).await.expect("mg");
        (client, stored.value.expect("the stored session"))
    });
    let key = format!("raw-{sid}");
    let mut group = c.benchmark_group("memcache-raw");
    group.bench_function("get", |b| {
        b.to_async(runtime).iter(|| async {
            client
                .run(Get::new(sid).meta(Meta::NONE.cas().ttl()))
                .await
                .expect("mg")
        })
    });
    group.bench_function("get_set", |b| {
        b.to_async(runtime).iter(|| async {
            client.run(Get::new(&key)).await.expect("mg");
            let set = Set::new(&key, &value).ttl(Ttl::secs(3600));
            client.run(set).await.expect("ms")
        })
    });
    group.finish();
}

criterion_group!(benches, requests);
criterion_main!(benches);
