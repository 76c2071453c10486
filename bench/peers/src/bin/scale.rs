//! Scale (issue 13 item 4): a million sessions in the memory engine (bytes per session, GC
//! passes with requests running beside them, one and two workers) and 100,000 in the file
//! engine (GC pass and requests beside it). Writes the `scale` section of BENCHMARKS.md.
//!
//! `scale [--sessions N] [--file-sessions N] [--no-write]`

use std::process::ExitCode;
use std::time::{Duration, Instant};

use session_peers_bench::alloc::{self, Counting};
use session_peers_bench::contender::Contender;
use session_peers_bench::machine::{self, Machine};
use session_peers_bench::measure::Summary;
use session_peers_bench::scale::{
    cookies_of, latencies, pass_table, pass_with_requests, payload, store_session, throughput,
    PassRow,
};
use session_peers_bench::scenario::Scenario;
use session_peers_bench::{engines, limit, peers, report, BoxError};

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
