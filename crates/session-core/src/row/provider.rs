//! [`RowProvider`]: the [`Provider`] and [`Persist`] halves of every [`RowBackend`] engine.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use http::HeaderMap;

use super::{LoadedRow, RowBackend, Ttl};
use crate::cas::{self, ConditionalStore, Merge, Merged};
use crate::context::Context;
use crate::data::SessionData;
use crate::error::{Error, Result};
use crate::expiry::{Lifetime, Lifetimes};
use crate::id::Fingerprint;
use crate::provider::{Capabilities, Provider};
use crate::store::{Released, Store};
use crate::tracked::{Persist, Release, TrackedStore, Write};

/// How many GC batches one pass deletes at most; the next pass carries on, so one pass
/// never keeps the backend busy for long.
pub const GC_MAX_BATCHES: usize = 100;

/// A session engine made of a [`RowBackend`]: implements [`Provider`] (and, for its
/// sessions, [`Persist`]) once for all such backends. Cloning shares the backend.
pub struct RowProvider<B> {
    rows: Arc<Rows<B>>,
}

/// The backend as the [`Persist`] half of its sessions.
struct Rows<B>(B);

/// What a loaded session remembers for its release.
struct Token<V> {
    version: V,
    /// How long the record had left at `loaded_at`.
    ttl: Ttl,
    loaded_at: Instant,
}

impl<V> Token<V> {
    /// How long the record has left now.
    fn left(&self) -> Duration {
        self.ttl.left().saturating_sub(self.loaded_at.elapsed())
    }
}

impl<B> Clone for RowProvider<B> {
    fn clone(&self) -> Self {
        RowProvider {
            rows: Arc::clone(&self.rows),
        }
    }
}

impl<B: std::fmt::Debug> std::fmt::Debug for RowProvider<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RowProvider").field(&self.rows.0).finish()
    }
}

impl<B: RowBackend> RowProvider<B> {
    /// The engine on `backend`.
    pub fn new(backend: B) -> Self {
        RowProvider {
            rows: Arc::new(Rows(backend)),
        }
    }

    /// The backend (for engine-specific accessors such as a connection pool).
    pub fn backend(&self) -> &B {
        &self.rows.0
    }

    fn store(&self, sid: &str, found: Option<LoadedRow<B::Version>>) -> Box<dyn Store> {
        let found = found.map(|row| {
            let token = Token {
                version: row.version,
                ttl: row.ttl,
                loaded_at: Instant::now(),
            };
            (row.data, token)
        });
        TrackedStore::boxed(sid, found, Arc::clone(&self.rows))
    }
}

/// The backend seen by [`cas::write_changes`]: sessions are encoded, and checked against
/// the backend's size limit, on the way in.
struct Encoded<'a, B>(&'a B);

fn encode<B: RowBackend>(sid: &str, data: &SessionData) -> Result<Vec<u8>> {
    let bytes = data.encode();
    check_size::<B>(sid, bytes.len())?;
    Ok(bytes)
}

fn check_size<B: RowBackend>(sid: &str, size: usize) -> Result<()> {
    match B::MAX_DATA_SIZE {
        Some(limit) if size > limit => Err(Error::TooLarge {
            engine: B::ENGINE.into(),
            session: Fingerprint::of(sid),
            size,
            limit,
        }),
        _ => Ok(()),
    }
}

#[async_trait]
impl<B: RowBackend> ConditionalStore for Encoded<'_, B> {
    type Version = B::Version;

    async fn fetch(&self, sid: &str) -> Result<Option<(SessionData, B::Version)>> {
        self.0.fetch(sid).await
    }

    async fn create(&self, sid: &str, data: &SessionData, lifetime: &Lifetime) -> Result<bool> {
        self.0.create(sid, &encode::<B>(sid, data)?, lifetime).await
    }

    async fn replace(
        &self,
        sid: &str,
        expected: &B::Version,
        data: &SessionData,
        lifetime: &Lifetime,
    ) -> Result<bool> {
        self.0
            .replace(sid, expected, &encode::<B>(sid, data)?, lifetime)
            .await
    }
}

/// The end of a record written now with `lifetime`.
fn stored(lifetime: &Lifetime) -> Released {
    Released::Stored {
        expires: lifetime.expires_at(),
    }
}

impl<B: RowBackend> Rows<B> {
    async fn write_changes(
        &self,
        release: &Release<'_, Token<B::Version>>,
        changes: &crate::ChangeSet,
    ) -> Result<Released> {
        let (sid, data) = (release.sid, release.data);
        // A backend that replays changes itself does so in one call, never retrying.
        check_size::<B>(sid, data.payload_len())?;
        let merged = self
            .0
            .merge(
                sid,
                changes,
                data,
                &release.lifetime,
                release.only_if_present,
            )
            .await?;
        if let Some(written) = merged {
            return Ok(if written {
                stored(&release.lifetime)
            } else {
                Released::Gone
            });
        }
        let merge = Merge {
            engine: B::ENGINE,
            sid,
            changes,
            loaded: release.loaded.map(|token| &token.version),
            data,
            only_if_present: release.only_if_present,
            lifetimes: release.lifetimes,
        };
        Ok(match cas::write_changes(&Encoded(&self.0), merge).await? {
            Merged::Written { lifetime, .. } => stored(&lifetime),
            Merged::Gone => Released::Gone,
        })
    }
}

#[async_trait]
impl<B: RowBackend> Persist for Rows<B> {
    type Token = Token<B::Version>;

    fn lifetimes(&self) -> &Lifetimes {
        self.0.lifetimes()
    }

    fn touch_not_due(&self, token: &Self::Token, lifetime: &Lifetime) -> Option<SystemTime> {
        // A load that refreshed the record reports it written (`persist`), so the cookie
        // follows; otherwise the 1 % rule.
        let left = token.left();
        let not_due = matches!(token.ttl, Ttl::Left(_)) && !lifetime.refresh_due(left);
        not_due.then(|| SystemTime::now() + left)
    }

    async fn persist(
        &self,
        release: Release<'_, Self::Token>,
        _: &mut HeaderMap,
    ) -> Result<Released> {
        match release.write {
            Write::Changes(changes) => self.write_changes(&release, changes).await,
            Write::Touch => {
                if let Some(token) = release.loaded {
                    if let Ttl::Refreshed(_) = token.ttl {
                        // The load refreshed the record: this request did write its expiry.
                        let expires = SystemTime::now() + token.left();
                        return Ok(Released::Stored { expires });
                    }
                }
                // Otherwise reached when the refresh is due (see `touch_not_due`) or the
                // session was created in this request. A session destroyed or expired
                // meanwhile stays gone: a request that changed nothing has nothing to bring
                // back.
                Ok(if self.0.touch(release.sid, &release.lifetime).await? {
                    stored(&release.lifetime)
                } else {
                    Released::Gone
                })
            }
        }
    }
}

#[async_trait]
impl<B: RowBackend> Provider for RowProvider<B> {
    async fn session_read(&self, _cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
        Ok(self.store(sid, self.backend().load(sid).await?))
    }

    async fn session_exist(&self, _cx: &Context<'_>, sid: &str) -> Result<bool> {
        self.backend().exists(sid).await
    }

    async fn session_load(&self, _cx: &Context<'_>, sid: &str) -> Result<Option<Box<dyn Store>>> {
        let found = self.backend().load(sid).await?;
        Ok(found.map(|row| self.store(sid, Some(row))))
    }

    async fn session_create(&self, _cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
        Ok(self.store(sid, None))
    }

    async fn session_regenerate(
        &self,
        _cx: &Context<'_>,
        old_sid: &str,
        sid: &str,
    ) -> Result<Box<dyn Store>> {
        Ok(self.store(sid, self.backend().rename(old_sid, sid).await?))
    }

    async fn session_move(
        &self,
        _cx: &Context<'_>,
        old_sid: &str,
        sid: &str,
    ) -> Result<Option<Box<dyn Store>>> {
        let moved = self.backend().rename(old_sid, sid).await?;
        Ok(moved.map(|row| self.store(sid, Some(row))))
    }

    async fn session_destroy(&self, _cx: &Context<'_>, sid: &str) -> Result<()> {
        self.backend().destroy(sid).await
    }

    async fn session_all(&self) -> Result<usize> {
        self.backend().count_live().await
    }

    async fn session_gc(&self) -> Result<()> {
        let mut removed = 0;
        for _ in 0..GC_MAX_BATCHES {
            let n = self.backend().delete_expired().await?;
            removed += n;
            if n < B::GC_BATCH {
                break;
            }
            tokio::task::yield_now().await;
        }
        tracing::debug!(engine = B::ENGINE, removed, "GC pass done");
        Ok(())
    }

    fn capabilities(&self) -> Capabilities {
        self.backend().capabilities()
    }
}

/// Implements [`Provider`] for an engine's own type by handing every call to its field
/// `$field`, a [`RowProvider`] (or any provider): for engines that wrap a `RowProvider` in
/// a type of their own, to give it constructors and accessors. For
/// `pub struct MyProvider(RowProvider<MyBackend>)` that is
/// `session_core::forward_provider!(MyProvider => 0);` (the SQL engines do this).
#[macro_export]
macro_rules! forward_provider {
    ($ty:ty => $field:tt) => {
        #[$crate::async_trait]
        impl $crate::Provider for $ty {
            async fn session_read(
                &self,
                cx: &$crate::Context<'_>,
                sid: &str,
            ) -> $crate::Result<::std::boxed::Box<dyn $crate::Store>> {
                $crate::Provider::session_read(&self.$field, cx, sid).await
            }

            async fn session_exist(
                &self,
                cx: &$crate::Context<'_>,
                sid: &str,
            ) -> $crate::Result<bool> {
                $crate::Provider::session_exist(&self.$field, cx, sid).await
            }

            async fn session_regenerate(
                &self,
                cx: &$crate::Context<'_>,
                old_sid: &str,
                sid: &str,
            ) -> $crate::Result<::std::boxed::Box<dyn $crate::Store>> {
                $crate::Provider::session_regenerate(&self.$field, cx, old_sid, sid).await
            }

            async fn session_destroy(
                &self,
                cx: &$crate::Context<'_>,
                sid: &str,
            ) -> $crate::Result<()> {
                $crate::Provider::session_destroy(&self.$field, cx, sid).await
            }

            async fn session_all(&self) -> $crate::Result<usize> {
                $crate::Provider::session_all(&self.$field).await
            }

            async fn session_gc(&self) -> $crate::Result<()> {
                $crate::Provider::session_gc(&self.$field).await
            }

            async fn session_load(
                &self,
                cx: &$crate::Context<'_>,
                sid: &str,
            ) -> $crate::Result<::std::option::Option<::std::boxed::Box<dyn $crate::Store>>> {
                $crate::Provider::session_load(&self.$field, cx, sid).await
            }

            async fn session_create(
                &self,
                cx: &$crate::Context<'_>,
                sid: &str,
            ) -> $crate::Result<::std::boxed::Box<dyn $crate::Store>> {
                $crate::Provider::session_create(&self.$field, cx, sid).await
            }

            async fn session_move(
                &self,
                cx: &$crate::Context<'_>,
                old_sid: &str,
                sid: &str,
            ) -> $crate::Result<::std::option::Option<::std::boxed::Box<dyn $crate::Store>>> {
                $crate::Provider::session_move(&self.$field, cx, old_sid, sid).await
            }

            fn capabilities(&self) -> $crate::Capabilities {
                $crate::Provider::capabilities(&self.$field)
            }
        }
    };
}
