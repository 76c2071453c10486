//! Instructions per request under callgrind, for the in-memory contenders: repeatable on a
//! noisy machine where wall-clock figures are not, and with the profile of our layer's
//! requests (top inclusive costs). Writes the `profile` section of BENCHMARKS.md.
//!
//! `instructions [--requests N] [--no-write]` (needs `valgrind`). Each run is
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*timed_batch*'
//! side_by_side --profile CONTENDER SCENARIO N`: only the measured loop is counted.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use session_peers_bench::machine::{self, Machine};
use session_peers_bench::scenario::Scenario;
use session_peers_bench::{report, BoxError};

/// The contenders measured, as `side_by_side --profile` names them.
const CONTENDERS: [&str; 3] = [
    "limit on memory",
    "tower-sessions 0.15 on memory",
    "ours on memory",
];

/// Server variables removed for the profiled runs (only in-memory contenders are wanted).
const SERVER_VARS: [&str; 4] = ["POSTGRES_URL", "MYSQL_URL", "REDIS_URL", "MEMCACHE_SERVERS"];

/// How many of our top inclusive costs the section lists per scenario.
const TOP: usize = 30;

fn scenario_arg(scenario: Scenario) -> &'static str {
    match scenario {
        Scenario::Cycle => "cycle",
        Scenario::Read => "read",
        Scenario::New => "new",
    }
}

/// Runs one contender and scenario under callgrind; returns the output file.
fn profile(
    exe: &Path,
    dir: &Path,
    who: &str,
    scenario: Scenario,
    n: u32,
) -> Result<PathBuf, BoxError> {
    let out = dir.join(format!(
        "{}-{}.callgrind",
        who.replace(' ', "_"),
        scenario_arg(scenario)
    ));
    let mut command = Command::new("valgrind");
    command
        .args([
            "--tool=callgrind",
            "--collect-atstart=no",
            "--toggle-collect=*timed_batch*",
        ])
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(exe)
        .args(["--profile", who, scenario_arg(scenario), &n.to_string()]);
    for var in SERVER_VARS {
        command.env_remove(var);
    }
    let status = command
        .output()
        .map_err(|e| format!("running valgrind (Debian package valgrind): {e}"))?;
    if !status.status.success() {
        return Err(format!(
            "valgrind on {who} {}: {}",
            scenario.name(),
            String::from_utf8_lossy(&status.stderr)
        )
        .into());
    }
    Ok(out)
}

/// The total instruction count of a callgrind output file (`summary:` or `totals:`).
fn total(file: &Path) -> Result<f64, BoxError> {
    let text = std::fs::read_to_string(file)?;
    text.lines()
        .rev()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no totals in {}", file.display()).into())
}

/// The function of a `callgrind_annotate` line (`file:function [object]`), without its file.
fn function_of(text: &str) -> String {
    let text = text.trim();
    // A percentage in parentheses comes first when inclusive counts exceed the total.
    let text = match text.strip_prefix('(') {
        Some(rest) => rest.split_once(')').map_or(rest, |(_, r)| r).trim(),
        None => text,
    };
    let text = text.rsplit_once(" [").map_or(text, |(name, _)| name);
    let name = [".rs:", ".c:", ".h:", ".S:", "???:"]
        .iter()
        .filter_map(|sep| text.find(sep).map(|i| &text[i + sep.len()..]))
        .next()
        .unwrap_or(text);
    name.chars().take(140).collect()
}

/// The first `top` functions of `callgrind_annotate` on `file` (`inclusive` or self
/// costs) per request, leaving out those above `ceiling` of the total (the runtime and
/// `oneshot` wrappers every contender shares) and repeats.
fn top_costs(
    file: &Path,
    n: u32,
    inclusive: bool,
    top: usize,
    ceiling: f64,
) -> Result<String, BoxError> {
    let output = Command::new("callgrind_annotate")
        .arg(format!(
            "--inclusive={}",
            if inclusive { "yes" } else { "no" }
        ))
        .arg("--threshold=100")
        .arg(file)
        .output()
        .map_err(|e| format!("running callgrind_annotate: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let total = total(file)?;
    let mut seen = std::collections::HashSet::new();
    let mut lines = Vec::new();
    for line in text.lines() {
        let Some((count, rest)) = line.trim().split_once(' ') else {
            continue;
        };
        let Ok(count) = count.replace(',', "").parse::<f64>() else {
            continue;
        };
        if rest.contains("PROGRAM TOTALS") || count > total * ceiling {
            continue;
        }
        let name = function_of(rest);
        if !seen.insert(name.clone()) {
            continue;
        }
        lines.push(format!(
            "{:>7.0} {:>5.1} %  {name}",
            count / f64::from(n),
            100.0 * count / total
        ));
        if lines.len() == top {
            break;
        }
    }
    Ok(lines.join("\n"))
}

fn run() -> Result<(), BoxError> {
    let mut n: u32 = 20_000;
    let mut write = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--requests" => {
                n = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--requests needs a number")?
            }
            "--no-write" => write = false,
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    let machine = Machine::now();
    let exe = std::env::current_exe()?.with_file_name("side_by_side");
    if !exe.is_file() {
        return Err(format!("{} not built (cargo build --release --bins)", exe.display()).into());
    }
    let dir = tempfile::tempdir()?;
    let mut per = std::collections::BTreeMap::new();
    let mut tops = Vec::new();
    for scenario in Scenario::ALL {
        for who in CONTENDERS {
            let file = profile(&exe, dir.path(), who, scenario, n)?;
            per.insert((who, scenario), total(&file)? / f64::from(n));
            if who == "ours on memory" {
                let inclusive = top_costs(&file, n, true, TOP, 0.9)?;
                let exclusive = top_costs(&file, n, false, 20, 1.0)?;
                tops.push((scenario, inclusive, exclusive));
            }
            eprintln!("instructions: {who} {} done", scenario.name());
        }
    }
    let mut rows = Vec::new();
    for who in CONTENDERS {
        let mut row = vec![who.to_owned()];
        for scenario in Scenario::ALL {
            row.push(report::ns(per[&(who, scenario)]));
        }
        rows.push(row);
    }
    let mut ratio = vec!["(ours − limit) / (tower-sessions − limit)".to_owned()];
    for scenario in Scenario::ALL {
        let limit = per[&("limit on memory", scenario)];
        let r = (per[&("ours on memory", scenario)] - limit)
            / (per[&("tower-sessions 0.15 on memory", scenario)] - limit);
        ratio.push(format!("**{r:.2}×**"));
    }
    rows.push(ratio);
    let mut out = String::from("## Instructions per request (callgrind), memory\n\n");
    out.push_str(&format!(
        "Command: `{}`  \nMachine: {}\n\n",
        machine::command(),
        machine.line()
    ));
    out.push_str(&format!(
        "Each figure is one callgrind run of `side_by_side --profile CONTENDER SCENARIO {n}`, \
         counting only the measured loop (`--toggle-collect='*timed_batch*'`), divided by the \
         requests: the same routes through `oneshot` as above. Instruction counts do not drift \
         with the machine's load, so this ratio is the steady one to follow while the hot \
         path changes (time per instruction differs between contenders: cache misses, \
         atomics, syscalls are not weighed).\n\n"
    ));
    out.push_str(&report::table(
        &["contender", "cycle", "read-only", "new visitor"],
        &rows,
    ));
    for (scenario, inclusive, exclusive) in tops {
        out.push_str(&format!(
            "\nOur memory engine, {}: instructions per request and share of the request. \
             Inclusive (`callgrind_annotate --inclusive=yes`; the runtime and `oneshot` \
             wrappers above 90 % left out):\n\n```\n{inclusive}\n```\n\nSelf \
             (exclusive) costs:\n\n```\n{exclusive}\n```\n",
            scenario.name()
        ));
    }
    println!("{out}");
    if write {
        let path = report::write_section("profile", &out)?;
        eprintln!("instructions: wrote {}", path.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("instructions: error: {e}");
            ExitCode::FAILURE
        }
    }
}
