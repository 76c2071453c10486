//! Throwaway servers for tests: each runs on a free loopback port with its data in a fresh
//! temporary directory, and is stopped (and the directory removed) when its guard drops. A
//! server can be stopped and restarted on the same data, for tests of outages.
//!
//! When xtask (or a test) runs as root (as CI does), the servers run as an unprivileged user (`nobody` by
//! default, or the user named by `XTASK_SERVER_USER`), since PostgreSQL, MariaDB and memcached
//! refuse to run as root.
//!
//! Besides single servers ([`start`]), [`redis`] has the Redis topologies: a 3-master
//! [`RedisCluster`] and a master + replica + sentinel [`RedisSentinel`].

mod host;
mod mariadb;
mod memcached;
mod postgres;
mod process;
pub mod redis;

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::process::Command;
use std::thread;
use std::time::Duration;

use host::Site;
use process::ServerProcess;
pub use redis::{RedisCluster, RedisSentinel};

/// How long a server may take to accept connections before its start counts as failed.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How many ports are tried when a server loses the race for its port to another process.
const PORT_ATTEMPTS: usize = 3;

/// The kinds of server that can be started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerKind {
    /// MariaDB (MySQL protocol), from the Debian package `mariadb-server`.
    MariaDb,
    /// PostgreSQL, from the Debian package `postgresql`.
    Postgres,
    /// Redis, from the Debian package `redis-server`.
    Redis,
    /// memcached, from the Debian package `memcached`.
    Memcached,
}

impl ServerKind {
    /// Short lower-case name, used in messages and temporary directory names.
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::MariaDb => "mariadb",
            ServerKind::Postgres => "postgres",
            ServerKind::Redis => "redis",
            ServerKind::Memcached => "memcached",
        }
    }
}

impl fmt::Display for ServerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a server could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A program the server needs is not installed.
    #[error(
        "{binary} not found: install the Debian package {package} (apt-get install -y {package}){hint}"
    )]
    MissingBinary {
        /// The program that was looked for.
        binary: String,
        /// The Debian package that provides it.
        package: &'static str,
        /// Extra advice appended to the message (may be empty).
        hint: &'static str,
    },
    /// An I/O operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Running as root, but no unprivileged user to run the server as.
    #[error("cannot pick an unprivileged user to run servers as: {0}")]
    User(String),
    /// A setup step (initialising a data directory, creating a database…) failed.
    #[error("{what} failed ({status}):\n{output}")]
    Setup {
        /// The step that failed.
        what: String,
        /// Its exit status.
        status: String,
        /// The end of its output.
        output: String,
    },
    /// The server process exited before it accepted connections.
    #[error("{server} exited during startup ({status}); end of its log:\n{log_tail}")]
    Exited {
        /// The server that exited.
        server: &'static str,
        /// Its exit status.
        status: String,
        /// The last lines of its log.
        log_tail: String,
    },
    /// The server did not accept connections in time.
    #[error("{server} did not accept connections within {} s; end of its log:\n{log_tail}", READY_TIMEOUT.as_secs())]
    Timeout {
        /// The server that was waited for.
        server: &'static str,
        /// The last lines of its log.
        log_tail: String,
    },
    /// Ctrl-C (or SIGTERM) arrived while the server was starting.
    #[error("interrupted while starting {0}")]
    Interrupted(&'static str),
    /// Several servers did not reach the state they were waited for (a cluster all `ok`, a
    /// replica in sync, a failover done) in time.
    #[error("{what}: not reached within {timeout_secs} s; last seen: {last_seen}")]
    Unsettled {
        /// The state waited for.
        what: String,
        /// How long it was waited for.
        timeout_secs: u64,
        /// What the servers said last.
        last_seen: String,
    },
    /// Talking to a Redis server failed.
    #[error(transparent)]
    Redis(#[from] redis::RespError),
}

impl ServerError {
    /// Builds an [`ServerError::Io`] with a description of what was being done.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        ServerError::Io {
            context: context.into(),
            source,
        }
    }

    /// True when the server failed because its port was taken in the meantime.
    fn is_port_conflict(&self) -> bool {
        match self {
            ServerError::Exited { log_tail, .. } => log_tail.contains("Address already in use"),
            _ => false,
        }
    }
}

/// How to start (or start again) a server's process in its site.
pub(crate) struct Launch {
    /// The program's name, for messages.
    pub(crate) program: &'static str,
    /// The signal that shuts the server down cleanly and quickly.
    pub(crate) stop_signal: libc::c_int,
    /// The command that runs the server in the foreground.
    pub(crate) command: Box<dyn Fn(&Site) -> Command + Send + Sync>,
    /// True once the server accepts connections.
    pub(crate) ready: Box<dyn Fn(&Site) -> bool + Send + Sync>,
}

impl Launch {
    /// Spawns the server in `site` and waits until it is ready.
    fn start(&self, site: &Site) -> Result<ServerProcess, ServerError> {
        let mut process = site.spawn(self.program, (self.command)(site), self.stop_signal)?;
        process.wait_ready(|| (self.ready)(site))?;
        Ok(process)
    }
}

/// Choices about how a server is started; the default suits most tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StartOptions {
    /// PostgreSQL only: run with `log_statement=all`, so that every statement a client sends
    /// appears in [`RunningServer::read_log`]. Other kinds have no such switch and ignore it.
    pub log_statements: bool,
    /// Redis only: `appendonly yes` with `appendfsync always`, so that every write the server
    /// acknowledged is in the append-only file before the reply and survives a `kill -9`
    /// followed by [`RunningServer::restart`]. Off by default: nothing is persisted.
    pub append_only: bool,
    /// PostgreSQL only: load `pg_stat_statements` (`shared_preload_libraries`) and create the
    /// extension in the `sessions` database, readable by the `session` role, so that a
    /// benchmark can count the statements each request costs on the server.
    pub stat_statements: bool,
}

/// A server running for the duration of a test run. Dropping it stops the server (SIGTERM or
/// the kind's shutdown signal, SIGKILL after a grace period, for its whole process group) and
/// removes its temporary directory.
pub struct RunningServer {
    /// How clients reach the server: a URL (`mysql://…`, `postgres://…`, `redis://…`) or, for
    /// memcached, `host:port`.
    pub url: String,
    launch: Launch,
    // Field order matters: the process is dropped (stopped) before its directory is removed.
    process: ServerProcess,
    site: Site,
}

impl RunningServer {
    /// Starts the server's process in `site`; `launch` is kept for restarts.
    pub(crate) fn launch(url: String, site: Site, launch: Launch) -> Result<Self, ServerError> {
        let process = launch.start(&site)?;
        Ok(RunningServer {
            url,
            launch,
            process,
            site,
        })
    }

    /// Which kind of server this is.
    pub fn kind(&self) -> ServerKind {
        self.site.kind()
    }

    /// The process id of the server (also its process group id).
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Stops the server and waits for it to exit, keeping its data directory, so that
    /// [`restart`](Self::restart) brings the same data back. Clients see the server go away.
    pub fn stop(&mut self) {
        self.process.stop();
    }

    /// Starts the server again on the same port and data directory (stopping it first if it
    /// is running) and waits until it accepts connections.
    pub fn restart(&mut self) -> Result<(), ServerError> {
        self.process.stop();
        self.process = self.launch.start(&self.site)?;
        Ok(())
    }

    /// Everything the server has written to its log so far (stdout and stderr, across
    /// restarts).
    pub fn read_log(&self) -> Result<String, ServerError> {
        let log = self.site.log();
        fs::read(log)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .map_err(|err| ServerError::io(format!("reading {}", log.display()), err))
    }
}

impl fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningServer")
            .field("kind", &self.kind())
            .field("url", &self.url)
            .field("pid", &self.pid())
            .finish()
    }
}

/// Starts one server of `kind` on a free loopback port and waits until it accepts connections.
pub fn start(kind: ServerKind) -> Result<RunningServer, ServerError> {
    start_with(kind, StartOptions::default())
}

/// [`start`] with [`StartOptions`].
pub fn start_with(kind: ServerKind, options: StartOptions) -> Result<RunningServer, ServerError> {
    retry_on_port_conflict(|| {
        let port = host::free_port()?;
        match kind {
            ServerKind::MariaDb => mariadb::start(port),
            ServerKind::Postgres => postgres::start(port, options),
            ServerKind::Redis => redis::start(port, options),
            ServerKind::Memcached => memcached::start(port),
        }
    })
}

/// Runs `start` (which picks its ports) again, up to [`PORT_ATTEMPTS`] times in all, while it
/// fails because another process took one of its ports in the meantime.
pub(crate) fn retry_on_port_conflict<T>(
    mut start: impl FnMut() -> Result<T, ServerError>,
) -> Result<T, ServerError> {
    let mut attempt = 1;
    loop {
        match start() {
            Err(err) if attempt < PORT_ATTEMPTS && err.is_port_conflict() => attempt += 1,
            other => return other,
        }
    }
}

/// The value of the environment variable `var` through which `cargo xtask test` points tests at
/// their servers (`MYSQL_URL`, [`redis::CLUSTER_URLS_VAR`]…), trimmed. `None`, after saying on
/// stderr that `test` is skipped, when it is unset or empty (a plain `cargo test`).
pub fn from_env(var: &str, test: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => Some(value.trim().to_owned()),
        _ => {
            // Straight to stderr: the test harness hides `eprintln!` of passing tests, and a
            // skip must be seen.
            let _ = writeln!(
                io::stderr(),
                "{test}: skipped: {var} not set (run cargo xtask test)"
            );
            None
        }
    }
}

/// Starts `count` independent servers of `kind` in parallel. If any fails, the others are
/// stopped and the first error is returned.
pub fn start_many(kind: ServerKind, count: usize) -> Result<Vec<RunningServer>, ServerError> {
    start_many_with(kind, count, StartOptions::default())
}

/// [`start_many`] with [`StartOptions`].
pub fn start_many_with(
    kind: ServerKind,
    count: usize,
    options: StartOptions,
) -> Result<Vec<RunningServer>, ServerError> {
    let results: Vec<Result<RunningServer, ServerError>> = thread::scope(|scope| {
        let handles: Vec<_> = (0..count)
            .map(|_| scope.spawn(move || start_with(kind, options)))
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle.join().unwrap_or_else(|_| {
                    Err(ServerError::io(
                        format!("starting {kind}"),
                        io::Error::other("the starting thread panicked"),
                    ))
                })
            })
            .collect()
    });
    results.into_iter().collect()
}

/// Joins the client addresses of several servers the way engines expect a server list:
/// separated by `;`.
pub fn join_urls(servers: &[RunningServer]) -> String {
    servers
        .iter()
        .map(|server| server.url.as_str())
        .collect::<Vec<_>>()
        .join(";")
}
