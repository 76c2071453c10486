//! The checks, grouped by topic, and the helpers they share.

mod basics;
mod concurrency;
mod corrupt;
mod expiry;
mod ids;
mod lifecycle;
mod lifetimes;
mod values;

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::HeaderMap;

use super::report::Outcome;
pub(crate) use super::set_cookies;
use super::{Client, Env, Harness};
use crate::config::ManagerConfig;
use crate::session::Session;

/// Why a check failed.
pub(crate) struct Failure(pub String);

impl<E: Display> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure(error.to_string())
    }
}

pub(crate) type CheckResult = Result<Outcome, Failure>;

impl From<CheckResult> for Outcome {
    fn from(result: CheckResult) -> Self {
        result.unwrap_or_else(|Failure(why)| Outcome::Failed(why))
    }
}

/// Fails the check with a formatted message unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($message:tt)+) => {
        if !$cond {
            return Err($crate::conformance::checks::Failure(format!($($message)+)));
        }
    };
}
pub(crate) use ensure;

type CheckFuture = Pin<Box<dyn Future<Output = CheckResult> + Send>>;

/// One named part of the contract.
pub(crate) struct Check {
    pub name: &'static str,
    /// Runs alone: it counts sessions or collects garbage, which other checks would disturb.
    pub exclusive: bool,
    pub run: fn(Arc<Env>) -> CheckFuture,
}

macro_rules! checks {
    ($($module:ident :: $name:ident $(($exclusive:ident))?),* $(,)?) => {
        pub(crate) const ALL: &[Check] = &[
            $(Check {
                name: stringify!($name),
                exclusive: checks!(@exclusive $($exclusive)?),
                run: |env| Box::pin($module::$name(env)),
            }),*
        ];
    };
    (@exclusive exclusive) => { true };
    (@exclusive) => { false };
}

checks![
    basics::set_get_delete_flush_in_one_request,
    basics::first_visit_gets_a_cookie,
    basics::round_trip_by_cookie,
    basics::new_visitor_costs_nothing(exclusive),
    basics::changes_persist_across_requests,
    basics::sid_in_url_query_and_header,
    ids::unknown_id_is_not_adopted,
    ids::invalid_ids_never_reach_storage,
    ids::forged_hmac_ids_are_rejected,
    lifecycle::regenerate_keeps_data_and_cookie_attributes,
    lifecycle::manager_regenerate_id,
    lifecycle::regenerate_moves_only_at_release,
    lifecycle::destroy_removes_data_and_cookie,
    lifecycle::destroy_is_not_undone_by_a_concurrent_request,
    lifecycle::unchanged_release_does_not_undo_a_logout,
    lifecycle::release_if_present_never_creates,
    lifecycle::provider_methods_called_directly,
    values::typed_values_round_trip,
    values::wrong_type_is_an_error_and_harmless,
    concurrency::concurrent_changes_to_different_keys_merge,
    corrupt::corrupt_data_reads_as_empty,
    expiry::expired_sessions_are_never_returned,
    expiry::unchanged_sessions_slide,
    lifetimes::own_inactivity_limit_replaces_the_default,
    lifetimes::fixed_instant_ends_the_session,
    lifetimes::absolute_lifetime_ends_an_active_session,
    lifetimes::own_expiry_survives_regenerate,
    lifetimes::cookie_max_age_agrees_with_the_stored_expiry,
    expiry::gc_removes_expired_and_keeps_live(exclusive),
    expiry::session_all_counts_live_sessions(exclusive),
];

pub(crate) fn pass() -> CheckResult {
    Ok(Outcome::Passed)
}

pub(crate) fn skip(why: impl Into<String>) -> CheckResult {
    Ok(Outcome::Skipped(why.into()))
}

/// The default configuration: beego's defaults, sessions living an hour.
pub(crate) fn config() -> ManagerConfig {
    ManagerConfig::default()
}

/// The default configuration with the id also accepted from the URL query and the
/// `X-Session-Id` header.
pub(crate) fn every_transport() -> ManagerConfig {
    ManagerConfig {
        enable_sid_in_url_query: true,
        enable_sid_in_http_header: true,
        session_name_in_http_header: "X-Session-Id".into(),
        ..config()
    }
}

/// The default configuration with sessions living `secs` seconds.
pub(crate) fn lifetime(secs: u64) -> ManagerConfig {
    ManagerConfig {
        max_lifetime: secs,
        gc_lifetime: 1,
        ..ManagerConfig::default()
    }
}

/// Starts the session of the client's next request to `/`.
pub(crate) async fn start(h: &Harness, client: &Client) -> Result<Session, Failure> {
    Ok(h.manager.session_start(&client.request("/")).await?)
}

/// Releases `session` and lets the client take the cookies of the response.
pub(crate) async fn finish(session: &Session, client: &mut Client) -> Result<HeaderMap, Failure> {
    let mut headers = HeaderMap::new();
    session.release(&mut headers).await?;
    client.absorb(&headers);
    Ok(headers)
}

/// A stored session holding `key = value` pairs: the client holding its cookie, and its id.
pub(crate) async fn stored(
    h: &Harness,
    pairs: &[(&str, i64)],
) -> Result<(Client, String), Failure> {
    let mut client = Client::new();
    let session = start(h, &client).await?;
    for (key, value) in pairs {
        session.set(key, value).await?;
    }
    finish(&session, &mut client).await?;
    let sid = session.id();
    let cookie = client.cookie(&h.manager.config().cookie_name);
    ensure!(
        cookie == Some(sid.as_str()),
        "after releasing a new session with data the client holds cookie {cookie:?}, expected the session id {sid}"
    );
    Ok((client, sid))
}

/// The value under `key` as an i64, failing the check on an error.
pub(crate) async fn get_i64(session: &Session, key: &str) -> Result<Option<i64>, Failure> {
    Ok(session.get::<i64>(key).await?)
}

/// True when the engine says `sid` exists, asked in a request from `client` (engines that
/// keep data on the client need its cookies; the others ignore them).
pub(crate) async fn exists(h: &Harness, client: &Client, sid: &str) -> Result<bool, Failure> {
    let request = client.request("/");
    Ok(h.manager
        .provider()
        .session_exist(&crate::Context::from(&request), sid)
        .await?)
}

/// Sleeps `millis` milliseconds (never more than three seconds at a time).
pub(crate) async fn sleep_ms(millis: u64) {
    tokio::time::sleep(std::time::Duration::from_millis(millis.min(3000))).await;
}
