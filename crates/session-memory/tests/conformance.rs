//! The memory engine against the public conformance suite.

use std::sync::{Arc, Mutex};

use session_core::conformance::Suite;
use session_core::{Provider, ProviderFuture, ProviderInit};
use session_memory::MemoryProvider;

/// The suite, building its providers itself so that it can look into them: GC must really
/// remove expired sessions, not just have reads skip them.
fn observed_suite() -> Suite {
    let built: Arc<Mutex<Vec<MemoryProvider>>> = Arc::default();
    let for_held = Arc::clone(&built);
    Suite::new("memory")
        .factory(move |init: ProviderInit| -> ProviderFuture {
            let built = Arc::clone(&built);
            Box::pin(async move {
                let provider = MemoryProvider::from_init(&init)?;
                built.lock().unwrap().push(provider.clone());
                Ok(Arc::new(provider) as Arc<dyn Provider>)
            })
        })
        .held_with(move |sid: String| {
            let held = for_held.lock().unwrap().iter().any(|p| p.holds(&sid));
            Box::pin(async move { held })
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_engine_meets_the_contract() {
    observed_suite().run().await;
}

/// With a cap far above what the suite stores, nothing changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capped_memory_engine_meets_the_contract() {
    observed_suite()
        .provider_config(r#"{"maxEntries": 100000}"#)
        .run()
        .await;
}
