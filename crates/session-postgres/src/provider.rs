//! [`PostgresProvider`]: the engine, a [`RowProvider`] on [`Backend`], its statements on
//! one pool.

use session_core::row::RowProvider;
use session_core::{Lifetimes, ProviderInit, Result};
use session_sqlx::SqlPool;
use sqlx::postgres::PgPool;

use crate::backend::{Backend, DRIVER};
use crate::config::{PostgresConfig, DEFAULT_TABLE};
use crate::sql::{self, Statements};

/// The PostgreSQL session engine: one bounded connection pool per provider.
#[derive(Debug, Clone)]
pub struct PostgresProvider {
    rows: RowProvider<Backend>,
}

session_core::forward_provider!(PostgresProvider => rows);

impl PostgresProvider {
    /// A provider for `init.config` (see the crate docs) with the manager's lifetimes
    /// (`ProviderInit::new(name, &config)` from the configuration the manager gets).
    /// Creates the table when `create_table` is on (the default).
    pub async fn connect(init: &ProviderInit) -> Result<Self> {
        let config = PostgresConfig::parse(&init.config)?;
        Self::with_config(config, init.lifetimes).await
    }

    /// A provider from a parsed configuration and the manager's lifetimes.
    pub async fn with_config(config: PostgresConfig, lifetimes: Lifetimes) -> Result<Self> {
        let params = config.params;
        let names = sql::names(params.table.as_deref().unwrap_or(DEFAULT_TABLE));
        // The server stops a statement that overruns, as well as the client giving up.
        let timeout_ms = params.statement_timeout.as_millis().to_string();
        let connect = config
            .connect
            .options([("statement_timeout", timeout_ms.as_str())]);
        let pool = session_sqlx::pool_options(&params).connect_lazy_with(connect);
        let backend = Backend {
            db: SqlPool::new(pool, &params, DRIVER),
            sql: Statements::new(&names.quoted, &names.index),
            table: names.quoted,
            lifetimes,
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
        self.rows.backend().db.pool()
    }
}
