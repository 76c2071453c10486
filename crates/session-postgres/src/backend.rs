//! [`Backend`]: the engine's statements on its pool, as a [`RowBackend`].

use std::time::Duration;

use session_core::row::{Expiry, LoadedRow, RowBackend};
use session_core::{async_trait, retry, Result, SessionData};
use sqlx::postgres::PgPool;

use crate::sql::{Statements, GC_BATCH};
use crate::ENGINE;

type Query<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// The statements of one provider on its pool.
#[derive(Debug)]
pub struct Backend {
    pub(crate) pool: PgPool,
    pub(crate) sql: Statements,
    pub(crate) table: String,
    pub(crate) lifetime: Duration,
    pub(crate) pooled: retry::Pooled,
}

impl Backend {
    /// Runs one statement within the timeouts, retrying it on a connection that died.
    async fn run<T, F, Fut>(&self, action: &'static str, op: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, sqlx::Error>>,
    {
        let pool_timeout = |e: &sqlx::Error| matches!(e, sqlx::Error::PoolTimedOut);
        let pooled = &self.pooled;
        pooled
            .run(ENGINE, action, is_connection_lost, pool_timeout, op)
            .await
    }

    /// Runs a statement built by `build` (called again for each retry); rows affected.
    async fn execute<'q>(
        &self,
        action: &'static str,
        build: impl Fn() -> Query<'q>,
    ) -> Result<u64> {
        let done = self.run(action, || build().execute(&self.pool)).await?;
        Ok(done.rows_affected())
    }

    pub(crate) async fn ensure_table(&self) -> Result<()> {
        let create = || sqlx::raw_sql(&self.sql.create_table).execute(&self.pool);
        if let Err(first) = self.run("create the session table", create).await {
            // Two providers creating the same table at once collide in the catalog
            // (unique_violation / duplicate_table); by then the other one has made it.
            tracing::debug!(table = %self.table, error = %first, "creating the table raced; retrying");
            tokio::time::sleep(Duration::from_millis(100)).await;
            self.run("create the session table", create).await?;
        }
        tracing::debug!(table = %self.table, "session table ready");
        Ok(())
    }
}

/// Errors after which the same statement on another connection may well succeed.
fn is_connection_lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => true,
        // Class 08: connection exception; 57P01..03: the server is shutting down or starting.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")),
        _ => false,
    }
}

/// A loaded session as `RowProvider` wants it: the bytes read are its version (the
/// conditional `UPDATE` compares `session_data` with them), and the read statement has
/// already refreshed the expiry when it was due.
fn loaded(sid: &str, bytes: Vec<u8>) -> LoadedRow<Vec<u8>> {
    LoadedRow {
        data: SessionData::decode_or_empty(&bytes, ENGINE, sid),
        version: bytes,
        expiry: Expiry::Refreshed,
    }
}

#[async_trait]
impl RowBackend for Backend {
    const ENGINE: &'static str = ENGINE;
    const GC_BATCH: u64 = GC_BATCH;
    type Version = Vec<u8>;

    fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// One statement: reads the live row and refreshes its expiry when due.
    async fn load(&self, sid: &str) -> Result<Option<LoadedRow<Vec<u8>>>> {
        let bytes: Option<Vec<u8>> = self
            .run("read session", || {
                sqlx::query_scalar(&self.sql.load)
                    .bind(sid)
                    .fetch_optional(&self.pool)
            })
            .await?;
        Ok(bytes.map(|bytes| loaded(sid, bytes)))
    }

    async fn fetch(&self, sid: &str) -> Result<Option<(SessionData, Vec<u8>)>> {
        let bytes: Option<Vec<u8>> = self
            .run("read session", || {
                sqlx::query_scalar(&self.sql.fetch)
                    .bind(sid)
                    .fetch_optional(&self.pool)
            })
            .await?;
        Ok(bytes.map(|b| (SessionData::decode_or_empty(&b, ENGINE, sid), b)))
    }

    async fn create(&self, sid: &str, bytes: &[u8]) -> Result<bool> {
        let build = || sqlx::query(&self.sql.create).bind(sid).bind(bytes);
        Ok(self.execute("create session", build).await? == 1)
    }

    async fn replace(&self, sid: &str, expected: &Vec<u8>, bytes: &[u8]) -> Result<bool> {
        let sql = &self.sql.replace_if_unchanged;
        let build = || sqlx::query(sql).bind(sid).bind(bytes).bind(expected);
        Ok(self.execute("write session", build).await? == 1)
    }

    /// Only reached for a session created earlier in the same request (a loaded one was
    /// refreshed by its read).
    async fn touch(&self, sid: &str) -> Result<()> {
        let build = || sqlx::query(&self.sql.touch).bind(sid);
        self.execute("refresh session", build).await?;
        Ok(())
    }

    /// One statement: moves the live row, refreshes its expiry and returns its data.
    async fn rename(&self, old_sid: &str, sid: &str) -> Result<Option<LoadedRow<Vec<u8>>>> {
        let moved: Option<Vec<u8>> = self
            .run("regenerate session", || {
                sqlx::query_scalar(&self.sql.rename)
                    .bind(old_sid)
                    .bind(sid)
                    .fetch_optional(&self.pool)
            })
            .await?;
        Ok(moved.map(|bytes| loaded(sid, bytes)))
    }

    async fn exists(&self, sid: &str) -> Result<bool> {
        // Only whether a row came back matters; its column is never decoded.
        let found = self
            .run("check session", || {
                sqlx::query(&self.sql.exist)
                    .bind(sid)
                    .fetch_optional(&self.pool)
            })
            .await?;
        Ok(found.is_some())
    }

    async fn destroy(&self, sid: &str) -> Result<()> {
        let build = || sqlx::query(&self.sql.destroy).bind(sid);
        self.execute("destroy session", build).await?;
        Ok(())
    }

    async fn count_live(&self) -> Result<usize> {
        let count: i64 = self
            .run("count sessions", || {
                sqlx::query_scalar(&self.sql.count).fetch_one(&self.pool)
            })
            .await?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    async fn delete_expired(&self) -> Result<u64> {
        let build = || sqlx::query(&self.sql.gc);
        self.execute("collect expired sessions", build).await
    }
}
