//! The session engines xtask knows about, and how each gets its server.
//!
//! To plug in a new engine, add a row to [`ENGINES`]. A row only matters once its package is a
//! member of the workspace, so rows may be added before the crate exists.

use session_testkit::servers::ServerKind;

/// Where an engine's tests get their server from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The engine needs no server.
    None,
    /// xtask starts `instances` servers of `kind` unless the engine's environment variable is
    /// already set; several instances are passed as one `;`-separated list.
    Local {
        /// The kind of server.
        kind: ServerKind,
        /// How many independent instances.
        instances: usize,
    },
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
    /// The Cargo package that implements it.
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
        backend: Backend::Local {
            kind: ServerKind::MariaDb,
            instances: 1,
        },
        env_var: Some("MYSQL_URL"),
    },
    Engine {
        name: "postgres",
        package: "session-postgres",
        backend: Backend::Local {
            kind: ServerKind::Postgres,
            instances: 1,
        },
        env_var: Some("POSTGRES_URL"),
    },
    Engine {
        name: "redis",
        package: "session-redis",
        backend: Backend::Local {
            kind: ServerKind::Redis,
            instances: 1,
        },
        env_var: Some("REDIS_URL"),
    },
    Engine {
        name: "memcache",
        package: "session-memcache",
        backend: Backend::Local {
            kind: ServerKind::Memcached,
            instances: 2,
        },
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

/// The engine implemented by `package`, if any.
pub fn by_package(package: &str) -> Option<&'static Engine> {
    ENGINES.iter().find(|engine| engine.package == package)
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
    /// xtask starts servers and sets `env_var` to their addresses.
    Start {
        /// The kind of server.
        kind: ServerKind,
        /// How many instances.
        instances: usize,
        /// The variable to set.
        env_var: &'static str,
    },
}

impl Engine {
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
            (Backend::Local { kind, instances }, Some(env_var)) => Provision::Start {
                kind,
                instances,
                env_var,
            },
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
                assert_ne!(a.package, b.package);
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
                kind: ServerKind::MariaDb,
                instances: 1,
                env_var: "MYSQL_URL"
            }
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
    fn skip_list() {
        assert_eq!(
            parse_skip_list(" mysql, ,couchbase,"),
            vec!["mysql".to_owned(), "couchbase".to_owned()]
        );
    }
}
