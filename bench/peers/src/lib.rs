//! Whole-request benchmarks of `session-web` next to its peers (issue 13), kept out of the
//! main workspace so that its builds and `cargo xtask test` never compile tower-sessions.
//!
//! Every contender serves the same two axum routes: `GET /cycle` reads an integer from the
//! session and writes it plus one, `GET /read` only reads it, and "new" is `/cycle` without
//! a cookie. The contenders:
//!
//! - ours: [`session_web::SessionLayer`] on each linked engine ([`engines::ENGINES`]);
//! - tower-sessions 0.15 with its `MemoryStore`, and 0.14 with the newest published Redis
//!   and PostgreSQL (sqlx) stores ([`peers`]);
//! - the limit: the two routes hand-rolled in the handlers, a locked `HashMap` keyed by an
//!   id parsed from the cookie plus a `Set-Cookie` ([`limit`]);
//! - raw clients on the same servers, hand-rolled the same way: redis-rs `GET`+`SET` and
//!   sqlx `SELECT`+`UPDATE` ([`raw`]).
//!
//! Three binaries measure and each rewrites its own section of `BENCHMARKS.md`
//! ([`report`]): `side_by_side` (alternating batches through `oneshot` on one thread, with
//! the store commands each request costs counted on the server, [`counters`]), `scale` (a
//! million sessions in the memory engine, GC passes, one and two workers; it counts
//! allocations with [`alloc::Counting`]) and `over_http` (the demo app under `wrk`,
//! [`http`]). `cargo xtask bench --peers` starts the servers and runs all three.
//!
//! ```no_run
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), session_peers_bench::BoxError> {
//! use session_peers_bench::{contender::Contender, scenario::Scenario};
//!
//! let limit = Contender::prepare("limit", "memory", session_peers_bench::limit::router()).await?;
//! let elapsed = limit.batch(Scenario::Cycle, 1000).await?;
//! println!("{} ns per request", elapsed.as_nanos() / 1000);
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod alloc;
pub mod contender;
pub mod counters;
pub mod engines;
pub mod http;
pub mod limit;
pub mod machine;
pub mod measure;
pub mod peers;
pub mod raw;
pub mod report;
pub mod scale;
pub mod scenario;
pub mod side_report;
pub mod tower_demo;

/// Why a benchmark could not run (a contender misbehaves, a server is unreachable…).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The session key every contender's routes read and write.
pub const KEY: &str = "n";
