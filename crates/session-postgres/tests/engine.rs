//! The engine's own behaviour on a real server (`POSTGRES_URL`), beyond the conformance
//! suite: the scenarios every SQL engine shares, and tables in another schema.

mod common;

use session_core::Manager;
use session_testkit::sql::{manager_config, store_one, unique_table, with_params, RawPool};

session_testkit::sql_engine_tests!(common::engine());

#[tokio::test]
async fn a_table_in_another_schema() {
    let engine = common::engine();
    let Some(url) = engine.server_url("schema_table") else {
        return;
    };
    let schema = unique_table("schema");
    let raw = RawPool::connect(engine.dialect, &url).await;
    raw.execute(&format!("CREATE SCHEMA \"{schema}\"")).await;
    let cfg = with_params(&url, &format!("table={schema}.sessions"));
    let manager = Manager::new("postgres", manager_config(cfg)).await.unwrap();
    let client = store_one(&manager, "s", 1).await;
    let session = manager.session_start(&client.request("/")).await.unwrap();
    assert_eq!(session.get::<i64>("s").await.unwrap(), Some(1));
    let rows = raw.count(&format!("\"{schema}\".sessions")).await;
    assert_eq!(rows, 1);
    raw.execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await;
}
