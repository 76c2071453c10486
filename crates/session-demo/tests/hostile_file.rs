//! The demo on the file engine, over HTTP, with things planted in its session directory by
//! someone who can write into it: a symlink, a hard link, a FIFO, a directory and (as root)
//! another user's copy where a visitor's session file is, each pointing at or holding a
//! logged-in admin's session. None of them logs the visitor in, none gets a 5xx, nothing
//! outside the directory changes; directory levels that are symlinks get the write refused
//! (503, logged) and nothing written through them. The engine's own checks are in
//! session-file's `files.rs` and `planted.rs`.

mod support;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use axum::http::StatusCode;
use session_file::session_file_path;
use support::browser::SESSION_COOKIE;
use support::hostile::{self, Counted, Hostile};

/// `nobody` on Debian.
const NOBODY: u32 = 65534;

/// What can be planted at a session file's path.
#[derive(Debug, Clone, Copy)]
enum Plant {
    Symlink,
    HardLink,
    Fifo,
    Directory,
    OtherUsersCopy,
}

/// The file engine's directory of `hostile`.
fn sessions(hostile: &Hostile) -> PathBuf {
    hostile
        .dir
        .as_ref()
        .expect("the file engine's directory")
        .path()
        .join("sessions")
}

/// One entry of a directory tree, as `lstat` sees it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Node {
    path: PathBuf,
    kind: &'static str,
    mode: u32,
    owner: u32,
}

/// Every entry under `root` (symlinks not followed), sorted.
fn tree(root: &Path) -> Vec<Node> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir").flatten() {
            let meta = std::fs::symlink_metadata(entry.path()).expect("lstat");
            let kind = match meta.file_type() {
                t if t.is_symlink() => "symlink",
                t if t.is_dir() => "dir",
                t if t.is_file() => "file",
                _ => "other",
            };
            if kind == "dir" {
                todo.push(entry.path());
            }
            out.push(Node {
                path: entry.path(),
                kind,
                mode: meta.mode() & 0o7777,
                owner: meta.uid(),
            });
        }
    }
    out.sort();
    out
}

/// A file's bytes and modification time (its link count grows with a planted hard link).
fn fingerprint(path: &Path) -> (Vec<u8>, SystemTime) {
    let meta = std::fs::metadata(path).expect("stat");
    (
        std::fs::read(path).expect("read"),
        meta.modified().expect("mtime"),
    )
}

fn plant(kind: Plant, at: &Path, victim: &Path) -> bool {
    std::fs::remove_file(at).expect("remove the visitor's session file");
    match kind {
        Plant::Symlink => std::os::unix::fs::symlink(victim, at).expect("symlink"),
        Plant::HardLink => std::fs::hard_link(victim, at).expect("hard link"),
        Plant::Fifo => {
            let made = std::process::Command::new("mkfifo").arg(at).status();
            assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        }
        Plant::Directory => std::fs::create_dir(at).expect("mkdir"),
        Plant::OtherUsersCopy => {
            std::fs::copy(victim, at).expect("copy");
            set_deadline(at);
            if std::os::unix::fs::chown(at, Some(NOBODY), Some(NOBODY)).is_err() {
                return false;
            }
        }
    }
    true
}

/// A live deadline (the engine's modification time) an hour away.
fn set_deadline(path: &Path) {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open");
    file.set_modified(SystemTime::now() + Duration::from_secs(3600))
        .expect("set mtime");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_session_files_log_nobody_in() {
    let hostile = hostile::app(Counted::File, |_| {}).await;
    let dir = sessions(&hostile);
    let tmp = hostile.dir.as_ref().expect("dir").path();

    // An admin's live session, copied outside the directory: what the plants point at.
    let mut admin = hostile.app.served.browser();
    let login = admin.post_form("/login", "user=admin").await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    let admin_sid = admin.sid().expect("admin's id");
    let outside = tmp.join("outside");
    std::fs::create_dir(&outside).expect("mkdir outside");
    let victim = outside.join("victim");
    std::fs::copy(
        session_file_path(&dir, &admin_sid).expect("a path"),
        &victim,
    )
    .expect("copy");
    set_deadline(&victim);
    let before = (fingerprint(&victim), tree(&outside));
    let root = std::fs::metadata(tmp).expect("stat").uid() == 0;

    let mut planted = Vec::new();
    for kind in [
        Plant::Symlink,
        Plant::HardLink,
        Plant::Fifo,
        Plant::Directory,
        Plant::OtherUsersCopy,
    ] {
        let mut visitor = hostile.app.served.browser();
        assert_eq!(visitor.get("/").await.count(), 0);
        let sid = visitor.sid().expect("a session");
        let path = session_file_path(&dir, &sid).expect("a path");
        if !plant(kind, &path, &victim) {
            assert!(!root, "root could not chown");
            eprintln!("{kind:?}: skipped: giving a file to another user needs root");
            continue;
        }
        planted.push(path);
        let home = visitor.get("/").await;
        assert_eq!(home.status, StatusCode::OK, "{kind:?}: {}", home.body);
        assert_eq!((home.count(), home.user()), (0, None), "{kind:?}");
        assert_ne!(
            visitor.sid(),
            Some(sid.clone()),
            "{kind:?}: the id was kept"
        );
        // The visitor's new session works as usual.
        assert_eq!(visitor.get("/").await.count(), 1, "{kind:?}");
    }
    assert_eq!(admin.get("/").await.user().as_deref(), Some("admin"));
    assert_eq!(
        (fingerprint(&victim), tree(&outside)),
        before,
        "outside changed"
    );
    // Everything the engine made is private and its own; the plants are where they were
    // put (the engine neither followed nor removed them).
    let nodes = tree(&dir);
    for path in &planted {
        assert!(
            nodes.iter().any(|n| &n.path == path),
            "{} is gone",
            path.display()
        );
    }
    let uid = std::fs::metadata(tmp).expect("stat").uid();
    for node in nodes.iter().filter(|n| !planted.contains(&n.path)) {
        assert_eq!(node.owner, uid, "{node:?}");
        match node.kind {
            "dir" => assert_eq!(node.mode, 0o700, "{node:?}"),
            "file" => assert_eq!(node.mode, 0o600, "{node:?}"),
            _ => panic!("the engine made {node:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symlinked_directory_levels_get_the_write_refused() {
    let hostile = hostile::app(Counted::File, |_| {}).await;
    let dir = sessions(&hostile);
    let elsewhere = hostile.dir.as_ref().expect("dir").path().join("elsewhere");
    std::fs::create_dir(&elsewhere).expect("mkdir");
    // Every first level an id can map to (ids are hex) is a symlink out of the directory.
    for c in "0123456789abcdef".chars() {
        std::os::unix::fs::symlink(&elsewhere, dir.join(c.to_string())).expect("symlink");
    }
    hostile.log.reset();
    let mut visitor = hostile.app.served.browser();
    let reply = visitor.get("/").await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "the write through a symlink was not refused: {}",
        reply.body
    );
    assert!(reply.set_cookies(SESSION_COOKIE).is_empty());
    assert_eq!(
        tree(&elsewhere),
        Vec::new(),
        "written outside the directory"
    );
    // Once the links are gone, the same app serves again.
    for c in "0123456789abcdef".chars() {
        std::fs::remove_file(dir.join(c.to_string())).expect("unlink");
    }
    assert_eq!(visitor.get("/").await.status, StatusCode::OK);
    assert_eq!(visitor.get("/").await.count(), 1);
}
