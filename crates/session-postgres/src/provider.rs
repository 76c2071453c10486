//! [`PostgresProvider`]: the engine, a [`RowProvider`] on [`Backend`], its statements on
//! one pool.

use std::time::Duration;

use session_core::row::{refresh_slack, RowProvider};
use session_core::{retry, Result};
use sqlx::postgres::{PgPool, PgPoolOptions};

use crate::backend::Backend;
use crate::config::{PostgresConfig, DEFAULT_TABLE};
use crate::sql::{self, Statements};

/// The PostgreSQL session engine: one bounded connection pool per provider.
#[derive(Debug, Clone)]
pub struct PostgresProvider {
    rows: RowProvider<Backend>,
}

session_core::forward_provider!(PostgresProvider => rows);

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
            // `Backend::run`); pinging before every use would cost a round trip per statement.
            .test_before_acquire(false)
            .idle_timeout(Some(Duration::from_secs(300)))
            .connect_lazy_with(connect);
        // The read statement refreshes the expiry itself, when it is due by the same rule
        // `RowProvider` applies to engines that report the remaining lifetime.
        let slack = refresh_slack(max_lifetime);
        let backend = Backend {
            pool,
            sql: Statements::new(&table, &index, max_lifetime, slack),
            table,
            lifetime: max_lifetime,
            pooled: retry::Pooled::new(
                params.max_connections,
                params.connect_timeout,
                params.statement_timeout,
            ),
        };
        if params.create_table {
            backend.ensure_table().await?;
        }
        Ok(PostgresProvider {
            rows: RowProvider::new(backend),
        })
    }

    /// The table sessions live in, quoted.
    pub fn table(&self) -> &str {
        &self.rows.backend().table
    }

    /// The connection pool (for health checks and metrics).
    pub fn pool(&self) -> &PgPool {
        &self.rows.backend().pool
    }
}
