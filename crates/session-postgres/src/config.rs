//! The `providerConfig` string: a `postgres://` URL or libpq's `key=value` DSN (beego's
//! form, e.g. `user=a password=b dbname=c host=127.0.0.1 port=5432 sslmode=disable`), plus
//! the engine's own parameters ([`SqlParams`]).

use std::str::FromStr;

use session_core::dsn::SqlParams;
use session_core::ConfigError;
use session_sqlx::{take_url_params, ConfigForms};
use sqlx::postgres::PgConnectOptions;

use crate::ENGINE;

/// The table beego uses.
pub const DEFAULT_TABLE: &str = "session";

/// A parsed configuration.
///
/// `Debug` shows where it connects, never the password (sqlx's own `Debug` of the connect
/// options would).
#[derive(Clone)]
pub struct PostgresConfig {
    /// How to reach the server.
    pub connect: PgConnectOptions,
    /// Table, pool size and timeouts.
    pub params: SqlParams,
}

impl std::fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.connect;
        f.debug_struct("PostgresConfig")
            .field("host", &c.get_host())
            .field("port", &c.get_port())
            .field("socket", &c.get_socket())
            .field("username", &c.get_username())
            .field("database", &c.get_database())
            .field("ssl_mode", &c.get_ssl_mode())
            .field("application_name", &c.get_application_name())
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// The URL form, or else libpq's `key=value` pairs.
const FORMS: ConfigForms = ConfigForms {
    engine: ENGINE,
    url_schemes: &["postgres://", "postgresql://"],
    when_empty: "postgres://user:pass@host:5432/db or \
                 host=... port=5432 user=... password=... dbname=...",
    when_other_scheme: "postgres:// (or key=value pairs)",
};

impl PostgresConfig {
    /// Parses `config`. Errors name the part that is wrong; passwords are masked.
    pub fn parse(config: &str) -> Result<Self, ConfigError> {
        FORMS.parse(config, parse_url, parse_key_values)
    }
}

fn parse_url(config: &str) -> Result<PostgresConfig, String> {
    let (url, params) = take_url_params(config)?;
    let connect = PgConnectOptions::from_str(&url).map_err(|e| format!("bad URL: {e}"))?;
    Ok(PostgresConfig { connect, params })
}

/// libpq's connection string: `key = value` pairs separated by spaces; values may be
/// single-quoted, and `\` escapes the next character.
fn parse_key_values(config: &str) -> Result<PostgresConfig, String> {
    let mut params = SqlParams::default();
    let mut connect = PgConnectOptions::new_without_pgpass();
    for (key, value) in split_key_values(config)? {
        if params.take(&key, &value)? {
            continue;
        }
        connect = match key.as_str() {
            "host" if value.starts_with('/') => connect.socket(&value),
            "host" | "hostaddr" => connect.host(&value),
            "port" => connect.port(
                value
                    .parse()
                    .ok()
                    .filter(|&p: &u16| p != 0)
                    .ok_or_else(|| format!("`port`: `{value}` is not a number from 1 to 65535"))?,
            ),
            "user" => connect.username(&value),
            "password" => connect.password(&value),
            "dbname" => connect.database(&value),
            "sslmode" => connect.ssl_mode(
                value
                    .parse()
                    .map_err(|_| format!("`sslmode`: unknown mode `{value}`"))?,
            ),
            "sslrootcert" => connect.ssl_root_cert(&value),
            "sslcert" => connect.ssl_client_cert(&value),
            "sslkey" => connect.ssl_client_key(&value),
            "application_name" => connect.application_name(&value),
            "options" => connect.options(parse_options(&value)?),
            other => {
                return Err(format!(
                    "unknown key `{other}` (known: host, hostaddr, port, user, password, dbname, \
                     sslmode, sslrootcert, sslcert, sslkey, application_name, options, \
                     connect_timeout, table, create_table, max_connections, statement_timeout)"
                ))
            }
        };
    }
    Ok(PostgresConfig { connect, params })
}

/// `-c name=value` pairs of the `options` key.
fn parse_options(value: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut words = value.split_whitespace();
    while let Some(word) = words.next() {
        let setting = match word {
            "-c" => words.next().unwrap_or(""),
            w => w.strip_prefix("-c").unwrap_or(""),
        };
        let (k, v) = setting
            .split_once('=')
            .ok_or_else(|| format!("`options`: expected `-c name=value`, found `{word}`"))?;
        out.push((k.to_owned(), v.to_owned()));
    }
    Ok(out)
}

fn split_key_values(config: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    let mut chars = config.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(pairs);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '=') {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(format!("`{key}` has no `=value`"));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    Some('\\') => value.extend(chars.next()),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => return Err(format!("the quoted value of `{key}` is not closed")),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        pairs.push((key, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(config: &str) -> String {
        PostgresConfig::parse(config).unwrap_err().to_string()
    }

    #[test]
    fn beego_key_value_form() {
        let c = PostgresConfig::parse(
            "user=a password='p w\\'x' dbname=c host=127.0.0.1 port=5433 sslmode=disable table=s.t",
        )
        .unwrap();
        assert_eq!(c.connect.get_host(), "127.0.0.1");
        assert_eq!(c.connect.get_port(), 5433);
        assert_eq!(c.connect.get_username(), "a");
        assert_eq!(c.connect.get_database(), Some("c"));
        assert_eq!(c.params.table.as_deref(), Some("s.t"));
        let c = PostgresConfig::parse("host=/run/postgresql dbname = d connect_timeout=3").unwrap();
        assert!(c.connect.get_socket().is_some());
        assert_eq!(c.params.connect_timeout.as_secs(), 3);
    }

    #[test]
    fn url_form_takes_our_params() {
        let c = PostgresConfig::parse(
            "postgresql://u:pw@h:5434/db?sslmode=disable&table=x&create_table=false",
        )
        .unwrap();
        assert_eq!(c.connect.get_port(), 5434);
        assert_eq!(c.params.table.as_deref(), Some("x"));
        assert!(!c.params.create_table);
    }

    #[test]
    fn debug_never_shows_the_password() {
        // Found by fuzzing (fuzz/: config_postgres): the derived Debug printed sqlx's
        // connect options, password included.
        for config in [
            "postgres://u:hunter2@h/db",
            "host=h user=u password = 'hunter2'",
        ] {
            let shown = format!("{:?}", PostgresConfig::parse(config).unwrap());
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(
                shown.contains("\"h\"") && shown.contains("\"u\""),
                "{shown}"
            );
        }
    }

    #[test]
    fn errors_name_the_bad_part_and_mask_the_password() {
        let e = err("host=h password=secret port=http");
        assert!(e.contains("`port`") && !e.contains("secret"), "{e}");
        let e = err("host=h password=secret colour=blue");
        assert!(
            e.contains("unknown key `colour`") && !e.contains("secret"),
            "{e}"
        );
        let e = err("host=h password='secret");
        assert!(e.contains("not closed") && !e.contains("secret"), "{e}");
        let e = err("host=h dbname");
        assert!(e.contains("`dbname` has no `=value`"), "{e}");
        let e = err("postgres://u:secret@h/db?statement_timeout=never");
        assert!(
            e.contains("statement_timeout") && !e.contains("secret"),
            "{e}"
        );
        let e = err("postgres://u:secret@h:99999/db");
        assert!(e.contains("bad URL") && !e.contains("secret"), "{e}");
        assert!(err("mysql://h/db").contains("scheme"));
    }
}
