//! The per-session advisory lock: `flock` on `dir/s/i/sid.lock`.
//!
//! `flock` locks belong to an open file description, so two `open`s of the lock file
//! exclude each other whether they come from two processes sharing the directory or from
//! two tasks of one process. Lock files may be removed (by destroy, regenerate and GC) while
//! held; a waiter that then wins the lock on the unlinked file notices that the path no
//! longer names the file it locked and starts over, so two holders can never coexist.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Longest pause between two attempts at a busy lock.
const MAX_BACKOFF: Duration = Duration::from_millis(20);

/// Why a lock could not be taken.
#[derive(Debug)]
pub(crate) enum LockError {
    /// Another holder kept it for the whole wait.
    Busy,
    /// The lock file could not be opened or locked.
    Io(io::Error),
}

/// A held lock; released when dropped.
#[derive(Debug)]
pub(crate) struct SessionLock {
    // Closing the descriptor releases the flock.
    _file: File,
    path: PathBuf,
}

impl SessionLock {
    /// Takes the lock at `path`, creating the file (0600) if needed, waiting at most `wait`
    /// (zero: one attempt).
    pub(crate) fn acquire(path: &Path, wait: Duration) -> Result<Self, LockError> {
        let deadline = Instant::now() + wait;
        let mut backoff = Duration::from_millis(1);
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .mode(0o600)
                // O_NONBLOCK: a FIFO planted at the lock path must not hang the open.
                .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
                .open(path)
                .map_err(LockError::Io)?;
            // Retry on this descriptor until it is ours or the wait is over.
            loop {
                match try_flock(&file) {
                    Ok(true) => break,
                    Ok(false) if Instant::now() >= deadline => return Err(LockError::Busy),
                    Ok(false) => {
                        std::thread::sleep(backoff);
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                    Err(e) => return Err(LockError::Io(e)),
                }
            }
            if still_named(path, &file).map_err(LockError::Io)? {
                return Ok(SessionLock {
                    _file: file,
                    path: path.to_owned(),
                });
            }
            // The file was unlinked (and maybe re-created) by the previous holder: the lock
            // we won guards nothing. Drop it and lock whatever the path names now.
        }
    }

    /// Releases the lock and removes its file, so a session that is gone leaves nothing.
    pub(crate) fn remove(self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            if e.kind() != io::ErrorKind::NotFound {
                tracing::warn!(path = %crate::layout::shown(&self.path), error = %e, "cannot remove a session lock file");
            }
        }
    }
}

/// One non-blocking attempt; `Ok(false)` when someone else holds the lock.
fn try_flock(file: &File) -> io::Result<bool> {
    loop {
        // SAFETY: `flock` only reads the descriptor number, which `file` keeps open for the
        // duration of the call.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(true);
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(code) if code == libc::EWOULDBLOCK || code == libc::EAGAIN => return Ok(false),
            _ => return Err(err),
        }
    }
}

/// True when `path` still names the very file `file` is open on.
fn still_named(path: &Path, file: &File) -> io::Result<bool> {
    let held = file.metadata()?;
    match std::fs::symlink_metadata(path) {
        Ok(now) => Ok(now.dev() == held.dev() && now.ino() == held.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excludes_a_second_opener_in_the_same_process() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ab.lock");
        let held = SessionLock::acquire(&path, Duration::ZERO).unwrap();
        assert!(matches!(
            SessionLock::acquire(&path, Duration::from_millis(30)),
            Err(LockError::Busy)
        ));
        drop(held);
        SessionLock::acquire(&path, Duration::ZERO).unwrap();
    }

    #[test]
    fn a_waiter_on_a_removed_lock_file_relocks_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ab.lock");
        let first = SessionLock::acquire(&path, Duration::ZERO).unwrap();
        let waiter = {
            let path = path.clone();
            std::thread::spawn(move || SessionLock::acquire(&path, Duration::from_secs(5)))
        };
        std::thread::sleep(Duration::from_millis(50));
        first.remove();
        let second = waiter.join().unwrap().unwrap();
        // The winner holds the file the path names now, so a third party is excluded.
        assert!(path.exists());
        assert!(matches!(
            SessionLock::acquire(&path, Duration::ZERO),
            Err(LockError::Busy)
        ));
        drop(second);
    }

    #[test]
    fn a_symlinked_lock_file_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, b"keep").unwrap();
        let path = dir.path().join("ab.lock");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        assert!(matches!(
            SessionLock::acquire(&path, Duration::ZERO),
            Err(LockError::Io(_))
        ));
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
    }
}
