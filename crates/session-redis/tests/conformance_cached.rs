//! The public conformance suite again, with the client-side cache on (`client_cache=on`):
//! every behaviour the suite checks holds when reads are served from the cache. The
//! corruption hook writes to the server behind the engine's back, so the suite's
//! corruption checks also check that the server's invalidation reaches the cache. No count
//! hook: this run is about behaviour (a cached read costs nothing, which `tests/cache_costs.rs`
//! counts).

mod common;

use std::sync::Arc;

use session_redis::Topology;

async fn conformance(topology: Topology) {
    let Some(target) = common::target(topology, "conformance_cached") else {
        return;
    };
    let prefix = common::unique_prefix("confc");
    common::suite(topology, &Arc::new(target), &prefix, "client_cache=on")
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
