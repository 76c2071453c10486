//! The differences between the SQL servers that the shared scenarios need to know about.

use crate::servers::{self, ServerKind};

/// Which SQL server a scenario talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// MySQL or MariaDB (`mysql://` URLs).
    MySql,
    /// PostgreSQL (`postgres://` URLs).
    Postgres,
}

impl Dialect {
    /// The variable naming the test server (set by `cargo xtask test`).
    pub fn env_var(self) -> &'static str {
        match self {
            Dialect::MySql => "MYSQL_URL",
            Dialect::Postgres => "POSTGRES_URL",
        }
    }

    /// The server the tests use, from [`env_var`](Self::env_var). `None`, after saying
    /// that `test` is skipped, when it is not set (a plain `cargo test`).
    pub fn server_url(self, test: &str) -> Option<String> {
        servers::from_env(self.env_var(), test)
    }

    /// The kind of throwaway server that speaks this dialect.
    pub fn server_kind(self) -> ServerKind {
        match self {
            Dialect::MySql => ServerKind::MariaDb,
            Dialect::Postgres => ServerKind::Postgres,
        }
    }

    /// `name` quoted as an identifier.
    pub fn quote(self, name: &str) -> String {
        match self {
            Dialect::MySql => format!("`{name}`"),
            Dialect::Postgres => format!("\"{name}\""),
        }
    }

    /// The placeholder of the `n`th (1-based) bound parameter.
    pub fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::MySql => "?".to_owned(),
            Dialect::Postgres => format!("${n}"),
        }
    }

    /// Inserts `rows` sessions `expired0`, `expired1`, … into `table`, each holding an empty
    /// map and expired ten seconds ago (in the engine's column types).
    pub fn insert_expired_sql(self, table: &str, rows: usize) -> String {
        let quoted = self.quote(table);
        match self {
            Dialect::MySql => {
                let values: Vec<String> = (0..rows)
                    .map(|i| format!("('expired{i}', X'0180', UNIX_TIMESTAMP() - 10)"))
                    .collect();
                format!(
                    "INSERT INTO {quoted} (session_key, session_data, session_expiry) VALUES {}",
                    values.join(", ")
                )
            }
            Dialect::Postgres => format!(
                "INSERT INTO {quoted} (session_key, session_data, session_expiry) \
                 SELECT 'expired' || i, '\\x0180'::bytea, \
                 (now() AT TIME ZONE 'UTC') - interval '10 seconds' \
                 FROM generate_series(0, {}) AS i",
                rows.saturating_sub(1)
            ),
        }
    }

    /// The test server's URL in the form users of the Go original write, using `table`:
    /// the Go MySQL driver's `user:pass@tcp(host:port)/db?…`, or libpq's
    /// `host=… port=… user=… password=… dbname=…`.
    pub fn native_dsn(self, url: &str, table: &str) -> String {
        let var = self.env_var();
        let rest = url.split_once("://").expect("a URL with a scheme").1;
        let (userinfo, rest) = rest
            .rsplit_once('@')
            .unwrap_or_else(|| panic!("user in {var}"));
        let (hostport, db) = rest
            .split_once('/')
            .unwrap_or_else(|| panic!("database in {var}"));
        let db = db.split('?').next().unwrap_or(db);
        match self {
            Dialect::MySql => format!(
                "{userinfo}@tcp({hostport})/{db}?charset=utf8mb4&parseTime=true&table={table}"
            ),
            Dialect::Postgres => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                let (host, port) = hostport.rsplit_once(':').unwrap_or((hostport, "5432"));
                format!(
                    "host={host} port={port} user={user} password='{password}' dbname={db} \
                     sslmode=disable table={table}"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_dsns() {
        assert_eq!(
            Dialect::MySql.native_dsn("mysql://u:p@127.0.0.1:3306/db?x=1", "t"),
            "u:p@tcp(127.0.0.1:3306)/db?charset=utf8mb4&parseTime=true&table=t"
        );
        assert_eq!(
            Dialect::Postgres.native_dsn("postgres://u:p@127.0.0.1:5433/db", "t"),
            "host=127.0.0.1 port=5433 user=u password='p' dbname=db sslmode=disable table=t"
        );
    }

    #[test]
    fn quoting_and_placeholders() {
        assert_eq!(Dialect::MySql.quote("t"), "`t`");
        assert_eq!(Dialect::Postgres.quote("t"), "\"t\"");
        assert_eq!(Dialect::MySql.placeholder(2), "?");
        assert_eq!(Dialect::Postgres.placeholder(2), "$2");
    }

    #[test]
    fn expired_rows_cover_the_count() {
        let sql = Dialect::MySql.insert_expired_sql("t", 3);
        assert!(
            sql.contains("'expired2'") && !sql.contains("'expired3'"),
            "{sql}"
        );
        assert!(Dialect::Postgres
            .insert_expired_sql("t", 2500)
            .contains("generate_series(0, 2499)"));
    }
}
