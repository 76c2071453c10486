//! The engines' behaviour on a real server beyond the conformance suite: expiry before GC,
//! batched GC, the table switch, the Go-style DSN, and a small pool under many writers and
//! under a row locked by someone else.

use std::time::{Duration, Instant};

use serde::Serialize;
use session_core::conformance::Client;
use session_core::{Context, Error, Manager, Session};

use super::{manager_config, unique_table, with_params, RawPool, SqlEngine};

/// Starts a session holding `key = value` and returns the client carrying its cookie.
pub async fn store_one(manager: &Manager, key: &str, value: i64) -> Client {
    let mut client = Client::new();
    let session = manager.session_start(&client.request("/")).await.unwrap();
    session.set(key, &value).await.unwrap();
    release_to(session, &mut client).await;
    client
}

/// Releases `session` and lets `client` take the cookies of the response.
pub async fn release_to(session: Session, client: &mut Client) {
    let mut headers = http::HeaderMap::new();
    session.release(&mut headers).await.unwrap();
    client.absorb(&headers);
}

/// The test server, a fresh table `prefix_…` on it, and a manager of the engine on that
/// table with `params` (`&`-separated, or empty) added to its config. `None`, after saying
/// so, when `test` is skipped.
pub async fn manager_on_new_table(
    engine: &SqlEngine,
    test: &str,
    prefix: &str,
    params: &str,
) -> Option<(String, String, Manager)> {
    let url = engine.server_url(test)?;
    let table = unique_table(prefix);
    let mut cfg = with_params(&url, &format!("table={table}"));
    if !params.is_empty() {
        cfg = with_params(&cfg, params);
    }
    let manager = Manager::new(engine.name, manager_config(cfg))
        .await
        .unwrap_or_else(|err| panic!("{} manager for {test}: {err}", engine.name));
    Some((url, table, manager))
}

/// Drops a test's table on the server at `url`.
pub async fn drop_test_table(engine: &SqlEngine, url: &str, table: &str) {
    RawPool::connect(engine.dialect, url)
        .await
        .drop_table(table)
        .await;
}

/// Starts a session for a new visitor, sets `key` to `value`, and returns the error that
/// releasing it must end in (`why` it must fail goes into the panic if it does not).
pub async fn failing_release<T: Serialize + Sync + ?Sized>(
    manager: &Manager,
    key: &str,
    value: &T,
    why: &str,
) -> Error {
    let session = manager
        .session_start(&Client::new().request("/"))
        .await
        .unwrap();
    session.set(key, value).await.unwrap();
    session
        .release(&mut http::HeaderMap::new())
        .await
        .expect_err(why)
}

/// Expired rows are invisible before GC runs, and GC deletes more than two batches of them
/// while keeping the live ones.
pub async fn expired_rows_are_hidden_before_gc_and_gc_deletes_them_in_batches(engine: &SqlEngine) {
    let Some(url) = engine.server_url("expired_rows") else {
        return;
    };
    let table = unique_table("gc");
    let provider = (engine.connect)(with_params(&url, &format!("table={table}")))
        .await
        .unwrap();
    let raw = RawPool::connect(engine.dialect, &url).await;
    // 2500 rows that expired ten seconds ago: more than two GC batches.
    raw.execute(&engine.dialect.insert_expired_sql(&table, 2500))
        .await;
    let manager = Manager::with_provider(engine.name, provider, manager_config(url)).unwrap();
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
    let left = raw.count(&engine.dialect.quote(&table)).await;
    assert_eq!(left, 3, "GC left {left} rows, expected the 3 live ones");
    raw.drop_table(&table).await;
}

/// With `create_table=false` writes fail, naming the table, until a DBA creates it with the
/// engine's own statement; then the same manager works.
pub async fn create_table_off_needs_the_dba_table(engine: &SqlEngine) {
    let Some((url, table, manager)) =
        manager_on_new_table(engine, "create_table_off", "dba", "create_table=false").await
    else {
        return;
    };
    let err = failing_release(&manager, "k", &1, "no table yet").await;
    assert!(
        err.is_backend() && err.to_string().contains(&table),
        "{err}"
    );

    let raw = RawPool::connect(engine.dialect, &url).await;
    raw.execute(&(engine.create_table_sql)(&table)).await;
    let client = store_one(&manager, "k", 2).await;
    let session = manager.session_start(&client.request("/")).await.unwrap();
    assert_eq!(session.get::<i64>("k").await.unwrap(), Some(2));
    raw.drop_table(&table).await;
}

/// The config string in the form users of the Go original write (see
/// [`Dialect::native_dsn`](super::Dialect::native_dsn)) reaches the server; the engine is
/// looked up under its [alias](SqlEngine::alias).
pub async fn the_native_dsn_reaches_the_server(engine: &SqlEngine) {
    let Some(url) = engine.server_url("native_dsn") else {
        return;
    };
    let table = unique_table("dsn");
    let dsn = engine.dialect.native_dsn(&url, &table);
    let manager = Manager::new(engine.alias, manager_config(dsn))
        .await
        .unwrap();
    let client = store_one(&manager, "dsn", 7).await;
    let session = manager.session_start(&client.request("/")).await.unwrap();
    assert_eq!(session.get::<i64>("dsn").await.unwrap(), Some(7));
    drop_test_table(engine, &url, &table).await;
}

/// 24 concurrent requests changing one session through a pool of two connections all keep
/// their changes.
pub async fn many_writers_on_a_small_pool_all_keep_their_changes(engine: &SqlEngine) {
    let Some((url, table, manager)) =
        manager_on_new_table(engine, "many_writers", "writers", "max_connections=2").await
    else {
        return;
    };
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
    drop_test_table(engine, &url, &table).await;
}

/// A row locked by another transaction makes the write fail with a backend error within the
/// configured timeouts; once the lock is gone the session works again.
pub async fn a_row_locked_elsewhere_fails_within_the_timeouts_then_recovers(engine: &SqlEngine) {
    let timeouts = "connect_timeout=1s&statement_timeout=1s";
    let Some((url, table, manager)) =
        manager_on_new_table(engine, "locked_row", "locked", timeouts).await
    else {
        return;
    };
    let client = store_one(&manager, "k", 1).await;
    let sid = client.cookie("beegosessionID").unwrap().to_owned();
    let session = manager.session_start(&client.request("/")).await.unwrap();
    session.set("k", &2).await.unwrap();

    let raw = RawPool::connect(engine.dialect, &url).await;
    let lock = raw.lock_row(&table, &sid).await;
    let began = Instant::now();
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
    lock.rollback().await;

    let session = manager.session_start(&client.request("/")).await.unwrap();
    session.set("k", &3).await.unwrap();
    session.release(&mut http::HeaderMap::new()).await.unwrap();
    let session = manager.session_start(&client.request("/")).await.unwrap();
    assert_eq!(session.get::<i64>("k").await.unwrap(), Some(3));
    raw.drop_table(&table).await;
}
