//! Plain connections to the test server, for looking at and damaging rows behind the
//! engine's back.

use std::collections::BTreeMap;
use std::time::Duration;

use sqlx::mysql::{MySql, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgPool, PgPoolOptions, Postgres};
use sqlx::Transaction;

use super::Dialect;

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

impl RawPool {
    /// Connects to `url` with at most two connections.
    pub async fn connect(dialect: Dialect, url: &str) -> Self {
        let timeout = Duration::from_secs(10);
        match dialect {
            Dialect::MySql => RawPool::MySql(
                MySqlPoolOptions::new()
                    .max_connections(2)
                    .acquire_timeout(timeout)
                    .connect(url)
                    .await
                    .expect("connect to the test server"),
            ),
            Dialect::Postgres => RawPool::Postgres(
                PgPoolOptions::new()
                    .max_connections(2)
                    .acquire_timeout(timeout)
                    .connect(url)
                    .await
                    .expect("connect to the test server"),
            ),
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
        match self {
            RawPool::MySql(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
            RawPool::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
        }
        .unwrap_or_else(|err| panic!("{sql}: {err}"));
    }

    /// The value of `SELECT COUNT(*) FROM {from}` (`from` already quoted).
    pub async fn count(&self, from: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {from}");
        match self {
            RawPool::MySql(pool) => sqlx::query_scalar(&sql).fetch_one(pool).await,
            RawPool::Postgres(pool) => sqlx::query_scalar(&sql).fetch_one(pool).await,
        }
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
        match self {
            RawPool::MySql(pool) => sqlx::query(&sql)
                .bind(data)
                .bind(sid)
                .execute(pool)
                .await
                .map(drop),
            RawPool::Postgres(pool) => sqlx::query(&sql)
                .bind(data)
                .bind(sid)
                .execute(pool)
                .await
                .map(drop),
        }
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
        match self {
            RawPool::MySql(pool) => {
                let mut tx = pool.begin().await.expect("begin");
                sqlx::query(&sql)
                    .bind(sid)
                    .execute(&mut *tx)
                    .await
                    .expect("lock the row");
                RowLock::MySql(tx)
            }
            RawPool::Postgres(pool) => {
                let mut tx = pool.begin().await.expect("begin");
                sqlx::query(&sql)
                    .bind(sid)
                    .execute(&mut *tx)
                    .await
                    .expect("lock the row");
                RowLock::Postgres(tx)
            }
        }
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
