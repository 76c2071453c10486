//! The engines the HTTP suites run on, and their `providerConfig` for one test: a
//! directory, table or key prefix of the test's own on the server `cargo xtask test` names
//! (the same variables the engines' own tests read: `MYSQL_URL`, `POSTGRES_URL`,
//! `REDIS_URL`, `REDIS_CLUSTER_URLS`, `MEMCACHE_SERVERS`). Without its variable an engine
//! is skipped, with a line on stderr saying so.

use session_testkit::servers::{self, redis};
use session_testkit::sql::{unique_table, with_params};
use tempfile::TempDir;

/// An engine that claims to merge concurrent changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// `memory`.
    Memory,
    /// `file`.
    File,
    /// `mysql` (MariaDB here).
    Mysql,
    /// `postgres`.
    Postgres,
    /// `redis`, one server.
    Redis,
    /// `redis_cluster`.
    RedisCluster,
    /// `memcache`.
    Memcache,
}

/// What a test runs on: the engine's name, its `providerConfig`, and what must live as
/// long as the test (a temporary directory).
pub struct Target {
    /// The registered name.
    pub engine: &'static str,
    /// The `providerConfig`.
    pub config: String,
    /// Kept alive for the test.
    pub _dir: Option<TempDir>,
}

impl Engine {
    /// Every engine that claims to merge.
    pub const MERGING: [Engine; 7] = [
        Engine::Memory,
        Engine::File,
        Engine::Mysql,
        Engine::Postgres,
        Engine::Redis,
        Engine::RedisCluster,
        Engine::Memcache,
    ];

    /// The name it registers under.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Memory => "memory",
            Engine::File => "file",
            Engine::Mysql => "mysql",
            Engine::Postgres => "postgres",
            Engine::Redis => "redis",
            Engine::RedisCluster => "redis_cluster",
            Engine::Memcache => "memcache",
        }
    }

    /// The variable naming its server, if it needs one.
    pub fn env_var(self) -> Option<&'static str> {
        match self {
            Engine::Memory | Engine::File => None,
            Engine::Mysql => Some("MYSQL_URL"),
            Engine::Postgres => Some("POSTGRES_URL"),
            Engine::Redis => Some(redis::URL_VAR),
            Engine::RedisCluster => Some(redis::CLUSTER_URLS_VAR),
            Engine::Memcache => Some("MEMCACHE_SERVERS"),
        }
    }

    /// Its configuration for `test` on the run's server; `None` (after saying so on stderr)
    /// when the server's variable is not set.
    pub fn target(self, test: &str) -> Option<Target> {
        let test = format!("{test} ({})", self.name());
        let server = match self.env_var() {
            Some(var) => Some(servers::from_env(var, &test)?),
            None => None,
        };
        let own = unique_table("http");
        // `server` is `Some` for every engine with a variable (or we returned above).
        let (config, dir) = match self {
            Engine::Memory => (String::new(), None),
            Engine::File => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                (dir.path().join("sessions").display().to_string(), Some(dir))
            }
            Engine::Mysql | Engine::Postgres => {
                (with_params(&server?, &format!("table={own}")), None)
            }
            Engine::Redis | Engine::RedisCluster => {
                (with_params(&server?, &format!("prefix={own}:")), None)
            }
            Engine::Memcache => (with_params(&server?, &format!("key_prefix={own}:")), None),
        };
        Some(Target {
            engine: self.name(),
            config,
            _dir: dir,
        })
    }
}
