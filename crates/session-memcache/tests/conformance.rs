//! The public conformance suite against the engine on the servers `MEMCACHE_SERVERS` names
//! (two under `cargo xtask test`), with the servers' own command counters (`stats`) to check
//! that a new visitor costs nothing.

mod common;

use session_core::conformance::{Corruption, Suite};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance() {
    let Some(list) = common::servers("conformance") else {
        return;
    };
    let servers = common::names(&list);
    assert!(
        servers.len() >= 2 || std::env::var("MEMCACHE_ONE_SERVER").is_ok(),
        "the suite runs on two servers at least ({} given); set MEMCACHE_ONE_SERVER=1 to allow one",
        servers.len()
    );
    let counted = servers.clone();
    Suite::new("memcache")
        .provider_config(list)
        .count_backend_calls_with(move || {
            let servers = counted.clone();
            Box::pin(async move { common::commands(&servers).await })
        })
        .corrupt_with(move |c: Corruption| {
            let servers = servers.clone();
            Box::pin(async move {
                let server = common::home(&servers, &c.sid).to_owned();
                common::overwrite(&server, &c.sid, b"\x01\xc1 not msgpack").await;
                c
            })
        })
        .run()
        .await;
}
