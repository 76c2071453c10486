//! Hostile inputs against the demo over HTTP: oversized and numerous cookies, duplicated
//! session cookies, ids with path characters, NUL, CR/LF and bytes that are not UTF-8,
//! well-formed ids the server never minted (with and without `sessionIDHashKey`), and a
//! cookie replayed after logout. Each is answered without a 5xx, and an invalid id never
//! reaches the engine: a counting wrapper around the real engine records every call.
//!
//! The cookie engine's sealed values are in `hostile_cookie.rs`, the file engine's planted
//! files in `hostile_file.rs`.

mod support;

use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use support::browser::SESSION_COOKIE;
use support::hostile::{self, assert_fresh, Counted, Hostile, SID_HEADER};
use support::raw;
use support::testapp::Dump;
use support::Browser;

fn cookie(value: &str) -> (HeaderName, HeaderValue) {
    (
        header::COOKIE,
        HeaderValue::from_str(value).expect("a visible-ASCII cookie header"),
    )
}

/// A browser holding a stored session (the counter was shown once); its id.
async fn stored(hostile: &Hostile) -> (Browser, String) {
    let mut browser = hostile.app.served.browser();
    assert_eq!(browser.get("/").await.count(), 0);
    let sid = browser.sid().expect("a session cookie");
    (browser, sid)
}

/// `/dump` with exactly these request headers.
async fn dump_with(hostile: &Hostile, headers: &[(HeaderName, HeaderValue)]) -> support::Reply {
    let mut browser = hostile.app.served.browser();
    browser.expect(Method::GET, "/dump", headers, None).await
}

async fn still_up(hostile: &Hostile) {
    let mut browser = hostile.app.served.browser();
    assert_eq!(browser.get("/health").await.status, StatusCode::OK);
    assert!(hostile.app.served.is_running());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_numerous_cookies_get_no_5xx() {
    let hostile = hostile::app(Counted::Memory, |_| {}).await;
    let (_, sid) = stored(&hostile).await;
    let junk = "a".repeat(64 * 1024);

    // A 64 KiB session cookie: no id, a new session, the engine not asked.
    hostile.log.reset();
    let reply = dump_with(&hostile, &[cookie(&format!("{SESSION_COOKIE}={junk}"))]).await;
    assert_fresh(&reply, &junk, "a 64 KiB session cookie");
    assert_eq!(hostile.log.storage_calls(), 0, "{:?}", hostile.log.calls());

    // 64 KiB of other cookies around a real id: the session is found, once.
    let line = format!("junk={junk}; {SESSION_COOKIE}={sid}; more={junk}");
    let dump = Dump::parse(&dump_with(&hostile, &[cookie(&line)]).await.body);
    assert_eq!((dump.id.as_str(), dump.new), (sid.as_str(), false));
    assert_eq!(hostile.log.storage_calls(), 1, "{:?}", hostile.log.calls());

    // 500 cookies in one header, the session cookie last.
    let mut many: Vec<String> = (0..499).map(|i| format!("c{i}=v{i}")).collect();
    many.push(format!("{SESSION_COOKIE}={sid}"));
    let dump = Dump::parse(&dump_with(&hostile, &[cookie(&many.join("; "))]).await.body);
    assert_eq!(dump.id, sid, "the session cookie among 500");

    // 500 session cookies, none valid: a new session, the engine not asked.
    hostile.log.reset();
    let bad: Vec<String> = (0..500)
        .map(|i| format!("{SESSION_COOKIE}=../{i}"))
        .collect();
    let reply = dump_with(&hostile, &[cookie(&bad.join("; "))]).await;
    assert_fresh(&reply, "", "500 invalid session cookies");
    assert_eq!(hostile.log.storage_calls(), 0, "{:?}", hostile.log.calls());

    // 500 separate Cookie lines: hyper's server refuses more than 100 headers with 431.
    let lines: String = (0..500).map(|i| format!("Cookie: c{i}=v{i}\r\n")).collect();
    let reply = raw::get(hostile.app.served.addr, "/dump", lines.as_bytes())
        .await
        .expect("an answer to 500 header lines");
    assert_eq!(reply.status, 431, "{}", reply.text);

    // A 1 MiB header is over hyper's buffer: refused with 431 before the app sees it.
    let huge = format!("Cookie: {SESSION_COOKIE}={}\r\n", "b".repeat(1024 * 1024));
    let reply = raw::get(hostile.app.served.addr, "/dump", huge.as_bytes())
        .await
        .expect("an answer to a 1 MiB header");
    assert_eq!(reply.status, 431, "{}", reply.text);
    assert_eq!(hostile.log.storage_calls(), 0, "{:?}", hostile.log.calls());
    still_up(&hostile).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_session_cookies_take_the_first() {
    let hostile = hostile::app(Counted::Memory, |_| {}).await;
    let (_, a) = stored(&hostile).await;
    let (_, b) = stored(&hostile).await;
    for (line, served) in [
        (format!("{SESSION_COOKIE}={a}; {SESSION_COOKIE}={b}"), &a),
        (format!("{SESSION_COOKIE}={b}; {SESSION_COOKIE}={a}"), &b),
    ] {
        let dump = Dump::parse(&dump_with(&hostile, &[cookie(&line)]).await.body);
        assert_eq!(&dump.id, served, "{line}");
    }
    // Two Cookie lines: the first line's cookie.
    let two = [
        cookie(&format!("{SESSION_COOKIE}={b}")),
        cookie(&format!("{SESSION_COOKIE}={a}")),
    ];
    assert_eq!(Dump::parse(&dump_with(&hostile, &two).await.body).id, b);
    // An invalid first value is not skipped for a valid second one: a new session, and
    // neither id is looked up (a cookie planted in front cannot pick the session either).
    hostile.log.reset();
    let line = format!("{SESSION_COOKIE}=..%2F..; {SESSION_COOKIE}={a}");
    let reply = dump_with(&hostile, &[cookie(&line)]).await;
    assert_fresh(&reply, &a, "an invalid cookie before a valid one");
    assert_eq!(hostile.log.storage_calls(), 0, "{:?}", hostile.log.calls());
}

/// Values that are not ids, as a client can put them in a cookie, the query or the header.
const BAD_IDS: &[&str] = &[
    "/",
    "a/b",
    "..",
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%2F",
    "%2e%2e%2f%2e%2e%2fetc",
    "%00",
    "abcdef0123456789%00abcdef0123456789",
    "%C3%28%C3%28",
    "%FF%FE",
    "..\\..\\windows",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
    "a",
    "",
];

async fn hostile_ids_never_reach_storage(engine: Counted) {
    let hostile = hostile::app(engine, |_| {}).await;
    let addr = hostile.app.served.addr;
    hostile.log.reset();
    for bad in BAD_IDS {
        let reply = dump_with(&hostile, &[cookie(&format!("{SESSION_COOKIE}={bad}"))]).await;
        assert_fresh(&reply, bad, &format!("cookie {bad:?}"));
        let mut browser = hostile.app.served.browser();
        let reply = browser
            .get(&format!(
                "/dump?{SESSION_COOKIE}={}",
                bad.replace('%', "%25")
            ))
            .await;
        assert_fresh(&reply, bad, &format!("query {bad:?}"));
        let reply = browser.get(&format!("/dump?{SESSION_COOKIE}={bad}")).await;
        assert_fresh(&reply, bad, &format!("query {bad:?} (decoded)"));
        let header = (
            HeaderName::from_static("beegosessionid"),
            HeaderValue::from_str(bad).expect("visible ASCII"),
        );
        let reply = dump_with(&hostile, &[header]).await;
        assert_fresh(&reply, bad, &format!("header {SID_HEADER}: {bad:?}"));
    }
    // Bytes no client library sends: NUL (hyper refuses the request with 400) and bytes
    // that are not UTF-8 (accepted by HTTP as obs-text; no id can be read from them).
    let nul = format!("Cookie: {SESSION_COOKIE}=ab\0cd\r\n");
    let reply = raw::get(addr, "/dump", nul.as_bytes())
        .await
        .expect("an answer");
    assert_eq!(reply.status, 400, "{}", reply.text);
    for lines in [
        [b"Cookie: beegosessionID=ab\xff\xfe\xc3\x28cd\r\n".as_slice()].concat(),
        [b"Beegosessionid: ab\xff\xfecd\r\n".as_slice()].concat(),
        [b"Cookie: \xff\xfe=\xff\r\n".as_slice()].concat(),
    ] {
        let reply = raw::get(addr, "/dump", &lines).await.expect("an answer");
        assert_eq!(reply.status, 200, "{}", reply.text);
        let body = reply.text.split("\r\n\r\n").nth(1).unwrap_or_default();
        assert!(Dump::parse(body).new, "{}", reply.text);
    }
    assert_eq!(
        hostile.log.storage_calls(),
        0,
        "invalid ids reached the engine: {:?}",
        hostile.log.calls()
    );
    still_up(&hostile).await;
    if let Some(dir) = &hostile.dir {
        // Nothing was written: no session directory level, no file, anywhere.
        let entries: Vec<_> = walk(dir.path());
        assert_eq!(entries, [dir.path().join("sessions")], "{entries:?}");
    }
}

/// Every path under `root`, sorted (symlinks not followed).
fn walk(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir").flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                todo.push(path.clone());
            }
            out.push(path);
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_ids_never_reach_the_memory_engine() {
    hostile_ids_never_reach_storage(Counted::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_ids_never_reach_the_file_engine() {
    hostile_ids_never_reach_storage(Counted::File).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sid_header_carrying_cr_or_lf_is_refused_or_ignored() {
    let hostile = hostile::app(Counted::Memory, |_| {}).await;
    let (_, sid) = stored(&hostile).await;
    let addr = hostile.app.served.addr;
    hostile.log.reset();
    // A bare CR inside the value, and a value folded onto a second line (obs-fold):
    // hyper refuses both with 400 before the app runs.
    for lines in [
        format!("{SID_HEADER}: {sid}\rX-Injected: 1\r\n"),
        format!("{SID_HEADER}: {sid}\r\n X-Injected: 1\r\n"),
    ] {
        let reply = raw::get(addr, "/dump", lines.as_bytes())
            .await
            .expect("an answer");
        assert_eq!(reply.status, 400, "{lines:?}: {}", reply.text);
    }
    // A bare LF ends the header line: the rest is a header of its own, the id before it
    // is read as sent, and nothing the client wrote comes back in the response.
    let lines = format!("{SID_HEADER}: {sid}\nX-Injected: 1\r\n");
    let reply = raw::get(addr, "/dump", lines.as_bytes())
        .await
        .expect("an answer");
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.text.split("\r\n\r\n").nth(1).unwrap_or_default();
    assert_eq!(Dump::parse(body).id, sid, "{}", reply.text);
    assert!(
        !reply.header_lines().iter().any(|l| l.contains("injected")),
        "{}",
        reply.text
    );
    hostile.log.reset();
    // Encoded CR/LF in the query, and in a cookie: not an id; no header injected.
    let mut browser = hostile.app.served.browser();
    for path in [
        format!("/dump?{SESSION_COOKIE}={sid}%0D%0ASet-Cookie:%20evil=1"),
        format!("/dump?{SESSION_COOKIE}=%0D%0AX-Injected:%201"),
    ] {
        let reply = browser.get(&path).await;
        assert_fresh(&reply, &sid, &path);
        assert!(!reply.headers.contains_key("x-injected"), "{path}");
        assert!(reply.set_cookies("evil").is_empty(), "{path}");
    }
    let reply = dump_with(
        &hostile,
        &[cookie(&format!("{SESSION_COOKIE}={sid}%0D%0A"))],
    )
    .await;
    assert_fresh(&reply, &sid, "a cookie ending in an encoded CR/LF");
    assert_eq!(hostile.log.storage_calls(), 0, "{:?}", hostile.log.calls());
    still_up(&hostile).await;
}

/// A random id of the shape the server mints (`len` lowercase hex characters), made here
/// from the OS generator: the server never saw it.
fn forged(len: usize) -> String {
    let mut bytes = vec![0u8; len / 2];
    getrandom::fill(&mut bytes).expect("OS random");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_never_minted_is_not_adopted() {
    // Without a hash key an id of the right shape must be looked up (once), is not found,
    // and the visitor gets a new id; nothing is ever stored under the forged one.
    let hostile = hostile::app(Counted::Memory, |_| {}).await;
    let (_, real) = stored(&hostile).await;
    let fake = forged(real.len());
    hostile.log.reset();
    let mut browser = hostile.app.served.browser();
    browser.set_cookie(SESSION_COOKIE, &fake);
    let reply = browser.get("/").await;
    assert_eq!((reply.status, reply.count()), (StatusCode::OK, 0));
    assert_ne!(browser.sid().as_deref(), Some(fake.as_str()), "adopted");
    assert_eq!(
        hostile.log.carrying(&fake).len(),
        1,
        "{:?}",
        hostile.log.calls()
    );
    let held = hostile
        .app
        .manager
        .provider()
        .session_exist(&session_core::Context::detached(), &fake)
        .await
        .expect("session_exist");
    assert!(!held, "something was stored under the forged id");

    // With a hash key, ids carry an HMAC tag: a forged one, or a real one with a single
    // character changed, is refused before the engine is asked.
    let hostile = hostile::app(Counted::Memory, |c| {
        c.hash_key = "a hash key the tests keep to themselves".into();
    })
    .await;
    let (mut owner, real) = stored(&hostile).await;
    let mut altered = real.clone().into_bytes();
    altered[3] = if altered[3] == b'0' { b'1' } else { b'0' };
    let altered = String::from_utf8(altered).expect("hex");
    hostile.log.reset();
    for fake in [forged(real.len()), altered] {
        let reply = dump_with(&hostile, &[cookie(&format!("{SESSION_COOKIE}={fake}"))]).await;
        assert_fresh(&reply, &fake, "a forged tagged id");
    }
    assert_eq!(hostile.log.storage_calls(), 0, "{:?}", hostile.log.calls());
    // The genuine id still works, with one lookup.
    assert_eq!(owner.get("/").await.count(), 1);
    assert_eq!(hostile.log.storage_calls(), 1, "{:?}", hostile.log.calls());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_replayed_after_logout_is_dead() {
    let hostile = hostile::app(Counted::Memory, |_| {}).await;
    let mut browser = hostile.app.served.browser();
    let login = browser.post_form("/login", "user=mallory").await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    let sid = browser.sid().expect("a session after login");
    assert_eq!(browser.get("/").await.user().as_deref(), Some("mallory"));
    let logout = browser.post_form("/logout", "").await;
    assert_eq!(logout.status, StatusCode::SEE_OTHER);
    assert_eq!(browser.sid(), None, "the cookie was removed");
    for _ in 0..3 {
        let mut replay = hostile.app.served.browser();
        replay.set_cookie(SESSION_COOKIE, &sid);
        let home = replay.get("/").await;
        assert_eq!(
            (home.status, home.count(), home.user()),
            (StatusCode::OK, 0, None)
        );
        assert_ne!(replay.sid().as_deref(), Some(sid.as_str()), "revived");
    }
    let held = hostile
        .app
        .manager
        .provider()
        .session_exist(&session_core::Context::detached(), &sid)
        .await
        .expect("session_exist");
    assert!(!held, "the logged-out id is stored again");
}
