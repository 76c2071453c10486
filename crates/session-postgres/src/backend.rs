//! [`Backend`]: the engine's statements on its pool, as a [`RowBackend`].

use std::time::Duration;

use session_core::row::{LoadedRow, RowBackend, Ttl};
use session_core::{async_trait, Error, Lifetime, Lifetimes, Result, SessionData};
use session_sqlx::{Driver, SqlPool};
use sqlx::postgres::{PgQueryResult, PgRow, Postgres};
use sqlx::Row;

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
    pub(crate) lifetimes: Lifetimes,
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

/// The ttl of a record written now with `lifetime`, in milliseconds.
fn ttl_ms(lifetime: &Lifetime) -> i64 {
    i64::try_from(lifetime.ttl().as_millis())
        .unwrap_or(i64::MAX)
        .max(1)
}

/// A loaded session as `RowProvider` wants it from a `(session_data, ms left)` row: the
/// bytes read are its version (the conditional `UPDATE` compares `session_data` with them).
fn loaded(sid: &str, row: &PgRow) -> Result<LoadedRow<Vec<u8>>> {
    let fail = |e: sqlx::Error| Error::backend(ENGINE, "read session", e);
    let bytes: Vec<u8> = row.try_get(0).map_err(fail)?;
    let left: i64 = row.try_get(1).map_err(fail)?;
    Ok(LoadedRow {
        data: SessionData::decode_stored(&bytes, ENGINE, sid)?,
        version: bytes,
        ttl: Ttl::Left(Duration::from_millis(u64::try_from(left).unwrap_or(0))),
    })
}

#[async_trait]
impl RowBackend for Backend {
    const ENGINE: &'static str = ENGINE;
    const GC_BATCH: u64 = GC_BATCH;
    type Version = Vec<u8>;

    fn lifetimes(&self) -> &Lifetimes {
        &self.lifetimes
    }

    /// One statement: the live row and how long it has left.
    async fn load(&self, sid: &str) -> Result<Option<LoadedRow<Vec<u8>>>> {
        let row = self
            .db
            .run("read session", |pool| {
                sqlx::query(&self.sql.load).bind(sid).fetch_optional(pool)
            })
            .await?;
        row.map(|row| loaded(sid, &row)).transpose()
    }

    async fn fetch(&self, sid: &str) -> Result<Option<(SessionData, Vec<u8>)>> {
        let bytes = self
            .db
            .fetch_bytes("read session", &self.sql.fetch, sid)
            .await?;
        match bytes {
            Some(b) => Ok(Some((SessionData::decode_stored(&b, ENGINE, sid)?, b))),
            None => Ok(None),
        }
    }

    async fn create(&self, sid: &str, bytes: &[u8], lifetime: &Lifetime) -> Result<bool> {
        let ttl = ttl_ms(lifetime);
        let build = || {
            sqlx::query(&self.sql.create)
                .bind(sid)
                .bind(bytes)
                .bind(ttl)
        };
        Ok(self.db.execute("create session", build).await? == 1)
    }

    async fn replace(
        &self,
        sid: &str,
        expected: &Vec<u8>,
        bytes: &[u8],
        lifetime: &Lifetime,
    ) -> Result<bool> {
        let (sql, ttl) = (&self.sql.replace_if_unchanged, ttl_ms(lifetime));
        let build = || {
            sqlx::query(sql)
                .bind(sid)
                .bind(bytes)
                .bind(expected)
                .bind(ttl)
        };
        Ok(self.db.execute("write session", build).await? == 1)
    }

    async fn touch(&self, sid: &str, lifetime: &Lifetime) -> Result<bool> {
        let ttl = ttl_ms(lifetime);
        let build = || sqlx::query(&self.sql.touch).bind(sid).bind(ttl);
        Ok(self.db.execute("refresh session", build).await? == 1)
    }

    /// One statement: moves the live row, keeping its expiry, and returns it.
    async fn rename(&self, old_sid: &str, sid: &str) -> Result<Option<LoadedRow<Vec<u8>>>> {
        let moved = self
            .db
            .run("regenerate session", |pool| {
                sqlx::query(&self.sql.rename)
                    .bind(old_sid)
                    .bind(sid)
                    .fetch_optional(pool)
            })
            .await?;
        moved.map(|row| loaded(sid, &row)).transpose()
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
