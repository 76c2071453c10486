//! [`Manager`]: beego's session manager, on the `http` crate's types so that any Rust web
//! framework can use it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use http::HeaderMap;

use crate::config::ManagerConfig;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::expiry::Lifetimes;
use crate::gc::{GcLoop, GcTask};
use crate::id::IdPolicy;
use crate::provider::{Provider, ProviderInit};
use crate::registry;
use crate::session::Session;
use crate::store::Store;
use crate::transport::{self, IdSource};

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
    lifetimes: Lifetimes,
    provider: Arc<dyn Provider>,
    policy: IdPolicy,
    secure: AtomicBool,
    cookie: transport::SessionCookieTemplate,
    /// The manager's one background GC loop, while any [`GcTask`] handle keeps it.
    gc: Mutex<Weak<GcLoop>>,
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
    /// from `config.provider_config` with `config`'s lifetimes.
    ///
    /// Fails when the configuration is invalid, no engine has that name (the error lists the
    /// registered ones and the crate to add), or the engine cannot start.
    pub async fn new(engine: &str, config: ManagerConfig) -> Result<Self> {
        config.validate()?;
        let factory = registry::lookup(engine)?;
        let provider = factory(ProviderInit::new(engine, &config)).await?;
        Self::with_provider(engine, provider, config)
    }

    /// A manager on a provider built by the caller (no registry involved). Build the
    /// provider from [`ProviderInit::new`] with this same `config`, so that both agree on
    /// the lifetimes.
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
                lifetimes: config.lifetimes(),
                cookie: transport::SessionCookieTemplate::new(&config),
                config,
                provider,
                policy,
                gc: Mutex::new(Weak::new()),
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

    /// The lifetime rules (`maxLifetime`, `absoluteLifetime`, `cookieLifeTime`).
    pub fn lifetimes(&self) -> &Lifetimes {
        &self.inner.lifetimes
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
        self.find_sid(&cx.into()).map(|(sid, _)| sid)
    }

    fn find_sid(&self, cx: &Context<'_>) -> Option<(String, IdSource)> {
        transport::find_sid(cx, &self.inner.config, &self.inner.policy)
    }

    /// The request's session: the stored one when the request carries a valid, known id;
    /// otherwise a new empty session under a fresh id (an unknown id is never adopted).
    ///
    /// A known session costs one engine call ([`Provider::session_load`]); a new one costs
    /// none until it is released holding data. Engines end each session natively at its own
    /// end; a stored session older than the absolute lifetime is over whatever the engine
    /// still holds (the setting may have been shortened since it was written): it is
    /// destroyed and a new one starts.
    pub async fn session_start<'a>(&self, cx: impl Into<Context<'a>>) -> Result<Session> {
        let cx = cx.into();
        if let Some((sid, source)) = self.find_sid(&cx) {
            if let Some(store) = self.inner.provider.session_load(&cx, &sid).await? {
                if !self.is_over(store.as_ref()).await? {
                    return Ok(Session::new(self.clone(), store.into(), true, source));
                }
                self.inner.provider.session_destroy(&cx, &sid).await?;
            }
        }
        let store = self.new_store(&cx).await?;
        Ok(Session::new(self.clone(), store, false, IdSource::Minted))
    }

    /// True when a loaded session is past its hard end although the engine returned it.
    /// Engines store every session's own end natively, so only the absolute lifetime can
    /// differ (the configuration shortened it since the record was written): the check
    /// costs nothing without one.
    async fn is_over(&self, store: &dyn Store) -> Result<bool> {
        if self.inner.lifetimes.absolute.is_none() {
            return Ok(false);
        }
        let meta = store.meta().await?;
        Ok(self.inner.lifetimes.is_over(meta.created, meta.expiry))
    }

    /// Destroys the request's session, if it has one, and tells the browser to forget the
    /// cookie (beego's `SessionDestroy`).
    pub async fn session_destroy<'a>(
        &self,
        cx: impl Into<Context<'a>>,
        response: &mut HeaderMap,
    ) -> Result<()> {
        let cx = cx.into();
        if let Some((sid, _)) = self.find_sid(&cx) {
            self.inner.provider.session_destroy(&cx, &sid).await?;
            self.send_removal_cookie(response);
        }
        Ok(())
    }

    /// Moves the request's stored session to a fresh id now and sends the new cookie
    /// (beego's `SessionRegenerateID`). Without a valid, stored id in the request, starts a
    /// new session (stored, and given a cookie, once it holds data).
    ///
    /// Inside a request that already holds a [`Session`], prefer [`Session::regenerate`],
    /// which carries changes not yet released and moves the session only if the request
    /// succeeds.
    pub async fn session_regenerate_id<'a>(
        &self,
        cx: impl Into<Context<'a>>,
        response: &mut HeaderMap,
    ) -> Result<Session> {
        let cx = cx.into();
        let Some((old, _)) = self.find_sid(&cx) else {
            return self.session_start(cx).await;
        };
        let sid = self.inner.policy.generate()?;
        let Some(store) = self.inner.provider.session_move(&cx, &old, &sid).await? else {
            let store = self.inner.provider.session_create(&cx, &sid).await?;
            return Ok(Session::new(
                self.clone(),
                store.into(),
                false,
                IdSource::Minted,
            ));
        };
        let meta = store.meta().await?;
        let remaining = self.inner.lifetimes.of(meta.created, meta.expiry).ttl();
        let max_age = self.inner.lifetimes.cookie_max_age(meta.expiry, remaining);
        self.send_session_cookie(response, &sid, max_age);
        Ok(Session::new(
            self.clone(),
            store.into(),
            true,
            IdSource::Minted,
        ))
    }

    /// The store for `sid` (beego's `GetSessionStore`). The id must pass the id policy.
    pub async fn get_session_store(&self, sid: &str) -> Result<Box<dyn Store>> {
        if !self.inner.policy.validate(sid) {
            return Err(Error::invalid_id(sid));
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

    /// Runs garbage collection every `gclifetime` seconds on the tokio runtime (beego's
    /// `go manager.GC()`). Must be called inside a tokio runtime.
    ///
    /// A manager has at most one GC loop: while one runs, this returns another handle to
    /// it (so every web layer built on one manager shares a single loop, however many
    /// layers there are). The loop runs until every handle is dropped, or until one
    /// of them is [shut down](GcTask::shutdown).
    pub fn spawn_gc(&self) -> GcTask {
        let mut slot = self.inner.gc.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(running) = slot.upgrade().filter(|gc| gc.is_running()) {
            return GcTask::join(running);
        }
        let task = GcTask::spawn(self.clone(), self.inner.config.gc_interval());
        *slot = task.downgrade();
        task
    }

    pub(crate) async fn new_store(&self, cx: &Context<'_>) -> Result<Arc<dyn Store>> {
        let sid = self.inner.policy.generate()?;
        Ok(self.inner.provider.session_create(cx, &sid).await?.into())
    }

    pub(crate) fn send_session_cookie(
        &self,
        response: &mut HeaderMap,
        sid: &str,
        max_age: Option<Duration>,
    ) {
        let config = &self.inner.config;
        if config.enable_set_cookie {
            let header = self
                .inner
                .cookie
                .header(config, self.is_secure(), sid, max_age);
            match header {
                Some(value) => {
                    response.append(http::header::SET_COOKIE, value);
                }
                None => tracing::error!("the session cookie is not a valid header value"),
            }
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
