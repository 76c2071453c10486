//! The engine's own behaviour on a real server (`MYSQL_URL`), beyond the conformance
//! suite: the scenarios every SQL engine shares, and the size limit of a BLOB.

mod common;

use session_core::conformance::Client;
use session_core::{Error, Manager};
use session_mysql::MAX_DATA_SIZE;
use session_testkit::sql::{manager_config, unique_table, with_params, RawPool};

session_testkit::sql_engine_tests!(common::engine());

#[tokio::test]
async fn a_session_larger_than_a_blob_is_an_error_not_truncated() {
    let engine = common::engine();
    let Some(url) = engine.server_url("too_large") else {
        return;
    };
    let table = unique_table("big");
    let cfg = with_params(&url, &format!("table={table}"));
    let manager = Manager::new("mysql", manager_config(cfg)).await.unwrap();
    let session = manager
        .session_start(&Client::new().request("/"))
        .await
        .unwrap();
    session
        .set("big", &"x".repeat(MAX_DATA_SIZE))
        .await
        .unwrap();
    let err = session
        .release(&mut http::HeaderMap::new())
        .await
        .expect_err("oversized");
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    assert_eq!(manager.get_active_session().await.unwrap(), 0);
    RawPool::connect(engine.dialect, &url)
        .await
        .drop_table(&table)
        .await;
}
