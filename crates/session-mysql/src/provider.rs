//! [`MysqlProvider`]: the engine, a [`RowProvider`] on [`Backend`], its statements on one
//! pool.

use std::sync::Arc;
use std::time::Duration;

use session_core::row::RowProvider;
use session_core::{retry, Result};
use sqlx::mysql::{MySqlPool, MySqlPoolOptions};

use crate::backend::Backend;
use crate::config::{MysqlConfig, DEFAULT_TABLE};
use crate::sql::{self, Statements};

/// The MySQL / MariaDB session engine: one bounded connection pool per provider.
#[derive(Debug, Clone)]
pub struct MysqlProvider {
    rows: RowProvider<Backend>,
}

session_core::forward_provider!(MysqlProvider => rows);

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
            // `Backend::run`); pinging before every use would cost a round trip per statement.
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
        let backend = Backend {
            pool,
            sql: Statements::new(&table, &index, max_lifetime),
            table,
            lifetime: Duration::from_secs(sql::lifetime_secs(max_lifetime)),
            pooled: retry::Pooled::new(
                params.max_connections,
                params.connect_timeout,
                params.statement_timeout,
            ),
        };
        if params.create_table {
            backend.ensure_table().await?;
        }
        Ok(MysqlProvider {
            rows: RowProvider::new(backend),
        })
    }

    /// The table sessions live in, quoted.
    pub fn table(&self) -> &str {
        &self.rows.backend().table
    }

    /// The connection pool (for health checks and metrics).
    pub fn pool(&self) -> &MySqlPool {
        &self.rows.backend().pool
    }
}
