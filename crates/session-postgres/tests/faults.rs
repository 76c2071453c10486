//! The server goes away while a provider is in use (a PostgreSQL of the test's own is
//! stopped and restarted): see `session_testkit::sql::server_restart_is_survived`.

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_restart_is_survived() {
    session_testkit::sql::server_restart_is_survived(&common::engine()).await;
}
