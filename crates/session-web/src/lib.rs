//! beego's web sessions for Rust: a tower [`SessionLayer`] and an axum [`Session`] extractor
//! over `session-core`, plus beego's `session*` configuration keys ([`config`]).
//!
//! Build a [`Manager`](session_core::Manager) on a linked engine, put the layer on the
//! router, and take [`Session`] in handlers. The layer starts the session before the handler
//! and writes it back (with its `Set-Cookie`) after; engine failures answer `503`.
//!
//! ```
//! use axum::{routing::get, Router};
//! use session_core::{Manager, ManagerConfig};
//! use session_memory as _; // links the "memory" engine
//! use session_web::{Session, SessionError, SessionLayer};
//!
//! // beego's counter: the first visit shows 0, each reload one more.
//! async fn counter(session: Session) -> Result<String, SessionError> {
//!     let n: u64 = session.get("asta").await?.unwrap_or(0);
//!     session.set("asta", &(n + 1)).await?;
//!     Ok(format!("{n}"))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = Manager::new("memory", ManagerConfig::default()).await?;
//! let app: Router = Router::new()
//!     .route("/", get(counter))
//!     .route("/health", get(|| async { "ok" }))
//!     .layer(SessionLayer::new(manager).skip_path("/health"));
//! // axum::serve(listener, app).await?;
//! # let _ = app;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod config;
mod error;
mod extract;
mod layer;

pub use error::{status_for, SessionError};
pub use extract::{MissingSession, Session};
pub use layer::{SessionLayer, SessionService};
