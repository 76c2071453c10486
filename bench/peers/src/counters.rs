//! The store commands a request costs, counted by the server itself: Redis
//! `INFO commandstats`, PostgreSQL `pg_stat_statements` (the server must preload it; the
//! throwaway one `cargo xtask bench --peers` starts does), MariaDB's `Com_*` status
//! counters and memcached's `stats`.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use sqlx::Row;

use crate::BoxError;

/// Which server a contender's requests reach, and so what to count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Counted {
    /// Nothing to count (in-process engines).
    Nothing,
    /// A Redis server, by URL.
    Redis(String),
    /// A PostgreSQL server, by URL.
    Postgres(String),
    /// A MariaDB/MySQL server, by URL.
    MySql(String),
    /// memcached servers, `host:port` separated by `;`.
    Memcached(String),
}

/// Command counts by name (`get`, `select`…), summed over a server's (or servers') counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts(pub BTreeMap<String, f64>);

impl Counts {
    /// Every count of `self` less the one of `before`, divided by `requests`; zeros dropped.
    pub fn per_request(&self, before: &Counts, requests: u32) -> Counts {
        let per = self
            .0
            .iter()
            .map(|(name, after)| {
                let was = before.0.get(name).copied().unwrap_or(0.0);
                (name.clone(), (after - was) / f64::from(requests.max(1)))
            })
            .filter(|(_, n)| *n > 0.0005)
            .collect();
        Counts(per)
    }

    /// All commands together.
    pub fn total(&self) -> f64 {
        self.0.values().sum()
    }
}

impl fmt::Display for Counts {
    /// `2 (get 1, set 1)`; `0` when nothing ran.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let number = |n: f64| {
            if (n - n.round()).abs() < 0.005 {
                format!("{}", n.round())
            } else {
                format!("{n:.2}")
            }
        };
        write!(f, "{}", number(self.total()))?;
        if !self.0.is_empty() {
            let parts: Vec<String> = self
                .0
                .iter()
                .map(|(name, n)| format!("{name} {}", number(*n)))
                .collect();
            write!(f, " ({})", parts.join(", "))?;
        }
        Ok(())
    }
}

/// Reads the server's counters now; `None` for [`Counted::Nothing`].
pub async fn snapshot(counted: &Counted) -> Result<Option<Counts>, BoxError> {
    Ok(Some(match counted {
        Counted::Nothing => return Ok(None),
        Counted::Redis(url) => redis(url)?,
        Counted::Postgres(url) => postgres(url).await?,
        Counted::MySql(url) => mysql(url).await?,
        Counted::Memcached(servers) => memcached(servers)?,
    }))
}

fn redis(url: &str) -> Result<Counts, BoxError> {
    let stats = session_testkit::servers::redis::command_stats(url)?;
    Ok(Counts(
        stats
            .iter()
            .map(|(name, stat)| (name.to_owned(), stat.calls as f64))
            .collect(),
    ))
}

/// Statements by their first word, this query left out. (A fresh connection each time, so
/// no pool's statements mix in.)
async fn postgres(url: &str) -> Result<Counts, BoxError> {
    let mut connection: sqlx::PgConnection = sqlx::Connection::connect(url).await?;
    let rows = sqlx::query(
        "SELECT lower(split_part(ltrim(query), ' ', 1)) AS verb, sum(calls)::float8 AS calls \
         FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' GROUP BY 1",
    )
    .fetch_all(&mut connection)
    .await
    .map_err(|e| {
        format!(
            "reading pg_stat_statements ({e}); start PostgreSQL with \
             shared_preload_libraries=pg_stat_statements and CREATE EXTENSION \
             pg_stat_statements (cargo xtask bench --peers does)"
        )
    })?;
    let mut counts = BTreeMap::new();
    for row in rows {
        counts.insert(row.try_get::<String, _>(0)?, row.try_get::<f64, _>(1)?);
    }
    sqlx::Connection::close(connection).await?;
    Ok(Counts(counts))
}

/// The `Com_*` counters of the statements sessions use (prepared executions included).
async fn mysql(url: &str) -> Result<Counts, BoxError> {
    let mut connection: sqlx::MySqlConnection = sqlx::Connection::connect(url).await?;
    let rows = sqlx::query(
        "SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_select', 'Com_insert', \
         'Com_update', 'Com_delete', 'Com_replace', 'Com_insert_select', 'Com_begin', \
         'Com_commit', 'Com_rollback')",
    )
    .fetch_all(&mut connection)
    .await?;
    let mut counts = BTreeMap::new();
    for row in rows {
        let name: String = row.try_get(0)?;
        let value: String = row.try_get(1)?;
        let name = name.trim_start_matches("Com_").to_owned();
        counts.insert(name, value.parse::<f64>().unwrap_or(0.0));
    }
    sqlx::Connection::close(connection).await?;
    Ok(Counts(counts))
}

/// The command counters of every server, summed.
fn memcached(servers: &str) -> Result<Counts, BoxError> {
    // cmd_set counts every storage command (set, add, cas…); gets is in cmd_get.
    const COUNTERS: [(&str, &str); 5] = [
        ("cmd_get", "get"),
        ("cmd_set", "set"),
        ("cmd_touch", "touch"),
        ("delete_hits", "delete"),
        ("delete_misses", "delete"),
    ];
    let mut counts = BTreeMap::new();
    for server in servers.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let mut stream = TcpStream::connect(server)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        stream.write_all(b"stats\r\n")?;
        for line in BufReader::new(stream).lines() {
            let line = line?;
            if line == "END" {
                break;
            }
            let mut words = line.split_whitespace().skip(1);
            let (Some(stat), Some(value)) = (words.next(), words.next()) else {
                continue;
            };
            if let Some((_, name)) = COUNTERS.iter().find(|(counter, _)| *counter == stat) {
                *counts.entry((*name).to_owned()).or_insert(0.0) += value.parse().unwrap_or(0.0);
            }
        }
    }
    Ok(Counts(counts))
}
