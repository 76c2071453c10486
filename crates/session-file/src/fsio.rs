//! Blocking file primitives, each careful about one thing: never following a symlink,
//! never leaving a torn file, never reading without bound.

use std::fs::{DirBuilder, File, Metadata, OpenOptions, Permissions};
use std::io::{self, Read, Write as _};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, SystemTime};

use session_core::SessionData;

use crate::layout::{SessionPaths, TEMP_SUFFIX};
use crate::ENGINE;

/// The largest session file this engine writes or reads (16 MiB). A larger file found on
/// disk is reported and read as an empty session instead of being loaded into memory.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

/// What the file of a session holds right now.
#[derive(Debug)]
pub(crate) enum Stored {
    /// No session file (or only something that is not one, such as a symlink).
    Absent,
    /// A session file whose deadline (its modification time) has passed.
    Expired,
    /// A live session, with its file still open for a cheap touch.
    Live(SessionData, File),
}

/// True when a session file whose modification time is `deadline` has expired: the engine
/// sets a session file's modification time to the moment the session ends.
pub(crate) fn is_past(deadline: SystemTime, now: SystemTime) -> bool {
    deadline <= now
}

/// True when a helper file (lock, temp) last modified at `mtime` is older than `age`.
pub(crate) fn is_older_than(mtime: SystemTime, age: Duration, now: SystemTime) -> bool {
    // A modification time in the future (clock steps) counts as fresh rather than old.
    now.duration_since(mtime).is_ok_and(|elapsed| elapsed > age)
}

/// Errors that mean "there is nothing usable at this path".
fn means_absent(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound
        || matches!(
            e.raw_os_error(),
            // ELOOP (EMLINK on some BSDs): the last component is a symlink and O_NOFOLLOW
            // refused it. ENOTDIR: a directory level is a plain file.
            Some(libc::ELOOP) | Some(libc::EMLINK) | Some(libc::ENOTDIR)
        )
}

/// The effective user id of this process: the owner of every file and directory level the
/// engine makes.
pub(crate) fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Why the entry at a session file's path is not a session file this engine wrote, if it
/// is not: the engine only ever renames fresh 0600 files of its own into place, so anything
/// else was planted (or left by another program) and is never read, touched or counted.
/// A hard link would let a session read, and its touch change, a file elsewhere; a file of
/// another user (who could write into the directory) could carry any session data.
pub(crate) fn distrust(meta: &Metadata) -> Option<&'static str> {
    if !meta.is_file() {
        Some("is not a regular file (symlinks are not followed)")
    } else if meta.nlink() != 1 {
        Some("has other hard links")
    } else if meta.uid() != euid() {
        Some("is owned by another user")
    } else {
        None
    }
}

/// Why a directory level (`dir/s` or `dir/s/i`) is not one this engine can trust, if it is
/// not: a symlink or a file, or a directory of another user, who could swap or plant
/// sessions in it.
pub(crate) fn level_problem(meta: &Metadata) -> Option<&'static str> {
    if !meta.is_dir() {
        Some("is not a directory (symlinks are not followed)")
    } else if meta.uid() != euid() {
        Some("is a directory owned by another user")
    } else {
        None
    }
}

/// True when both directory levels of `paths` exist as real directories of this process's
/// user. A level that is a symlink, a file or another user's directory is reported and
/// makes the session unreachable: nothing is looked up through it.
pub(crate) fn levels_ok(paths: &SessionPaths) -> io::Result<bool> {
    for level in paths.levels() {
        match std::fs::symlink_metadata(level) {
            Ok(m) => {
                if let Some(why) = level_problem(&m) {
                    tracing::warn!(engine = ENGINE, path = %level.display(),
                        "session directory level {why}; ignoring it");
                    return Ok(false);
                }
            }
            Err(e) if means_absent(&e) => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Creates the directory levels of `paths` (mode 0700), and `root` itself if it vanished.
pub(crate) fn ensure_levels(root: &Path, paths: &SessionPaths) -> io::Result<()> {
    for level in paths.levels() {
        match std::fs::symlink_metadata(level) {
            Ok(m) => match level_problem(&m) {
                None => continue,
                Some(why) => return Err(untrusted_level(level, why)),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let created = match dir_builder(false).create(level) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // The session directory itself was removed (a tmp cleaner, an operator).
                dir_builder(true).create(root)?;
                dir_builder(false).create(level)
            }
            other => other,
        };
        match created {
            Ok(()) => {}
            // Another writer created it first: fine if it is a real directory.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if let Some(why) = level_problem(&std::fs::symlink_metadata(level)?) {
                    return Err(untrusted_level(level, why));
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The error for a level nothing may be written through.
fn untrusted_level(level: &Path, why: &str) -> io::Error {
    io::Error::other(format!(
        "{} {why}; nothing is written through it: remove it",
        level.display()
    ))
}

/// A directory builder for mode 0700.
pub(crate) fn dir_builder(recursive: bool) -> DirBuilder {
    let mut builder = DirBuilder::new();
    builder.recursive(recursive).mode(0o700);
    builder
}

/// Opens a session file for reading without following a symlink and without blocking on
/// a FIFO planted in its place. `None` when there is no regular file at `path`.
pub(crate) fn open_regular(path: &Path) -> io::Result<Option<(File, Metadata)>> {
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if means_absent(&e) => {
            if e.kind() != io::ErrorKind::NotFound {
                tracing::warn!(engine = ENGINE, path = %crate::layout::shown(path), error = %e,
                    "session path is not a regular file (symlinks are not followed); treating the session as absent");
            }
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if let Some(why) = distrust(&meta) {
        tracing::warn!(engine = ENGINE, path = %crate::layout::shown(path),
            "session path {why}; treating the session as absent");
        return Ok(None);
    }
    Ok(Some((file, meta)))
}

/// Reads the session at `paths`: absent, expired, or live with its (possibly empty) data.
///
/// Unreadable contents (corrupt, foreign, oversized) are reported and read as an empty live
/// session, never an error; a newer format version is an error (carrying
/// [`session_core::Error::NewerFormat`]) so that the file is never overwritten.
pub(crate) fn read_stored(paths: &SessionPaths, sid: &str) -> io::Result<Stored> {
    if !levels_ok(paths)? {
        return Ok(Stored::Absent);
    }
    let Some((mut file, meta)) = open_regular(&paths.file)? else {
        return Ok(Stored::Absent);
    };
    if is_past(meta.modified()?, SystemTime::now()) {
        return Ok(Stored::Expired);
    }
    let mut bytes =
        Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0).min(MAX_FILE_BYTES));
    // Bounded even if the file grows between the stat and the read.
    (&mut file)
        .take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    let data = if bytes.len() > MAX_FILE_BYTES {
        let session = session_core::id::Fingerprint::of(sid);
        tracing::error!(
            engine = ENGINE,
            %session,
            limit = MAX_FILE_BYTES,
            "session file is larger than the limit; treating it as empty"
        );
        SessionData::new()
    } else {
        SessionData::decode_stored(&bytes, ENGINE, sid).map_err(io::Error::other)?
    };
    Ok(Stored::Live(data, file))
}

/// Moves a session file's deadline (its modification time) without rewriting it.
pub(crate) fn touch(file: &File, deadline: SystemTime) -> io::Result<()> {
    file.set_modified(deadline)
}

/// Writes `bytes` as the session file of `paths`, ending at `deadline`: a new 0600 file in
/// the same directory, renamed over the old one, so readers see the old or the new
/// session, never a mix.
pub(crate) fn write_atomic(
    paths: &SessionPaths,
    bytes: &[u8],
    deadline: SystemTime,
    fsync: bool,
) -> io::Result<()> {
    let mut temp = tempfile::Builder::new()
        .prefix(&paths.temp_prefix)
        .suffix(TEMP_SUFFIX)
        .permissions(Permissions::from_mode(0o600))
        .tempfile_in(&paths.shard)?;
    temp.write_all(bytes)?;
    temp.as_file().set_modified(deadline)?;
    if fsync {
        temp.as_file().sync_all()?;
    }
    // On failure the temp file is removed when `PersistError`'s file is dropped.
    temp.persist(&paths.file).map_err(|e| e.error)?;
    if fsync {
        // Makes the rename itself durable.
        File::open(&paths.shard)?.sync_all()?;
    }
    Ok(())
}

/// Removes a file, treating "already gone" as success.
pub(crate) fn remove_if_present(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// True when anything (file, symlink, …) sits at the session's file path, reached through
/// real directories only.
pub(crate) fn entry_present(paths: &SessionPaths) -> io::Result<bool> {
    if !levels_ok(paths)? {
        return Ok(false);
    }
    match std::fs::symlink_metadata(&paths.file) {
        Ok(_) => Ok(true),
        Err(e) if means_absent(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The metadata of the session file itself (never a symlink's target); `None` when there
/// is no session file the engine trusts (see [`distrust`]).
pub(crate) fn session_meta(paths: &SessionPaths) -> io::Result<Option<Metadata>> {
    if !levels_ok(paths)? {
        return Ok(None);
    }
    match std::fs::symlink_metadata(&paths.file) {
        Ok(m) if distrust(&m).is_none() => Ok(Some(m)),
        Ok(_) => Ok(None),
        Err(e) if means_absent(&e) => Ok(None),
        Err(e) => Err(e),
    }
}
