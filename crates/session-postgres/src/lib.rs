//! The `postgres` session engine (also registered as `postgresql`): sessions in a
//! PostgreSQL table, on `sqlx`.
//!
//! Each provider (one per [`Manager`](session_core::Manager)) owns one bounded connection
//! pool; every statement is bounded by the connect and statement timeouts (the statement
//! timeout is also set on the server), and a connection that died (a server restart) is
//! replaced on the next statement.
//!
//! What a request costs, in statements:
//! - a new visitor whose session stays empty: none;
//! - a new session with data: one `INSERT … ON CONFLICT`;
//! - a request that only reads: one statement, which reads the live row and refreshes its
//!   expiry together (the refresh writes only when the expiry is more than 1 % of the
//!   lifetime old, so most reads write nothing);
//! - a request that changes the session: that read and one conditional
//!   `UPDATE … WHERE session_key = $1 AND session_data = <the bytes read>`. When another
//!   request changed the session meanwhile, the latest row is read again, this request's
//!   changes are replayed onto it and the write is retried, so concurrent requests
//!   changing different keys both keep their changes, without a transaction.
//!
//! The engine is a [`RowProvider`](session_core::row::RowProvider) on this crate's
//! statements: what every such engine shares (merging, expiry refresh, GC batches) is in
//! [`session_core::row`], and what the `sqlx` engines share (the bounded, retrying pool,
//! reading the config string) in [`session_sqlx`].
//!
//! Expired rows are never returned, even before GC deletes them (in batches of 1000);
//! [`session_all`](session_core::Provider::session_all) counts live rows only.
//!
//! # Configuration
//!
//! `providerConfig` is a `postgres://user:pass@host:5432/db` URL (sqlx's parameters such as
//! `sslmode` work) or libpq's `key=value` form as beego used it:
//! `user=a password=b dbname=c host=127.0.0.1 port=5432 sslmode=disable`. Either takes
//! these parameters too: `table` (default `session`, may be `schema.table`),
//! `create_table` (default `true`), `max_connections` (10), `connect_timeout` (5s),
//! `statement_timeout` (5s).
//!
//! # Table
//!
//! beego's columns; the engine creates the table when it is missing unless
//! `create_table=false` (then a DBA runs this, with the table name of their choice):
//!
//! ```sql
//! CREATE TABLE IF NOT EXISTS "session" (
//!   session_key CHAR(64) NOT NULL PRIMARY KEY,
//!   session_data BYTEA NOT NULL,
//!   session_expiry TIMESTAMP NOT NULL
//! );
//! CREATE INDEX IF NOT EXISTS "session_expiry_idx" ON "session" (session_expiry);
//! ```
//!
//! `session_expiry` holds the UTC time at which the session dies (beego kept the time of
//! last access there).
//!
//! # Example
//!
//! ```no_run
//! use session_core::{Manager, ManagerConfig};
//! use session_postgres as _; // registers "postgres" and "postgresql"
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> session_core::Result<()> {
//! let config = ManagerConfig {
//!     provider_config: "host=127.0.0.1 user=app password=secret dbname=app table=sessions".into(),
//!     ..ManagerConfig::default()
//! };
//! let manager = Manager::new("postgresql", config).await?;
//! let _gc = manager.spawn_gc();
//! let session = manager.session_start(&http::Request::new(())).await?;
//! session.set("user", "asta").await?;
//! session.release(&mut http::HeaderMap::new()).await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod backend;
mod config;
mod provider;
mod sql;

use std::sync::Arc;

pub use config::{PostgresConfig, DEFAULT_TABLE};
pub use provider::PostgresProvider;

/// The name the engine registers under (it answers to `postgresql` too).
pub const ENGINE: &str = "postgres";

/// The DDL the engine runs for `table` (unquoted, `table` or `schema.table`).
pub fn create_table_sql(table: &str) -> String {
    let names = sql::names(table);
    sql::create_table(&names.quoted, &names.index)
}

fn factory(init: session_core::ProviderInit) -> session_core::ProviderFuture {
    Box::pin(async move {
        let provider = PostgresProvider::connect(&init).await?;
        Ok(Arc::new(provider) as Arc<dyn session_core::Provider>)
    })
}

session_core::register_provider!(POSTGRES, "postgres", "session-postgres", factory);
session_core::register_provider!(POSTGRESQL, "postgresql", "session-postgres", factory);
