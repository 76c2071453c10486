//! The pieces of the `scale` binary: sessions stored straight through the manager, request
//! latencies beside a GC pass on another thread, throughput on one or two workers.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use http::{header, HeaderMap, HeaderValue, Request};
use session_core::{Expiry, Manager};
use tower::ServiceExt;

use crate::contender::Contender;
use crate::measure::quantile;
use crate::scenario::Scenario;
use crate::{report, BoxError};

/// Stores one session as the routes would (a user name and the counter); `short` ones end
/// a millisecond from now. Returns its `Cookie` header value.
pub async fn store_session(
    manager: &Manager,
    n: u64,
    short: bool,
) -> Result<HeaderValue, BoxError> {
    let session = manager.session_start(&Request::new(())).await?;
    session.set("user", "astaxie").await?;
    session.set(crate::KEY, &n).await?;
    if short {
        let end = SystemTime::now() + Duration::from_millis(1);
        session.set_expiry(Some(Expiry::AtDateTime(end))).await?;
    }
    let mut headers = HeaderMap::new();
    session.release(&mut headers).await?;
    let set = headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or("a new session sent no cookie")?;
    Ok(HeaderValue::try_from(set)?)
}

/// The application's bytes in one stored session: keys plus their encoded values.
pub async fn payload(manager: &Manager, cookie: &HeaderValue) -> Result<usize, BoxError> {
    let mut request = Request::new(());
    request.headers_mut().insert(header::COOKIE, cookie.clone());
    let session = manager.session_start(&request).await?;
    let mut bytes = 0;
    for key in session.keys().await? {
        bytes += key.len() + session.get_raw(&key).await?.map_or(0, |v| v.len());
    }
    Ok(bytes)
}

/// Latencies in microseconds of `/cycle` requests on `cookies` (round robin) until `stop`
/// says so (it sees how many were made).
pub async fn latencies(
    router: &Router,
    cookies: &[HeaderValue],
    stop: impl Fn(usize) -> bool,
) -> Result<Vec<f64>, BoxError> {
    let mut out = Vec::with_capacity(100_000);
    let mut i = 0;
    while !stop(out.len()) {
        let request = Scenario::Cycle.request(&cookies[i % cookies.len()]);
        i += 1;
        let start = Instant::now();
        let response = router.clone().oneshot(request).await?;
        out.push(start.elapsed().as_nanos() as f64 / 1000.0);
        if !response.status().is_success() {
            return Err(format!("a request answered {}", response.status()).into());
        }
    }
    Ok(out)
}

/// One GC pass on another thread while this one sends requests: the pass's duration and
/// the request latencies during it.
pub async fn pass_with_requests(
    manager: &Manager,
    router: &Router,
    cookies: &[HeaderValue],
) -> Result<(Duration, Vec<f64>), BoxError> {
    let done = Arc::new(AtomicBool::new(false));
    let took = Arc::new(AtomicU64::new(0));
    let gc = {
        let (manager, done, took) = (manager.clone(), done.clone(), took.clone());
        std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            let start = Instant::now();
            let result = runtime.block_on(manager.gc());
            took.store(start.elapsed().as_nanos() as u64, Ordering::SeqCst);
            done.store(true, Ordering::SeqCst);
            result.map_err(|e| e.to_string())
        })
    };
    let during = latencies(router, cookies, |_| done.load(Ordering::SeqCst)).await;
    gc.join().map_err(|_| "the GC thread panicked")??;
    Ok((Duration::from_nanos(took.load(Ordering::SeqCst)), during?))
}

/// `p50 / p99 / max` in microseconds.
pub fn spread(samples: &mut [f64]) -> String {
    let p50 = quantile(samples, 0.5);
    let p99 = quantile(samples, 0.99);
    let max = quantile(samples, 1.0);
    format!("{p50:.1} / {p99:.1} / {max:.0}")
}

/// One GC pass with requests beside it.
pub struct PassRow {
    /// Expired sessions the pass had to remove.
    pub expired: usize,
    /// How long the pass took.
    pub took: Duration,
    /// Request latencies (µs) just before the pass.
    pub idle: Vec<f64>,
    /// Request latencies (µs) during the pass.
    pub during: Vec<f64>,
}

/// The table of GC passes.
pub fn pass_table(rows: &mut [PassRow]) -> String {
    let mut table = Vec::new();
    for (i, row) in rows.iter_mut().enumerate() {
        let idle99 = quantile(&mut row.idle, 0.99);
        let during99 = quantile(&mut row.during, 0.99);
        table.push(vec![
            format!("{}", i + 1),
            format!("{}", row.expired),
            format!("{:.1}", row.took.as_secs_f64() * 1000.0),
            spread(&mut row.idle),
            format!(
                "{} ({} requests)",
                spread(&mut row.during),
                row.during.len()
            ),
            format!("{:.2}×", during99 / idle99),
        ]);
    }
    report::table(
        &[
            "pass",
            "expired sessions removed",
            "GC pass ms",
            "idle request µs p50 / p99 / max",
            "during the pass µs p50 / p99 / max",
            "p99 during / idle",
        ],
        &table,
    )
}

/// Requests per second of `/cycle` from 64 tasks on `workers` worker threads, each task on
/// its own session, for `duration`.
/// (On a thread of its own: the caller runs inside a runtime already.)
pub fn throughput(
    router: &Router,
    cookies: &[HeaderValue],
    scenario: Scenario,
    workers: usize,
    duration: Duration,
) -> Result<f64, BoxError> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| throughput_here(router, cookies, scenario, workers, duration))
            .join()
            .map_err(|_| BoxError::from("the throughput thread panicked"))?
    })
}

/// [`throughput`] on the calling thread.
pub fn throughput_here(
    router: &Router,
    cookies: &[HeaderValue],
    scenario: Scenario,
    workers: usize,
    duration: Duration,
) -> Result<f64, BoxError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let deadline = Instant::now() + duration;
        let start = Instant::now();
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let router = router.clone();
                let cookie = cookies[i % cookies.len()].clone();
                tokio::spawn(async move {
                    let mut done = 0u64;
                    while Instant::now() < deadline {
                        match router.clone().oneshot(scenario.request(&cookie)).await {
                            Ok(r) if r.status().is_success() => done += 1,
                            _ => return Err("a request failed"),
                        }
                    }
                    Ok(done)
                })
            })
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await??;
        }
        Ok(total as f64 / start.elapsed().as_secs_f64())
    })
}

/// 64 sessions on `contender`'s router (its cookie is one of them).
pub async fn cookies_of(contender: &Contender) -> Result<Vec<HeaderValue>, BoxError> {
    let mut cookies = vec![contender.cookie.clone()];
    while cookies.len() < 64 {
        let response = contender
            .router
            .clone()
            .oneshot(Scenario::New.request(&contender.cookie))
            .await?;
        let set = response
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .ok_or("no cookie")?;
        cookies.push(HeaderValue::try_from(set)?);
    }
    Ok(cookies)
}
