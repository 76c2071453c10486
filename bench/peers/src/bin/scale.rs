//! Scale (issue 13 item 4): a million sessions in the memory engine (bytes per session, GC
//! passes with requests running beside them, one and two workers) and 100,000 in the file
//! engine (GC pass and requests beside it). Writes the `scale` section of BENCHMARKS.md.
//!
//! `scale [--sessions N] [--file-sessions N] [--no-write]`

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use http::{header, HeaderMap, HeaderValue, Request};
use session_core::{Expiry, Manager};
use session_peers_bench::alloc::{self, Counting};
use session_peers_bench::contender::Contender;
use session_peers_bench::machine::{self, Machine};
use session_peers_bench::measure::{quantile, Summary};
use session_peers_bench::scenario::Scenario;
use session_peers_bench::{engines, limit, peers, report, BoxError};
use tower::ServiceExt;

#[global_allocator]
static ALLOC: Counting = Counting;

/// Sessions whose latencies are sampled (spread over every shard).
const SAMPLED: usize = 10_000;

struct Args {
    sessions: usize,
    file_sessions: usize,
    write: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        sessions: 1_000_000,
        file_sessions: 100_000,
        write: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut number = |name: &str| -> Result<usize, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or(format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--sessions" => args.sessions = number("--sessions")?,
            "--file-sessions" => args.file_sessions = number("--file-sessions")?,
            "--no-write" => args.write = false,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

/// Stores one session as the routes would (a user name and the counter); `short` ones end
/// a millisecond from now. Returns its `Cookie` header value.
async fn store_session(manager: &Manager, n: u64, short: bool) -> Result<HeaderValue, BoxError> {
    let session = manager.session_start(&Request::new(())).await?;
    session.set("user", "astaxie").await?;
    session.set(session_peers_bench::KEY, &n).await?;
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
async fn payload(manager: &Manager, cookie: &HeaderValue) -> Result<usize, BoxError> {
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
async fn latencies(
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
async fn pass_with_requests(
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
fn spread(samples: &mut [f64]) -> String {
    let p50 = quantile(samples, 0.5);
    let p99 = quantile(samples, 0.99);
    let max = quantile(samples, 1.0);
    format!("{p50:.1} / {p99:.1} / {max:.0}")
}

struct PassRow {
    expired: usize,
    took: Duration,
    idle: Vec<f64>,
    during: Vec<f64>,
}

fn pass_table(rows: &mut [PassRow]) -> String {
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
fn throughput(
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

fn throughput_here(
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
async fn cookies_of(contender: &Contender) -> Result<Vec<HeaderValue>, BoxError> {
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

async fn memory_section(args: &Args, out: &mut String) -> Result<(), BoxError> {
    let n = args.sessions;
    let manager = engines::manager("memory", "").await?;
    let router = engines::router(manager.clone());
    let (bytes0, blocks0) = alloc::live();
    let rss0 = alloc::rss().unwrap_or(0);
    let start = Instant::now();
    let mut first = None;
    for i in 0..n {
        let cookie = store_session(&manager, i as u64, i % 10 == 0).await?;
        if i == 1 {
            first = Some(cookie);
        }
    }
    let created = start.elapsed();
    let (bytes1, blocks1) = alloc::live();
    let rss1 = alloc::rss().unwrap_or(0);
    let payload = match &first {
        Some(cookie) => payload(&manager, cookie).await?,
        None => 0,
    };
    let per = (bytes1 - bytes0) as f64 / n as f64;
    let id_len = first
        .as_ref()
        .and_then(|c| c.to_str().ok())
        .and_then(|c| c.split_once('='))
        .map_or(0, |(_, v)| v.len());
    out.push_str(&format!(
        "### Memory engine, {n} sessions ({} of them ending a millisecond after their write)\n\n\
         Created through the manager in {:.1} s ({:.0} sessions/s). Each holds `user` = \
         \"astaxie\" and the counter: a payload of {payload} bytes (keys plus encoded values); \
         its id is {id_len} characters.\n\n",
        n / 10,
        created.as_secs_f64(),
        n as f64 / created.as_secs_f64()
    ));
    out.push_str(&report::table(
        &["measure", "per session"],
        &[
            vec![
                "live heap (counting allocator)".into(),
                format!(
                    "{per:.0} bytes in {:.1} blocks",
                    (blocks1 - blocks0) as f64 / n as f64
                ),
            ],
            vec![
                "above the payload".into(),
                format!("**{:.0} bytes**", per - payload as f64),
            ],
            vec![
                "resident set growth".into(),
                format!("{:.0} bytes", (rss1.saturating_sub(rss0)) as f64 / n as f64),
            ],
        ],
    ));
    // Timings from here on run on two threads: stop counting (see alloc::set_counting).
    alloc::set_counting(false);
    let mut sampled = Vec::with_capacity(SAMPLED);
    for i in 0..SAMPLED {
        sampled.push(store_session(&manager, i as u64, false).await?);
    }
    let mut rows = Vec::new();
    for pass in 0..3 {
        let expired = if pass == 0 {
            n / 10
        } else {
            for i in 0..n / 10 {
                store_session(&manager, i as u64, true).await?;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
            n / 10
        };
        let idle = latencies(&router, &sampled, |made| made >= 50_000).await?;
        let (took, during) = pass_with_requests(&manager, &router, &sampled).await?;
        rows.push(PassRow {
            expired,
            took,
            idle,
            during,
        });
    }
    let idle = latencies(&router, &sampled, |made| made >= 50_000).await?;
    let (took, during) = pass_with_requests(&manager, &router, &sampled).await?;
    rows.push(PassRow {
        expired: 0,
        took,
        idle,
        during,
    });
    let live = manager.get_active_session().await?;
    out.push_str(&format!(
        "\nGC passes (`Manager::gc` on a second thread) while this thread sends `/cycle` \
         requests through the layer (`oneshot`) on {SAMPLED} other sessions, round robin; \
         \"idle\" is 50,000 such requests just before the pass. Passes 2 and 3 first add {} \
         more short sessions; pass 4 finds nothing expired. {live} sessions live at the end.\n\n",
        n / 10
    ));
    out.push_str(&pass_table(&mut rows));
    // What one expired session gives back, as a check of the bytes above.
    alloc::set_counting(true);
    for i in 0..n / 10 {
        store_session(&manager, i as u64, true).await?;
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    let before = alloc::live().0;
    manager.gc().await?;
    let freed = (before - alloc::live().0) as f64 / (n / 10) as f64;
    alloc::set_counting(false);
    out.push_str(&format!("\nA GC pass freed {freed:.0} bytes per expired session (a check of the live-heap figure).\n"));

    // One and two workers.
    let mut contenders = vec![
        (
            "ours",
            Scenario::Cycle,
            router.clone(),
            sampled[..64].to_vec(),
        ),
        (
            "ours",
            Scenario::Read,
            router.clone(),
            sampled[..64].to_vec(),
        ),
    ];
    for (who, router) in [
        ("tower-sessions 0.15 MemoryStore", peers::memory()),
        ("limit", limit::router()),
    ] {
        let contender = Contender::prepare(who, "memory", router).await?;
        let cookies = cookies_of(&contender).await?;
        contenders.push((
            who,
            Scenario::Cycle,
            contender.router.clone(),
            cookies.clone(),
        ));
        contenders.push((who, Scenario::Read, contender.router, cookies));
    }
    let rounds = 5;
    let duration = Duration::from_millis(600);
    let mut rps = vec![(Vec::new(), Vec::new()); contenders.len()];
    for round in 0..rounds {
        for (i, (_, scenario, router, cookies)) in contenders.iter().enumerate() {
            let order = if round % 2 == 0 { [1, 2] } else { [2, 1] };
            for workers in order {
                let r = throughput(router, cookies, *scenario, workers, duration)?;
                if workers == 1 {
                    rps[i].0.push(r)
                } else {
                    rps[i].1.push(r)
                }
            }
        }
    }
    let mut table = Vec::new();
    for (i, (who, scenario, _, _)) in contenders.iter().enumerate() {
        let one = Summary::of(&rps[i].0).map_or(f64::NAN, |s| s.median);
        let two = Summary::of(&rps[i].1).map_or(f64::NAN, |s| s.median);
        let ratios: Vec<f64> = rps[i].1.iter().zip(&rps[i].0).map(|(b, a)| b / a).collect();
        let ratio = Summary::of(&ratios);
        table.push(vec![
            who.to_string(),
            scenario.name().into(),
            report::ns(one),
            report::ns(two),
            ratio.map_or("–".into(), |r| {
                format!("{:.2}× ({:.2}–{:.2})", r.median, r.min, r.max)
            }),
        ]);
    }
    out.push_str(&format!(
        "\nThroughput on the multi-threaded runtime: 64 tasks, each on its own session, \
         sending requests through `oneshot` for {} ms; {rounds} rounds alternating 1 and 2 \
         workers; median requests per second. The machine's other builds share its 2 cores, \
         so 2 workers rarely get 2 whole cores.\n\n",
        duration.as_millis()
    ));
    out.push_str(&report::table(
        &[
            "contender (memory)",
            "route",
            "1 worker req/s",
            "2 workers req/s",
            "2 / 1 workers, per round",
        ],
        &table,
    ));
    Ok(())
}

async fn file_section(args: &Args, out: &mut String) -> Result<(), BoxError> {
    let n = args.file_sessions;
    let dir = tempfile::tempdir()?;
    let manager = engines::manager("file", &dir.path().to_string_lossy()).await?;
    let router = engines::router(manager.clone());
    let start = Instant::now();
    let mut sampled = Vec::new();
    for i in 0..n {
        let cookie = store_session(&manager, i as u64, i % 10 == 0).await?;
        if i % 10 == 1 && sampled.len() < 1000 {
            sampled.push(cookie);
        }
    }
    let created = start.elapsed();
    let mut rows = Vec::new();
    for pass in 0..2 {
        if pass == 1 {
            for i in 0..n / 10 {
                store_session(&manager, i as u64, true).await?;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let idle = latencies(&router, &sampled, |made| made >= 2_000).await?;
        let (took, during) = pass_with_requests(&manager, &router, &sampled).await?;
        rows.push(PassRow {
            expired: n / 10,
            took,
            idle,
            during,
        });
    }
    out.push_str(&format!(
        "\n### File engine, {n} sessions ({} ending a millisecond after their write)\n\n\
         Created in {:.1} s in a temporary directory (ext4). The same GC passes, `/cycle` on \
         1,000 other sessions beside them (\"idle\": 2,000 requests before the pass); pass 2 \
         first adds {} short sessions again.\n\n",
        n / 10,
        created.as_secs_f64(),
        n / 10
    ));
    out.push_str(&pass_table(&mut rows));
    Ok(())
}

async fn run() -> Result<(), BoxError> {
    let args = parse_args()?;
    let machine = Machine::now();
    let mut out = String::from("## Scale\n\n");
    out.push_str(&format!(
        "Command: `{}`  \nMachine: {}\n\n",
        machine::command(),
        machine.line()
    ));
    memory_section(&args, &mut out).await?;
    eprintln!("scale: memory engine done");
    file_section(&args, &mut out).await?;
    println!("{out}");
    if args.write {
        let path = report::write_section("scale", &out)?;
        eprintln!("scale: wrote {}", path.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("scale: no tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scale: error: {e}");
            ExitCode::FAILURE
        }
    }
}
