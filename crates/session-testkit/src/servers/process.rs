//! Spawning server processes, waiting for them to accept connections, and stopping them.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use libc::c_int;

use super::host::RunAs;
use super::{ServerError, READY_TIMEOUT};
use crate::interrupt;

/// How long a server may take to shut down after its stop signal before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Pause between readiness probes.
const PROBE_INTERVAL: Duration = Duration::from_millis(50);

/// Timeout of a single network readiness probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// How many lines of a log or of a tool's output go into error messages.
const TAIL_LINES: usize = 40;

/// Builds a command for `program` that runs as the server user, in `dir`, with `HOME=dir` and
/// no stdin. When switching users, std also clears the supplementary groups.
pub(crate) fn command(program: &Path, dir: &Path, run_as: &RunAs) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(dir).env("HOME", dir).stdin(Stdio::null());
    if let RunAs::User { name, uid, gid } = run_as {
        cmd.uid(*uid)
            .gid(*gid)
            .env("USER", name)
            .env("LOGNAME", name);
    }
    cmd
}

/// Runs a setup tool to completion; a non-zero exit becomes [`ServerError::Setup`] carrying the
/// end of its output.
pub(crate) fn run_tool(what: &str, cmd: &mut Command) -> Result<(), ServerError> {
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|err| ServerError::io(format!("running {what}"), err))?;
    if output.status.success() {
        return Ok(());
    }
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Err(ServerError::Setup {
        what: what.to_owned(),
        status: output.status.to_string(),
        output: tail(&text, TAIL_LINES),
    })
}

/// Runs a setup tool that could hang (it waits on other servers) to completion within
/// `timeout`, its output going to the file `output`; killed when the time is up. A failure or
/// a timeout becomes [`ServerError::Setup`] carrying the end of its output.
pub(crate) fn run_tool_within(
    what: &str,
    cmd: &mut Command,
    output: &Path,
    timeout: Duration,
) -> Result<(), ServerError> {
    let out = fs::File::create(output)
        .map_err(|err| ServerError::io(format!("creating {}", output.display()), err))?;
    let err = out
        .try_clone()
        .map_err(|err| ServerError::io(format!("duplicating {}", output.display()), err))?;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|err| ServerError::io(format!("running {what}"), err))?;
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => break status.to_string(),
            Ok(None) if Instant::now() >= deadline || interrupt::requested() => {
                let _ = child.kill();
                let _ = child.wait();
                break format!("killed after {} s", timeout.as_secs());
            }
            Ok(None) => thread::sleep(PROBE_INTERVAL),
            Err(err) => return Err(ServerError::io(format!("waiting for {what}"), err)),
        }
    };
    Err(ServerError::Setup {
        what: what.to_owned(),
        status,
        output: log_tail(output),
    })
}

/// Polls `probe` until it returns `Ok`, at most `timeout`; each `Err` describes the state seen
/// so far, and the last one goes into the [`ServerError::Unsettled`] of a timeout.
pub(crate) fn wait_until<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> Result<T, String>,
) -> Result<T, ServerError> {
    let deadline = Instant::now() + timeout;
    loop {
        let last_seen = match probe() {
            Ok(value) => return Ok(value),
            Err(state) => state,
        };
        if interrupt::requested() {
            return Err(ServerError::Interrupted("waiting for servers"));
        }
        if Instant::now() >= deadline {
            return Err(ServerError::Unsettled {
                what: what.to_owned(),
                timeout_secs: timeout.as_secs(),
                last_seen,
            });
        }
        thread::sleep(PROBE_INTERVAL);
    }
}

/// True when `cmd` runs and exits successfully (its output is discarded). Used as a probe.
pub(crate) fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Connects to `127.0.0.1:port`, sends `request`, and checks that the reply starts with
/// `expected`. Used as a probe for text protocols (Redis `PING`, memcached `version`).
pub(crate) fn exchange(port: u16, request: &[u8], expected: &[u8]) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, PROBE_TIMEOUT) else {
        return false;
    };
    if stream.set_read_timeout(Some(PROBE_TIMEOUT)).is_err() || stream.write_all(request).is_err() {
        return false;
    }
    let mut reply = vec![0; expected.len()];
    stream.read_exact(&mut reply).is_ok() && reply == expected
}

/// True when something accepts TCP connections on `127.0.0.1:port`.
pub(crate) fn accepts(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, PROBE_TIMEOUT).is_ok()
}

/// The last `lines` lines of `text`.
pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The last lines of the log file at `path`, or a note that it could not be read.
fn log_tail(path: &Path) -> String {
    match fs::read(path) {
        Ok(bytes) => tail(&String::from_utf8_lossy(&bytes), TAIL_LINES),
        Err(err) => format!("(could not read {}: {err})", path.display()),
    }
}

/// A server process in its own process group, with its output going to a log file. Dropping
/// it stops the whole group.
pub(crate) struct ServerProcess {
    server: &'static str,
    child: Child,
    log: std::path::PathBuf,
    stop_signal: c_int,
    stopped: bool,
}

impl ServerProcess {
    /// Spawns `cmd` in a new process group with stdout and stderr appended to `log`.
    /// `stop_signal` is the signal that shuts the server down cleanly and quickly.
    pub(crate) fn spawn(
        server: &'static str,
        mut cmd: Command,
        log: &Path,
        stop_signal: c_int,
    ) -> Result<Self, ServerError> {
        // Appending keeps what the server logged before a restart.
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|err| ServerError::io(format!("opening {}", log.display()), err))?;
        let err = out
            .try_clone()
            .map_err(|err| ServerError::io(format!("duplicating {}", log.display()), err))?;
        let child = cmd
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .map_err(|err| ServerError::io(format!("starting {server}"), err))?;
        Ok(ServerProcess {
            server,
            child,
            log: log.to_path_buf(),
            stop_signal,
            stopped: false,
        })
    }

    /// The process id, which is also the process group id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Polls `probe` until it returns true, failing if the server exits, if
    /// [`READY_TIMEOUT`] passes, or if xtask is interrupted.
    pub(crate) fn wait_ready(
        &mut self,
        mut probe: impl FnMut() -> bool,
    ) -> Result<(), ServerError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if interrupt::requested() {
                return Err(ServerError::Interrupted(self.server));
            }
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    return Err(ServerError::Exited {
                        server: self.server,
                        status: status.to_string(),
                        log_tail: log_tail(&self.log),
                    })
                }
                Ok(None) => {}
                Err(err) => {
                    return Err(ServerError::io(format!("waiting for {}", self.server), err))
                }
            }
            if probe() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(ServerError::Timeout {
                    server: self.server,
                    log_tail: log_tail(&self.log),
                });
            }
            thread::sleep(PROBE_INTERVAL);
        }
    }

    /// Stops the server: its stop signal to the whole process group, then SIGKILL if it is
    /// still running after [`STOP_GRACE`]. Safe to call more than once.
    pub(crate) fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let group = self.pid();
        signal_group(group, self.stop_signal);
        let deadline = Instant::now() + STOP_GRACE;
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) if Instant::now() >= deadline => break,
                Ok(None) => thread::sleep(Duration::from_millis(20)),
            }
        }
        eprintln!(
            "xtask: {} (pid {group}) did not stop within {} s; killing it",
            self.server,
            STOP_GRACE.as_secs()
        );
        signal_group(group, libc::SIGKILL);
        let _ = self.child.wait();
    }
}

impl ServerProcess {
    /// Kills the server's whole process group with SIGKILL, as a crash or the OOM killer
    /// would (no shutdown, nothing flushed that the server had not written already), and
    /// waits for it to exit. Safe to call more than once, and after [`stop`](Self::stop).
    pub(crate) fn kill(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        signal_group(self.pid(), libc::SIGKILL);
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sends `signal` to the process group `group`, ignoring errors (the group may be gone).
fn signal_group(group: u32, signal: c_int) {
    let Ok(group) = libc::pid_t::try_from(group) else {
        return;
    };
    // SAFETY: kill has no memory-safety preconditions; a negative pid addresses the group.
    unsafe {
        libc::kill(-group, signal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
        assert_eq!(tail("", 5), "");
    }
}
