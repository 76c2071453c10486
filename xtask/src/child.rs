//! Waiting for child processes (cargo, test executables) while honouring Ctrl-C.

use std::io;
use std::process::{Child, ExitStatus};
use std::thread;
use std::time::{Duration, Instant};

use session_testkit::interrupt;

/// How long an interrupted child gets to exit after SIGTERM before SIGKILL.
const GRACE: Duration = Duration::from_secs(5);

/// Why waiting for a child ended without an exit status.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    /// xtask got Ctrl-C/SIGTERM; the child was terminated.
    #[error("interrupted")]
    Interrupted,
    /// Waiting failed.
    #[error("waiting for a child process: {0}")]
    Io(#[from] io::Error),
}

/// Waits for `child` to exit. If xtask is interrupted meanwhile, the child is sent SIGTERM
/// (it usually got the terminal's SIGINT already), then SIGKILL after a grace period.
pub fn wait(child: &mut Child) -> Result<ExitStatus, WaitError> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if interrupt::requested() {
            terminate(child);
            return Err(WaitError::Interrupted);
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Terminates `child`: SIGTERM, then SIGKILL if it is still running after [`GRACE`].
fn terminate(child: &mut Child) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}
