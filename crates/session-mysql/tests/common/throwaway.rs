//! A MariaDB of the test's own, started the way `cargo xtask` starts one (temporary data
//! directory, free loopback port, an unprivileged user when running as root), for tests
//! that stop and restart the server or read its global counters.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// A running (or stopped) private server; dropping it stops the server.
pub struct Throwaway {
    dir: TempDir,
    port: u16,
    user: Option<(u32, u32)>,
    server: Option<Child>,
}

fn find(names: &[&str]) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.extend(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from));
    names
        .iter()
        .flat_map(|n| dirs.iter().map(move |d| d.join(n)))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{} not found: install the Debian packages mariadb-server and mariadb-client",
                names[0]
            )
        })
}

/// Who the server runs as: root may not run it, so `XTASK_SERVER_USER` or `nobody` then.
fn server_user() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let name = std::env::var("XTASK_SERVER_USER").unwrap_or_else(|_| "nobody".into());
    let passwd = std::fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    passwd
        .lines()
        .find_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            (f.len() > 3 && f[0] == name).then(|| (f[2].parse().unwrap(), f[3].parse().unwrap()))
        })
        .or_else(|| panic!("running as root and user {name} does not exist"))
}

fn path_arg(name: &str, path: &Path) -> String {
    format!("--{name}={}", path.display())
}

const FAST: [&str; 4] = [
    "--innodb-buffer-pool-size=16M",
    "--innodb-log-file-size=4M",
    "--skip-log-bin",
    "--skip-name-resolve",
];

impl Throwaway {
    /// Initialises a data directory and starts the server, with a user `session`
    /// (password `session`) and a database `sessions`.
    pub fn start() -> Self {
        let user = server_user();
        let dir = tempfile::Builder::new()
            .prefix("session-mysql-test-")
            .tempdir_in("/tmp")
            .expect("temporary directory");
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown");
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut me = Throwaway {
            dir,
            port,
            user,
            server: None,
        };
        let install = me
            .command(&find(&["mariadb-install-db", "mysql_install_db"]))
            .arg("--no-defaults")
            .arg(path_arg("datadir", &me.data()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
            .args(FAST)
            .output()
            .expect("run mariadb-install-db");
        assert!(
            install.status.success(),
            "mariadb-install-db failed: {}",
            String::from_utf8_lossy(&install.stderr)
        );
        me.start_server();
        let setup = "CREATE DATABASE sessions; \
             CREATE USER 'session'@'%' IDENTIFIED BY 'session'; \
             GRANT ALL PRIVILEGES ON *.* TO 'session'@'%';";
        assert!(me.client(setup), "creating the test user failed");
        me
    }

    /// `mysql://session:session@127.0.0.1:PORT/sessions`.
    pub fn url(&self) -> String {
        format!("mysql://session:session@127.0.0.1:{}/sessions", self.port)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("mariadb.sock")
    }

    fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .stdin(Stdio::null());
        if let Some((uid, gid)) = self.user {
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    fn client(&self, sql: &str) -> bool {
        Command::new(find(&["mariadb", "mysql"]))
            .arg("--no-defaults")
            .arg(path_arg("socket", &self.socket()))
            .args(["--connect-timeout=2", "-uroot", "-e", sql])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn start_server(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("mariadb.log")).expect("log file");
        let child = self
            .command(&find(&["mariadbd", "mysqld"]))
            .arg("--no-defaults")
            .arg(path_arg("datadir", &self.data()))
            .arg(path_arg("socket", &self.socket()))
            .arg(path_arg("pid-file", &self.dir.path().join("mariadb.pid")))
            .arg(path_arg("tmpdir", self.dir.path()))
            .arg(format!("--port={}", self.port))
            .args(["--bind-address=127.0.0.1", "--skip-networking=0"])
            .args(FAST)
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("start mariadbd");
        self.server = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.client("SELECT 1") {
            assert!(Instant::now() < deadline, "mariadbd did not start in 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the server (SIGTERM, a clean shutdown) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.server.take() {
            // SAFETY: kill has no memory-safety preconditions; -pid is the process group.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGTERM) };
            let _ = child.wait();
        }
    }

    /// Starts the stopped server again on the same port and data.
    pub fn restart(&mut self) {
        self.stop();
        self.start_server();
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        self.stop();
    }
}
