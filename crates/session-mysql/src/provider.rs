//! [`MysqlProvider`]: the engine, a [`RowProvider`] on [`Backend`], its statements on one
//! pool.

use std::sync::Arc;

use session_core::row::RowProvider;
use session_core::{Lifetimes, ProviderInit, Result};
use session_sqlx::SqlPool;
use sqlx::mysql::MySqlPool;

use crate::backend::{Backend, DRIVER};
use crate::config::{MysqlConfig, DEFAULT_TABLE};
use crate::sql::{self, Statements};

/// The MySQL / MariaDB session engine: one bounded connection pool per provider.
#[derive(Debug, Clone)]
pub struct MysqlProvider {
    rows: RowProvider<Backend>,
}

session_core::forward_provider!(MysqlProvider => rows);

impl MysqlProvider {
    /// A provider for `init.config` (see the crate docs) with the manager's lifetimes
    /// (`ProviderInit::new(name, &config)` from the configuration the manager gets).
    /// Creates the table when `create_table` is on (the default).
    pub async fn connect(init: &ProviderInit) -> Result<Self> {
        let config = MysqlConfig::parse(&init.config)?;
        Self::with_config(config, init.lifetimes).await
    }

    /// A provider from a parsed configuration and the manager's lifetimes.
    pub async fn with_config(config: MysqlConfig, lifetimes: Lifetimes) -> Result<Self> {
        let params = config.params;
        let names = sql::names(params.table.as_deref().unwrap_or(DEFAULT_TABLE));
        let lock_wait = format!(
            "SET SESSION innodb_lock_wait_timeout = {}",
            params.statement_timeout.as_secs().max(1)
        );
        let lock_wait: Arc<str> = lock_wait.into();
        let pool = session_sqlx::pool_options(&params)
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
            db: SqlPool::new(pool, &params, DRIVER),
            sql: Statements::new(&names.quoted, &names.index),
            table: names.quoted,
            lifetimes,
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
        self.rows.backend().db.pool()
    }
}
