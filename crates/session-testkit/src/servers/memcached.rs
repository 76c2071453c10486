//! memcached: one instance, TCP only, on loopback.

use super::host::{self, Site};
use super::process;
use super::{Launch, RunningServer, ServerError, ServerKind};

/// Memory limit of a test instance, in MiB.
const MEMORY_MB: &str = "64";

/// Starts `memcached` on `127.0.0.1:port`; its address is `127.0.0.1:port`.
pub(super) fn start(port: u16) -> Result<RunningServer, ServerError> {
    let memcached = host::find_binary(&["memcached"], "memcached", "")?;
    let launch = Launch {
        program: "memcached",
        stop_signal: libc::SIGTERM,
        command: Box::new(move |site| {
            let mut cmd = site.command(&memcached);
            cmd.args(["-l", "127.0.0.1", "-U", "0", "-m", MEMORY_MB, "-p"])
                .arg(port.to_string());
            cmd
        }),
        ready: Box::new(move |_| process::exchange(port, b"version\r\n", b"VERSION ")),
    };
    let site = Site::new(ServerKind::Memcached)?;
    RunningServer::launch(format!("127.0.0.1:{port}"), site, launch)
}
