//! What the SQL engines' tests share. An engine's test file describes the engine with a
//! [`SqlEngine`] and calls the scenarios here; the scenarios are test code, so they panic
//! (with a message saying what failed) instead of returning errors.
//!
//! The server comes from the engine's environment variable (`MYSQL_URL`, `POSTGRES_URL`),
//! which `cargo xtask test` sets; under a plain `cargo test` every scenario says it is
//! skipped and returns.

mod conformance;
mod dialect;
mod faults;
mod raw;
mod scenarios;
mod statements;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use session_core::{ManagerConfig, Provider};

use crate::servers::{self, RunningServer, StartOptions};

pub use conformance::conformance;
pub use dialect::Dialect;
pub use faults::server_restart_is_survived;
pub use raw::{RawPool, RowLock};
pub use scenarios::{
    a_row_locked_elsewhere_fails_within_the_timeouts_then_recovers,
    create_table_off_needs_the_dba_table, drop_test_table,
    expired_rows_are_hidden_before_gc_and_gc_deletes_them_in_batches, failing_release,
    manager_on_new_table, many_writers_on_a_small_pool_all_keep_their_changes, release_to,
    store_one, the_native_dsn_reaches_the_server,
};
pub use statements::{statements_per_request, StatementCosts};

/// What [`SqlEngine::connect`] returns.
pub type ConnectFuture =
    Pin<Box<dyn Future<Output = session_core::Result<Arc<dyn Provider>>> + Send>>;

/// One SQL engine, as the shared scenarios see it.
#[derive(Debug, Clone, Copy)]
pub struct SqlEngine {
    /// The server's SQL dialect and how the tests reach and inspect it.
    pub dialect: Dialect,
    /// The name the engine registers under (`mysql`, `postgres`).
    pub name: &'static str,
    /// Another name the engine is found under (`MySQL`, `postgresql`).
    pub alias: &'static str,
    /// The engine's own constructor (not the registry): connects a provider for a config
    /// string, creating its table.
    pub connect: fn(String) -> ConnectFuture,
    /// The engine's `CREATE TABLE` statement for a table name, as a DBA would run it.
    pub create_table_sql: fn(&str) -> String,
}

impl SqlEngine {
    /// The server the tests use: see [`Dialect::server_url`].
    pub fn server_url(&self, test: &str) -> Option<String> {
        self.dialect.server_url(test)
    }

    /// A throwaway server of this engine's kind for a test of its own (blocking work moved
    /// off the async runtime).
    pub async fn start_server(&self, options: StartOptions) -> RunningServer {
        let kind = self.dialect.server_kind();
        tokio::task::spawn_blocking(move || servers::start_with(kind, options))
            .await
            .expect("the server-starting thread")
            .unwrap_or_else(|err| panic!("starting {kind}: {err}"))
    }
}

/// A table name nobody else uses, so concurrent test binaries never see each other's rows.
pub fn unique_table(prefix: &str) -> String {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).expect("OS random");
    format!("{prefix}_{}", hex::encode(bytes))
}

/// `url` with extra query parameters.
pub fn with_params(url: &str, params: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{params}")
}

/// Manager settings with `provider_config` and defaults otherwise.
pub fn manager_config(provider_config: String) -> ManagerConfig {
    ManagerConfig {
        provider_config,
        ..ManagerConfig::default()
    }
}

/// Stops or restarts `server` off the async runtime, handing it back.
pub(crate) async fn restart(mut server: RunningServer, start_again: bool) -> RunningServer {
    tokio::task::spawn_blocking(move || {
        if start_again {
            server
                .restart()
                .unwrap_or_else(|err| panic!("restarting {}: {err}", server.kind()));
        } else {
            server.stop();
        }
        server
    })
    .await
    .expect("the server-restarting thread")
}

/// Builds the [`SqlEngine`] of an engine crate whose provider has
/// `async fn connect(init: &ProviderInit) -> Result<Self>` (connected with a one-minute
/// `maxLifetime`) and a `create_table_sql(table) -> String` function.
///
/// ```text
/// session_testkit::sql_engine! {
///     dialect: Dialect::MySql,
///     name: "mysql",
///     alias: "MySQL",
///     provider: session_mysql::MysqlProvider,
///     create_table_sql: session_mysql::create_table_sql,
/// }
/// ```
#[macro_export]
macro_rules! sql_engine {
    (
        dialect: $dialect:expr,
        name: $name:literal,
        alias: $alias:literal,
        provider: $provider:ty,
        create_table_sql: $create:path $(,)?
    ) => {
        $crate::sql::SqlEngine {
            dialect: $dialect,
            name: $name,
            alias: $alias,
            connect: |config| {
                ::std::boxed::Box::pin(async move {
                    let manager = ::session_core::ManagerConfig {
                        provider_config: config,
                        max_lifetime: 60,
                        ..::session_core::ManagerConfig::default()
                    };
                    let init = ::session_core::ProviderInit::new($name, &manager);
                    let provider = <$provider>::connect(&init).await?;
                    let provider: ::std::sync::Arc<dyn ::session_core::Provider> =
                        ::std::sync::Arc::new(provider);
                    Ok(provider)
                })
            },
            create_table_sql: $create,
        }
    };
}

/// Defines the `#[tokio::test]`s of the scenarios every SQL engine shares, each calling the
/// scenario of the same name with the [`SqlEngine`] that `$engine` evaluates to.
#[macro_export]
macro_rules! sql_engine_tests {
    ($engine:expr) => {
        $crate::sql_engine_tests!(@tests $engine;
            expired_rows_are_hidden_before_gc_and_gc_deletes_them_in_batches,
            create_table_off_needs_the_dba_table,
            the_native_dsn_reaches_the_server,
            many_writers_on_a_small_pool_all_keep_their_changes,
            a_row_locked_elsewhere_fails_within_the_timeouts_then_recovers,
        );
    };
    (@tests $engine:expr; $($scenario:ident,)*) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                $crate::sql::$scenario(&$engine).await;
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_appended() {
        assert_eq!(with_params("m://h/db", "a=1"), "m://h/db?a=1");
        assert_eq!(with_params("m://h/db?x=2", "a=1"), "m://h/db?x=2&a=1");
    }

    #[test]
    fn table_names_differ() {
        assert_ne!(unique_table("t"), unique_table("t"));
    }
}
