//! beego's web sessions for Rust: a tower [`SessionLayer`] and an axum [`Session`] extractor
//! over `session-core`, plus beego's `session*` configuration keys ([`config`]).
//!
//! Build a [`Manager`](session_core::Manager) on a linked engine, put the layer on the
//! router, and take [`Session`] in handlers. The layer starts the session before the handler
//! and writes it back, with its `Set-Cookie`, after it; there is nothing to release by hand.
//!
//! ```
//! use axum::{routing::{get, post}, Router};
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
//! async fn login(session: Session) -> Result<&'static str, SessionError> {
//!     session.set("user", "alice").await?;
//!     session.regenerate().await?; // a new id after login: no session fixation
//!     Ok("welcome")
//! }
//!
//! async fn logout(session: Session) -> Result<&'static str, SessionError> {
//!     session.destroy().await?; // data gone, cookie removed
//!     Ok("bye")
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = Manager::new("memory", ManagerConfig::default()).await?;
//! let app: Router = Router::new()
//!     .route("/", get(counter))
//!     .route("/login", post(login))
//!     .route("/logout", post(logout))
//!     .route("/health", get(|| async { "ok" }))
//!     .layer(SessionLayer::new(manager).skip_path("/health"));
//! // axum::serve(listener, app).await?;
//! # let _ = app;
//! # Ok(()) }
//! ```
//!
//! # From beego
//!
//! | beego controller | here |
//! |---|---|
//! | `sessionon = true` | [`SessionLayer`] on the router, or [`config::WebSessionConfig::layer`] |
//! | `GetSession("k")` | `session.get::<T>("k").await?` (typed: any `serde` type) |
//! | `SetSession("k", v)` | `session.set("k", &v).await?` |
//! | `DelSession("k")` | `session.delete("k").await?` |
//! | `SessionRegenerateID()` | `session.regenerate().await?` |
//! | `DestroySession()` | `session.destroy().await?` |
//! | `go GlobalSessions.GC()` | started by the layer, stopped with the server |
//!
//! # Failures
//!
//! An engine that fails while the session is started or saved answers `503 Service
//! Unavailable` and logs the cause with `tracing` (the body names no backend detail). A
//! handler that answers `5xx` has its session changes dropped and no session cookie sent.
//! Handlers return [`SessionError`] (`?` converts) to answer `503`/`500` the same way.
//!
//! # Routes without sessions
//!
//! [`SessionLayer::skip_path`], [`skip_prefix`](SessionLayer::skip_prefix) and
//! [`skip_if`](SessionLayer::skip_if) switch sessions off for some requests while they are
//! on for the rest: no engine call, no cookie, and `Option<Session>` is `None` there. (The
//! rules see the request before routing, as a layer on a whole `Router` runs first; a router
//! merged from one part with the layer and one without does the same by structure.)
#![warn(missing_docs)]

pub mod config;
mod error;
mod extract;
mod layer;

pub use error::{status_for, SessionError};
pub use extract::{MissingSession, Session};
pub use layer::{SessionLayer, SessionService};
/// The session library this crate integrates, re-exported so one dependency gives
/// [`Manager`](session_core::Manager) and [`ManagerConfig`](session_core::ManagerConfig).
pub use session_core;
