//! The public conformance suite on each topology, with hooks that look into Redis: the
//! corruption hook writes junk into a session's version field, `held_with` asks `EXISTS`,
//! and the count hook totals `INFO commandstats` (this binary runs nothing else, so the
//! count sees only the suite).

mod common;

use std::sync::Arc;

use session_core::conformance::{Corruption, Suite};
use session_redis::{session_key, Topology};
use session_testkit::servers::redis::Reply;

async fn conformance(topology: Topology) {
    let Some(target) = common::target(topology, "conformance") else {
        return;
    };
    let target = Arc::new(target);
    let prefix = common::unique_prefix("conf");
    let (corrupt, held, count) = (
        Arc::clone(&target),
        Arc::clone(&target),
        Arc::clone(&target),
    );
    let (corrupt_prefix, held_prefix) = (prefix.clone(), prefix.clone());
    Suite::new(topology.engine())
        .provider_config(target.config(&prefix, ""))
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
