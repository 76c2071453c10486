//! How many statements each kind of request costs, counted from the log of a PostgreSQL of
//! this test's own running with `log_statement=all`. Run with `--nocapture` to see the table.

mod common;

use session_testkit::sql::StatementCosts;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_per_request() {
    let expected = StatementCosts {
        // One UPDATE … RETURNING moves the row and reads it back.
        regenerate_id: 1,
        ..StatementCosts::COMMON
    };
    session_testkit::sql::statements_per_request(&common::engine(), expected).await;
}
