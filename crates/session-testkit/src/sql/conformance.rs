//! The public conformance suite against an SQL engine, with a corruption hook that
//! overwrites a session's stored bytes.

use session_core::conformance::{Corruption, Suite};

use super::{unique_table, with_params, RawPool, SqlEngine};

/// Runs the whole suite on the engine registered as `name`, in a table of its own.
pub async fn conformance(engine: &SqlEngine, name: &str) {
    let Some(url) = engine.server_url(&format!("conformance as {name}")) else {
        return;
    };
    let table = unique_table("conf");
    let config = with_params(&url, &format!("table={table}"));
    // Create the table once up front rather than from many concurrent providers.
    (engine.connect)(config.clone()).await.expect("provider");
    let raw = RawPool::connect(engine.dialect, &url).await;
    let (hook_pool, hook_table) = (raw.clone(), table.clone());
    Suite::new(name)
        .provider_config(config)
        .corrupt_with(move |c: Corruption| {
            let (pool, table) = (hook_pool.clone(), hook_table.clone());
            Box::pin(async move {
                pool.set_data(&table, &c.sid, b"\x01\xc1 not msgpack").await;
                c
            })
        })
        .run()
        .await;
    raw.drop_table(&table).await;
}
