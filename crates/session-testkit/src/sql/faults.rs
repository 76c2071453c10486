//! The server goes away while a provider is in use: requests fail with clear errors within
//! the timeouts (no panic, no hang), and once the server is back the same provider works.

use std::time::{Duration, Instant};

use session_core::conformance::Client;
use session_core::Manager;

use super::{failing_release, manager_config, release_to, restart, with_params, SqlEngine};
use crate::servers::StartOptions;

/// Connect and statement timeouts of the provider under test; errors must come within
/// their sum (plus scheduling slack).
const TIMEOUT_SECS: u64 = 2;

/// Stops and restarts a server of the test's own under a manager in use.
pub async fn server_restart_is_survived(engine: &SqlEngine) {
    if engine.server_url("server_restart_is_survived").is_none() {
        return;
    }
    let server = engine.start_server(StartOptions::default()).await;
    let config = manager_config(with_params(
        &server.url,
        &format!(
            "table=faults&connect_timeout={TIMEOUT_SECS}s&statement_timeout={TIMEOUT_SECS}s&max_connections=3"
        ),
    ));
    let manager = Manager::new(engine.name, config).await.expect("manager");

    let mut client = Client::new();
    let session = manager.session_start(&client.request("/")).await.unwrap();
    session.set("user", "asta").await.unwrap();
    release_to(session, &mut client).await;

    let server = restart(server, false).await;

    // Reading a known session, and storing a new one, both fail cleanly and in time.
    let began = Instant::now();
    let err = manager
        .session_start(&client.request("/"))
        .await
        .expect_err("session_start with the server down");
    assert!(err.is_backend(), "not a backend error: {err}");
    let message = err.to_string();
    assert!(
        message.contains(engine.name) && message.contains("read session"),
        "{message}"
    );
    let err = failing_release(&manager, "k", &1, "release with the server down").await;
    assert!(err.is_backend(), "not a backend error: {err}");
    let took = began.elapsed();
    let bound = Duration::from_secs(2 * (2 * TIMEOUT_SECS) + 2);
    assert!(
        took < bound,
        "two failing requests took {took:?} (bound {bound:?})"
    );
    eprintln!("with the server down: `{message}` after {took:?} for two requests");

    let server = restart(server, true).await;
    // The same manager and provider, no restart: the next request works and the data
    // written before the outage is there.
    let session = manager.session_start(&client.request("/")).await.unwrap();
    assert!(
        !session.is_new(),
        "the session stored before the outage is gone"
    );
    assert_eq!(
        session.get::<String>("user").await.unwrap().as_deref(),
        Some("asta")
    );
    session.set("after", &1).await.unwrap();
    session.release(&mut http::HeaderMap::new()).await.unwrap();

    // A restart nobody noticed: the pool's idle connections are dead, and the next
    // request must still work (it retries on a fresh connection).
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let (manager, request) = (manager.clone(), client.request("/"));
        tasks.push(tokio::spawn(async move {
            let session = manager.session_start(&request).await.unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
            session.release(&mut http::HeaderMap::new()).await.unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let server = restart(server, true).await;
    let session = manager.session_start(&client.request("/")).await.unwrap();
    assert_eq!(session.get::<i64>("after").await.unwrap(), Some(1));
    assert_eq!(manager.get_active_session().await.unwrap(), 1);
    drop(server);
}
