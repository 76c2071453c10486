//! [`Backend`]: the engine's statements on its pool, as a [`RowBackend`].

use std::time::Duration;

use session_core::row::{Expiry, LoadedRow, RowBackend};
use session_core::{async_trait, retry, Error, Result, SessionData};
use sqlx::mysql::{MySqlDatabaseError, MySqlPool};
use sqlx::Row;

use crate::sql::{Statements, GC_BATCH};
use crate::ENGINE;

type Query<'q> = sqlx::query::Query<'q, sqlx::MySql, sqlx::mysql::MySqlArguments>;

/// Largest stored session: the size of a `BLOB` column.
pub const MAX_DATA_SIZE: usize = 65_535;

/// The statements of one provider on its pool.
#[derive(Debug)]
pub struct Backend {
    pub(crate) pool: MySqlPool,
    pub(crate) sql: Statements,
    pub(crate) table: String,
    /// Whole seconds, as `session_expiry` counts them.
    pub(crate) lifetime: Duration,
    pub(crate) pooled: retry::Pooled,
}

impl Backend {
    fn fail(&self, action: &'static str, error: impl Into<session_core::BoxError>) -> Error {
        Error::backend(ENGINE, action, error)
    }

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

    pub(crate) async fn ensure_table(&self) -> Result<()> {
        self.run("create the session table", || {
            sqlx::raw_sql(&self.sql.create_table).execute(&self.pool)
        })
        .await?;
        tracing::debug!(table = %self.table, "session table ready");
        Ok(())
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
}

/// Errors after which the same statement on another connection may well succeed.
fn is_connection_lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            // 1053 server shutdown, 1927 connection killed; SQLSTATE 08: connection exception.
            db.try_downcast_ref::<MySqlDatabaseError>()
                .is_some_and(|e| matches!(e.number(), 1053 | 1927))
                || db.code().is_some_and(|c| c.starts_with("08"))
        }
        _ => false,
    }
}

/// The version of a stored session is the bytes read: the conditional `UPDATE` compares
/// `session_data` with them.
#[async_trait]
impl RowBackend for Backend {
    const ENGINE: &'static str = ENGINE;
    const MAX_DATA_SIZE: Option<usize> = Some(MAX_DATA_SIZE);
    const GC_BATCH: u64 = GC_BATCH;
    type Version = Vec<u8>;

    fn lifetime(&self) -> Duration {
        self.lifetime
    }

    async fn load(&self, sid: &str) -> Result<Option<LoadedRow<Vec<u8>>>> {
        let row = self
            .run("read session", || {
                sqlx::query(&self.sql.load)
                    .bind(sid)
                    .fetch_optional(&self.pool)
            })
            .await?;
        let Some(row) = row else { return Ok(None) };
        let bytes: Vec<u8> = row.try_get(0).map_err(|e| self.fail("read session", e))?;
        let remaining: i64 = row.try_get(1).map_err(|e| self.fail("read session", e))?;
        let remaining = Duration::from_secs(u64::try_from(remaining).unwrap_or(0));
        Ok(Some(LoadedRow {
            data: SessionData::decode_or_empty(&bytes, ENGINE, sid),
            version: bytes,
            expiry: Expiry::Remaining(remaining),
        }))
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
        let inserted = self
            .run("create session", || {
                sqlx::query(&self.sql.insert)
                    .bind(sid)
                    .bind(bytes)
                    .execute(&self.pool)
            })
            .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(Error::Backend { source, .. })
                if source
                    .downcast_ref::<sqlx::Error>()
                    .and_then(sqlx::Error::as_database_error)
                    .is_some_and(|db| db.is_unique_violation()) =>
            {
                // The id is taken: by an expired leftover (replace it) or a live session.
                let sql = &self.sql.replace_expired;
                let replaced = self
                    .execute("create session", || sqlx::query(sql).bind(bytes).bind(sid))
                    .await?;
                Ok(replaced == 1)
            }
            Err(other) => Err(other),
        }
    }

    async fn replace(&self, sid: &str, expected: &Vec<u8>, bytes: &[u8]) -> Result<bool> {
        let sql = &self.sql.replace_if_unchanged;
        let build = || sqlx::query(sql).bind(bytes).bind(sid).bind(expected);
        Ok(self.execute("write session", build).await? == 1)
    }

    async fn touch(&self, sid: &str) -> Result<()> {
        let build = || sqlx::query(&self.sql.touch).bind(sid);
        self.execute("refresh session", build).await?;
        Ok(())
    }

    async fn rename(&self, old_sid: &str, sid: &str) -> Result<Option<LoadedRow<Vec<u8>>>> {
        let build = || sqlx::query(&self.sql.rename).bind(sid).bind(old_sid);
        if self.execute("regenerate session", build).await? == 0 {
            return Ok(None);
        }
        self.load(sid).await
    }

    async fn exists(&self, sid: &str) -> Result<bool> {
        // Only whether a row came back matters; its column is never decoded (servers
        // disagree on the type of the literal).
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
