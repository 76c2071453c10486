//! One request per iteration on each engine (SQL ones when their servers are named): a new visitor, a read-only request,
//! and a request that changes one key. Run with `cargo xtask bench`.

use criterion::{criterion_group, criterion_main, Criterion};
use session_bench::{engines, Target};

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
    }
}

criterion_group!(benches, requests);
criterion_main!(benches);
