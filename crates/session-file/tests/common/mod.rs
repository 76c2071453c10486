//! Helpers shared by the engine's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use session_core::http::HeaderMap;
use session_core::{Context, Provider, Store, StoreExt};
use session_file::{session_file_path, FileConfig, FileProvider};

pub const HOUR: Duration = Duration::from_secs(3600);

/// A 32-character hex id, distinct per `n`; ids with distinct `n % 256` sit in distinct
/// shard directories.
pub fn sid(n: u32) -> String {
    format!("{:02x}{n:06x}{}", n % 256, "0123456789abcdef01234567")
}

pub async fn provider(dir: &Path, lifetime: Duration) -> FileProvider {
    FileProvider::open(
        FileConfig::new(dir),
        session_core::Lifetimes::sliding(lifetime),
    )
    .await
    .unwrap()
}

pub fn cx() -> Context<'static> {
    Context::detached()
}

pub fn file_of(dir: &Path, id: &str) -> PathBuf {
    session_file_path(dir, id).unwrap()
}

/// Stores a new session `id` holding `pairs`.
pub async fn put(p: &FileProvider, id: &str, pairs: &[(&str, i64)]) {
    let store = p.session_create(&cx(), id).await.unwrap();
    for (k, v) in pairs {
        store.set(k, v).await.unwrap();
    }
    store.session_release(&mut HeaderMap::new()).await.unwrap();
}

/// The stored value of `key` in session `id`, `None` when the session is not live.
pub async fn value(p: &FileProvider, id: &str, key: &str) -> Option<Option<i64>> {
    match p.session_load(&cx(), id).await.unwrap() {
        Some(store) => Some(store.get::<i64>(key).await.unwrap()),
        None => None,
    }
}

pub async fn keys(store: &dyn Store) -> Vec<String> {
    let mut keys = store.keys().await.unwrap();
    keys.sort();
    keys
}

/// Makes `path` look last modified `age` ago (without following a symlink at it).
/// Ages a session file by `age`: its deadline (the modification time) moves that much
/// closer, as if it had been last used `age` earlier.
pub fn age(path: &Path, age: Duration) {
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    let deadline = file.metadata().unwrap().modified().unwrap();
    file.set_modified(deadline - age).unwrap();
}

/// Gives a file the deadline "in `left` from now" (its modification time).
pub fn ends_in(path: &Path, left: Duration) {
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() + left).unwrap();
}

pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

/// Every file name in the directory holding `path`, sorted.
pub fn siblings(path: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}
