//! The public conformance suite on each topology, with hooks that look into Redis: the
//! corruption hook writes junk into a session's version field, `held_with` asks `EXISTS`,
//! and the count hook totals `INFO commandstats` (this binary runs nothing else, so the
//! count sees only the suite).

mod common;

use std::sync::Arc;

use session_redis::Topology;

async fn conformance(topology: Topology) {
    let Some(target) = common::target(topology, "conformance") else {
        return;
    };
    let target = Arc::new(target);
    let prefix = common::unique_prefix("conf");
    let count = Arc::clone(&target);
    common::suite(topology, &target, &prefix, "")
        .count_backend_calls_with(move || {
            let target = Arc::clone(&count);
            Box::pin(async move { target.engine_calls().await })
        })
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone() {
    conformance(Topology::Standalone).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster() {
    conformance(Topology::Cluster).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel() {
    conformance(Topology::Sentinel).await;
}
