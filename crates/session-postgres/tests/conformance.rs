//! The public conformance suite against the engine, on the server `POSTGRES_URL` names.

mod common;

use std::time::Duration;

use session_core::conformance::{Corruption, Suite};
use session_postgres::PostgresProvider;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_as_postgres() {
    suite("postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_as_postgresql() {
    suite("postgresql").await;
}

/// The whole suite on the engine registered as `name`, in a table of its own.
async fn suite(name: &str) {
    let Some(url) = common::server_url(&format!("conformance as {name}")) else {
        return;
    };
    let table = common::unique_table("conf");
    let config = common::with_params(&url, &format!("table={table}"));
    // Create the table once up front rather than from many concurrent providers.
    PostgresProvider::connect(&config, Duration::from_secs(60))
        .await
        .expect("provider");
    let raw = common::raw_pool(&url).await;
    let (hook_pool, hook_table) = (raw.clone(), table.clone());
    Suite::new(name)
        .provider_config(config)
        .corrupt_with(move |c: Corruption| {
            let (pool, table) = (hook_pool.clone(), hook_table.clone());
            Box::pin(async move {
                let sql =
                    format!("UPDATE \"{table}\" SET session_data = $1 WHERE session_key = $2");
                sqlx::query(&sql)
                    .bind(&b"\x01\xc1 not msgpack"[..])
                    .bind(&c.sid)
                    .execute(&pool)
                    .await
                    .expect("corrupt a row");
                c
            })
        })
        .run()
        .await;
    common::drop_table(&raw, &table).await;
}
