//! Concurrent releases of one session: from two providers (as two processes would have),
//! from real child processes, and what happens when a lock is held too long.

mod common;

use std::os::unix::io::AsRawFd;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use session_core::http::HeaderMap;
use session_core::{Provider, Store, StoreExt};
use session_file::{FileConfig, FileProvider};

const CHILD_ENV: &str = "SESSION_FILE_TEST_CHILD";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_providers_releasing_different_keys_at_once_both_survive() {
    let tmp = tempfile::tempdir().unwrap();
    // Two engines that share nothing but the directory, like two processes.
    let a = provider(tmp.path(), HOUR).await;
    let b = provider(tmp.path(), HOUR).await;
    let id = sid(1);
    put(&a, &id, &[("base", 0)]).await;
    for round in 0..5 {
        // Every request loads the same state before any of them releases.
        let mut stores: Vec<(String, Box<dyn Store>)> = Vec::new();
        for n in 0..8 {
            let p = if n % 2 == 0 { &a } else { &b };
            let store = p.session_load(&cx(), &id).await.unwrap().unwrap();
            let key = format!("r{round}k{n}");
            store.set(&key, &n).await.unwrap();
            stores.push((key, store));
        }
        let mut releases = tokio::task::JoinSet::new();
        for (_, store) in stores {
            releases.spawn(async move { store.session_release(&mut HeaderMap::new()).await });
        }
        while let Some(done) = releases.join_next().await {
            done.unwrap().unwrap();
        }
    }
    let store = b.session_load(&cx(), &id).await.unwrap().unwrap();
    let keys = keys(store.as_ref()).await;
    assert_eq!(keys.len(), 1 + 5 * 8, "lost updates: {keys:?}");
    for round in 0..5 {
        for n in 0..8 {
            let key = format!("r{round}k{n}");
            assert_eq!(store.get::<i64>(&key).await.unwrap(), Some(n), "{key}");
        }
    }
    assert_eq!(
        siblings(&file_of(tmp.path(), &id)),
        vec![id.clone(), format!("{id}.lock")]
    );
}

/// Entry point of the child processes that
/// [`releases_from_other_processes_merge`] starts; does nothing in a normal test run.
#[tokio::test]
async fn child_process_writer() {
    let Ok(job) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut parts = job.splitn(4, '|');
    let (dir, id, tag, count) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap().parse::<i64>().unwrap(),
    );
    let p = provider(dir.as_ref(), HOUR).await;
    write_keys(&p, id, tag, count).await;
}

async fn write_keys(p: &FileProvider, id: &str, tag: &str, count: i64) {
    for k in 0..count {
        let store = p.session_load(&cx(), id).await.unwrap().unwrap();
        store.set(&format!("{tag}{k}"), &k).await.unwrap();
        store.session_release(&mut HeaderMap::new()).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn releases_from_other_processes_merge() {
    let tmp = tempfile::tempdir().unwrap();
    let p = provider(tmp.path(), HOUR).await;
    let id = sid(2);
    put(&p, &id, &[("base", 0)]).await;
    let count = 30;
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = ["x", "y"]
        .iter()
        .map(|tag| {
            Command::new(&exe)
                .args(["--exact", "child_process_writer", "--test-threads=1"])
                .env(
                    CHILD_ENV,
                    format!("{}|{id}|{tag}|{count}", tmp.path().display()),
                )
                // Keep the child's own test-harness summary out of this run's output.
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    write_keys(&p, &id, "z", count).await;
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a writer process failed");
    }
    let store = p.session_load(&cx(), &id).await.unwrap().unwrap();
    let keys = keys(store.as_ref()).await;
    assert_eq!(keys.len() as i64, 1 + 3 * count, "lost updates: {keys:?}");
    for tag in ["x", "y", "z"] {
        for k in 0..count {
            assert_eq!(
                store.get::<i64>(&format!("{tag}{k}")).await.unwrap(),
                Some(k)
            );
        }
    }
}

#[tokio::test]
async fn a_lock_held_too_long_is_a_backend_error_not_a_hang() {
    let tmp = tempfile::tempdir().unwrap();
    let config = FileConfig {
        lock_timeout: Duration::from_millis(100),
        ..FileConfig::new(tmp.path())
    };
    let p = FileProvider::open(config, session_core::Lifetimes::sliding(HOUR))
        .await
        .unwrap();
    let id = sid(3);
    put(&p, &id, &[("a", 1)]).await;
    let lock_path = file_of(tmp.path(), &id).with_extension("lock");
    assert!(lock_path.is_file());
    // Another "process" holds the session's lock.
    let holder = std::fs::File::open(&lock_path).unwrap();
    // SAFETY: `holder` keeps the descriptor open for the call.
    assert_eq!(unsafe { libc::flock(holder.as_raw_fd(), libc::LOCK_EX) }, 0);
    let store = p.session_load(&cx(), &id).await.unwrap().unwrap();
    store.set("b", &2).await.unwrap();
    let err = store
        .session_release(&mut HeaderMap::new())
        .await
        .unwrap_err();
    assert!(err.is_backend(), "{err}");
    assert!(err.to_string().contains("lockTimeoutMs"), "{err}");
    // Reads never wait for the lock.
    assert_eq!(value(&p, &id, "a").await, Some(Some(1)));
    drop(holder);
    store.session_release(&mut HeaderMap::new()).await.unwrap();
    assert_eq!(value(&p, &id, "b").await, Some(Some(2)));
}
