//! MariaDB: `mariadb-install-db` into the temporary directory, then `mariadbd` on loopback
//! (and a unix socket in the temporary directory, used for setup as root). A user `session`
//! (password `session`, all privileges) and a database `sessions` are created.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::host::{self, RunAs};
use super::process::{self, ServerProcess};
use super::{Launcher, RunningServer, ServerError, ServerKind};

/// Settings passed to both the bootstrap and the server, chosen for a fast start.
const FAST_START: [&str; 4] = [
    "--innodb-buffer-pool-size=16M",
    "--innodb-log-file-size=4M",
    "--skip-log-bin",
    "--skip-name-resolve",
];

/// SQL run as root over the unix socket once the server is up.
const SETUP_SQL: &str = "CREATE DATABASE sessions; \
     CREATE USER 'session'@'%' IDENTIFIED BY 'session'; \
     GRANT ALL PRIVILEGES ON *.* TO 'session'@'%'; \
     FLUSH PRIVILEGES;";

/// Starts MariaDB on `127.0.0.1:port`; its URL is
/// `mysql://session:session@127.0.0.1:port/sessions`.
pub(super) fn start(port: u16) -> Result<RunningServer, ServerError> {
    let mariadbd = host::find_binary(&["mariadbd", "mysqld"], "mariadb-server", "")?;
    let install_db = host::find_binary(
        &["mariadb-install-db", "mysql_install_db"],
        "mariadb-server",
        "",
    )?;
    let client = host::find_binary(&["mariadb", "mysql"], "mariadb-client", "")?;
    let run_as = RunAs::detect()?;
    let dir = host::server_dir("mariadb", &run_as)?;
    let data = dir.path().join("data");
    let socket = dir.path().join("mariadb.sock");

    let mut install = process::command(&install_db, dir.path(), &run_as);
    install
        .arg("--no-defaults")
        .arg(path_arg("--datadir", &data))
        .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
        .args(FAST_START);
    process::run_tool("mariadb-install-db", &mut install)?;

    let log = dir.path().join("mariadb.log");
    let launcher = launcher(
        LaunchPaths {
            mariadbd,
            client: client.clone(),
            dir: dir.path().to_path_buf(),
            log: log.clone(),
        },
        port,
        run_as,
    );
    let server = launcher()?;
    process::run_tool(
        "creating the MariaDB user and database",
        client_command(&client, &socket).args(["-e", SETUP_SQL]),
    )?;
    Ok(RunningServer::new(
        format!("mysql://session:session@127.0.0.1:{port}/sessions"),
        ServerKind::MariaDb,
        dir,
        log,
        launcher,
        server,
    ))
}

/// Where a MariaDB server's programs and files are.
struct LaunchPaths {
    mariadbd: PathBuf,
    client: PathBuf,
    dir: PathBuf,
    log: PathBuf,
}

/// Starts `mariadbd` on the data directory under `paths.dir`, ready when the root user can
/// run a query over the unix socket.
fn launcher(paths: LaunchPaths, port: u16, run_as: RunAs) -> Launcher {
    Box::new(move || {
        let dir = paths.dir.as_path();
        let socket = dir.join("mariadb.sock");
        let mut cmd = process::command(&paths.mariadbd, dir, &run_as);
        cmd.arg("--no-defaults")
            .arg(path_arg("--datadir", &dir.join("data")))
            .arg(path_arg("--socket", &socket))
            .arg(path_arg("--pid-file", &dir.join("mariadb.pid")))
            .arg(path_arg("--tmpdir", dir))
            .arg(format!("--port={port}"))
            .args(["--bind-address=127.0.0.1", "--skip-networking=0"])
            .args(FAST_START);
        let mut server = ServerProcess::spawn("mariadbd", cmd, &paths.log, libc::SIGTERM)?;
        server.wait_ready(|| {
            process::accepts(port)
                && process::succeeds(
                    client_command(&paths.client, &socket).args(["-e", "SELECT 1"]),
                )
        })?;
        Ok(server)
    })
}

/// `--name=path` as one argument.
fn path_arg(name: &str, path: &Path) -> String {
    format!("{name}={}", path.display())
}

/// The `mariadb` client as root (password-less, see `--auth-root-authentication-method`) over
/// the server's unix socket, ignoring option files.
fn client_command(client: &Path, socket: &Path) -> Command {
    let mut cmd = Command::new(client);
    cmd.arg("--no-defaults")
        .arg(path_arg("--socket", socket))
        .args(["--connect-timeout=2", "-uroot"]);
    cmd
}
