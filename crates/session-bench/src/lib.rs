//! Whole-request scenarios for benchmarking engines, shared by the criterion benches.
//!
//! Each scenario is one request as a web app makes it: start the session from the request's
//! cookie, read or change a value, release it into the response headers.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> session_core::Result<()> {
//! let bench = session_bench::Target::new("memory", "").await?;
//! let cookie = bench.stored_session().await?;
//! bench.read_only(&cookie).await?;
//! bench.changed(&cookie, 1).await?;
//! bench.new_visitor().await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

use http::{HeaderMap, Request};
use session_cookie as _;
use session_core::{Manager, ManagerConfig, Result};
use session_file as _;
use session_memcache as _;
use session_memory as _;
use session_mysql as _;
use session_postgres as _;
use session_redis as _;

pub mod raw_redis;

/// A secret for the cookie engine's benchmarks, 32 random bytes as base64 (never use a
/// published key in an app: make your own with `openssl rand -base64 32`).
pub const BENCH_COOKIE_KEYS: &str = r#"{"keys":["eSNgJVfPEadNRWz+HkCTUsgWN1hnZ+qt9NT/OfYvN+Q="]}"#;

/// The embedded engines with their benchmark configuration, plus the server engines whose
/// servers the environment names (`MYSQL_URL`, `POSTGRES_URL`, `MEMCACHE_SERVERS`,
/// `REDIS_URL`, as
/// `cargo xtask bench` sets).
pub fn engines(file_dir: &std::path::Path) -> Vec<(&'static str, String)> {
    let mut engines = vec![
        ("memory", String::new()),
        ("file", file_dir.to_string_lossy().into_owned()),
        ("cookie", BENCH_COOKIE_KEYS.to_owned()),
    ];
    for (engine, var) in [
        ("mysql", "MYSQL_URL"),
        ("postgres", "POSTGRES_URL"),
        ("memcache", MEMCACHE_SERVERS),
        ("redis", "REDIS_URL"),
    ] {
        match std::env::var(var) {
            Ok(url) if !url.is_empty() => engines.push((engine, url)),
            _ => eprintln!("session-bench: {engine} not measured: {var} is not set (cargo xtask bench sets it)"),
        }
    }
    engines
}

/// The variable naming the memcached servers (`host:port;host:port`).
pub const MEMCACHE_SERVERS: &str = "MEMCACHE_SERVERS";

/// The session id in a `Cookie` header made by [`Target::stored_session`].
pub fn session_id(cookie: &str) -> Option<&str> {
    cookie
        .split("; ")
        .find_map(|pair| pair.strip_prefix("beegosessionID="))
}

/// A manager on one engine, and the requests to measure.
#[derive(Debug, Clone)]
pub struct Target {
    manager: Manager,
}

impl Target {
    /// A manager on `engine` with `provider_config`.
    pub async fn new(engine: &str, provider_config: &str) -> Result<Self> {
        let config = ManagerConfig::builder()
            .provider_config(provider_config)
            .build()?;
        Ok(Target {
            manager: Manager::new(engine, config).await?,
        })
    }

    /// Stores a session holding a user name and a counter; returns the `Cookie` header a
    /// browser would send back.
    pub async fn stored_session(&self) -> Result<String> {
        let session = self.manager.session_start(&Request::new(())).await?;
        session.set("user", "astaxie").await?;
        session.set("asta", &0u64).await?;
        let mut response = HeaderMap::new();
        session.release(&mut response).await?;
        Ok(response
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .collect::<Vec<_>>()
            .join("; "))
    }

    fn request(cookie: &str) -> Request<()> {
        let mut request = Request::new(());
        if let Ok(value) = cookie.parse() {
            request.headers_mut().insert("cookie", value);
        }
        request
    }

    /// A first visit whose session stays empty: no id lookup, no write.
    pub async fn new_visitor(&self) -> Result<HeaderMap> {
        let session = self.manager.session_start(&Request::new(())).await?;
        let mut response = HeaderMap::new();
        session.release(&mut response).await?;
        Ok(response)
    }

    /// A request that only reads its session (release refreshes the lifetime).
    pub async fn read_only(&self, cookie: &str) -> Result<Option<String>> {
        let session = self.manager.session_start(&Self::request(cookie)).await?;
        let user = session.get::<String>("user").await?;
        session.release(&mut HeaderMap::new()).await?;
        Ok(user)
    }

    /// A request that changes one key (beego's counter).
    pub async fn changed(&self, cookie: &str, value: u64) -> Result<()> {
        let session = self.manager.session_start(&Self::request(cookie)).await?;
        session.set("asta", &value).await?;
        session.release(&mut HeaderMap::new()).await.map(drop)
    }
}
