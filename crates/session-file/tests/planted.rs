//! Things planted in the session directory by someone else (a co-tenant who can write into
//! it, another program): hard links, FIFOs, files and directory levels of another user, a
//! directory other users can write into. The engine reads none of them as a session, never
//! hangs on them, never changes what they point at, and never writes outside its
//! directory. (Symlinks and hostile ids are in `files.rs`.)

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use common::*;
use session_core::http::HeaderMap;
use session_core::{Provider, StoreExt};

/// `nobody` on Debian: the other user files are given to.
const NOBODY: u32 = 65534;

/// Every test is bounded: a FIFO that blocked an open would otherwise hang it.
const BOUND: Duration = Duration::from_secs(10);

/// What a file outside the session directory looks like: its bytes, modification time,
/// mode and link count.
fn fingerprint(path: &Path) -> (Vec<u8>, SystemTime, u32, u64) {
    let meta = std::fs::metadata(path).unwrap();
    (
        std::fs::read(path).unwrap(),
        meta.modified().unwrap(),
        meta.mode(),
        meta.nlink(),
    )
}

/// An outside file holding a valid stored session with `secret = 42`, copied from one the
/// engine wrote.
async fn outside_session(p: &session_file::FileProvider, dir: &Path, outside: &Path) -> PathBuf {
    let source = sid(0x99);
    put(p, &source, &[("secret", 42)]).await;
    std::fs::create_dir_all(outside).unwrap();
    let copy = outside.join("victim");
    std::fs::copy(file_of(dir, &source), &copy).unwrap();
    // A live deadline (the modification time), as the engine gave the original.
    ends_in(&copy, HOUR);
    p.session_destroy(&cx(), &source).await.unwrap();
    copy
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo (coreutils)");
    assert!(status.success(), "mkfifo {}", path.display());
}

fn make_levels(dir: &Path, id: &str) {
    std::fs::create_dir_all(file_of(dir, id).parent().unwrap()).unwrap();
}

#[tokio::test]
async fn a_hard_link_is_not_read_touched_or_counted() {
    tokio::time::timeout(BOUND, async {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("s");
        let p = provider(&dir, HOUR).await;
        let victim = outside_session(&p, &dir, &tmp.path().join("outside")).await;
        let before = fingerprint(&victim);

        // A hard link to the outside session where session `id` would be.
        let id = sid(51);
        make_levels(&dir, &id);
        std::fs::hard_link(&victim, file_of(&dir, &id)).unwrap();
        assert!(p.session_load(&cx(), &id).await.unwrap().is_none());
        assert!(!p.session_exist(&cx(), &id).await.unwrap());
        assert_eq!(p.session_all().await.unwrap(), 0);
        // Writing the session replaces the link; the outside file keeps its bytes and time.
        put(&p, &id, &[("mine", 1)]).await;
        assert_eq!(value(&p, &id, "secret").await, Some(None));
        assert_eq!(value(&p, &id, "mine").await, Some(Some(1)));
        let after = fingerprint(&victim);
        assert_eq!(
            (&after.0, after.1, after.2),
            (&before.0, before.1, before.2)
        );

        // A hard link where a session's lock file would be: locking works, removing the
        // lock unlinks the link only.
        let locked = sid(52);
        put(&p, &locked, &[("a", 1)]).await;
        let lock = file_of(&dir, &locked).with_file_name(format!("{locked}.lock"));
        std::fs::remove_file(&lock).unwrap();
        let target = tmp.path().join("outside/lock-target");
        std::fs::write(&target, b"keep").unwrap();
        std::fs::hard_link(&target, &lock).unwrap();
        let store = p.session_load(&cx(), &locked).await.unwrap().unwrap();
        store.set("b", &2).await.unwrap();
        store.session_release(&mut HeaderMap::new()).await.unwrap();
        p.session_destroy(&cx(), &locked).await.unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
        assert!(!lock.exists());
    })
    .await
    .expect("no hang");
}

#[tokio::test]
async fn fifos_at_session_and_lock_paths_never_hang() {
    tokio::time::timeout(BOUND, async {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("s");
        let p = provider(&dir, HOUR).await;
        let id = sid(60);
        make_levels(&dir, &id);
        mkfifo(&file_of(&dir, &id));
        assert!(p.session_load(&cx(), &id).await.unwrap().is_none());
        assert!(!p.session_exist(&cx(), &id).await.unwrap());
        assert_eq!(p.session_all().await.unwrap(), 0);
        put(&p, &id, &[("a", 1)]).await;
        assert_eq!(value(&p, &id, "a").await, Some(Some(1)));

        // A FIFO as a live session's lock file: opened without blocking and locked like
        // a file; the session keeps working and the FIFO goes with the session.
        let locked = sid(61);
        put(&p, &locked, &[("a", 1)]).await;
        let lock = file_of(&dir, &locked).with_file_name(format!("{locked}.lock"));
        std::fs::remove_file(&lock).unwrap();
        mkfifo(&lock);
        let store = p.session_load(&cx(), &locked).await.unwrap().unwrap();
        store.set("b", &2).await.unwrap();
        store.session_release(&mut HeaderMap::new()).await.unwrap();
        assert_eq!(value(&p, &locked, "b").await, Some(Some(2)));
        p.session_destroy(&cx(), &locked).await.unwrap();
        assert!(std::fs::symlink_metadata(&lock).is_err(), "the FIFO stayed");
    })
    .await
    .expect("a FIFO made the engine hang");
}

/// True when the tests run as root (as in CI), so they can give files to another user.
fn running_as_root(tmp: &Path) -> bool {
    std::fs::metadata(tmp).unwrap().uid() == 0
}

#[tokio::test]
async fn files_and_levels_of_another_user_are_not_trusted() {
    let tmp = tempfile::tempdir().unwrap();
    if !running_as_root(tmp.path()) {
        eprintln!(
            "files_and_levels_of_another_user_are_not_trusted: skipped: needs root to give \
             files to another user (CI runs as root)"
        );
        return;
    }
    let dir = tmp.path().join("s");
    let p = provider(&dir, HOUR).await;
    // A valid session file, given to another user.
    let id = sid(70);
    put(&p, &id, &[("secret", 42)]).await;
    std::os::unix::fs::chown(file_of(&dir, &id), Some(NOBODY), Some(NOBODY)).unwrap();
    assert!(p.session_load(&cx(), &id).await.unwrap().is_none());
    assert!(!p.session_exist(&cx(), &id).await.unwrap());
    assert_eq!(p.session_all().await.unwrap(), 0);
    put(&p, &id, &[("mine", 1)]).await;
    assert_eq!(value(&p, &id, "secret").await, Some(None));
    let meta = std::fs::metadata(file_of(&dir, &id)).unwrap();
    assert_eq!((meta.uid(), meta.mode() & 0o777), (0, 0o600));

    // A directory level of another user, open to all, holding a session of theirs: not
    // read through, not written through.
    let planted = format!("zz{}", &sid(71)[2..]);
    let level = dir.join("z");
    std::fs::create_dir_all(level.join("z")).unwrap();
    std::fs::copy(file_of(&dir, &id), level.join("z").join(&planted)).unwrap();
    ends_in(&level.join("z").join(&planted), HOUR);
    for path in [&level, &level.join("z"), &level.join("z").join(&planted)] {
        std::os::unix::fs::chown(path, Some(NOBODY), Some(NOBODY)).unwrap();
    }
    std::fs::set_permissions(&level, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert!(p.session_load(&cx(), &planted).await.unwrap().is_none());
    let fresh = format!("zz{}", &sid(72)[2..]);
    let store = p.session_create(&cx(), &fresh).await.unwrap();
    store.set("a", &1).await.unwrap();
    let err = store
        .session_release(&mut HeaderMap::new())
        .await
        .unwrap_err();
    assert!(err.is_backend(), "{err}");
    assert!(err.to_string().contains("owned by another user"), "{err}");
    let mut names: Vec<_> = std::fs::read_dir(level.join("z"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [planted.as_str()],
        "the engine wrote into their directory"
    );
    assert_eq!(p.session_all().await.unwrap(), 1);
}

/// The `tracing` output of this test binary.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    Arc::clone(LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&logs);
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::WARN)
            .with_writer(move || Sink(Arc::clone(&sink)))
            .finish();
        // Global, as the engine logs from tokio's blocking threads.
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        logs
    }))
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_directory_others_can_write_into_is_reported_at_start() {
    let logs = captured_logs();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("shared");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let p = provider(&dir, HOUR).await;
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    let line = text
        .lines()
        .find(|line| line.contains(&dir.display().to_string()))
        .unwrap_or_else(|| panic!("no warning about {}: {text}", dir.display()));
    assert!(line.contains("writable by other users"), "{line}");
    assert!(line.contains("chmod 700"), "{line}");
    // It still works, and what it makes is private.
    let id = sid(80);
    put(&p, &id, &[("a", 1)]).await;
    let file = file_of(&dir, &id);
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(file.parent().unwrap()), 0o700);

    // A private directory is not reported.
    let private = tmp.path().join("private");
    provider(&private, HOUR).await;
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(!text.contains(&private.display().to_string()), "{text}");
}
