//! The engine's operations as blocking functions (the provider runs them on tokio's
//! blocking pool). Every read-modify-write of a session happens under its lock.
//!
//! Operations that need a session's lock never wait for it: when another holder has it
//! they answer [`Attempt::Busy`] and the caller waits, asynchronously, before trying again
//! (see `crate::wait`), so a busy session never holds on to a blocking thread.

use std::io;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use session_core::{
    lifetime_of, ChangeSet, Error, Lifetime, Lifetimes, Released, Result, SessionData,
};

use crate::config::FileConfig;
use crate::fsio::{self, Stored, MAX_FILE_BYTES};
use crate::layout::SessionPaths;
use crate::lock::SessionLock;
use crate::ENGINE;

/// The outcome of one try at an operation that needs a session's lock.
#[derive(Debug)]
pub(crate) enum Attempt<T> {
    /// Done (or nothing to do), with this result.
    Done(T),
    /// Another holder has the session's lock: nothing was changed, try again later.
    Busy,
}

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
    pub(crate) data: std::sync::Arc<SessionData>,
    pub(crate) only_if_present: bool,
    /// The lifetime of the request's view: what a touch or a write of `data` gives.
    pub(crate) lifetime: Lifetime,
}

/// The engine: a directory and its rules.
#[derive(Debug)]
pub(crate) struct Engine {
    pub(crate) root: PathBuf,
    pub(crate) fsync: bool,
    pub(crate) lock_timeout: Duration,
    pub(crate) lifetimes: Lifetimes,
}

/// Wraps an I/O error with what was being done and to which path.
pub(crate) fn io_err(action: &str, path: &std::path::Path, e: io::Error) -> Error {
    Error::backend(
        ENGINE,
        format!("{action} {}", crate::layout::shown(path)),
        e,
    )
}

impl Engine {
    pub(crate) fn new(config: &FileConfig, lifetimes: Lifetimes) -> Self {
        Engine {
            root: config.path.clone(),
            fsync: config.fsync,
            lock_timeout: config.lock_timeout,
            lifetimes,
        }
    }

    fn paths(&self, sid: &str) -> Option<SessionPaths> {
        SessionPaths::new(&self.root, sid)
    }

    fn paths_for_write(&self, sid: &str) -> Result<SessionPaths> {
        self.paths(sid).ok_or_else(|| Error::invalid_id(sid))
    }

    /// One try at the session's lock; `None` when another holder has it.
    fn lock(&self, paths: &SessionPaths) -> Result<Option<SessionLock>> {
        SessionLock::try_acquire(&paths.lock).map_err(|e| io_err("lock", &paths.lock, e))
    }

    fn read(&self, paths: &SessionPaths, sid: &str) -> Result<Stored> {
        fsio::read_stored(paths, sid).map_err(|e| match e.into_inner() {
            // A newer format keeps its own error: the request fails, the file stays.
            Some(inner) => match inner.downcast::<Error>() {
                Ok(newer) => *newer,
                Err(other) => io_err("read session file", &paths.file, io::Error::other(other)),
            },
            None => io_err(
                "read session file",
                &paths.file,
                io::Error::other("I/O error"),
            ),
        })
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
                !fsio::is_past(mtime, SystemTime::now())
            }
            None => false,
        })
    }

    /// Writes `data` as session `sid`, ending `lifetime` from now; what the release reports.
    fn write(
        &self,
        paths: &SessionPaths,
        sid: &str,
        data: &SessionData,
        lifetime: &Lifetime,
    ) -> Result<Released> {
        let bytes = data.encode();
        if bytes.len() > MAX_FILE_BYTES {
            return Err(Error::TooLarge {
                engine: ENGINE.into(),
                session: session_core::id::Fingerprint::of(sid),
                size: bytes.len(),
                limit: MAX_FILE_BYTES,
            });
        }
        let expires = lifetime.expires_at();
        fsio::write_atomic(paths, &bytes, expires, self.fsync)
            .map_err(|e| io_err("write session file", &paths.file, e))?;
        Ok(Released::Stored { expires })
    }

    /// Writes a release: merges its changes into the latest stored state under the lock.
    pub(crate) fn release(&self, job: &ReleaseJob) -> Result<Attempt<Released>> {
        let paths = self.paths_for_write(&job.sid)?;
        let present =
            || fsio::entry_present(&paths).map_err(|e| io_err("stat session file", &paths.file, e));
        // A session that is gone stays gone, and leaves no lock file behind either: never
        // re-created by a release that may not create, nor by one that changed nothing.
        let may_create = !job.only_if_present && matches!(job.pending, Pending::Changes(_));
        if !may_create && !present()? {
            return Ok(Attempt::Done(Released::Gone));
        }
        fsio::ensure_levels(&self.root, &paths)
            .map_err(|e| io_err("create session directory", &paths.shard, e))?;
        let Some(lock) = self.lock(&paths)? else {
            return Ok(Attempt::Busy);
        };
        let released = match self.read(&paths, &job.sid)? {
            Stored::Live(mut data, file) => match &job.pending {
                Pending::Touch => {
                    let expires = job.lifetime.expires_at();
                    fsio::touch(&file, expires)
                        .map_err(|e| io_err("touch session file", &paths.file, e))?;
                    Released::Stored { expires }
                }
                Pending::Changes(changes) => {
                    drop(file);
                    changes.apply_to(&mut data);
                    let lifetime = lifetime_of(&self.lifetimes, &data);
                    self.write(&paths, &job.sid, &data, &lifetime)?
                }
            },
            stale if !may_create => {
                // Destroyed or expired meanwhile: never re-create it.
                if matches!(stale, Stored::Expired) {
                    fsio::remove_if_present(&paths.file)
                        .map_err(|e| io_err("remove expired session file", &paths.file, e))?;
                }
                lock.remove();
                Released::Gone
            }
            Stored::Absent | Stored::Expired => {
                self.write(&paths, &job.sid, &job.data, &job.lifetime)?
            }
        };
        Ok(Attempt::Done(released))
    }

    /// Moves session `old` to `new` (a rename, which keeps the file's deadline) and returns
    /// its data; `None` when `old` is not live.
    pub(crate) fn regenerate(&self, old: &str, new: &str) -> Result<Attempt<Option<SessionData>>> {
        let new_paths = self.paths_for_write(new)?;
        let Some(old_paths) = self.paths(old) else {
            return Ok(Attempt::Done(None));
        };
        let present = fsio::entry_present(&old_paths)
            .map_err(|e| io_err("stat session file", &old_paths.file, e))?;
        if !present {
            return Ok(Attempt::Done(None));
        }
        let Some(lock) = self.lock(&old_paths)? else {
            return Ok(Attempt::Busy);
        };
        let moved = match self.read(&old_paths, old)? {
            Stored::Live(data, file) => {
                drop(file);
                fsio::ensure_levels(&self.root, &new_paths)
                    .map_err(|e| io_err("create session directory", &new_paths.shard, e))?;
                std::fs::rename(&old_paths.file, &new_paths.file)
                    .map_err(|e| io_err("rename session file", &old_paths.file, e))?;
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
        Ok(Attempt::Done(moved))
    }

    /// Removes session `sid` and its lock file.
    pub(crate) fn destroy(&self, sid: &str) -> Result<Attempt<()>> {
        let Some(paths) = self.paths(sid) else {
            return Ok(Attempt::Done(()));
        };
        let present =
            fsio::entry_present(&paths).map_err(|e| io_err("stat session file", &paths.file, e))?;
        if !present {
            return Ok(Attempt::Done(()));
        }
        // Under the lock, so a release in progress cannot write the session back after it
        // was removed.
        let Some(lock) = self.lock(&paths)? else {
            return Ok(Attempt::Busy);
        };
        fsio::remove_if_present(&paths.file)
            .map_err(|e| io_err("remove session file", &paths.file, e))?;
        lock.remove();
        Ok(Attempt::Done(()))
    }

    /// Removes session `sid` if it is still expired and nobody holds its lock.
    pub(crate) fn remove_expired(&self, sid: &str) -> io::Result<bool> {
        let Some(paths) = self.paths(sid) else {
            return Ok(false);
        };
        let Ok(Some(lock)) = self.lock(&paths) else {
            // Busy: a request is using it right now, so it is about to be refreshed anyway;
            // a later pass will collect it if not.
            return Ok(false);
        };
        let expired = match fsio::session_meta(&paths)? {
            Some(m) => fsio::is_past(m.modified()?, SystemTime::now()),
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
        let Ok(Some(lock)) = self.lock(&paths) else {
            return Ok(false);
        };
        if fsio::entry_present(&paths)? {
            return Ok(false);
        }
        lock.remove();
        Ok(true)
    }
}
