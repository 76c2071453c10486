//! Redis: `redis-server` without persistence, data directory in the temporary directory.

use super::host::{self, RunAs};
use super::process::{self, ServerProcess};
use super::{Launcher, RunningServer, ServerError, ServerKind};

/// Starts `redis-server` on `127.0.0.1:port`; its URL is `redis://127.0.0.1:port/`.
pub(super) fn start(port: u16) -> Result<RunningServer, ServerError> {
    let redis = host::find_binary(&["redis-server"], "redis-server", "")?;
    let run_as = RunAs::detect()?;
    let dir = host::server_dir("redis", &run_as)?;
    let (path, log) = (dir.path().to_path_buf(), dir.path().join("redis.log"));
    let server_log = log.clone();
    let launcher: Launcher = Box::new(move || {
        let mut cmd = process::command(&redis, &path, &run_as);
        cmd.arg("--port")
            .arg(port.to_string())
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--daemonize", "no", "--logfile", ""])
            .arg("--dir")
            .arg(&path);
        let mut server = ServerProcess::spawn("redis-server", cmd, &server_log, libc::SIGTERM)?;
        server.wait_ready(|| process::exchange(port, b"PING\r\n", b"+PONG\r\n"))?;
        Ok(server)
    });
    let server = launcher()?;
    Ok(RunningServer::new(
        format!("redis://127.0.0.1:{port}/"),
        ServerKind::Redis,
        dir,
        log,
        launcher,
        server,
    ))
}
