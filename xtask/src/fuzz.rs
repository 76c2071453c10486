//! `cargo xtask fuzz [TARGET...] [--seconds N] [--sanitizer S] [--list] [-- LIBFUZZER_ARGS]`:
//! builds the fuzz targets of `fuzz/` with cargo-fuzz (installing it when missing) on the
//! stable toolchain, runs each for `N` seconds in turn, and prints a table of executions,
//! coverage and corpus size.
//!
//! cargo-fuzz passes `-Z` flags to rustc (sanitizer, coverage instrumentation), which a
//! stable toolchain accepts with `RUSTC_BOOTSTRAP=1`; xtask sets it for cargo-fuzz only.
//! Each target's growing corpus lives in the target directory (`<target dir>/corpus/<name>`),
//! the kept seeds in `fuzz/seeds/<name>` are read but never written, and crashing inputs
//! land in `fuzz/artifacts/<name>/`.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use crate::child::{self, WaitError};
use crate::fuzzstats::{self, Outcome, Row, RunStats};
use crate::testrun::INTERRUPTED_EXIT;
use crate::workspace;

/// Seconds per target when `--seconds` is not given: a smoke run.
const DEFAULT_SECONDS: u64 = 20;

/// What `cargo xtask fuzz` was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Targets to run (all when empty).
    pub targets: Vec<String>,
    /// Seconds per target.
    pub seconds: u64,
    /// cargo-fuzz's `--sanitizer` (`address`, `none`, …).
    pub sanitizer: String,
    /// Only list the targets.
    pub list: bool,
    /// Passed to every libFuzzer run.
    pub libfuzzer_args: Vec<String>,
}

impl Options {
    /// Parses the arguments after `fuzz`.
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Options {
            targets: Vec::new(),
            seconds: DEFAULT_SECONDS,
            sanitizer: "address".into(),
            list: false,
            libfuzzer_args: Vec::new(),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            match arg.as_str() {
                "--seconds" => {
                    let text = value("--seconds")?;
                    options.seconds = text.parse().ok().filter(|&s| s > 0).ok_or_else(|| {
                        format!("--seconds {text:?} is not a whole number above 0")
                    })?;
                }
                "--sanitizer" | "-s" => options.sanitizer = value("--sanitizer")?,
                "--list" => options.list = true,
                "--" => {
                    options.libfuzzer_args = args.cloned().collect();
                    break;
                }
                flag if flag.starts_with('-') => return Err(format!("unknown option {flag:?}")),
                target => options.targets.push(target.to_owned()),
            }
        }
        Ok(options)
    }
}

/// Runs `cargo xtask fuzz`.
pub fn run(args: &[String]) -> Result<ExitCode, String> {
    let options = Options::parse(args)?;
    let root = workspace_root();
    let fuzz_dir = root.join("fuzz");
    ensure_cargo_fuzz()?;
    let all = list_targets(&fuzz_dir)?;
    if options.list {
        println!("{}", all.join("\n"));
        return Ok(ExitCode::SUCCESS);
    }
    let targets = select(&all, &options.targets)?;
    let target_dir = fuzz_target_dir(&root);
    match build(&fuzz_dir, &target_dir, &options.sanitizer, &targets) {
        Ok(()) => {}
        Err(WaitError::Interrupted) => return Ok(ExitCode::from(INTERRUPTED_EXIT)),
        Err(err) => return Err(err.to_string()),
    }
    let binaries = target_dir.join(host_triple()?).join("release");
    let mut rows = Vec::new();
    for target in &targets {
        let binary = binaries.join(target);
        match run_target(&binary, target, &fuzz_dir, &target_dir, &options) {
            Ok(row) => rows.push(row),
            Err(WaitError::Interrupted) => {
                print!("{}", fuzzstats::table(&rows));
                return Ok(ExitCode::from(INTERRUPTED_EXIT));
            }
            Err(err) => return Err(format!("running {}: {err}", binary.display())),
        }
    }
    print!("{}", fuzzstats::table(&rows));
    let clean = rows.iter().all(|row| row.outcome == Outcome::Clean);
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The workspace root: xtask's own directory's parent.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_owned()
}

/// Where the fuzz build goes: `XTASK_FUZZ_TARGET_DIR`, else `fuzz/` under the workspace's
/// target directory (`CARGO_TARGET_DIR` or `target/`): never inside `fuzz/`.
fn fuzz_target_dir(root: &Path) -> PathBuf {
    if let Some(dir) = env::var_os("XTASK_FUZZ_TARGET_DIR") {
        return dir.into();
    }
    env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("fuzz")
}

/// A `cargo fuzz` command on the stable toolchain.
fn cargo_fuzz() -> Command {
    let mut command = Command::new(workspace::cargo());
    command.arg("fuzz").env("RUSTC_BOOTSTRAP", "1");
    command
}

/// Checks for cargo-fuzz and installs it when it is missing.
fn ensure_cargo_fuzz() -> Result<(), String> {
    let present = cargo_fuzz()
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if present {
        return Ok(());
    }
    let how = "cargo install --locked cargo-fuzz";
    eprintln!("xtask: cargo-fuzz is missing; installing it: {how}");
    let mut install = Command::new(workspace::cargo())
        .args(["install", "--locked", "cargo-fuzz"])
        .stdin(Stdio::null())
        .spawn()
        .map_err(|err| format!("running `{how}`: {err}"))?;
    match child::wait(&mut install) {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!(
            "`{how}` failed ({status}); install cargo-fuzz with that command and run again"
        )),
        Err(err) => Err(format!("`{how}`: {err}")),
    }
}

/// The targets `cargo fuzz list` names.
fn list_targets(fuzz_dir: &Path) -> Result<Vec<String>, String> {
    let output = cargo_fuzz()
        .arg("list")
        .arg("--fuzz-dir")
        .arg(fuzz_dir)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|err| format!("running cargo fuzz list: {err}"))?;
    if !output.status.success() {
        return Err(format!("cargo fuzz list failed ({})", output.status));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect())
}

/// The asked targets, or all; an unknown name is an error listing the known ones.
fn select(all: &[String], asked: &[String]) -> Result<Vec<String>, String> {
    if asked.is_empty() {
        return Ok(all.to_vec());
    }
    asked
        .iter()
        .map(|name| {
            if all.contains(name) {
                Ok(name.clone())
            } else {
                Err(format!(
                    "unknown fuzz target {name:?}; targets: {}",
                    all.join(", ")
                ))
            }
        })
        .collect()
}

/// Builds the targets (all of them in one cargo run when several are asked: they share
/// every dependency).
fn build(
    fuzz_dir: &Path,
    target_dir: &Path,
    sanitizer: &str,
    targets: &[String],
) -> Result<(), WaitError> {
    let mut command = cargo_fuzz();
    command
        .arg("build")
        .arg("--fuzz-dir")
        .arg(fuzz_dir)
        .arg("--target-dir")
        .arg(target_dir)
        .args(["--sanitizer", sanitizer])
        .stdin(Stdio::null());
    if let [only] = targets {
        command.arg(only);
    }
    eprintln!(
        "xtask: building fuzz targets (sanitizer {sanitizer}) into {}",
        target_dir.display()
    );
    let status = child::wait(&mut command.spawn()?)?;
    if status.success() {
        Ok(())
    } else {
        Err(WaitError::Io(std::io::Error::other(format!(
            "cargo fuzz build failed ({status})"
        ))))
    }
}

/// The host's target triple (`rustc -vV`), where cargo-fuzz puts its binaries.
fn host_triple() -> Result<String, String> {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc)
        .arg("-vV")
        .output()
        .map_err(|err| format!("running rustc -vV: {err}"))?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| "rustc -vV names no host".into())
}

/// Runs one target for `options.seconds` and reads its figures.
fn run_target(
    binary: &Path,
    target: &str,
    fuzz_dir: &Path,
    target_dir: &Path,
    options: &Options,
) -> Result<Row, WaitError> {
    let corpus = target_dir.join("corpus").join(target);
    let artifacts = fuzz_dir.join("artifacts").join(target);
    let logs = target_dir.join("logs");
    for dir in [&corpus, &artifacts, &logs] {
        fs::create_dir_all(dir)?;
    }
    let log_path = logs.join(format!("{target}.log"));
    let log = fs::File::create(&log_path)?;
    let mut command = Command::new(binary);
    command
        .arg(format!("-max_total_time={}", options.seconds))
        .arg("-timeout=20")
        .arg("-rss_limit_mb=2048")
        .arg("-print_final_stats=1")
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .args(&options.libfuzzer_args)
        .arg(&corpus)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    let seeds = fuzz_dir.join("seeds").join(target);
    if seeds.is_dir() {
        command.arg(&seeds);
    }
    eprintln!(
        "xtask: fuzzing {target} for {} s (log: {})",
        options.seconds,
        log_path.display()
    );
    let started = Instant::now();
    let status = child::wait(&mut command.spawn()?)?;
    let seconds = started.elapsed().as_secs();
    let output = fs::read_to_string(&log_path).unwrap_or_default();
    let outcome = if status.success() {
        Outcome::Clean
    } else if let Some(path) = output.lines().find_map(|line| {
        line.split_once("Test unit written to ")
            .map(|(_, p)| p.trim())
    }) {
        let tail: Vec<&str> = output.lines().rev().take(40).collect();
        eprintln!("{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
        eprintln!(
            "xtask: {target} found a crash; reproduce with: {} {path}",
            binary.display()
        );
        Outcome::Found(path.to_owned())
    } else {
        Outcome::Failed(format!("{status}; see {}", log_path.display()))
    };
    Ok(Row {
        target: target.to_owned(),
        seconds,
        stats: RunStats::parse(&output),
        outcome,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_take_targets_seconds_and_libfuzzer_args() {
        let o = Options::parse(&strings(&["a", "--seconds", "600", "b", "--", "-jobs=2"])).unwrap();
        assert_eq!(o.targets, strings(&["a", "b"]));
        assert_eq!(o.seconds, 600);
        assert_eq!(o.sanitizer, "address");
        assert_eq!(o.libfuzzer_args, strings(&["-jobs=2"]));
        let o = Options::parse(&strings(&["-s", "none", "--list"])).unwrap();
        assert!(o.list && o.targets.is_empty() && o.sanitizer == "none");
        assert_eq!(o.seconds, DEFAULT_SECONDS);
        for bad in [
            &["--seconds"][..],
            &["--seconds", "0"],
            &["--seconds", "x"],
            &["--fast"],
        ] {
            assert!(Options::parse(&strings(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn unknown_targets_are_named_with_the_known_ones() {
        let all = strings(&["a", "b"]);
        assert_eq!(select(&all, &[]).unwrap(), all);
        assert_eq!(select(&all, &strings(&["b"])).unwrap(), strings(&["b"]));
        let err = select(&all, &strings(&["c"])).unwrap_err();
        assert!(err.contains("\"c\"") && err.contains("a, b"), "{err}");
    }
}
