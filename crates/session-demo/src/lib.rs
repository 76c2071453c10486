//! The session demo: beego's session example as a small axum app.
//!
//! Pages: `/` is beego's counter (session key `asta`: 0 on the first visit, one more on each
//! reload), `/login` stores a user name and regenerates the session id, `/logout` destroys
//! the session, `/sessions` shows the number of active sessions.
//!
//! Run it with `cargo run -p session-demo` (then open <http://127.0.0.1:8080/>); `--port N`,
//! `--provider NAME`, `--provider-config STR` and a beego-style `conf/app.conf` choose the
//! port and the engine. The pieces are public so tests (and curious readers) can build the
//! same app:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), session_demo::DemoError> {
//! use session_demo::{app, load_config, Options};
//!
//! let config = load_config(&Options { provider: Some("memory".into()), ..Options::default() })?;
//! let layer = session_demo::layer(&config).await?;
//! let router = app::router(layer);
//! // axum::serve(listener, router).await
//! # let _ = router;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod app;
mod args;
pub mod pages;

use std::path::Path;

pub use args::{Options, USAGE};
use session_web::config::{WebConfigError, WebSessionConfig};
use session_web::SessionLayer;

// Link every in-tree engine so that `--provider` can name any of them.
use session_cookie as _;
use session_couchbase as _;
use session_file as _;
use session_memcache as _;
use session_memory as _;
use session_mysql as _;
use session_postgres as _;
use session_redis as _;

/// Where the demo looks for its configuration when `--config` is not given.
pub const DEFAULT_CONFIG: &str = "conf/app.conf";

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A bad command line.
    #[error("{0}")]
    Args(String),
    /// A bad configuration file or environment variable.
    #[error(transparent)]
    Config(#[from] WebConfigError),
    /// The configuration turns sessions off.
    #[error("sessions are off (sessionon = false in {0}); the demo needs `sessionon = true`")]
    SessionsOff(String),
    /// The engine could not start.
    #[error("cannot start the session engine: {0}")]
    Session(#[from] session_core::Error),
    /// The port could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The session configuration: `--config` (or `conf/app.conf` when present; otherwise
/// beego's defaults with sessions on), then `BEEGO_*` environment variables, then the
/// `--provider` / `--provider-config` flags.
pub fn load_config(options: &Options) -> Result<WebSessionConfig, DemoError> {
    let (config, origin) = match &options.config {
        Some(path) => (
            WebSessionConfig::from_app_conf(path)?,
            path.display().to_string(),
        ),
        None if Path::new(DEFAULT_CONFIG).is_file() => (
            WebSessionConfig::from_app_conf(DEFAULT_CONFIG)?,
            DEFAULT_CONFIG.to_owned(),
        ),
        None => (
            WebSessionConfig {
                session_on: true,
                ..WebSessionConfig::default()
            },
            "the defaults".to_owned(),
        ),
    };
    let mut config = config.with_env()?;
    if let Some(provider) = &options.provider {
        config = config.with_env_from([("BEEGO_SESSIONPROVIDER", provider)])?;
    }
    if let Some(provider_config) = &options.provider_config {
        config = config.with_env_from([("BEEGO_SESSIONPROVIDERCONFIG", provider_config)])?;
    }
    if !config.session_on {
        return Err(DemoError::SessionsOff(origin));
    }
    Ok(config)
}

/// The session layer for `config` (its GC starts now).
pub async fn layer(config: &WebSessionConfig) -> Result<SessionLayer, DemoError> {
    Ok(SessionLayer::new(config.manager().await?))
}
