//! Each engine's `providerConfig` parser under [`provider::run`]: one function per engine,
//! naming the forms in which the engine's configuration carries a password.
//!
//! An engine added to the workspace gets a function here, a `[[bin]]` in `Cargo.toml` and
//! a one-line file in `fuzz_targets/`.

use session_cookie::CookieConfig;
use session_file::FileConfig;
use session_mysql::MysqlConfig;
use session_postgres::PostgresConfig;

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
    const FORMS: &[Form] = &[Form::Json(&["securityKey", "blockKey", "keys"], &["keys"])];
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
