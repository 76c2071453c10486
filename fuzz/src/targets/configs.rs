//! Each engine's `providerConfig` parser under [`provider::run`]: one function per engine,
//! naming the forms in which the engine's configuration carries a password.
//!
//! An engine added to the workspace gets a function here, a `[[bin]]` in `Cargo.toml` and
//! a one-line file in `fuzz_targets/`.

use session_cookie::CookieConfig;
use session_couchbase::CouchbaseConfig;
use session_file::FileConfig;
use session_memcache::MemcacheConfig;
use session_mysql::MysqlConfig;
use session_postgres::PostgresConfig;
use session_redis::{RedisConfig, Topology};

use crate::provider::{self, Form};

/// The file engine: a directory or `{"path": …}`. It has no password; beyond returning,
/// what parses names a non-empty, trimmed directory and a non-zero lock timeout.
pub fn file(data: &[u8]) {
    provider::run(data, &[], |text| {
        let parsed = FileConfig::parse(text);
        if let Ok(config) = &parsed {
            let path = config.path.to_string_lossy();
            assert!(!path.trim().is_empty(), "empty directory from {text:?}");
            assert!(!config.lock_timeout.is_zero());
            if !text.trim().starts_with('{') {
                assert_eq!(path, text.trim(), "beego's form is the directory itself");
            }
        }
        parsed
    });
}

/// The cookie engine: JSON with `keys` (a list) or beego's `securityKey` + `blockKey`.
pub fn cookie(data: &[u8]) {
    const FORMS: &[Form] = &[Form::Json {
        secret: &["securityKey", "blockKey", "keys"],
        url: &[],
        extra: &[
            r#""keys":["lBE4OQA5nxYJUV6HkOnFjYNRCKYAURJlWaFTe1Bw0Lo="]"#,
            r#""securityKey":"q7Lx2Vb9Nc4Rz8Tw""#,
            r#""blockKey":"M3kP6yH1sJ5dG0fA""#,
            r#""cookieName":"sid_data""#,
            r#""maxage":3600"#,
        ],
    }];
    provider::run(data, FORMS, |text| {
        let parsed = CookieConfig::parse(text);
        if let Ok(config) = &parsed {
            // What parses makes a keyring: the engine can start.
            assert!(config.key_count() > 0);
            session_cookie::fuzzing::Keyring::new(config)
                .unwrap_or_else(|e| panic!("a parsed configuration has no keyring: {e}"));
        }
        parsed
    });
}

/// MySQL: a `mysql://` / `mariadb://` URL or the Go driver's DSN.
pub fn mysql(data: &[u8]) {
    const FORMS: &[Form] = &[
        Form::Url(&["mysql", "mariadb", "redis"]),
        Form::UserInfo,
        Form::QueryParam(&["mysql"], &["password"]),
    ];
    provider::run(data, FORMS, MysqlConfig::parse);
}

/// PostgreSQL: a `postgres://` URL or libpq's `key=value` pairs.
pub fn postgres(data: &[u8]) {
    const FORMS: &[Form] = &[
        Form::Url(&["postgres", "postgresql", "mysql"]),
        Form::QueryParam(&["postgres", "postgresql"], &["password"]),
        Form::KeyValue(&["password"]),
    ];
    provider::run(data, FORMS, PostgresConfig::parse);
}

/// Redis, in its three topologies: beego's comma form (`addr,poolsize,password,…`), its JSON
/// form, and `redis://` URLs (one or several, `;`-separated). beego's comma parts may follow
/// a URL, so the list is split at `,` before any URL is read: `redis://u:a,b@h` is the URL
/// `redis://u:a` and the part `b@h`; a `,` in a URL's password must be written `%2C`.
pub fn redis(data: &[u8]) {
    const FORMS: &[Form] = &[
        Form::Url(&["redis", "rediss", "redis+unix"]),
        Form::QueryParam(&["redis"], &["password", "pass", "sentinel_password"]),
        Form::Positional(',', 2),
        Form::Json {
            secret: &["password", "pass", "sentinel_password"],
            url: &["save_path"],
            extra: &[
                r#""save_path":"127.0.0.1:6379""#,
                r#""poolsize":10"#,
                r#""db_num":"0""#,
                r#""master_name":"mymaster""#,
            ],
        },
    ];
    for topology in [Topology::Standalone, Topology::Cluster, Topology::Sentinel] {
        provider::run_excluding(data, FORMS, &[','], |text| {
            RedisConfig::parse(topology, text)
        });
    }
}

/// memcached: beego's `host:port;host:port` or `memcache://` URLs. The engine has no
/// authentication and refuses a password; the refusal must not show it.
pub fn memcache(data: &[u8]) {
    const FORMS: &[Form] = &[Form::Url(&["memcache", "memcached"]), Form::UserInfo];
    provider::run(data, FORMS, MemcacheConfig::parse);
}

/// Couchbase: `couchbase://` connection strings with `password=`, beego's
/// `http://user:pass@host:8091,pool,bucket` and its JSON form.
pub fn couchbase(data: &[u8]) {
    const FORMS: &[Form] = &[
        Form::QueryParam(&["couchbase", "couchbases"], &["password", "pass"]),
        Form::Url(&["http", "https"]),
        Form::Json {
            secret: &["password", "pass"],
            url: &["save_path"],
            extra: &[
                r#""save_path":"couchbase://127.0.0.1""#,
                r#""bucket":"sessions""#,
                r#""username":"app""#,
                r#""pool":"default""#,
            ],
        },
    ];
    provider::run(data, FORMS, CouchbaseConfig::parse);
}
