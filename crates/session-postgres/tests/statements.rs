//! How many statements each kind of request costs, counted by the server itself: a
//! PostgreSQL of this test's own runs with `log_statement=all`, and the statements it
//! logs while each request runs are counted. Run with `--nocapture` to see the table.

mod common;

use std::path::Path;
use std::time::Duration;

use common::throwaway::Throwaway;
use session_core::conformance::Client;
use session_core::{Manager, ManagerConfig};
use session_postgres as _;

/// The statements logged so far.
fn logged(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .filter(|l| l.contains("LOG:  statement: ") || l.contains("LOG:  execute "))
        .map(str::to_owned)
        .collect()
}

/// Statements the server ran while `f` ran, and the first words of each.
async fn count<F: std::future::Future<Output = ()>>(log: &Path, f: F) -> (i64, String) {
    let before = logged(log).len();
    f.await;
    let after = logged(log);
    let kinds: Vec<String> = after[before..]
        .iter()
        .map(|line| {
            let sql = line.split_once(": ").map_or("", |(_, s)| s);
            let sql = sql.split_once(": ").map_or(sql, |(_, s)| s);
            sql.split_whitespace().next().unwrap_or("").to_owned()
        })
        .collect();
    (kinds.len() as i64, kinds.join(", "))
}

async fn request(manager: &Manager, client: &mut Client, change: Option<(&str, i64)>) {
    let session = manager.session_start(&client.request("/")).await.unwrap();
    let _ = session.get::<i64>("n").await.unwrap();
    if let Some((key, value)) = change {
        session.set(key, &value).await.unwrap();
    }
    let mut headers = http::HeaderMap::new();
    session.release(&mut headers).await.unwrap();
    client.absorb(&headers);
}

fn manager_config(url: &str, lifetime: u64) -> ManagerConfig {
    ManagerConfig {
        provider_config: format!("{url}?table=counted"),
        max_lifetime: lifetime,
        ..ManagerConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_per_request() {
    if common::server_url("statements_per_request").is_none() {
        return;
    }
    let server = tokio::task::spawn_blocking(|| Throwaway::start(true))
        .await
        .unwrap();
    let raw = server.log();
    let raw = raw.as_path();
    let manager = Manager::new("postgres", manager_config(&server.url(), 3600))
        .await
        .unwrap();
    let mut warm = Client::new();
    request(&manager, &mut warm, Some(("n", 0))).await;
    request(&manager, &mut warm, Some(("n", 1))).await;

    let mut table = Vec::new();
    let mut client = Client::new();
    table.push((
        "new visitor, session stays empty",
        0,
        count(raw, request(&manager, &mut Client::new(), None)).await,
    ));
    table.push((
        "new session with data",
        1,
        count(raw, request(&manager, &mut client, Some(("n", 1)))).await,
    ));
    table.push((
        "read only",
        1,
        count(raw, request(&manager, &mut client, None)).await,
    ));
    table.push((
        "changed",
        2,
        count(raw, request(&manager, &mut client, Some(("n", 2)))).await,
    ));

    // A lifetime of 100 s refreshes the expiry once it is over 1 s old.
    let short = Manager::new("postgres", manager_config(&server.url(), 100))
        .await
        .unwrap();
    let mut due = Client::new();
    request(&short, &mut due, Some(("n", 1))).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    table.push((
        "read only, expiry refresh due",
        1,
        count(raw, request(&short, &mut due, None)).await,
    ));

    // Two requests load the session, then both change it: the second one's conditional
    // write loses, re-reads, merges and writes again.
    let conflict = count(raw, async {
        let first = manager.session_start(&client.request("/")).await.unwrap();
        let second = manager.session_start(&client.request("/")).await.unwrap();
        first.set("a", &1).await.unwrap();
        second.set("b", &2).await.unwrap();
        first.release(&mut http::HeaderMap::new()).await.unwrap();
        second.release(&mut http::HeaderMap::new()).await.unwrap();
    })
    .await;
    table.push(("two concurrent changing requests", 6, conflict));
    let merged = manager.session_start(&client.request("/")).await.unwrap();
    assert_eq!(merged.get::<i64>("a").await.unwrap(), Some(1));
    assert_eq!(merged.get::<i64>("b").await.unwrap(), Some(2));

    let regenerate = count(raw, async {
        let session = manager.session_start(&client.request("/")).await.unwrap();
        session.regenerate().await.unwrap();
        let mut headers = http::HeaderMap::new();
        session.release(&mut headers).await.unwrap();
        client.absorb(&headers);
    })
    .await;
    table.push(("regenerate (read, delete old, insert new)", 3, regenerate));

    let moved = count(raw, async {
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
        "Manager::session_regenerate_id (one UPDATE … RETURNING)",
        1,
        moved,
    ));

    println!("\nstatements per request (PostgreSQL log_statement=all):");
    let mut wrong = Vec::new();
    for (what, expected, (got, kinds)) in &table {
        println!("  {what:<55} {got}  ({kinds})");
        if got != expected {
            wrong.push(format!("{what}: {got} statements, expected {expected}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
