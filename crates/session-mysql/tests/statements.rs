//! How many statements each kind of request costs, counted by the server itself (the
//! global `Com_*` counters of a MariaDB of this test's own, so nothing else adds to them).
//! Run with `--nocapture` to see the table.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::throwaway::Throwaway;
use session_core::conformance::Client;
use session_core::{Manager, ManagerConfig};
use session_mysql as _;
use sqlx::mysql::MySqlPool;

const COUNTERS: [&str; 4] = ["Com_select", "Com_insert", "Com_update", "Com_delete"];

async fn counters(pool: &MySqlPool) -> BTreeMap<String, i64> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SHOW GLOBAL STATUS WHERE Variable_name IN \
         ('Com_select', 'Com_insert', 'Com_update', 'Com_delete')",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(k, v)| (k, v.parse().unwrap()))
        .collect()
}

/// Statements the server ran while `f` ran, by kind.
async fn count<F: std::future::Future<Output = ()>>(pool: &MySqlPool, f: F) -> (i64, String) {
    let before = counters(pool).await;
    f.await;
    let after = counters(pool).await;
    let mut total = 0;
    let mut kinds = Vec::new();
    for name in COUNTERS {
        let n = after[name] - before[name];
        total += n;
        if n > 0 {
            kinds.push(format!(
                "{} {n}",
                name.trim_start_matches("Com_").to_uppercase()
            ));
        }
    }
    (total, kinds.join(", "))
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
    let server = tokio::task::spawn_blocking(Throwaway::start).await.unwrap();
    let raw = common::raw_pool(&server.url()).await;
    let manager = Manager::new("mysql", manager_config(&server.url(), 3600))
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
        count(&raw, request(&manager, &mut Client::new(), None)).await,
    ));
    table.push((
        "new session with data",
        1,
        count(&raw, request(&manager, &mut client, Some(("n", 1)))).await,
    ));
    table.push((
        "read only",
        1,
        count(&raw, request(&manager, &mut client, None)).await,
    ));
    table.push((
        "changed",
        2,
        count(&raw, request(&manager, &mut client, Some(("n", 2)))).await,
    ));

    // A lifetime of 100 s refreshes the expiry once it is over 1 s old.
    let short = Manager::new("mysql", manager_config(&server.url(), 100))
        .await
        .unwrap();
    let mut due = Client::new();
    request(&short, &mut due, Some(("n", 1))).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    table.push((
        "read only, expiry refresh due",
        2,
        count(&raw, request(&short, &mut due, None)).await,
    ));

    // Two requests load the session, then both change it: the second one's conditional
    // write loses, re-reads, merges and writes again.
    let conflict = count(&raw, async {
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

    let regenerate = count(&raw, async {
        let session = manager.session_start(&client.request("/")).await.unwrap();
        session.regenerate().await.unwrap();
        let mut headers = http::HeaderMap::new();
        session.release(&mut headers).await.unwrap();
        client.absorb(&headers);
    })
    .await;
    table.push(("regenerate (read, delete old, insert new)", 3, regenerate));

    let moved = count(&raw, async {
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
        "Manager::session_regenerate_id (UPDATE key, SELECT)",
        2,
        moved,
    ));

    println!("\nstatements per request (MariaDB Com_* counters):");
    let mut wrong = Vec::new();
    for (what, expected, (got, kinds)) in &table {
        println!("  {what:<55} {got}  ({kinds})");
        if got != expected {
            wrong.push(format!("{what}: {got} statements, expected {expected}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
