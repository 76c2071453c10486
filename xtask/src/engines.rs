//! The session engines xtask knows about, and how each gets its server.
//!
//! To plug in a new engine, add a row to [`ENGINES`]. A row only matters once its package is a
//! member of the workspace, so rows may be added before the crate exists. Several engines may
//! share a package (`redis`, `redis_cluster` and `redis_sentinel` are all `session-redis`):
//! the package's tests then run once per engine, each time with only that engine's variables
//! set, and each engine gets its own line in the summary.

use std::fmt;

use session_testkit::servers::redis;
use session_testkit::servers::ServerKind;

/// What xtask starts for an engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    /// `instances` independent servers of `kind`, passed as one `;`-separated list.
    Servers {
        /// The kind of server.
        kind: ServerKind,
        /// How many independent instances.
        instances: usize,
    },
    /// A 3-master Redis Cluster; the variable lists its nodes.
    RedisCluster,
    /// A Redis master, its replica and a sentinel; the variable lists the sentinels and
    /// [`redis::SENTINEL_MASTER_VAR`] names the master.
    RedisSentinel,
}

impl Topology {
    /// Variables set for the engine besides its own [`Engine::env_var`].
    pub fn extra_vars(self) -> &'static [&'static str] {
        match self {
            Topology::RedisSentinel => &[redis::SENTINEL_MASTER_VAR],
            Topology::Servers { .. } | Topology::RedisCluster => &[],
        }
    }
}

impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Topology::Servers { kind, instances: 1 } => write!(f, "{kind}"),
            Topology::Servers { kind, instances } => write!(f, "{instances} x {kind}"),
            Topology::RedisCluster => f.write_str("redis cluster (3 masters)"),
            Topology::RedisSentinel => f.write_str("redis master + replica + sentinel"),
        }
    }
}

/// Where an engine's tests get their server from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The engine needs no server.
    None,
    /// xtask starts the topology unless the engine's environment variable is already set.
    Local(Topology),
    /// Only an external server named by the environment variable. When it is unset the
    /// engine's tests still run (unit tests need no server; the others say they skip) and
    /// the engine is reported as skipped.
    External,
}

/// One session engine of the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Engine {
    /// The engine's name (as in `SESSION_SKIP` and `cargo xtask conformance NAME`).
    pub name: &'static str,
    /// The Cargo package that implements it (several engines may share one).
    pub package: &'static str,
    /// Where its server comes from.
    pub backend: Backend,
    /// The environment variable through which its tests find the server.
    pub env_var: Option<&'static str>,
}

/// Every known engine, in the order they are tested and reported.
pub const ENGINES: &[Engine] = &[
    Engine {
        name: "memory",
        package: "session-memory",
        backend: Backend::None,
        env_var: None,
    },
    Engine {
        name: "file",
        package: "session-file",
        backend: Backend::None,
        env_var: None,
    },
    Engine {
        name: "cookie",
        package: "session-cookie",
        backend: Backend::None,
        env_var: None,
    },
    Engine {
        name: "mysql",
        package: "session-mysql",
        backend: Backend::Local(Topology::Servers {
            kind: ServerKind::MariaDb,
            instances: 1,
        }),
        env_var: Some("MYSQL_URL"),
    },
    Engine {
        name: "postgres",
        package: "session-postgres",
        backend: Backend::Local(Topology::Servers {
            kind: ServerKind::Postgres,
            instances: 1,
        }),
        env_var: Some("POSTGRES_URL"),
    },
    Engine {
        name: "redis",
        package: "session-redis",
        backend: Backend::Local(Topology::Servers {
            kind: ServerKind::Redis,
            instances: 1,
        }),
        env_var: Some(redis::URL_VAR),
    },
    Engine {
        name: "redis_cluster",
        package: "session-redis",
        backend: Backend::Local(Topology::RedisCluster),
        env_var: Some(redis::CLUSTER_URLS_VAR),
    },
    Engine {
        name: "redis_sentinel",
        package: "session-redis",
        backend: Backend::Local(Topology::RedisSentinel),
        env_var: Some(redis::SENTINEL_URLS_VAR),
    },
    Engine {
        name: "memcache",
        package: "session-memcache",
        backend: Backend::Local(Topology::Servers {
            kind: ServerKind::Memcached,
            instances: 2,
        }),
        env_var: Some("MEMCACHE_SERVERS"),
    },
    Engine {
        name: "couchbase",
        package: "session-couchbase",
        backend: Backend::External,
        env_var: Some("COUCHBASE_CONNSTR"),
    },
];

/// The engine called `name`, if any.
pub fn by_name(name: &str) -> Option<&'static Engine> {
    ENGINES.iter().find(|engine| engine.name == name)
}

/// True when `package` implements at least one engine.
pub fn is_engine_package(package: &str) -> bool {
    ENGINES.iter().any(|engine| engine.package == package)
}

/// What has to happen for an engine before its tests run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provision {
    /// Its tests do not run; the reason is reported.
    Skip(String),
    /// Nothing: no server needed, or an external one is named by the environment.
    Ready,
    /// Its external server is not named: its tests run without one (those that need it
    /// say they are skipped) and it is reported as skipped, with the reason.
    WithoutServer(String),
    /// xtask starts the topology and sets `env_var` (and the topology's extra variables).
    Start {
        /// What to start.
        topology: Topology,
        /// The variable to set.
        env_var: &'static str,
    },
}

impl Engine {
    /// Every variable through which the engine's tests find their servers.
    pub fn vars(&self) -> Vec<&'static str> {
        let extra = match self.backend {
            Backend::Local(topology) => topology.extra_vars(),
            Backend::None | Backend::External => &[],
        };
        self.env_var.iter().chain(extra).copied().collect()
    }

    /// The variables of the other engines implemented by the same package: unset while this
    /// engine's run of the package's tests, so that each run tests one engine.
    pub fn sibling_vars(&self) -> Vec<&'static str> {
        ENGINES
            .iter()
            .filter(|other| other.package == self.package && other.name != self.name)
            .flat_map(Engine::vars)
            .filter(|var| !self.vars().contains(var))
            .collect()
    }

    /// Decides what `self` needs, given the engines listed in `SESSION_SKIP` and a lookup of
    /// environment variables (empty values count as unset).
    pub fn provision(&self, skip: &[String], env: impl Fn(&str) -> Option<String>) -> Provision {
        if skip.iter().any(|name| name == self.name) {
            return Provision::Skip("listed in SESSION_SKIP".into());
        }
        let external = self
            .env_var
            .is_some_and(|var| env(var).is_some_and(|value| !value.is_empty()));
        match (self.backend, self.env_var) {
            (Backend::None, _) => Provision::Ready,
            (_, Some(_)) if external => Provision::Ready,
            (Backend::Local(topology), Some(env_var)) => Provision::Start { topology, env_var },
            (Backend::External, Some(var)) => Provision::WithoutServer(format!("{var} not set")),
            (_, None) => Provision::Skip("no environment variable configured".into()),
        }
    }
}

/// Parses `SESSION_SKIP` (comma separated engine names, blanks ignored).
pub fn parse_skip_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(name: &str) -> &'static Engine {
        by_name(name).expect("engine in table")
    }

    #[test]
    fn table_is_consistent() {
        for (i, a) in ENGINES.iter().enumerate() {
            for b in &ENGINES[i + 1..] {
                assert_ne!(a.name, b.name);
                for var in a.vars() {
                    assert!(
                        !b.vars().contains(&var),
                        "{} and {} share {var}",
                        a.name,
                        b.name
                    );
                }
            }
            if a.backend != Backend::None {
                assert!(a.env_var.is_some(), "{} needs an env var", a.name);
            }
        }
    }

    #[test]
    fn provisions() {
        let unset = |_: &str| None;
        let set = |_: &str| Some("mysql://elsewhere".to_owned());
        assert_eq!(engine("memory").provision(&[], unset), Provision::Ready);
        assert_eq!(
            engine("mysql").provision(&[], unset),
            Provision::Start {
                topology: Topology::Servers {
                    kind: ServerKind::MariaDb,
                    instances: 1
                },
                env_var: "MYSQL_URL"
            }
        );
        assert_eq!(
            engine("redis_sentinel").provision(&[], unset),
            Provision::Start {
                topology: Topology::RedisSentinel,
                env_var: "REDIS_SENTINEL_URLS"
            }
        );
        assert_eq!(
            engine("redis_cluster").provision(&[], set),
            Provision::Ready
        );
        assert_eq!(engine("mysql").provision(&[], set), Provision::Ready);
        assert_eq!(
            engine("mysql").provision(&["mysql".into()], set),
            Provision::Skip("listed in SESSION_SKIP".into())
        );
        assert_eq!(
            engine("couchbase").provision(&[], unset),
            Provision::WithoutServer("COUCHBASE_CONNSTR not set".into())
        );
        assert_eq!(
            engine("couchbase").provision(&[], |_| Some(String::new())),
            Provision::WithoutServer("COUCHBASE_CONNSTR not set".into())
        );
        assert_eq!(engine("couchbase").provision(&[], set), Provision::Ready);
        assert_eq!(
            engine("couchbase").provision(&["couchbase".into()], unset),
            Provision::Skip("listed in SESSION_SKIP".into())
        );
    }

    #[test]
    fn engines_sharing_a_package_keep_their_variables_apart() {
        assert_eq!(
            engine("redis_sentinel").vars(),
            ["REDIS_SENTINEL_URLS", "REDIS_SENTINEL_MASTER"]
        );
        assert_eq!(
            engine("redis").sibling_vars(),
            [
                "REDIS_CLUSTER_URLS",
                "REDIS_SENTINEL_URLS",
                "REDIS_SENTINEL_MASTER"
            ]
        );
        assert_eq!(
            engine("redis_cluster").sibling_vars(),
            ["REDIS_URL", "REDIS_SENTINEL_URLS", "REDIS_SENTINEL_MASTER"]
        );
        assert!(engine("mysql").sibling_vars().is_empty());
        assert!(is_engine_package("session-redis"));
        assert!(!is_engine_package("session-core"));
    }

    #[test]
    fn skip_list() {
        assert_eq!(
            parse_skip_list(" mysql, ,couchbase,"),
            vec!["mysql".to_owned(), "couchbase".to_owned()]
        );
    }
}
