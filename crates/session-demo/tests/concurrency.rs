//! Concurrency over real HTTP on every engine that claims to merge: many browsers' worth of
//! requests on one session at once, served by the demo (plus a few test routes) on a
//! loopback port, each request on its own TCP connection.
//!
//! - 100 concurrent requests each setting their own key: all 100 keys are there after.
//! - 50 concurrent increments of one key: the last writer wins per key (the contract), so
//!   the value ends between 1 and 50; increments are not atomic. The value is printed.
//! - A logout racing 20 slow requests of the same session (ordered by a gate the slow
//!   requests wait at after their session was loaded): the session stays destroyed.
//! - A login (regenerate) racing requests that carry the old cookie: no error page, the
//!   old id stays dead and the session's data is under the new id.
//!
//! Server engines read their servers from `cargo xtask test`'s variables and say they are
//! skipped without them.

mod support;

use std::time::Duration;

use axum::http::StatusCode;
use futures_util::future::join_all;
use session_core::{Context, Manager};
use support::browser::SESSION_COOKIE;
use support::engines::Engine;
use support::testapp::{self, Dump, TestApp};
use support::{Browser, Reply};

/// How long a test waits for requests to reach the gate before calling it a hang.
const GATE_WAIT: Duration = Duration::from_secs(20);

async fn app_on(engine: Engine, test: &str) -> Option<(TestApp, support::engines::Target)> {
    support::init_logs("error");
    let target = engine.target(test)?;
    let app = testapp::start(&testapp::config(target.engine, &target.config)).await;
    Some((app, target))
}

/// The keys stored under `sid`, read from the engine directly (not over HTTP); `None` when
/// nothing is stored there.
async fn stored_keys(manager: &Manager, sid: &str) -> Option<Vec<String>> {
    let store = manager
        .provider()
        .session_load(&Context::detached(), sid)
        .await
        .unwrap_or_else(|e| panic!("reading the session from the engine: {e}"))?;
    let mut keys = store.keys().await.expect("the stored keys");
    keys.sort();
    Some(keys)
}

fn assert_ok(reply: &Reply, what: &str) {
    assert!(
        reply.status.is_success() || reply.status.is_redirection(),
        "{what}: {} {}",
        reply.status,
        reply.body
    );
}

/// A browser with a stored session holding `seed`; returns it and the session id.
async fn seeded(app: &TestApp) -> (Browser, String) {
    let mut browser = app.served.browser();
    assert_ok(&browser.get("/put/seed/0").await, "seeding the session");
    let sid = browser
        .sid()
        .expect("a session cookie after storing a value");
    (browser, sid)
}

async fn hundred_keys_on_one_session(engine: Engine) {
    let Some((app, _target)) = app_on(engine, "hundred_keys_on_one_session").await else {
        return;
    };
    let (mut browser, sid) = seeded(&app).await;
    let replies = join_all((0..100).map(|i| {
        let mut tab = browser.clone();
        async move { tab.get(&format!("/put/k{i}/{i}")).await }
    }))
    .await;
    for (i, reply) in replies.iter().enumerate() {
        assert_ok(reply, &format!("request {i}"));
        if let Some(other) = reply.new_sid() {
            assert_eq!(other, sid, "request {i} moved the session to another id");
        }
    }
    let dump = Dump::parse(&browser.get("/dump").await.body);
    assert_eq!((dump.id.as_str(), dump.new), (sid.as_str(), false));
    let missing: Vec<usize> = (0..100)
        .filter(|i| dump.values.get(&format!("k{i}")) != Some(&serde_json::json!(i.to_string())))
        .collect();
    assert!(
        missing.is_empty(),
        "{}: keys lost by concurrent requests: {missing:?}",
        engine.name()
    );
    assert_eq!(dump.values.len(), 101, "{:?}", dump.values.keys());
}

async fn fifty_increments_of_one_key(engine: Engine) {
    let Some((app, _target)) = app_on(engine, "fifty_increments_of_one_key").await else {
        return;
    };
    let (mut browser, _sid) = seeded(&app).await;
    let replies = join_all((0..50).map(|_| {
        let mut tab = browser.clone();
        async move { tab.get("/incr").await }
    }))
    .await;
    for reply in &replies {
        assert_ok(reply, "an increment");
    }
    let dump = Dump::parse(&browser.get("/dump").await.body);
    let n = dump.values.get("n").and_then(serde_json::Value::as_u64);
    // Each request writes the value it computed from what it read: the last writer wins,
    // so concurrent increments collapse. Any value from 1 to 50 keeps the contract.
    assert!(
        n.is_some_and(|n| (1..=50).contains(&n)),
        "{}: n = {n:?} after 50 increments",
        engine.name()
    );
    support::report(format_args!(
        "{}: 50 concurrent increments over HTTP left n = {} (last writer wins per key)",
        engine.name(),
        n.unwrap_or(0)
    ));
}

/// `count` requests of `browser`'s session to `/slow/<tag><i>`, returned once every one has
/// loaded the session and waits at the app's gate (open it to let them finish).
async fn held_at_the_gate(
    app: &TestApp,
    browser: &Browser,
    tag: &str,
    count: u32,
) -> Vec<tokio::task::JoinHandle<Reply>> {
    let held = (0..count)
        .map(|i| {
            let (mut tab, path) = (browser.clone(), format!("/slow/{tag}{i}"));
            tokio::spawn(async move { tab.get(&path).await })
        })
        .collect();
    tokio::time::timeout(GATE_WAIT, app.gate.arrivals(count))
        .await
        .unwrap_or_else(|_| panic!("{count} requests reached the gate"));
    held
}

async fn logout_racing_twenty_slow_requests(engine: Engine) {
    let Some((app, _target)) = app_on(engine, "logout_racing_twenty_slow_requests").await else {
        return;
    };
    let (mut browser, sid) = seeded(&app).await;
    // All 20 have loaded the session and wait; now the logout destroys it.
    let slow = held_at_the_gate(&app, &browser, "s", 20).await;
    let logout = browser.post_form("/logout", "").await;
    assert_eq!(logout.status, StatusCode::SEE_OTHER, "{}", logout.body);
    assert_eq!(logout.set_cookies(SESSION_COOKIE), [""], "a removal cookie");
    app.gate.open(20);
    for (i, task) in slow.into_iter().enumerate() {
        let reply = task.await.expect("a slow request");
        assert_ok(&reply, &format!("slow request {i}"));
        assert!(
            !reply.set_cookies(SESSION_COOKIE).contains(&sid),
            "slow request {i} handed the destroyed id out again"
        );
    }
    assert_eq!(
        stored_keys(&app.manager, &sid).await,
        None,
        "{}: the slow requests brought the destroyed session back",
        engine.name()
    );
    let mut replay = app.served.browser();
    replay.set_cookie(SESSION_COOKIE, &sid);
    let dump = Dump::parse(&replay.get("/dump").await.body);
    assert!(
        dump.new && dump.id != sid && dump.values.is_empty(),
        "{dump:?}"
    );
}

async fn login_racing_requests_with_the_old_cookie(engine: Engine) {
    let Some((app, _target)) = app_on(engine, "login_racing_requests_with_the_old_cookie").await
    else {
        return;
    };

    // Ordered: ten requests load the session, the login moves it, then they finish.
    let (mut browser, old) = seeded(&app).await;
    let held = held_at_the_gate(&app, &browser, "held", 10).await;
    let login = browser.post_form("/login", "user=alice").await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
    let new = browser.sid().expect("a cookie after login");
    assert_ne!(new, old, "login regenerates the id");
    app.gate.open(10);
    for (i, task) in held.into_iter().enumerate() {
        let reply = task.await.expect("a held request");
        assert_ok(&reply, &format!("held request {i}"));
        assert!(
            !reply.set_cookies(SESSION_COOKIE).contains(&old),
            "held request {i} handed the old id out again"
        );
    }
    assert_eq!(
        stored_keys(&app.manager, &old).await,
        None,
        "the old id came back"
    );
    let keys = stored_keys(&app.manager, &new)
        .await
        .expect("the session under the new id");
    assert!(
        keys.contains(&"seed".to_owned()) && keys.contains(&"user".to_owned()),
        "{keys:?}"
    );
    let home = browser.get("/").await;
    assert_eq!(home.user().as_deref(), Some("alice"));

    // Unordered: a login and 20 requests with the old cookie, all at once.
    let (mut browser, old) = seeded(&app).await;
    let racing = join_all((0..20).map(|i| {
        let mut tab = browser.clone();
        async move { tab.get(&format!("/put/r{i}/{i}")).await }
    }));
    let (login, racing) = tokio::join!(browser.post_form("/login", "user=bob"), racing);
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
    let new = browser.sid().expect("a cookie after login");
    for (i, reply) in racing.iter().enumerate() {
        assert_ok(reply, &format!("racing request {i}"));
    }
    assert_eq!(
        stored_keys(&app.manager, &old).await,
        None,
        "the old id came back"
    );
    let keys = stored_keys(&app.manager, &new)
        .await
        .expect("the session under the new id");
    assert!(
        keys.contains(&"seed".to_owned()) && keys.contains(&"user".to_owned()),
        "{keys:?}"
    );
    let landed = (0..20).filter(|i| keys.contains(&format!("r{i}"))).count();
    let fresh = racing.iter().filter(|r| r.new_sid().is_some()).count();
    support::report(format_args!(
        "{}: a login racing 20 requests with the old cookie: {landed} of their writes moved \
         with the session, {fresh} came after the move and got a new session of their own, \
         {} loaded the old id before the move and were dropped with it",
        engine.name(),
        20 - landed - fresh
    ));
}

macro_rules! engine_tests {
    ($($module:ident => $engine:expr),* $(,)?) => {$(
        mod $module {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn hundred_keys_on_one_session() {
                super::hundred_keys_on_one_session($engine).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn fifty_increments_of_one_key() {
                super::fifty_increments_of_one_key($engine).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn logout_racing_twenty_slow_requests() {
                super::logout_racing_twenty_slow_requests($engine).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn login_racing_requests_with_the_old_cookie() {
                super::login_racing_requests_with_the_old_cookie($engine).await;
            }
        }
    )*};
}

engine_tests! {
    memory => Engine::Memory,
    file => Engine::File,
    mysql => Engine::Mysql,
    postgres => Engine::Postgres,
    redis => Engine::Redis,
    redis_cluster => Engine::RedisCluster,
    memcache => Engine::Memcache,
}
