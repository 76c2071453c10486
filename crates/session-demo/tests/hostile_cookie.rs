//! The cookie engine's data cookie, tampered with over HTTP: truncated, bit-flipped, made
//! under another key, bound to another session id, expired, or garbage. Each reads as "no
//! session" (a new one, nobody logged in), never an error page; a rotated key list still
//! opens cookies sealed under an older key. (The engine stores nothing server-side, so
//! there is no storage to count.)

mod support;

use std::time::Duration;

use axum::http::StatusCode;
use support::browser::SESSION_COOKIE;
use support::testapp::{self, TestApp};
use support::{Browser, Reply};

/// The data cookie's name: the manager's cookie name with `-data`.
const DATA_COOKIE: &str = "beegosessionID-data";

// Made with `openssl rand -base64 32`; test keys only.
const KEY_A: &str = "3T11Lrx4xY8e+8ODHnG+K5CJDjG3niEkjAp9bcV+8V4=";
const KEY_B: &str = "g0/ZusupUpnunb38wPimhEFQI4Lq4ZYOf4rKTOS664E=";

async fn app(keys: &[&str], lifetime_secs: u64) -> TestApp {
    let keys: Vec<String> = keys.iter().map(|k| format!("\"{k}\"")).collect();
    let mut config = testapp::config("cookie", &format!("{{\"keys\":[{}]}}", keys.join(",")));
    config.gc_max_lifetime = lifetime_secs;
    testapp::start(&config).await
}

/// A browser logged in as `user`: it holds the id cookie and the sealed data cookie.
async fn logged_in(app: &TestApp, user: &str) -> Browser {
    let mut browser = app.served.browser();
    let login = browser.post_form("/login", &format!("user={user}")).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
    assert_eq!(browser.get("/").await.user().as_deref(), Some(user));
    assert!(browser.cookie(DATA_COOKIE).is_some(), "no data cookie");
    browser
}

/// The counter page for a browser holding exactly `sid` and `data`.
async fn home_with(app: &TestApp, sid: &str, data: &str) -> Reply {
    let mut browser = app.served.browser();
    browser.set_cookie(SESSION_COOKIE, sid);
    browser.set_cookie(DATA_COOKIE, data);
    browser.get("/").await
}

fn assert_no_session(reply: &Reply, what: &str) {
    assert_eq!(reply.status, StatusCode::OK, "{what}: {}", reply.body);
    assert_eq!((reply.count(), reply.user()), (0, None), "{what}");
}

/// `value` with the base64url character at `index` replaced by another: a bit flip in the
/// sealed bytes.
fn flipped(value: &str, index: usize) -> String {
    let mut bytes = value.as_bytes().to_vec();
    bytes[index] = if bytes[index] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("base64url")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_data_cookies_read_as_no_session() {
    let app = app(&[KEY_A], 3600).await;
    let alice = logged_in(&app, "alice").await;
    let (sid, data) = (
        alice.sid().expect("an id"),
        alice.cookie(DATA_COOKIE).expect("data").to_owned(),
    );
    // The untouched pair opens (the test can fail).
    assert_eq!(
        home_with(&app, &sid, &data).await.user().as_deref(),
        Some("alice")
    );

    let mut cases = vec![
        ("truncated by one", data[..data.len() - 1].to_owned()),
        ("truncated to half", data[..data.len() / 2].to_owned()),
        ("empty", String::new()),
        ("garbage", "not-a-sealed-value!".to_owned()),
        ("oversized", "A".repeat(5000)),
        ("extended", format!("{data}AAAA")),
    ];
    for index in [0, 1, 5, 30, data.len() / 2, data.len() - 2, data.len() - 1] {
        cases.push(("bit-flipped", flipped(&data, index)));
    }
    for (what, value) in &cases {
        assert_no_session(&home_with(&app, &sid, value).await, what);
    }

    // Another session's id with alice's data, and alice's id with another's data.
    let bob = logged_in(&app, "bob").await;
    let (bob_sid, bob_data) = (
        bob.sid().expect("an id"),
        bob.cookie(DATA_COOKIE).expect("data").to_owned(),
    );
    assert_no_session(
        &home_with(&app, &bob_sid, &data).await,
        "bob's id, alice's data",
    );
    assert_no_session(
        &home_with(&app, &sid, &bob_data).await,
        "alice's id, bob's data",
    );

    // A pair sealed by an app with another key.
    let other = app_with_key_b().await;
    let eve = logged_in(&other, "eve").await;
    let reply = home_with(
        &app,
        &eve.sid().expect("an id"),
        eve.cookie(DATA_COOKIE).expect("data"),
    )
    .await;
    assert_no_session(&reply, "sealed under another key");
    assert_eq!(
        home_with(&app, &sid, &data).await.user().as_deref(),
        Some("alice")
    );
}

async fn app_with_key_b() -> TestApp {
    app(&[KEY_B], 3600).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_data_cookie_reads_as_no_session() {
    // Sessions live one second: the expiry sealed inside the cookie passes.
    let app = app(&[KEY_A], 1).await;
    let alice = logged_in(&app, "alice").await;
    let (sid, data) = (
        alice.sid().expect("an id"),
        alice.cookie(DATA_COOKIE).expect("data").to_owned(),
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_no_session(&home_with(&app, &sid, &data).await, "expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_list_opens_old_cookies_and_seals_with_the_new_key() {
    let old = app(&[KEY_A], 3600).await;
    let alice = logged_in(&old, "alice").await;
    let sid = alice.sid().expect("an id");
    let data = alice.cookie(DATA_COOKIE).expect("data").to_owned();
    // The new key first, the old one still listed: the old cookie opens.
    let rotated = app(&[KEY_B, KEY_A], 3600).await;
    let mut browser = rotated.served.browser();
    browser.set_cookie(SESSION_COOKIE, &sid);
    browser.set_cookie(DATA_COOKIE, &data);
    assert_eq!(browser.get("/").await.user().as_deref(), Some("alice"));
    // The response re-sealed it under the new key: the old app cannot open it any more.
    let resealed = browser.cookie(DATA_COOKIE).expect("data").to_owned();
    assert_ne!(resealed, data);
    assert_no_session(
        &home_with(&old, &sid, &resealed).await,
        "sealed under the new key, opened with the old only",
    );
    // Once the old key is retired, cookies sealed under it stop opening.
    let retired = app(&[KEY_B], 3600).await;
    assert_no_session(&home_with(&retired, &sid, &data).await, "the retired key");
    assert_eq!(
        home_with(&retired, &sid, &resealed).await.user().as_deref(),
        Some("alice")
    );
}
