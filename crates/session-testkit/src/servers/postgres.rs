//! PostgreSQL: `initdb` into the temporary directory, then `postgres` on loopback with
//! durability switched off. A role `session` (password `session`, may create databases) owns
//! the database `sessions`.

use std::path::{Path, PathBuf};

use super::host::{self, RunAs};
use super::process::{self, ServerProcess};
use super::{Launcher, RunningServer, ServerError, ServerKind, StartOptions};

/// Advice appended to "not found" errors: Debian keeps the server programs off `PATH`.
const HINT: &str = ", or put /usr/lib/postgresql/<version>/bin on PATH";

/// Superuser created by `initdb`, used only for setup.
const SUPERUSER: &str = "postgres";

/// SQL run as the superuser once the server is up.
const SETUP_SQL: [&str; 2] = [
    "CREATE ROLE session LOGIN CREATEDB PASSWORD 'session'",
    "CREATE DATABASE sessions OWNER session",
];

/// Starts PostgreSQL on `127.0.0.1:port`; its URL is
/// `postgres://session:session@127.0.0.1:port/sessions`.
pub(super) fn start(port: u16, options: StartOptions) -> Result<RunningServer, ServerError> {
    let initdb = host::find_binary(&["initdb"], "postgresql", HINT)?;
    // Take `postgres` from the same installation as `initdb`.
    let postgres = match initdb.parent().map(|bin| bin.join("postgres")) {
        Some(path) if path.is_file() => path,
        _ => host::find_binary(&["postgres"], "postgresql", HINT)?,
    };
    let psql = host::find_binary(&["psql"], "postgresql-client", "")?;
    let run_as = RunAs::detect()?;
    let dir = host::server_dir("postgres", &run_as)?;
    let data = dir.path().join("data");

    let mut init = process::command(&initdb, dir.path(), &run_as);
    init.arg("-D")
        .arg(&data)
        .args(["-U", SUPERUSER, "--auth=trust", "--locale=C", "-E", "UTF8"])
        .args(["--no-sync", "--no-instructions"]);
    process::run_tool("initdb", &mut init)?;

    let log = dir.path().join("postgres.log");
    let launcher = launcher(
        LaunchPaths {
            postgres,
            psql: psql.clone(),
            dir: dir.path().to_path_buf(),
            log: log.clone(),
        },
        port,
        run_as,
        options,
    );
    let server = launcher()?;

    let mut args = vec!["-v", "ON_ERROR_STOP=1"];
    for sql in SETUP_SQL {
        args.extend(["-c", sql]);
    }
    process::run_tool(
        "creating the PostgreSQL role and database",
        &mut psql_command(&psql, dir.path(), port, &args),
    )?;
    Ok(RunningServer::new(
        format!("postgres://session:session@127.0.0.1:{port}/sessions"),
        ServerKind::Postgres,
        dir,
        log,
        launcher,
        server,
    ))
}

/// Where a PostgreSQL server's programs and files are.
struct LaunchPaths {
    postgres: PathBuf,
    psql: PathBuf,
    dir: PathBuf,
    log: PathBuf,
}

/// Starts `postgres` on the data directory under `paths.dir`, ready when the superuser can
/// run a query over TCP.
fn launcher(paths: LaunchPaths, port: u16, run_as: RunAs, options: StartOptions) -> Launcher {
    Box::new(move || {
        let dir = paths.dir.as_path();
        let mut cmd = process::command(&paths.postgres, dir, &run_as);
        cmd.arg("-D")
            .arg(dir.join("data"))
            .arg("-p")
            .arg(port.to_string())
            .arg("-k")
            .arg(dir)
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .args(["-c", "synchronous_commit=off", "-c", "full_page_writes=off"])
            .args(["-c", "max_connections=200"]);
        if options.log_statements {
            cmd.args(["-c", "log_statement=all"]);
        }
        // SIGINT is PostgreSQL's "fast shutdown": it does not wait for clients to disconnect.
        let mut server = ServerProcess::spawn("postgres", cmd, &paths.log, libc::SIGINT)?;
        server.wait_ready(|| {
            process::succeeds(&mut psql_command(
                &paths.psql,
                dir,
                port,
                &["-c", "SELECT 1"],
            ))
        })?;
        Ok(server)
    })
}

/// `psql` as the superuser over TCP, ignoring any `.psqlrc`, with a short connect timeout.
fn psql_command(psql: &Path, dir: &Path, port: u16, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(psql);
    cmd.current_dir(dir)
        .env("PGCONNECT_TIMEOUT", "2")
        .args([
            "-X",
            "-q",
            "-h",
            "127.0.0.1",
            "-U",
            SUPERUSER,
            "-d",
            "postgres",
            "-p",
        ])
        .arg(port.to_string())
        .args(args);
    cmd
}
