//! One `redis-server` process, data node or sentinel, started from a config file in its site.
//!
//! A config file rather than command-line options, because Redis rewrites it: a sentinel
//! records what it learnt (replicas, epochs), and a sentinel reconfiguring a data node
//! (`REPLICAOF`, then `CONFIG REWRITE`) records the node's new role, so a node restarted on
//! its site comes back in the role the sentinel gave it, not the one it was started with.

use std::path::{Path, PathBuf};

use super::super::host::{self, Site};
use super::super::{process, Launch, RunningServer, ServerError, ServerKind};

/// The config file's name in the site.
const CONFIG_FILE: &str = "redis.conf";

/// What a `redis-server` process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// A server holding data: standalone, cluster node, master or replica.
    Data,
    /// A sentinel (`redis-server <conf> --sentinel`).
    Sentinel,
}

/// What every data node starts with: nothing persisted (no RDB snapshots, no append-only
/// file), and a replica's full sync starting at once instead of after the default 5 s wait
/// for more replicas. Later directives in the list override these.
pub(super) fn data_directives() -> Vec<String> {
    vec![
        r#"save """#.into(),
        "appendonly no".into(),
        "repl-diskless-sync-delay 0".into(),
    ]
}

/// The `redis-server` program, or an error naming its Debian package.
pub(super) fn server_binary() -> Result<PathBuf, ServerError> {
    host::find_binary(&["redis-server"], "redis-server", "")
}

/// The `redis-cli` program, or an error naming its Debian package.
pub(super) fn cli_binary() -> Result<PathBuf, ServerError> {
    host::find_binary(&["redis-cli"], "redis-tools", "")
}

/// Starts a `redis-server` as `role` on `127.0.0.1:port` in a new site, with `directives`
/// (lines of `redis.conf`) after the ones every process has; its URL is
/// `redis://127.0.0.1:port/`.
pub(super) fn start(
    port: u16,
    role: Role,
    directives: &[String],
) -> Result<RunningServer, ServerError> {
    let redis = server_binary()?;
    let site = Site::new(ServerKind::Redis)?;
    let config = site.write_file(CONFIG_FILE, &config_text(port, site.path(), directives))?;
    let launch = Launch {
        program: match role {
            Role::Data => "redis-server",
            Role::Sentinel => "redis-sentinel",
        },
        stop_signal: libc::SIGTERM,
        command: Box::new(move |site| {
            let mut cmd = site.command(&redis);
            cmd.arg(&config);
            if role == Role::Sentinel {
                cmd.arg("--sentinel");
            }
            cmd
        }),
        ready: Box::new(move |_| process::exchange(port, b"PING\r\n", b"+PONG\r\n")),
    };
    RunningServer::launch(format!("redis://127.0.0.1:{port}/"), site, launch)
}

/// The config file: loopback only, in the foreground, logging to stdout (the site's log),
/// working in `dir`, then `directives`.
fn config_text(port: u16, dir: &Path, directives: &[String]) -> String {
    let mut lines = vec![
        format!("port {port}"),
        "bind 127.0.0.1".into(),
        "daemonize no".into(),
        r#"logfile """#.into(),
        format!("dir {}", quote(&dir.display().to_string())),
    ];
    lines.extend(directives.iter().cloned());
    lines.push(String::new());
    lines.join("\n")
}

/// `value` as a double-quoted config argument.
fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_lists_the_basics_then_the_directives() {
        let text = config_text(7001, Path::new("/tmp/x y"), &["appendonly yes".into()]);
        assert_eq!(
            text,
            "port 7001\nbind 127.0.0.1\ndaemonize no\nlogfile \"\"\ndir \"/tmp/x y\"\n\
             appendonly yes\n"
        );
    }
}
