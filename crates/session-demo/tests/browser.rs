//! End to end in a real headless Chromium: the counter counts, login shows the user,
//! logout starts the counter over.
//!
//! Needs Debian's `chromium` package (`apt-get install -y chromium`); fails without it
//! unless `SESSION_SKIP` contains `browser`. `CHROMIUM=/path/to/binary` picks another one.

mod cdp;

use cdp::{find_chromium, Browser};
use session_demo::{app, layer, load_config, Options};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_engine_in_headless_chromium() {
    counter_login_logout(Options {
        provider: Some("memory".into()),
        ..Options::default()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_engine_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    counter_login_logout(Options {
        provider: Some("file".into()),
        provider_config: Some(dir.path().display().to_string()),
        ..Options::default()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_engine_in_headless_chromium() {
    counter_login_logout(Options {
        provider: Some("cookie".into()),
        provider_config: Some(
            r#"{"keys":["3T11Lrx4xY8e+8ODHnG+K5CJDjG3niEkjAp9bcV+8V4="]}"#.into(),
        ),
        ..Options::default()
    })
    .await;
}

/// The session-id cookie as the browser holds it (CDP `Network.getCookies`).
async fn session_cookie(browser: &mut Browser) -> serde_json::Value {
    let cookies = browser
        .call("Network.getCookies", serde_json::json!({}))
        .await;
    cookies["cookies"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["name"] == "beegosessionID"))
        .cloned()
        .unwrap_or_else(|| panic!("no beegosessionID cookie in {cookies}"))
}

async fn counter_login_logout(options: Options) {
    if std::env::var("SESSION_SKIP").is_ok_and(|skip| skip.contains("browser")) {
        eprintln!("browser test skipped: SESSION_SKIP contains `browser`");
        return;
    }
    let Some(chromium) = find_chromium() else {
        panic!(
            "the browser test needs Chromium: install Debian's package with \
             `apt-get install -y chromium` (or set SESSION_SKIP=browser to skip this test)"
        );
    };

    let engine = options.provider.clone().unwrap_or_default();
    let config = load_config(&options).unwrap();
    let router = app::router(layer(&config).await.unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });

    let mut browser = Browser::launch(&chromium).await;
    browser.open(&format!("{base}/")).await;
    assert_eq!(browser.text("#engine").await, Some(engine));
    assert_eq!(
        browser.text("#count").await.as_deref(),
        Some("0"),
        "first visit"
    );
    for expected in ["1", "2"] {
        browser.navigate_by("location.reload()").await;
        assert_eq!(
            browser.text("#count").await.as_deref(),
            Some(expected),
            "reload"
        );
    }
    let cookie_visible = browser
        .eval("document.cookie.includes('beegosessionID')")
        .await;
    assert_eq!(
        cookie_visible,
        serde_json::json!(false),
        "the session cookie is HttpOnly"
    );

    browser.open(&format!("{base}/login")).await;
    browser
        .navigate_by(
            "document.querySelector('#name').value = 'alice'; \
             document.querySelector('#login').click()",
        )
        .await;
    assert_eq!(
        browser.text("#user").await.as_deref(),
        Some("alice"),
        "logged in"
    );
    assert_eq!(
        browser.text("#count").await.as_deref(),
        Some("3"),
        "login keeps the data"
    );
    assert_eq!(browser.text("#remembered").await, None, "not remembered");
    let cookie = session_cookie(&mut browser).await;
    assert_eq!(
        cookie["session"],
        serde_json::json!(true),
        "without remember me the id cookie is a browser-session cookie: {cookie}"
    );

    // Log in again with "remember me": 30 days without a visit, the cookie as long.
    browser.open(&format!("{base}/login")).await;
    browser
        .navigate_by(
            "document.querySelector('#name').value = 'alice'; \
             document.querySelector('#remember').checked = true; \
             document.querySelector('#login').click()",
        )
        .await;
    assert!(browser.text("#remembered").await.is_some(), "remembered");
    let cookie = session_cookie(&mut browser).await;
    let expires = cookie["expires"].as_f64().unwrap_or(0.0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let days = (expires - now) / 86_400.0;
    assert!(
        (29.9..=30.1).contains(&days),
        "the remembered id cookie expires in {days} days: {cookie}"
    );
    browser.navigate_by("location.reload()").await;
    assert!(
        browser.text("#remembered").await.is_some(),
        "remember me holds on the next request"
    );

    browser
        .navigate_by("document.querySelector('#logout').click()")
        .await;
    assert_eq!(browser.text("#user").await, None, "logged out");
    assert!(browser.text("#anonymous").await.is_some());
    assert_eq!(
        browser.text("#count").await.as_deref(),
        Some("0"),
        "the counter starts over"
    );
    browser.navigate_by("location.reload()").await;
    assert_eq!(browser.text("#count").await.as_deref(), Some("1"));
    assert_eq!(
        browser.text("#remembered").await,
        None,
        "logout ends remember me"
    );

    browser.close().await;
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
