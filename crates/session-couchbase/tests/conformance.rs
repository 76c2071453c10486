//! The public conformance suite against the engine, on the server the `COUCHBASE_*`
//! variables name (skipped, saying so, without them).

mod common;

use std::sync::Arc;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use couchbase::options::kv_options::{GetOptions, UpsertOptions};
use couchbase::transcoding::{encode_common_flags, DataType};
use session_core::conformance::{Corruption, Suite};
use session_core::{Lifetimes, ProviderInit};
use session_couchbase::{CouchbaseConfig, CouchbaseProvider};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance() {
    let Some(server) = common::server("conformance") else {
        return;
    };
    // Every manager of the suite uses this prefix, and nothing else does: its exact counts
    // see only its own sessions.
    // The suite starts dozens of providers at once, each with its own cluster connection
    // (a bootstrap and a login per node): give a small test server time for all of them.
    let config = server.config(
        &common::unique_prefix("conf"),
        &[("connect_timeout", "60s")],
    );
    let parsed = CouchbaseConfig::parse(&config).expect("config");
    let raw = Arc::new(
        CouchbaseProvider::with_config(parsed, Lifetimes::sliding(Duration::from_secs(60)))
            .await
            .expect("a provider for the corruption hook"),
    );
    Suite::new("couchbase")
        .provider_config(config)
        .factory(|init: ProviderInit| {
            Box::pin(async move {
                let provider = CouchbaseProvider::connect(&init).await?;
                Ok(Arc::new(provider) as Arc<dyn session_core::Provider>)
            })
        })
        .corrupt_with(move |c: Corruption| {
            let raw = Arc::clone(&raw);
            Box::pin(async move {
                let key = raw.document_key(&c.sid);
                // Keep the document's expiry: read it, and write it back with the bytes
                // (preserve-expiry needs a server feature not every server has).
                let read = raw
                    .collection()
                    .get(key.as_str(), GetOptions::new().expiry(true))
                    .await
                    .expect("the stored session");
                let left = read
                    .expiry_time()
                    .map(|at| at.timestamp() - unix_now())
                    .unwrap_or(60)
                    .max(1);
                let flags = encode_common_flags(DataType::Binary);
                let keep_expiry = UpsertOptions::new().expiry(Duration::from_secs(left as u64));
                raw.collection()
                    .upsert_raw(key, b"\x01\xc1 not msgpack", flags, keep_expiry)
                    .await
                    .expect("overwrite the stored session");
                c
            })
        })
        .run()
        .await;
}

fn unix_now() -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_secs()).unwrap_or(i64::MAX)
}
