//! [`RowProvider`]: the [`Provider`] and [`Persist`] halves of every [`RowBackend`] engine.

use std::sync::Arc;

use async_trait::async_trait;
use http::HeaderMap;

use super::{refresh_slack, Expiry, LoadedRow, RowBackend};
use crate::cas::{self, ConditionalStore};
use crate::context::Context;
use crate::data::SessionData;
use crate::error::{Error, Result};
use crate::provider::{Capabilities, Provider};
use crate::store::Store;
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
    /// The expiry is more than the slack short of a full lifetime: touch it at release.
    refresh_due: bool,
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
            let refresh_due = match row.expiry {
                Expiry::Refreshed => false,
                Expiry::Remaining(left) => {
                    let lifetime = self.backend().lifetime();
                    lifetime.saturating_sub(left) > refresh_slack(lifetime)
                }
            };
            let token = Token {
                version: row.version,
                refresh_due,
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
    match B::MAX_DATA_SIZE {
        Some(limit) if bytes.len() > limit => Err(Error::TooLarge {
            engine: B::ENGINE.into(),
            sid: sid.to_owned(),
            size: bytes.len(),
            limit,
        }),
        _ => Ok(bytes),
    }
}

#[async_trait]
impl<B: RowBackend> ConditionalStore for Encoded<'_, B> {
    type Version = B::Version;

    async fn fetch(&self, sid: &str) -> Result<Option<(SessionData, B::Version)>> {
        self.0.fetch(sid).await
    }

    async fn create(&self, sid: &str, data: &SessionData) -> Result<bool> {
        self.0.create(sid, &encode::<B>(sid, data)?).await
    }

    async fn replace(&self, sid: &str, expected: &B::Version, data: &SessionData) -> Result<bool> {
        self.0
            .replace(sid, expected, &encode::<B>(sid, data)?)
            .await
    }
}

#[async_trait]
impl<B: RowBackend> Persist for Rows<B> {
    type Token = Token<B::Version>;

    async fn persist(&self, release: Release<'_, Self::Token>, _: &mut HeaderMap) -> Result<()> {
        match release.write {
            Write::Changes(changes) => {
                cas::write_changes(
                    &Encoded(&self.0),
                    B::ENGINE,
                    release.sid,
                    changes,
                    release.loaded.map(|token| &token.version),
                    release.data,
                    release.only_if_present,
                )
                .await?;
            }
            // A session destroyed or expired meanwhile stays gone: a request that changed
            // nothing has nothing to bring back.
            Write::Touch if release.loaded.map_or(true, |token| token.refresh_due) => {
                self.0.touch(release.sid).await?;
            }
            Write::Touch => {}
        }
        Ok(())
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

            fn capabilities(&self) -> $crate::Capabilities {
                $crate::Provider::capabilities(&self.$field)
            }
        }
    };
}
