//! How many statements each kind of request costs, counted by the server itself on a server
//! of the test's own (so nothing else adds to the count): MariaDB's global `Com_*` counters,
//! or the statements a PostgreSQL started with `log_statement=all` logs. Run with
//! `--nocapture` to see the table.

use std::future::Future;
use std::time::Duration;

use session_core::conformance::Client;
use session_core::{Manager, ManagerConfig};

use super::{release_to, with_params, Dialect, RawPool, SqlEngine};
use crate::servers::{RunningServer, StartOptions};

/// The MariaDB counters of the statements a session engine runs.
const COUNTERS: [&str; 4] = ["Com_select", "Com_insert", "Com_update", "Com_delete"];

/// The statements each kind of request is expected to cost an engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementCosts {
    /// A new visitor whose session stays empty.
    pub new_empty: i64,
    /// A new session that gets data.
    pub new_with_data: i64,
    /// Reading an existing session without changing it.
    pub read_only: i64,
    /// Changing an existing session.
    pub changed: i64,
    /// Reading only, when the expiry is due for a refresh.
    pub refresh_due: i64,
    /// Two concurrent requests loading the session, then both changing it.
    pub concurrent_changes: i64,
    /// `Session::regenerate`.
    pub regenerate: i64,
    /// `Manager::session_regenerate_id`.
    pub regenerate_id: i64,
}

impl StatementCosts {
    /// The costs an engine with one-statement reads and conditional writes reaches: nothing
    /// for a session that stays empty, one INSERT for a new one, one read, a read and a
    /// write for a change, a read and an UPDATE of the expiry when its refresh is due,
    /// three statements each for two concurrent changes, and for `regenerate` the read and
    /// one statement that moves the row (keeping its expiry) and returns it. An engine
    /// states the costs that depend on its SQL and takes the rest from here.
    pub const COMMON: StatementCosts = StatementCosts {
        new_empty: 0,
        new_with_data: 1,
        read_only: 1,
        changed: 2,
        refresh_due: 2,
        concurrent_changes: 6,
        regenerate: 2,
        regenerate_id: 1,
    };
}

/// Counts the statements a server runs, the way its dialect allows.
enum Counter<'a> {
    /// MariaDB's global counters, read over a pool of the test's own.
    Status(RawPool),
    /// PostgreSQL's statement log.
    Log(&'a RunningServer),
}

impl Counter<'_> {
    /// Statements the server ran while `f` ran, and what they were.
    async fn count<F: Future<Output = ()>>(&self, f: F) -> (i64, String) {
        match self {
            Counter::Status(pool) => {
                let before = pool.global_status(&COUNTERS).await;
                f.await;
                let after = pool.global_status(&COUNTERS).await;
                let mut total = 0;
                let mut kinds = Vec::new();
                for name in COUNTERS {
                    let n = after[name] - before[name];
                    total += n;
                    if n > 0 {
                        let kind = name.trim_start_matches("Com_").to_uppercase();
                        kinds.push(format!("{kind} {n}"));
                    }
                }
                (total, kinds.join(", "))
            }
            Counter::Log(server) => {
                let before = logged_statements(&read_log(server)).len();
                f.await;
                let log = read_log(server);
                let kinds = &logged_statements(&log)[before..];
                (kinds.len() as i64, kinds.join(", "))
            }
        }
    }
}

fn read_log(server: &RunningServer) -> String {
    server.read_log().expect("the server's log")
}

/// The first word of every statement in a PostgreSQL log written with `log_statement=all`.
fn logged_statements(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains("LOG:  statement: ") || l.contains("LOG:  execute "))
        .map(|line| {
            let sql = line.split_once(": ").map_or("", |(_, s)| s);
            let sql = sql.split_once(": ").map_or(sql, |(_, s)| s);
            sql.split_whitespace().next().unwrap_or("")
        })
        .collect()
}

async fn request(manager: &Manager, client: &mut Client, change: Option<(&str, i64)>) {
    let session = manager.session_start(&client.request("/")).await.unwrap();
    let _ = session.get::<i64>("n").await.unwrap();
    if let Some((key, value)) = change {
        session.set(key, &value).await.unwrap();
    }
    release_to(session, client).await;
}

fn config(url: &str, lifetime: u64) -> ManagerConfig {
    ManagerConfig {
        provider_config: with_params(url, "table=counted"),
        max_lifetime: lifetime,
        ..ManagerConfig::default()
    }
}

/// Measures the statements of each kind of request and asserts they are `expected`.
pub async fn statements_per_request(engine: &SqlEngine, expected: StatementCosts) {
    if engine.server_url("statements_per_request").is_none() {
        return;
    }
    let options = StartOptions {
        log_statements: engine.dialect == Dialect::Postgres,
        ..StartOptions::default()
    };
    let server = engine.start_server(options).await;
    let counter = match engine.dialect {
        Dialect::MySql => Counter::Status(RawPool::connect(engine.dialect, &server.url).await),
        Dialect::Postgres => Counter::Log(&server),
    };
    let manager = Manager::new(engine.name, config(&server.url, 3600))
        .await
        .unwrap();
    let mut warm = Client::new();
    request(&manager, &mut warm, Some(("n", 0))).await;
    request(&manager, &mut warm, Some(("n", 1))).await;

    let mut table = Vec::new();
    let mut client = Client::new();
    table.push((
        "new visitor, session stays empty",
        expected.new_empty,
        counter
            .count(request(&manager, &mut Client::new(), None))
            .await,
    ));
    table.push((
        "new session with data",
        expected.new_with_data,
        counter
            .count(request(&manager, &mut client, Some(("n", 1))))
            .await,
    ));
    table.push((
        "read only",
        expected.read_only,
        counter.count(request(&manager, &mut client, None)).await,
    ));
    table.push((
        "changed",
        expected.changed,
        counter
            .count(request(&manager, &mut client, Some(("n", 2))))
            .await,
    ));

    // A lifetime of 100 s refreshes the expiry once it is over 1 s old.
    let short = Manager::new(engine.name, config(&server.url, 100))
        .await
        .unwrap();
    let mut due = Client::new();
    request(&short, &mut due, Some(("n", 1))).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    table.push((
        "read only, expiry refresh due",
        expected.refresh_due,
        counter.count(request(&short, &mut due, None)).await,
    ));

    // Two requests load the session, then both change it: the second one's conditional
    // write loses, re-reads, merges and writes again.
    let conflict = counter
        .count(async {
            let first = manager.session_start(&client.request("/")).await.unwrap();
            let second = manager.session_start(&client.request("/")).await.unwrap();
            first.set("a", &1).await.unwrap();
            second.set("b", &2).await.unwrap();
            first.release(&mut http::HeaderMap::new()).await.unwrap();
            second.release(&mut http::HeaderMap::new()).await.unwrap();
        })
        .await;
    table.push((
        "two concurrent changing requests",
        expected.concurrent_changes,
        conflict,
    ));
    let merged = manager.session_start(&client.request("/")).await.unwrap();
    assert_eq!(merged.get::<i64>("a").await.unwrap(), Some(1));
    assert_eq!(merged.get::<i64>("b").await.unwrap(), Some(2));

    let regenerate = counter
        .count(async {
            let session = manager.session_start(&client.request("/")).await.unwrap();
            session.regenerate().await.unwrap();
            release_to(session, &mut client).await;
        })
        .await;
    table.push((
        "Session::regenerate (read, then the move at release)",
        expected.regenerate,
        regenerate,
    ));

    let moved = counter
        .count(async {
            let mut headers = http::HeaderMap::new();
            let session = manager
                .session_regenerate_id(&client.request("/"), &mut headers)
                .await
                .unwrap();
            session.release(&mut headers).await.unwrap();
            client.absorb(&headers);
        })
        .await;
    table.push((
        "Manager::session_regenerate_id",
        expected.regenerate_id,
        moved,
    ));

    let how = match engine.dialect {
        Dialect::MySql => "MariaDB Com_* counters",
        Dialect::Postgres => "PostgreSQL log_statement=all",
    };
    println!("\nstatements per request ({how}):");
    let mut wrong = Vec::new();
    for (what, expected, (got, kinds)) in &table {
        println!("  {what:<55} {got}  ({kinds})");
        if got != expected {
            wrong.push(format!("{what}: {got} statements, expected {expected}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_are_statements() {
        let log = "2026-11-29 20:00:00 UTC [1] LOG:  statement: SELECT 1\n\
                   2026-11-29 20:00:00 UTC [1] LOG:  execute sqlx_s_1: UPDATE t SET x = $1\n\
                   2026-11-29 20:00:00 UTC [1] LOG:  checkpoint starting: time\n";
        assert_eq!(logged_statements(log), ["SELECT", "UPDATE"]);
    }
}
