//! The public conformance suite against the engine, on the server the `COUCHBASE_*`
//! variables name (skipped, saying so, without them).

mod common;

use std::sync::Arc;

use couchbase::options::kv_options::UpsertOptions;
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
    let config = server.config(&common::unique_prefix("conf"), &[]);
    let parsed = CouchbaseConfig::parse(&config).expect("config");
    let raw = Arc::new(
        CouchbaseProvider::with_config(
            parsed,
            Lifetimes::sliding(std::time::Duration::from_secs(60)),
        )
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
                let flags = encode_common_flags(DataType::Binary);
                let keep_expiry = UpsertOptions::new().preserve_expiry(true);
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
