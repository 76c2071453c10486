//! The servers go away under a live provider: requests fail with clear errors (engine and
//! address named, password never) within the timeouts, nothing hangs, and once the servers
//! are back the same provider works. Each test starts servers of its own; it runs in the
//! `cargo xtask test` run of its topology.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use http::HeaderMap;
use session_core::{Error, Manager, ManagerConfig};
use session_redis::{session_key, Topology};
use session_testkit::servers::redis;
use session_testkit::servers::{self, RedisCluster, RunningServer, ServerKind, StartOptions};

use common::cookie_request;

const PASSWORD: &str = "s3cret-Pa55word";

/// The providers under test connect and wait for answers 1 s at most; errors must come
/// within the operation's limit (both timeouts) plus scheduling slack.
const BOUND: Duration = Duration::from_secs(4);

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("a blocking test step")
}

/// Requires `PASSWORD` on the server at `url` (not persisted: again after each start).
fn require_password(url: &str) {
    redis::call(url, &["CONFIG", "SET", "requirepass", PASSWORD]).expect("CONFIG SET requirepass");
}

fn addr_of(server: &RunningServer) -> String {
    server
        .url
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_owned()
}

fn signal(server: &RunningServer, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(server.pid().to_string())
        .status();
    assert!(
        status.is_ok_and(|s| s.success()),
        "kill -{signal} {}",
        server.pid()
    );
}

async fn store(manager: &Manager, key: &str, value: &str) -> String {
    let session = manager
        .session_start(&http::Request::new(()))
        .await
        .unwrap();
    session.set(key, value).await.unwrap();
    session.release(&mut HeaderMap::new()).await.unwrap();
    session.id()
}

/// A failed request's error: a backend error (503) naming the engine and the address, and
/// never the password.
fn check_error(err: &Error, engine: &str, addr: &str) -> String {
    assert!(
        err.is_backend() && err.is_unavailable(),
        "not a backend error: {err}"
    );
    let mut message = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        message.push_str(&format!(" / {inner}"));
        source = inner.source();
    }
    assert!(
        message.contains(&format!("`{engine}`")) && message.contains(addr),
        "{message}"
    );
    assert!(
        !message.contains(PASSWORD),
        "the password leaked: {message}"
    );
    message
}

async fn a_stopped_server_fails_fast_and_a_restarted_one_works() {
    let mut server = blocking(|| {
        servers::start_with(
            ServerKind::Redis,
            StartOptions {
                append_only: true,
                ..Default::default()
            },
        )
    })
    .await
    .expect("redis-server");
    require_password(&server.url);
    let addr = addr_of(&server);
    let config =
        format!("{addr},3,{PASSWORD},0,connect_timeout=1s,response_timeout=1s,max_retries=3");
    let manager = Manager::new(
        "redis",
        ManagerConfig {
            provider_config: config,
            ..ManagerConfig::default()
        },
    )
    .await
    .unwrap();
    let sid = store(&manager, "user", "asta").await;

    // A wrong password: refused, and the error does not quote it.
    let wrong = format!("redis://:{PASSWORD}-wrong@{addr}/?connect_timeout=1s");
    let manager_wrong = Manager::new(
        "redis",
        ManagerConfig {
            provider_config: wrong,
            ..ManagerConfig::default()
        },
    )
    .await
    .unwrap();
    let err = manager_wrong
        .session_start(&cookie_request(&sid))
        .await
        .expect_err("a wrong password was accepted");
    let message = check_error(&err, "redis", &addr);
    assert!(
        !message.contains("-wrong"),
        "the password leaked: {message}"
    );

    let mut server = blocking(move || {
        server.stop();
        server
    })
    .await;
    let began = Instant::now();
    let err = manager
        .session_start(&cookie_request(&sid))
        .await
        .expect_err("a read with the server down");
    let message = check_error(&err, "redis", &addr);
    assert!(message.contains("read session"), "{message}");
    let session = manager
        .session_start(&http::Request::new(()))
        .await
        .unwrap();
    session.set("k", &1).await.unwrap();
    let err = session
        .release(&mut HeaderMap::new())
        .await
        .expect_err("a write with the server down");
    check_error(&err, "redis", &addr);
    let took = began.elapsed();
    assert!(took < 2 * BOUND, "two failing requests took {took:?}");
    eprintln!("server down: `{message}` after {took:?} for two requests");

    let mut server = blocking(move || {
        server.restart().expect("restart");
        require_password(&server.url);
        server
    })
    .await;
    // The same provider, no restart: the next request works, and the data is back.
    let session = manager.session_start(&cookie_request(&sid)).await.unwrap();
    assert!(
        !session.is_new(),
        "the session stored before the outage is gone"
    );
    assert_eq!(
        session.get::<String>("user").await.unwrap().as_deref(),
        Some("asta")
    );
    session.set("after", &1).await.unwrap();
    session.release(&mut HeaderMap::new()).await.unwrap();

    // A restart nobody noticed: every pooled connection is dead; requests still work.
    let server = blocking(move || {
        server.restart().expect("restart");
        require_password(&server.url);
        server
    })
    .await;
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let (manager, request) = (manager.clone(), cookie_request(&sid));
        tasks.push(tokio::spawn(async move {
            let session = manager.session_start(&request).await.unwrap();
            assert_eq!(session.get::<i32>("after").await.unwrap(), Some(1));
            session.release(&mut HeaderMap::new()).await.unwrap();
        }));
    }
    for task in tasks {
        task.await.expect("a request after an unnoticed restart");
    }
    assert_eq!(manager.get_active_session().await.unwrap(), 1);
    drop(server);
}

/// A server that stops answering (SIGSTOP): requests on pooled connections hit the response
/// timeout, new connections the connect timeout, a full pool the acquire timeout; after
/// SIGCONT the same provider works.
async fn a_frozen_server_times_out_and_recovers() {
    let server = blocking(|| servers::start(ServerKind::Redis))
        .await
        .expect("redis-server");
    let addr = addr_of(&server);
    let config = format!("redis://{addr}/?pool_size=2&connect_timeout=1s&response_timeout=1s");
    let manager = Manager::new(
        "redis",
        ManagerConfig {
            provider_config: config.clone(),
            ..ManagerConfig::default()
        },
    )
    .await
    .unwrap();
    let sid = store(&manager, "user", "asta").await;

    signal(&server, "STOP");
    let began = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (manager, request) = (manager.clone(), cookie_request(&sid));
        tasks.push(tokio::spawn(async move {
            let began = Instant::now();
            let err = manager
                .session_start(&request)
                .await
                .expect_err("a frozen server answered");
            (began.elapsed(), err)
        }));
    }
    // A provider that has no connection yet: connecting cannot finish either.
    let fresh = Manager::new(
        "redis",
        ManagerConfig {
            provider_config: config,
            ..ManagerConfig::default()
        },
    )
    .await
    .unwrap();
    let err = fresh
        .session_start(&cookie_request(&sid))
        .await
        .expect_err("connected to a frozen server");
    check_error(&err, "redis", &addr);
    for task in tasks {
        let (took, err) = task.await.unwrap();
        let message = check_error(&err, "redis", &addr);
        assert!(
            took < BOUND,
            "a request took {took:?} on a frozen server: {message}"
        );
        eprintln!("frozen server: `{message}` after {took:?}");
    }
    assert!(
        began.elapsed() < 2 * BOUND,
        "the frozen server held requests for {:?}",
        began.elapsed()
    );

    signal(&server, "CONT");
    let ok = common::eventually(Duration::from_secs(10), async || {
        match manager.session_start(&cookie_request(&sid)).await {
            Ok(session) => {
                session
                    .get::<String>("user")
                    .await
                    .ok()
                    .flatten()
                    .as_deref()
                    == Some("asta")
            }
            Err(_) => false,
        }
    })
    .await;
    assert!(ok, "the provider did not recover after SIGCONT");
    drop(server);
}

/// A cluster node holding a session is stopped: that session's requests fail within the
/// timeouts; once the node is back (empty: cluster nodes here keep no data), the same
/// provider stores and counts sessions again.
async fn a_stopped_cluster_node_fails_fast_and_recovers() {
    let mut cluster = blocking(RedisCluster::start).await.expect("a cluster");
    let urls = cluster.urls();
    let prefix = common::unique_prefix("fault");
    let config = format!("{urls}?prefix={prefix}&connect_timeout=1s&response_timeout=1s");
    let manager = Manager::new(
        "redis_cluster",
        ManagerConfig {
            provider_config: config,
            ..ManagerConfig::default()
        },
    )
    .await
    .unwrap();
    let sid = store(&manager, "user", "asta").await;
    let key = session_key(&prefix, &sid);
    let cluster_moved = blocking(move || {
        let node = cluster
            .node_for_key(key.as_bytes())
            .expect("the key's node");
        cluster.stop_node(node);
        (cluster, node)
    })
    .await;
    let (cluster, node) = cluster_moved;
    let addr = cluster.addrs()[0].clone();
    let began = Instant::now();
    let err = manager
        .session_start(&cookie_request(&sid))
        .await
        .expect_err("a read from a stopped node");
    let took = began.elapsed();
    let message = check_error(&err, "redis_cluster", &addr);
    assert!(took < BOUND, "the failing read took {took:?}: {message}");
    eprintln!("cluster node down: `{message}` after {took:?}");

    let mut cluster = cluster;
    let cluster = blocking(move || {
        cluster.restart_node(node).expect("the node back");
        cluster
    })
    .await;
    let ok = common::eventually(Duration::from_secs(20), async || {
        let Ok(session) = manager.session_start(&cookie_request(&sid)).await else {
            return false;
        };
        session.set("back", &1).await.is_ok()
            && session.release(&mut HeaderMap::new()).await.is_ok()
    })
    .await;
    assert!(
        ok,
        "the provider did not work again after the node came back"
    );
    assert!(manager.get_active_session().await.unwrap() >= 1);
    drop(cluster);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_server_stopped_and_restarted() {
    if common::target(
        Topology::Standalone,
        "standalone_server_stopped_and_restarted",
    )
    .is_some()
    {
        a_stopped_server_fails_fast_and_a_restarted_one_works().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_server_frozen() {
    if common::target(Topology::Standalone, "standalone_server_frozen").is_some() {
        a_frozen_server_times_out_and_recovers().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_node_stopped_and_restarted() {
    if common::target(Topology::Cluster, "cluster_node_stopped_and_restarted").is_some() {
        a_stopped_cluster_node_fails_fast_and_recovers().await;
    }
}
