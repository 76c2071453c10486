//! Over real HTTP (issue 13 item 5): the demo app's routes (`session_demo::app::router`)
//! and the same routes on tower-sessions, each served on loopback by axum on a
//! multi-threaded runtime, loaded by `wrk` with 64 connections that keep their cookies.
//! Writes the `over-http` section of BENCHMARKS.md.
//!
//! `over_http [--rounds N] [--seconds S] [--connections C] [--no-write]`

use std::process::ExitCode;
use std::time::Duration;

use session_peers_bench::engines::{self, env};
use session_peers_bench::http::{get_text, wrk, MakeRouter, Server, WrkRun};
use session_peers_bench::machine::{self, Machine};
use session_peers_bench::measure::Summary;
use session_peers_bench::{report, tower_demo, BoxError};
use session_web::SessionLayer;

/// The loads: name, wrk script mode, path.
const LOADS: [(&str, &str, &str); 3] = [
    ("counter `/` (session kept)", "keep", "/"),
    ("counter `/`, new visitor each request", "fresh", "/"),
    (
        "login page `/login` (session kept, untouched)",
        "keep",
        "/login",
    ),
];

struct Args {
    rounds: usize,
    seconds: u64,
    connections: u32,
    write: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        rounds: 3,
        seconds: 5,
        connections: 64,
        write: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or(format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--rounds" => args.rounds = number("--rounds")? as usize,
            "--seconds" => args.seconds = number("--seconds")?,
            "--connections" => args.connections = number("--connections")? as u32,
            "--no-write" => args.write = false,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

/// The demo on our layer over `engine` with `config`.
fn ours(engine: &'static str, config: String) -> MakeRouter {
    Box::new(move || {
        Box::pin(async move {
            let manager = engines::manager(engine, &config).await?;
            Ok(session_demo::app::router(SessionLayer::new(manager)))
        })
    })
}

/// Every server to load, with the reasons for the ones left out.
fn servers() -> (Vec<(String, MakeRouter)>, Vec<String>) {
    let mut servers: Vec<(String, MakeRouter)> = vec![
        ("ours on memory".into(), ours("memory", String::new())),
        (
            "tower-sessions 0.15 on memory".into(),
            Box::new(|| {
                Box::pin(async {
                    let store = tower_sessions_015::MemoryStore::default();
                    Ok(tower_demo::v015::router(store, "tower-sessions memory"))
                })
            }),
        ),
    ];
    let mut skipped = Vec::new();
    match env("REDIS_URL") {
        Some(url) => {
            if engines::is_linked("redis") {
                servers.push(("ours on redis".into(), ours("redis", url.clone())));
            } else {
                skipped.push("ours on redis: engine not linked into the benchmark".into());
            }
            servers.push((
                "tower-sessions 0.14 on redis".into(),
                Box::new(move || {
                    Box::pin(async move {
                        use tower_sessions_redis_store::fred::prelude::{ClientLike, Config, Pool};
                        let pool = Pool::new(Config::from_url(&url)?, None, None, None, 4)?;
                        pool.init().await?;
                        let store = tower_sessions_redis_store::RedisStore::new(pool);
                        Ok(tower_demo::v014::router(store, "tower-sessions redis"))
                    })
                }),
            ));
        }
        None => skipped.push("redis: REDIS_URL not set".into()),
    }
    (servers, skipped)
}

/// The number on the demo's `/sessions` page.
fn active_sessions(server: &Server) -> Result<usize, BoxError> {
    let page = get_text(server.addr, "/sessions")?;
    page.split("<span id=\"active\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("no session count on /sessions: {page}").into())
}

/// wrk with the script in `keep` mode makes one session per connection, and in `fresh`
/// mode one per request (checked on our memory server, which can count).
fn check_cookie_keeping(running: &[(String, Server)]) -> Result<(), BoxError> {
    let Some((_, server)) = running.iter().find(|(name, _)| name == "ours on memory") else {
        return Ok(());
    };
    let before = active_sessions(server)?;
    let kept = wrk(server.addr, "/", "keep", 8, Duration::from_secs(1))?;
    let after_keep = active_sessions(server)?;
    // Each /sessions check is a new visitor too, but leaves no session behind.
    if after_keep - before > 8 || kept.rps < 100.0 {
        return Err(format!(
            "wrk/cookies.lua keep mode made {} sessions for 8 connections",
            after_keep - before
        )
        .into());
    }
    wrk(server.addr, "/", "fresh", 8, Duration::from_secs(1))?;
    let after_fresh = active_sessions(server)?;
    if after_fresh - after_keep < 100 {
        return Err(format!(
            "wrk/cookies.lua fresh mode made only {} sessions",
            after_fresh - after_keep
        )
        .into());
    }
    eprintln!(
        "over_http: cookies kept per connection ({} sessions for 8 connections)",
        after_keep - before
    );
    Ok(())
}

fn run() -> Result<(), BoxError> {
    let args = parse_args()?;
    let machine = Machine::now();
    let (makers, skipped) = servers();
    let mut running = Vec::new();
    for (name, make) in makers {
        running.push((name, Server::start(make)?));
    }
    check_cookie_keeping(&running)?;
    let duration = Duration::from_secs(args.seconds);
    let jobs: Vec<(usize, usize)> = (0..running.len())
        .flat_map(|s| (0..LOADS.len()).map(move |l| (s, l)))
        .collect();
    let mut results: Vec<Vec<WrkRun>> = vec![Vec::new(); jobs.len()];
    for round in 0..args.rounds {
        let mut order: Vec<usize> = (0..jobs.len()).collect();
        let shift = round % order.len().max(1);
        order.rotate_left(shift);
        if round % 2 == 1 {
            order.reverse();
        }
        for job in order {
            let (server, load) = jobs[job];
            let (_, mode, path) = LOADS[load];
            let run = wrk(
                running[server].1.addr,
                path,
                mode,
                args.connections,
                duration,
            )?;
            if run.failures > 0 {
                return Err(format!(
                    "{} {}: {} failed responses or socket errors",
                    running[server].0, path, run.failures
                )
                .into());
            }
            eprintln!(
                "over_http: round {} {} {}: {:.0} req/s, p99 {:.2} ms",
                round + 1,
                running[server].0,
                LOADS[load].0,
                run.rps,
                run.p99_ms
            );
            results[job].push(run);
        }
    }
    let mut rows = Vec::new();
    for (job, (server, load)) in jobs.iter().enumerate() {
        let rps: Vec<f64> = results[job].iter().map(|r| r.rps).collect();
        let p50: Vec<f64> = results[job].iter().map(|r| r.p50_ms).collect();
        let p99: Vec<f64> = results[job].iter().map(|r| r.p99_ms).collect();
        let median = |v: &[f64]| Summary::of(v).map_or(f64::NAN, |s| s.median);
        let range = Summary::of(&rps).map_or(String::new(), |s| {
            format!(" ({}–{})", report::ns(s.min), report::ns(s.max))
        });
        rows.push(vec![
            LOADS[*load].0.to_owned(),
            running[*server].0.clone(),
            format!("{}{range}", report::ns(median(&rps))),
            format!("{:.2}", median(&p50)),
            format!("{:.2}", median(&p99)),
        ]);
    }
    rows.sort_by(|a, b| a[0].cmp(&b[0]));
    drop(running);
    let mut out = String::from("## Over real HTTP: the demo app under wrk\n\n");
    out.push_str(&format!(
        "Command: `{}`  \nMachine: {}\n\n",
        machine::command(),
        machine.line()
    ));
    out.push_str(&format!(
        "The demo's routes (`session_demo::app::router` on `SessionLayer`) and the same routes \
         on tower-sessions (`bench/peers/src/tower_demo.rs`, the demo's own pages), each served \
         by `axum::serve` on 127.0.0.1 with a multi-threaded runtime (2 workers). `wrk -t{c} \
         -c{c} -d{s}s --latency -s bench/peers/wrk/cookies.lua`: one wrk thread per \
         connection, so each connection keeps its own cookie. wrk shares the 2 cores with the \
         server (and the machine's other builds). {r} rounds, servers and loads in rotating \
         order; median of the rounds (requests/s: min–max).\n\n",
        c = args.connections,
        s = args.seconds,
        r = args.rounds
    ));
    out.push_str(&report::table(
        &["load", "server", "requests/s", "p50 ms", "p99 ms"],
        &rows,
    ));
    out.push_str(
        "\ntower-sessions loads a session only when a handler touches it, so its login page \
         costs no store access; our layer starts the session before the handler.\n",
    );
    if !skipped.is_empty() {
        out.push_str("\nNot measured in this run:\n\n");
        for line in &skipped {
            out.push_str(&format!("- {line}\n"));
        }
    }
    println!("{out}");
    if args.write {
        let path = report::write_section("over-http", &out)?;
        eprintln!("over_http: wrote {}", path.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("over_http: error: {e}");
            ExitCode::FAILURE
        }
    }
}
