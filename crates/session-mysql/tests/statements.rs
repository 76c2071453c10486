//! How many statements each kind of request costs, counted by the global `Com_*` counters
//! of a MariaDB of this test's own. Run with `--nocapture` to see the table.

mod common;

use session_testkit::sql::StatementCosts;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_per_request() {
    let expected = StatementCosts {
        // MariaDB has no UPDATE … RETURNING: a move is an UPDATE of the key, then a SELECT
        // of the moved row.
        regenerate: 3,
        regenerate_id: 2,
        ..StatementCosts::COMMON
    };
    session_testkit::sql::statements_per_request(&common::engine(), expected).await;
}
