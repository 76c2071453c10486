//! [`Provider`]: a session engine, beego's `Provider` interface in Rust.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::config::ManagerConfig;
use crate::context::Context;
use crate::error::Result;
use crate::store::Store;

/// A session engine: where sessions live and how they are found, moved, removed and expired.
///
/// The methods are beego's. Two fast paths have defaults built from them and are worth
/// overriding: [`session_load`](Provider::session_load) (one round trip instead of
/// `exist` + `read`) and [`session_create`](Provider::session_create) (no lookup at all for
/// an id that was just minted).
///
/// Stores returned by a provider follow [`Store`]'s contract; the easy way is to return a
/// [`TrackedStore`](crate::TrackedStore) and implement [`Persist`](crate::Persist).
///
/// See the crate documentation for a whole engine written against this trait.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The session `sid`: the stored one, or a new empty one if it is not stored. Reading
    /// never writes: a new session is stored by its first release that has data.
    async fn session_read(&self, cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>>;

    /// True when `sid` is stored and not expired.
    async fn session_exist(&self, cx: &Context<'_>, sid: &str) -> Result<bool>;

    /// Moves the session `old_sid` to `sid` (the old id stops working) and returns it. When
    /// `old_sid` is not stored, returns a new empty session under `sid`.
    async fn session_regenerate(
        &self,
        cx: &Context<'_>,
        old_sid: &str,
        sid: &str,
    ) -> Result<Box<dyn Store>>;

    /// Removes the session `sid`. Removing an unknown id is not an error.
    async fn session_destroy(&self, cx: &Context<'_>, sid: &str) -> Result<()>;

    /// The number of live (unexpired) sessions, or
    /// [`Error::Unsupported`](crate::Error::Unsupported) where the engine cannot count.
    async fn session_all(&self) -> Result<usize>;

    /// Removes expired sessions. Engines whose backend expires entries natively do nothing.
    async fn session_gc(&self) -> Result<()>;

    /// The stored session `sid`, or `None` when it is not stored (or expired, or unreadable).
    ///
    /// The default costs two calls (`exist`, then `read`); engines should do it in one.
    async fn session_load(&self, cx: &Context<'_>, sid: &str) -> Result<Option<Box<dyn Store>>> {
        if self.session_exist(cx, sid).await? {
            self.session_read(cx, sid).await.map(Some)
        } else {
            Ok(None)
        }
    }

    /// A new, empty session under a freshly minted `sid`, without touching the backend.
    ///
    /// The default calls [`session_read`](Provider::session_read).
    async fn session_create(&self, cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
        self.session_read(cx, sid).await
    }

    /// What this engine guarantees; the conformance suite checks what is claimed.
    fn capabilities(&self) -> Capabilities {
        Capabilities::NONE
    }
}

/// What an engine guarantees beyond the basic contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// Two requests that change different keys of one session at once both keep their
    /// changes (the engine merges change sets under a lock, transaction or CAS).
    pub merges_concurrent_changes: bool,
    /// [`Provider::session_all`] returns the exact number of live sessions.
    pub counts_sessions: bool,
    /// The backend expires sessions itself; [`Provider::session_gc`] has nothing to do.
    pub expires_natively: bool,
    /// The session data lives on the client (the cookie engine): the engine reads it from
    /// the request, so it cannot be looked up outside a request, nor revoked once the client
    /// holds it.
    pub keeps_data_on_client: bool,
}

impl Capabilities {
    /// No guarantees beyond the basic contract.
    pub const NONE: Capabilities = Capabilities {
        merges_concurrent_changes: false,
        counts_sessions: false,
        expires_natively: false,
        keeps_data_on_client: false,
    };

    /// Claims [`merges_concurrent_changes`](Self::merges_concurrent_changes).
    pub const fn merging(mut self) -> Self {
        self.merges_concurrent_changes = true;
        self
    }

    /// Claims [`counts_sessions`](Self::counts_sessions).
    pub const fn counting(mut self) -> Self {
        self.counts_sessions = true;
        self
    }

    /// Claims [`expires_natively`](Self::expires_natively).
    pub const fn native_expiry(mut self) -> Self {
        self.expires_natively = true;
        self
    }

    /// Declares [`keeps_data_on_client`](Self::keeps_data_on_client).
    pub const fn client_side(mut self) -> Self {
        self.keeps_data_on_client = true;
        self
    }
}

/// What an engine factory is given: beego's `SessionInit(gclifetime, config)` arguments plus
/// the whole manager configuration (for cookie attributes and the like).
#[derive(Debug, Clone)]
pub struct ProviderInit {
    /// The name the engine was asked for under (e.g. `postgres` or `postgresql`).
    pub name: String,
    /// How long a session lives without activity (`maxLifetime`).
    pub max_lifetime: Duration,
    /// The engine's `providerConfig` string.
    pub config: String,
    /// The manager's configuration.
    pub manager: ManagerConfig,
}

/// The future an engine factory returns.
pub type ProviderFuture = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Arc<dyn Provider>>> + Send + 'static>,
>;
