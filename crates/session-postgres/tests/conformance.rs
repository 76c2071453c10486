//! The public conformance suite against the engine, under both names it registers, on the
//! server `POSTGRES_URL` names.

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_as_postgres() {
    session_testkit::sql::conformance(&common::engine(), "postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_as_postgresql() {
    session_testkit::sql::conformance(&common::engine(), "postgresql").await;
}
