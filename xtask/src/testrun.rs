//! `cargo xtask test` and `cargo xtask conformance`: build every test executable once, start
//! the servers the engines need, run the executables against them, and summarise.

use std::env;
use std::process::{Command, ExitCode, Stdio};
use std::thread;

use crate::child::{self, WaitError};
use crate::engines::{self, Engine, Provision};
use crate::launch::{self, Launch, Request};
use crate::report::{self, Group};
use crate::workspace::{self, TestExecutable, Workspace};

/// Exit code after Ctrl-C, as shells report SIGINT.
pub const INTERRUPTED_EXIT: u8 = 130;

/// What to test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Everything: engines, the rest of the workspace, doc tests.
    All,
    /// Only the test executables of these engines (all engines when empty).
    Conformance(Vec<String>),
}

/// The engines of the table whose packages are members of `workspace`, filtered by `scope`.
/// Errors name unknown engines or engines without a package here.
pub fn selected_engines(
    workspace: &Workspace,
    scope: &Scope,
) -> Result<Vec<&'static Engine>, String> {
    let present = |engine: &&Engine| workspace.package(engine.package).is_some();
    match scope {
        Scope::Conformance(names) if !names.is_empty() => names
            .iter()
            .map(|name| {
                let engine = engines::by_name(name).ok_or_else(|| {
                    let known: Vec<&str> = engines::ENGINES.iter().map(|e| e.name).collect();
                    format!(
                        "unknown engine {name:?}; known engines: {}",
                        known.join(", ")
                    )
                })?;
                if present(&engine) {
                    Ok(engine)
                } else {
                    Err(format!(
                        "engine {name} has no package {} in this workspace",
                        engine.package
                    ))
                }
            })
            .collect(),
        _ => Ok(engines::ENGINES.iter().filter(present).collect()),
    }
}

/// The engines to skip, from `SESSION_SKIP`; unknown names are reported and ignored.
pub fn skip_list() -> Vec<String> {
    let skip = engines::parse_skip_list(&env::var("SESSION_SKIP").unwrap_or_default());
    for name in &skip {
        if engines::by_name(name).is_none() {
            eprintln!("xtask: warning: SESSION_SKIP names unknown engine {name:?}");
        }
    }
    skip
}

/// Runs the tests of `scope`, passing `test_args` to every test executable, and returns the
/// process exit code (0 when nothing failed).
pub fn run(scope: &Scope, test_args: &[String]) -> Result<ExitCode, String> {
    let workspace = Workspace::load()?;
    let engines = selected_engines(&workspace, scope)?;
    let skip = skip_list();

    let mut groups: Vec<Group> = Vec::new();
    let mut requests: Vec<Request> = Vec::new();
    for engine in &engines {
        let mut group = Group::engine(engine.name, engine.package);
        let provision = engine.provision(&skip, |var| env::var(var).ok());
        match &provision {
            Provision::Skip(reason) => group.skipped = Some(reason.clone()),
            Provision::WithoutServer(reason) => group.without_server = Some(reason.clone()),
            Provision::Ready => {}
            Provision::Start { .. } => requests.extend(Request::from_provision(engine, &provision)),
        }
        groups.push(group);
    }
    if *scope == Scope::All {
        let rest: Vec<String> = workspace
            .packages
            .iter()
            .filter(|p| {
                p.name != workspace::XTASK_PACKAGE && engines::by_package(&p.name).is_none()
            })
            .map(|p| p.name.clone())
            .collect();
        if !rest.is_empty() {
            groups.push(Group::rest(rest));
        }
    }

    // Servers start while the tests build.
    let (build, launch) = thread::scope(|scope| {
        let starting = scope.spawn(|| launch::start(&requests));
        let build = workspace::build_tests(&workspace);
        let launch = starting.join().unwrap_or_default();
        (build, launch)
    });
    let outcome = run_with_servers(scope, test_args, &workspace, &mut groups, build, &launch);
    drop(launch);
    match outcome {
        Err(WaitError::Interrupted) => {
            eprintln!("xtask: interrupted; servers stopped");
            Ok(ExitCode::from(INTERRUPTED_EXIT))
        }
        Err(WaitError::Io(err)) => Err(format!("running tests: {err}")),
        Ok(()) => {
            println!("\n{}", report::summary(&groups));
            Ok(if report::any_failed(&groups) {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}

/// The part of [`run`] that happens once the build finished and the servers are up.
fn run_with_servers(
    scope: &Scope,
    test_args: &[String],
    workspace: &Workspace,
    groups: &mut [Group],
    build: Result<workspace::Build, WaitError>,
    launch: &Launch,
) -> Result<(), WaitError> {
    let build = build?;
    if session_testkit::interrupt::requested() {
        return Err(WaitError::Interrupted);
    }
    for (engine, err) in &launch.failed {
        if let Some(group) = group_of(groups, engine.package) {
            group
                .failures
                .push(format!("server failed to start: {err}"));
        }
    }
    if !build.status.success() {
        eprintln!("xtask: error: building the tests failed ({})", build.status);
        for group in groups.iter_mut().filter(|g| g.runnable()) {
            group.failures.push("build failed".into());
        }
        return Ok(());
    }

    let envs = launch.envs();
    for group in groups.iter_mut() {
        if !group.runnable() {
            continue;
        }
        for executable in build
            .executables
            .iter()
            .filter(|exe| group.packages.contains(&exe.package))
        {
            if let Some(failure) = run_executable(workspace, executable, test_args, &envs)? {
                group.failures.push(failure);
            }
        }
    }

    if *scope == Scope::All {
        eprintln!("\nxtask: running doc tests");
        let doc = workspace::run_doc_tests(&envs)?;
        let packages = workspace::packages_of_crates(workspace, &doc.failed_crates);
        for (crate_name, package) in packages {
            let failure = format!("doc tests of {crate_name} failed");
            match group_of(groups, &package) {
                Some(group) if group.skipped.is_none() => group.failures.push(failure),
                _ => rest_group(groups).failures.push(failure),
            }
        }
        if !doc.status.success() && doc.failed_crates.is_empty() {
            rest_group(groups)
                .failures
                .push(format!("cargo test --doc failed ({})", doc.status));
        }
    }
    Ok(())
}

/// The group that holds `package`.
fn group_of<'a>(groups: &'a mut [Group], package: &str) -> Option<&'a mut Group> {
    groups
        .iter_mut()
        .find(|group| group.packages.iter().any(|p| p == package))
}

/// The rest group (the last one in an `All` run), which takes failures nobody else owns.
fn rest_group(groups: &mut [Group]) -> &mut Group {
    let index = groups
        .iter()
        .position(|group| group.label.starts_with("rest"))
        .unwrap_or(groups.len().saturating_sub(1));
    &mut groups[index]
}

/// Runs one test executable in its package's directory with `envs` set and its output going
/// straight to the terminal. Returns a failure description if it failed.
fn run_executable(
    workspace: &Workspace,
    executable: &TestExecutable,
    test_args: &[String],
    envs: &[(String, String)],
) -> Result<Option<String>, WaitError> {
    let name = format!(
        "{} {} `{}`",
        executable.package, executable.kind, executable.target
    );
    eprintln!("\nxtask: running {name} ({})", executable.path.display());
    let mut cmd = Command::new(&executable.path);
    cmd.args(test_args)
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null());
    if let Some(package) = workspace.package(&executable.package) {
        cmd.current_dir(package.dir())
            .env("CARGO_MANIFEST_DIR", package.dir())
            .env("CARGO_PKG_NAME", &package.name)
            .env("CARGO_PKG_VERSION", &package.version);
    }
    let mut process = match cmd.spawn() {
        Ok(process) => process,
        Err(err) => return Ok(Some(format!("{name} could not start: {err}"))),
    };
    let status = child::wait(&mut process)?;
    Ok((!status.success()).then(|| format!("{name}: {status}")))
}
