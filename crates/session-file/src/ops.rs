//! The engine's operations as blocking functions (the provider runs them on tokio's
//! blocking pool). Every read-modify-write of a session happens under its lock.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use session_core::{ChangeSet, Error, Result, SessionData};

use crate::config::FileConfig;
use crate::fsio::{self, Stored, MAX_FILE_BYTES};
use crate::layout::SessionPaths;
use crate::lock::{LockError, SessionLock};
use crate::ENGINE;

/// What a release writes, owned so it can move to the blocking pool.
#[derive(Debug)]
pub(crate) enum Pending {
    /// Refresh the lifetime only.
    Touch,
    /// Replay these changes onto the stored state.
    Changes(ChangeSet),
}

/// One release, owned.
#[derive(Debug)]
pub(crate) struct ReleaseJob {
    pub(crate) sid: String,
    pub(crate) pending: Pending,
    /// The request's whole view, written when there is no stored state to merge into.
    pub(crate) data: SessionData,
    pub(crate) only_if_present: bool,
}

/// The engine: a directory and its rules.
#[derive(Debug)]
pub(crate) struct Engine {
    pub(crate) root: PathBuf,
    pub(crate) fsync: bool,
    pub(crate) lock_timeout: Duration,
    pub(crate) max_lifetime: Duration,
}

/// Wraps an I/O error with what was being done and to which path.
pub(crate) fn io_err(action: &str, path: &std::path::Path, e: io::Error) -> Error {
    Error::backend(ENGINE, format!("{action} {}", path.display()), e)
}

impl Engine {
    pub(crate) fn new(config: &FileConfig, max_lifetime: Duration) -> Self {
        Engine {
            root: config.path.clone(),
            fsync: config.fsync,
            lock_timeout: config.lock_timeout,
            max_lifetime,
        }
    }

    fn paths(&self, sid: &str) -> Option<SessionPaths> {
        SessionPaths::new(&self.root, sid)
    }

    fn paths_for_write(&self, sid: &str) -> Result<SessionPaths> {
        self.paths(sid)
            .ok_or_else(|| Error::InvalidId(sid.chars().take(80).collect()))
    }

    fn lock(&self, paths: &SessionPaths, wait: Duration) -> Result<Option<SessionLock>> {
        match SessionLock::acquire(&paths.lock, wait) {
            Ok(lock) => Ok(Some(lock)),
            Err(LockError::Busy) => Ok(None),
            Err(LockError::Io(e)) => Err(io_err("lock", &paths.lock, e)),
        }
    }

    /// Waits up to the configured timeout; a lock still held then is a backend error.
    fn lock_or_fail(&self, paths: &SessionPaths) -> Result<SessionLock> {
        self.lock(paths, self.lock_timeout)?.ok_or_else(|| {
            io_err(
                "lock",
                &paths.lock,
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "another request held the session lock for over {:?}; if writes are \
                         this slow, raise `lockTimeoutMs` in providerConfig",
                        self.lock_timeout
                    ),
                ),
            )
        })
    }

    fn read(&self, paths: &SessionPaths, sid: &str) -> Result<Stored> {
        fsio::read_stored(paths, sid, self.max_lifetime)
            .map_err(|e| io_err("read session file", &paths.file, e))
    }

    /// The live session `sid`, if there is one (one open and one read).
    pub(crate) fn load(&self, sid: &str) -> Result<Option<SessionData>> {
        let Some(paths) = self.paths(sid) else {
            return Ok(None);
        };
        Ok(match self.read(&paths, sid)? {
            Stored::Live(data, _) => Some(data),
            Stored::Absent | Stored::Expired => None,
        })
    }

    /// True when `sid` has a live session file (a stat, no read).
    pub(crate) fn exists(&self, sid: &str) -> Result<bool> {
        let Some(paths) = self.paths(sid) else {
            return Ok(false);
        };
        let meta =
            fsio::session_meta(&paths).map_err(|e| io_err("stat session file", &paths.file, e))?;
        Ok(match meta {
            Some(m) => {
                let mtime = m
                    .modified()
                    .map_err(|e| io_err("stat session file", &paths.file, e))?;
                !fsio::is_expired(mtime, self.max_lifetime, std::time::SystemTime::now())
            }
            None => false,
        })
    }

    fn write(&self, paths: &SessionPaths, sid: &str, data: &SessionData) -> Result<()> {
        let bytes = data.encode();
        if bytes.len() > MAX_FILE_BYTES {
            return Err(Error::TooLarge {
                engine: ENGINE.into(),
                sid: sid.to_owned(),
                size: bytes.len(),
                limit: MAX_FILE_BYTES,
            });
        }
        fsio::write_atomic(paths, &bytes, self.fsync)
            .map_err(|e| io_err("write session file", &paths.file, e))
    }

    /// Writes a release: merges its changes into the latest stored state under the lock.
    pub(crate) fn release(&self, job: ReleaseJob) -> Result<()> {
        let paths = self.paths_for_write(&job.sid)?;
        let present =
            || fsio::entry_present(&paths).map_err(|e| io_err("stat session file", &paths.file, e));
        // A session that is gone stays gone, and leaves no lock file behind either.
        if job.only_if_present && !present()? {
            return Ok(());
        }
        fsio::ensure_levels(&self.root, &paths)
            .map_err(|e| io_err("create session directory", &paths.shard, e))?;
        let lock = self.lock_or_fail(&paths)?;
        match self.read(&paths, &job.sid)? {
            Stored::Live(mut data, file) => match job.pending {
                Pending::Touch => {
                    fsio::touch(&file).map_err(|e| io_err("touch session file", &paths.file, e))?
                }
                Pending::Changes(changes) => {
                    drop(file);
                    changes.apply_to(&mut data);
                    self.write(&paths, &job.sid, &data)?;
                }
            },
            stale if job.only_if_present => {
                // Destroyed or expired meanwhile: never re-create it.
                if matches!(stale, Stored::Expired) {
                    fsio::remove_if_present(&paths.file)
                        .map_err(|e| io_err("remove expired session file", &paths.file, e))?;
                }
                lock.remove();
            }
            Stored::Absent | Stored::Expired => self.write(&paths, &job.sid, &job.data)?,
        }
        Ok(())
    }

    /// Moves session `old` to `new` (a rename) and returns its data; `None` when `old` is
    /// not live.
    pub(crate) fn regenerate(&self, old: &str, new: &str) -> Result<Option<SessionData>> {
        let new_paths = self.paths_for_write(new)?;
        let Some(old_paths) = self.paths(old) else {
            return Ok(None);
        };
        let present = fsio::entry_present(&old_paths)
            .map_err(|e| io_err("stat session file", &old_paths.file, e))?;
        if !present {
            return Ok(None);
        }
        let lock = self.lock_or_fail(&old_paths)?;
        let moved = match self.read(&old_paths, old)? {
            Stored::Live(data, file) => {
                drop(file);
                fsio::ensure_levels(&self.root, &new_paths)
                    .map_err(|e| io_err("create session directory", &new_paths.shard, e))?;
                std::fs::rename(&old_paths.file, &new_paths.file)
                    .map_err(|e| io_err("rename session file", &old_paths.file, e))?;
                // The session was just used: restart its lifetime at its new name.
                match fsio::open_regular(&new_paths.file) {
                    Ok(Some((file, _))) => {
                        if let Err(e) = fsio::touch(&file) {
                            tracing::warn!(engine = ENGINE, error = %e, "cannot touch a regenerated session file");
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(engine = ENGINE, error = %e, "cannot open a regenerated session file")
                    }
                }
                Some(data)
            }
            Stored::Expired => {
                fsio::remove_if_present(&old_paths.file)
                    .map_err(|e| io_err("remove expired session file", &old_paths.file, e))?;
                None
            }
            Stored::Absent => None,
        };
        lock.remove();
        Ok(moved)
    }

    /// Removes session `sid` and its lock file.
    pub(crate) fn destroy(&self, sid: &str) -> Result<()> {
        let Some(paths) = self.paths(sid) else {
            return Ok(());
        };
        let present =
            fsio::entry_present(&paths).map_err(|e| io_err("stat session file", &paths.file, e))?;
        if !present {
            return Ok(());
        }
        // Under the lock, so a release in progress cannot write the session back after it
        // was removed.
        let lock = self.lock_or_fail(&paths)?;
        fsio::remove_if_present(&paths.file)
            .map_err(|e| io_err("remove session file", &paths.file, e))?;
        lock.remove();
        Ok(())
    }

    /// Removes session `sid` if it is still expired and nobody holds its lock.
    pub(crate) fn remove_expired(&self, sid: &str) -> io::Result<bool> {
        let Some(paths) = self.paths(sid) else {
            return Ok(false);
        };
        let Ok(Some(lock)) = self.lock(&paths, Duration::ZERO) else {
            // Busy: a request is using it right now, so it is about to be refreshed anyway;
            // a later pass will collect it if not.
            return Ok(false);
        };
        let expired = match fsio::session_meta(&paths)? {
            Some(m) => fsio::is_expired(
                m.modified()?,
                self.max_lifetime,
                std::time::SystemTime::now(),
            ),
            None => false,
        };
        if expired {
            fsio::remove_if_present(&paths.file)?;
        }
        if expired || !fsio::entry_present(&paths)? {
            lock.remove();
        }
        Ok(expired)
    }

    /// Removes the lock file of `sid` when no session file goes with it and nobody holds it.
    pub(crate) fn remove_orphan_lock(&self, sid: &str) -> io::Result<bool> {
        let Some(paths) = self.paths(sid) else {
            return Ok(false);
        };
        if fsio::entry_present(&paths)? {
            return Ok(false);
        }
        let Ok(Some(lock)) = self.lock(&paths, Duration::ZERO) else {
            return Ok(false);
        };
        if fsio::entry_present(&paths)? {
            return Ok(false);
        }
        lock.remove();
        Ok(true)
    }
}
