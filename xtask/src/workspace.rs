//! The workspace as Cargo sees it: its packages (`cargo metadata`) and their test executables
//! (`cargo test --no-run`), plus the doc-test run.

use std::collections::HashMap;
use std::env;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;

use serde_json::Value;

use crate::child;

/// The package that is xtask itself: never tested by xtask.
pub const XTASK_PACKAGE: &str = "xtask";

/// The cargo program: the one that runs xtask (`$CARGO`), else `cargo` from `PATH`.
pub fn cargo() -> OsString {
    env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// A workspace member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// Package name, e.g. `session-memory`.
    pub name: String,
    /// Package version.
    pub version: String,
    /// Path of its `Cargo.toml`.
    pub manifest_path: PathBuf,
    /// Crate name of its library target (as doc-test output names it), if it has one.
    pub lib_crate: Option<String>,
}

impl Package {
    /// The package's directory: where its tests run.
    pub fn dir(&self) -> &Path {
        self.manifest_path.parent().unwrap_or(Path::new("."))
    }
}

/// The members of the workspace.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    /// All members, in `cargo metadata` order.
    pub packages: Vec<Package>,
    /// The workspace's root directory.
    pub root: PathBuf,
    /// Where cargo builds (honours `CARGO_TARGET_DIR`).
    pub target_dir: PathBuf,
}

impl Workspace {
    /// Runs `cargo metadata --format-version 1 --no-deps` in the current directory.
    pub fn load() -> Result<Self, String> {
        let output = Command::new(cargo())
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .stderr(Stdio::inherit())
            .output()
            .map_err(|err| format!("running cargo metadata: {err}"))?;
        if !output.status.success() {
            return Err(format!("cargo metadata failed ({})", output.status));
        }
        let json: Value = serde_json::from_slice(&output.stdout)
            .map_err(|err| format!("parsing cargo metadata output: {err}"))?;
        Self::from_metadata(&json)
    }

    /// Reads the members out of `cargo metadata` JSON.
    pub fn from_metadata(json: &Value) -> Result<Self, String> {
        let packages = json["packages"]
            .as_array()
            .ok_or("cargo metadata output has no packages")?;
        let packages = packages
            .iter()
            .map(|package| {
                let name = package["name"].as_str().ok_or("package without a name")?;
                let manifest = package["manifest_path"]
                    .as_str()
                    .ok_or("package without a manifest_path")?;
                let lib_crate = package["targets"].as_array().and_then(|targets| {
                    targets.iter().find_map(|target| {
                        let kinds = target["kind"].as_array()?;
                        let is_lib = kinds.iter().any(|kind| {
                            matches!(kind.as_str(), Some("lib" | "rlib" | "dylib" | "proc-macro"))
                        });
                        is_lib.then(|| target["name"].as_str().map(|n| n.replace('-', "_")))?
                    })
                });
                Ok(Package {
                    name: name.to_owned(),
                    version: package["version"].as_str().unwrap_or_default().to_owned(),
                    manifest_path: PathBuf::from(manifest),
                    lib_crate,
                })
            })
            .collect::<Result<Vec<_>, &str>>()?;
        let path_of = |key: &str| PathBuf::from(json[key].as_str().unwrap_or_default());
        Ok(Workspace {
            packages,
            root: path_of("workspace_root"),
            target_dir: path_of("target_directory"),
        })
    }

    /// The member called `name`.
    pub fn package(&self, name: &str) -> Option<&Package> {
        self.packages.iter().find(|package| package.name == name)
    }

    /// The member whose library crate is called `crate_name`.
    pub fn package_of_crate(&self, crate_name: &str) -> Option<&Package> {
        self.packages
            .iter()
            .find(|package| package.lib_crate.as_deref() == Some(crate_name))
    }
}

/// A compiled test harness (unit tests of a lib or bin, or an integration test).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestExecutable {
    /// The package it belongs to.
    pub package: String,
    /// Target name, e.g. `conformance`.
    pub target: String,
    /// Target kind, e.g. `lib` or `test`.
    pub kind: String,
    /// The executable.
    pub path: PathBuf,
}

/// Extracts a test executable from one line of `--message-format=json` output: a
/// `compiler-artifact` with `profile.test == true` and an `executable`, belonging to a member.
pub fn parse_artifact(message: &Value, workspace: &Workspace) -> Option<TestExecutable> {
    if message["reason"] != "compiler-artifact" || message["profile"]["test"] != true {
        return None;
    }
    let path = message["executable"].as_str()?;
    let manifest = Path::new(message["manifest_path"].as_str()?);
    let package = workspace
        .packages
        .iter()
        .find(|package| package.manifest_path == manifest)?;
    Some(TestExecutable {
        package: package.name.clone(),
        target: message["target"]["name"].as_str()?.to_owned(),
        kind: message["target"]["kind"][0]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        path: PathBuf::from(path),
    })
}

/// The arguments selecting every member but xtask, shared by every cargo invocation so that
/// features are unified the same way and nothing is rebuilt between steps.
pub const PACKAGE_SELECTION: [&str; 3] = ["--workspace", "--exclude", XTASK_PACKAGE];

/// Result of building the test executables.
#[derive(Debug)]
pub struct Build {
    /// Whether cargo succeeded.
    pub status: ExitStatus,
    /// Test executables of members, sorted by package and target.
    pub executables: Vec<TestExecutable>,
}

/// Builds every test executable once with
/// `cargo test --workspace --no-run --message-format=json-render-diagnostics` (compiler
/// diagnostics go to the terminal) and collects the executables from its messages.
pub fn build_tests(workspace: &Workspace) -> Result<Build, child::WaitError> {
    let mut cmd = Command::new(cargo());
    cmd.arg("test")
        .args(PACKAGE_SELECTION)
        .args(["--no-run", "--message-format=json-render-diagnostics"]);
    let (status, mut executables) =
        run_reading_lines(
            cmd,
            Vec::new(),
            |executables, line| match serde_json::from_str::<Value>(line) {
                Ok(message) => executables.extend(parse_artifact(&message, workspace)),
                Err(_) => println!("{line}"),
            },
        )?;
    executables.sort_by(|a: &TestExecutable, b: &TestExecutable| {
        (&a.package, &a.kind, &a.target).cmp(&(&b.package, &b.kind, &b.target))
    });
    Ok(Build {
        status,
        executables,
    })
}

/// Runs `cmd` with its standard output piped to a reader thread that feeds each line to
/// `on_line` (starting from `state`), while this thread waits for the child (giving up on
/// Ctrl-C). Returns the exit status and the state.
fn run_reading_lines<T: Default + Send>(
    mut cmd: Command,
    state: T,
    on_line: impl Fn(&mut T, &str) + Send,
) -> Result<(ExitStatus, T), child::WaitError> {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped());
    let mut process = cmd.spawn()?;
    let stdout = process.stdout.take();
    thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut state = state;
            if let Some(stdout) = stdout {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    on_line(&mut state, &line);
                }
            }
            state
        });
        let status = child::wait(&mut process)?;
        Ok((status, reader.join().unwrap_or_default()))
    })
}

/// Result of the doc-test run.
#[derive(Debug)]
pub struct DocTests {
    /// Whether cargo succeeded.
    pub status: ExitStatus,
    /// Crate names whose doc tests reported `test result: FAILED`.
    pub failed_crates: Vec<String>,
}

/// Runs `cargo test --workspace --doc --no-fail-fast` with `envs`, echoing its output and
/// noting which crates' doc tests failed.
pub fn run_doc_tests(envs: &[(String, String)]) -> Result<DocTests, child::WaitError> {
    let mut cmd = Command::new(cargo());
    cmd.arg("test")
        .args(PACKAGE_SELECTION)
        .args(["--doc", "--no-fail-fast"])
        .envs(envs.iter().map(|(k, v)| (k, v)));
    let (status, tracker) = run_reading_lines(cmd, DocTestTracker::default(), |tracker, line| {
        let mut out = std::io::stdout();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
        tracker.line(line);
    })?;
    Ok(DocTests {
        status,
        failed_crates: tracker.failed,
    })
}

/// Follows libtest output of a doc-test run: which crate's doc tests are running, and which
/// of them failed.
#[derive(Debug, Default)]
pub struct DocTestTracker {
    current: Option<String>,
    /// Crates whose doc tests failed.
    pub failed: Vec<String>,
}

impl DocTestTracker {
    /// Feeds one line of output.
    pub fn line(&mut self, line: &str) {
        let line = line.trim();
        if let Some(name) = line.strip_prefix("Doc-tests ") {
            self.current = Some(name.trim().to_owned());
        } else if line.starts_with("test result: FAILED") {
            if let Some(name) = self.current.take() {
                self.failed.push(name);
            }
        }
    }
}

/// Maps crate names of failed doc tests to package names (unknown crates map to themselves).
pub fn packages_of_crates(workspace: &Workspace, crates: &[String]) -> HashMap<String, String> {
    crates
        .iter()
        .map(|name| {
            let package = workspace
                .package_of_crate(name)
                .map_or_else(|| name.clone(), |package| package.name.clone());
            (name.clone(), package)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> Workspace {
        let json = serde_json::json!({
            "workspace_root": "/ws",
            "target_directory": "/ws/target",
            "packages": [
                {
                    "name": "session-memory",
                    "version": "0.1.0",
                    "manifest_path": "/ws/crates/session-memory/Cargo.toml",
                    "targets": [{"name": "session_memory", "kind": ["lib"]}]
                },
                {
                    "name": "xtask",
                    "version": "0.1.0",
                    "manifest_path": "/ws/xtask/Cargo.toml",
                    "targets": [{"name": "xtask", "kind": ["bin"]}]
                }
            ]
        });
        Workspace::from_metadata(&json).expect("valid metadata")
    }

    #[test]
    fn reads_metadata() {
        let ws = workspace();
        assert_eq!(ws.root, Path::new("/ws"));
        assert_eq!(ws.target_dir, Path::new("/ws/target"));
        let memory = ws.package("session-memory").expect("member");
        assert_eq!(memory.dir(), Path::new("/ws/crates/session-memory"));
        assert_eq!(memory.lib_crate.as_deref(), Some("session_memory"));
        assert_eq!(ws.package("xtask").and_then(|p| p.lib_crate.clone()), None);
        assert_eq!(
            ws.package_of_crate("session_memory")
                .map(|p| p.name.as_str()),
            Some("session-memory")
        );
    }

    #[test]
    fn picks_test_artifacts() {
        let ws = workspace();
        let test = serde_json::json!({
            "reason": "compiler-artifact",
            "manifest_path": "/ws/crates/session-memory/Cargo.toml",
            "target": {"name": "conformance", "kind": ["test"]},
            "profile": {"test": true},
            "executable": "/ws/target/debug/deps/conformance-123"
        });
        assert_eq!(
            parse_artifact(&test, &ws),
            Some(TestExecutable {
                package: "session-memory".into(),
                target: "conformance".into(),
                kind: "test".into(),
                path: "/ws/target/debug/deps/conformance-123".into(),
            })
        );
        let mut lib = test.clone();
        lib["profile"]["test"] = false.into();
        assert_eq!(parse_artifact(&lib, &ws), None);
        let mut no_exe = test.clone();
        no_exe["executable"] = Value::Null;
        assert_eq!(parse_artifact(&no_exe, &ws), None);
        let mut dependency = test;
        dependency["manifest_path"] = "/registry/dep/Cargo.toml".into();
        assert_eq!(parse_artifact(&dependency, &ws), None);
    }

    #[test]
    fn tracks_doc_test_failures() {
        let mut tracker = DocTestTracker::default();
        for line in [
            "   Doc-tests session_core",
            "test result: ok. 3 passed; 0 failed",
            "   Doc-tests session_memory",
            "test result: FAILED. 1 passed; 1 failed",
        ] {
            tracker.line(line);
        }
        assert_eq!(tracker.failed, vec!["session_memory".to_owned()]);
    }
}
