//! The `side-by-side` section: the table of every contender, the CPU-time table of the
//! in-process ones, and the ratios the targets are judged on.

use std::collections::BTreeMap;

use crate::contender::Contender;
use crate::counters::{Counted, Counts};
use crate::machine::{self, Machine};
use crate::measure::{Plan, Samples, Summary};
use crate::report;
use crate::scenario::Scenario;

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

/// The `side-by-side` section of BENCHMARKS.md.
pub fn section(
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
        if contender.counted != Counted::Nothing {
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
