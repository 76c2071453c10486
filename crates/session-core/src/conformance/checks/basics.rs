//! beego's own session tests and the everyday request cycle.

use std::sync::Arc;

use super::{
    config, ensure, every_transport, exists, finish, get_i64, pass, start, stored, CheckResult,
};
use crate::conformance::{set_cookies, Client, Env};

/// beego's `TestMem`: values set in a request are readable, deletable and flushable there.
pub(crate) async fn set_get_delete_flush_in_one_request(env: Arc<Env>) -> CheckResult {
    let h = env.harness(config()).await?;
    let session = start(&h, &Client::new()).await?;
    session.set("username", "astaxie").await?;
    let name: Option<String> = session.get("username").await?;
    ensure!(
        name.as_deref() == Some("astaxie"),
        "get after set returned {name:?}"
    );
    session.delete("username").await?;
    let name: Option<String> = session.get("username").await?;
    ensure!(name.is_none(), "get after delete returned {name:?}");
    session.set("a", &1).await?;
    session.set("b", &2).await?;
    let mut keys = session.keys().await?;
    keys.sort();
    ensure!(keys == ["a", "b"], "keys after two sets: {keys:?}");
    session.flush().await?;
    let keys = session.keys().await?;
    ensure!(keys.is_empty(), "keys after flush: {keys:?}");
    pass()
}

/// A new session that holds data sends a cookie with beego's default attributes.
pub(crate) async fn first_visit_gets_a_cookie(env: Arc<Env>) -> CheckResult {
    let h = env.harness(config()).await?;
    let mut client = Client::new();
    let session = start(&h, &client).await?;
    ensure!(
        session.is_new(),
        "a request without a cookie got a stored session"
    );
    session.set("asta", &1).await?;
    let headers = finish(&session, &mut client).await?;
    let sid = session.id();
    ensure!(
        h.manager.id_policy().validate(&sid),
        "minted id {sid:?} fails the id policy"
    );
    ensure!(
        sid.len() == 32,
        "default ids are 32 hex characters, got {sid:?}"
    );
    let cookies = set_cookies(&headers);
    let Some(cookie) = cookies.iter().find(|c| c.name() == "beegosessionID") else {
        return Err(super::Failure(format!(
            "no beegosessionID cookie in the response: {headers:?}"
        )));
    };
    ensure!(
        cookie.value() == sid,
        "cookie value {} is not the id {sid}",
        cookie.value()
    );
    ensure!(
        cookie.http_only() == Some(true),
        "cookie lacks HttpOnly: {cookie}"
    );
    ensure!(cookie.path() == Some("/"), "cookie path is not /: {cookie}");
    ensure!(
        cookie.same_site() == Some(cookie::SameSite::Lax),
        "cookie lacks SameSite=Lax: {cookie}"
    );
    ensure!(
        cookie.secure() != Some(true),
        "cookie is Secure without `secure`: {cookie}"
    );
    ensure!(
        cookie.max_age().is_none(),
        "cookieLifeTime 0 must give a browser-session cookie: {cookie}"
    );
    pass()
}

/// What one request stores, the next request with the cookie reads.
pub(crate) async fn round_trip_by_cookie(env: Arc<Env>) -> CheckResult {
    let h = env.harness(config()).await?;
    let (client, sid) = stored(&h, &[("asta", 7)]).await?;
    let session = start(&h, &client).await?;
    ensure!(
        session.id() == sid,
        "the cookie's session {sid} came back as {}",
        session.id()
    );
    ensure!(!session.is_new(), "a stored session came back as new");
    let asta = get_i64(&session, "asta").await?;
    ensure!(asta == Some(7), "stored asta=7, read back {asta:?}");
    pass()
}

/// A visitor whose session stays empty costs no write, no lookup and gets no cookie:
/// counted at the provider and, with [`Suite::count_backend_calls_with`](crate::conformance::Suite::count_backend_calls_with), at the backend.
pub(crate) async fn new_visitor_costs_nothing(env: Arc<Env>) -> CheckResult {
    let h = env.harness(config()).await?;
    let mut client = Client::new();
    let before = env.backend_calls().await;
    let session = start(&h, &client).await?;
    let headers = finish(&session, &mut client).await?;
    let after = env.backend_calls().await;
    ensure!(
        h.counts.lookups() == 0,
        "a request without a session id made {} lookups",
        h.counts.lookups()
    );
    if let (Some(before), Some(after)) = (before, after) {
        ensure!(
            after == before,
            "a request without a session id cost {} backend operations (session_create must not \
             look anything up)",
            after.saturating_sub(before)
        );
    }
    ensure!(
        set_cookies(&headers).is_empty(),
        "an empty new session sent cookies: {headers:?}"
    );
    ensure!(
        !exists(&h, &client, &session.id()).await?,
        "an empty new session was written to storage"
    );
    pass()
}

/// Deletes and flushes made in one request are what the next request sees.
pub(crate) async fn changes_persist_across_requests(env: Arc<Env>) -> CheckResult {
    let h = env.harness(config()).await?;
    let (mut client, _) = stored(&h, &[("a", 1), ("b", 2), ("c", 3)]).await?;
    let session = start(&h, &client).await?;
    session.delete("a").await?;
    session.set("c", &30).await?;
    finish(&session, &mut client).await?;
    let session = start(&h, &client).await?;
    let (a, b, c) = (
        get_i64(&session, "a").await?,
        get_i64(&session, "b").await?,
        get_i64(&session, "c").await?,
    );
    ensure!(
        (a, b, c) == (None, Some(2), Some(30)),
        "after delete a / set c=30: a={a:?} b={b:?} c={c:?}"
    );
    session.flush().await?;
    session.set("d", &4).await?;
    finish(&session, &mut client).await?;
    let session = start(&h, &client).await?;
    let mut keys = session.keys().await?;
    keys.sort();
    ensure!(
        keys == ["d"],
        "after flush and set d the session holds {keys:?}"
    );
    pass()
}

/// With `EnableSidInURLQuery` and `EnableSidInHTTPHeader`, the id travels without a cookie
/// and the header is sent back.
pub(crate) async fn sid_in_url_query_and_header(env: Arc<Env>) -> CheckResult {
    let h = env.harness(every_transport()).await?;
    let mut client = Client::new();
    let session = start(&h, &client).await?;
    session.set("k", &1).await?;
    let headers = finish(&session, &mut client).await?;
    let sid = session.id();
    let sent = headers.get("x-session-id").and_then(|v| v.to_str().ok());
    ensure!(
        sent == Some(sid.as_str()),
        "X-Session-Id header of a new session: {sent:?}, expected {sid}"
    );
    // Engines that keep data in cookies still need the client's cookies; only the id moves.
    client.cookies.remove("beegosessionID");
    let by_query = h
        .manager
        .session_start(&client.request(&format!("/?beegosessionID={sid}")))
        .await?;
    ensure!(by_query.id() == sid, "id in the URL query was not used");
    ensure!(
        get_i64(&by_query, "k").await? == Some(1),
        "session found by query lacks its data"
    );
    by_query.set("k", &2).await?;
    let mut released = http::HeaderMap::new();
    by_query.release(&mut released).await?;
    ensure!(
        set_cookies(&released)
            .iter()
            .all(|c| c.name() != "beegosessionID"),
        "an id that came in the URL query was written into a cookie (session fixation by link): {released:?}"
    );
    let mut request = client.request("/");
    request.headers_mut().insert(
        "x-session-id",
        http::HeaderValue::from_str(&sid).map_err(|e| super::Failure(e.to_string()))?,
    );
    let by_header = h.manager.session_start(&request).await?;
    ensure!(
        by_header.id() == sid,
        "id in the X-Session-Id header was not used"
    );
    pass()
}
