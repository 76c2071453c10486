//! The session layer and extractor through a real axum router, on real engines.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{app, flaky_manager, send, send_request, Gate};
use session_core::{Manager, ManagerConfig, SameSite};
use session_memory as _;
use session_web::SessionLayer;

const NAME: &str = "beegosessionID";

async fn memory_app(config: ManagerConfig) -> (axum::Router, Manager) {
    let manager = Manager::new("memory", config).await.unwrap();
    (
        app(
            SessionLayer::new(manager.clone()),
            Arc::new(Gate::default()),
        ),
        manager,
    )
}

fn jar(sid: &str) -> String {
    format!("{NAME}={sid}")
}

#[tokio::test]
async fn counter_starts_at_zero_and_counts_reloads() {
    let (app, manager) = memory_app(ManagerConfig::default()).await;
    let first = send(&app, "GET", "/", None).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body, "count=0 user=");
    let sid = first
        .cookie(NAME)
        .expect("first visit sets the session cookie");
    for expected in 1..4 {
        let next = send(&app, "GET", "/", Some(&jar(&sid))).await;
        assert_eq!(next.body, format!("count={expected} user="));
        // Without cookieLifeTime there is nothing to refresh: no cookie again.
        assert!(next.set_cookies().is_empty(), "{:?}", next.set_cookies());
    }
    assert_eq!(manager.get_active_session().await.unwrap(), 1);
}

#[tokio::test]
async fn cookie_carries_beegos_defaults() {
    let (app, _) = memory_app(ManagerConfig::default()).await;
    let reply = send(&app, "GET", "/", None).await;
    let cookie = &reply.set_cookies()[0];
    for part in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(part), "{part} missing from {cookie}");
    }
    for absent in ["Secure", "Max-Age", "Domain"] {
        assert!(!cookie.contains(absent), "{absent} in {cookie}");
    }
}

#[tokio::test]
async fn cookie_carries_every_configured_attribute() {
    let config = ManagerConfig::builder()
        .cookie_name("sid")
        .domain("example.test")
        .secure(true)
        .cookie_life_time(Duration::from_secs(600))
        .cookie_same_site(SameSite::Strict)
        .disable_http_only(true)
        .build()
        .unwrap();
    let (app, _) = memory_app(config).await;
    let reply = send(&app, "GET", "/", None).await;
    let cookie = &reply.set_cookies()[0];
    assert!(cookie.starts_with("sid="), "{cookie}");
    for part in [
        "Domain=example.test",
        "Secure",
        "SameSite=Strict",
        "Max-Age=600",
        "Expires=",
        "Path=/",
    ] {
        assert!(cookie.contains(part), "{part} missing from {cookie}");
    }
    assert!(!cookie.contains("HttpOnly"), "{cookie}");
    // With a cookie lifetime the cookie is refreshed on every visit (sliding expiry).
    let sid = reply.cookie("sid").unwrap();
    let again = send(&app, "GET", "/", Some(&format!("sid={sid}"))).await;
    assert_eq!(again.cookie("sid").as_deref(), Some(sid.as_str()));
    assert!(again.set_cookies()[0].contains("Max-Age=600"));
}

#[tokio::test]
async fn login_regenerates_the_id_and_keeps_the_data() {
    let config = ManagerConfig::builder()
        .domain("example.test")
        .build()
        .unwrap();
    let (app, manager) = memory_app(config).await;
    let old = send(&app, "GET", "/", None).await.cookie(NAME).unwrap();
    let login = send(&app, "POST", "/login/alice", Some(&jar(&old))).await;
    assert_eq!(login.status, StatusCode::OK);
    let new = login.cookie(NAME).expect("login sends the new id");
    assert_ne!(new, old);
    let cookie = &login.set_cookies()[0];
    for part in ["HttpOnly", "SameSite=Lax", "Path=/", "Domain=example.test"] {
        assert!(cookie.contains(part), "{part} missing from {cookie}");
    }
    let after = send(&app, "GET", "/", Some(&jar(&new))).await;
    assert_eq!(after.body, "count=1 user=alice");
    // The old id is dead: whoever still holds it gets a fresh session, not alice's.
    let stale = send(&app, "GET", "/", Some(&jar(&old))).await;
    assert_eq!(stale.body, "count=0 user=");
    assert_ne!(stale.cookie(NAME).as_deref(), Some(old.as_str()));
    assert_eq!(manager.get_active_session().await.unwrap(), 2);
}

#[tokio::test]
async fn logout_destroys_the_session_and_removes_the_cookie() {
    let (app, manager) = memory_app(ManagerConfig::default()).await;
    let sid = send(&app, "GET", "/", None).await.cookie(NAME).unwrap();
    let sid = send(&app, "POST", "/login/bob", Some(&jar(&sid)))
        .await
        .cookie(NAME)
        .unwrap();
    assert_eq!(
        send(&app, "GET", "/", Some(&jar(&sid))).await.body,
        "count=1 user=bob"
    );
    let logout = send(&app, "POST", "/logout", Some(&jar(&sid))).await;
    assert_eq!(logout.status, StatusCode::OK);
    let removal = &logout.set_cookies()[0];
    assert!(removal.starts_with(&format!("{NAME}=;")), "{removal}");
    assert!(
        removal.contains("Max-Age=0") && removal.contains("Path=/"),
        "{removal}"
    );
    assert_eq!(manager.get_active_session().await.unwrap(), 0);
    let after = send(&app, "GET", "/", Some(&jar(&sid))).await;
    assert_eq!(after.body, "count=0 user=");
}

#[tokio::test]
async fn delete_removes_one_key() {
    let (app, _) = memory_app(ManagerConfig::default()).await;
    let sid = send(&app, "GET", "/", None).await.cookie(NAME).unwrap();
    let sid = send(&app, "POST", "/login/carol", Some(&jar(&sid)))
        .await
        .cookie(NAME)
        .unwrap();
    send(&app, "POST", "/forget", Some(&jar(&sid))).await;
    assert_eq!(
        send(&app, "GET", "/", Some(&jar(&sid))).await.body,
        "count=1 user="
    );
}

#[tokio::test]
async fn typed_values_round_trip_and_wrong_types_are_errors() {
    let (app, _) = memory_app(ManagerConfig::default()).await;
    assert_eq!(send(&app, "GET", "/typed", None).await.body, "true");
    let wrong = send(&app, "GET", "/wrongtype", None).await;
    assert_eq!(wrong.status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn failing_engine_answers_503_and_recovers() {
    let (manager, state) = flaky_manager("web-test-down", ManagerConfig::default()).await;
    let app = app(SessionLayer::new(manager), Arc::new(Gate::default()));
    let sid = send(&app, "GET", "/", None).await.cookie(NAME).unwrap();
    state.down.store(true, Ordering::SeqCst);
    let down = send(&app, "GET", "/", Some(&jar(&sid))).await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(down.body.contains("503"), "{}", down.body);
    assert!(
        !down.body.contains("connection refused"),
        "backend details stay in the log"
    );
    assert!(down.set_cookies().is_empty());
    let new_visitor = send(&app, "GET", "/", None).await;
    assert_eq!(new_visitor.status, StatusCode::SERVICE_UNAVAILABLE);
    state.down.store(false, Ordering::SeqCst);
    // The handler did not run while the engine was down: the count goes on from 1.
    assert_eq!(
        send(&app, "GET", "/", Some(&jar(&sid))).await.body,
        "count=1 user="
    );
}

#[tokio::test]
async fn failing_release_answers_503() {
    let (manager, state) = flaky_manager("web-test-release", ManagerConfig::default()).await;
    let app = app(SessionLayer::new(manager), Arc::new(Gate::default()));
    let sid = send(&app, "GET", "/", None).await.cookie(NAME).unwrap();
    state.fail_release.store(true, Ordering::SeqCst);
    let reply = send(&app, "GET", "/", Some(&jar(&sid))).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    state.fail_release.store(false, Ordering::SeqCst);
    assert_eq!(
        send(&app, "GET", "/", Some(&jar(&sid))).await.body,
        "count=1 user="
    );
}

#[tokio::test]
async fn nothing_is_saved_when_the_handler_answers_5xx() {
    let (app, manager) = memory_app(ManagerConfig::default()).await;
    let fresh = send(&app, "GET", "/fail", None).await;
    assert_eq!(fresh.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(fresh.set_cookies().is_empty(), "{:?}", fresh.set_cookies());
    assert_eq!(manager.get_active_session().await.unwrap(), 0);
    let sid = send(&app, "GET", "/", None).await.cookie(NAME).unwrap();
    let failed = send(&app, "GET", "/fail", Some(&jar(&sid))).await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(failed.set_cookies().is_empty());
    assert_eq!(
        send(&app, "GET", "/", Some(&jar(&sid))).await.body,
        "count=1 user="
    );
}

#[tokio::test]
async fn sid_travels_in_a_header_when_enabled() {
    let config = ManagerConfig::builder()
        .sid_in_http_header("X-Session-Id")
        .enable_set_cookie(false)
        .build()
        .unwrap();
    let (app, _) = memory_app(config).await;
    let first = send(&app, "GET", "/", None).await;
    assert!(
        first.set_cookies().is_empty(),
        "enableSetCookie=false sends no cookie"
    );
    let sid = first.headers["x-session-id"].to_str().unwrap().to_owned();
    let request = Request::get("/")
        .header("X-Session-Id", &sid)
        .body(Body::empty())
        .unwrap();
    assert_eq!(send_request(&app, request).await.body, "count=1 user=");
}

#[tokio::test]
async fn sid_travels_in_the_url_query_when_enabled() {
    let config = ManagerConfig::builder()
        .enable_sid_in_url_query(true)
        .build()
        .unwrap();
    let (app, _) = memory_app(config).await;
    let sid = send(&app, "GET", "/", None).await.cookie(NAME).unwrap();
    let by_query = send(&app, "GET", &format!("/?{NAME}={sid}"), None).await;
    assert_eq!(by_query.body, "count=1 user=");
    // Off by default: the query is ignored.
    let (plain, _) = memory_app(ManagerConfig::default()).await;
    let sid = send(&plain, "GET", "/", None).await.cookie(NAME).unwrap();
    assert_eq!(
        send(&plain, "GET", &format!("/?{NAME}={sid}"), None)
            .await
            .body,
        "count=0 user="
    );
}

#[tokio::test]
async fn forged_and_unknown_ids_are_never_adopted() {
    let (app, _) = memory_app(ManagerConfig::default()).await;
    for bad in ["../../etc/passwd", "0123456789abcdef0123456789abcdef", "x"] {
        let reply = send(&app, "GET", "/", Some(&jar(bad))).await;
        assert_eq!(reply.body, "count=0 user=");
        assert_ne!(reply.cookie(NAME).as_deref(), Some(bad));
    }
}

#[tokio::test]
async fn routes_can_opt_out_while_sessions_are_on() {
    let (manager, state) = flaky_manager("web-test-skip", ManagerConfig::default()).await;
    let layer = SessionLayer::new(manager)
        .skip_path("/health")
        .skip_prefix("/skipped-");
    let app = app(layer, Arc::new(Gate::default()));
    let health = send(&app, "GET", "/health", None).await;
    assert_eq!(health.body, "no session");
    assert!(health.set_cookies().is_empty());
    // A skipped route costs no engine call, so it works while the engine is down.
    state.down.store(true, Ordering::SeqCst);
    assert_eq!(
        send(&app, "GET", "/health", None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        send(&app, "GET", "/", None).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    state.down.store(false, Ordering::SeqCst);
    // Asking for a session where there is none is a clear server error.
    let missing = send(&app, "GET", "/skipped-needs-session", None).await;
    assert_eq!(missing.status, StatusCode::INTERNAL_SERVER_ERROR);
    // Unskipped routes still have one.
    let (app, _) = memory_app(ManagerConfig::default()).await;
    assert_eq!(
        send(&app, "GET", "/health", None).await.body,
        "with session"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_request_does_not_undo_a_logout() {
    let manager = Manager::new("memory", ManagerConfig::default())
        .await
        .unwrap();
    let gate = Arc::new(Gate::default());
    let app = app(SessionLayer::new(manager.clone()), gate.clone());
    let sid = send(&app, "GET", "/", None).await.cookie(NAME).unwrap();
    let slow = tokio::spawn({
        let app = app.clone();
        let cookie = jar(&sid);
        async move { send(&app, "GET", "/slow", Some(&cookie)).await }
    });
    // The slow request has loaded the session (its handler is running) before the logout.
    gate.entered.notified().await;
    send(&app, "POST", "/logout", Some(&jar(&sid))).await;
    gate.open.notify_one();
    assert_eq!(slow.await.unwrap().body, "slow done");
    assert_eq!(manager.get_active_session().await.unwrap(), 0);
    assert_eq!(
        send(&app, "GET", "/", Some(&jar(&sid))).await.body,
        "count=0 user="
    );
}

#[tokio::test]
async fn a_login_that_fails_with_5xx_keeps_the_old_session() {
    let (app, _) = memory_app(ManagerConfig::default()).await;
    let sid = send(&app, "GET", "/", None).await.cookie(NAME).unwrap();
    send(&app, "GET", "/", Some(&jar(&sid))).await;
    let failed = send(&app, "POST", "/login-fails/eve", Some(&jar(&sid))).await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        failed.cookie(NAME),
        None,
        "a failed request sends no new id"
    );
    // The old cookie still works, with the data it had.
    let again = send(&app, "GET", "/", Some(&jar(&sid))).await;
    assert_eq!(again.body, "count=2 user=");
}

#[tokio::test]
async fn one_gc_loop_per_manager_however_many_layers() {
    let config = ManagerConfig::builder()
        .gc_lifetime(Duration::from_secs(1))
        .build()
        .unwrap();
    let (manager, state) = flaky_manager("web-test-gc-once", config).await;
    let layers: Vec<SessionLayer> = (0..4).map(|_| SessionLayer::new(manager.clone())).collect();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let passes = state.gc_passes.load(Ordering::SeqCst);
    // One loop ticks twice in 2.5 s; four loops would tick eight times.
    assert!(
        (1..=3).contains(&passes),
        "{passes} GC passes in 2.5 s with gclifetime 1 s and four layers on one manager"
    );
    drop(layers);
}

#[tokio::test]
async fn gc_runs_with_the_layer_and_stops_with_it() {
    let config = ManagerConfig::builder()
        .gc_lifetime(Duration::from_secs(1))
        .build()
        .unwrap();
    let (manager, state) = flaky_manager("web-test-gc", config).await;
    let app = app(SessionLayer::new(manager), Arc::new(Gate::default()));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let passes = state.gc_passes.load(Ordering::SeqCst);
    assert!(
        passes >= 1,
        "GC ran {passes} times in 2.5 s with gclifetime 1 s"
    );
    drop(app); // the server stopping drops the router and its layer
    tokio::time::sleep(Duration::from_millis(100)).await;
    let at_stop = state.gc_passes.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        state.gc_passes.load(Ordering::SeqCst),
        at_stop,
        "GC kept running"
    );
}

#[tokio::test]
async fn gc_can_be_shut_down_or_left_off() {
    let config = ManagerConfig::builder()
        .gc_lifetime(Duration::from_secs(1))
        .build()
        .unwrap();
    let (manager, state) = flaky_manager("web-test-gc-off", config).await;
    let layer = SessionLayer::new(manager.clone());
    layer.shutdown_gc().await;
    let off = SessionLayer::new(manager).without_gc();
    let app = app(off, Arc::new(Gate::default()));
    send(&app, "GET", "/", None).await;
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert_eq!(state.gc_passes.load(Ordering::SeqCst), 0);
    drop(layer);
}

#[test]
fn a_layer_built_outside_a_runtime_starts_gc_on_its_first_request() {
    let config = ManagerConfig::builder()
        .gc_lifetime(Duration::from_secs(1))
        .build()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (manager, state) = runtime.block_on(flaky_manager("web-test-gc-late", config));
    let layer = SessionLayer::new(manager); // no runtime here: must not panic
    runtime.block_on(async move {
        let app = app(layer, Arc::new(Gate::default()));
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(
            state.gc_passes.load(Ordering::SeqCst),
            0,
            "not started before a request"
        );
        send(&app, "GET", "/", None).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(state.gc_passes.load(Ordering::SeqCst) >= 1);
    });
}
