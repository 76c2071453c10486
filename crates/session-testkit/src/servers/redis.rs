//! Redis: `redis-server` without persistence, data directory in the temporary directory.

use super::host::{self, Site};
use super::process;
use super::{Launch, RunningServer, ServerError, ServerKind};

/// Starts `redis-server` on `127.0.0.1:port`; its URL is `redis://127.0.0.1:port/`.
pub(super) fn start(port: u16) -> Result<RunningServer, ServerError> {
    let redis = host::find_binary(&["redis-server"], "redis-server", "")?;
    let launch = Launch {
        program: "redis-server",
        stop_signal: libc::SIGTERM,
        command: Box::new(move |site| {
            let mut cmd = site.command(&redis);
            cmd.arg("--port")
                .arg(port.to_string())
                .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .args(["--daemonize", "no", "--logfile", ""])
                .arg("--dir")
                .arg(site.path());
            cmd
        }),
        ready: Box::new(move |_| process::exchange(port, b"PING\r\n", b"+PONG\r\n")),
    };
    let url = format!("redis://127.0.0.1:{port}/");
    RunningServer::launch(url, Site::new(ServerKind::Redis)?, launch)
}
