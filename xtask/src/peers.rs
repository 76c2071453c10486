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

/// The parts, as binaries of the harness, in the order they run.
pub const PARTS: [&str; 3] = ["side_by_side", "scale", "over_http"];

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
    for part in parts {
        let mut command_line = format!("cargo xtask bench --peers {}", part.replace('_', "-"));
        if !args.is_empty() {
            command_line.push_str(&format!(" -- {}", args.join(" ")));
        }
        eprintln!("xtask: {command_line}");
        let mut process = Command::new(workspace::cargo())
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
        let status = match child::wait(&mut process) {
            Ok(status) => status,
            Err(child::WaitError::Interrupted) => return Ok(ExitCode::from(INTERRUPTED_EXIT)),
            Err(err) => return Err(err.to_string()),
        };
        if !status.success() {
            return Err(format!("{part} failed ({status})"));
        }
    }
    drop(launch);
    Ok(ExitCode::SUCCESS)
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
