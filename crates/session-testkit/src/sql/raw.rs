//! Plain connections to the test server, for looking at and damaging rows behind the
//! engine's back.

use std::collections::BTreeMap;
use std::time::Duration;

use sqlx::mysql::{MySql, MySqlPool};
use sqlx::pool::PoolOptions;
use sqlx::postgres::{PgPool, Postgres};
use sqlx::{Database, Pool, Transaction};

use super::Dialect;

/// Runs `$body` with `$pool` bound to the pool inside `$raw`, whichever server it is on:
/// the body is the same text for both, type-checked once per driver.
macro_rules! with_pool {
    ($raw:expr, |$pool:ident| $body:expr) => {
        match $raw {
            RawPool::MySql($pool) => $body,
            RawPool::Postgres($pool) => $body,
        }
    };
}

/// A small pool on the test server, in the server's dialect.
#[derive(Debug, Clone)]
pub enum RawPool {
    /// MySQL or MariaDB.
    MySql(MySqlPool),
    /// PostgreSQL.
    Postgres(PgPool),
}

/// A transaction holding a row lock (`SELECT … FOR UPDATE`) until it is rolled back.
#[derive(Debug)]
pub enum RowLock {
    /// MySQL or MariaDB.
    MySql(Transaction<'static, MySql>),
    /// PostgreSQL.
    Postgres(Transaction<'static, Postgres>),
}

impl RowLock {
    /// Ends the transaction, releasing the lock.
    pub async fn rollback(self) {
        match self {
            RowLock::MySql(tx) => tx.rollback().await,
            RowLock::Postgres(tx) => tx.rollback().await,
        }
        .expect("roll back the locking transaction");
    }
}

/// A pool of at most two connections to `url`.
async fn small_pool<DB: Database>(url: &str) -> Pool<DB> {
    PoolOptions::<DB>::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await
        .unwrap_or_else(|err| panic!("connecting to the test server: {err}"))
}

impl From<Transaction<'static, MySql>> for RowLock {
    fn from(tx: Transaction<'static, MySql>) -> Self {
        RowLock::MySql(tx)
    }
}

impl From<Transaction<'static, Postgres>> for RowLock {
    fn from(tx: Transaction<'static, Postgres>) -> Self {
        RowLock::Postgres(tx)
    }
}

impl RawPool {
    /// Connects to `url` with at most two connections.
    pub async fn connect(dialect: Dialect, url: &str) -> Self {
        match dialect {
            Dialect::MySql => RawPool::MySql(small_pool(url).await),
            Dialect::Postgres => RawPool::Postgres(small_pool(url).await),
        }
    }

    /// The dialect of the server.
    pub fn dialect(&self) -> Dialect {
        match self {
            RawPool::MySql(_) => Dialect::MySql,
            RawPool::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs `sql` (one or more statements, nothing bound).
    pub async fn execute(&self, sql: &str) {
        with_pool!(self, |pool| sqlx::raw_sql(sql)
            .execute(pool)
            .await
            .map(drop))
        .unwrap_or_else(|err| panic!("{sql}: {err}"));
    }

    /// The value of `SELECT COUNT(*) FROM {from}` (`from` already quoted).
    pub async fn count(&self, from: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {from}");
        with_pool!(self, |pool| sqlx::query_scalar(&sql).fetch_one(pool).await)
            .unwrap_or_else(|err| panic!("{sql}: {err}"))
    }

    /// Overwrites the stored bytes of session `sid` in `table`.
    pub async fn set_data(&self, table: &str, sid: &str, data: &[u8]) {
        let d = self.dialect();
        let sql = format!(
            "UPDATE {} SET session_data = {} WHERE session_key = {}",
            d.quote(table),
            d.placeholder(1),
            d.placeholder(2)
        );
        with_pool!(self, |pool| sqlx::query(&sql)
            .bind(data)
            .bind(sid)
            .execute(pool)
            .await
            .map(drop))
        .expect("corrupt a row");
    }

    /// Locks the row of session `sid` in `table` in a transaction of its own.
    pub async fn lock_row(&self, table: &str, sid: &str) -> RowLock {
        let d = self.dialect();
        let sql = format!(
            "SELECT 1 FROM {} WHERE session_key = {} FOR UPDATE",
            d.quote(table),
            d.placeholder(1)
        );
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await.expect("begin");
            sqlx::query(&sql)
                .bind(sid)
                .execute(&mut *tx)
                .await
                .expect("lock the row");
            RowLock::from(tx)
        })
    }

    /// Drops a test's table.
    pub async fn drop_table(&self, table: &str) {
        let sql = format!("DROP TABLE IF EXISTS {}", self.dialect().quote(table));
        self.execute(&sql).await;
    }

    /// MySQL / MariaDB only: the server's global status counters named in `names`.
    pub async fn global_status(&self, names: &[&str]) -> BTreeMap<String, i64> {
        let RawPool::MySql(pool) = self else {
            panic!("global status counters are a MySQL / MariaDB feature");
        };
        let list: Vec<String> = names.iter().map(|name| format!("'{name}'")).collect();
        let sql = format!(
            "SHOW GLOBAL STATUS WHERE Variable_name IN ({})",
            list.join(", ")
        );
        let rows: Vec<(String, String)> = sqlx::query_as(&sql)
            .fetch_all(pool)
            .await
            .unwrap_or_else(|err| panic!("{sql}: {err}"));
        rows.into_iter()
            .map(|(name, value)| {
                let n = value
                    .parse()
                    .unwrap_or_else(|_| panic!("{name} = {value:?}"));
                (name, n)
            })
            .collect()
    }
}
