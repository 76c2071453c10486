//! The public conformance suite again, with the client-side cache on (`client_cache=on`):
//! every behaviour the suite checks holds when reads are served from the cache. The
//! corruption hook writes to the server behind the engine's back, so the suite's
//! corruption checks also check that the server's invalidation reaches the cache. No count
//! hook: this run is about behaviour (a cached read costs nothing, which `tests/cache_costs.rs`
//! counts).

mod common;

use std::sync::Arc;

use session_core::conformance::{Corruption, Suite};
use session_redis::{session_key, Topology};
use session_testkit::servers::redis::Reply;

async fn conformance(topology: Topology) {
    let Some(target) = common::target(topology, "conformance_cached") else {
        return;
    };
    let target = Arc::new(target);
    let prefix = common::unique_prefix("confc");
    let (corrupt, held) = (Arc::clone(&target), Arc::clone(&target));
    let (corrupt_prefix, held_prefix) = (prefix.clone(), prefix.clone());
    Suite::new(topology.engine())
        .provider_config(target.config(&prefix, "client_cache=on"))
        .corrupt_with(move |c: Corruption| {
            let (target, key) = (Arc::clone(&corrupt), session_key(&corrupt_prefix, &c.sid));
            Box::pin(async move {
                let reply = target
                    .call_str(&["HSET", &key, "#v", "not a version"])
                    .await;
                assert_eq!(reply, Reply::Integer(0), "the corrupted field existed");
                c
            })
        })
        .held_with(move |sid| {
            let (target, key) = (Arc::clone(&held), session_key(&held_prefix, &sid));
            Box::pin(async move { target.exists(&key).await })
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
