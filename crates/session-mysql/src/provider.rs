//! [`MysqlProvider`]: the engine, and [`Backend`]: its statements on one pool.

use std::sync::Arc;
use std::time::Duration;

use session_core::cas::{self, ConditionalStore};
use session_core::http::HeaderMap;
use session_core::{
    async_trait, retry, Capabilities, Context, Error, Persist, Provider, Release, Result,
    SessionData, Store, TrackedStore, Write,
};
use sqlx::mysql::{MySqlDatabaseError, MySqlPool, MySqlPoolOptions};
use sqlx::Row;

type Query<'q> = sqlx::query::Query<'q, sqlx::MySql, sqlx::mysql::MySqlArguments>;

use crate::config::{MysqlConfig, DEFAULT_TABLE};
use crate::sql::{self, Statements, GC_BATCH};
use crate::ENGINE;

/// Largest stored session: the size of a `BLOB` column.
pub const MAX_DATA_SIZE: usize = 65_535;

/// How many GC batches one pass deletes at most; the next pass carries on.
const GC_MAX_BATCHES: usize = 100;

/// The MySQL / MariaDB session engine: one bounded connection pool per provider.
#[derive(Debug, Clone)]
pub struct MysqlProvider {
    backend: Arc<Backend>,
}

/// The statements of one provider on its pool; also the [`Persist`] half of its sessions.
#[derive(Debug)]
pub struct Backend {
    pool: MySqlPool,
    sql: Statements,
    table: String,
    lifetime: u64,
    /// An unchanged session's expiry is rewritten only when it is more than this many
    /// seconds short of a full lifetime (1 %): most read-only requests then cost one
    /// statement, and a session still lives at least 99 % of its lifetime after its last use.
    slack: u64,
    limit: Duration,
    attempts: usize,
    connect_timeout: Duration,
    max_connections: u32,
}

/// What a loaded session remembers: the bytes read (for the conditional write) and
/// whether its expiry needs refreshing at release.
#[derive(Debug)]
pub struct Loaded {
    bytes: Vec<u8>,
    refresh_due: bool,
}

impl MysqlProvider {
    /// A provider for `config` (see the crate docs) whose sessions live `max_lifetime`
    /// after their last use. Creates the table when `create_table` is on (the default).
    pub async fn connect(config: &str, max_lifetime: Duration) -> Result<Self> {
        let config = MysqlConfig::parse(config)?;
        Self::with_config(config, max_lifetime).await
    }

    /// A provider from a parsed configuration.
    pub async fn with_config(config: MysqlConfig, max_lifetime: Duration) -> Result<Self> {
        let params = config.params;
        let parts = params.table_parts(DEFAULT_TABLE);
        let table = sql::quote(&parts);
        let index = format!("{}_expiry", parts.last().copied().unwrap_or(DEFAULT_TABLE));
        let lock_wait = format!(
            "SET SESSION innodb_lock_wait_timeout = {}",
            params.statement_timeout.as_secs().max(1)
        );
        let lock_wait: Arc<str> = lock_wait.into();
        let pool = MySqlPoolOptions::new()
            .max_connections(params.max_connections)
            .min_connections(0)
            .acquire_timeout(params.connect_timeout)
            // A dead connection is noticed by the statement that uses it and retried (see
            // `run`); pinging before every use would cost a round trip per statement.
            .test_before_acquire(false)
            .idle_timeout(Some(Duration::from_secs(300)))
            .after_connect(move |conn, _meta| {
                let lock_wait = Arc::clone(&lock_wait);
                Box::pin(async move {
                    // Waiting for a row lock is bounded on the server too, not only by the
                    // client giving up (which leaves the statement queued on the connection).
                    sqlx::query(&lock_wait).execute(conn).await.map(|_| ())
                })
            })
            .connect_lazy_with(config.connect);
        let lifetime = sql::lifetime_secs(max_lifetime);
        let backend = Backend {
            pool,
            sql: Statements::new(&table, &index, max_lifetime),
            table,
            lifetime,
            slack: lifetime / 100,
            limit: params.connect_timeout + params.statement_timeout,
            attempts: params.max_connections as usize + 1,
            connect_timeout: params.connect_timeout,
            max_connections: params.max_connections,
        };
        if params.create_table {
            backend.ensure_table().await?;
        }
        Ok(MysqlProvider {
            backend: Arc::new(backend),
        })
    }

    /// The table sessions live in, quoted.
    pub fn table(&self) -> &str {
        &self.backend.table
    }

    /// The connection pool (for health checks and metrics).
    pub fn pool(&self) -> &MySqlPool {
        &self.backend.pool
    }

    fn store(&self, sid: &str, loaded: Option<(SessionData, Loaded)>) -> Box<dyn Store> {
        let persist = Arc::clone(&self.backend);
        Box::new(match loaded {
            Some((data, token)) => TrackedStore::loaded(sid, data, token, persist),
            None => TrackedStore::new(sid, persist),
        })
    }

    async fn load(&self, sid: &str) -> Result<Option<(SessionData, Loaded)>> {
        let b = &self.backend;
        let row = b
            .run("read session", || {
                sqlx::query(&b.sql.load).bind(sid).fetch_optional(&b.pool)
            })
            .await?;
        let Some(row) = row else { return Ok(None) };
        let bytes: Vec<u8> = row.try_get(0).map_err(|e| b.fail("read session", e))?;
        let remaining: i64 = row.try_get(1).map_err(|e| b.fail("read session", e))?;
        let short = b
            .lifetime
            .saturating_sub(u64::try_from(remaining).unwrap_or(0));
        let data = SessionData::decode_or_empty(&bytes, ENGINE, sid);
        Ok(Some((
            data,
            Loaded {
                bytes,
                refresh_due: short > b.slack,
            },
        )))
    }
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
        retry::bounded(
            ENGINE,
            action,
            self.limit,
            self.attempts,
            is_connection_lost,
            op,
        )
        .await
        .map_err(|error| self.explain(error))
    }

    /// sqlx's "pool timed out" does not say why; say what it means here.
    fn explain(&self, error: Error) -> Error {
        match error {
            Error::Backend {
                engine,
                action,
                source,
            } if matches!(
                source.downcast_ref::<sqlx::Error>(),
                Some(sqlx::Error::PoolTimedOut)
            ) =>
            {
                let why = format!(
                    "no connection to the server within {:?}: it is down or unreachable, or all \
                     {} pooled connections are busy",
                    self.connect_timeout, self.max_connections
                );
                Error::backend(engine, action, why)
            }
            other => other,
        }
    }

    async fn ensure_table(&self) -> Result<()> {
        self.run("create the session table", || {
            sqlx::raw_sql(&self.sql.create_table).execute(&self.pool)
        })
        .await?;
        tracing::debug!(table = %self.table, "session table ready");
        Ok(())
    }

    fn encode(&self, sid: &str, data: &SessionData) -> Result<Vec<u8>> {
        let bytes = data.encode();
        if bytes.len() > MAX_DATA_SIZE {
            return Err(Error::TooLarge {
                engine: ENGINE.into(),
                sid: sid.to_owned(),
                size: bytes.len(),
                limit: MAX_DATA_SIZE,
            });
        }
        Ok(bytes)
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

#[async_trait]
impl ConditionalStore for Backend {
    type Version = Vec<u8>;

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

    async fn create(&self, sid: &str, data: &SessionData) -> Result<bool> {
        let bytes = self.encode(sid, data)?;
        let inserted = self
            .run("create session", || {
                sqlx::query(&self.sql.insert)
                    .bind(sid)
                    .bind(&bytes)
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
                    .execute("create session", || sqlx::query(sql).bind(&bytes).bind(sid))
                    .await?;
                Ok(replaced == 1)
            }
            Err(other) => Err(other),
        }
    }

    async fn replace(&self, sid: &str, expected: &Vec<u8>, data: &SessionData) -> Result<bool> {
        let bytes = self.encode(sid, data)?;
        let sql = &self.sql.replace_if_unchanged;
        let build = || sqlx::query(sql).bind(&bytes).bind(sid).bind(expected);
        Ok(self.execute("write session", build).await? == 1)
    }
}

#[async_trait]
impl Persist for Backend {
    type Token = Loaded;

    async fn persist(&self, release: Release<'_, Loaded>, _response: &mut HeaderMap) -> Result<()> {
        match release.write {
            Write::Changes(changes) => {
                cas::write_changes(
                    self,
                    ENGINE,
                    release.sid,
                    changes,
                    release.loaded.map(|l| &l.bytes),
                    release.data,
                    release.only_if_present,
                )
                .await?;
            }
            Write::Touch => {
                let due = release.loaded.map_or(true, |l| l.refresh_due);
                if !due {
                    return Ok(());
                }
                let sid = release.sid;
                let build = || sqlx::query(&self.sql.touch).bind(sid);
                // A session destroyed or expired meanwhile stays gone: a request that
                // changed nothing has nothing to bring back.
                self.execute("refresh session", build).await?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Provider for MysqlProvider {
    async fn session_read(&self, _cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
        Ok(self.store(sid, self.load(sid).await?))
    }

    async fn session_exist(&self, _cx: &Context<'_>, sid: &str) -> Result<bool> {
        let b = &self.backend;
        // Only whether a row came back matters; its column is never decoded (servers
        // disagree on the type of the literal).
        let found = b
            .run("check session", || {
                sqlx::query(&b.sql.exist).bind(sid).fetch_optional(&b.pool)
            })
            .await?;
        Ok(found.is_some())
    }

    async fn session_load(&self, _cx: &Context<'_>, sid: &str) -> Result<Option<Box<dyn Store>>> {
        Ok(self
            .load(sid)
            .await?
            .map(|loaded| self.store(sid, Some(loaded))))
    }

    async fn session_create(&self, _cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
        Ok(self.store(sid, None))
    }

    async fn session_regenerate(
        &self,
        _cx: &Context<'_>,
        old_sid: &str,
        sid: &str,
    ) -> Result<Box<dyn Store>> {
        let b = &self.backend;
        let build = || sqlx::query(&b.sql.rename).bind(sid).bind(old_sid);
        if b.execute("regenerate session", build).await? == 0 {
            return Ok(self.store(sid, None));
        }
        let moved = self.load(sid).await?;
        Ok(self.store(sid, moved))
    }

    async fn session_destroy(&self, _cx: &Context<'_>, sid: &str) -> Result<()> {
        let b = &self.backend;
        b.execute("destroy session", || sqlx::query(&b.sql.destroy).bind(sid))
            .await?;
        Ok(())
    }

    async fn session_all(&self) -> Result<usize> {
        let b = &self.backend;
        let count: i64 = b
            .run("count sessions", || {
                sqlx::query_scalar(&b.sql.count).fetch_one(&b.pool)
            })
            .await?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    async fn session_gc(&self) -> Result<()> {
        let b = &self.backend;
        let mut removed = 0;
        for _ in 0..GC_MAX_BATCHES {
            let n = b
                .execute("collect expired sessions", || sqlx::query(&b.sql.gc))
                .await?;
            removed += n;
            if n < GC_BATCH {
                break;
            }
            tokio::task::yield_now().await;
        }
        tracing::debug!(engine = ENGINE, removed, "GC pass done");
        Ok(())
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::NONE.merging().counting()
    }
}
