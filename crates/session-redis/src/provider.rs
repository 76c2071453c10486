//! [`RedisProvider`]: the engine, a [`RowProvider`] on [`Backend`].

use session_core::row::RowProvider;
use session_core::{ConfigError, Lifetimes, ProviderInit, Result};

use crate::backend::Backend;
use crate::config::{RedisConfig, Topology};
use crate::conn::Redis;
use crate::layout::Keys;

/// A Redis session engine (standalone, cluster or sentinel): one connection pool per
/// provider. Nothing is sent to Redis until the first request.
#[derive(Debug, Clone)]
pub struct RedisProvider {
    rows: RowProvider<Backend>,
}

session_core::forward_provider!(RedisProvider => rows);

impl RedisProvider {
    /// A provider for `init.config` (see the crate docs), with the topology of the name it
    /// was asked for under (`redis`, `redis_cluster`, `redis_sentinel`) and the manager's
    /// lifetimes (`ProviderInit::new(name, &config)`).
    pub async fn connect(init: &ProviderInit) -> Result<Self> {
        let topology = Topology::from_engine(&init.name).ok_or_else(|| {
            ConfigError::provider(
                "redis",
                format!(
                    "`{}` is not a Redis engine name (redis, redis_cluster, redis_sentinel)",
                    init.name
                ),
            )
        })?;
        let config = RedisConfig::parse(topology, &init.config)?;
        Self::with_config(&config, init.lifetimes)
    }

    /// A provider from a parsed configuration and the manager's lifetimes. Must be called
    /// within a tokio runtime (the sentinel watcher and idle reaping run as tasks).
    pub fn with_config(config: &RedisConfig, lifetimes: Lifetimes) -> Result<Self> {
        let backend = Backend {
            redis: Redis::new(config)?,
            keys: Keys::new(&config.key_prefix),
            lifetimes,
        };
        Ok(RedisProvider {
            rows: RowProvider::new(backend),
        })
    }

    /// The engine name this provider serves (`redis`, `redis_cluster`, `redis_sentinel`).
    pub fn engine(&self) -> &'static str {
        self.rows.backend().redis.engine()
    }

    /// The backend, for its [`RowBackend`](session_core::row::RowBackend) calls (tools,
    /// tests).
    pub fn backend(&self) -> &Backend {
        self.rows.backend()
    }

    /// The key under which session `sid` is stored.
    pub fn session_key(&self, sid: &str) -> String {
        self.rows.backend().keys.session(sid)
    }
}
