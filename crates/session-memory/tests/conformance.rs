//! The memory engine against the public conformance suite.

use session_core::conformance::Suite;
use session_memory as _;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_engine_meets_the_contract() {
    Suite::new("memory").run().await;
}
