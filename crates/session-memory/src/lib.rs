//! The `memory` session engine: sessions in a sharded in-process map.
//!
//! Fast and exact, and gone when the process exits; the default engine of beego and of this
//! library's demo. Requests on different sessions lock different shards, and two requests
//! changing different keys of the same session both keep their changes (each release
//! replays its change set onto the latest state under the shard lock).
//!
//! # Capping memory: `{"maxEntries": N}`
//!
//! By default (empty `providerConfig`, as in beego) nothing bounds the store but GC, so
//! clients that never send the cookie back (bots) and get something written grow it by one
//! session per request until their sessions expire. `providerConfig`
//! `{"maxEntries": 100000}` caps it (see [`MemoryConfig`]); past the cap the **least
//! recently used** sessions are evicted to make room, and the first eviction is logged as
//! a warning (the running total is [`MemoryProvider::evictions`]).
//!
//! Why evict rather than refuse new sessions: under a flood of one-shot visitors, refusing
//! would lock out every real user who logs in during the flood, while eviction costs only
//! the sessions nobody has used for the longest time, which are the flood's own (a real
//! user's session is used again on their next click and moves to the back of the line).
//! A request that reads or writes a session marks it used.
//!
//! The order is exact within a shard, not globally: a global order would need one lock
//! that every request takes. Each shard holds an equal share of the cap (the shares add up
//! to exactly `maxEntries`, so the cap always holds) and evicts its own least recently used
//! session when it is full. Session ids are random, so the shards fill evenly and the
//! store evicts close to the global LRU order; a session survives as long as fewer than
//! its shard's share of other sessions of that shard were used after it. Small caps (under
//! 256) use a single shard and so an exact LRU order. Evicted sessions are gone as if
//! destroyed: the next request with that cookie starts a new session.
//!
//! Link it and ask for it by name:
//!
//! ```
//! use session_core::{Manager, ManagerConfig};
//! use session_memory as _; // registers "memory"
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> session_core::Result<()> {
//! let manager = Manager::new("memory", ManagerConfig::default()).await?;
//! let session = manager.session_start(&http::Request::new(())).await?;
//! session.set("asta", &1).await?;
//! let mut response = http::HeaderMap::new();
//! session.release(&mut response).await?;
//! assert_eq!(manager.get_active_session().await?, 1);
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod config;
mod shards;

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use session_core::http::HeaderMap;
use session_core::{
    async_trait, Capabilities, Context, Lifetime, Lifetimes, Persist, Provider, ProviderInit,
    Release, Released, Result, SessionData, Store, TrackedStore, Write,
};

pub use config::MemoryConfig;
use shards::{Entry, Shards};

/// The name this engine registers under.
const ENGINE: &str = "memory";

session_core::register_provider!(MEMORY, "memory", "session-memory", |init| {
    Box::pin(
        async move { MemoryProvider::from_init(&init).map(|p| Arc::new(p) as Arc<dyn Provider>) },
    )
});

/// The in-memory engine. Build it through the registry (`Manager::new("memory", …)`), with
/// [`MemoryProvider::from_init`] or with [`MemoryProvider::new`].
#[derive(Debug, Clone)]
pub struct MemoryProvider {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    sessions: Shards,
    lifetimes: Lifetimes,
}

impl MemoryProvider {
    /// An empty engine with the manager's lifetimes (`ProviderInit::new(name, &config)`
    /// from the configuration the manager gets) and the settings in its `providerConfig`
    /// (see [`MemoryConfig::parse`]).
    pub fn from_init(init: &ProviderInit) -> Result<Self> {
        Ok(Self::new(init, MemoryConfig::parse(&init.config)?))
    }

    /// An empty engine with the manager's lifetimes and `config` (its `providerConfig` is
    /// not read).
    pub fn new(init: &ProviderInit, config: MemoryConfig) -> Self {
        MemoryProvider {
            shared: Arc::new(Shared {
                sessions: Shards::new(config.max_entries),
                lifetimes: init.lifetimes,
            }),
        }
    }

    /// How many sessions the `maxEntries` cap has evicted since the engine was built.
    pub fn evictions(&self) -> u64 {
        self.shared.sessions.evicted()
    }

    /// Whether anything is stored under `sid`, expired (and not yet collected) or not,
    /// without marking it used: for diagnostics and tests, such as the conformance suite's
    /// `held_with` hook.
    pub fn holds(&self, sid: &str) -> bool {
        self.shared.sessions.lock(sid).peek(sid).is_some()
    }

    /// The data of the live session `sid` and when it ends; a request reading it marks it
    /// used.
    fn live_data(&self, sid: &str) -> Option<(Arc<SessionData>, Instant)> {
        let now = Instant::now();
        let mut shard = self.shared.sessions.lock(sid);
        shard
            .used(sid)
            .filter(|e| e.live(now))
            .map(|e| (Arc::clone(&e.data), e.expires))
    }

    /// The store of `sid`: the live session found (sharing its values), or a new one.
    fn store(&self, sid: &str, found: Option<(Arc<SessionData>, Instant)>) -> Box<dyn Store> {
        TrackedStore::boxed_shared(sid, found, Arc::clone(&self.shared))
    }
}

#[async_trait]
impl Persist for Shared {
    /// When the session ended as it was loaded.
    type Token = Instant;

    fn lifetimes(&self) -> &Lifetimes {
        &self.lifetimes
    }

    /// The same 1 % rule as every engine: an unchanged session is refreshed only once it
    /// has used more than 1 % of its inactivity limit, so most read-only requests take no
    /// lock at release.
    fn touch_not_due(&self, ends: &Instant, lifetime: &Lifetime) -> Option<SystemTime> {
        let left = ends.saturating_duration_since(Instant::now());
        (!lifetime.refresh_due(left)).then(|| SystemTime::now() + left)
    }

    async fn persist(
        &self,
        release: Release<'_, Instant>,
        _response: &mut HeaderMap,
    ) -> Result<Released> {
        let now = Instant::now();
        let sid = release.sid;
        // The shard stays locked from the read to the write: no other release slips in.
        let mut shard = self.sessions.lock(sid);
        // A request that changed nothing never brings back a session that is gone.
        let may_create = !release.only_if_present && matches!(release.write, Write::Changes(_));
        let stored = shard.peek(sid).map(|e| e.live(now));
        if stored.is_none() {
            // Not stored (the first release of a new session): one insert, no lookups.
            return Ok(if may_create {
                let fresh = Entry {
                    data: Arc::clone(release.data),
                    expires: now,
                };
                shard.insert(sid, fresh).refresh(&release.lifetime, now)
            } else {
                Released::Gone
            });
        }
        Ok(match (stored, shard.used(sid)) {
            (Some(true), Some(entry)) => match release.write {
                Write::Changes(changes) => {
                    changes.apply_to(Arc::make_mut(&mut entry.data));
                    let lifetime = release.lifetime_of(&entry.data);
                    entry.refresh(&lifetime, now)
                }
                Write::Touch => entry.refresh(&release.lifetime, now),
            },
            (Some(_), _) if !may_create => {
                // Expired meanwhile: never re-created, and dropped now.
                shard.remove(sid);
                Released::Gone
            }
            _ if may_create => {
                let fresh = Entry {
                    data: Arc::clone(release.data),
                    expires: now,
                };
                shard.insert(sid, fresh).refresh(&release.lifetime, now)
            }
            _ => Released::Gone,
        })
    }
}

#[async_trait]
impl Provider for MemoryProvider {
    async fn session_read(&self, _cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
        Ok(self.store(sid, self.live_data(sid)))
    }

    async fn session_exist(&self, _cx: &Context<'_>, sid: &str) -> Result<bool> {
        Ok(self.live_data(sid).is_some())
    }

    async fn session_load(&self, _cx: &Context<'_>, sid: &str) -> Result<Option<Box<dyn Store>>> {
        Ok(self
            .live_data(sid)
            .map(|found| self.store(sid, Some(found))))
    }

    async fn session_create(&self, _cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
        Ok(self.store(sid, None))
    }

    async fn session_regenerate(
        &self,
        cx: &Context<'_>,
        old_sid: &str,
        sid: &str,
    ) -> Result<Box<dyn Store>> {
        let moved = self.session_move(cx, old_sid, sid).await?;
        Ok(moved.unwrap_or_else(|| self.store(sid, None)))
    }

    async fn session_move(
        &self,
        _cx: &Context<'_>,
        old_sid: &str,
        sid: &str,
    ) -> Result<Option<Box<dyn Store>>> {
        let now = Instant::now();
        let Some(entry) = self.shared.sessions.lock(old_sid).remove(old_sid) else {
            return Ok(None);
        };
        if !entry.live(now) {
            return Ok(None);
        }
        let found = (Arc::clone(&entry.data), entry.expires);
        // The entry moves whole: its expiry goes with it. (Between the remove and the
        // insert neither id is live, so a concurrent request on the old id finds nothing,
        // never both. The old shard's lock is released first: both ids may share a shard.)
        self.shared.sessions.lock(sid).insert(sid, entry);
        Ok(Some(self.store(sid, Some(found))))
    }

    async fn session_destroy(&self, _cx: &Context<'_>, sid: &str) -> Result<()> {
        self.shared.sessions.lock(sid).remove(sid);
        Ok(())
    }

    async fn session_all(&self) -> Result<usize> {
        let now = Instant::now();
        let mut live = 0;
        self.shared
            .sessions
            .each(|entries| live += entries.values().filter(|e| e.live(now)).count());
        Ok(live)
    }

    async fn session_gc(&self) -> Result<()> {
        // A few sessions of one small shard at a time, yielding between batches: a request
        // waits at most for one batch, and only if it needs that shard.
        let removed = self.shared.sessions.remove_expired(Instant::now()).await;
        tracing::debug!(engine = ENGINE, removed, "GC pass done");
        Ok(())
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::NONE.merging().counting()
    }
}
