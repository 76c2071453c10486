//! The `providerConfig` string: a `mysql://` URL or the Go driver's DSN
//! `user:pass@tcp(host:port)/db?params` (or `unix(/path/to.sock)`), plus the engine's own
//! parameters ([`SqlParams`]).

use std::str::FromStr;

use session_core::dsn::{parse_bool, SqlParams};
use session_core::ConfigError;
use session_sqlx::{take_query_params, take_url_params, ConfigForms};
use sqlx::mysql::{MySqlConnectOptions, MySqlSslMode};

use crate::ENGINE;

/// The table beego uses.
pub const DEFAULT_TABLE: &str = "session";

/// A parsed configuration.
///
/// `Debug` shows where it connects, never the password (sqlx's own `Debug` of the connect
/// options would).
#[derive(Clone)]
pub struct MysqlConfig {
    /// How to reach the server.
    pub connect: MySqlConnectOptions,
    /// Table, pool size and timeouts.
    pub params: SqlParams,
}

impl std::fmt::Debug for MysqlConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.connect;
        f.debug_struct("MysqlConfig")
            .field("host", &c.get_host())
            .field("port", &c.get_port())
            .field("socket", &c.get_socket())
            .field("username", &c.get_username())
            .field("database", &c.get_database())
            .field("ssl_mode", &c.get_ssl_mode())
            .field("charset", &c.get_charset())
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// The URL form, or else the Go DSN.
const FORMS: ConfigForms = ConfigForms {
    engine: ENGINE,
    url_schemes: &["mysql://", "mariadb://"],
    when_empty: "mysql://user:pass@host:3306/db or user:pass@tcp(host:3306)/db",
    when_other_scheme: "mysql:// (or the Go DSN user:pass@tcp(host:port)/db)",
};

impl MysqlConfig {
    /// Parses `config`. Errors name the part that is wrong; passwords are masked.
    pub fn parse(config: &str) -> Result<Self, ConfigError> {
        FORMS.parse(config, parse_url, parse_go_dsn)
    }
}

fn parse_url(config: &str) -> Result<MysqlConfig, String> {
    let (mut url, params) = take_url_params(config)?;
    if let Some(scheme_end) = url.find("://") {
        url.replace_range(..scheme_end, "mysql");
    }
    let connect = MySqlConnectOptions::from_str(&url).map_err(|e| format!("bad URL: {e}"))?;
    Ok(MysqlConfig { connect, params })
}

/// The Go driver's `[user[:password]@][net[(addr)]]/dbname[?param1=value1&paramN=valueN]`.
/// As in Go, the database name starts after the last `/` (passwords and socket paths may
/// contain `/`), and the password runs from the first `:` to the last `@`.
fn parse_go_dsn(config: &str) -> Result<MysqlConfig, String> {
    let slash = config
        .rfind('/')
        .ok_or("missing `/dbname` (Go DSN form: user:pass@tcp(host:3306)/dbname)")?;
    let (head, tail) = (&config[..slash], &config[slash + 1..]);
    if tail.contains('@') {
        // The last `/` is inside the password: the DSN has no `/dbname` after the address.
        // Reading on would put pieces of the password in the database name, the network
        // or a parameter name, and from there into errors and logs.
        return Err(
            "missing `/dbname` after the address (Go DSN form: user:pass@tcp(host:3306)/dbname)"
                .into(),
        );
    }
    let (database, query) = tail.split_once('?').unwrap_or((tail, ""));
    let mut connect = MySqlConnectOptions::new();
    if !database.is_empty() {
        connect = connect.database(database);
    }
    let (userinfo, address) = match head.rfind('@') {
        Some(at) => (Some(&head[..at]), &head[at + 1..]),
        None => (None, head),
    };
    if let Some(userinfo) = userinfo {
        let (user, password) = match userinfo.split_once(':') {
            Some((user, password)) => (user, Some(password)),
            None => (userinfo, None),
        };
        connect = connect.username(user);
        if let Some(password) = password {
            connect = connect.password(password);
        }
    }
    connect = parse_address(connect, address)?;
    let mut params = SqlParams::default();
    for (key, value) in take_query_params(query, &mut params)? {
        connect = go_param(connect, key, value)?;
    }
    Ok(MysqlConfig { connect, params })
}

/// `tcp(host:port)`, `tcp(host)`, `unix(/path)`, or empty (localhost:3306).
fn parse_address(
    connect: MySqlConnectOptions,
    address: &str,
) -> Result<MySqlConnectOptions, String> {
    if address.is_empty() {
        return Ok(connect);
    }
    let (net, addr) = match address.find('(') {
        Some(open) => {
            let inner = address[open + 1..].strip_suffix(')').ok_or_else(|| {
                format!(
                    "address `{}(…` has no closing `)`",
                    shown_net(&address[..open])
                )
            })?;
            (&address[..open], inner)
        }
        None => (address, ""),
    };
    match net {
        "tcp" | "tcp4" | "tcp6" => {
            if addr.is_empty() {
                return Ok(connect);
            }
            let (host, port) = split_host_port(addr)?;
            let connect = connect.host(host);
            Ok(match port {
                Some(port) => connect.port(port),
                None => connect,
            })
        }
        "unix" if !addr.is_empty() => Ok(connect.socket(addr)),
        "unix" => Err("`unix()` needs a socket path, e.g. unix(/run/mysqld/mysqld.sock)".into()),
        other => Err(format!(
            "unknown network `{}`; use tcp(host:port) or unix(/path) (a password containing \
             `/` needs the `/dbname` after the address)",
            shown_net(other)
        )),
    }
}

/// A network name as errors may quote it. When the DSN was split in the wrong place (a
/// password holding `/` and no `/dbname` after the address), what stands where the network
/// should be is part of the password: only a plain word (`tcp`, `udp`) is quoted.
fn shown_net(net: &str) -> &str {
    if !net.is_empty() && net.len() <= 16 && net.bytes().all(|b| b.is_ascii_alphanumeric()) {
        net
    } else {
        "…"
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(addr: &str) -> Result<(&str, Option<u16>), String> {
    let bad_port = |p: &str| format!("port `{p}` in `{addr}` is not a number from 1 to 65535");
    let parse_port = |p: &str| {
        p.parse::<u16>()
            .ok()
            .filter(|&n| n != 0)
            .ok_or_else(|| bad_port(p))
    };
    if let Some(v6) = addr.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("`{addr}` has no closing `]`"))?;
        return match after.strip_prefix(':') {
            Some(port) => Ok((host, Some(parse_port(port)?))),
            None if after.is_empty() => Ok((host, None)),
            None => Err(format!("unexpected `{after}` after `[{host}]`")),
        };
    }
    match addr.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() => Ok((host, Some(parse_port(port)?))),
        Some(_) => Err(format!("`{addr}` has no host")),
        None => Ok((addr, None)),
    }
}

/// The Go driver's parameters that mean something here; Go-only ones are ignored.
fn go_param(
    connect: MySqlConnectOptions,
    key: &str,
    value: &str,
) -> Result<MySqlConnectOptions, String> {
    Ok(match key {
        "charset" => connect.charset(value.split(',').next().unwrap_or(value)),
        "collation" => connect.collation(value),
        "tls" => connect.ssl_mode(match value {
            "true" => MySqlSslMode::VerifyIdentity,
            "skip-verify" => MySqlSslMode::Required,
            "preferred" => MySqlSslMode::Preferred,
            "false" => MySqlSslMode::Disabled,
            other => {
                return Err(format!(
                    "parameter `tls`: `{other}` is not true, false, skip-verify or preferred"
                ))
            }
        }),
        "ssl-mode" | "sslmode" => connect.ssl_mode(
            value
                .parse()
                .map_err(|_| format!("parameter `{key}`: unknown mode `{value}`"))?,
        ),
        "parseTime"
        | "allowNativePasswords"
        | "allowCleartextPasswords"
        | "clientFoundRows"
        | "columnsWithAlias"
        | "interpolateParams"
        | "multiStatements"
        | "rejectReadOnly" => {
            parse_bool(value).map_err(|e| format!("parameter `{key}`: {e}"))?;
            connect
        }
        "loc" | "readTimeout" | "writeTimeout" | "maxAllowedPacket" | "autocommit" | "sql_mode"
        | "time_zone" | "serverPubKey" => {
            tracing::debug!(
                key,
                "ignoring a Go driver parameter that has no meaning here"
            );
            connect
        }
        other => {
            tracing::warn!(key = other, "ignoring an unknown MySQL DSN parameter");
            connect
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(config: &str) -> String {
        MysqlConfig::parse(config).unwrap_err().to_string()
    }

    #[test]
    fn go_dsn_with_tcp_unix_and_params() {
        let c = MysqlConfig::parse(
            "u:p@ss:w@tcp(db.local:3307)/app?charset=utf8&table=s2&create_table=false",
        )
        .unwrap();
        assert_eq!(c.connect.get_host(), "db.local");
        assert_eq!(c.connect.get_port(), 3307);
        assert_eq!(c.connect.get_username(), "u");
        assert_eq!(c.connect.get_database(), Some("app"));
        assert_eq!(c.params.table.as_deref(), Some("s2"));
        assert!(!c.params.create_table);
        let c = MysqlConfig::parse("root@unix(/run/my sql/d.sock)/app").unwrap();
        assert_eq!(
            c.connect.get_socket().map(|p| p.display().to_string()),
            Some("/run/my sql/d.sock".to_owned())
        );
        let c = MysqlConfig::parse("/app").unwrap();
        assert_eq!(c.connect.get_database(), Some("app"));
    }

    #[test]
    fn url_form_keeps_driver_params_and_takes_ours() {
        let c = MysqlConfig::parse("mysql://u:pw@h:3310/db?table=x&ssl-mode=disabled&pool_size=2")
            .unwrap();
        assert_eq!(c.connect.get_port(), 3310);
        assert_eq!(c.params.table.as_deref(), Some("x"));
        assert_eq!(c.params.max_connections, 2);
    }

    #[test]
    fn debug_never_shows_the_password() {
        // Found by fuzzing (fuzz/: config_mysql): the derived Debug printed sqlx's connect
        // options, password included.
        for config in ["mysql://u:hunter2@h/db", "u:hunter2@tcp(h:3306)/db"] {
            let shown = format!("{:?}", MysqlConfig::parse(config).unwrap());
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(
                shown.contains("\"h\"") && shown.contains("\"u\""),
                "{shown}"
            );
        }
    }

    #[test]
    fn errors_name_the_bad_part_and_mask_the_password() {
        let e = err("u:secret@tcp(h:99999)/db");
        assert!(e.contains("port `99999`") && !e.contains("secret"), "{e}");
        let e = err("u:secret@udp(h)/db");
        assert!(
            e.contains("unknown network `udp`") && !e.contains("secret"),
            "{e}"
        );
        let e = err("u:secret@tcp(h:1/db");
        assert!(e.contains("closing `)`"), "{e}");
        // Found by fuzzing (fuzz/: config_mysql): a password holding `/` without a
        // `/dbname` after the address put the password where the network goes, and the
        // error quoted it.
        for dsn in ["u:pa/hunter2@tcp(h)", "u:a@b/hunter2@tcp(h)"] {
            let e = err(dsn);
            assert!(!e.contains("hunter2"), "{dsn}: {e}");
        }
        let e = err("u:secret@tcp(h)");
        assert!(e.contains("/dbname"), "{e}");
        let e = err("mysql://u:secret@h/db?table=a;drop");
        assert!(
            e.contains("parameter `table`") && !e.contains("secret"),
            "{e}"
        );
        let e = err("u:secret@tcp(h)/db?timeout=soon");
        assert!(e.contains("parameter `timeout`"), "{e}");
        let e = err("redis://h");
        assert!(e.contains("scheme"), "{e}");
        assert!(err("").contains("empty"));
    }
}
