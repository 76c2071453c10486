//! What the SQL session engines built on `sqlx` (`session-mysql`, `session-postgres`) share,
//! so each engine crate keeps only its own SQL text, error classification and config forms.
//!
//! - [`SqlPool`]: the engine's bounded connection pool; every statement runs within the
//!   connect and statement timeouts and is retried on a connection that died (a server
//!   restart), as [`session_core::retry::Pooled`] does. Generic over [`sqlx::Database`];
//!   what differs between drivers comes in a [`Driver`].
//! - [`pool_options`]: the pool settings every engine starts from.
//! - [`TableNames`]: a configured `table` / `schema.table` as the statements write it.
//! - [`ConfigForms`], [`take_url_params`], [`take_query_params`]: reading a
//!   `providerConfig` string whose query carries the [`SqlParams`] next to the driver's own.
//!
//! The logic every row-based engine shares (merging, expiry refresh, GC batches) is in
//! [`session_core::row`]; this crate is only the `sqlx` side of it.
//!
//! # Example
//!
//! ```
//! use session_sqlx::{take_url_params, TableNames};
//!
//! // The engine's parameters leave the URL; the driver's own stay in it.
//! let (url, params) =
//!     take_url_params("postgres://app@db/app?table=web.sessions&sslmode=disable").unwrap();
//! assert_eq!(url, "postgres://app@db/app?sslmode=disable");
//!
//! let names = TableNames::new(params.table.as_deref().unwrap_or("session"), '"', "_expiry_idx");
//! assert_eq!(names.quoted, "\"web\".\"sessions\"");
//! assert_eq!(names.index, "sessions_expiry_idx");
//! ```
//!
//! [`SqlParams`]: session_core::dsn::SqlParams
#![warn(missing_docs)]

mod config;
mod names;
mod pool;

pub use config::{take_query_params, take_url_params, ConfigForms};
pub use names::TableNames;
pub use pool::{pool_options, Driver, SqlPool};
