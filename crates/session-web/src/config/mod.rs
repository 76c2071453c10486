//! beego's web session configuration: the `session*` keys of `conf/app.conf`, environment
//! overrides, and the [`ManagerConfig`] they describe.
//!
//! ```
//! use session_web::config::WebSessionConfig;
//!
//! let config = WebSessionConfig::from_app_conf_str(
//!     "appname = demo\nsessionon = true\nsessionname = sid\nsessiongcmaxlifetime = 60\n",
//!     "app.conf",
//! )?;
//! assert!(config.session_on);
//! let manager_config = config.manager_config()?;
//! assert_eq!(manager_config.cookie_name, "sid");
//! assert_eq!(manager_config.max_lifetime, 60);
//! # Ok::<(), session_web::config::WebConfigError>(())
//! ```
//!
//! A beego app's whole `conf/app.conf` loads: the app's own keys (`mysqluser = root`) are
//! kept for it, readable with beego's accessors on [`AppConf`]; `include "other.conf"` is
//! merged; beego 1.x key names are understood. Where beego would silently ignore a line or
//! fall back to a default, the same happens here and a `tracing` warning names the file,
//! the line and what is used; only what stops beego from starting is an error.
//!
//! ```
//! use session_web::config::{AppConf, WebSessionConfig};
//!
//! let app = AppConf::from_text_with_env(
//!     "appname = shop\nmysqluser = root\nSessionOn = true\n[prod]\nsessionname = shopsid\n",
//!     "conf/app.conf",
//!     |_| None,
//! )?;
//! assert_eq!(app.string("mysqluser"), "root"); // beego.AppConfig.String("mysqluser")
//! let sessions = WebSessionConfig::from_appconf(&app)?;
//! assert_eq!(sessions.name, "shopsid"); // runmode defaults to prod
//! # Ok::<(), session_web::config::WebConfigError>(())
//! ```
//!
//! Environment overrides use beego's key in upper case after `BEEGO_`:
//! `BEEGO_SESSIONON=true`, `BEEGO_SESSIONPROVIDER=file`, `BEEGO_SESSIONPROVIDERCONFIG=./tmp`,
//! `BEEGO_SESSIONCONFIG={...}` (this library's addition). `BEEGO_RUNMODE` is beego's: the
//! run mode of the app's own look-ups; beego reads its own keys, the session keys among them,
//! with the file's `runmode` (default `prod`).

mod appconf;
mod env;
mod error;
mod hints;
mod ini;
mod keys;
mod redact;
mod session;
mod values;

use std::fmt;
use std::path::Path;

use session_core::{Manager, ManagerConfig, SameSite};

pub use appconf::{AppConf, DEFAULT_RUNMODE};
pub use error::{AppConfValueError, Location, WebConfigError};
pub use keys::SESSION_KEYS;

use crate::SessionLayer;

/// The prefix of the environment variables that override app.conf keys.
pub const ENV_PREFIX: &str = "BEEGO_";

/// beego's `BConfig.WebConfig.Session`: whether sessions are on, which engine, and the
/// cookie settings, with beego's defaults.
#[derive(Clone, PartialEq, Eq)]
pub struct WebSessionConfig {
    /// `sessionon`: sessions are on (default false, as in beego).
    pub session_on: bool,
    /// `sessionprovider`: the engine's registered name, as written (default `memory`;
    /// session-core matches it case-insensitively).
    pub provider: String,
    /// `sessionname`: the cookie name (default `beegosessionID`).
    pub name: String,
    /// `sessiongcmaxlifetime`: seconds between GC passes, and a session's idle lifetime
    /// (default 3600).
    pub gc_max_lifetime: u64,
    /// `sessionproviderconfig`: the engine's configuration string (default empty).
    pub provider_config: String,
    /// `sessioncookielifetime`: the cookie's `Max-Age` in seconds; 0 (default) for a browser
    /// session cookie.
    pub cookie_lifetime: u64,
    /// `sessionabsolutelifetime` (this library's, not beego's): seconds a session lives
    /// after its creation however active it is; 0 (default) for no such limit
    /// (`ManagerConfig::absolute_lifetime`).
    pub absolute_lifetime: u64,
    /// `sessionautosetcookie`: send the cookie (default true).
    pub auto_set_cookie: bool,
    /// `sessiondomain`: the cookie's `Domain` (default none).
    pub domain: String,
    /// `sessiondisablehttponly`: leave `HttpOnly` off (default false).
    pub disable_http_only: bool,
    /// `sessionenablesidinhttpheader`: also carry the id in a header (default false).
    pub enable_sid_in_http_header: bool,
    /// `sessionnameinhttpheader`: that header (default `Beegosessionid`).
    pub name_in_http_header: String,
    /// `sessionenablesidinurlquery`: also accept the id in the URL query (default false).
    pub enable_sid_in_url_query: bool,
    /// `sessioncookiesamesite`: Go's `http.SameSite` number in app.conf (1 no attribute, 2
    /// lax, 3 strict, 4 none; default Lax, where beego sends none), also a name in `BEEGO_*`.
    pub cookie_same_site: SameSite,
    /// `sessionidprefix`: a prefix for every id (default none).
    pub id_prefix: String,
    /// `sessionhashfunc`: the id tag's MAC, `sha1` (default).
    pub hash_func: String,
    /// `sessionhashkey`: when set, ids carry an HMAC tag and forged ids are refused unseen.
    pub hash_key: String,
    /// `enablehttps`: as in beego, HTTPS makes the cookie `Secure` (default false).
    pub secure: bool,
    /// `sessionConfig`: beego's manager JSON; when set it replaces every cookie setting
    /// above (only `sessionon` and `sessionprovider` still apply), as in beego.
    pub session_config: Option<String>,
}

impl Default for WebSessionConfig {
    fn default() -> Self {
        WebSessionConfig {
            session_on: false,
            provider: "memory".to_owned(),
            name: "beegosessionID".to_owned(),
            gc_max_lifetime: 3600,
            provider_config: String::new(),
            cookie_lifetime: 0,
            absolute_lifetime: 0,
            auto_set_cookie: true,
            domain: String::new(),
            disable_http_only: false,
            enable_sid_in_http_header: false,
            name_in_http_header: "Beegosessionid".to_owned(),
            enable_sid_in_url_query: false,
            cookie_same_site: SameSite::Lax,
            id_prefix: String::new(),
            hash_func: "sha1".to_owned(),
            hash_key: String::new(),
            secure: false,
            session_config: None,
        }
    }
}

impl WebSessionConfig {
    /// Reads an app.conf file and the files it includes, with the process environment
    /// (see [`from_appconf`](Self::from_appconf)).
    pub fn from_app_conf(path: impl AsRef<Path>) -> Result<Self, WebConfigError> {
        Self::from_appconf(&AppConf::from_file(path)?)
    }

    /// Reads app.conf text (`origin` names it in messages; included files are looked for next
    /// to it) with `${NAME||default}` values and `BEEGO_RUNMODE` from the process environment.
    pub fn from_app_conf_str(text: &str, origin: &str) -> Result<Self, WebConfigError> {
        Self::from_app_conf_str_with_env(text, origin, |name| std::env::var(name).ok())
    }

    /// [`from_app_conf_str`](Self::from_app_conf_str) with the environment given by `env`.
    pub fn from_app_conf_str_with_env(
        text: &str,
        origin: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, WebConfigError> {
        Self::from_appconf(&AppConf::from_text_with_env(text, origin, env)?)
    }

    /// The session settings beego would take from `app`: each key from the section of the
    /// file's run mode, else the top level, else beego's default. Keys are case-insensitive;
    /// the app's own keys and beego's other framework keys are left to the app.
    ///
    /// A value beego cannot read (`sessionon = tRue`, `sessiongcmaxlifetime = 3600 * 24`) or
    /// an empty one falls back as in beego, with a warning naming the line and the value
    /// used. A lifetime of 0 or less, which would make beego's GC spin and expire every
    /// session at once, gives beego's default, 3600, with a warning. The one error is
    /// invalid `sessionConfig` JSON with sessions on, which stops beego too.
    pub fn from_appconf(app: &AppConf) -> Result<Self, WebConfigError> {
        session::resolve(app)
    }

    /// Applies `BEEGO_<KEY>` variables from the process environment over this configuration.
    pub fn with_env(self) -> Result<Self, WebConfigError> {
        self.with_env_from(std::env::vars())
    }

    /// Applies `BEEGO_<KEY>` variables from `vars` over this configuration. A value beego
    /// could not read is an error here (a variable is set on purpose), and so is a variable
    /// named `BEEGO_SESSION…` that is not a session key (a typo would otherwise be silently
    /// ignored).
    pub fn with_env_from<I, K, V>(mut self, vars: I) -> Result<Self, WebConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        for (name, value) in vars {
            env::apply_var(&mut self, name.as_ref(), value.as_ref())?;
        }
        Ok(self)
    }

    /// The manager configuration these settings describe: from `sessionConfig` when set (as
    /// beego does), otherwise from the individual keys. Validated.
    pub fn manager_config(&self) -> Result<ManagerConfig, WebConfigError> {
        if let Some(json) = &self.session_config {
            return Ok(ManagerConfig::from_json(json)?);
        }
        let config = ManagerConfig {
            cookie_name: self.name.clone(),
            enable_set_cookie: self.auto_set_cookie,
            gc_lifetime: self.gc_max_lifetime,
            max_lifetime: self.gc_max_lifetime,
            disable_http_only: self.disable_http_only,
            secure: self.secure,
            cookie_life_time: self.cookie_lifetime,
            absolute_lifetime: self.absolute_lifetime,
            provider_config: self.provider_config.clone(),
            domain: self.domain.clone(),
            session_id_prefix: self.id_prefix.clone(),
            session_id_hash_func: self.hash_func.clone(),
            session_id_hash_key: self.hash_key.clone(),
            enable_sid_in_http_header: self.enable_sid_in_http_header,
            session_name_in_http_header: self.name_in_http_header.clone(),
            enable_sid_in_url_query: self.enable_sid_in_url_query,
            cookie_same_site: self.cookie_same_site,
            ..ManagerConfig::default()
        };
        config.validate()?;
        Ok(config)
    }

    /// A manager on the configured engine (which must be linked: `use session_file as _;`).
    pub async fn manager(&self) -> session_core::Result<Manager> {
        let config = self.manager_config().map_err(|e| match e {
            WebConfigError::Manager(e) => session_core::Error::Config(e),
            other => session_core::Error::Config(session_core::ConfigError::provider(
                self.provider.clone(),
                other.to_string(),
            )),
        })?;
        Manager::new(&self.provider, config).await
    }

    /// The session layer when `sessionon` is true, `None` when sessions are off; put it on a
    /// router with `tower::ServiceBuilder::option_layer` or `if let Some(..)`.
    pub async fn layer(&self) -> session_core::Result<Option<SessionLayer>> {
        if !self.session_on {
            return Ok(None);
        }
        Ok(Some(SessionLayer::new(self.manager().await?)))
    }
}

impl fmt::Debug for WebSessionConfig {
    /// `sessionhashkey`, the engine's configuration and `sessionConfig` are masked: they can
    /// hold keys and passwords.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use redact::shown_value;
        f.debug_struct("WebSessionConfig")
            .field("session_on", &self.session_on)
            .field("provider", &self.provider)
            .field("name", &self.name)
            .field("gc_max_lifetime", &self.gc_max_lifetime)
            .field(
                "provider_config",
                &shown_value("sessionproviderconfig", &self.provider_config),
            )
            .field("cookie_lifetime", &self.cookie_lifetime)
            .field("absolute_lifetime", &self.absolute_lifetime)
            .field("auto_set_cookie", &self.auto_set_cookie)
            .field("domain", &self.domain)
            .field("disable_http_only", &self.disable_http_only)
            .field("enable_sid_in_http_header", &self.enable_sid_in_http_header)
            .field("name_in_http_header", &self.name_in_http_header)
            .field("enable_sid_in_url_query", &self.enable_sid_in_url_query)
            .field("cookie_same_site", &self.cookie_same_site)
            .field("id_prefix", &self.id_prefix)
            .field("hash_func", &self.hash_func)
            .field("hash_key", &shown_value("sessionhashkey", &self.hash_key))
            .field("secure", &self.secure)
            .field(
                "session_config",
                &self
                    .session_config
                    .as_deref()
                    .map(|json| shown_value("sessionconfig", json)),
            )
            .finish()
    }
}
