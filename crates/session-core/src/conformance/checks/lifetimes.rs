//! Per-session lifetimes: a session's own expiry, the absolute lifetime, and a cookie that
//! ends with its stored session.
//!
//! Whether a session is alive is asked of the engine itself (`session_exist`), not only
//! through the manager (which also refuses a session past its hard end on load): the
//! engine must store each session's own end natively. Engines may count in whole seconds,
//! so every wait keeps a second of margin on the side it checks.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::HeaderMap;

use super::{
    ensure, exists, finish, get_i64, pass, set_cookies, sleep_ms, start, stored, CheckResult,
    Failure,
};
use crate::config::ManagerConfig;
use crate::conformance::{Client, Env, Harness};
use crate::expiry::Expiry;
use crate::session::Session;

/// Sleeps until `at` (no single sleep over three seconds).
async fn sleep_until(at: SystemTime) {
    while let Ok(left) = at.duration_since(SystemTime::now()) {
        sleep_ms(u64::try_from(left.as_millis()).unwrap_or(3000).max(1)).await;
    }
}

fn lives(secs: u64) -> ManagerConfig {
    super::lifetime(secs)
}

/// The `Max-Age` of the session cookie a response sets, if it sets one.
fn max_age(headers: &HeaderMap) -> Option<Option<i64>> {
    set_cookies(headers)
        .into_iter()
        .find(|c| c.name() == "beegosessionID" && !c.value().is_empty())
        .map(|c| c.max_age().map(|age| age.whole_seconds()))
}

/// A stored session with its own `expiry`, holding `a = 1`.
async fn stored_with(h: &Harness, expiry: Expiry) -> Result<(Client, String, HeaderMap), Failure> {
    let mut client = Client::new();
    let session = start(h, &client).await?;
    session.set("a", &1).await?;
    session.set_expiry(Some(expiry)).await?;
    let headers = finish(&session, &mut client).await?;
    Ok((client, session.id(), headers))
}

/// A read-only request of `client`'s session; whether it was still there.
async fn visit(h: &Harness, client: &mut Client, sid: &str) -> Result<bool, Failure> {
    let session: Session = start(h, client).await?;
    let found = session.id() == sid && get_i64(&session, "a").await? == Some(1);
    finish(&session, client).await?;
    Ok(found)
}

/// A session's own inactivity limit replaces `maxLifetime`, longer and shorter, and its
/// cookie's `Max-Age` follows it.
pub(crate) async fn own_inactivity_limit_replaces_the_default(env: Arc<Env>) -> CheckResult {
    let longer = async {
        let h = env.harness(lives(1)).await?;
        let (mut client, sid, headers) =
            stored_with(&h, Expiry::OnInactivity(Duration::from_secs(4))).await?;
        ensure!(
            max_age(&headers) == Some(Some(4)),
            "a session living 4 s of inactivity got cookie Max-Age {:?}",
            max_age(&headers)
        );
        sleep_ms(2200).await;
        ensure!(
            exists(&h, &client, &sid).await? && visit(&h, &mut client, &sid).await?,
            "a session with its own 4 s inactivity limit ended after 2.2 s (the manager's 1 s \
             maxLifetime was used instead)"
        );
        pass()
    };
    let shorter = async {
        let h = env.harness(lives(3600)).await?;
        let (client, sid, headers) =
            stored_with(&h, Expiry::OnInactivity(Duration::from_secs(1))).await?;
        ensure!(
            max_age(&headers) == Some(Some(1)),
            "a session living 1 s of inactivity got cookie Max-Age {:?}",
            max_age(&headers)
        );
        sleep_ms(2200).await;
        ensure!(
            !exists(&h, &client, &sid).await?,
            "a session with its own 1 s inactivity limit was still stored after 2.2 s (the \
             manager's 3600 s maxLifetime was used instead)"
        );
        let session = start(&h, &client).await?;
        ensure!(session.is_new(), "the expired session was returned");
        pass()
    };
    let (longer, shorter) = tokio::join!(longer, shorter);
    longer.and(shorter)
}

/// A session given a fixed end lives until then, however active, and no longer.
pub(crate) async fn fixed_instant_ends_the_session(env: Arc<Env>) -> CheckResult {
    let h = env.harness(lives(3600)).await?;
    let end = SystemTime::now() + Duration::from_secs(2);
    let (mut client, sid, headers) = stored_with(&h, Expiry::AtDateTime(end)).await?;
    let age = max_age(&headers).flatten();
    ensure!(
        age.is_some_and(|a| (1..=2).contains(&a)),
        "a session ending in 2 s got cookie Max-Age {age:?}"
    );
    // 0.9 s before the end rather than 1 s: an engine storing the session for half its
    // lifetime (the planted `ShortStore` bug) must be caught even when the write itself was
    // slow, while a correct engine still has 0.9 s of margin for a slow visit.
    sleep_until(end - Duration::from_millis(900)).await;
    ensure!(
        visit(&h, &mut client, &sid).await?,
        "a session ending in 2 s was gone after about 1.1 s"
    );
    sleep_until(end + Duration::from_millis(1300)).await;
    ensure!(
        !exists(&h, &client, &sid).await?,
        "a session whose fixed end passed 1.3 s ago is still stored (activity must not extend \
         a fixed end)"
    );
    ensure!(
        start(&h, &client).await?.is_new(),
        "a session past its fixed end was returned"
    );
    pass()
}

/// `absoluteLifetime` ends a session that stays active, and caps its own expiry too.
pub(crate) async fn absolute_lifetime_ends_an_active_session(env: Arc<Env>) -> CheckResult {
    let h = env
        .harness(ManagerConfig {
            absolute_lifetime: 3,
            ..lives(3600)
        })
        .await?;
    let (mut client, sid, headers) =
        stored_with(&h, Expiry::OnInactivity(Duration::from_secs(86_400))).await?;
    let created = start(&h, &client)
        .await?
        .created()
        .await?
        .ok_or_else(|| Failure("a stored session has no creation time".into()))?;
    let age = max_age(&headers).flatten();
    ensure!(
        age.is_some_and(|a| (1..=3).contains(&a)),
        "a session with a 3 s absolute lifetime got cookie Max-Age {age:?}"
    );
    // Activity at 0.8 s and 1.6 s after creation, timed from the creation itself (a slow
    // backend must not make the check fail for the wrong reason).
    for (step, at) in [(0, 800), (1, 1600)] {
        sleep_until(created + Duration::from_millis(at)).await;
        let session = start(&h, &client).await?;
        ensure!(
            session.id() == sid,
            "an active session ended before its absolute lifetime (step {step})"
        );
        session.set("step", &step).await?;
        finish(&session, &mut client).await?;
    }
    sleep_until(created + Duration::from_millis(4100)).await;
    ensure!(
        !exists(&h, &client, &sid).await?,
        "an active session is still stored over a second past its absolute lifetime (each \
         write must cap the expiry at creation + absoluteLifetime)"
    );
    ensure!(
        start(&h, &client).await?.is_new(),
        "a session past its absolute lifetime was returned"
    );
    pass()
}

/// A session's own expiry survives regenerate: the new id has it, and ends by it.
pub(crate) async fn own_expiry_survives_regenerate(env: Arc<Env>) -> CheckResult {
    let h = env.harness(lives(3600)).await?;
    let (mut client, old, _) =
        stored_with(&h, Expiry::OnInactivity(Duration::from_secs(2))).await?;
    let session = start(&h, &client).await?;
    session.regenerate().await?;
    let mut headers = HeaderMap::new();
    session.release_if_present(&mut headers).await?;
    client.absorb(&headers);
    let new = session.id();
    ensure!(new != old, "regenerate kept the id");
    ensure!(
        max_age(&headers) == Some(Some(2)),
        "the regenerated session's cookie has Max-Age {:?}, not its own 2 s",
        max_age(&headers)
    );
    let again = start(&h, &client).await?;
    ensure!(again.id() == new, "the regenerated session did not load");
    let expiry = again.expiry().await?;
    ensure!(
        expiry == Some(Expiry::OnInactivity(Duration::from_secs(2))),
        "after regenerate the session's expiry is {expiry:?}"
    );
    finish(&again, &mut client).await?;
    sleep_ms(3200).await;
    ensure!(
        !exists(&h, &client, &new).await?,
        "3.2 s after its last use, a regenerated session with its own 2 s limit is still \
         stored: the move lost its lifetime"
    );
    pass()
}

/// The cookie's `Max-Age` never promises more than the stored session gives, and the two
/// end together.
pub(crate) async fn cookie_max_age_agrees_with_the_stored_expiry(env: Arc<Env>) -> CheckResult {
    let h = env
        .harness(ManagerConfig {
            cookie_life_time: 3600,
            ..lives(3)
        })
        .await?;
    let (client, sid) = stored(&h, &[("a", 1)]).await?;
    let mut again = client.clone();
    let session = start(&h, &again).await?;
    session.set("b", &2).await?;
    let headers = finish(&session, &mut again).await?;
    ensure!(
        max_age(&headers) == Some(Some(3)),
        "cookieLifeTime 3600 over a 3 s maxLifetime gave Max-Age {:?}: the cookie must not \
         outlive the stored session",
        max_age(&headers)
    );
    let (own_client, own, headers) =
        stored_with(&h, Expiry::OnInactivity(Duration::from_secs(4))).await?;
    ensure!(
        max_age(&headers) == Some(Some(4)),
        "a session living 4 s got cookie Max-Age {:?}",
        max_age(&headers)
    );
    let (_, _, browser) = stored_with(&h, Expiry::OnSessionEnd).await?;
    ensure!(
        max_age(&browser) == Some(None),
        "a browser-session expiry sent Max-Age {:?}",
        max_age(&browser)
    );
    // While the cookie is valid, so is the session; soon after it ends, the session ends.
    sleep_ms(1500).await;
    ensure!(
        exists(&h, &again, &sid).await?,
        "a session whose cookie (Max-Age 3) is still valid after 1.5 s is gone"
    );
    sleep_ms(1000).await;
    ensure!(
        exists(&h, &own_client, &own).await?,
        "a session whose cookie (Max-Age 4) is still valid after 2.5 s is gone"
    );
    sleep_ms(3000).await;
    ensure!(
        !exists(&h, &own_client, &own).await?,
        "a session whose cookie expired (Max-Age 4) 1.5 s ago is still stored"
    );
    pass()
}
