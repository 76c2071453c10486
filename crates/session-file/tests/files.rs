//! What the engine does on disk: layout, permissions, symlinks, atomic writes, corrupt
//! files, expiry by modification time, regenerate, destroy and GC.

mod common;

use std::os::unix::fs::MetadataExt;
use std::time::Duration;

use common::*;
use session_core::http::HeaderMap;
use session_core::{Error, Lifetimes, Manager, ManagerConfig, Provider, StoreExt};
use session_file::FileProvider;

#[tokio::test]
async fn files_are_0600_and_directories_0700_in_beegos_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("created/by/engine");
    let p = provider(&dir, HOUR).await;
    assert!(p.dir().is_absolute());
    assert_eq!(mode(&dir), 0o700);
    let id = sid(0xab);
    put(&p, &id, &[("a", 1)]).await;
    let file = dir.join(&id[..1]).join(&id[1..2]).join(&id);
    assert_eq!(file, file_of(&dir, &id));
    assert!(file.is_file());
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(file.parent().unwrap()), 0o700);
    assert_eq!(mode(file.parent().unwrap().parent().unwrap()), 0o700);
    assert_eq!(
        std::fs::read(&file).unwrap()[..2],
        [session_core::FORMAT_MAGIC, session_core::FORMAT_VERSION]
    );
}

#[tokio::test]
async fn writes_rename_a_new_file_into_place_and_leave_no_temp_files() {
    let tmp = tempfile::tempdir().unwrap();
    let p = provider(tmp.path(), HOUR).await;
    let id = sid(1);
    put(&p, &id, &[("n", 0)]).await;
    let file = file_of(tmp.path(), &id);
    let mut inodes = vec![std::fs::metadata(&file).unwrap().ino()];
    for n in 1..5 {
        let store = p.session_load(&cx(), &id).await.unwrap().unwrap();
        store.set("n", &n).await.unwrap();
        store.session_release(&mut HeaderMap::new()).await.unwrap();
        inodes.push(std::fs::metadata(&file).unwrap().ino());
    }
    // Every write is a new file (a rename), never an in-place rewrite.
    let mut distinct = inodes.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), inodes.len(), "{inodes:?}");
    assert_eq!(value(&p, &id, "n").await, Some(Some(4)));
    assert_eq!(siblings(&file), vec![id.clone(), format!("{id}.lock")]);
}

#[tokio::test]
async fn an_unchanged_release_only_touches_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let p = provider(tmp.path(), HOUR).await;
    let id = sid(2);
    put(&p, &id, &[("a", 1)]).await;
    let file = file_of(tmp.path(), &id);
    age(&file, Duration::from_secs(600));
    let before = std::fs::metadata(&file).unwrap();
    let store = p.session_load(&cx(), &id).await.unwrap().unwrap();
    store.session_release(&mut HeaderMap::new()).await.unwrap();
    let after = std::fs::metadata(&file).unwrap();
    assert_eq!(after.ino(), before.ino(), "a touch rewrote the file");
    assert!(after.modified().unwrap() > before.modified().unwrap() + Duration::from_secs(500));
}

#[tokio::test]
async fn a_file_older_than_the_lifetime_is_expired_before_any_gc() {
    let tmp = tempfile::tempdir().unwrap();
    let p = provider(tmp.path(), Duration::from_secs(60)).await;
    let id = sid(3);
    put(&p, &id, &[("a", 1)]).await;
    assert!(p.session_exist(&cx(), &id).await.unwrap());
    age(&file_of(tmp.path(), &id), Duration::from_secs(61));
    assert!(!p.session_exist(&cx(), &id).await.unwrap());
    assert!(p.session_load(&cx(), &id).await.unwrap().is_none());
    let read = p.session_read(&cx(), &id).await.unwrap();
    assert!(read.keys().await.unwrap().is_empty());
    assert_eq!(p.session_all().await.unwrap(), 0);
}

#[tokio::test]
async fn release_if_present_never_recreates_a_destroyed_or_expired_session() {
    let tmp = tempfile::tempdir().unwrap();
    let p = provider(tmp.path(), Duration::from_secs(60)).await;
    for (n, expire) in [(4, false), (5, true)] {
        let id = sid(n);
        put(&p, &id, &[("a", 1)]).await;
        let store = p.session_load(&cx(), &id).await.unwrap().unwrap();
        store.set("late", &2).await.unwrap();
        let file = file_of(tmp.path(), &id);
        if expire {
            age(&file, Duration::from_secs(120));
        } else {
            p.session_destroy(&cx(), &id).await.unwrap();
        }
        store
            .session_release_if_present(&mut HeaderMap::new())
            .await
            .unwrap();
        assert!(!file.exists(), "expire={expire}: the session came back");
        assert!(
            siblings(&file).is_empty(),
            "expire={expire}: {:?}",
            siblings(&file)
        );
        // A plain release may store it again (a new session with the request's data).
        store.session_release(&mut HeaderMap::new()).await.unwrap();
        assert_eq!(value(&p, &id, "late").await, Some(Some(2)));
    }
}

#[tokio::test]
async fn a_symlinked_session_file_is_never_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    let p = provider(&dir, HOUR).await;
    // A valid session stored elsewhere, and a symlink to it where session `id` would be.
    let elsewhere = tmp.path().join("elsewhere");
    let source = sid(6);
    put(&p, &source, &[("secret", 42)]).await;
    std::fs::copy(file_of(&dir, &source), &elsewhere).unwrap();
    let id = sid(7);
    let link = file_of(&dir, &id);
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
    let target_before = std::fs::read(&elsewhere).unwrap();

    assert!(p.session_load(&cx(), &id).await.unwrap().is_none());
    assert!(!p.session_exist(&cx(), &id).await.unwrap());
    // Writing replaces the link itself; the target is untouched.
    put(&p, &id, &[("mine", 1)]).await;
    assert!(!std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(value(&p, &id, "secret").await, Some(None));
    assert_eq!(std::fs::read(&elsewhere).unwrap(), target_before);
}

#[tokio::test]
async fn a_symlinked_directory_level_is_never_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(outside.join("0")).unwrap();
    let p = provider(&dir, HOUR).await;
    // `dir/f` -> a directory outside the session directory.
    std::os::unix::fs::symlink(&outside, dir.join("f")).unwrap();
    let id = format!("f0{}", &sid(8)[2..]);
    let store = p.session_create(&cx(), &id).await.unwrap();
    store.set("a", &1).await.unwrap();
    let err = store
        .session_release(&mut HeaderMap::new())
        .await
        .unwrap_err();
    assert!(err.is_backend(), "{err}");
    assert!(err.to_string().contains("not a directory"), "{err}");
    assert!(std::fs::read_dir(outside.join("0"))
        .unwrap()
        .next()
        .is_none());
    assert!(p.session_load(&cx(), &id).await.unwrap().is_none());
}

#[tokio::test]
async fn hostile_ids_never_touch_the_file_system() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    let p = provider(&dir, HOUR).await;
    for bad in [
        "",
        "a",
        "..",
        "../../etc/passwd",
        "a/b",
        "..%2f",
        "x\0y",
        "sp ace",
    ] {
        assert!(
            p.session_load(&cx(), bad).await.unwrap().is_none(),
            "{bad:?}"
        );
        assert!(!p.session_exist(&cx(), bad).await.unwrap(), "{bad:?}");
        p.session_destroy(&cx(), bad).await.unwrap();
        let store = p.session_create(&cx(), bad).await.unwrap();
        store.set("a", &1).await.unwrap();
        let err = store
            .session_release(&mut HeaderMap::new())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidId { .. }), "{bad:?}: {err}");
        assert!(p.session_regenerate(&cx(), &sid(9), bad).await.is_err());
    }
    let mut names: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, vec!["s"]);
    assert!(std::fs::read_dir(&dir).unwrap().next().is_none());
}

#[tokio::test]
async fn corrupt_and_foreign_files_read_as_empty_sessions() {
    let tmp = tempfile::tempdir().unwrap();
    let p = provider(tmp.path(), HOUR).await;
    for (n, junk) in [
        (10, &b""[..]),
        (11, b"\x01\xc1\xff"),
        (12, b"\x09\x80"),
        (13, b"a:1:{s:1:\"a\";}"),
    ] {
        let id = sid(n);
        put(&p, &id, &[("a", 1)]).await;
        std::fs::write(file_of(tmp.path(), &id), junk).unwrap();
        ends_in(&file_of(tmp.path(), &id), HOUR);
        let store = p
            .session_load(&cx(), &id)
            .await
            .unwrap()
            .expect("still a session");
        assert!(store.keys().await.unwrap().is_empty(), "{junk:?}");
        store.set("b", &2).await.unwrap();
        store.session_release(&mut HeaderMap::new()).await.unwrap();
        assert_eq!(value(&p, &id, "b").await, Some(Some(2)), "{junk:?}");
    }
}

#[tokio::test]
async fn regenerate_renames_the_file_and_kills_the_old_id() {
    let tmp = tempfile::tempdir().unwrap();
    let p = provider(tmp.path(), HOUR).await;
    let (old, new) = (sid(20), sid(0xf21));
    put(&p, &old, &[("a", 1)]).await;
    let old_file = file_of(tmp.path(), &old);
    let ino = std::fs::metadata(&old_file).unwrap().ino();
    let store = p.session_regenerate(&cx(), &old, &new).await.unwrap();
    assert_eq!(store.session_id(), new);
    assert_eq!(store.get::<i64>("a").await.unwrap(), Some(1));
    assert!(!old_file.exists());
    assert!(siblings(&old_file).is_empty(), "{:?}", siblings(&old_file));
    assert_eq!(
        std::fs::metadata(file_of(tmp.path(), &new)).unwrap().ino(),
        ino
    );
    assert!(p.session_load(&cx(), &old).await.unwrap().is_none());
    assert_eq!(value(&p, &new, "a").await, Some(Some(1)));
    // An unknown old id gives an empty session under the new id, and stores nothing yet.
    let fresh = p
        .session_regenerate(&cx(), &sid(21), &sid(22))
        .await
        .unwrap();
    assert!(fresh.keys().await.unwrap().is_empty());
    assert!(!file_of(tmp.path(), &sid(22)).exists());
}

#[tokio::test]
async fn destroy_removes_the_file_and_its_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let p = provider(tmp.path(), HOUR).await;
    let id = sid(30);
    put(&p, &id, &[("a", 1)]).await;
    let file = file_of(tmp.path(), &id);
    p.session_destroy(&cx(), &id).await.unwrap();
    assert!(siblings(&file).is_empty(), "{:?}", siblings(&file));
    p.session_destroy(&cx(), &id).await.unwrap();
    p.session_destroy(&cx(), &sid(31)).await.unwrap();
}

#[tokio::test]
async fn gc_removes_expired_sessions_and_stale_helpers_and_keeps_live_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let lifetime = Duration::from_secs(60);
    let p = provider(tmp.path(), lifetime).await;
    let (live, dead) = (sid(40), sid(41));
    put(&p, &live, &[("a", 1)]).await;
    put(&p, &dead, &[("a", 1)]).await;
    let dead_file = file_of(tmp.path(), &dead);
    age(&dead_file, Duration::from_secs(61));
    let shard = dead_file.parent().unwrap();
    // A temp file left by a crash, one being written right now, an orphaned lock file and
    // a file the engine does not own.
    let stale_temp = shard.join(format!(".{dead}.abc123.tmp"));
    let fresh_temp = shard.join(format!(".{dead}.def456.tmp"));
    let orphan_lock = shard.join(format!("{}ffffff{}.lock", &dead[..2], &dead[8..]));
    let foreign = shard.join("README");
    for path in [&stale_temp, &fresh_temp, &orphan_lock, &foreign] {
        std::fs::write(path, b"x").unwrap();
    }
    age(&stale_temp, Duration::from_secs(3600));
    age(&orphan_lock, Duration::from_secs(3600));
    assert_eq!(p.session_all().await.unwrap(), 1);

    let report = p.collect_garbage().await.unwrap();
    assert_eq!(
        (report.sessions, report.locks, report.temps),
        (1, 1, 1),
        "{report:?}"
    );
    // The expired session went with its lock file; the young temp file and the foreign
    // file stay; the live session (in another shard) is untouched.
    assert_eq!(
        siblings(&dead_file),
        vec![format!(".{dead}.def456.tmp"), "README".to_owned()]
    );
    assert_eq!(
        siblings(&file_of(tmp.path(), &live)),
        vec![live.clone(), format!("{live}.lock")]
    );
    assert_eq!(value(&p, &live, "a").await, Some(Some(1)));
    assert_eq!(p.session_all().await.unwrap(), 1);
    p.session_gc().await.unwrap();
    assert_eq!(p.session_all().await.unwrap(), 1);
}

#[tokio::test]
async fn config_errors_and_registration() {
    let err = Manager::new("file", ManagerConfig::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
    assert!(err.to_string().contains("providerConfig"), "{err}");

    let tmp = tempfile::tempdir().unwrap();
    let blocker = tmp.path().join("file");
    std::fs::write(&blocker, b"").unwrap();
    let config = ManagerConfig::builder()
        .provider_config(blocker.join("sub").to_string_lossy())
        .build()
        .unwrap();
    let err = Manager::new("file", config).await.unwrap_err();
    assert!(
        err.to_string().contains("cannot use session directory"),
        "{err}"
    );

    let json = format!(
        r#"{{"path": "{}", "fsync": true}}"#,
        tmp.path().join("j").display()
    );
    let config = ManagerConfig::builder()
        .provider_config(json)
        .build()
        .unwrap();
    let manager = Manager::new("FILE", config).await.unwrap();
    assert_eq!(manager.get_active_session().await.unwrap(), 0);
    assert!(tmp.path().join("j").is_dir());
    let p = FileProvider::open(
        session_file::FileConfig::new(tmp.path().join("j")),
        Lifetimes::sliding(HOUR),
    )
    .await
    .unwrap();
    assert!(p.capabilities().merges_concurrent_changes && p.capabilities().counts_sessions);
}
