//! Redis session engines for `session-core`, on `deadpool-redis`: `redis` (one server),
//! `redis_cluster` (a Redis Cluster) and `redis_sentinel` (a master found through
//! sentinels), beego's three names. An app links them with `use session_redis as _;` and
//! picks one by name.
//!
//! ```
//! use session_core::{Manager, ManagerConfig};
//! use session_redis as _; // registers redis, redis_cluster and redis_sentinel
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> session_core::Result<()> {
//! // beego's form: address, pool size, password. Nothing is sent until a request needs it.
//! let config = ManagerConfig {
//!     provider_config: "127.0.0.1:6379,100,astaxie".into(),
//!     ..ManagerConfig::default()
//! };
//! let manager = Manager::new("redis", config).await?;
//! // A new visitor whose session stays empty costs no command at all.
//! let session = manager.session_start(&session_core::http::Request::new(())).await?;
//! let mut response = session_core::http::HeaderMap::new();
//! session.release(&mut response).await?;
//! assert!(response.is_empty());
//! # Ok(()) }
//! ```
//!
//! Storing and reading, with a server at hand:
//!
//! ```no_run
//! # use session_core::{Manager, ManagerConfig};
//! # use session_redis as _;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> session_core::Result<()> {
//! let config = ManagerConfig {
//!     provider_config: "redis://127.0.0.1:6379/0?prefix=shop:".into(),
//!     ..ManagerConfig::default()
//! };
//! let manager = Manager::new("redis", config).await?;
//! let session = manager.session_start(&session_core::http::Request::new(())).await?;
//! session.set("user", "astaxie").await?;
//! session.release(&mut session_core::http::HeaderMap::new()).await?; // one EVALSHA, sets the cookie
//! # Ok(()) }
//! ```
//!
//! # Data layout: one hash per session
//!
//! Session `id` lives in the hash `<prefix>{<id>}` (default prefix `session:`), which
//! expires on its own (Redis's TTL: nothing to collect, [`session_gc`] does nothing):
//!
//! | field | holds |
//! |---|---|
//! | `.<key>` | the value of session key `<key>`, MessagePack as `session-core` encodes it |
//! | `#v` | the layout version, `2` |
//! | `#c` | the creation time, Unix ms (for the absolute lifetime) |
//! | `#e` | the session's own expiry, if any: `i<ms>`, `a<Unix ms>` or `s` |
//! | `#i`, `#u` | the record's lifetime: its sliding part (ms) and its hard end (Unix ms) |
//! | `#x` | when the key's TTL, as last set, ends (Unix ms) |
//! | `#n` | a write counter |
//!
//! Why a hash rather than one blob per session with a version: a request's changes are a
//! set of keys set or deleted, which on a hash is `HSET`/`HDEL` of those fields alone, so
//! the server merges them itself, atomically, in the same call that checks the session is
//! still there ([`merge`](session_core::row::RowBackend::merge) in one `EVALSHA`). Nothing
//! is read back and compared, no write is retried, and concurrent requests changing
//! different keys never lose each other's changes however many there are (a
//! compare-and-set loop on a blob gives up after 32 conflicts, and a script merging a blob
//! would have to decode MessagePack in Lua). A write carries only the changed keys. The id is
//! the key's hash tag, so on a cluster the slot depends on the id alone and every key of a
//! session (the hash, and the key it passes through while it moves) shares one slot.
//!
//! # What a request costs
//!
//! Counted by the servers (`INFO commandstats`) in this crate's tests (`tests/costs.rs`,
//! `cargo xtask conformance redis redis_cluster -- --nocapture` prints them), the same on
//! one server, a cluster and the sentinels' master except for moves:
//!
//! | request | round trips | commands run inside the scripts |
//! |---|---|---|
//! | new visitor whose session stays empty | 0 | |
//! | new session with data | 1 (`EVALSHA` merge) | `HMGET`, `EXISTS`, `HSET`, `PEXPIRE` |
//! | read-only | 1 (`HGETALL`) | |
//! | read-only, once its refresh is due | 2 (`HGETALL`, `EVALSHA` touch) | `PEXPIRE`, `HSET` |
//! | changed | 2 (`HGETALL`, `EVALSHA` merge) | `HMGET`, `HSET`, `PEXPIRE` |
//! | [`session_regenerate`] | 1 (`EVALSHA` rename); cluster: 2 | `EXISTS` ×2, `RENAME`, `PTTL`, `HGETALL` |
//! | destroy | 1 (`DEL`) | |
//!
//! A read is one plain `HGETALL`; the session's remaining lifetime comes from `#x`. An
//! unchanged session's expiry is refreshed when more than 1 % of its inactivity limit has
//! passed since the last write or refresh (`session-core`'s rule), by a script that never
//! creates a key, so a session used every request pays one extra round trip once per
//! `maxLifetime / 100` (36 s at an hour) and lives at least 99 % of its lifetime after its
//! last use. The alternative, a script that reads and slides the expiry in the same round
//! trip, was measured too (`cargo xtask bench`, bench `redis_ratio`): on the 2-core
//! development machine the script alone took 1.4× a raw `GET`, `HGETALL` 1.1–1.2×. A plain
//! `HGETALL` is also what Redis's client-side caching can track, so a cache in front of it
//! needs no change to the layout.
//!
//! Scripts are sent as `EVALSHA` and loaded on `NOSCRIPT` (after a restart, say): that
//! first call costs `SCRIPT LOAD` and a second `EVALSHA`.
//!
//! # No lost updates, no resurrection
//!
//! The merge script applies a change set (a flush, sets, deletes, a new own expiry) to
//! the latest stored state in one atomic step, so 100 concurrent requests each setting a
//! key of their own all keep it (tested). For `release_if_present` the same script writes
//! only if the session is still there, decided on the server: a destroyed or expired
//! session is never brought back. A request whose session vanished between its load and a
//! plain `release` stores its whole view again (a second call, only then). A record of a
//! newer layout (`#v` above 2) fails the request ([`Error::NewerFormat`], 503) and is never
//! written; anything else under a session's key (a string written by beego, a hash without
//! `#v`) reads as an empty session and is replaced by the next write.
//!
//! # Counting
//!
//! [`session_all`] is exact: `SCAN 0 MATCH <prefix>{*} COUNT 1000` until the cursor comes
//! back to 0, on the server or on every master of a cluster. That is one round trip per
//! 1000 keys of the database (of each master), whatever their names, plus an 8-byte hash
//! per session found to count a key `SCAN` returns twice only once. Give the sessions a
//! prefix of their own; keys of other apps under it are counted too.
//!
//! # Cluster
//!
//! `redis_cluster` takes several seed nodes; the client follows `MOVED` and `ASK`
//! (tested by moving a live session's slot) and counts on every master. Moving a session
//! to a new id (regenerate, login) cannot be one atomic command there, since the two ids
//! hash to different slots: the old slot's script moves the session aside (under
//! `<prefix>{<old id>}:moving`, same slot, kept 30 s) and returns it, then the new slot's
//! script writes it with the remaining lifetime. The old id stops working at the first
//! step; if the second fails, the session is put back and the request fails. Both steps are
//! safe to retry.
//!
//! # Sentinel
//!
//! `redis_sentinel` asks the sentinels for the master (`SENTINEL MASTERS`, then `ROLE` on
//! it) for every new connection, and listens to their `+switch-master` announcements: after
//! a failover every pooled connection is replaced before the next request, so writes go to
//! the new master at once rather than to the former one, which accepts writes until it is
//! demoted. Connections that die or answer `READONLY` have the same effect.
//!
//! # Connections, timeouts and faults
//!
//! Each provider has one `deadpool` pool (`pool_size` connections; a cluster connection
//! holds one per node). Connecting and waiting for a free connection are bounded by
//! `connect_timeout`, an answer by `response_timeout`, and a whole operation by their sum,
//! so nothing hangs. deadpool-redis's own pool managers `PING` each connection as it leaves
//! the pool, a second round trip per request, so this crate's managers make connections
//! with deadpool-redis's manager (and redis-rs's cluster and sentinel clients) but check
//! them without I/O: when one connection turns out dead (a server restart), every pooled
//! connection is replaced, and the operation is retried on a fresh one (`max_retries`,
//! default 3; every operation is safe to repeat). A server that is down gives a 503 within
//! the timeouts; the next request after it is back works, with no app restart. Errors name
//! the engine, what it was doing and the servers ([`RedisFailure`]), never a password.
//!
//! # Configuration
//!
//! `providerConfig` takes any of these forms:
//!
//! - beego's comma form `addr,poolsize,password,dbnum,idleTimeout,idleCheckFrequency,maxRetries`
//!   (timeouts in seconds), e.g. beego's `127.0.0.1:6379,100,astaxie`; for `redis_sentinel`
//!   `addrs,poolsize,password,dbnum,masterName,idleTimeout,idleCheckFrequency,maxRetries`.
//!   Parts may be left empty or out; after the password, `key=value` parts set any setting
//!   below (`127.0.0.1:6379,100,,0,prefix=shop:`);
//! - beego's JSON form `{"save_path":"127.0.0.1:6379","poolsize":100,"password":"…",
//!   "db_num":0,"idle_timeout":"30s","idle_check_frequency":"60s","max_retries":3,
//!   "master_name":"mymaster"}`, plus any setting below as a field;
//! - URLs: `redis://[user:password@]host[:port][/db][?key=value&…]`, `rediss://…` (TLS,
//!   crate feature `tls`), `redis+unix:///path/to/redis.sock[?db=…&pass=…]`.
//!
//! `redis_cluster` and `redis_sentinel` take several addresses (or URLs) separated by `;`;
//! settings may sit on any of the URLs. In a sentinel URL the user and password are the
//! sentinels'; the master's are `password=` (or beego's password part).
//!
//! | setting (aliases) | default | meaning |
//! |---|---|---|
//! | `prefix` (`key_prefix`) | `session:` | what every key starts with (no braces) |
//! | `pool_size` (`poolsize`, `max_connections`) | 100 | pooled connections |
//! | `password` (`pass`), `username` (`user`) | none | the data nodes' credentials |
//! | `db` (`db_num`, `dbnum`) | 0 | database (0 only on a cluster) |
//! | `connect_timeout` | 5s | connecting, and waiting for a pooled connection |
//! | `response_timeout` (`timeout`) | 5s | one answer |
//! | `idle_timeout`, `idle_check_frequency` | none, 60s | close connections idle that long, looking that often |
//! | `max_retries` | 3 | retries on a fresh connection after a dead one |
//! | `master_name` (`master`) | `mymaster` | the master the sentinels monitor |
//! | `sentinel_username`, `sentinel_password` | none | the sentinels' credentials |
//!
//! Durations are `5`, `5s`, `500ms`, `2m` or `1h`. A malformed string is an error that names
//! the bad part (`part 2 (poolsize)`, `parameter `timeout``, `field `db_num``), with
//! passwords masked. The TLS feature (`tls`) builds redis-rs with rustls and the
//! platform's root certificates; without it `rediss://` is a configuration error that says
//! so.
//!
//! [`session_gc`]: session_core::Provider::session_gc
//! [`session_all`]: session_core::Provider::session_all
//! [`session_regenerate`]: session_core::Provider::session_regenerate
//! [`Error::NewerFormat`]: session_core::Error::NewerFormat
#![warn(missing_docs)]

mod backend;
mod config;
mod conn;
mod count;
mod layout;
mod provider;
mod read;
mod scripts;
mod write;

use std::sync::Arc;

pub use backend::Backend;
pub use config::{
    Address, RedisConfig, Topology, DEFAULT_MASTER_NAME, DEFAULT_POOL_SIZE, DEFAULT_PREFIX,
};
pub use conn::RedisFailure;
pub use deadpool_redis::redis;
pub use provider::RedisProvider;

/// The key session `sid` is stored under with key prefix `prefix`: `<prefix>{<sid>}`.
pub fn session_key(prefix: &str, sid: &str) -> String {
    layout::Keys::new(prefix).session(sid)
}

fn factory(init: session_core::ProviderInit) -> session_core::ProviderFuture {
    Box::pin(async move {
        let provider = RedisProvider::connect(&init).await?;
        Ok(Arc::new(provider) as Arc<dyn session_core::Provider>)
    })
}

session_core::register_provider!(REDIS, "redis", "session-redis", factory);
session_core::register_provider!(REDIS_CLUSTER, "redis_cluster", "session-redis", factory);
session_core::register_provider!(REDIS_SENTINEL, "redis_sentinel", "session-redis", factory);
