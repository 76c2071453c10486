//! The engine's own behaviour on a real server (`POSTGRES_URL`), beyond the conformance
//! suite: expiry before GC, batched GC, the table switch, the key=value DSN, schemas and a
//! small pool under many concurrent writers.

mod common;

use std::time::Duration;

use session_core::conformance::Client;
use session_core::{Context, Manager, ManagerConfig};
use session_postgres::{create_table_sql, PostgresProvider};

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
    let provider = PostgresProvider::connect(
        &common::with_params(&url, &format!("table={table}")),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    let raw = common::raw_pool(&url).await;
    // 2500 rows that expired ten seconds ago: more than two GC batches.
    sqlx::raw_sql(&format!(
        "INSERT INTO \"{table}\" (session_key, session_data, session_expiry) \
         SELECT 'expired' || i, '\\x0180'::bytea, (now() AT TIME ZONE 'UTC') - interval '10 seconds' \
         FROM generate_series(0, 2499) AS i"
    ))
    .execute(&raw)
    .await
    .unwrap();
    let manager =
        Manager::with_provider("postgres", std::sync::Arc::new(provider), config(url)).unwrap();
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
    let left: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{table}\""))
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
    let manager = Manager::new("postgres", config(cfg.clone())).await.unwrap();
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

/// `postgres://user:pass@host:port/db` as libpq's `host=… port=… user=… password=… dbname=…`.
fn key_values(url: &str) -> String {
    let rest = url.split_once("://").expect("a postgres:// URL").1;
    let (userinfo, rest) = rest.rsplit_once('@').expect("user in POSTGRES_URL");
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let (hostport, db) = rest.split_once('/').expect("database in POSTGRES_URL");
    let (host, port) = hostport.rsplit_once(':').unwrap_or((hostport, "5432"));
    let db = db.split('?').next().unwrap_or(db);
    format!("host={host} port={port} user={user} password='{password}' dbname={db} sslmode=disable")
}

#[tokio::test]
async fn the_key_value_dsn_reaches_the_server() {
    let Some(url) = common::server_url("key_value_dsn") else {
        return;
    };
    let table = common::unique_table("kv");
    let dsn = format!("{} table={table}", key_values(&url));
    let manager = Manager::new("postgresql", config(dsn)).await.unwrap();
    let client = store_one(&manager, "kv", 7).await;
    let session = manager.session_start(&client.request("/")).await.unwrap();
    assert_eq!(session.get::<i64>("kv").await.unwrap(), Some(7));
    common::drop_table(&common::raw_pool(&url).await, &table).await;
}

#[tokio::test]
async fn a_table_in_another_schema() {
    let Some(url) = common::server_url("schema_table") else {
        return;
    };
    let schema = common::unique_table("schema");
    let raw = common::raw_pool(&url).await;
    sqlx::raw_sql(&format!("CREATE SCHEMA \"{schema}\""))
        .execute(&raw)
        .await
        .unwrap();
    let cfg = common::with_params(&url, &format!("table={schema}.sessions"));
    let manager = Manager::new("postgres", config(cfg)).await.unwrap();
    let client = store_one(&manager, "s", 1).await;
    let session = manager.session_start(&client.request("/")).await.unwrap();
    assert_eq!(session.get::<i64>("s").await.unwrap(), Some(1));
    let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{schema}\".sessions"))
        .fetch_one(&raw)
        .await
        .unwrap();
    assert_eq!(rows, 1);
    sqlx::raw_sql(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .execute(&raw)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_writers_on_a_small_pool_all_keep_their_changes() {
    let Some(url) = common::server_url("many_writers") else {
        return;
    };
    let table = common::unique_table("writers");
    let cfg = common::with_params(&url, &format!("table={table}&max_connections=2"));
    let manager = Manager::new("postgres", config(cfg)).await.unwrap();
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
    let manager = Manager::new("postgres", config(cfg)).await.unwrap();
    let client = store_one(&manager, "k", 1).await;
    let sid = client.cookie("beegosessionID").unwrap().to_owned();
    let session = manager.session_start(&client.request("/")).await.unwrap();
    session.set("k", &2).await.unwrap();

    let raw = common::raw_pool(&url).await;
    let mut lock = raw.begin().await.unwrap();
    sqlx::query(&format!(
        "SELECT 1 FROM \"{table}\" WHERE session_key = $1 FOR UPDATE"
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
