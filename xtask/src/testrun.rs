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
            .filter(|p| p.name != workspace::XTASK_PACKAGE && !engines::is_engine_package(&p.name))
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
        if let Some(group) = groups
            .iter_mut()
            .find(|group| group.engine.as_deref() == Some(engine.name))
        {
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
        let group_envs = GroupEnv::new(group, &envs);
        for executable in build
            .executables
            .iter()
            .filter(|exe| group.packages.contains(&exe.package))
        {
            if let Some(failure) = run_executable(workspace, executable, test_args, &group_envs)? {
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

/// The environment of one group's test executables.
#[derive(Debug, Clone, PartialEq, Eq)]
struct GroupEnv {
    /// Variables set.
    set: Vec<(String, String)>,
    /// Variables removed: those of the other engines of the same package, so that each run of
    /// a shared package's tests exercises one engine and its failures land on that engine.
    removed: Vec<&'static str>,
}

impl GroupEnv {
    /// `envs` (the variables of every started server) adjusted for `group`.
    fn new(group: &Group, envs: &[(String, String)]) -> Self {
        let removed = group
            .engine
            .as_deref()
            .and_then(engines::by_name)
            .map(Engine::sibling_vars)
            .unwrap_or_default();
        let set = envs
            .iter()
            .filter(|(var, _)| !removed.contains(&var.as_str()))
            .cloned()
            .collect();
        GroupEnv { set, removed }
    }
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
    envs: &GroupEnv,
) -> Result<Option<String>, WaitError> {
    let name = format!(
        "{} {} `{}`",
        executable.package, executable.kind, executable.target
    );
    eprintln!("\nxtask: running {name} ({})", executable.path.display());
    let mut cmd = Command::new(&executable.path);
    cmd.args(test_args)
        .envs(envs.set.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null());
    for var in &envs.removed {
        cmd.env_remove(var);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A workspace of the named packages.
    fn workspace(names: &[&str]) -> Workspace {
        let packages: Vec<_> = names
            .iter()
            .map(|name| {
                serde_json::json!({
                    "name": name,
                    "version": "0.1.0",
                    "manifest_path": format!("/ws/crates/{name}/Cargo.toml"),
                    "targets": []
                })
            })
            .collect();
        Workspace::from_metadata(&serde_json::json!({ "packages": packages })).unwrap()
    }

    fn names(engines: &[&Engine]) -> Vec<&'static str> {
        engines.iter().map(|engine| engine.name).collect()
    }

    #[test]
    fn engines_of_absent_packages_are_not_selected() {
        let today = workspace(&["session-memory", "session-core"]);
        assert_eq!(
            names(&selected_engines(&today, &Scope::All).unwrap()),
            ["memory"]
        );
        let err = selected_engines(&today, &Scope::Conformance(vec!["redis_cluster".into()]));
        assert_eq!(
            err.unwrap_err(),
            "engine redis_cluster has no package session-redis in this workspace"
        );
    }

    #[test]
    fn a_package_with_three_engines_gets_three_groups() {
        let later = workspace(&["session-memory", "session-redis"]);
        assert_eq!(
            names(&selected_engines(&later, &Scope::All).unwrap()),
            ["memory", "redis", "redis_cluster", "redis_sentinel"]
        );
        let picked = Scope::Conformance(vec!["redis_sentinel".into()]);
        assert_eq!(
            names(&selected_engines(&later, &picked).unwrap()),
            ["redis_sentinel"]
        );
    }

    #[test]
    fn each_redis_run_sees_only_its_own_variables() {
        let envs: Vec<(String, String)> = [
            ("MYSQL_URL", "mysql://m"),
            ("REDIS_URL", "redis://a/"),
            ("REDIS_CLUSTER_URLS", "redis://b/;redis://c/"),
            ("REDIS_SENTINEL_URLS", "redis://d/"),
            ("REDIS_SENTINEL_MASTER", "mymaster"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let vars = |env: &GroupEnv| -> Vec<String> {
            env.set.iter().map(|(var, _)| var.clone()).collect()
        };

        let sentinel = GroupEnv::new(&Group::engine("redis_sentinel", "session-redis"), &envs);
        assert_eq!(
            vars(&sentinel),
            ["MYSQL_URL", "REDIS_SENTINEL_URLS", "REDIS_SENTINEL_MASTER"]
        );
        assert_eq!(sentinel.removed, ["REDIS_URL", "REDIS_CLUSTER_URLS"]);

        let standalone = GroupEnv::new(&Group::engine("redis", "session-redis"), &envs);
        assert_eq!(vars(&standalone), ["MYSQL_URL", "REDIS_URL"]);

        let rest = GroupEnv::new(&Group::rest(vec!["session-core".into()]), &envs);
        assert_eq!(rest.set, envs);
        assert!(rest.removed.is_empty());
    }
}
