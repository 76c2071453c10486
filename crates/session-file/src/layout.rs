//! Where things live in the session directory: beego's `dir/s/i/sid` layout, and the names
//! of the lock and temporary files kept beside each session.
//!
//! Session ids never contain a `.` (see [`session_core::id::is_safe_id`]), so every helper
//! file name carries one and can never be mistaken for, or collide with, a session.

use std::path::{Path, PathBuf};

use session_core::id::is_safe_id;

/// The suffix of a session's lock file: `dir/s/i/sid.lock`.
pub(crate) const LOCK_SUFFIX: &str = ".lock";
/// The suffix of a temporary file that a write renames into place.
pub(crate) const TEMP_SUFFIX: &str = ".tmp";

/// The file that holds session `sid` under `dir`: `dir/s/i/sid`, where `s` and `i` are the
/// first two characters of the id (beego's layout, so a directory written by beego's file
/// engine is laid out the same way).
///
/// Returns `None` for ids that could reach outside `dir` or are too short for the layout:
/// only ids of 2 to 64 characters from `[A-Za-z0-9_-]` are accepted.
///
/// ```
/// use std::path::Path;
/// use session_file::session_file_path;
///
/// let path = session_file_path(Path::new("/var/sessions"), "ab12cd").unwrap();
/// assert_eq!(path, Path::new("/var/sessions/a/b/ab12cd"));
/// assert!(session_file_path(Path::new("/var/sessions"), "../etc/passwd").is_none());
/// ```
pub fn session_file_path(dir: &Path, sid: &str) -> Option<PathBuf> {
    SessionPaths::new(dir, sid).map(|p| p.file)
}

/// Every path that belongs to one session.
#[derive(Debug, Clone)]
pub(crate) struct SessionPaths {
    /// `dir/s/i`.
    pub(crate) shard: PathBuf,
    /// `dir/s/i/sid`.
    pub(crate) file: PathBuf,
    /// `dir/s/i/sid.lock`.
    pub(crate) lock: PathBuf,
    /// The temp-file name prefix, `.sid.`; a random part and [`TEMP_SUFFIX`] follow.
    pub(crate) temp_prefix: String,
}

impl SessionPaths {
    /// The paths of `sid` under `dir`, or `None` when the id is not safe to put in a path.
    pub(crate) fn new(dir: &Path, sid: &str) -> Option<Self> {
        // Second line of defence: the manager has validated the id already, but nothing
        // built from an unchecked string may ever reach the file system.
        if sid.len() < 2 || !is_safe_id(sid) {
            return None;
        }
        // Safe ids are ASCII, so byte slicing cannot split a character.
        let shard = dir.join(&sid[..1]).join(&sid[1..2]);
        Some(SessionPaths {
            file: shard.join(sid),
            lock: shard.join(format!("{sid}{LOCK_SUFFIX}")),
            temp_prefix: format!(".{sid}."),
            shard,
        })
    }

    /// The two directory levels below the root, outermost first.
    pub(crate) fn levels(&self) -> [&Path; 2] {
        // `shard` is always `dir/s/i`, so it has a parent.
        [self.shard.parent().unwrap_or(&self.shard), &self.shard]
    }
}

/// What a file found in a shard directory is, judged by its name alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry<'a> {
    /// A session file, named by its id.
    Session(&'a str),
    /// A session's lock file; holds the session id.
    Lock(&'a str),
    /// A temporary file left by a write (normally renamed away within milliseconds).
    Temp,
    /// Anything else: left alone.
    Other,
}

/// Classifies a file named `name` found in the shard directory `s/i`.
///
/// Session and lock files count only when they sit in the shard their id maps to, so a
/// stray file elsewhere is never taken for a session that no lookup could reach.
pub(crate) fn classify<'a>(shard: (&str, &str), name: &'a str) -> Entry<'a> {
    let in_shard = |sid: &str| {
        sid.len() >= 2 && is_safe_id(sid) && sid[..1] == *shard.0 && sid[1..2] == *shard.1
    };
    if let Some(sid) = name.strip_suffix(LOCK_SUFFIX) {
        return if in_shard(sid) {
            Entry::Lock(sid)
        } else {
            Entry::Other
        };
    }
    if name.starts_with('.') && name.ends_with(TEMP_SUFFIX) {
        return Entry::Temp;
    }
    if in_shard(name) {
        Entry::Session(name)
    } else {
        Entry::Other
    }
}

/// A path as logs and errors show it: a session's file (or its lock or temp file) is
/// named by the session id, a credential, so its name is replaced by the id's fingerprint.
/// The one-character directory levels stay (they give away two characters of an id).
pub(crate) fn shown(path: &Path) -> String {
    match (path.parent(), path.file_name().and_then(|n| n.to_str())) {
        (Some(parent), Some(name)) if name.len() > 2 => {
            let session = session_core::id::Fingerprint::of(name);
            format!("{}/<session {session}>", parent.display())
        }
        _ => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_beegos_two_level_layout() {
        let p = SessionPaths::new(Path::new("/s"), "0f1e2d3c").unwrap();
        assert_eq!(p.shard, Path::new("/s/0/f"));
        assert_eq!(p.file, Path::new("/s/0/f/0f1e2d3c"));
        assert_eq!(p.lock, Path::new("/s/0/f/0f1e2d3c.lock"));
        assert_eq!(p.temp_prefix, ".0f1e2d3c.");
        assert_eq!(p.levels(), [Path::new("/s/0"), Path::new("/s/0/f")]);
        assert!(SessionPaths::new(Path::new("/s"), "ab").is_some());
    }

    #[test]
    fn hostile_ids_never_become_paths() {
        let long = "a".repeat(65);
        for bad in [
            "",
            "a",
            "..",
            "../x",
            "a/b",
            "a\\b",
            "/etc",
            ".hidden",
            "ab.lock",
            "a b",
            "ab\0",
            "é1",
            "ab\n",
            long.as_str(),
        ] {
            assert!(SessionPaths::new(Path::new("/s"), bad).is_none(), "{bad:?}");
            assert!(session_file_path(Path::new("/s"), bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn every_path_stays_inside_the_directory() {
        let root = Path::new("/srv/sess");
        let p = SessionPaths::new(root, "--__AZaz09").unwrap();
        let depth = root.components().count();
        assert_eq!(p.shard.components().count(), depth + 2);
        for path in [&p.file, &p.lock] {
            assert!(path.starts_with(&p.shard), "{path:?}");
            assert_eq!(path.components().count(), depth + 3, "{path:?}");
        }
    }

    #[test]
    fn classifies_shard_entries_by_name() {
        assert_eq!(classify(("a", "b"), "abcd"), Entry::Session("abcd"));
        assert_eq!(classify(("a", "b"), "abcd.lock"), Entry::Lock("abcd"));
        assert_eq!(classify(("a", "b"), ".abcd.x1y2.tmp"), Entry::Temp);
        // Wrong shard, unsafe or foreign names are left alone.
        assert_eq!(classify(("a", "c"), "abcd"), Entry::Other);
        assert_eq!(classify(("a", "c"), "abcd.lock"), Entry::Other);
        assert_eq!(classify(("a", "b"), "ab.cd"), Entry::Other);
        assert_eq!(classify(("a", "b"), "notes.txt"), Entry::Other);
    }
}
