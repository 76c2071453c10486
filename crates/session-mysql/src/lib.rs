//! The `mysql` session engine: sessions in a MySQL or MariaDB table, on `sqlx`.
//!
//! Each provider (one per [`Manager`](session_core::Manager)) owns one bounded connection
//! pool; every statement is bounded by the connect and statement timeouts, and a connection
//! that died (a server restart) is replaced on the next statement.
//!
//! What a request costs, in statements:
//! - a new visitor whose session stays empty: none;
//! - a new session with data: one `INSERT`;
//! - a request that only reads: one `SELECT` (plus an `UPDATE` of the expiry when it is
//!   more than 1 % of the lifetime old, so at most once every `maxLifetime / 100`);
//! - a request that changes the session: the `SELECT` and one conditional
//!   `UPDATE … WHERE session_key = ? AND session_data = <the bytes read>`. When another
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
//! `providerConfig` is a `mysql://user:pass@host:3306/db` URL (with sqlx's parameters such
//! as `ssl-mode`) or the Go driver DSN `user:pass@tcp(host:3306)/db?charset=utf8` (also
//! `unix(/run/mysqld/mysqld.sock)`), plus these parameters in the query part:
//! `table` (default `session`, may be `db.table`), `create_table` (default `true`),
//! `max_connections` (10), `connect_timeout` (5s), `statement_timeout` (5s).
//!
//! # Table
//!
//! beego's columns; the engine creates the table when it is missing unless
//! `create_table=false` (then a DBA runs this, with the table name of their choice):
//!
//! ```sql
//! CREATE TABLE IF NOT EXISTS `session` (
//!   session_key CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
//!   session_data BLOB NOT NULL,
//!   session_expiry INT UNSIGNED NOT NULL,
//!   PRIMARY KEY (session_key),
//!   KEY `session_expiry` (session_expiry)
//! ) ENGINE=InnoDB
//! ```
//!
//! `session_expiry` holds the Unix time until which the session lives (beego kept the
//! time of last access there). A session's encoded data is limited to 65535 bytes (a
//! `BLOB`); larger ones fail at release with [`Error::TooLarge`](session_core::Error::TooLarge).
//!
//! # Example
//!
//! ```no_run
//! use session_core::{Manager, ManagerConfig};
//! use session_mysql as _; // registers "mysql"
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> session_core::Result<()> {
//! let config = ManagerConfig {
//!     provider_config: "session:secret@tcp(127.0.0.1:3306)/app?table=sessions".into(),
//!     ..ManagerConfig::default()
//! };
//! let manager = Manager::new("mysql", config).await?;
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

pub use backend::MAX_DATA_SIZE;
pub use config::{MysqlConfig, DEFAULT_TABLE};
pub use provider::MysqlProvider;

/// The name the engine registers under.
pub const ENGINE: &str = "mysql";

/// The `CREATE TABLE` the engine runs for `table` (unquoted, `table` or `db.table`).
pub fn create_table_sql(table: &str) -> String {
    let names = sql::names(table);
    sql::create_table(&names.quoted, &names.index)
}

session_core::register_provider!(MYSQL, "mysql", "session-mysql", |init| {
    Box::pin(async move {
        let provider = MysqlProvider::connect(&init).await?;
        Ok(Arc::new(provider) as Arc<dyn session_core::Provider>)
    })
});
