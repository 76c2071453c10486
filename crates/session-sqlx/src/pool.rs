//! [`SqlPool`]: an engine's connection pool, whose every statement is bounded by the
//! timeouts and retried on a connection that died.

use std::future::Future;
use std::time::Duration;

use session_core::dsn::SqlParams;
use session_core::{retry, Result};
use sqlx::pool::{Pool, PoolOptions};
use sqlx::query::Query;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

/// What [`SqlPool`] needs to know about an engine's driver.
pub struct Driver<DB: Database> {
    /// The engine's name, for errors and logs.
    pub engine: &'static str,
    /// Errors after which the same statement on another connection may well succeed.
    pub is_connection_lost: fn(&sqlx::Error) -> bool,
    /// The rows a statement changed (each driver has its own result type).
    pub rows_affected: fn(&DB::QueryResult) -> u64,
}

impl<DB: Database> std::fmt::Debug for Driver<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

/// The pool settings every SQL engine starts from, sized and bounded by `params`; the
/// engine adds its own (such as `after_connect`) and connects.
pub fn pool_options<DB: Database>(params: &SqlParams) -> PoolOptions<DB> {
    PoolOptions::new()
        .max_connections(params.max_connections)
        .min_connections(0)
        .acquire_timeout(params.connect_timeout)
        // A dead connection is noticed by the statement that uses it and retried (see
        // `SqlPool::run`); pinging before every use would cost a round trip per statement.
        .test_before_acquire(false)
        .idle_timeout(Some(Duration::from_secs(300)))
}

/// An engine's pool: statements run on it within the connect and statement timeouts of
/// its [`SqlParams`], and are retried on another connection when theirs turns out dead.
///
/// Retrying is only for statements that are safe to repeat (reads, deletes, conditional
/// writes), which is all the SQL engines run.
#[derive(Debug)]
pub struct SqlPool<DB: Database> {
    pool: Pool<DB>,
    pooled: retry::Pooled,
    driver: Driver<DB>,
}

impl<DB: Database> SqlPool<DB> {
    /// Wraps `pool`, which was built with `params` (see [`pool_options`]).
    pub fn new(pool: Pool<DB>, params: &SqlParams, driver: Driver<DB>) -> Self {
        let pooled = retry::Pooled::new(
            params.max_connections,
            params.connect_timeout,
            params.statement_timeout,
        );
        SqlPool {
            pool,
            pooled,
            driver,
        }
    }

    /// The pool itself (for health checks and metrics).
    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }

    /// Runs the statement `op` starts on the pool (again for each retry); errors name
    /// the engine and `action`.
    pub async fn run<'p, T, F, Fut>(&'p self, action: &'static str, mut op: F) -> Result<T>
    where
        F: FnMut(&'p Pool<DB>) -> Fut,
        Fut: Future<Output = std::result::Result<T, sqlx::Error>>,
    {
        let pool_timeout = |e: &sqlx::Error| matches!(e, sqlx::Error::PoolTimedOut);
        let lost = self.driver.is_connection_lost;
        let op = || op(&self.pool);
        self.pooled
            .run(self.driver.engine, action, lost, pool_timeout, op)
            .await
    }
}

impl<DB: Database> SqlPool<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    /// Runs `sql` as it is: several statements, nothing bound (the DDL).
    pub async fn execute_raw(&self, action: &'static str, sql: &str) -> Result<()> {
        self.run(action, |pool| sqlx::raw_sql(sql).execute(pool))
            .await
            .map(drop)
    }

    /// Runs the statement `build` makes (again for each retry); the rows it changed.
    pub async fn execute<'q>(
        &self,
        action: &'static str,
        build: impl Fn() -> Query<'q, DB, DB::Arguments<'q>>,
    ) -> Result<u64>
    where
        DB::Arguments<'q>: IntoArguments<'q, DB>,
    {
        let done = self.run(action, |pool| build().execute(pool)).await?;
        Ok((self.driver.rows_affected)(&done))
    }

    /// Whether `sql`, with `sid` bound, returns a row. Its columns are never decoded
    /// (servers disagree on the type of a literal such as `SELECT 1`).
    pub async fn exists<'q>(&self, action: &'static str, sql: &'q str, sid: &'q str) -> Result<bool>
    where
        DB::Arguments<'q>: IntoArguments<'q, DB>,
        &'q str: Encode<'q, DB> + Type<DB>,
    {
        let found = self
            .run(action, |pool| {
                sqlx::query(sql).bind(sid).fetch_optional(pool)
            })
            .await?;
        Ok(found.is_some())
    }

    /// The bytes (first column) of the row `sql`, with `sid` bound, returns, if any.
    pub async fn fetch_bytes<'q>(
        &self,
        action: &'static str,
        sql: &'q str,
        sid: &'q str,
    ) -> Result<Option<Vec<u8>>>
    where
        DB::Arguments<'q>: IntoArguments<'q, DB>,
        &'q str: Encode<'q, DB> + Type<DB>,
        (Vec<u8>,): for<'r> FromRow<'r, DB::Row>,
    {
        self.run(action, |pool| {
            sqlx::query_scalar(sql).bind(sid).fetch_optional(pool)
        })
        .await
    }

    /// The count (first column, a `BIGINT`) that `sql` returns; 0 if negative.
    pub async fn count<'q>(&self, action: &'static str, sql: &'q str) -> Result<usize>
    where
        DB::Arguments<'q>: IntoArguments<'q, DB>,
        (i64,): for<'r> FromRow<'r, DB::Row>,
    {
        let count: i64 = self
            .run(action, |pool| sqlx::query_scalar(sql).fetch_one(pool))
            .await?;
        Ok(usize::try_from(count).unwrap_or(0))
    }
}
