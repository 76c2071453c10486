//! The `memcache` session engine: sessions as memcached items, spread over several servers.
//!
//! Each session is one item (key: the session id, after an optional prefix; value: the
//! encoded session; expiry: the session's lifetime). The engine is a
//! [`RowProvider`](session_core::row::RowProvider) on this crate's commands, so it merges
//! concurrent changes, refreshes unchanged sessions cheaply and checks sizes as every such
//! engine does.
//!
//! # Servers and placement
//!
//! A session lives on one server, chosen by rendezvous hashing on XXH3 ([`Placement`]):
//! every app instance, restart and build picks the same server for an id, the order of the
//! server list does not matter, and adding or removing a server moves only the sessions
//! that land on or lived on it. List the same servers, written the same way, in every
//! instance.
//!
//! # The client, and why nothing blocks
//!
//! The engine speaks memcached's meta protocol through the `memcache` crate's tokio client
//! (`memcache::exp::AsyncMetaClient`, its `tokio` feature, default features off: no
//! OpenSSL). That module is marked experimental, so the workspace pins the crate's minor
//! version (0.21). Its own router hashes with std's `DefaultHasher`, so the engine plugs in
//! [`Placement`] instead. Each server has a bounded pool (`pool_size`); connecting and
//! waiting for a pooled connection are bounded by `connect_timeout`, each exchange by
//! `io_timeout`, and a whole call by their sum, so a request never waits longer than
//! that for a server that is down, hung or unreachable. A pooled connection that died (the
//! server restarted) is replaced on its next use: the engine reconnects by itself.
//!
//! # What a request costs
//!
//! In memcached commands (`stats`: `cmd_get`, `cmd_set`, `cmd_touch`, `delete_*`):
//! - a new visitor whose session stays empty: none;
//! - a new session with data: one `ms … ME` (add);
//! - a request that only reads: one `mg <key> v c t`, which returns the value, the CAS
//!   value and the seconds left together; plus an `mg <key> T<ttl>` (a touch) when more
//!   than 1 % of the session's inactivity limit has passed since it was written, so at most
//!   once every `maxLifetime / 100`. The read cannot refresh the expiry itself: a session's
//!   lifetime may be its own ([`Expiry`](session_core::Expiry), stored inside it) and is
//!   known only once read, and a blind `T` would cut a "remember me" session short or
//!   stretch one past its fixed end;
//! - a request that changes the session: the read and one `ms … C<cas>` (written only if
//!   unchanged since the read). When another request changed the session meanwhile, the
//!   latest state is read again, this request's changes are replayed onto it and the
//!   write is retried, so concurrent requests changing different keys all keep their
//!   changes;
//! - a regenerated session: the read, then the move: `mg` of the old id, `ms … ME` of the
//!   new one (keeping the time left) and `md <old> C<cas>` (memcached has no rename, and the
//!   ids may live on different servers).
//!
//! # What beego got wrong, fixed
//!
//! - An unknown or expired id is no session (a fresh one), not an error page.
//! - Regenerating moves the data to the new id and the old id stops working.
//! - Lifetimes over 30 days are sent as the absolute Unix time they end at: memcached reads
//!   a relative expiry that large as a time in 1970, and beego's long sessions expired at
//!   once.
//!
//! # Limits
//!
//! - [`session_all`](session_core::Provider::session_all) is
//!   [`Error::Unsupported`](session_core::Error::Unsupported): memcached cannot list its keys.
//! - A session whose item would exceed the servers' item size limit (`item_size_limit`,
//!   1 MiB by default like memcached's `-I`) fails at release with
//!   [`Error::TooLarge`](session_core::Error::TooLarge), and nothing is written.
//! - memcached is a cache: under memory pressure it may evict sessions before they expire,
//!   and a server that restarts loses the sessions it held (their users get new sessions;
//!   the others are untouched). Give it memory to spare, or pick a persistent engine.
//! - While a server is down, the sessions it holds are an error (the web layer answers 503)
//!   after at most `connect_timeout + io_timeout`; the other servers' sessions keep working.
//! - A move (regenerate) is a copy and a delete: for a moment both ids work.
//! - Expiries are whole seconds on the server's clock: a session may end up to a second
//!   early, and times beyond 30 days rely on the app's and the server's clocks agreeing.
//! - No authentication and no TLS (the meta protocol in the `memcache` crate has neither):
//!   keep the servers on a private network.
//!
//! # Configuration
//!
//! `providerConfig` is beego's `host:port;host2:port` (`,` works too; the port defaults to
//! 11211; IPv6 as `[::1]:11211`) or `memcache://host:port` URLs, with options after a `?`:
//!
//! | option | default | meaning |
//! |---|---|---|
//! | `connect_timeout` | 1s | connecting, or waiting for a free pooled connection |
//! | `io_timeout` | 1s | one command's exchange |
//! | `timeout` | | sets both |
//! | `pool_size` (`max_connections`) | 10 | connections per server |
//! | `item_size_limit` | 1m | the servers' item size limit (`-I`), in bytes or with k/m/g |
//! | `key_prefix` | none | put before every session id to make its key |
//!
//! A malformed string is an error naming the wrong part.
//!
//! # Example
//!
//! ```
//! use session_memcache::{MemcacheConfig, Placement};
//!
//! let config = MemcacheConfig::parse("10.0.0.1:11211;10.0.0.2:11211?timeout=500ms")?;
//! // Where a session lives, the same in every process:
//! let server = &config.servers[Placement::server_for(b"3f2a9c", &config.servers)];
//! assert!(server.starts_with("10.0.0."));
//! # Ok::<(), session_core::ConfigError>(())
//! ```
//!
//! With a manager:
//!
//! ```no_run
//! use session_core::{Manager, ManagerConfig};
//! use session_memcache as _; // registers "memcache"
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> session_core::Result<()> {
//! let config = ManagerConfig {
//!     provider_config: "127.0.0.1:11211;127.0.0.1:11212".into(),
//!     ..ManagerConfig::default()
//! };
//! let manager = Manager::new("memcache", config).await?;
//! let session = manager.session_start(&http::Request::new(())).await?;
//! session.set("user", "asta").await?;
//! session.release(&mut http::HeaderMap::new()).await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod backend;
mod client;
mod config;
mod placement;
mod provider;

use std::sync::Arc;

pub use config::{MemcacheConfig, DEFAULT_ITEM_SIZE_LIMIT, DEFAULT_PORT, ITEM_OVERHEAD};
pub use placement::Placement;
pub use provider::MemcacheProvider;

/// The name the engine registers under.
pub const ENGINE: &str = "memcache";

session_core::register_provider!(MEMCACHE, "memcache", "session-memcache", |init| {
    Box::pin(async move {
        let provider = MemcacheProvider::connect(&init).await?;
        Ok(Arc::new(provider) as Arc<dyn session_core::Provider>)
    })
});
