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
//! Environment overrides use beego's key in upper case after `BEEGO_`:
//! `BEEGO_SESSIONON=true`, `BEEGO_SESSIONPROVIDER=file`, `BEEGO_SESSIONPROVIDERCONFIG=./tmp`,
//! `BEEGO_SESSIONCONFIG={...}`. `BEEGO_RUNMODE` picks the app.conf `[section]` in force
//! (default: the file's `runmode`, else `dev`).

mod appconf;
mod error;
mod keys;

use std::path::Path;

use session_core::{Manager, ManagerConfig, SameSite};

pub use error::{Location, WebConfigError};
pub use keys::SESSION_KEYS;

use crate::SessionLayer;

/// The prefix of the environment variables that override app.conf keys.
pub const ENV_PREFIX: &str = "BEEGO_";

/// beego's `BConfig.WebConfig.Session`: whether sessions are on, which engine, and the
/// cookie settings, with beego's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSessionConfig {
    /// `sessionon`: sessions are on (default false, as in beego).
    pub session_on: bool,
    /// `sessionprovider`: the engine's registered name (default `memory`).
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
    /// `sessioncookiesamesite`: lax (default), strict, none, default, or Go's numbers 0-4.
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
    /// Reads an app.conf file (see [`from_app_conf_str`](Self::from_app_conf_str)).
    pub fn from_app_conf(path: impl AsRef<Path>) -> Result<Self, WebConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| WebConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_app_conf_str(&text, &path.display().to_string())
    }

    /// Reads app.conf text (`origin` names it in errors) over the defaults, with
    /// `${NAME||default}` values and `BEEGO_RUNMODE` taken from the process environment.
    ///
    /// Keys are case-insensitive. beego's other framework keys (`appname`, `httpport`, …) are
    /// accepted and ignored; any other key, and any bad value, is an error naming it and its
    /// line. Keys in the `[section]` named by the run mode override top-level ones.
    pub fn from_app_conf_str(text: &str, origin: &str) -> Result<Self, WebConfigError> {
        Self::from_app_conf_str_with_env(text, origin, |name| std::env::var(name).ok())
    }

    /// [`from_app_conf_str`](Self::from_app_conf_str) with the environment given by `env`.
    pub fn from_app_conf_str_with_env(
        text: &str,
        origin: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, WebConfigError> {
        let entries = appconf::parse(text, origin, &env)?;
        for entry in &entries {
            keys::check_key(&entry.key, &entry.written, &entry.at)?;
        }
        let runmode = env("BEEGO_RUNMODE")
            .or_else(|| {
                appconf::effective(&entries, "")
                    .iter()
                    .find(|e| e.key == "runmode")
                    .map(|e| e.value.clone())
            })
            .unwrap_or_else(|| "dev".to_owned())
            .to_ascii_lowercase();
        let mut config = WebSessionConfig::default();
        for entry in appconf::effective(&entries, &runmode) {
            keys::apply(&mut config, &entry.key, &entry.value, &entry.at)?;
        }
        Ok(config)
    }

    /// Applies `BEEGO_<KEY>` variables from the process environment over this configuration.
    pub fn with_env(self) -> Result<Self, WebConfigError> {
        self.with_env_from(std::env::vars())
    }

    /// Applies `BEEGO_<KEY>` variables from `vars` over this configuration. A variable named
    /// `BEEGO_SESSION…` that is not a session key is an error (a typo would otherwise be
    /// silently ignored).
    pub fn with_env_from<I, K, V>(mut self, vars: I) -> Result<Self, WebConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        for (name, value) in vars {
            let name = name.as_ref();
            let Some(key) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let key = key.to_ascii_lowercase();
            let at = Location::Env {
                var: name.to_owned(),
            };
            if SESSION_KEYS.contains(&key.as_str()) || key == "enablehttps" {
                keys::apply(&mut self, &key, value.as_ref().trim(), &at)?;
            } else if key.starts_with("session") {
                keys::check_key(&key, name, &at)?;
            }
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
