//! Waiting for a busy session must not hold tokio's blocking pool: one client hammering
//! its own session may delay itself, never the rest of the app (`tokio::fs`, other
//! sessions), and a request cancelled while it waits stops waiting.

mod common;

use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use session_core::http::HeaderMap;
use session_core::{Provider, StoreExt};
use session_file::{FileConfig, FileProvider};

/// Longer than any test here runs, so that no writer gives up while the test holds the
/// lock: if a writer answers, it is because it got the lock.
const LOCK_TIMEOUT: Duration = Duration::from_secs(60);
/// How long "promptly" may be: generous, this is a liveness check, not a timing one.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

fn runtime(max_blocking_threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(max_blocking_threads)
        .enable_all()
        .build()
        .unwrap()
}

async fn patient_provider(dir: &Path) -> FileProvider {
    let config = FileConfig {
        lock_timeout: LOCK_TIMEOUT,
        ..FileConfig::new(dir)
    };
    FileProvider::open(config, session_core::Lifetimes::sliding(HOUR))
        .await
        .unwrap()
}

/// Holds session `id`'s file lock, as another process would, until dropped.
fn hold_lock(dir: &Path, id: &str) -> std::fs::File {
    let lock_path = file_of(dir, id).with_extension("lock");
    let holder = std::fs::File::open(&lock_path).unwrap();
    // SAFETY: `holder` keeps the descriptor open for the call.
    assert_eq!(unsafe { libc::flock(holder.as_raw_fd(), libc::LOCK_EX) }, 0);
    holder
}

/// What "the rest of the app" does meanwhile: `tokio::fs` and a read of another session,
/// both on the blocking pool.
async fn other_request(p: &FileProvider, dir: &Path, other: &str) -> Option<i64> {
    tokio::fs::metadata(dir).await.unwrap();
    p.session_load(&cx(), other)
        .await
        .unwrap()
        .unwrap()
        .get::<i64>("n")
        .await
        .unwrap()
}

#[test]
fn two_hundred_writers_on_one_session_leave_the_blocking_pool_to_others() {
    runtime(4).block_on(async {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let p = patient_provider(dir).await;
        let (busy, other) = (sid(1), sid(2));
        put(&p, &busy, &[("base", 0)]).await;
        put(&p, &other, &[("n", 7)]).await;

        // 200 requests of one client, each with its own change to the session.
        let mut stores = Vec::new();
        for n in 0..200i64 {
            let store = p.session_load(&cx(), &busy).await.unwrap().unwrap();
            store.set(&format!("w{n}"), &n).await.unwrap();
            stores.push(store);
        }
        // Another process holds the session's lock, so every writer has to wait.
        let holder = hold_lock(dir, &busy);
        let (started, finished) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let mut writers = tokio::task::JoinSet::new();
        for store in stores {
            let (started, finished) = (Arc::clone(&started), Arc::clone(&finished));
            writers.spawn(async move {
                started.fetch_add(1, Ordering::SeqCst);
                let released = store.session_release(&mut HeaderMap::new()).await;
                finished.fetch_add(1, Ordering::SeqCst);
                released
            });
        }
        // Every writer has reached its first wait inside the release (the counter moves
        // in the same poll that starts the release).
        while started.load(Ordering::SeqCst) < 200 {
            tokio::task::yield_now().await;
        }

        let answer = tokio::time::timeout(ANSWER_WITHIN, other_request(&p, dir, &other)).await;
        assert_eq!(
            answer.ok(),
            Some(Some(7)),
            "another request got no answer while one session's writers waited: they hold \
             the blocking pool"
        );
        assert_eq!(
            finished.load(Ordering::SeqCst),
            0,
            "a writer finished while another process held the lock"
        );

        drop(holder);
        while let Some(done) = tokio::time::timeout(ANSWER_WITHIN * 3, writers.join_next())
            .await
            .expect("the writers never finished after the lock was freed")
        {
            done.unwrap().unwrap();
        }
        let store = p.session_load(&cx(), &busy).await.unwrap().unwrap();
        let keys = keys(store.as_ref()).await;
        assert_eq!(keys.len(), 1 + 200, "lost updates: {keys:?}");
        for n in 0..200i64 {
            assert_eq!(store.get::<i64>(&format!("w{n}")).await.unwrap(), Some(n));
        }
    });
}

#[test]
fn a_write_cancelled_while_waiting_for_the_lock_stops_waiting() {
    // One blocking thread: a cancelled write still sleeping in it would starve everyone.
    runtime(1).block_on(async {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let p = patient_provider(dir).await;
        let (busy, other) = (sid(3), sid(4));
        put(&p, &busy, &[("a", 1)]).await;
        put(&p, &other, &[("n", 7)]).await;
        let holder = hold_lock(dir, &busy);

        let store = p.session_load(&cx(), &busy).await.unwrap().unwrap();
        store.set("b", &2).await.unwrap();
        let cancelled = tokio::time::timeout(
            Duration::from_millis(200),
            store.session_release(&mut HeaderMap::new()),
        )
        .await;
        assert!(cancelled.is_err(), "the write went through a held lock");

        let answer = tokio::time::timeout(ANSWER_WITHIN, other_request(&p, dir, &other)).await;
        assert_eq!(
            answer.ok(),
            Some(Some(7)),
            "a cancelled write kept the blocking pool"
        );

        drop(holder);
        let store = p.session_load(&cx(), &busy).await.unwrap().unwrap();
        store.set("c", &3).await.unwrap();
        store.session_release(&mut HeaderMap::new()).await.unwrap();
        // The cancelled request's change was never written, even after the lock was freed.
        assert_eq!(value(&p, &busy, "c").await, Some(Some(3)));
        assert_eq!(value(&p, &busy, "b").await, Some(None));
    });
}
