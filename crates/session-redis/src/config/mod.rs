//! [`RedisConfig`]: what `providerConfig` says, in every form users bring (see the crate
//! docs for the forms and the parameters).

mod address;
mod forms;
mod params;

use std::fmt;
use std::time::Duration;

use session_core::ConfigError;

pub use address::Address;

/// The default key prefix: keys are `session:{<id>}`.
pub const DEFAULT_PREFIX: &str = "session:";

/// The default pool size (beego's `poolsize` default).
pub const DEFAULT_POOL_SIZE: usize = 100;

/// The default master name of the sentinel form (beego's).
pub const DEFAULT_MASTER_NAME: &str = "mymaster";

/// The client-side cache's default bound in sessions (`client_cache_entries`).
pub const DEFAULT_CACHE_ENTRIES: usize = 10_000;

/// The client-side cache's default bound in bytes (`client_cache_bytes`): 64 MiB.
pub const DEFAULT_CACHE_BYTES: usize = 64 << 20;

/// The client-side cache of read-only requests (`client_cache=on`, see the crate docs):
/// whether it is on, and how much it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientCacheConfig {
    /// `client_cache=on`: off by default.
    pub enabled: bool,
    /// At most this many sessions are cached (`client_cache_entries`).
    pub max_entries: usize,
    /// At most this many bytes of sessions are cached, as the cache counts them: the keys,
    /// fields and values plus a fixed overhead per session and per value
    /// (`client_cache_bytes`).
    pub max_bytes: usize,
}

impl Default for ClientCacheConfig {
    fn default() -> Self {
        ClientCacheConfig {
            enabled: false,
            max_entries: DEFAULT_CACHE_ENTRIES,
            max_bytes: DEFAULT_CACHE_BYTES,
        }
    }
}

/// How the servers are laid out, and the engine name each registers under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topology {
    /// One server (`redis`).
    Standalone,
    /// A Redis Cluster, reached through any of its nodes (`redis_cluster`).
    Cluster,
    /// A master found through sentinels (`redis_sentinel`).
    Sentinel,
}

impl Topology {
    /// The engine name this topology registers under.
    pub fn engine(self) -> &'static str {
        match self {
            Topology::Standalone => "redis",
            Topology::Cluster => "redis_cluster",
            Topology::Sentinel => "redis_sentinel",
        }
    }

    /// The topology registered as `engine` (case-insensitive).
    pub fn from_engine(engine: &str) -> Option<Self> {
        [Topology::Standalone, Topology::Cluster, Topology::Sentinel]
            .into_iter()
            .find(|t| t.engine().eq_ignore_ascii_case(engine))
    }

    /// The port an address without one gets.
    fn default_port(self) -> u16 {
        match self {
            Topology::Sentinel => 26379,
            Topology::Standalone | Topology::Cluster => 6379,
        }
    }
}

impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.engine())
    }
}

/// A parsed `providerConfig`. Build it with [`RedisConfig::parse`]; its `Debug` output
/// shows no password.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// The layout of the servers.
    pub topology: Topology,
    /// The server (standalone), the cluster's seed nodes, or the sentinels.
    pub addresses: Vec<Address>,
    /// ACL user of the data nodes.
    pub username: Option<String>,
    /// Password of the data nodes (the master, for sentinel).
    pub password: Option<String>,
    /// ACL user of the sentinels.
    pub sentinel_username: Option<String>,
    /// Password of the sentinels.
    pub sentinel_password: Option<String>,
    /// The database number (always 0 on a cluster).
    pub db: i64,
    /// The name the sentinels know the master by.
    pub master_name: String,
    /// What every key starts with; the session id follows in braces (`session:{id}`).
    pub key_prefix: String,
    /// Connections in the pool (each a multiplexed connection; a cluster connection holds
    /// one per node).
    pub pool_size: usize,
    /// Bound on connecting, and on waiting for a free pooled connection.
    pub connect_timeout: Duration,
    /// Bound on one command's answer.
    pub response_timeout: Duration,
    /// Pooled connections idle this long are closed (beego's `idleTimeout`); `None`: kept.
    pub idle_timeout: Option<Duration>,
    /// How often idle connections are looked for (beego's `idleCheckFrequency`).
    pub idle_check_frequency: Duration,
    /// How often an operation is retried on a fresh connection when its connection turned
    /// out dead (a server restart, a failover); beego's `maxRetries`.
    pub max_retries: u32,
    /// The client-side cache of read-only requests (off by default).
    pub client_cache: ClientCacheConfig,
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = |s: &Option<String>| s.as_ref().map(|_| session_core::dsn::MASK);
        f.debug_struct("RedisConfig")
            .field("topology", &self.topology)
            .field("addresses", &self.addresses)
            .field("username", &self.username)
            .field("password", &secret(&self.password))
            .field("sentinel_username", &self.sentinel_username)
            .field("sentinel_password", &secret(&self.sentinel_password))
            .field("db", &self.db)
            .field("master_name", &self.master_name)
            .field("key_prefix", &self.key_prefix)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("idle_check_frequency", &self.idle_check_frequency)
            .field("max_retries", &self.max_retries)
            .field("client_cache", &self.client_cache)
            .finish()
    }
}

impl RedisConfig {
    /// The defaults for `topology`, with no address yet.
    pub fn new(topology: Topology) -> Self {
        RedisConfig {
            topology,
            addresses: Vec::new(),
            username: None,
            password: None,
            sentinel_username: None,
            sentinel_password: None,
            db: 0,
            master_name: DEFAULT_MASTER_NAME.to_owned(),
            key_prefix: DEFAULT_PREFIX.to_owned(),
            pool_size: DEFAULT_POOL_SIZE,
            connect_timeout: Duration::from_secs(5),
            response_timeout: Duration::from_secs(5),
            idle_timeout: None,
            idle_check_frequency: Duration::from_secs(60),
            max_retries: 3,
            client_cache: ClientCacheConfig::default(),
        }
    }

    /// Parses `providerConfig` for `topology`: beego's comma form, beego's JSON form, or
    /// `redis://` / `rediss://` / `redis+unix://` URLs (`;`-separated for several nodes or
    /// sentinels). A malformed string is an error naming the bad part, password masked.
    ///
    /// ```
    /// use session_redis::{RedisConfig, Topology};
    ///
    /// let config = RedisConfig::parse(Topology::Standalone, "127.0.0.1:6379,100,astaxie").unwrap();
    /// assert_eq!(config.addresses[0].to_string(), "127.0.0.1:6379");
    /// assert_eq!(config.pool_size, 100);
    /// assert_eq!(config.password.as_deref(), Some("astaxie"));
    /// assert!(!format!("{config:?}").contains("astaxie"));
    ///
    /// let err = RedisConfig::parse(Topology::Standalone, "127.0.0.1:6379,lots,astaxie").unwrap_err();
    /// assert!(err.to_string().contains("poolsize"), "{err}");
    /// assert!(!err.to_string().contains("astaxie"), "{err}");
    /// ```
    pub fn parse(topology: Topology, text: &str) -> Result<Self, ConfigError> {
        let mut config = RedisConfig::new(topology);
        forms::parse_into(&mut config, text.trim())
            .and_then(|()| config.check())
            .map_err(|reason| {
                ConfigError::provider(topology.engine(), reason).masking_secrets_of(text)
            })?;
        Ok(config)
    }

    /// The addresses as messages show them: `127.0.0.1:6379`, several joined by `,`; for
    /// sentinel, the master name and its sentinels.
    pub fn describe(&self) -> String {
        let list = self
            .addresses
            .iter()
            .map(Address::to_string)
            .collect::<Vec<_>>()
            .join(",");
        match self.topology {
            Topology::Standalone => list,
            Topology::Cluster => format!("cluster {list}"),
            Topology::Sentinel => format!("master `{}` via sentinels {list}", self.master_name),
        }
    }

    /// What a whole configuration must satisfy, once every part is read.
    fn check(&self) -> Result<(), String> {
        let engine = self.topology.engine();
        match (self.topology, self.addresses.len()) {
            (_, 0) => return Err(
                "no server address: give one, e.g. `127.0.0.1:6379` or `redis://127.0.0.1:6379/0`"
                    .into(),
            ),
            (Topology::Standalone, n) if n > 1 => {
                return Err(format!(
                    "engine `{engine}` takes one server address, {n} were given; use engine \
                     `redis_cluster` for a cluster or `redis_sentinel` for sentinels"
                ))
            }
            _ => {}
        }
        if self.topology == Topology::Cluster && self.db != 0 {
            return Err(format!(
                "dbnum {}: a Redis Cluster has only database 0",
                self.db
            ));
        }
        if self.topology == Topology::Sentinel && self.master_name.is_empty() {
            return Err("master_name is empty: give the name the sentinels monitor".into());
        }
        if self.key_prefix.contains(['{', '}']) {
            return Err(format!(
                "prefix `{}` contains a brace: braces would change the hash slot of keys, which \
                 are `<prefix>{{<session id>}}`",
                self.key_prefix
            ));
        }
        self.check_cache()?;
        if let Some(tls) = self.addresses.iter().find(|a| a.is_tls()) {
            if !cfg!(feature = "tls") {
                return Err(format!(
                    "`rediss://{tls}` needs TLS: enable the feature `tls` of session-redis"
                ));
            }
        }
        Ok(())
    }
}

impl RedisConfig {
    fn check_cache(&self) -> Result<(), String> {
        let cache = &self.client_cache;
        let sized =
            cache.max_entries != DEFAULT_CACHE_ENTRIES || cache.max_bytes != DEFAULT_CACHE_BYTES;
        if !cache.enabled && sized {
            return Err(
                "client_cache_entries or client_cache_bytes is set but the cache is off: add \
                 client_cache=on"
                    .into(),
            );
        }
        if cache.enabled && self.topology == Topology::Sentinel {
            return Err(format!(
                "client_cache=on is not available for `{}`: after a failover the cache would \
                 follow a demoted master; use it with `redis` or `redis_cluster`",
                self.topology.engine()
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
