//! [`Manager`]: beego's session manager, on the `http` crate's types so that any Rust web
//! framework can use it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use http::HeaderMap;

use crate::config::ManagerConfig;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::gc::GcTask;
use crate::id::IdPolicy;
use crate::provider::{Provider, ProviderInit};
use crate::registry;
use crate::session::Session;
use crate::store::Store;
use crate::transport;

/// Starts, finds, regenerates and destroys sessions for one engine and one configuration.
///
/// Cheap to clone (an `Arc` inside); each `Manager` built by [`Manager::new`] owns its own
/// provider instance, so two managers never share state by accident.
#[derive(Clone)]
pub struct Manager {
    inner: Arc<Inner>,
}

struct Inner {
    engine: String,
    config: ManagerConfig,
    provider: Arc<dyn Provider>,
    policy: IdPolicy,
    secure: AtomicBool,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager")
            .field("engine", &self.inner.engine)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Manager {
    /// A manager on the engine registered as `engine` (case-insensitive), which is built
    /// from `config.provider_config` with `config`'s max lifetime.
    ///
    /// Fails when the configuration is invalid, no engine has that name (the error lists the
    /// registered ones and the crate to add), or the engine cannot start.
    pub async fn new(engine: &str, config: ManagerConfig) -> Result<Self> {
        config.validate()?;
        let factory = registry::lookup(engine)?;
        let init = ProviderInit {
            name: engine.to_ascii_lowercase(),
            max_lifetime: config.effective_max_lifetime(),
            config: config.provider_config.clone(),
            manager: config.clone(),
        };
        let provider = factory(init).await?;
        Self::with_provider(engine, provider, config)
    }

    /// A manager on a provider built by the caller (no registry involved).
    pub fn with_provider(
        engine: impl Into<String>,
        provider: Arc<dyn Provider>,
        config: ManagerConfig,
    ) -> Result<Self> {
        config.validate()?;
        let policy = config.id_policy()?;
        Ok(Manager {
            inner: Arc::new(Inner {
                engine: engine.into(),
                secure: AtomicBool::new(config.secure),
                config,
                provider,
                policy,
            }),
        })
    }

    /// The engine's name.
    pub fn engine(&self) -> &str {
        &self.inner.engine
    }

    /// The configuration.
    pub fn config(&self) -> &ManagerConfig {
        &self.inner.config
    }

    /// The engine instance.
    pub fn provider(&self) -> &Arc<dyn Provider> {
        &self.inner.provider
    }

    /// How ids are minted and checked.
    pub fn id_policy(&self) -> &IdPolicy {
        &self.inner.policy
    }

    /// Turns the cookie's `Secure` attribute on or off from now on (beego's `SetSecure`).
    pub fn set_secure(&self, secure: bool) {
        self.inner.secure.store(secure, Ordering::Relaxed);
    }

    /// Whether cookies are sent with `Secure`.
    pub fn is_secure(&self) -> bool {
        self.inner.secure.load(Ordering::Relaxed)
    }

    /// The valid session id the request carries, if any (cookie, then query, then header).
    pub fn session_id_of<'a>(&self, cx: impl Into<Context<'a>>) -> Option<String> {
        transport::find_sid(&cx.into(), &self.inner.config, &self.inner.policy)
    }

    /// The request's session: the stored one when the request carries a valid, known id;
    /// otherwise a new empty session under a fresh id (an unknown id is never adopted).
    ///
    /// A known session costs one engine call ([`Provider::session_load`]); a new one costs
    /// none until it is released holding data.
    pub async fn session_start<'a>(&self, cx: impl Into<Context<'a>>) -> Result<Session> {
        let cx = cx.into();
        if let Some(sid) = self.session_id_of(cx) {
            if let Some(store) = self.inner.provider.session_load(&cx, &sid).await? {
                return Ok(Session::new(self.clone(), store.into(), true));
            }
        }
        let store = self.new_store(&cx).await?;
        Ok(Session::new(self.clone(), store, false))
    }

    /// Destroys the request's session, if it has one, and tells the browser to forget the
    /// cookie (beego's `SessionDestroy`).
    pub async fn session_destroy<'a>(
        &self,
        cx: impl Into<Context<'a>>,
        response: &mut HeaderMap,
    ) -> Result<()> {
        let cx = cx.into();
        if let Some(sid) = self.session_id_of(cx) {
            self.inner.provider.session_destroy(&cx, &sid).await?;
            self.send_removal_cookie(response);
        }
        Ok(())
    }

    /// Moves the request's session to a fresh id and sends the new cookie (beego's
    /// `SessionRegenerateID`). Without a valid id in the request, starts a new session.
    ///
    /// Inside a request that already holds a [`Session`], prefer [`Session::regenerate`],
    /// which also carries changes not yet released.
    pub async fn session_regenerate_id<'a>(
        &self,
        cx: impl Into<Context<'a>>,
        response: &mut HeaderMap,
    ) -> Result<Session> {
        let cx = cx.into();
        let Some(old) = self.session_id_of(cx) else {
            return self.session_start(cx).await;
        };
        let sid = self.inner.policy.generate()?;
        let store = self
            .inner
            .provider
            .session_regenerate(&cx, &old, &sid)
            .await?;
        self.send_session_cookie(response, &sid);
        Ok(Session::new(self.clone(), store.into(), true))
    }

    /// The store for `sid` (beego's `GetSessionStore`). The id must pass the id policy.
    pub async fn get_session_store(&self, sid: &str) -> Result<Box<dyn Store>> {
        if !self.inner.policy.validate(sid) {
            return Err(Error::InvalidId(sid.chars().take(80).collect()));
        }
        self.inner
            .provider
            .session_read(&Context::detached(), sid)
            .await
    }

    /// The number of live sessions (beego's `GetActiveSession`).
    pub async fn get_active_session(&self) -> Result<usize> {
        self.inner.provider.session_all().await
    }

    /// Runs one garbage-collection pass now.
    pub async fn gc(&self) -> Result<()> {
        self.inner.provider.session_gc().await
    }

    /// Runs garbage collection every `gclifetime` seconds on the tokio runtime until the
    /// returned task is shut down or dropped (beego's `go manager.GC()`).
    pub fn spawn_gc(&self) -> GcTask {
        GcTask::spawn(self.clone(), self.inner.config.gc_interval())
    }

    pub(crate) async fn new_store(&self, cx: &Context<'_>) -> Result<Arc<dyn Store>> {
        let sid = self.inner.policy.generate()?;
        Ok(self.inner.provider.session_create(cx, &sid).await?.into())
    }

    pub(crate) fn send_session_cookie(&self, response: &mut HeaderMap, sid: &str) {
        let config = &self.inner.config;
        if config.enable_set_cookie {
            let cookie = transport::session_cookie(config, self.is_secure(), sid);
            transport::append_cookie(response, &cookie);
        }
        transport::set_sid_header(config, response, sid);
    }

    pub(crate) fn send_removal_cookie(&self, response: &mut HeaderMap) {
        let config = &self.inner.config;
        if config.enable_set_cookie {
            let cookie = transport::removal_cookie(config, self.is_secure());
            transport::append_cookie(response, &cookie);
        }
    }
}
