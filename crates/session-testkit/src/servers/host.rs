//! Facts about the host the servers run on: free ports, where programs are installed, which
//! user servers run as, and their temporary directories.

use std::env;
use std::fs;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::chown;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use std::process::Command;

use super::process::{self, ServerProcess};
use super::{ServerError, ServerKind};

/// The user servers run as when xtask runs as root, unless `XTASK_SERVER_USER` names another.
const DEFAULT_SERVER_USER: &str = "nobody";

/// Directories searched after `PATH`: server daemons live in `sbin` directories, which are not
/// on an unprivileged user's `PATH` on Debian.
const EXTRA_DIRS: &[&str] = &["/usr/local/sbin", "/usr/sbin", "/sbin"];

/// Where Debian installs the PostgreSQL server programs, one directory per major version.
const POSTGRES_LIB_DIR: &str = "/usr/lib/postgresql";

/// Returns a port on 127.0.0.1 that was free a moment ago (the OS picks it).
pub(crate) fn free_port() -> Result<u16, ServerError> {
    Ok(free_ports(1)?[0])
}

/// Returns `count` distinct ports on 127.0.0.1 that were free a moment ago (all bound at once,
/// so the OS cannot hand out the same one twice).
pub(crate) fn free_ports(count: usize) -> Result<Vec<u16>, ServerError> {
    let listeners = (0..count)
        .map(|_| {
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .map_err(|err| ServerError::io("binding 127.0.0.1:0 to find a free port", err))
        })
        .collect::<Result<Vec<_>, _>>()?;
    listeners
        .iter()
        .map(|listener| {
            listener
                .local_addr()
                .map(|addr| addr.port())
                .map_err(|err| ServerError::io("reading the address of a bound socket", err))
        })
        .collect()
}

/// Finds the first of `names` in `PATH`, the `sbin` directories, or Debian's PostgreSQL
/// directories (newest version first). `package` is the Debian package named in the error.
pub(crate) fn find_binary(
    names: &[&str],
    package: &'static str,
    hint: &'static str,
) -> Result<PathBuf, ServerError> {
    let dirs = search_dirs();
    names
        .iter()
        .find_map(|name| {
            dirs.iter()
                .map(|dir| dir.join(name))
                .find(|path| is_executable(path))
        })
        .ok_or_else(|| ServerError::MissingBinary {
            binary: names.first().copied().unwrap_or_default().to_owned(),
            package,
            hint,
        })
}

/// The directories [`find_binary`] searches, in order.
fn search_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = env::var_os("PATH")
        .map(|path| env::split_paths(&path).collect())
        .unwrap_or_default();
    dirs.extend(EXTRA_DIRS.iter().map(PathBuf::from));
    dirs.extend(postgres_bin_dirs());
    dirs
}

/// `/usr/lib/postgresql/<version>/bin`, newest version first.
fn postgres_bin_dirs() -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(POSTGRES_LIB_DIR) else {
        return Vec::new();
    };
    let mut versions: Vec<(u32, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

/// True for a regular file with an execute bit.
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path)
        .map(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// The identity servers run under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RunAs {
    /// xtask is not root: servers run as the current user.
    CurrentUser,
    /// xtask is root: servers run as this unprivileged user.
    User {
        /// The user name, for messages.
        name: String,
        /// Its user id.
        uid: u32,
        /// Its primary group id.
        gid: u32,
    },
}

impl RunAs {
    /// Works out who servers run as: the current user, or an unprivileged one when root.
    pub(crate) fn detect() -> Result<Self, ServerError> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let euid = unsafe { libc::geteuid() };
        if euid != 0 {
            return Ok(RunAs::CurrentUser);
        }
        let name = env::var("XTASK_SERVER_USER").unwrap_or_else(|_| DEFAULT_SERVER_USER.into());
        let passwd = fs::read_to_string("/etc/passwd")
            .map_err(|err| ServerError::io("reading /etc/passwd", err))?;
        let (uid, gid) = lookup_user(&passwd, &name).ok_or_else(|| {
            ServerError::User(format!(
                "running as root and user {name:?} does not exist (set XTASK_SERVER_USER)"
            ))
        })?;
        if uid == 0 {
            return Err(ServerError::User(format!(
                "user {name:?} is root (set XTASK_SERVER_USER to an unprivileged user)"
            )));
        }
        Ok(RunAs::User { name, uid, gid })
    }

    /// Gives `path` to the server user, so the server can write into it.
    pub(crate) fn give(&self, path: &Path) -> Result<(), ServerError> {
        match self {
            RunAs::CurrentUser => Ok(()),
            RunAs::User { name, uid, gid } => chown(path, Some(*uid), Some(*gid)).map_err(|err| {
                ServerError::io(format!("giving {} to user {name}", path.display()), err)
            }),
        }
    }
}

/// Finds `name` in the text of `/etc/passwd` and returns its uid and gid.
fn lookup_user(passwd: &str, name: &str) -> Option<(u32, u32)> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        if fields.next()? != name {
            return None;
        }
        let _password = fields.next()?;
        let uid = fields.next()?.parse().ok()?;
        let gid = fields.next()?.parse().ok()?;
        Some((uid, gid))
    })
}

/// Creates a fresh temporary directory for a server under `/tmp` (short, so unix socket paths
/// stay under the length limit, and reachable by the server user even when root's `TMPDIR`
/// is not), owned by the server user.
fn server_dir(server: &str, run_as: &RunAs) -> Result<TempDir, ServerError> {
    let base = if Path::new("/tmp").is_dir() {
        PathBuf::from("/tmp")
    } else {
        env::temp_dir()
    };
    let dir = tempfile::Builder::new()
        .prefix(&format!("xtask-{server}-"))
        .tempdir_in(&base)
        .map_err(|err| {
            ServerError::io(
                format!("creating a temporary directory in {}", base.display()),
                err,
            )
        })?;
    run_as.give(dir.path())?;
    Ok(dir)
}

/// Where one server lives: its temporary directory (removed when this drops), its log file
/// in there, and the user it runs as.
pub(crate) struct Site {
    kind: ServerKind,
    dir: TempDir,
    log: PathBuf,
    run_as: RunAs,
}

impl Site {
    /// Works out the server user and creates the directory for a server of `kind`.
    pub(crate) fn new(kind: ServerKind) -> Result<Self, ServerError> {
        let run_as = RunAs::detect()?;
        let dir = server_dir(kind.name(), &run_as)?;
        let log = dir.path().join(format!("{}.log", kind.name()));
        Ok(Site {
            kind,
            dir,
            log,
            run_as,
        })
    }

    /// The kind of server that lives here.
    pub(crate) fn kind(&self) -> ServerKind {
        self.kind
    }

    /// The server's directory.
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The server's log file.
    pub(crate) fn log(&self) -> &Path {
        &self.log
    }

    /// Writes `contents` to the file `name` in the server's directory and gives it to the server
    /// user (servers such as Redis rewrite their own config files).
    pub(crate) fn write_file(&self, name: &str, contents: &str) -> Result<PathBuf, ServerError> {
        let path = self.path().join(name);
        fs::write(&path, contents)
            .map_err(|err| ServerError::io(format!("writing {}", path.display()), err))?;
        self.run_as.give(&path)?;
        Ok(path)
    }

    /// A command for `program` running as the server user in the server's directory.
    pub(crate) fn command(&self, program: &Path) -> Command {
        process::command(program, self.path(), &self.run_as)
    }

    /// Spawns the server process `cmd` with its output going to the log.
    pub(crate) fn spawn(
        &self,
        server: &'static str,
        cmd: Command,
        stop_signal: libc::c_int,
    ) -> Result<ServerProcess, ServerError> {
        ServerProcess::spawn(server, cmd, &self.log, stop_signal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_users_in_passwd() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n\
                      nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
        assert_eq!(lookup_user(passwd, "nobody"), Some((65534, 65534)));
        assert_eq!(lookup_user(passwd, "root"), Some((0, 0)));
        assert_eq!(lookup_user(passwd, "nob"), None);
    }

    #[test]
    fn free_ports_are_nonzero_and_distinct() {
        assert!(free_port().is_ok_and(|port| port != 0));
        let mut ports = free_ports(4).expect("free ports");
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), 4);
        assert!(!ports.contains(&0));
    }

    #[test]
    fn missing_binary_names_the_package() {
        let err = find_binary(&["surely-not-installed-xtask"], "some-package", "");
        let message = err.map(|_| String::new()).unwrap_or_else(|e| e.to_string());
        assert_eq!(
            message,
            "surely-not-installed-xtask not found: install the Debian package some-package \
             (apt-get install -y some-package)"
        );
    }
}
