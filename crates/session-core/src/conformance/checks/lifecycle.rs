//! Regenerate, destroy and the beego provider methods.

use std::sync::Arc;

use http::HeaderMap;

use super::{
    config, ensure, exists, finish, get_i64, pass, skip, start, stored, CheckResult, Failure,
};
use crate::config::{ManagerConfig, SameSite};
use crate::conformance::{set_cookies, Client, Env};
use crate::context::Context;
use crate::error::Error;

/// Cookie settings that are not the defaults, to see every attribute survive.
fn attributes() -> ManagerConfig {
    ManagerConfig {
        domain: "example.test".into(),
        secure: true,
        cookie_life_time: 120,
        cookie_same_site: SameSite::Strict,
        ..config()
    }
}

fn session_cookie(headers: &HeaderMap) -> Result<cookie::Cookie<'static>, Failure> {
    set_cookies(headers)
        .into_iter()
        .find(|c| c.name() == "beegosessionID")
        .ok_or_else(|| Failure(format!("no beegosessionID cookie in {headers:?}")))
}

fn ensure_attributes(cookie: &cookie::Cookie<'_>) -> Result<(), Failure> {
    ensure!(
        cookie.domain() == Some("example.test"),
        "Domain lost: {cookie}"
    );
    ensure!(cookie.secure() == Some(true), "Secure lost: {cookie}");
    ensure!(cookie.http_only() == Some(true), "HttpOnly lost: {cookie}");
    ensure!(cookie.path() == Some("/"), "Path lost: {cookie}");
    ensure!(
        cookie.same_site() == Some(cookie::SameSite::Strict),
        "SameSite lost: {cookie}"
    );
    ensure!(
        cookie.max_age() == Some(cookie::time::Duration::seconds(120)),
        "Max-Age lost: {cookie}"
    );
    ensure!(cookie.expires().is_some(), "Expires lost: {cookie}");
    Ok(())
}

/// `Session::regenerate` moves data and pending changes to a new id, kills the old id, and
/// the new cookie keeps every configured attribute.
pub(crate) async fn regenerate_keeps_data_and_cookie_attributes(env: Arc<Env>) -> CheckResult {
    let h = env.harness(attributes()).await?;
    let (mut client, old) = stored(&h, &[("a", 1)]).await?;
    let session = start(&h, &client).await?;
    session.set("b", &2).await?;
    session.regenerate().await?;
    session.set("c", &3).await?;
    let headers = finish(&session, &mut client).await?;
    let new = session.id();
    ensure!(new != old, "regenerate kept the id");
    let cookie = session_cookie(&headers)?;
    ensure!(
        cookie.value() == new,
        "the cookie carries {} not the new id {new}",
        cookie.value()
    );
    ensure_attributes(&cookie)?;
    let session = start(&h, &client).await?;
    ensure!(session.id() == new, "the new id did not load");
    for (key, value) in [("a", 1), ("b", 2), ("c", 3)] {
        let got = get_i64(&session, key).await?;
        ensure!(
            got == Some(value),
            "after regenerate {key}={got:?}, expected {value}"
        );
    }
    ensure!(
        !exists(&h, &client, &old).await?,
        "the old id {old} still exists after regenerate: the move left it behind \
         (session_move must remove the old id)"
    );
    let mut stale = Client::new();
    stale.cookies = client.cookies.clone();
    stale.cookies.insert("beegosessionID".into(), old.clone());
    let session = start(&h, &stale).await?;
    ensure!(
        session.id() != old && session.is_new(),
        "the old id still opens a session"
    );
    pass()
}

/// `Manager::session_regenerate_id` (beego's `SessionRegenerateID`) does the same from a
/// request.
pub(crate) async fn manager_regenerate_id(env: Arc<Env>) -> CheckResult {
    let h = env.harness(attributes()).await?;
    let (mut client, old) = stored(&h, &[("a", 1)]).await?;
    let mut headers = HeaderMap::new();
    let session = h
        .manager
        .session_regenerate_id(&client.request("/"), &mut headers)
        .await?;
    session.release(&mut headers).await?;
    client.absorb(&headers);
    let new = session.id();
    ensure!(new != old, "session_regenerate_id kept the id");
    let cookie = session_cookie(&headers)?;
    ensure!(
        cookie.value() == new,
        "the cookie carries {} not the new id",
        cookie.value()
    );
    ensure_attributes(&cookie)?;
    let session = start(&h, &client).await?;
    ensure!(session.id() == new, "the new id did not load");
    ensure!(
        get_i64(&session, "a").await? == Some(1),
        "data lost by session_regenerate_id"
    );
    ensure!(!exists(&h, &client, &old).await?, "the old id still exists");
    pass()
}

/// Destroy removes the data and sends a removal cookie with the same Path/Domain/Secure.
pub(crate) async fn destroy_removes_data_and_cookie(env: Arc<Env>) -> CheckResult {
    let h = env.harness(attributes()).await?;
    let (mut client, old) = stored(&h, &[("a", 1)]).await?;
    let held = client.cookies.clone();
    let session = start(&h, &client).await?;
    session.destroy().await?;
    let headers = finish(&session, &mut client).await?;
    let cookie = session_cookie(&headers)?;
    ensure!(
        cookie.value().is_empty(),
        "the removal cookie has a value: {cookie}"
    );
    ensure!(
        cookie.max_age().is_some_and(|a| a.is_zero()),
        "the removal cookie lacks Max-Age=0: {cookie}"
    );
    ensure!(
        cookie.domain() == Some("example.test"),
        "the removal cookie lost Domain: {cookie}"
    );
    ensure!(
        cookie.secure() == Some(true),
        "the removal cookie lost Secure: {cookie}"
    );
    ensure!(
        cookie.path() == Some("/"),
        "the removal cookie lost Path: {cookie}"
    );
    ensure!(
        client.cookie("beegosessionID").is_none(),
        "the client still holds the id"
    );
    if h.caps.keeps_data_on_client {
        return skip(
            "removal cookie checked; the data lives in the client's cookie, so a client that \
             replays its old cookies gets the session back (nothing on the server to revoke)",
        );
    }
    ensure!(
        !exists(&h, &client, &old).await?,
        "the destroyed session still exists"
    );
    // A client that kept the old cookies (replay) does not get the data back.
    let replay = Client { cookies: held };
    let session = start(&h, &replay).await?;
    ensure!(
        session.is_new() && session.id() != old,
        "the destroyed id still opens a session"
    );
    ensure!(
        get_i64(&session, "a").await?.is_none(),
        "destroyed data came back"
    );
    pass()
}

/// beego #5681: a request that loaded the session before another request destroyed it
/// must not bring it back with `release_if_present`.
pub(crate) async fn destroy_is_not_undone_by_a_concurrent_request(env: Arc<Env>) -> CheckResult {
    let h = env.harness(config()).await?;
    if h.caps.keeps_data_on_client {
        return skip(
            "the data lives in the client's cookie: a request still holding it can write it back",
        );
    }
    let (client, old) = stored(&h, &[("user", 1)]).await?;
    let slow = start(&h, &client).await?;
    let mut logout_client = client.clone();
    let logout = start(&h, &logout_client).await?;
    logout.destroy().await?;
    finish(&logout, &mut logout_client).await?;
    ensure!(
        !exists(&h, &client, &old).await?,
        "session_destroy did not remove the session, so the race with a slow request could \
         not even start"
    );
    slow.set("late", &1).await?;
    let mut slow_client = client.clone();
    let mut headers = HeaderMap::new();
    slow.release_if_present(&mut headers).await?;
    slow_client.absorb(&headers);
    if !h.caps.keeps_data_on_client {
        ensure!(
            !exists(&h, &slow_client, &old).await?,
            "release_if_present re-created the destroyed session"
        );
    }
    let session = start(&h, &slow_client).await?;
    ensure!(session.is_new(), "the destroyed session {old} came back");
    ensure!(
        get_i64(&session, "user").await?.is_none(),
        "destroyed data came back"
    );
    pass()
}

/// beego #5681 for a request that changed nothing: its release (a touch) must not bring
/// back a session destroyed meanwhile.
pub(crate) async fn unchanged_release_does_not_undo_a_logout(env: Arc<Env>) -> CheckResult {
    let h = env.harness(super::lifetime(3)).await?;
    if h.caps.keeps_data_on_client {
        return skip(
            "the data lives in the client's cookie: a request still holding it can write it back",
        );
    }
    let (client, old) = stored(&h, &[("user", 1)]).await?;
    let slow = start(&h, &client).await?;
    let mut logout_client = client.clone();
    let logout = start(&h, &logout_client).await?;
    logout.destroy().await?;
    finish(&logout, &mut logout_client).await?;
    ensure!(
        !exists(&h, &client, &old).await?,
        "session_destroy did not remove the session, so the race with a slow request could \
         not even start"
    );
    // Past 1 % of the lifetime, so the unchanged release does touch the record.
    super::sleep_ms(150).await;
    let mut headers = HeaderMap::new();
    slow.release_if_present(&mut headers).await?;
    ensure!(
        !exists(&h, &client, &old).await?,
        "the release of an unchanged session re-created the session a logout destroyed"
    );
    ensure!(
        set_cookies(&headers)
            .iter()
            .all(|c| c.name() != "beegosessionID" || c.value().is_empty()),
        "the release of a destroyed session sent its id again: {headers:?}"
    );
    pass()
}

/// `Session::regenerate` moves the session only at release: a request that fails (its
/// release skipped, as the web layer does on a 5xx) leaves the old session intact, and
/// the web layer's `release_if_present` does the move.
pub(crate) async fn regenerate_moves_only_at_release(env: Arc<Env>) -> CheckResult {
    let h = env.harness(config()).await?;
    let (mut client, old) = stored(&h, &[("user", 1)]).await?;
    let failed = start(&h, &client).await?;
    failed.set("user", &2).await?;
    failed.regenerate().await?;
    drop(failed);
    let session = start(&h, &client).await?;
    ensure!(
        session.id() == old && !session.is_new(),
        "a regenerate whose request failed (no release) lost the old session"
    );
    ensure!(
        get_i64(&session, "user").await? == Some(1),
        "a regenerate whose request failed changed the old session"
    );
    let login = start(&h, &client).await?;
    login.set("user", &3).await?;
    login.regenerate().await?;
    let mut headers = HeaderMap::new();
    login.release_if_present(&mut headers).await?;
    client.absorb(&headers);
    let new = login.id();
    ensure!(new != old, "regenerate kept the id");
    ensure!(
        client.cookie("beegosessionID") == Some(new.as_str()),
        "release_if_present of a regenerated session did not send its new id: {headers:?}"
    );
    let session = start(&h, &client).await?;
    ensure!(
        session.id() == new,
        "the regenerated session did not load under its new id"
    );
    ensure!(
        get_i64(&session, "user").await? == Some(3),
        "the regenerated session lost the request's change"
    );
    ensure!(
        !exists(&h, &client, &old).await?,
        "the old id still exists after the move"
    );
    pass()
}

/// `release_if_present` on a session that was never stored writes nothing.
pub(crate) async fn release_if_present_never_creates(env: Arc<Env>) -> CheckResult {
    let h = env.harness(config()).await?;
    let session = start(&h, &Client::new()).await?;
    session.set("k", &1).await?;
    let mut headers = HeaderMap::new();
    session.release_if_present(&mut headers).await?;
    let mut client = Client::new();
    client.absorb(&headers);
    ensure!(
        !exists(&h, &client, &session.id()).await?,
        "release_if_present created a session"
    );
    ensure!(
        set_cookies(&headers)
            .iter()
            .all(|c| c.name() != "beegosessionID" || c.value().is_empty()),
        "release_if_present of an unstored session sent its id: {headers:?}"
    );
    pass()
}

/// beego's provider methods called directly, on unknown and known ids.
pub(crate) async fn provider_methods_called_directly(env: Arc<Env>) -> CheckResult {
    let h = env.harness(config()).await?;
    let provider = h.manager.provider();
    let cx = Context::detached();
    let policy = h.manager.id_policy();
    let unknown = policy.generate()?;
    ensure!(
        !provider.session_exist(&cx, &unknown).await?,
        "session_exist(unknown) is true"
    );
    let store = provider.session_read(&cx, &unknown).await?;
    ensure!(
        store.session_id() == unknown,
        "session_read returned id {}",
        store.session_id()
    );
    ensure!(
        store.keys().await?.is_empty(),
        "session_read(unknown) is not empty"
    );
    ensure!(
        !provider.session_exist(&cx, &unknown).await?,
        "session_read wrote a session"
    );
    let other = policy.generate()?;
    let moved = provider.session_regenerate(&cx, &unknown, &other).await?;
    ensure!(
        moved.session_id() == other,
        "session_regenerate returned id {}",
        moved.session_id()
    );
    ensure!(
        moved.keys().await?.is_empty(),
        "session_regenerate(unknown) is not empty"
    );
    provider.session_destroy(&cx, &policy.generate()?).await?;

    if h.caps.keeps_data_on_client {
        return skip("unknown ids checked; stored sessions live in the client's cookie, out of reach without a request");
    }
    let (_, sid) = stored(&h, &[("a", 5)]).await?;
    ensure!(
        provider.session_exist(&cx, &sid).await?,
        "session_exist(stored) is false"
    );
    let store = h.manager.get_session_store(&sid).await?;
    let raw = store.get_raw("a").await?;
    let value: Option<i64> = raw.map(|r| crate::decode_value("a", &r)).transpose()?;
    ensure!(
        value == Some(5),
        "get_session_store lost the data: {value:?}"
    );
    match h.manager.get_session_store("../../etc/passwd").await {
        Err(Error::InvalidId { .. }) => {}
        Err(other) => return Err(Failure(format!("get_session_store(invalid) gave {other}"))),
        Ok(_) => return Err(Failure("get_session_store accepted an invalid id".into())),
    }
    pass()
}
