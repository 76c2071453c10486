//! The public conformance suite against the engine, on the server `MYSQL_URL` names.

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance() {
    session_testkit::sql::conformance(&common::engine(), "mysql").await;
}
