//! The throwaway SQL servers themselves: they accept the URL they report, keep their data
//! across a stop and restart, and expose what the statement tests count (PostgreSQL's
//! statement log, MariaDB's `Com_*` counters). Like the engines' tests they run under
//! `cargo xtask test`, which sets `MYSQL_URL` and `POSTGRES_URL`; plain `cargo test` skips.

use session_testkit::servers::{RunningServer, StartOptions};
use session_testkit::sql::{Dialect, RawPool, SqlEngine};

/// A server of `dialect`'s kind (started as the engines' tests start theirs), with a table
/// `kept` holding one row; `None` when skipped.
async fn server_with_a_row(dialect: Dialect, test: &str) -> Option<(RunningServer, RawPool)> {
    dialect.server_url(test)?;
    let engine = SqlEngine {
        dialect,
        name: "unused",
        alias: "unused",
        connect: |_| unreachable!("no provider in these tests"),
        create_table_sql: |_| unreachable!("no provider in these tests"),
    };
    let options = StartOptions {
        log_statements: dialect == Dialect::Postgres,
    };
    let server = engine.start_server(options).await;
    let raw = RawPool::connect(dialect, &server.url).await;
    raw.execute("CREATE TABLE kept (x INT)").await;
    raw.execute("INSERT INTO kept (x) VALUES (1)").await;
    Some((server, raw))
}

/// Stops `server` (clients can no longer connect), restarts it, and checks the row is back.
async fn restart_keeps_the_row(dialect: Dialect, server: RunningServer) -> RunningServer {
    let url = server.url.clone();
    let server = tokio::task::spawn_blocking(move || {
        let mut server = server;
        server.stop();
        server
    })
    .await
    .unwrap();
    let refused = match dialect {
        Dialect::MySql => sqlx::MySqlPool::connect(&url).await.is_err(),
        Dialect::Postgres => sqlx::PgPool::connect(&url).await.is_err(),
    };
    assert!(
        refused,
        "{dialect:?} still accepts connections after stop()"
    );
    let server = tokio::task::spawn_blocking(move || {
        let mut server = server;
        server.restart().expect("restart");
        server
    })
    .await
    .unwrap();
    let raw = RawPool::connect(dialect, &server.url).await;
    assert_eq!(
        raw.count("kept").await,
        1,
        "the row did not survive a restart"
    );
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_logs_statements_and_keeps_data_across_restarts() {
    let Some((server, _raw)) = server_with_a_row(Dialect::Postgres, "postgres_server").await else {
        return;
    };
    let log = server.read_log().unwrap();
    assert!(
        log.contains("LOG:  statement: INSERT INTO kept"),
        "the INSERT is not in the log:\n{log}"
    );
    let server = restart_keeps_the_row(Dialect::Postgres, server).await;
    let log = server.read_log().unwrap();
    assert!(
        log.contains("LOG:  statement: INSERT INTO kept"),
        "the log before the restart was lost"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_counts_statements_and_keeps_data_across_restarts() {
    let Some((server, raw)) = server_with_a_row(Dialect::MySql, "mariadb_server").await else {
        return;
    };
    let before = raw.global_status(&["Com_insert"]).await;
    raw.execute("INSERT INTO kept (x) VALUES (2)").await;
    raw.execute("DELETE FROM kept WHERE x = 2").await;
    let after = raw.global_status(&["Com_insert"]).await;
    assert_eq!(after["Com_insert"] - before["Com_insert"], 1);
    restart_keeps_the_row(Dialect::MySql, server).await;
}
