//! PostgreSQL: `initdb` into the temporary directory, then `postgres` on loopback with
//! durability switched off. A role `session` (password `session`, may create databases) owns
//! the database `sessions`.

use std::path::Path;

use super::host::{self, Site};
use super::process;
use super::{Launch, RunningServer, ServerError, ServerKind, StartOptions};

/// Advice appended to "not found" errors: Debian keeps the server programs off `PATH`.
const HINT: &str = ", or put /usr/lib/postgresql/<version>/bin on PATH";

/// Superuser created by `initdb`, used only for setup.
const SUPERUSER: &str = "postgres";

/// SQL run as the superuser once the server is up.
const SETUP_SQL: [&str; 2] = [
    "CREATE ROLE session LOGIN CREATEDB PASSWORD 'session'",
    "CREATE DATABASE sessions OWNER session",
];

/// SQL run as the superuser in `sessions` with [`StartOptions::stat_statements`]: the view,
/// and the right to read every role's rows of it (the counters are server-wide).
const STAT_STATEMENTS_SQL: [&str; 2] = [
    "CREATE EXTENSION pg_stat_statements",
    "GRANT pg_read_all_stats TO session",
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
    let site = Site::new(ServerKind::Postgres)?;

    let mut init = site.command(&initdb);
    init.arg("-D")
        .arg(site.path().join("data"))
        .args(["-U", SUPERUSER, "--auth=trust", "--locale=C", "-E", "UTF8"])
        .args(["--no-sync", "--no-instructions"]);
    process::run_tool("initdb", &mut init)?;

    let probe_psql = psql.clone();
    let launch = Launch {
        program: "postgres",
        // SIGINT is PostgreSQL's "fast shutdown": it does not wait for clients to disconnect.
        stop_signal: libc::SIGINT,
        command: Box::new(move |site| {
            let mut cmd = site.command(&postgres);
            cmd.arg("-D")
                .arg(site.path().join("data"))
                .arg("-p")
                .arg(port.to_string())
                .arg("-k")
                .arg(site.path())
                .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
                .args(["-c", "synchronous_commit=off", "-c", "full_page_writes=off"])
                .args(["-c", "max_connections=200"]);
            if options.log_statements {
                cmd.args(["-c", "log_statement=all"]);
            }
            if options.stat_statements {
                cmd.args(["-c", "shared_preload_libraries=pg_stat_statements"]);
            }
            cmd
        }),
        ready: Box::new(move |site| {
            let args = ["-c", "SELECT 1"];
            process::succeeds(&mut psql_command(&probe_psql, site.path(), port, &args))
        }),
    };
    let url = format!("postgres://session:session@127.0.0.1:{port}/sessions");
    let server = RunningServer::launch(url, site, launch)?;

    let mut args = vec!["-v", "ON_ERROR_STOP=1"];
    for sql in SETUP_SQL {
        args.extend(["-c", sql]);
    }
    process::run_tool(
        "creating the PostgreSQL role and database",
        &mut psql_command(&psql, server.site.path(), port, &args),
    )?;
    if options.stat_statements {
        let mut args = vec!["-v", "ON_ERROR_STOP=1", "-d", "sessions"];
        for sql in STAT_STATEMENTS_SQL {
            args.extend(["-c", sql]);
        }
        process::run_tool(
            "creating the pg_stat_statements extension",
            &mut psql_command(&psql, server.site.path(), port, &args),
        )?;
    }
    Ok(server)
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
