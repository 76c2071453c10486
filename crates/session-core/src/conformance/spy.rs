//! A provider wrapper that counts what reaches the engine, so the suite can check that
//! invalid ids never touch storage and that new visitors cost nothing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;

use crate::context::Context;
use crate::error::Result;
use crate::provider::{Capabilities, Provider};
use crate::store::Store;

/// Counts of engine calls, by kind.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    /// `session_load`, `session_read` and `session_exist`: anything that looks a session up.
    pub lookups: AtomicUsize,
    /// `session_regenerate`.
    pub regenerates: AtomicUsize,
    /// `session_destroy`.
    pub destroys: AtomicUsize,
}

impl Counts {
    pub fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }
}

/// Delegates every call to the engine and counts it.
pub(crate) struct Spy {
    pub inner: Arc<dyn Provider>,
    pub counts: Arc<Counts>,
}

fn bump(counter: &AtomicUsize) {
    counter.fetch_add(1, Ordering::SeqCst);
}

#[async_trait]
impl Provider for Spy {
    async fn session_read(&self, cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
        bump(&self.counts.lookups);
        self.inner.session_read(cx, sid).await
    }

    async fn session_exist(&self, cx: &Context<'_>, sid: &str) -> Result<bool> {
        bump(&self.counts.lookups);
        self.inner.session_exist(cx, sid).await
    }

    async fn session_regenerate(
        &self,
        cx: &Context<'_>,
        old_sid: &str,
        sid: &str,
    ) -> Result<Box<dyn Store>> {
        bump(&self.counts.regenerates);
        self.inner.session_regenerate(cx, old_sid, sid).await
    }

    async fn session_destroy(&self, cx: &Context<'_>, sid: &str) -> Result<()> {
        bump(&self.counts.destroys);
        self.inner.session_destroy(cx, sid).await
    }

    async fn session_all(&self) -> Result<usize> {
        self.inner.session_all().await
    }

    async fn session_gc(&self) -> Result<()> {
        self.inner.session_gc().await
    }

    async fn session_load(&self, cx: &Context<'_>, sid: &str) -> Result<Option<Box<dyn Store>>> {
        bump(&self.counts.lookups);
        self.inner.session_load(cx, sid).await
    }

    async fn session_create(&self, cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
        self.inner.session_create(cx, sid).await
    }

    async fn session_move(
        &self,
        cx: &Context<'_>,
        old_sid: &str,
        sid: &str,
    ) -> Result<Option<Box<dyn Store>>> {
        bump(&self.counts.regenerates);
        self.inner.session_move(cx, old_sid, sid).await
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
}
