//! Redis: `redis-server` without persistence, data directory in the temporary directory.

use super::host::{self, RunAs};
use super::process::{self, ServerProcess};
use super::{RunningServer, ServerError, ServerKind};

/// Starts `redis-server` on `127.0.0.1:port`; its URL is `redis://127.0.0.1:port/`.
pub(super) fn start(port: u16) -> Result<RunningServer, ServerError> {
    let redis = host::find_binary(&["redis-server"], "redis-server", "")?;
    let run_as = RunAs::detect()?;
    let dir = host::server_dir("redis", &run_as)?;
    let mut cmd = process::command(&redis, dir.path(), &run_as);
    cmd.arg("--port")
        .arg(port.to_string())
        .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .args(["--daemonize", "no", "--logfile", ""])
        .arg("--dir")
        .arg(dir.path());
    let log = dir.path().join("redis.log");
    let mut server = ServerProcess::spawn("redis-server", cmd, &log, libc::SIGTERM)?;
    server.wait_ready(|| process::exchange(port, b"PING\r\n", b"+PONG\r\n"))?;
    Ok(RunningServer {
        url: format!("redis://127.0.0.1:{port}/"),
        kind: ServerKind::Redis,
        process: server,
        _dir: dir,
    })
}
