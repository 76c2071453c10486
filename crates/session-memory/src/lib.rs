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
use std::time::{Duration, Instant};

use dashmap::mapref::entry::Entry as MapEntry;
use dashmap::DashMap;
use session_core::http::HeaderMap;
use session_core::{
    async_trait, Capabilities, Context, Persist, Provider, ProviderInit, Release, Result,
    SessionData, Store, TrackedStore, Write,
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
    max_lifetime: Duration,
}

#[derive(Debug)]
struct Entry {
    data: SessionData,
    expires: Instant,
}

impl Entry {
    fn live(&self, now: Instant) -> bool {
        self.expires > now
    }
}

impl MemoryProvider {
    /// An empty engine whose sessions live `max_lifetime` after their last use.
    pub fn new(max_lifetime: Duration) -> Self {
        MemoryProvider {
            shared: Arc::new(Shared {
                sessions: DashMap::new(),
                max_lifetime,
            }),
        }
    }

    /// An engine from the manager's init arguments.
    pub fn from_init(init: &ProviderInit) -> Self {
        Self::new(init.max_lifetime)
    }

    fn live_data(&self, sid: &str) -> Option<SessionData> {
        let now = Instant::now();
        self.shared
            .sessions
            .get(sid)
            .filter(|e| e.live(now))
            .map(|e| e.data.clone())
    }
}

#[async_trait]
impl Persist for Shared {
    type Token = ();

    async fn persist(&self, release: Release<'_, ()>, _response: &mut HeaderMap) -> Result<()> {
        let now = Instant::now();
        let expires = now + self.max_lifetime;
        match self.sessions.entry(release.sid.to_owned()) {
            MapEntry::Occupied(mut stored) if stored.get().live(now) => {
                let entry = stored.get_mut();
                if let Write::Changes(changes) = release.write {
                    changes.apply_to(&mut entry.data);
                }
                entry.expires = expires;
            }
            MapEntry::Occupied(stale) => {
                if release.only_if_present {
                    stale.remove();
                } else {
                    stale.replace_entry(Entry {
                        data: release.data.clone(),
                        expires,
                    });
                }
            }
            MapEntry::Vacant(slot) => {
                if !release.only_if_present {
                    slot.insert(Entry {
                        data: release.data.clone(),
                        expires,
                    });
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Provider for MemoryProvider {
    async fn session_read(&self, _cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
        Ok(TrackedStore::boxed(
            sid,
            self.live_data(sid).map(|data| (data, ())),
            Arc::clone(&self.shared),
        ))
    }

    async fn session_exist(&self, _cx: &Context<'_>, sid: &str) -> Result<bool> {
        Ok(self.live_data(sid).is_some())
    }

    async fn session_load(&self, _cx: &Context<'_>, sid: &str) -> Result<Option<Box<dyn Store>>> {
        Ok(self
            .live_data(sid)
            .map(|data| TrackedStore::boxed(sid, Some((data, ())), Arc::clone(&self.shared))))
    }

    async fn session_create(&self, _cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
        Ok(TrackedStore::boxed(sid, None, Arc::clone(&self.shared)))
    }

    async fn session_regenerate(
        &self,
        _cx: &Context<'_>,
        old_sid: &str,
        sid: &str,
    ) -> Result<Box<dyn Store>> {
        let now = Instant::now();
        let moved = self
            .shared
            .sessions
            .remove(old_sid)
            .filter(|(_, e)| e.live(now))
            .map(|(_, e)| e.data);
        if let Some(data) = &moved {
            self.shared.sessions.insert(
                sid.to_owned(),
                Entry {
                    data: data.clone(),
                    expires: now + self.shared.max_lifetime,
                },
            );
        }
        Ok(TrackedStore::boxed(
            sid,
            moved.map(|data| (data, ())),
            Arc::clone(&self.shared),
        ))
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
