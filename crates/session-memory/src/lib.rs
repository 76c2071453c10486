//! The `memory` session engine: sessions in a sharded in-process map.
//!
//! Fast and exact, and gone when the process exits; the default engine of beego and of this
//! library's demo. Requests on different sessions lock different shards, and two requests
//! changing different keys of the same session both keep their changes (each release
//! replays its change set onto the latest state under the shard lock).
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

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use dashmap::mapref::entry::Entry as MapEntry;
use dashmap::DashMap;
use session_core::http::HeaderMap;
use session_core::{
    async_trait, Capabilities, Context, Lifetime, Lifetimes, Persist, Provider, ProviderInit,
    Release, Released, Result, SessionData, Store, TrackedStore, Write,
};

session_core::register_provider!(MEMORY, "memory", "session-memory", |init| {
    Box::pin(async move { Ok(Arc::new(MemoryProvider::from_init(&init)) as Arc<dyn Provider>) })
});

/// The in-memory engine. Ignores `providerConfig`.
#[derive(Debug, Clone)]
pub struct MemoryProvider {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    sessions: DashMap<String, Entry>,
    lifetimes: Lifetimes,
}

#[derive(Debug)]
struct Entry {
    /// Shared with the stores of requests reading it: a read-only request copies nothing.
    data: Arc<SessionData>,
    /// When the session ends (its own lifetime, from the last write or touch).
    expires: Instant,
}

impl Entry {
    fn live(&self, now: Instant) -> bool {
        self.expires > now
    }

    /// Gives the entry `lifetime` from now; what the release reports.
    fn refresh(&mut self, lifetime: &Lifetime, now: Instant) -> Released {
        let ttl = lifetime.ttl();
        self.expires = now + ttl;
        Released::Stored {
            expires: SystemTime::now() + ttl,
        }
    }
}

impl MemoryProvider {
    /// An empty engine with the manager's lifetimes (`ProviderInit::new(name, &config)`
    /// from the configuration the manager gets). `providerConfig` is ignored.
    pub fn from_init(init: &ProviderInit) -> Self {
        MemoryProvider {
            shared: Arc::new(Shared {
                sessions: DashMap::new(),
                lifetimes: init.lifetimes,
            }),
        }
    }

    fn live_data(&self, sid: &str) -> Option<Arc<SessionData>> {
        let now = Instant::now();
        self.shared
            .sessions
            .get(sid)
            .filter(|e| e.live(now))
            .map(|e| Arc::clone(&e.data))
    }

    fn store(&self, sid: &str, data: Option<Arc<SessionData>>) -> Box<dyn Store> {
        TrackedStore::boxed_shared(sid, data.map(|d| (d, ())), Arc::clone(&self.shared))
    }
}

#[async_trait]
impl Persist for Shared {
    type Token = ();

    fn lifetimes(&self) -> &Lifetimes {
        &self.lifetimes
    }

    async fn persist(
        &self,
        release: Release<'_, ()>,
        _response: &mut HeaderMap,
    ) -> Result<Released> {
        let now = Instant::now();
        // The common case, a live session, needs no owned key: update it in place (the
        // shard stays write-locked from the read to the write, so no release slips in).
        if let Some(mut live) = self.sessions.get_mut(release.sid) {
            if live.live(now) {
                return Ok(match release.write {
                    Write::Changes(changes) => {
                        changes.apply_to(Arc::make_mut(&mut live.data));
                        let lifetime = release.lifetime_of(&live.data);
                        live.refresh(&lifetime, now)
                    }
                    Write::Touch => live.refresh(&release.lifetime, now),
                });
            }
        }
        // Absent or expired: decide under the entry's lock.
        let entry = self.sessions.entry(release.sid.to_owned());
        // A request that changed nothing never brings back a session that is gone.
        let may_create = !release.only_if_present && matches!(release.write, Write::Changes(_));
        let fresh = || Entry {
            data: Arc::clone(release.data),
            expires: now,
        };
        Ok(match entry {
            MapEntry::Occupied(mut stored) if stored.get().live(now) => {
                let entry = stored.get_mut();
                match release.write {
                    Write::Changes(changes) => {
                        changes.apply_to(Arc::make_mut(&mut entry.data));
                        let lifetime = release.lifetime_of(&entry.data);
                        entry.refresh(&lifetime, now)
                    }
                    Write::Touch => entry.refresh(&release.lifetime, now),
                }
            }
            MapEntry::Occupied(mut stale) if may_create => {
                let entry = stale.get_mut();
                *entry = fresh();
                entry.refresh(&release.lifetime, now)
            }
            MapEntry::Occupied(stale) => {
                stale.remove();
                Released::Gone
            }
            MapEntry::Vacant(slot) if may_create => {
                slot.insert(fresh()).refresh(&release.lifetime, now)
            }
            MapEntry::Vacant(_) => Released::Gone,
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
        Ok(self.live_data(sid).map(|data| self.store(sid, Some(data))))
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
        let Some((_, entry)) = self.shared.sessions.remove(old_sid) else {
            return Ok(None);
        };
        if !entry.live(now) {
            return Ok(None);
        }
        let data = Arc::clone(&entry.data);
        // The entry moves whole: its expiry goes with it. (Between the remove and the
        // insert neither id is live, so a concurrent request on the old id finds nothing,
        // never both.)
        self.shared.sessions.insert(sid.to_owned(), entry);
        Ok(Some(self.store(sid, Some(data))))
    }

    async fn session_destroy(&self, _cx: &Context<'_>, sid: &str) -> Result<()> {
        self.shared.sessions.remove(sid);
        Ok(())
    }

    async fn session_all(&self) -> Result<usize> {
        let now = Instant::now();
        Ok(self
            .shared
            .sessions
            .iter()
            .filter(|e| e.value().live(now))
            .count())
    }

    async fn session_gc(&self) -> Result<()> {
        // `retain` locks one shard at a time, so requests on other shards never wait.
        let now = Instant::now();
        self.shared.sessions.retain(|_, e| e.live(now));
        Ok(())
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::NONE.merging().counting()
    }
}
