//! The `file` session engine: one file per session in a directory, beego's layout.
//!
//! Sessions survive restarts and can be shared by several processes on one machine (or on
//! a shared file system with working `flock`). Session `sid` lives in `dir/s/i/sid`, where
//! `s` and `i` are the first two characters of the id, exactly as in beego.
//!
//! What it guarantees:
//! - **No torn sessions.** Each write goes to a new temp file in the same directory that is
//!   renamed into place; with `"fsync": true` the file and the rename are also flushed to
//!   disk before the release returns.
//! - **No lost updates.** A release takes the session's lock (`flock` on `sid.lock` beside
//!   it, which excludes other processes and other tasks alike), re-reads the stored state,
//!   replays its own changes onto it and renames the result into place. Two requests that
//!   change different keys of one session both keep their changes.
//! - **Nothing outside the directory.** Only ids of 2–64 characters from `[A-Za-z0-9_-]`
//!   become paths; files are created 0600 and directories 0700; symlinks are never
//!   followed (a symlink where a session file should be reads as "no session").
//! - **Each session's deadline is its file's modification time.** Every write and touch
//!   sets it to the moment the session ends (its own lifetime: `maxLifetime`, its own
//!   expiry, the absolute lifetime), so managers with different lifetimes can share a
//!   directory. A file whose deadline has passed is expired and never returned, even before
//!   GC removes it; an unchanged session's release only moves the deadline, and
//!   regenerate (a rename) keeps it.
//! - **Unreadable files are empty sessions**, reported through `tracing`, never an error page.
//!
//! Beside each session file sits its lock file `sid.lock` (removed with the session) and,
//! for the milliseconds a write takes, a temp file `.sid.<random>.tmp`. GC removes expired
//! sessions with their lock files, and lock or temp files left behind by a crash once they
//! are older than both the max lifetime and a minute. Session files written by beego itself
//! (Go's `gob` encoding) are not readable here: they load as empty sessions.
//!
//! `providerConfig` is the directory (`./tmp`), or JSON with options:
//! `{"path": "./tmp", "fsync": true, "lockTimeoutMs": 5000}` (see [`FileConfig`]).
//! All file work runs on tokio's blocking pool, so requests and GC never stall the runtime.
//! Waiting for a busy session never holds a blocking thread: the writers of one session in
//! one process queue up asynchronously (at most one of them tries the file lock at a time),
//! and a lock held by another process is polled with async pauses, up to `lockTimeoutMs`.
//! So a client firing many concurrent writes at its own session delays only itself, and a
//! request cancelled while it waits stops waiting.
//! Unix only (`flock`, `O_NOFOLLOW`).
//!
//! Link it and ask for it by name:
//!
//! ```
//! use session_core::{Manager, ManagerConfig};
//! use session_file as _; // registers "file"
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> session_core::Result<()> {
//! # let tmp = tempfile::tempdir().unwrap();
//! # let dir = tmp.path().join("sessions");
//! let config = ManagerConfig::builder()
//!     .provider_config(dir.to_string_lossy()) // e.g. "./tmp"
//!     .build()?;
//! let manager = Manager::new("file", config).await?;
//! let session = manager.session_start(&http::Request::new(())).await?;
//! session.set("asta", &1).await?;
//! let mut response = http::HeaderMap::new();
//! session.release(&mut response).await?; // writes dir/s/i/<sid>
//! assert_eq!(manager.get_active_session().await?, 1);
//! assert!(session_file::session_file_path(&dir, &session.id()).unwrap().is_file());
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

#[cfg(not(unix))]
compile_error!("session-file needs a Unix platform: it relies on flock(2) and O_NOFOLLOW");

mod config;
mod fsio;
mod layout;
mod lock;
mod ops;
mod sweep;
mod turns;
mod wait;

use std::path::Path;
use std::sync::Arc;

use session_core::http::HeaderMap;
use session_core::{
    async_trait, Capabilities, ConfigError, Context, Error, Lifetimes, Persist, Provider,
    ProviderInit, Release, Released, Result, SessionData, Store, TrackedStore, Write,
};

pub use config::{FileConfig, DEFAULT_LOCK_TIMEOUT};
pub use fsio::MAX_FILE_BYTES;
pub use layout::session_file_path;
pub use sweep::GcReport;

use ops::{Engine, Pending, ReleaseJob};

/// The name this engine registers under.
const ENGINE: &str = "file";

session_core::register_provider!(FILE, "file", "session-file", |init| {
    Box::pin(async move {
        FileProvider::from_init(&init)
            .await
            .map(|p| Arc::new(p) as Arc<dyn Provider>)
    })
});

/// The file engine. Build it through the registry (`Manager::new("file", …)`) or with
/// [`FileProvider::open`].
#[derive(Debug, Clone)]
pub struct FileProvider {
    shared: Arc<Shared>,
}

/// What stores write through: the engine, behind an `Arc` that blocking tasks can own,
/// and the per-id line that writers of one session wait in (see `wait`).
#[derive(Debug)]
struct Shared {
    engine: Arc<Engine>,
    turns: turns::Turns,
}

impl Shared {
    async fn blocking<T, F>(&self, action: &'static str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Engine) -> Result<T> + Send + 'static,
    {
        let engine = Arc::clone(&self.engine);
        // If the request is cancelled the task still finishes: a write is never cut short.
        tokio::task::spawn_blocking(move || f(&engine))
            .await
            .map_err(|e| Error::backend(ENGINE, action, e))?
    }
}

impl FileProvider {
    /// Opens (creating it, mode 0700, if missing) the session directory of `config`, with
    /// the manager's lifetimes (`ProviderInit::lifetimes`).
    pub async fn open(config: FileConfig, lifetimes: Lifetimes) -> Result<Self> {
        let wanted = config.path.clone();
        let path = tokio::task::spawn_blocking(move || prepare_dir(&wanted))
            .await
            .map_err(|e| Error::backend(ENGINE, "create the session directory", e))??;
        let config = FileConfig { path, ..config };
        Ok(FileProvider {
            shared: Arc::new(Shared {
                engine: Arc::new(Engine::new(&config, lifetimes)),
                turns: turns::Turns::default(),
            }),
        })
    }

    /// The engine from the manager's init arguments (`providerConfig`, lifetimes).
    pub async fn from_init(init: &ProviderInit) -> Result<Self> {
        let config = FileConfig::parse(&init.config)?;
        Self::open(config, init.lifetimes).await
    }

    /// The session directory (made absolute when the provider was opened).
    pub fn dir(&self) -> &Path {
        &self.shared.engine.root
    }

    /// Runs one GC pass and says what it removed ([`Provider::session_gc`] without the report).
    pub async fn collect_garbage(&self) -> Result<GcReport> {
        self.shared
            .blocking("collect garbage", |engine| engine.collect_garbage())
            .await
    }

    async fn load_data(&self, sid: &str) -> Result<Option<SessionData>> {
        let sid = sid.to_owned();
        self.shared
            .blocking("read session", move |engine| engine.load(&sid))
            .await
    }
}

/// Makes `path` absolute and creates it (0700) if missing.
fn prepare_dir(path: &Path) -> Result<std::path::PathBuf> {
    let fail = |e: std::io::Error| {
        Error::from(ConfigError::provider(
            ENGINE,
            format!("cannot use session directory {}: {e}", path.display()),
        ))
    };
    let path = std::path::absolute(path).map_err(fail)?;
    fsio::dir_builder(true).create(&path).map_err(fail)?;
    if !path.is_dir() {
        return Err(fail(std::io::Error::other("not a directory")));
    }
    Ok(path)
}

#[async_trait]
impl Persist for Shared {
    type Token = ();

    fn lifetimes(&self) -> &Lifetimes {
        &self.engine.lifetimes
    }

    async fn persist(
        &self,
        release: Release<'_, ()>,
        _response: &mut HeaderMap,
    ) -> Result<Released> {
        let job = ReleaseJob {
            sid: release.sid.to_owned(),
            pending: match release.write {
                Write::Touch => Pending::Touch,
                Write::Changes(changes) => Pending::Changes(changes.clone()),
            },
            data: Arc::clone(release.data),
            only_if_present: release.only_if_present,
            lifetime: release.lifetime,
        };
        let sid = job.sid.clone();
        self.locked(&sid, "write session", move |engine| engine.release(&job))
            .await
    }
}

#[async_trait]
impl Provider for FileProvider {
    async fn session_read(&self, _cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
        Ok(TrackedStore::boxed(
            sid,
            self.load_data(sid).await?.map(|data| (data, ())),
            Arc::clone(&self.shared),
        ))
    }

    async fn session_exist(&self, _cx: &Context<'_>, sid: &str) -> Result<bool> {
        let sid = sid.to_owned();
        self.shared
            .blocking("check session", move |engine| engine.exists(&sid))
            .await
    }

    async fn session_load(&self, _cx: &Context<'_>, sid: &str) -> Result<Option<Box<dyn Store>>> {
        Ok(self
            .load_data(sid)
            .await?
            .map(|data| TrackedStore::boxed(sid, Some((data, ())), Arc::clone(&self.shared))))
    }

    async fn session_create(&self, _cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
        Ok(TrackedStore::boxed(sid, None, Arc::clone(&self.shared)))
    }

    async fn session_regenerate(
        &self,
        cx: &Context<'_>,
        old_sid: &str,
        sid: &str,
    ) -> Result<Box<dyn Store>> {
        let moved = self.session_move(cx, old_sid, sid).await?;
        Ok(moved.unwrap_or_else(|| TrackedStore::boxed(sid, None, Arc::clone(&self.shared))))
    }

    async fn session_move(
        &self,
        _cx: &Context<'_>,
        old_sid: &str,
        sid: &str,
    ) -> Result<Option<Box<dyn Store>>> {
        let (old, new) = (old_sid.to_owned(), sid.to_owned());
        let moved = self
            .shared
            .locked(old_sid, "regenerate session", move |engine| {
                engine.regenerate(&old, &new)
            })
            .await?;
        Ok(moved.map(|data| TrackedStore::boxed(sid, Some((data, ())), Arc::clone(&self.shared))))
    }

    async fn session_destroy(&self, _cx: &Context<'_>, sid: &str) -> Result<()> {
        let owned = sid.to_owned();
        self.shared
            .locked(sid, "destroy session", move |engine| engine.destroy(&owned))
            .await
    }

    async fn session_all(&self) -> Result<usize> {
        self.shared
            .blocking("count sessions", |engine| engine.count())
            .await
    }

    async fn session_gc(&self) -> Result<()> {
        self.collect_garbage().await.map(drop)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::NONE.merging().counting()
    }
}
