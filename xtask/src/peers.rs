//! `cargo xtask bench --peers`: the side-by-side benchmarks of `bench/peers` (a workspace of
//! its own, so that tower-sessions never enters the main build), against throwaway servers,
//! sharing the main workspace's target directory.

use std::process::{Command, ExitCode, Stdio};

use session_testkit::servers::StartOptions;

use crate::engines::{self, Engine};
use crate::testrun::INTERRUPTED_EXIT;
use crate::workspace::{self, Workspace};
use crate::{child, launch};

/// The harness, relative to the workspace root.
pub const MANIFEST: &str = "bench/peers/Cargo.toml";

/// The parts, as binaries of the harness, in the order they run (`instructions` runs
/// `side_by_side` under callgrind).
pub const PARTS: [&str; 4] = ["side_by_side", "scale", "over_http", "instructions"];

/// Engines whose servers the benchmarks use (the peers and raw clients share them).
const SERVER_ENGINES: [&str; 4] = ["postgres", "mysql", "redis", "memcache"];

/// The binaries to run: the parts named in `names` (`side-by-side` or `side_by_side`), all of
/// them when none is named.
pub fn parts(names: &[String]) -> Result<Vec<&'static str>, String> {
    if names.is_empty() {
        return Ok(PARTS.to_vec());
    }
    names
        .iter()
        .map(|name| {
            let wanted = name.replace('-', "_");
            PARTS
                .iter()
                .copied()
                .find(|part| *part == wanted)
                .ok_or_else(|| format!("unknown part {name:?}; parts: {}", PARTS.join(", ")))
        })
        .collect()
}

/// Starts the servers (PostgreSQL with `pg_stat_statements`), then runs each part with
/// `args` through `cargo run --release`.
pub fn run(names: &[String], args: &[String]) -> Result<ExitCode, String> {
    let parts = parts(names)?;
    let workspace = Workspace::load()?;
    let engines: Vec<&'static Engine> = SERVER_ENGINES
        .iter()
        .filter_map(|name| engines::by_name(name))
        .collect();
    let options = StartOptions {
        stat_statements: true,
        ..StartOptions::default()
    };
    let launch = launch::start_with(&crate::requests(&engines), options);
    if let Some((engine, _)) = launch.failed.first() {
        return Err(format!(
            "the server for engine {} did not start (see above); fix it or set SESSION_SKIP={}",
            engine.name, engine.name
        ));
    }
    let manifest = workspace.root.join(MANIFEST);
    // Every binary at once: a part may run another (instructions runs side_by_side).
    let mut build = Command::new(workspace::cargo());
    build
        .args(["build", "--release", "--bins", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&workspace.target_dir)
        .stdin(Stdio::null());
    match wait_for(
        build
            .spawn()
            .map_err(|err| format!("running cargo build: {err}"))?,
    )? {
        Some(true) => {}
        Some(false) => return Err("building bench/peers failed".into()),
        None => return Ok(ExitCode::from(INTERRUPTED_EXIT)),
    }
    for part in parts {
        let mut command_line = format!("cargo xtask bench --peers {}", part.replace('_', "-"));
        if !args.is_empty() {
            command_line.push_str(&format!(" -- {}", args.join(" ")));
        }
        eprintln!("xtask: {command_line}");
        let process = Command::new(workspace::cargo())
            .args(["run", "--release", "--manifest-path"])
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&workspace.target_dir)
            .args(["--bin", part, "--"])
            .args(args)
            .envs(launch.envs())
            .env("PEERS_BENCH_COMMAND", &command_line)
            .stdin(Stdio::null())
            .spawn()
            .map_err(|err| format!("running cargo run for {part}: {err}"))?;
        match wait_for(process)? {
            Some(true) => {}
            Some(false) => return Err(format!("{part} failed")),
            None => return Ok(ExitCode::from(INTERRUPTED_EXIT)),
        }
    }
    drop(launch);
    Ok(ExitCode::SUCCESS)
}

/// Waits for `process`: whether it succeeded, `None` when Ctrl-C stopped it (the caller
/// returns, which stops the servers).
fn wait_for(mut process: std::process::Child) -> Result<Option<bool>, String> {
    match child::wait(&mut process) {
        Ok(status) => Ok(Some(status.success())),
        Err(child::WaitError::Interrupted) => Ok(None),
        Err(err) => Err(err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_parts() {
        assert_eq!(parts(&[]).unwrap(), PARTS.to_vec());
        assert_eq!(
            parts(&["over-http".into(), "scale".into()]).unwrap(),
            ["over_http", "scale"]
        );
        assert!(parts(&["nope".into()]).is_err());
        for name in SERVER_ENGINES {
            assert!(engines::by_name(name).is_some(), "{name} is not an engine");
        }
    }
}
