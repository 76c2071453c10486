//! [`PostgresProvider`]: the engine, and [`Backend`]: its statements on one pool.

use std::sync::Arc;
use std::time::Duration;

use session_core::cas::{self, ConditionalStore};
use session_core::http::HeaderMap;
use session_core::{
    async_trait, retry, Capabilities, Context, Error, Persist, Provider, Release, Result,
    SessionData, Store, TrackedStore, Write,
};
use sqlx::postgres::{PgPool, PgPoolOptions};

use crate::config::{PostgresConfig, DEFAULT_TABLE};
use crate::sql::{self, Statements, GC_BATCH};
use crate::ENGINE;

type Query<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// How many GC batches one pass deletes at most; the next pass carries on.
const GC_MAX_BATCHES: usize = 100;

/// The PostgreSQL session engine: one bounded connection pool per provider.
#[derive(Debug, Clone)]
pub struct PostgresProvider {
    backend: Arc<Backend>,
}

/// The statements of one provider on its pool; also the [`Persist`] half of its sessions.
#[derive(Debug)]
pub struct Backend {
    pool: PgPool,
    sql: Statements,
    table: String,
    limit: Duration,
    attempts: usize,
    connect_timeout: Duration,
    max_connections: u32,
}

/// What a loaded session remembers: the bytes read, for the conditional write.
#[derive(Debug)]
pub struct Loaded {
    bytes: Vec<u8>,
}

impl PostgresProvider {
    /// A provider for `config` (see the crate docs) whose sessions live `max_lifetime`
    /// after their last use. Creates the table when `create_table` is on (the default).
    pub async fn connect(config: &str, max_lifetime: Duration) -> Result<Self> {
        let config = PostgresConfig::parse(config)?;
        Self::with_config(config, max_lifetime).await
    }

    /// A provider from a parsed configuration.
    pub async fn with_config(config: PostgresConfig, max_lifetime: Duration) -> Result<Self> {
        let params = config.params;
        let parts = params.table_parts(DEFAULT_TABLE);
        let table = sql::quote(&parts);
        let index = format!(
            "{}_expiry_idx",
            parts.last().copied().unwrap_or(DEFAULT_TABLE)
        );
        // The server stops a statement that overruns, as well as the client giving up.
        let timeout_ms = params.statement_timeout.as_millis().to_string();
        let connect = config
            .connect
            .options([("statement_timeout", timeout_ms.as_str())]);
        let pool = PgPoolOptions::new()
            .max_connections(params.max_connections)
            .min_connections(0)
            .acquire_timeout(params.connect_timeout)
            // A dead connection is noticed by the statement that uses it and retried (see
            // `run`); pinging before every use would cost a round trip per statement.
            .test_before_acquire(false)
            .idle_timeout(Some(Duration::from_secs(300)))
            .connect_lazy_with(connect);
        // Reads refresh the expiry only when it is more than 1 % of the lifetime old, so
        // most read-only requests write nothing, and a session still lives at least 99 % of
        // its lifetime after its last use.
        let slack = max_lifetime / 100;
        let backend = Backend {
            pool,
            sql: Statements::new(&table, &index, max_lifetime, slack),
            table,
            limit: params.connect_timeout + params.statement_timeout,
            attempts: params.max_connections as usize + 1,
            connect_timeout: params.connect_timeout,
            max_connections: params.max_connections,
        };
        if params.create_table {
            backend.ensure_table().await?;
        }
        Ok(PostgresProvider {
            backend: Arc::new(backend),
        })
    }

    /// The table sessions live in, quoted.
    pub fn table(&self) -> &str {
        &self.backend.table
    }

    /// The connection pool (for health checks and metrics).
    pub fn pool(&self) -> &PgPool {
        &self.backend.pool
    }

    fn store(&self, sid: &str, bytes: Option<Vec<u8>>) -> Box<dyn Store> {
        let persist = Arc::clone(&self.backend);
        Box::new(match bytes {
            Some(bytes) => {
                let data = SessionData::decode_or_empty(&bytes, ENGINE, sid);
                TrackedStore::loaded(sid, data, Loaded { bytes }, persist)
            }
            None => TrackedStore::new(sid, persist),
        })
    }

    /// One statement: reads the live row and refreshes its expiry when due.
    async fn load(&self, sid: &str) -> Result<Option<Vec<u8>>> {
        let b = &self.backend;
        b.run("read session", || {
            sqlx::query_scalar(&b.sql.load)
                .bind(sid)
                .fetch_optional(&b.pool)
        })
        .await
    }
}

impl Backend {
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

    /// Runs a statement built by `build` (called again for each retry); rows affected.
    async fn execute<'q>(
        &self,
        action: &'static str,
        build: impl Fn() -> Query<'q>,
    ) -> Result<u64> {
        let done = self.run(action, || build().execute(&self.pool)).await?;
        Ok(done.rows_affected())
    }

    async fn ensure_table(&self) -> Result<()> {
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
        let bytes = data.encode();
        let build = || sqlx::query(&self.sql.create).bind(sid).bind(&bytes);
        Ok(self.execute("create session", build).await? == 1)
    }

    async fn replace(&self, sid: &str, expected: &Vec<u8>, data: &SessionData) -> Result<bool> {
        let bytes = data.encode();
        let sql = &self.sql.replace_if_unchanged;
        let build = || sqlx::query(sql).bind(sid).bind(&bytes).bind(expected);
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
            // Loading already refreshed the expiry, in the same statement as the read.
            Write::Touch => {}
        }
        Ok(())
    }
}

#[async_trait]
impl Provider for PostgresProvider {
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
            .map(|bytes| self.store(sid, Some(bytes))))
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
        let moved: Option<Vec<u8>> = b
            .run("regenerate session", || {
                sqlx::query_scalar(&b.sql.rename)
                    .bind(old_sid)
                    .bind(sid)
                    .fetch_optional(&b.pool)
            })
            .await?;
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
