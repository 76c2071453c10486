//! Walking the session directory: counting live sessions and collecting garbage.

use std::fs::Metadata;
use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime};

use session_core::id::is_safe_id;
use session_core::Result;

use crate::fsio::{self, is_older_than, is_past};
use crate::layout::{classify, Entry};
use crate::ops::{io_err, Engine};
use crate::ENGINE;

/// Temp and lock files younger than this are never collected, however short the max
/// lifetime: a temp file that young may be a write in progress.
const HELPER_FILE_GRACE: Duration = Duration::from_secs(60);

/// What one GC pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct GcReport {
    /// Expired session files removed.
    pub sessions: usize,
    /// Orphaned lock files removed.
    pub locks: usize,
    /// Leftover temporary files removed.
    pub temps: usize,
}

/// The real directories directly under `dir` whose name is one id character.
fn shard_dirs(dir: &Path) -> io::Result<Vec<(String, std::path::PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        // `metadata` does not follow symlinks: a symlinked level (or another user's
        // directory) is never walked into.
        if fsio::level_problem(&entry.metadata()?).is_some() {
            continue;
        }
        if let Some(name) = entry.file_name().to_str() {
            if name.len() == 1 && is_safe_id(name) {
                out.push((name.to_owned(), entry.path()));
            }
        }
    }
    Ok(out)
}

/// Calls `f(entry, path, metadata)` for every file in every `root/s/i` shard. Errors below
/// the root (a shard removed meanwhile) are logged and skipped.
fn walk(root: &Path, mut f: impl FnMut(Entry<'_>, &Path, &Metadata)) -> io::Result<()> {
    for (s, level1) in shard_dirs(root)? {
        let level2 = match shard_dirs(&level1) {
            Ok(dirs) => dirs,
            Err(e) => {
                tracing::debug!(engine = ENGINE, path = %level1.display(), error = %e, "skipping a session directory");
                continue;
            }
        };
        for (i, shard) in level2 {
            let entries = match std::fs::read_dir(&shard) {
                Ok(entries) => entries,
                Err(e) => {
                    tracing::debug!(engine = ENGINE, path = %shard.display(), error = %e, "skipping a session directory");
                    continue;
                }
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(name) = name.to_str() else { continue };
                // `DirEntry::metadata` does not follow symlinks.
                let Ok(meta) = entry.metadata() else { continue };
                f(classify((&s, &i), name), &entry.path(), &meta);
            }
        }
    }
    Ok(())
}

fn modified(meta: &Metadata) -> Option<SystemTime> {
    meta.modified().ok()
}

impl Engine {
    /// The number of live (unexpired) session files.
    pub(crate) fn count(&self) -> Result<usize> {
        let now = SystemTime::now();
        let mut live = 0;
        walk(&self.root, |entry, _, meta| {
            if let Entry::Session(_) = entry {
                if fsio::distrust(meta).is_none()
                    && modified(meta).is_some_and(|m| !is_past(m, now))
                {
                    live += 1;
                }
            }
        })
        .map_err(|e| io_err("list session directory", &self.root, e))?;
        Ok(live)
    }

    /// Removes expired sessions, orphaned lock files and leftover temp files.
    pub(crate) fn collect_garbage(&self) -> Result<GcReport> {
        let now = SystemTime::now();
        let helper_age = self.lifetimes.max_lifetime.max(HELPER_FILE_GRACE);
        let mut report = GcReport::default();
        let mut failures = 0usize;
        walk(&self.root, |entry, path, meta| {
            let Some(mtime) = modified(meta) else { return };
            let outcome = match entry {
                Entry::Session(sid) if meta.is_file() && is_past(mtime, now) => {
                    self.remove_expired(sid).map(|gone| report.sessions += usize::from(gone))
                }
                Entry::Lock(sid) if is_older_than(mtime, helper_age, now) => {
                    self.remove_orphan_lock(sid).map(|gone| report.locks += usize::from(gone))
                }
                Entry::Temp if meta.is_file() && is_older_than(mtime, helper_age, now) => {
                    fsio::remove_if_present(path).map(|()| report.temps += 1)
                }
                _ => Ok(()),
            };
            if let Err(e) = outcome {
                failures += 1;
                tracing::warn!(engine = ENGINE, path = %crate::layout::shown(path), error = %e, "session GC could not remove a file");
            }
        })
        .map_err(|e| io_err("list session directory", &self.root, e))?;
        tracing::debug!(engine = ENGINE, ?report, failures, "session GC pass done");
        Ok(report)
    }
}
