//! The engine's own behaviour on a real server (`MYSQL_URL`), beyond the conformance
//! suite: the scenarios every SQL engine shares, and the size limit of a BLOB.

mod common;

use session_core::Error;
use session_mysql::MAX_DATA_SIZE;
use session_testkit::sql::{drop_test_table, failing_release, manager_on_new_table};

session_testkit::sql_engine_tests!(common::engine());

#[tokio::test]
async fn a_session_larger_than_a_blob_is_an_error_not_truncated() {
    let engine = common::engine();
    let Some((url, table, manager)) = manager_on_new_table(&engine, "too_large", "big", "").await
    else {
        return;
    };
    let big = "x".repeat(MAX_DATA_SIZE);
    let err = failing_release(&manager, "big", &big, "oversized").await;
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    assert_eq!(manager.get_active_session().await.unwrap(), 0);
    drop_test_table(&engine, &url, &table).await;
}
