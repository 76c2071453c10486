//! [`Provider`]: a session engine, beego's `Provider` interface in Rust.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::config::ManagerConfig;
use crate::context::Context;
use crate::error::Result;
use crate::expiry::Lifetimes;
use crate::store::Store;

/// A session engine: where sessions live and how they are found, moved, removed and expired.
///
/// The methods are beego's, plus [`session_create`](Provider::session_create) (a new
/// session for a freshly minted id, with no lookup at all) and two fast paths whose
/// defaults are built from beego's methods and are worth overriding:
/// [`session_load`](Provider::session_load) (one round trip instead of `exist` + `read`)
/// and [`session_move`](Provider::session_move) (an atomic move).
///
/// Which methods the [`Manager`](crate::Manager) and [`Session`](crate::Session) call:
/// - a request with a valid id: `session_load`; without one (or when it finds nothing):
///   `session_create`;
/// - [`Session::regenerate`](crate::Session::regenerate) of a stored session: nothing
///   until release, then `session_move` and the release of the moved store;
/// - [`Session::destroy`](crate::Session::destroy) and
///   [`Manager::session_destroy`](crate::Manager::session_destroy): `session_destroy`;
/// - [`Manager::session_regenerate_id`](crate::Manager::session_regenerate_id):
///   `session_regenerate`; [`Manager::get_session_store`](crate::Manager::get_session_store):
///   `session_read`; GC and counts: `session_gc`, `session_all`.
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

    /// The stored session `sid`, or `None` when it is not stored (or expired).
    ///
    /// Stored bytes that do not decode are not `None`: decode them with
    /// [`SessionData::decode_stored`](crate::SessionData::decode_stored), which reads corrupt
    /// bytes as an empty (but stored) session and fails on a newer format version.
    ///
    /// The default costs two calls (`exist`, then `read`); engines should do it in one.
    async fn session_load(&self, cx: &Context<'_>, sid: &str) -> Result<Option<Box<dyn Store>>> {
        if self.session_exist(cx, sid).await? {
            self.session_read(cx, sid).await.map(Some)
        } else {
            Ok(None)
        }
    }

    /// A new, empty session under a freshly minted `sid`. Must not touch the backend: the
    /// id was just generated, so nothing can be stored under it, and a new visitor must
    /// cost nothing (the conformance suite counts). Typically
    /// `TrackedStore::boxed(sid, None, persist)`.
    async fn session_create(&self, cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>>;

    /// Moves the stored session `old_sid` to `sid`, keeping its data and its expiry, and
    /// returns it loaded from `sid`; `None`, writing nothing, when `old_sid` is not stored
    /// (gone, expired, never was). The old id stops working.
    ///
    /// This is how [`Session::regenerate`](crate::Session::regenerate) moves a session at
    /// release. The default (`session_exist`, then `session_regenerate`) costs two calls and
    /// is not atomic: engines should do it in one.
    async fn session_move(
        &self,
        cx: &Context<'_>,
        old_sid: &str,
        sid: &str,
    ) -> Result<Option<Box<dyn Store>>> {
        if self.session_exist(cx, old_sid).await? {
            self.session_regenerate(cx, old_sid, sid).await.map(Some)
        } else {
            Ok(None)
        }
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
    ///
    /// In the conformance suite this only relaxes the GC check: with
    /// `conformance::Suite::held_with` given, an engine that
    /// does not claim it must have removed an expired session from the backend after a GC
    /// pass; one that claims it need not (the backend removes it in its own time). Every
    /// other expiry check applies either way.
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
///
/// Engines take every lifetime from here (never a duration of their own), so the engine
/// and the manager cannot disagree. The typed constructors of the in-tree engines take a
/// `&ProviderInit` too; build one with [`ProviderInit::new`] from the configuration you
/// give the manager.
#[derive(Clone)]
pub struct ProviderInit {
    /// The name the engine was asked for under (e.g. `postgres` or `postgresql`).
    pub name: String,
    /// The engine's `providerConfig` string (its `Debug` output is masked).
    pub config: String,
    /// The manager's lifetime rules: `maxLifetime` (with beego's "0 means `gclifetime`"
    /// already applied), `absoluteLifetime` and `cookieLifeTime`.
    pub lifetimes: Lifetimes,
    /// The manager's configuration.
    pub manager: ManagerConfig,
}

impl std::fmt::Debug for ProviderInit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderInit")
            .field("name", &self.name)
            .field("config", &crate::dsn::Redacted(&self.config))
            .field("lifetimes", &self.lifetimes)
            .field("manager", &self.manager)
            .finish()
    }
}

impl ProviderInit {
    /// The init arguments for engine `name` under the manager configuration `config`.
    pub fn new(name: &str, config: &ManagerConfig) -> Self {
        ProviderInit {
            name: name.to_ascii_lowercase(),
            config: config.provider_config.clone(),
            lifetimes: config.lifetimes(),
            manager: config.clone(),
        }
    }

    /// How long a session without its own expiry lives after its last use
    /// (`maxLifetime`, 0 already replaced by `gclifetime`).
    pub fn max_lifetime(&self) -> Duration {
        self.lifetimes.max_lifetime
    }
}

/// The future an engine factory returns.
pub type ProviderFuture = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Arc<dyn Provider>>> + Send + 'static>,
>;
