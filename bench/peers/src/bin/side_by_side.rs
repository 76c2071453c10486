//! Side by side through `oneshot` on one thread: every contender of the crate on the same
//! routes, in alternating batches; writes the `side-by-side` section of BENCHMARKS.md.
//!
//! `side_by_side [--rounds N] [--batch-ms MS] [--only TEXT] [--no-write]`
//! `side_by_side --profile CONTENDER SCENARIO REQUESTS` runs one job only (for callgrind:
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*timed_batch*'`).

use std::process::ExitCode;
use std::time::Duration;

use session_peers_bench::contender::{timed_batch, Contender};
use session_peers_bench::engines::{self, env, ENGINES};
use session_peers_bench::machine::Machine;
use session_peers_bench::measure::{self, Plan};
use session_peers_bench::scenario::Scenario;
use session_peers_bench::side_report::section;
use session_peers_bench::{limit, peers, raw, report, BoxError};

#[derive(Debug, Default)]
struct Args {
    plan: Plan,
    only: Option<String>,
    write: bool,
    profile: Option<(String, String, u32)>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        write: true,
        ..Args::default()
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--rounds" => {
                args.plan.rounds = value("--rounds")?.parse().map_err(|_| "bad --rounds")?
            }
            "--batch-ms" => {
                let ms: u64 = value("--batch-ms")?.parse().map_err(|_| "bad --batch-ms")?;
                args.plan.batch_time = Duration::from_millis(ms);
            }
            "--only" => args.only = Some(value("--only")?),
            "--no-write" => args.write = false,
            "--profile" => {
                let who = value("--profile")?;
                let scenario = it
                    .next()
                    .ok_or("--profile needs CONTENDER SCENARIO REQUESTS")?;
                let n = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--profile needs a request count")?;
                args.profile = Some((who, scenario, n));
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

/// Every contender whose store is there; the skipped ones with the reason.
async fn contenders(dir: &std::path::Path) -> Result<(Vec<Contender>, Vec<String>), BoxError> {
    let mut all = vec![
        Contender::prepare("limit", "memory", limit::router()).await?,
        Contender::prepare("tower-sessions 0.15", "memory", peers::memory()).await?,
    ];
    let mut skipped = Vec::new();
    for engine in ENGINES {
        match engine.resolve(dir) {
            Ok((config, counted)) => {
                let manager = engines::manager(engine.name, &config).await?;
                all.push(
                    Contender::prepare_counted(
                        "ours",
                        engine.name,
                        engines::router(manager),
                        counted,
                    )
                    .await?,
                );
            }
            Err(reason) => skipped.push(format!("ours on {}: {reason}", engine.name)),
        }
    }
    use session_peers_bench::counters::Counted;
    match env("REDIS_URL") {
        Some(url) => {
            let counted = Counted::Redis(url.clone());
            all.push(
                Contender::prepare_counted(
                    "tower-sessions 0.14",
                    "redis",
                    peers::redis(&url).await?,
                    counted.clone(),
                )
                .await?,
            );
            all.push(
                Contender::prepare_counted(
                    "raw redis-rs",
                    "redis",
                    raw::redis_router(&url).await?,
                    counted,
                )
                .await?,
            );
        }
        None => skipped.push("tower-sessions and raw redis-rs on redis: REDIS_URL not set".into()),
    }
    match env("POSTGRES_URL") {
        Some(url) => {
            let counted = Counted::Postgres(url.clone());
            all.push(
                Contender::prepare_counted(
                    "tower-sessions 0.14",
                    "postgres",
                    peers::postgres(&url).await?,
                    counted.clone(),
                )
                .await?,
            );
            all.push(
                Contender::prepare_counted(
                    "raw sqlx",
                    "postgres",
                    raw::postgres_router(&url).await?,
                    counted,
                )
                .await?,
            );
        }
        None => {
            skipped.push("tower-sessions and raw sqlx on postgres: POSTGRES_URL not set".into())
        }
    }
    Ok((all, skipped))
}

fn scenario_named(name: &str) -> Option<Scenario> {
    Scenario::ALL
        .into_iter()
        .find(|s| s.name() == name || format!("{s:?}").eq_ignore_ascii_case(name))
}

async fn run() -> Result<(), BoxError> {
    let args = parse_args()?;
    let machine = Machine::now();
    let dir = tempfile::tempdir()?;
    let (mut all, skipped) = contenders(dir.path()).await?;
    if let Some((who, scenario, n)) = &args.profile {
        let contender = all.iter().find(|c| c.name() == *who).ok_or_else(|| {
            format!(
                "no contender {who:?}; there are: {:?}",
                all.iter().map(Contender::name).collect::<Vec<_>>()
            )
        })?;
        let scenario = scenario_named(scenario).ok_or("scenario: cycle, read or new")?;
        // No warm-up: the profiler counts every request of the one batch.
        let (took, failed) = timed_batch(&contender.router, scenario, &contender.cookie, *n).await;
        eprintln!(
            "{who} {}: {} ns per request, {failed} failed",
            scenario.name(),
            took.wall.as_nanos() / u128::from(*n)
        );
        return Ok(());
    }
    if let Some(only) = &args.only {
        all.retain(|c| c.name().contains(only.as_str()));
    }
    for line in &skipped {
        eprintln!("side_by_side: skipped {line}");
    }
    eprintln!(
        "side_by_side: {} contenders, {} rounds",
        all.len(),
        args.plan.rounds
    );
    let samples = measure::alternate(&all, &args.plan, |round, took| {
        eprintln!(
            "side_by_side: round {} done in {:.1} s",
            round + 1,
            took.as_secs_f64()
        );
    })
    .await?;
    let mut counts = Vec::new();
    for contender in &all {
        let mut per = Vec::new();
        for scenario in Scenario::ALL {
            per.push(contender.count(scenario, 100).await?);
        }
        counts.push(per);
    }
    let body = section(&machine, &args.plan, &all, &samples, &counts, &skipped);
    println!("{body}");
    if args.write {
        let path = report::write_section("side-by-side", &body)?;
        eprintln!("side_by_side: wrote {}", path.display());
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
            eprintln!("side_by_side: no tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("side_by_side: error: {e}");
            ExitCode::FAILURE
        }
    }
}
