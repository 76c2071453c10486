//! [`Backend`]: the engine's statements on its pool, as a [`RowBackend`].

use std::time::Duration;

use session_core::row::{Expiry, LoadedRow, RowBackend};
use session_core::{async_trait, Result, SessionData};
use session_sqlx::{Driver, SqlPool};
use sqlx::postgres::{PgQueryResult, Postgres};

use crate::sql::{Statements, GC_BATCH};
use crate::ENGINE;

/// What `SqlPool` needs to know about this driver.
pub(crate) const DRIVER: Driver<Postgres> = Driver {
    engine: ENGINE,
    is_connection_lost,
    rows_affected: PgQueryResult::rows_affected,
};

/// The statements of one provider on its pool.
#[derive(Debug)]
pub struct Backend {
    pub(crate) db: SqlPool<Postgres>,
    pub(crate) sql: Statements,
    pub(crate) table: String,
    pub(crate) lifetime: Duration,
}

impl Backend {
    pub(crate) async fn ensure_table(&self) -> Result<()> {
        let (action, sql) = ("create the session table", &self.sql.create_table);
        if let Err(first) = self.db.execute_raw(action, sql).await {
            // Two providers creating the same table at once collide in the catalog
            // (unique_violation / duplicate_table); by then the other one has made it.
            tracing::debug!(table = %self.table, error = %first, "creating the table raced; retrying");
            tokio::time::sleep(Duration::from_millis(100)).await;
            self.db.execute_raw(action, sql).await?;
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
        let bytes = self
            .db
            .fetch_bytes("read session", &self.sql.load, sid)
            .await?;
        Ok(bytes.map(|bytes| loaded(sid, bytes)))
    }

    async fn fetch(&self, sid: &str) -> Result<Option<(SessionData, Vec<u8>)>> {
        let bytes = self
            .db
            .fetch_bytes("read session", &self.sql.fetch, sid)
            .await?;
        Ok(bytes.map(|b| (SessionData::decode_or_empty(&b, ENGINE, sid), b)))
    }

    async fn create(&self, sid: &str, bytes: &[u8]) -> Result<bool> {
        let build = || sqlx::query(&self.sql.create).bind(sid).bind(bytes);
        Ok(self.db.execute("create session", build).await? == 1)
    }

    async fn replace(&self, sid: &str, expected: &Vec<u8>, bytes: &[u8]) -> Result<bool> {
        let sql = &self.sql.replace_if_unchanged;
        let build = || sqlx::query(sql).bind(sid).bind(bytes).bind(expected);
        Ok(self.db.execute("write session", build).await? == 1)
    }

    /// Only reached for a session created earlier in the same request (a loaded one was
    /// refreshed by its read).
    async fn touch(&self, sid: &str) -> Result<()> {
        let build = || sqlx::query(&self.sql.touch).bind(sid);
        self.db.execute("refresh session", build).await?;
        Ok(())
    }

    /// One statement: moves the live row, refreshes its expiry and returns its data.
    async fn rename(&self, old_sid: &str, sid: &str) -> Result<Option<LoadedRow<Vec<u8>>>> {
        let moved: Option<Vec<u8>> = self
            .db
            .run("regenerate session", |pool| {
                sqlx::query_scalar(&self.sql.rename)
                    .bind(old_sid)
                    .bind(sid)
                    .fetch_optional(pool)
            })
            .await?;
        Ok(moved.map(|bytes| loaded(sid, bytes)))
    }

    async fn exists(&self, sid: &str) -> Result<bool> {
        self.db.exists("check session", &self.sql.exist, sid).await
    }

    async fn destroy(&self, sid: &str) -> Result<()> {
        let build = || sqlx::query(&self.sql.destroy).bind(sid);
        self.db.execute("destroy session", build).await?;
        Ok(())
    }

    async fn count_live(&self) -> Result<usize> {
        self.db.count("count sessions", &self.sql.count).await
    }

    async fn delete_expired(&self) -> Result<u64> {
        let build = || sqlx::query(&self.sql.gc);
        self.db.execute("collect expired sessions", build).await
    }
}
