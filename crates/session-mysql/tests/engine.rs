//! The engine's own behaviour on a real server (`MYSQL_URL`), beyond the conformance
//! suite: expiry before GC, batched GC, the table switch, the Go DSN, size limits and a
//! small pool under many concurrent writers.

mod common;

use std::time::Duration;

use session_core::conformance::Client;
use session_core::{Context, Error, Manager, ManagerConfig};
use session_mysql::{create_table_sql, MysqlProvider, MAX_DATA_SIZE};

fn config(provider_config: String) -> ManagerConfig {
    ManagerConfig {
        provider_config,
        ..ManagerConfig::default()
    }
}

async fn store_one(manager: &Manager, key: &str, value: i64) -> Client {
    let mut client = Client::new();
    let session = manager.session_start(&client.request("/")).await.unwrap();
    session.set(key, &value).await.unwrap();
    let mut headers = http::HeaderMap::new();
    session.release(&mut headers).await.unwrap();
    client.absorb(&headers);
    client
}

#[tokio::test]
async fn expired_rows_are_hidden_before_gc_and_gc_deletes_them_in_batches() {
    let Some(url) = common::server_url("expired_rows") else {
        return;
    };
    let table = common::unique_table("gc");
    let provider = MysqlProvider::connect(
        &common::with_params(&url, &format!("table={table}")),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    let raw = common::raw_pool(&url).await;
    // 2500 rows that expired ten seconds ago: more than two GC batches.
    let rows: Vec<String> = (0..2500)
        .map(|i| format!("('expired{i}', X'0180', UNIX_TIMESTAMP() - 10)"))
        .collect();
    sqlx::raw_sql(&format!(
        "INSERT INTO `{table}` (session_key, session_data, session_expiry) VALUES {}",
        rows.join(", ")
    ))
    .execute(&raw)
    .await
    .unwrap();
    let manager =
        Manager::with_provider("mysql", std::sync::Arc::new(provider), config(url)).unwrap();
    for i in 0..3 {
        store_one(&manager, "live", i).await;
    }
    let provider = manager.provider();
    let cx = Context::detached();
    assert_eq!(provider.session_all().await.unwrap(), 3);
    assert!(!provider.session_exist(&cx, "expired7").await.unwrap());
    assert!(provider
        .session_load(&cx, "expired7")
        .await
        .unwrap()
        .is_none());
    let read = provider.session_read(&cx, "expired7").await.unwrap();
    assert!(
        read.keys().await.unwrap().is_empty(),
        "expired data was read"
    );

    manager.gc().await.unwrap();
    let left: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM `{table}`"))
        .fetch_one(&raw)
        .await
        .unwrap();
    assert_eq!(left, 3, "GC left {left} rows, expected the 3 live ones");
    common::drop_table(&raw, &table).await;
}

#[tokio::test]
async fn create_table_off_needs_the_dba_table() {
    let Some(url) = common::server_url("create_table_off") else {
        return;
    };
    let table = common::unique_table("dba");
    let cfg = common::with_params(&url, &format!("table={table}&create_table=false"));
    let manager = Manager::new("mysql", config(cfg.clone())).await.unwrap();
    let session = manager
        .session_start(&Client::new().request("/"))
        .await
        .unwrap();
    session.set("k", &1).await.unwrap();
    let err = session
        .release(&mut http::HeaderMap::new())
        .await
        .expect_err("no table yet");
    assert!(
        err.is_backend() && err.to_string().contains(&table),
        "{err}"
    );

    let raw = common::raw_pool(&url).await;
    sqlx::raw_sql(&create_table_sql(&table))
        .execute(&raw)
        .await
        .unwrap();
    let client = store_one(&manager, "k", 2).await;
    let session = manager.session_start(&client.request("/")).await.unwrap();
    assert_eq!(session.get::<i64>("k").await.unwrap(), Some(2));
    common::drop_table(&raw, &table).await;
}

/// `mysql://user:pass@host:port/db` as the Go driver's `user:pass@tcp(host:port)/db`.
fn go_dsn(url: &str) -> String {
    let rest = url.strip_prefix("mysql://").expect("a mysql:// URL");
    let (userinfo, rest) = rest.rsplit_once('@').expect("user in MYSQL_URL");
    let (host, db) = rest.split_once('/').expect("database in MYSQL_URL");
    let db = db.split('?').next().unwrap_or(db);
    format!("{userinfo}@tcp({host})/{db}?charset=utf8mb4&parseTime=true")
}

#[tokio::test]
async fn the_go_driver_dsn_reaches_the_server() {
    let Some(url) = common::server_url("go_dsn") else {
        return;
    };
    let table = common::unique_table("godsn");
    let dsn = format!("{}&table={table}", go_dsn(&url));
    let manager = Manager::new("MySQL", config(dsn)).await.unwrap();
    let client = store_one(&manager, "go", 7).await;
    let session = manager.session_start(&client.request("/")).await.unwrap();
    assert_eq!(session.get::<i64>("go").await.unwrap(), Some(7));
    common::drop_table(&common::raw_pool(&url).await, &table).await;
}

#[tokio::test]
async fn a_session_larger_than_a_blob_is_an_error_not_truncated() {
    let Some(url) = common::server_url("too_large") else {
        return;
    };
    let table = common::unique_table("big");
    let cfg = common::with_params(&url, &format!("table={table}"));
    let manager = Manager::new("mysql", config(cfg)).await.unwrap();
    let session = manager
        .session_start(&Client::new().request("/"))
        .await
        .unwrap();
    session
        .set("big", &"x".repeat(MAX_DATA_SIZE))
        .await
        .unwrap();
    let err = session
        .release(&mut http::HeaderMap::new())
        .await
        .expect_err("oversized");
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    assert_eq!(manager.get_active_session().await.unwrap(), 0);
    common::drop_table(&common::raw_pool(&url).await, &table).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_writers_on_a_small_pool_all_keep_their_changes() {
    let Some(url) = common::server_url("many_writers") else {
        return;
    };
    let table = common::unique_table("writers");
    let cfg = common::with_params(&url, &format!("table={table}&max_connections=2"));
    let manager = Manager::new("mysql", config(cfg)).await.unwrap();
    let client = store_one(&manager, "base", 0).await;
    let mut tasks = Vec::new();
    for i in 0..24i64 {
        let (manager, request) = (manager.clone(), client.request("/"));
        tasks.push(tokio::spawn(async move {
            let session = manager.session_start(&request).await?;
            session.set(&format!("w{i}"), &i).await?;
            session.release(&mut http::HeaderMap::new()).await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let session = manager.session_start(&client.request("/")).await.unwrap();
    for i in 0..24i64 {
        assert_eq!(
            session.get::<i64>(&format!("w{i}")).await.unwrap(),
            Some(i),
            "w{i} lost"
        );
    }
    assert_eq!(session.get::<i64>("base").await.unwrap(), Some(0));
    common::drop_table(&common::raw_pool(&url).await, &table).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_locked_elsewhere_fails_within_the_timeouts_then_recovers() {
    let Some(url) = common::server_url("locked_row") else {
        return;
    };
    let table = common::unique_table("locked");
    let cfg = common::with_params(
        &url,
        &format!("table={table}&connect_timeout=1s&statement_timeout=1s"),
    );
    let manager = Manager::new("mysql", config(cfg)).await.unwrap();
    let client = store_one(&manager, "k", 1).await;
    let sid = client.cookie("beegosessionID").unwrap().to_owned();
    let session = manager.session_start(&client.request("/")).await.unwrap();
    session.set("k", &2).await.unwrap();

    let raw = common::raw_pool(&url).await;
    let mut lock = raw.begin().await.unwrap();
    sqlx::query(&format!(
        "SELECT 1 FROM `{table}` WHERE session_key = ? FOR UPDATE"
    ))
    .bind(&sid)
    .execute(&mut *lock)
    .await
    .unwrap();
    let began = std::time::Instant::now();
    let err = session
        .release(&mut http::HeaderMap::new())
        .await
        .expect_err("the row is locked");
    let took = began.elapsed();
    assert!(err.is_backend(), "{err}");
    assert!(
        took < Duration::from_secs(5),
        "a locked row held the request {took:?}"
    );
    lock.rollback().await.unwrap();

    let session = manager.session_start(&client.request("/")).await.unwrap();
    session.set("k", &3).await.unwrap();
    session.release(&mut http::HeaderMap::new()).await.unwrap();
    let session = manager.session_start(&client.request("/")).await.unwrap();
    assert_eq!(session.get::<i64>("k").await.unwrap(), Some(3));
    common::drop_table(&raw, &table).await;
}
