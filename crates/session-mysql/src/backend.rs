//! [`Backend`]: the engine's statements on its pool, as a [`RowBackend`].

use std::time::Duration;

use session_core::row::{LoadedRow, RowBackend, Ttl};
use session_core::{async_trait, Error, Lifetime, Lifetimes, Result, SessionData};
use session_sqlx::{Driver, SqlPool};
use sqlx::mysql::{MySql, MySqlDatabaseError, MySqlQueryResult};
use sqlx::Row;

use crate::sql::{Statements, GC_BATCH};
use crate::ENGINE;

/// Largest stored session: the size of a `BLOB` column.
pub const MAX_DATA_SIZE: usize = 65_535;

/// What `SqlPool` needs to know about this driver.
pub(crate) const DRIVER: Driver<MySql> = Driver {
    engine: ENGINE,
    is_connection_lost,
    rows_affected: MySqlQueryResult::rows_affected,
};

/// The statements of one provider on its pool.
#[derive(Debug)]
pub struct Backend {
    pub(crate) db: SqlPool<MySql>,
    pub(crate) sql: Statements,
    pub(crate) table: String,
    /// Whole seconds, as `session_expiry` counts them.
    pub(crate) lifetimes: Lifetimes,
}

impl Backend {
    fn fail(&self, action: &'static str, error: impl Into<session_core::BoxError>) -> Error {
        Error::backend(ENGINE, action, error)
    }

    pub(crate) async fn ensure_table(&self) -> Result<()> {
        let action = "create the session table";
        self.db.execute_raw(action, &self.sql.create_table).await?;
        tracing::debug!(table = %self.table, "session table ready");
        Ok(())
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

/// The seconds a record written now with `lifetime` lives (to the millisecond).
fn ttl_secs(lifetime: &Lifetime) -> f64 {
    lifetime.ttl().as_secs_f64()
}

/// The version of a stored session is the bytes read: the conditional `UPDATE` compares
/// `session_data` with them.
#[async_trait]
impl RowBackend for Backend {
    const ENGINE: &'static str = ENGINE;
    const MAX_DATA_SIZE: Option<usize> = Some(MAX_DATA_SIZE);
    const GC_BATCH: u64 = GC_BATCH;
    type Version = Vec<u8>;

    fn lifetimes(&self) -> &Lifetimes {
        &self.lifetimes
    }

    async fn load(&self, sid: &str) -> Result<Option<LoadedRow<Vec<u8>>>> {
        let row = self
            .db
            .run("read session", |pool| {
                sqlx::query(&self.sql.load).bind(sid).fetch_optional(pool)
            })
            .await?;
        let Some(row) = row else { return Ok(None) };
        let bytes: Vec<u8> = row.try_get(0).map_err(|e| self.fail("read session", e))?;
        let remaining: i64 = row.try_get(1).map_err(|e| self.fail("read session", e))?;
        let remaining = Duration::from_secs(u64::try_from(remaining).unwrap_or(0));
        Ok(Some(LoadedRow {
            data: SessionData::decode_stored(&bytes, ENGINE, sid)?,
            version: bytes,
            ttl: Ttl::Left(remaining),
        }))
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
        let ttl = ttl_secs(lifetime);
        let insert = || {
            sqlx::query(&self.sql.insert)
                .bind(sid)
                .bind(bytes)
                .bind(ttl)
        };
        match self.db.execute("create session", insert).await {
            Ok(_) => Ok(true),
            Err(Error::Backend { source, .. })
                if source
                    .downcast_ref::<sqlx::Error>()
                    .and_then(sqlx::Error::as_database_error)
                    .is_some_and(|db| db.is_unique_violation()) =>
            {
                // The id is taken: by an expired leftover (replace it) or a live session.
                let sql = &self.sql.replace_expired;
                let replace = || sqlx::query(sql).bind(bytes).bind(ttl).bind(sid);
                Ok(self.db.execute("create session", replace).await? == 1)
            }
            Err(other) => Err(other),
        }
    }

    async fn replace(
        &self,
        sid: &str,
        expected: &Vec<u8>,
        bytes: &[u8],
        lifetime: &Lifetime,
    ) -> Result<bool> {
        let (sql, ttl) = (&self.sql.replace_if_unchanged, ttl_secs(lifetime));
        let build = || {
            sqlx::query(sql)
                .bind(bytes)
                .bind(ttl)
                .bind(sid)
                .bind(expected)
        };
        Ok(self.db.execute("write session", build).await? == 1)
    }

    async fn touch(&self, sid: &str, lifetime: &Lifetime) -> Result<bool> {
        let ttl = ttl_secs(lifetime);
        let build = || sqlx::query(&self.sql.touch).bind(ttl).bind(sid);
        Ok(self.db.execute("refresh session", build).await? == 1)
    }

    /// Two statements: MariaDB has no `UPDATE … RETURNING`.
    async fn rename(&self, old_sid: &str, sid: &str) -> Result<Option<LoadedRow<Vec<u8>>>> {
        let build = || sqlx::query(&self.sql.rename).bind(sid).bind(old_sid);
        if self.db.execute("regenerate session", build).await? == 0 {
            return Ok(None);
        }
        self.load(sid).await
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
