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

/// A held lock; released when dropped.
#[derive(Debug)]
pub(crate) struct SessionLock {
    // Closing the descriptor releases the flock.
    _file: File,
    path: PathBuf,
}

/// What one try at an already opened lock file gave.
#[derive(Debug)]
enum Claim {
    Held(SessionLock),
    /// Someone else holds it.
    Busy,
    /// Won, but on a file that the path no longer names: it guards nothing.
    Stale,
}

impl SessionLock {
    /// Takes the lock at `path` if nobody holds it, creating the file (0600) if needed;
    /// `None` when it is busy. Never waits: callers that want to wait do so themselves,
    /// outside the blocking pool (see `crate::wait`).
    pub(crate) fn try_acquire(path: &Path) -> io::Result<Option<Self>> {
        loop {
            match claim(path, open_lock_file(path)?)? {
                Claim::Held(lock) => return Ok(Some(lock)),
                Claim::Busy => return Ok(None),
                // The file was unlinked (and maybe re-created) by the previous holder
                // between our open and our lock: lock whatever the path names now.
                Claim::Stale => continue,
            }
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

fn open_lock_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .mode(0o600)
        // O_NONBLOCK: a FIFO planted at the lock path must not hang the open.
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
}

/// One try at the lock of `file`, opened on `path`.
fn claim(path: &Path, file: File) -> io::Result<Claim> {
    if !try_flock(&file)? {
        return Ok(Claim::Busy);
    }
    if !still_named(path, &file)? {
        return Ok(Claim::Stale);
    }
    Ok(Claim::Held(SessionLock {
        _file: file,
        path: path.to_owned(),
    }))
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
        let held = SessionLock::try_acquire(&path).unwrap().unwrap();
        assert!(SessionLock::try_acquire(&path).unwrap().is_none());
        drop(held);
        assert!(SessionLock::try_acquire(&path).unwrap().is_some());
    }

    #[test]
    fn a_lock_won_on_a_removed_file_is_stale_and_the_next_try_takes_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ab.lock");
        let first = SessionLock::try_acquire(&path).unwrap().unwrap();
        // A second task opened the lock file while the first held it ...
        let opened = open_lock_file(&path).unwrap();
        assert!(matches!(
            claim(&path, open_lock_file(&path).unwrap()).unwrap(),
            Claim::Busy
        ));
        // ... and the first removed it on its way out (destroy, regenerate, GC).
        first.remove();
        assert!(matches!(claim(&path, opened).unwrap(), Claim::Stale));
        let second = SessionLock::try_acquire(&path).unwrap().unwrap();
        // The winner holds the file the path names now, so a third party is excluded.
        assert!(path.exists());
        assert!(SessionLock::try_acquire(&path).unwrap().is_none());
        drop(second);
    }

    #[test]
    fn a_symlinked_lock_file_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, b"keep").unwrap();
        let path = dir.path().join("ab.lock");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        assert!(SessionLock::try_acquire(&path).is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
    }
}
