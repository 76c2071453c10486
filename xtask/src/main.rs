//! Development tasks for the workspace, run as `cargo xtask <command>`:
//!
//! - `test [-- ARGS]`: build every test executable once, start throwaway servers for the
//!   engines present in the workspace, run all tests and doc tests, print a summary.
//! - `conformance [ENGINE...] [-- ARGS]`: the same for the engines' test executables only.
//! - `bench [ARGS]`: start the servers and run `cargo bench` with `ARGS`.
//! - `bench --peers [PART...] [-- ARGS]`: start the servers and run the side-by-side
//!   benchmarks of `bench/peers` (parts `side-by-side`, `scale`, `over-http`,
//!   `instructions`; default all, `ARGS` go to each), which rewrite `BENCHMARKS.md`.
//! - `servers [ENGINE...]`: start the servers, print their environment variables, wait for
//!   Ctrl-C.
//! - `fuzz [TARGET...] [--seconds N]`: build the cargo-fuzz targets of `fuzz/` and run each
//!   for N seconds (see `fuzz/README.md`).
//!
//! Environment: an engine's variable (`MYSQL_URL`, `POSTGRES_URL`, `REDIS_URL`,
//! `REDIS_CLUSTER_URLS`, `REDIS_SENTINEL_URLS` with `REDIS_SENTINEL_MASTER`,
//! `MEMCACHE_SERVERS`, `COUCHBASE_CONNSTR`) points its tests at an external server instead of a
//! throwaway one; `SESSION_SKIP=mysql,couchbase` skips engines; `XTASK_SERVER_USER` names the
//! unprivileged user servers run as when xtask runs as root (default `nobody`).

mod child;
mod engines;
mod fuzz;
mod fuzzstats;
mod launch;
mod peers;
mod report;
mod testrun;
mod workspace;

use std::env;
use std::process::{Command, ExitCode, Stdio};
use std::thread;
use std::time::Duration;

use engines::{Backend, Engine};
use launch::Request;
use session_testkit::interrupt;
use testrun::{Scope, INTERRUPTED_EXIT};
use workspace::Workspace;

/// Usage text printed for `help` and for unknown commands.
const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test [-- ARGS]                     all tests against throwaway servers, then doc tests
  conformance [ENGINE...] [-- ARGS]  only the engines' tests
  bench [ARGS]                       cargo bench --workspace ARGS against throwaway servers
  bench --peers [PART...] [-- ARGS]  bench/peers side by side with tower-sessions (parts:
                                     side-by-side, scale, over-http, instructions);
                                     writes BENCHMARKS.md
  servers [ENGINE...]                start servers, print their variables, wait for Ctrl-C
  fuzz [TARGET...] [--seconds N] [--sanitizer address|none] [--list] [-- LIBFUZZER_ARGS]
                                     build the fuzz targets (cargo-fuzz, installed if
                                     missing) and run each for N seconds (default 20)

ARGS after -- go to every test executable (e.g. -- --nocapture).

environment:
  MYSQL_URL, POSTGRES_URL, REDIS_URL, REDIS_CLUSTER_URLS, REDIS_SENTINEL_URLS,
  MEMCACHE_SERVERS, COUCHBASE_CONNSTR
                      use this external server instead of starting one
                      (`;` separates several; REDIS_SENTINEL_MASTER names the
                      sentinels' master, default mymaster)
  SESSION_SKIP        comma separated engines to skip, e.g. mysql,couchbase
  XTASK_SERVER_USER   user servers run as when xtask runs as root (default nobody)";

fn main() -> ExitCode {
    interrupt::install();
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.split_first() {
        Some((command, rest)) => match command.as_str() {
            "test" => testrun::run(&Scope::All, after_dashes(rest)),
            "conformance" => {
                let (names, test_args) = split_dashes(rest);
                testrun::run(&Scope::Conformance(names.to_vec()), test_args)
            }
            "bench" if rest.first().is_some_and(|arg| arg == "--peers") => {
                let (names, args) = split_dashes(&rest[1..]);
                peers::run(names, args)
            }
            "bench" => bench(rest),
            "servers" => serve(rest),
            "fuzz" => fuzz::run(rest),
            "help" | "-h" | "--help" => {
                println!("{USAGE}");
                Ok(ExitCode::SUCCESS)
            }
            other => Err(format!("unknown command {other:?}\n\n{USAGE}")),
        },
        None => Err(USAGE.to_owned()),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Splits `args` at the first `--`: what comes before, and what comes after.
fn split_dashes(args: &[String]) -> (&[String], &[String]) {
    match args.iter().position(|arg| arg == "--") {
        Some(index) => (&args[..index], &args[index + 1..]),
        None => (args, &[]),
    }
}

/// The arguments after `--` (or all of them when there is no `--`).
fn after_dashes(args: &[String]) -> &[String] {
    match args.iter().position(|arg| arg == "--") {
        Some(index) => &args[index + 1..],
        None => args,
    }
}

/// Server requests for `engines`, honouring `SESSION_SKIP` and variables already set.
fn requests(engines: &[&'static Engine]) -> Vec<Request> {
    let skip = testrun::skip_list();
    engines
        .iter()
        .filter_map(|engine| {
            let provision = engine.provision(&skip, |var| env::var(var).ok());
            Request::from_provision(engine, &provision)
        })
        .collect()
}

/// `cargo xtask bench [ARGS]`: servers for the engines of the workspace, then `cargo bench`.
fn bench(args: &[String]) -> Result<ExitCode, String> {
    let workspace = Workspace::load()?;
    let engines = testrun::selected_engines(&workspace, &Scope::All)?;
    let launch = launch::start(&requests(&engines));
    if let Some((engine, _)) = launch.failed.first() {
        return Err(format!(
            "the server for engine {} did not start (see above); fix it or set SESSION_SKIP={}",
            engine.name, engine.name
        ));
    }
    let mut process = Command::new(workspace::cargo())
        .arg("bench")
        .args(workspace::PACKAGE_SELECTION)
        .args(args)
        .envs(launch.envs())
        .stdin(Stdio::null())
        .spawn()
        .map_err(|err| format!("running cargo bench: {err}"))?;
    let status = match child::wait(&mut process) {
        Ok(status) => status,
        Err(child::WaitError::Interrupted) => return Ok(ExitCode::from(INTERRUPTED_EXIT)),
        Err(err) => return Err(err.to_string()),
    };
    drop(launch);
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `cargo xtask servers [ENGINE...]`: starts the servers of the named engines (default: every
/// engine of the table with a local server, whether or not its package exists yet), prints
/// `export` lines, and waits for Ctrl-C.
fn serve(names: &[String]) -> Result<ExitCode, String> {
    let engines: Vec<&'static Engine> = if names.is_empty() {
        engines::ENGINES
            .iter()
            .filter(|engine| matches!(engine.backend, Backend::Local(_)))
            .collect()
    } else {
        names
            .iter()
            .map(|name| engines::by_name(name).ok_or_else(|| format!("unknown engine {name:?}")))
            .collect::<Result<_, _>>()?
    };
    let launch = launch::start(&requests(&engines));
    if launch.started.is_empty() {
        return Err("no server started".into());
    }
    for started in &launch.started {
        println!(
            "# engine {}: {}",
            started.engine.name,
            started.deployment.describe()
        );
        for (var, value) in started.env() {
            println!("export {var}='{value}'");
        }
    }
    eprintln!("xtask: servers running; press Ctrl-C to stop them");
    while !interrupt::requested() {
        thread::sleep(Duration::from_millis(200));
    }
    eprintln!("xtask: stopping servers");
    let any_failed = !launch.failed.is_empty();
    drop(launch);
    Ok(if any_failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn splits_at_dashes() {
        let args = strings(&["mysql", "redis", "--", "--nocapture"]);
        let (names, rest) = split_dashes(&args);
        assert_eq!(names, &strings(&["mysql", "redis"])[..]);
        assert_eq!(rest, &strings(&["--nocapture"])[..]);
        assert_eq!(after_dashes(&args), &strings(&["--nocapture"])[..]);
        let plain = strings(&["--nocapture"]);
        assert_eq!(after_dashes(&plain), &plain[..]);
    }
}
