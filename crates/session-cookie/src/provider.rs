//! [`CookieProvider`]: the engine. Loading opens the request's data cookie; releasing seals
//! the session into a fresh one on the response.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use session_core::http::HeaderMap;
use session_core::id::Fingerprint;
use session_core::{
    append_cookie, async_trait, Capabilities, ConfigError, Context, Error, Lifetimes,
    ManagerConfig, Persist, Provider, ProviderInit, Release, Released, Result, SessionData, Store,
    TrackedStore,
};

use crate::config::CookieConfig;
use crate::cookies::{header_text, CookieSettings};
use crate::crypto::{sealed_len, Keyring};
use crate::{ENGINE, MAX_COOKIE_BYTES};

/// The cookie engine: every session lives in an encrypted data cookie on the client.
///
/// Build it through the registry (`Manager::new("cookie", config)`) or with
/// [`CookieProvider::from_init`]. See the crate documentation for what it can and cannot do.
#[derive(Debug, Clone)]
pub struct CookieProvider {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    keyring: Keyring,
    cookie: CookieSettings,
    /// The manager's lifetimes, `maxLifetime` capped by beego's `maxage`.
    lifetimes: Lifetimes,
}

/// Unix time in milliseconds; a clock before 1970 reads as 0 (every cookie then looks
/// fresh rather than the engine failing).
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl CookieProvider {
    /// An engine from the manager's init arguments: `init.config` is parsed as
    /// [`CookieConfig`], cookie attributes come from `init.manager`, and sessions live by
    /// `init.lifetimes` (`maxLifetime` capped by `maxage` when that is set; a session's own
    /// expiry and the absolute lifetime are sealed into each cookie).
    pub fn from_init(init: &ProviderInit) -> Result<Self, ConfigError> {
        let config = CookieConfig::parse(&init.config)?;
        Self::new(&config, &init.manager)
    }

    /// An engine from an already parsed configuration and the manager's configuration.
    ///
    /// Fails when a key is missing or short, or the data cookie's name is invalid or equal
    /// to the manager's session-id cookie name.
    pub fn new(config: &CookieConfig, manager: &ManagerConfig) -> Result<Self, ConfigError> {
        let keyring = Keyring::new(config)?;
        let cookie = CookieSettings::new(manager, config)?;
        let mut lifetimes = manager.lifetimes();
        if let Some(secs) = config.max_age.filter(|&s| s > 0) {
            let max_age = Duration::from_secs(secs);
            lifetimes.max_lifetime = lifetimes.max_lifetime.min(max_age);
            lifetimes.cookie_life_time.get_or_insert(max_age);
        }
        Ok(CookieProvider {
            shared: Arc::new(Shared {
                keyring,
                cookie,
                lifetimes,
            }),
        })
    }

    /// The name of the data cookie.
    pub fn cookie_name(&self) -> &str {
        &self.shared.cookie.name
    }

    /// How long a session without its own expiry lives after its last release.
    pub fn lifetime(&self) -> Duration {
        self.shared.lifetimes.max_lifetime
    }

    /// The session data the request's data cookie holds for `sid`, if it opens. An
    /// authentic cookie in a newer format is an error, never read as empty (the newer
    /// build's instances still read it).
    fn load(&self, cx: &Context<'_>, sid: &str) -> Result<Option<SessionData>> {
        let Some(value) = cx.cookie(&self.shared.cookie.name) else {
            return Ok(None);
        };
        let opened = match self.shared.keyring.open(sid, &value, now_ms()) {
            Ok(opened) => opened,
            Err(why) => {
                tracing::debug!(
                    engine = ENGINE,
                    cookie = %self.shared.cookie.name,
                    len = value.len(),
                    reason = why.reason(),
                    "ignoring data cookie"
                );
                return Ok(None);
            }
        };
        if opened.key_index > 0 {
            tracing::debug!(
                engine = ENGINE,
                key_index = opened.key_index,
                "data cookie opened with an old key; the next release seals it with the current key"
            );
        }
        SessionData::decode_stored(&opened.body, ENGINE, sid).map(Some)
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
        response: &mut HeaderMap,
    ) -> Result<Released> {
        if release.is_new() && release.only_if_present {
            return Ok(Released::NotStored);
        }
        if release.data.is_empty() {
            if !release.is_new() {
                // Flushed: make the browser drop the now-empty session.
                append_cookie(response, &self.cookie.removal_cookie());
            }
            return Ok(Released::NotStored);
        }
        let body = release.data.encode();
        // Refuse before encrypting: the sealed length is known from the body's length.
        let ttl = release.lifetime.ttl();
        let max_age = self
            .lifetimes
            .cookie_max_age(release.data.meta().expiry, ttl);
        let bare = header_text(&self.cookie.data_cookie(String::new(), max_age)).len();
        let predicted = bare + sealed_len(body.len());
        let too_large = |size| {
            let session = Fingerprint::of(release.sid);
            tracing::warn!(
                engine = ENGINE,
                %session,
                size,
                limit = MAX_COOKIE_BYTES,
                "session too large for a cookie; nothing written"
            );
            Error::TooLarge {
                engine: ENGINE.into(),
                session,
                size,
                limit: MAX_COOKIE_BYTES,
            }
        };
        if predicted > MAX_COOKIE_BYTES {
            return Err(too_large(predicted));
        }
        // The session's own lifetime is sealed in: it ends then, whatever the cookie says.
        let expires = SystemTime::now() + ttl;
        let expires_at =
            now_ms().saturating_add(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX));
        let value = self.keyring.seal(release.sid, expires_at, &body)?;
        let cookie = self.cookie.data_cookie(value, max_age);
        let size = header_text(&cookie).len();
        if size > MAX_COOKIE_BYTES {
            return Err(too_large(size));
        }
        append_cookie(response, &cookie);
        Ok(Released::Stored { expires })
    }
}

#[async_trait]
impl Provider for CookieProvider {
    async fn session_read(&self, cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
        Ok(TrackedStore::boxed(
            sid,
            self.load(cx, sid)?.map(|data| (data, ())),
            Arc::clone(&self.shared),
        ))
    }

    async fn session_exist(&self, cx: &Context<'_>, sid: &str) -> Result<bool> {
        Ok(self.load(cx, sid)?.is_some())
    }

    async fn session_load(&self, cx: &Context<'_>, sid: &str) -> Result<Option<Box<dyn Store>>> {
        Ok(self
            .load(cx, sid)?
            .map(|data| TrackedStore::boxed(sid, Some((data, ())), Arc::clone(&self.shared))))
    }

    async fn session_create(&self, _cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
        Ok(TrackedStore::boxed(sid, None, Arc::clone(&self.shared)))
    }

    /// Re-opens the old session's cookie and returns its data under `sid`; the next release
    /// seals it bound to `sid`, which also overwrites the old cookie (same name).
    async fn session_regenerate(
        &self,
        cx: &Context<'_>,
        old_sid: &str,
        sid: &str,
    ) -> Result<Box<dyn Store>> {
        Ok(TrackedStore::boxed(
            sid,
            self.load(cx, old_sid)?.map(|data| (data, ())),
            Arc::clone(&self.shared),
        ))
    }

    /// Nothing to remove server-side, and the provider has no response to send a removal
    /// cookie on. The manager's removal of the session-id cookie is what ends the session:
    /// the data cookie is bound to the old id and never opens under another.
    async fn session_destroy(&self, _cx: &Context<'_>, sid: &str) -> Result<()> {
        let session = Fingerprint::of(sid);
        tracing::trace!(
            engine = ENGINE,
            %session,
            "destroy: the data cookie dies with its session id"
        );
        Ok(())
    }

    async fn session_all(&self) -> Result<usize> {
        Err(Error::Unsupported {
            engine: ENGINE.into(),
            what: "counting sessions (they live in the clients' cookies)",
        })
    }

    async fn session_gc(&self) -> Result<()> {
        Ok(())
    }

    /// No merging, no counting; the data lives on the client.
    fn capabilities(&self) -> Capabilities {
        Capabilities::NONE.client_side()
    }
}
