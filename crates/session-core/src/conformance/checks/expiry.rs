//! Lifetimes: expiry, sliding expiry, garbage collection and counting live sessions.
//!
//! Lifetimes are whole seconds and engines may store them with one-second granularity, so
//! every wait keeps at least a second of margin on the side it checks.

use std::sync::Arc;

use super::{
    config, ensure, exists, finish, get_i64, lifetime, pass, set_cookies, skip, sleep_ms, start,
    stored, CheckResult, Failure,
};
use crate::config::ManagerConfig;
use crate::conformance::{Client, Env};
use crate::error::Error;

/// A session idle for longer than `maxLifetime` is never returned, GC or not.
pub(crate) async fn expired_sessions_are_never_returned(env: Arc<Env>) -> CheckResult {
    let h = env.harness(lifetime(1)).await?;
    let (client, sid) = stored(&h, &[("a", 1)]).await?;
    sleep_ms(2200).await;
    let session = start(&h, &client).await?;
    ensure!(
        session.is_new() && session.id() != sid,
        "an expired session was returned"
    );
    ensure!(
        get_i64(&session, "a").await?.is_none(),
        "expired data was returned"
    );
    ensure!(
        !exists(&h, &client, &sid).await?,
        "session_exist is true for an expired session"
    );
    pass()
}

/// An unchanged session has its lifetime refreshed at release (sliding expiry), and the
/// cookie's Max-Age is refreshed with it.
pub(crate) async fn unchanged_sessions_slide(env: Arc<Env>) -> CheckResult {
    let h = env
        .harness(ManagerConfig {
            cookie_life_time: 3,
            ..lifetime(3)
        })
        .await?;
    let (mut client, sid) = stored(&h, &[("a", 1)]).await?;
    sleep_ms(2000).await;
    let session = start(&h, &client).await?;
    ensure!(
        session.id() == sid,
        "the session expired before its lifetime"
    );
    let headers = finish(&session, &mut client).await?;
    let refreshed = set_cookies(&headers)
        .into_iter()
        .find(|c| c.name() == "beegosessionID")
        .ok_or_else(|| {
            Failure(format!(
                "an unchanged session with cookieLifeTime did not refresh its cookie: {headers:?}"
            ))
        })?;
    ensure!(
        refreshed.max_age() == Some(cookie::time::Duration::seconds(3)),
        "the refreshed cookie has Max-Age {:?}",
        refreshed.max_age()
    );
    sleep_ms(2000).await;
    let session = start(&h, &client).await?;
    ensure!(
        session.id() == sid,
        "a session used 2 s ago with a 3 s lifetime expired: release did not refresh its lifetime"
    );
    ensure!(
        get_i64(&session, "a").await? == Some(1),
        "the refreshed session lost its data"
    );
    pass()
}

/// GC removes sessions that expired and keeps the ones that live.
pub(crate) async fn gc_removes_expired_and_keeps_live(env: Arc<Env>) -> CheckResult {
    let h = env.harness(lifetime(3)).await?;
    let (old_client, old) = stored(&h, &[("a", 1)]).await?;
    sleep_ms(2800).await;
    let (live_client, live) = stored(&h, &[("b", 2)]).await?;
    sleep_ms(1700).await;
    h.manager.gc().await?;
    let session = start(&h, &live_client).await?;
    ensure!(session.id() == live, "GC removed a live session");
    ensure!(
        get_i64(&session, "b").await? == Some(2),
        "GC damaged a live session"
    );
    ensure!(
        !exists(&h, &old_client, &old).await?,
        "an expired session survived GC"
    );
    let session = start(&h, &old_client).await?;
    ensure!(session.is_new(), "an expired session was returned after GC");
    if !h.caps.expires_natively {
        match (env.held(&old).await, env.held(&live).await) {
            (Some(true), _) => {
                return Err(Failure(
                    "GC left an expired session in the backend (reads hide it, but it was never \
                     removed)"
                        .into(),
                ))
            }
            (Some(false), Some(false)) => {
                return Err(Failure(
                    "the live session is not held by the backend".into(),
                ))
            }
            _ => {}
        }
    }
    pass()
}

/// `session_all` counts live sessions only: stored ones, not empty visitors, not
/// destroyed or expired ones.
pub(crate) async fn session_all_counts_live_sessions(env: Arc<Env>) -> CheckResult {
    let h = env.harness(config()).await?;
    if !h.caps.counts_sessions {
        return match h.manager.get_active_session().await {
            Err(Error::Unsupported { .. }) => {
                skip("the engine cannot count sessions (Unsupported)")
            }
            Err(other) => Err(Failure(format!("session_all failed: {other}"))),
            Ok(_) => skip("the engine does not claim counts_sessions"),
        };
    }
    let before = h.manager.get_active_session().await?;
    let mut clients = Vec::new();
    for i in 0..3 {
        clients.push(stored(&h, &[("i", i)]).await?.0);
    }
    let visitor = start(&h, &Client::new()).await?;
    finish(&visitor, &mut Client::new()).await?;
    let after = h.manager.get_active_session().await?;
    ensure!(
        after == before + 3,
        "3 stored sessions and 1 empty visitor: count went {before} -> {after}"
    );
    let mut client = clients.remove(0);
    let session = start(&h, &client).await?;
    session.destroy().await?;
    finish(&session, &mut client).await?;
    let destroyed = h.manager.get_active_session().await?;
    ensure!(
        destroyed == before + 2,
        "after a destroy the count is {destroyed}, expected {}",
        before + 2
    );

    let short = env.harness(lifetime(1)).await?;
    stored(&short, &[("x", 1)]).await?;
    stored(&short, &[("y", 2)]).await?;
    let with_short = short.manager.get_active_session().await?;
    ensure!(with_short >= 2, "two fresh sessions, count {with_short}");
    sleep_ms(2200).await;
    let expired = short.manager.get_active_session().await?;
    ensure!(
        expired + 2 <= with_short,
        "two sessions expired but the count went {with_short} -> {expired}: expired sessions are counted"
    );
    pass()
}
