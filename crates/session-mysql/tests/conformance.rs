//! The public conformance suite against the engine, on the server `MYSQL_URL` names.

mod common;

use std::time::Duration;

use session_core::conformance::{Corruption, Suite};
use session_mysql::MysqlProvider;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance() {
    let Some(url) = common::server_url("conformance") else {
        return;
    };
    let table = common::unique_table("conf");
    let config = common::with_params(&url, &format!("table={table}"));
    // Create the table once up front rather than from many concurrent providers.
    MysqlProvider::connect(&config, Duration::from_secs(60))
        .await
        .expect("provider");
    let raw = common::raw_pool(&url).await;
    let (hook_pool, hook_table) = (raw.clone(), table.clone());
    Suite::new("mysql")
        .provider_config(config)
        .corrupt_with(move |c: Corruption| {
            let (pool, table) = (hook_pool.clone(), hook_table.clone());
            Box::pin(async move {
                let sql = format!("UPDATE `{table}` SET session_data = ? WHERE session_key = ?");
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
