//! memcached: one instance, TCP only, on loopback.

use super::host::{self, RunAs};
use super::process::{self, ServerProcess};
use super::{Launcher, RunningServer, ServerError, ServerKind};

/// Memory limit of a test instance, in MiB.
const MEMORY_MB: &str = "64";

/// Starts `memcached` on `127.0.0.1:port`; its address is `127.0.0.1:port`.
pub(super) fn start(port: u16) -> Result<RunningServer, ServerError> {
    let memcached = host::find_binary(&["memcached"], "memcached", "")?;
    let run_as = RunAs::detect()?;
    let dir = host::server_dir("memcached", &run_as)?;
    let (path, log) = (dir.path().to_path_buf(), dir.path().join("memcached.log"));
    let server_log = log.clone();
    let launcher: Launcher = Box::new(move || {
        let mut cmd = process::command(&memcached, &path, &run_as);
        cmd.args(["-l", "127.0.0.1", "-U", "0", "-m", MEMORY_MB, "-p"])
            .arg(port.to_string());
        let mut server = ServerProcess::spawn("memcached", cmd, &server_log, libc::SIGTERM)?;
        server.wait_ready(|| process::exchange(port, b"version\r\n", b"VERSION "))?;
        Ok(server)
    });
    let server = launcher()?;
    Ok(RunningServer::new(
        format!("127.0.0.1:{port}"),
        ServerKind::Memcached,
        dir,
        log,
        launcher,
        server,
    ))
}
