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
//! | read-only, `client_cache=on`, session cached | 0 | |
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
//! # Client-side cache (`client_cache=on`)
//!
//! Most requests of a logged-in user only read the session. With `client_cache=on`
//! (`redis` and `redis_cluster`), a provider keeps the sessions it read in memory and
//! Redis tells it when any of them changes (server-assisted client-side caching:
//! `CLIENT TRACKING`, RESP3 push messages, Redis 6 or later). A read-only request whose
//! session is cached and whose refresh is not due costs no round trip; writes go to Redis as
//! before, merged as before.
//!
//! ```text
//! redis://127.0.0.1:6379/0?client_cache=on&client_cache_entries=50000&client_cache_bytes=256m
//! ```
//!
//! A miss is read (`HGETALL`) on a tracking connection of the provider's own, RESP3 with
//! `CLIENT TRACKING on` in the default mode: the server remembers which keys that
//! connection read and tells it, on the same connection, when one changes. There is one per
//! server, one per master on a cluster, each named `session-redis-cache` in `CLIENT LIST`.
//! The rules it keeps, each tested with two providers as two app instances on one server
//! and on a cluster (`tests/cache.rs`):
//!
//! - **A cached entry never outlives its key.** It is served only until the session's end
//!   as last written (`#x`); the server's own invalidation at expiry drops it too.
//! - **Any change by any instance invalidates the copy**: a write, a refresh, a destroy, a
//!   regenerate, an expiry, an eviction or a flush of the database makes the server send an
//!   invalidation, which is applied as it arrives, inside redis-rs's connection driver.
//!   Measured (`tests/cache.rs` with `--nocapture`; 20 destroys on loopback, 2 cores): the
//!   copy of instance B was gone a median 6–11 µs after instance A's `DEL` returned when the
//!   test ran alone, 0.9–1.2 ms within the full `cargo xtask test` (other tests running
//!   alongside), never more than 7.5 ms; the tests allow 2 s.
//! - **A lost tracking connection flushes what it covered**, and its keys are read the
//!   uncached way until a new connection has tracking on; it is remade at once in the
//!   background, then at most once a second while that fails (tested with `CLIENT KILL`).
//! - **Our own writes drop our copy**, when they start and again when they end, whatever
//!   their outcome, and nothing read while one is in flight is installed: the server's
//!   notice of our own write could come after our next request, and a conditional write that
//!   loses changes nothing, so the server sends no notice at all.
//! - **A read racing a change never installs what it saw**: each miss takes a ticket for
//!   its key before it is sent, and an invalidation, a flush or a write withdraws it; the
//!   reply is installed only under a ticket still standing.
//!
//! The cache holds at most `client_cache_entries` sessions and `client_cache_bytes` bytes,
//! as it counts them (keys, field names and values, plus 256 bytes a session and 64 a
//! value); past that the least recently used go. It is split into up to 16 shards (one per
//! 64 sessions and per MiB of the bound), each with its share of both bounds, and a session
//! larger than its shard's share of bytes is not cached. `cargo xtask bench` (bench
//! `redis_ratio`) prints its memory for 10 000 sessions, the hit rate and the time of a
//! cached read-only request next to a raw `GET`; `tests/cache_costs.rs` counts the commands
//! (100 reads of one session: 100 `HGETALL` without the cache, 0 with it after its first
//! read). [`RedisProvider::client_cache_stats`] gives the counters.
//!
//! A cached session still has its expiry refreshed by the 1 % rule (a write, which drops the
//! copy: the next read is a miss). A read of an id that does not exist is not cached, but it
//! is tracked by the server until evicted from its tracking table
//! (`tracking-table-max-keys`, one entry per key read). A tracking connection that hangs
//! without closing (a network partition) is noticed only when TCP gives up; entries stay
//! bounded by their end. `#x` is written with the writing instance's clock: keep the app
//! servers' clocks in sync. The cache is not available for `redis_sentinel` (after a
//! failover it would follow a demoted master): that is a configuration error.
//!
//! Why not redis-rs's own client-side cache (`cache-aio`, experimental): it keeps one cache
//! per connection, so a pool of 100 connections holds up to 100 copies of a session (the
//! bound is per connection, and a read hits only on the connection that cached it); a
//! connection whose socket dropped keeps answering from its cache, since the lookup comes
//! before any I/O and a disconnection does not flush it, and a pooled connection is only
//! replaced when a command on it fails, which a hit never sends; a miss costs a `PTTL` on
//! top of the read (`#x` makes it needless here); it bounds entries, not bytes; and a
//! write of ours is known to the cache only when the server's notice comes back. Why the
//! default tracking mode, per master, rather than `BCAST` with the prefix: `BCAST` would
//! send every instance a notice for every change to any session, cached or not, and a master
//! the cache does not know of (new after a resharding) would go unheard. In the default
//! mode a key is cached only when read on the tracking connection of the master serving it,
//! so a slot table out of date costs a bypassed read (`MOVED`), never an unwatched copy; a
//! slot that moves away takes its keys along, which the old master reports as deleted.
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
//! | `client_cache` | `off` | `on`: the client-side cache of read-only requests (above) |
//! | `client_cache_entries` | 10000 | at most this many sessions cached |
//! | `client_cache_bytes` | `64m` | at most this many bytes cached (`512k`, `64m`, `1g` or bytes) |
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
mod cache;
mod config;
mod conn;
mod count;
mod layout;
mod provider;
mod read;
mod scripts;
mod slots;
mod write;

use std::sync::Arc;

pub use backend::Backend;
pub use cache::ClientCacheStats;
pub use config::{
    Address, ClientCacheConfig, RedisConfig, Topology, DEFAULT_CACHE_BYTES, DEFAULT_CACHE_ENTRIES,
    DEFAULT_MASTER_NAME, DEFAULT_POOL_SIZE, DEFAULT_PREFIX,
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
