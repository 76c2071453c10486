//! Side by side through `oneshot` on one thread: every contender of the crate on the same
//! routes, in alternating batches; writes the `side-by-side` section of BENCHMARKS.md.
//!
//! `side_by_side [--rounds N] [--batch-ms MS] [--only TEXT] [--no-write]`
//! `side_by_side --profile CONTENDER SCENARIO REQUESTS` runs one job only (for callgrind:
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*timed_batch*'`).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use session_peers_bench::contender::{timed_batch, Contender};
use session_peers_bench::counters::Counts;
use session_peers_bench::engines::{self, env, ENGINES};
use session_peers_bench::machine::{self, Machine};
use session_peers_bench::measure::{self, Plan, Samples, Summary};
use session_peers_bench::scenario::Scenario;
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

fn cell(summary: Option<Summary>) -> String {
    match summary {
        Some(s) => format!(
            "{} ({}–{})",
            report::ns(s.median),
            report::ns(s.min),
            report::ns(s.max)
        ),
        None => "–".into(),
    }
}

fn find(all: &[Contender], who: &str, store: &str) -> Option<usize> {
    all.iter().position(|c| c.who == who && c.store == store)
}

/// `(a - base) / (b - base)` on the medians of the series, and on their minima (the
/// batches the machine disturbed least).
fn ratio_above(
    series: &BTreeMap<(usize, Scenario), Vec<f64>>,
    a: usize,
    b: usize,
    base: Option<usize>,
    scenario: Scenario,
) -> Option<(f64, f64)> {
    let summary = |i: usize| series.get(&(i, scenario)).and_then(|s| Summary::of(s));
    let (sa, sb) = (summary(a)?, summary(b)?);
    let sbase = match base {
        Some(i) => summary(i)?,
        None => Summary {
            median: 0.0,
            min: 0.0,
            max: 0.0,
        },
    };
    Some((
        (sa.median - sbase.median) / (sb.median - sbase.median),
        (sa.min - sbase.min) / (sb.min - sbase.min),
    ))
}

/// A target and its test, or none for a row given for reference.
type Target<'a> = Option<(&'a str, &'a dyn Fn(f64) -> bool)>;

fn ratio_cell(ratio: Option<(f64, f64)>, target: Target<'_>) -> String {
    let Some((medians, minima)) = ratio else {
        return "not measured".into();
    };
    let verdict = match target {
        Some((text, meets)) if meets(medians) => format!(" meets {text}"),
        Some((text, _)) => format!(" **misses {text}**"),
        None => String::new(),
    };
    format!("{medians:.2}× (minima: {minima:.2}×){verdict}")
}

fn section(
    machine: &Machine,
    plan: &Plan,
    all: &[Contender],
    samples: &Samples,
    counts: &[Vec<Option<Counts>>],
    skipped: &[String],
) -> String {
    let mut out = String::from(
        "## Side by side: one request through axum `oneshot`, single-threaded runtime\n\n",
    );
    out.push_str(&format!(
        "Command: `{}`  \nMachine: {}\n\n",
        machine::command(),
        machine.line()
    ));
    out.push_str(&format!(
        "{} rounds; each round runs one batch of every contender and scenario in a rotating \
         order, a batch sized to about {} ms (requests per batch in the last column). \
         Nanoseconds per request: median of the rounds (min–max). Routes: `GET /cycle` \
         reads an integer and writes it plus one, `GET /read` only reads it, new visitor = \
         `/cycle` without a cookie. Store commands are counted by the server over 100 more \
         requests of each kind (Redis `INFO commandstats`, PostgreSQL `pg_stat_statements`, \
         MariaDB `Com_*`, memcached `stats`).\n\n",
        plan.rounds,
        plan.batch_time.as_millis()
    ));
    let mut rows = Vec::new();
    for (i, contender) in all.iter().enumerate() {
        let mut row = vec![contender.store.clone(), contender.who.clone()];
        for scenario in Scenario::ALL {
            row.push(cell(
                samples.ns.get(&(i, scenario)).and_then(|s| Summary::of(s)),
            ));
        }
        let commands: Vec<String> = counts[i]
            .iter()
            .map(|c| c.as_ref().map_or("–".into(), Counts::to_string))
            .collect();
        row.push(commands.join(" / "));
        let sizes: Vec<String> = Scenario::ALL
            .iter()
            .map(|s| {
                samples
                    .batch
                    .get(&(i, *s))
                    .map_or("–".into(), u32::to_string)
            })
            .collect();
        row.push(sizes.join(" / "));
        rows.push(row);
    }
    rows.sort_by(|a, b| a[0].cmp(&b[0]));
    out.push_str(&report::table(
        &[
            "store",
            "contender",
            "cycle ns",
            "read-only ns",
            "new visitor ns",
            "store commands per request (cycle / read / new)",
            "batch",
        ],
        &rows,
    ));
    let mut cpu_rows = Vec::new();
    for (i, contender) in all.iter().enumerate() {
        if contender.counted != session_peers_bench::counters::Counted::Nothing {
            continue;
        }
        let mut row = vec![contender.store.clone(), contender.who.clone()];
        for scenario in Scenario::ALL {
            row.push(cell(
                samples
                    .cpu_ns
                    .get(&(i, scenario))
                    .and_then(|s| Summary::of(s)),
            ));
        }
        cpu_rows.push(row);
    }
    cpu_rows.sort_by(|a, b| a[0].cmp(&b[0]));
    out.push_str(
        "\nThe in-process stores again, in the measuring thread's CPU time over the same \
         batches (user + system, `CLOCK_THREAD_CPUTIME_ID`): the time the thread waited for \
         a core while the machine's other builds ran is left out, so these drift far less \
         than the wall clock.\n\n",
    );
    out.push_str(&report::table(
        &[
            "store",
            "contender",
            "cycle CPU ns",
            "read-only CPU ns",
            "new visitor CPU ns",
        ],
        &cpu_rows,
    ));
    out.push_str("\n### Ratios (issue 13's targets), of the medians (and of the minima)\n\n");
    let limit = find(all, "limit", "memory");
    let mut ratio_rows = Vec::new();
    let mut add = |what: &str,
                   series: &BTreeMap<(usize, Scenario), Vec<f64>>,
                   a: Option<usize>,
                   b: Option<usize>,
                   base: Option<usize>,
                   target: Target<'_>| {
        let mut row = vec![what.to_owned()];
        for scenario in Scenario::ALL {
            let summary = match (a, b) {
                (Some(a), Some(b)) => ratio_above(series, a, b, base, scenario),
                _ => None,
            };
            // The Redis target is for cycle and read-only only.
            let target =
                target.filter(|_| !(what.starts_with("redis:") && scenario == Scenario::New));
            row.push(ratio_cell(summary, target));
        }
        ratio_rows.push(row);
    };
    let ours = |store| find(all, "ours", store);
    add(
        "memory, thread CPU time: (ours − limit) / (tower-sessions MemoryStore − limit)",
        &samples.cpu_ns,
        ours("memory"),
        find(all, "tower-sessions 0.15", "memory"),
        limit,
        Some(("≤ 0.5", &|r| r <= 0.5)),
    );
    add(
        "memory, wall clock: (ours − limit) / (tower-sessions MemoryStore − limit)",
        &samples.ns,
        ours("memory"),
        find(all, "tower-sessions 0.15", "memory"),
        limit,
        Some(("≤ 0.5", &|r| r <= 0.5)),
    );
    add(
        "postgres: (ours − limit) / (tower-sessions sqlx store − limit)",
        &samples.ns,
        ours("postgres"),
        find(all, "tower-sessions 0.14", "postgres"),
        limit,
        Some(("≤ 0.7", &|r| r <= 0.7)),
    );
    let raw_redis = find(all, "raw redis-rs", "redis");
    add(
        "redis: ours / raw redis-rs (cycle: GET+SET, read: GET)",
        &samples.ns,
        ours("redis"),
        raw_redis,
        None,
        Some(("≤ 1.05", &|r| r <= 1.05)),
    );
    add(
        "for reference, memory, CPU time: ours / tower-sessions MemoryStore",
        &samples.cpu_ns,
        ours("memory"),
        find(all, "tower-sessions 0.15", "memory"),
        None,
        None,
    );
    add(
        "for reference, postgres: ours / raw sqlx",
        &samples.ns,
        ours("postgres"),
        find(all, "raw sqlx", "postgres"),
        None,
        None,
    );
    add(
        "for reference, redis: tower-sessions redis store / raw redis-rs",
        &samples.ns,
        find(all, "tower-sessions 0.14", "redis"),
        raw_redis,
        None,
        None,
    );
    out.push_str(&report::table(
        &["ratio", "cycle", "read-only", "new visitor"],
        &ratio_rows,
    ));
    out.push_str(
        "\nThe Redis target applies to cycle and read-only (a new visitor is a lone SET on \
         the raw side); a row reads \"not measured\" when one side did not run. The ratio of \
         the minima compares the batches the machine disturbed least; the targets are judged \
         on the medians.\n",
    );
    if !skipped.is_empty() {
        out.push_str("\nNot measured in this run:\n\n");
        for line in skipped {
            out.push_str(&format!("- {line}\n"));
        }
    }
    out
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
