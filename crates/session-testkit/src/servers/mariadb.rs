//! MariaDB: `mariadb-install-db` into the temporary directory, then `mariadbd` on loopback
//! (and a unix socket in the temporary directory, used for setup as root). A user `session`
//! (password `session`, all privileges) and a database `sessions` are created.

use std::path::Path;
use std::process::Command;

use super::host::{self, Site};
use super::process;
use super::{Launch, RunningServer, ServerError, ServerKind};

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
    let site = Site::new(ServerKind::MariaDb)?;

    let mut install = site.command(&install_db);
    install
        .arg("--no-defaults")
        .arg(path_arg("--datadir", &site.path().join("data")))
        .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
        .args(FAST_START);
    process::run_tool("mariadb-install-db", &mut install)?;

    let probe_client = client.clone();
    let launch = Launch {
        program: "mariadbd",
        stop_signal: libc::SIGTERM,
        command: Box::new(move |site| {
            let dir = site.path();
            let mut cmd = site.command(&mariadbd);
            cmd.arg("--no-defaults")
                .arg(path_arg("--datadir", &dir.join("data")))
                .arg(path_arg("--socket", &socket(site)))
                .arg(path_arg("--pid-file", &dir.join("mariadb.pid")))
                .arg(path_arg("--tmpdir", dir))
                .arg(format!("--port={port}"))
                .args(["--bind-address=127.0.0.1", "--skip-networking=0"])
                .args(FAST_START);
            cmd
        }),
        ready: Box::new(move |site| {
            process::accepts(port)
                && process::succeeds(
                    client_command(&probe_client, &socket(site)).args(["-e", "SELECT 1"]),
                )
        }),
    };
    let url = format!("mysql://session:session@127.0.0.1:{port}/sessions");
    let server = RunningServer::launch(url, site, launch)?;
    process::run_tool(
        "creating the MariaDB user and database",
        client_command(&client, &socket(&server.site)).args(["-e", SETUP_SQL]),
    )?;
    Ok(server)
}

/// The server's unix socket, in its directory.
fn socket(site: &Site) -> std::path::PathBuf {
    site.path().join("mariadb.sock")
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
