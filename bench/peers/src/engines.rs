//! Our side: [`session_web::SessionLayer`] on every engine of [`ENGINES`] that is linked
//! and whose server the environment names.
//!
//! An engine joins the benchmark by being linked into this crate (a path dependency in
//! `Cargo.toml` plus a `use … as _;` line below); its row in [`ENGINES`] is already there.
//! Rows of engines that are not linked are reported as such and skipped.

use std::path::Path;

use axum::routing::get;
use axum::Router;
use session_core::{Manager, ManagerConfig};
use session_web::{Session, SessionError, SessionLayer};

use crate::counters::Counted;
use crate::BoxError;

// The engines this benchmark links (each registers itself by name).
use session_cookie as _;
use session_file as _;
use session_memory as _;
use session_mysql as _;
use session_postgres as _;

/// A 32-byte secret for the cookie engine (a benchmark's own; never use a fixed key).
pub const COOKIE_KEYS: &str = r#"{"keys":["peers-benchmark-secret-0123456789abcd"]}"#;

/// Where an engine's `providerConfig` comes from.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    /// A fixed string.
    Fixed(&'static str),
    /// A fresh temporary directory (the file engine).
    TempDir,
    /// The environment variable naming the server (set by `cargo xtask bench --peers`).
    Env(&'static str),
}

/// One of our engines in the benchmark.
#[derive(Debug, Clone, Copy)]
pub struct Engine {
    /// The engine's registered name.
    pub name: &'static str,
    /// Its `providerConfig`.
    pub config: Source,
    /// How its server counts the commands a request costs.
    pub counted: fn(&str) -> Counted,
}

/// Every engine the benchmark knows, in table order.
pub const ENGINES: &[Engine] = &[
    Engine {
        name: "memory",
        config: Source::Fixed(""),
        counted: |_| Counted::Nothing,
    },
    Engine {
        name: "file",
        config: Source::TempDir,
        counted: |_| Counted::Nothing,
    },
    Engine {
        name: "cookie",
        config: Source::Fixed(COOKIE_KEYS),
        counted: |_| Counted::Nothing,
    },
    Engine {
        name: "postgres",
        config: Source::Env("POSTGRES_URL"),
        counted: |url| Counted::Postgres(url.to_owned()),
    },
    Engine {
        name: "mysql",
        config: Source::Env("MYSQL_URL"),
        counted: |url| Counted::MySql(url.to_owned()),
    },
    Engine {
        name: "redis",
        config: Source::Env("REDIS_URL"),
        counted: |url| Counted::Redis(url.to_owned()),
    },
    Engine {
        name: "memcache",
        config: Source::Env("MEMCACHE_SERVERS"),
        counted: |servers| Counted::Memcached(servers.to_owned()),
    },
];

/// The value of `var`, if set and not blank.
pub fn env(var: &str) -> Option<String> {
    std::env::var(var)
        .ok()
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// True when the engine called `name` is linked into this binary.
pub fn is_linked(name: &str) -> bool {
    session_core::registered_engines().iter().any(|n| n == name)
}

impl Engine {
    /// The engine's `providerConfig` and what its server counts, or why it is skipped.
    /// `dir` holds the file engine's sessions.
    pub fn resolve(&self, dir: &Path) -> Result<(String, Counted), String> {
        if !is_linked(self.name) {
            return Err(format!(
                "engine not linked into the benchmark (add session-{} to bench/peers)",
                self.name
            ));
        }
        let config = match self.config {
            Source::Fixed(config) => config.to_owned(),
            Source::TempDir => dir.to_string_lossy().into_owned(),
            Source::Env(var) => env(var)
                .ok_or_else(|| format!("{var} not set (cargo xtask bench --peers sets it)"))?,
        };
        let counted = (self.counted)(&config);
        Ok((config, counted))
    }
}

/// A manager on `engine` with `provider_config` and otherwise beego's defaults.
pub async fn manager(engine: &str, provider_config: &str) -> Result<Manager, BoxError> {
    let config = ManagerConfig::builder()
        .provider_config(provider_config)
        .build()?;
    Ok(Manager::new(engine, config).await?)
}

/// `/cycle` and `/read` behind our layer on `manager`.
pub fn router(manager: Manager) -> Router {
    Router::new()
        .route("/cycle", get(cycle))
        .route("/read", get(read))
        .layer(SessionLayer::new(manager))
}

async fn cycle(session: Session) -> Result<String, SessionError> {
    let n: i64 = session.get(crate::KEY).await?.unwrap_or(0);
    session.set(crate::KEY, &(n + 1)).await?;
    Ok(n.to_string())
}

async fn read(session: Session) -> Result<String, SessionError> {
    let n: i64 = session.get(crate::KEY).await?.unwrap_or(0);
    Ok(n.to_string())
}
