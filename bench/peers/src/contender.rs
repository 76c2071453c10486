//! A contender: a router serving `/cycle` and `/read`, the cookie of a session it stored, and
//! the server that counts its store commands.

use std::hint::black_box;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::Router;
use http::{header, HeaderMap, HeaderValue, Response};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::counters::{self, Counted, Counts};
use crate::scenario::Scenario;
use crate::BoxError;

/// One router under test.
#[derive(Debug, Clone)]
pub struct Contender {
    /// Who serves the routes: `ours`, `tower-sessions 0.15`, `limit`, `raw redis-rs`…
    pub who: String,
    /// Where sessions live: `memory`, `postgres`…
    pub store: String,
    /// The routes.
    pub router: Router,
    /// The `Cookie` header of a session holding the integer.
    pub cookie: HeaderValue,
    /// What the store's server counts.
    pub counted: Counted,
}

/// Sends one request and returns the response head and body text.
async fn send(
    router: &Router,
    request: http::Request<Body>,
) -> Result<(Response<()>, String), BoxError> {
    let response = router.clone().oneshot(request).await?;
    let (head, body) = response.into_parts();
    let bytes = body.collect().await?.to_bytes();
    Ok((
        Response::from_parts(head, ()),
        String::from_utf8_lossy(&bytes).into_owned(),
    ))
}

/// The `name=value` pairs of every `Set-Cookie` in `headers`, as one `Cookie` header,
/// replacing pairs of the same name in `previous`.
fn cookie_after(previous: &str, headers: &HeaderMap) -> String {
    let mut pairs: Vec<(String, String)> = previous
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    for set in headers.get_all(header::SET_COOKIE) {
        let Some((name, value)) = set
            .to_str()
            .ok()
            .and_then(|s| s.split(';').next())
            .and_then(|pair| pair.split_once('='))
        else {
            continue;
        };
        pairs.retain(|(n, _)| n != name);
        pairs.push((name.to_owned(), value.to_owned()));
    }
    let pairs: Vec<String> = pairs.iter().map(|(n, v)| format!("{n}={v}")).collect();
    pairs.join("; ")
}

fn number(contender: &str, what: &str, body: &str) -> Result<i64, BoxError> {
    body.trim()
        .parse()
        .map_err(|_| format!("{contender}: {what} answered {body:?}, not an integer").into())
}

impl Contender {
    /// Checks that `router` behaves (a new visitor gets a cookie, a cycle adds one, a read
    /// sees it) and keeps the cookie of the session it stored.
    pub async fn prepare(who: &str, store: &str, router: Router) -> Result<Self, BoxError> {
        Self::prepare_counted(who, store, router, Counted::Nothing).await
    }

    /// [`prepare`](Self::prepare) for a store whose server counts commands.
    pub async fn prepare_counted(
        who: &str,
        store: &str,
        router: Router,
        counted: Counted,
    ) -> Result<Self, BoxError> {
        let name = format!("{who} on {store}");
        let empty = HeaderValue::from_static("");
        let (first, body) = send(&router, Scenario::New.request(&empty)).await?;
        if !first.status().is_success() || number(&name, "a new visitor", &body)? != 0 {
            return Err(format!("{name}: a new visitor got {} {body:?}", first.status()).into());
        }
        let cookie = cookie_after("", first.headers());
        if cookie.is_empty() {
            return Err(format!("{name}: a new visitor got no Set-Cookie").into());
        }
        let cookie = HeaderValue::try_from(cookie)?;
        let (cycled, body) = send(&router, Scenario::Cycle.request(&cookie)).await?;
        let before = number(&name, "/cycle", &body)?;
        if !cycled.status().is_success() || before != 1 {
            return Err(format!("{name}: /cycle after a first visit gave {body:?}, not 1").into());
        }
        // The cookie engine's session lives in the cookie: follow it.
        let cookie = HeaderValue::try_from(cookie_after(cookie.to_str()?, cycled.headers()))?;
        let (_, body) = send(&router, Scenario::Read.request(&cookie)).await?;
        if number(&name, "/read", &body)? != before + 1 {
            return Err(format!(
                "{name}: /read after /cycle gave {body:?}, not {}",
                before + 1
            )
            .into());
        }
        Ok(Contender {
            who: who.to_owned(),
            store: store.to_owned(),
            router,
            cookie,
            counted,
        })
    }

    /// `who on store`.
    pub fn name(&self) -> String {
        format!("{} on {}", self.who, self.store)
    }

    /// Runs `requests` requests of `scenario` one after the other and returns how long they
    /// took. Fails if any answer is not a success.
    pub async fn batch(&self, scenario: Scenario, requests: u32) -> Result<Duration, BoxError> {
        Ok(self.timed(scenario, requests).await?.wall)
    }

    /// [`batch`](Self::batch), with the thread's CPU time too.
    pub async fn timed(&self, scenario: Scenario, requests: u32) -> Result<Timing, BoxError> {
        let (timing, failed) = timed_batch(&self.router, scenario, &self.cookie, requests).await;
        if failed > 0 {
            return Err(format!(
                "{}: {failed} of {requests} {} requests failed",
                self.name(),
                scenario.name()
            )
            .into());
        }
        Ok(timing)
    }

    /// Runs `requests` requests of `scenario` and returns the store commands per request
    /// counted on the server (`None` for in-process stores).
    pub async fn count(
        &self,
        scenario: Scenario,
        requests: u32,
    ) -> Result<Option<Counts>, BoxError> {
        let Some(before) = counters::snapshot(&self.counted).await? else {
            return Ok(None);
        };
        self.batch(scenario, requests).await?;
        let after = counters::snapshot(&self.counted).await?.unwrap_or_default();
        Ok(Some(after.per_request(&before, requests)))
    }
}

/// How long a batch took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Wall-clock time.
    pub wall: Duration,
    /// CPU time of the measuring thread (user and system): on a loaded machine it leaves
    /// out the time the thread waited for a core, and also the time it waited for a server.
    pub cpu: Duration,
}

/// The CPU time this thread has used (`CLOCK_THREAD_CPUTIME_ID`).
pub fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to fill.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    if status != 0 {
        return Duration::ZERO;
    }
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// The measured loop, kept out of line so that profilers can select it
/// (`valgrind --toggle-collect='*timed_batch*'`). Returns the time and the failures.
#[inline(never)]
pub async fn timed_batch(
    router: &Router,
    scenario: Scenario,
    cookie: &HeaderValue,
    requests: u32,
) -> (Timing, u32) {
    let mut failed = 0;
    let cpu = thread_cpu_time();
    let start = Instant::now();
    for _ in 0..requests {
        match router.clone().oneshot(scenario.request(cookie)).await {
            Ok(response) if response.status().is_success() => drop(black_box(response)),
            _ => failed += 1,
        }
    }
    let wall = start.elapsed();
    let timing = Timing {
        wall,
        cpu: thread_cpu_time().saturating_sub(cpu),
    };
    (timing, failed)
}
