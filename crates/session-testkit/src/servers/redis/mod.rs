//! Redis in the three shapes beego names engines after: a standalone server
//! ([`start`](super::start) with [`ServerKind::Redis`](super::ServerKind::Redis)), a 3-master
//! [`RedisCluster`], and a master with one replica watched by a sentinel ([`RedisSentinel`]).
//! Every process is a `redis-server` (Debian package `redis-server`) on free loopback ports,
//! with its config file and data in a temporary directory of its own; the cluster is joined
//! with `redis-cli` (package `redis-tools`).
//!
//! Tests look at these servers through [`Connection`], a small blocking RESP2 client over a
//! `std` TCP stream: enough to follow a cluster's or a sentinel's state and to read
//! [`command_stats`], without a Redis library or an async runtime in the testkit.
//!
//! `cargo xtask test` starts one of each and points the engine's tests at them through
//! [`URL_VAR`], [`CLUSTER_URLS_VAR`], [`SENTINEL_URLS_VAR`] and [`SENTINEL_MASTER_VAR`]; a test
//! reads them with [`from_env`](super::from_env).

mod cluster;
mod node;
mod resp;
mod sentinel;
mod stats;

pub use cluster::RedisCluster;
pub use resp::{call, info_field, info_fields, Connection, Reply, RespError};
pub use sentinel::RedisSentinel;
pub use stats::{command_stats, reset_stats, CommandStat, CommandStats};

use super::{RunningServer, ServerError, StartOptions};

/// The standalone server's URL, `redis://127.0.0.1:PORT/`.
pub const URL_VAR: &str = "REDIS_URL";

/// The cluster's nodes, `;`-separated URLs (`redis://127.0.0.1:P1/;redis://127.0.0.1:P2/;…`).
pub const CLUSTER_URLS_VAR: &str = "REDIS_CLUSTER_URLS";

/// The sentinels, `;`-separated URLs (`redis://127.0.0.1:PORT/`).
pub const SENTINEL_URLS_VAR: &str = "REDIS_SENTINEL_URLS";

/// The name the sentinels know the master by; [`DEFAULT_MASTER_NAME`] when unset.
pub const SENTINEL_MASTER_VAR: &str = "REDIS_SENTINEL_MASTER";

/// The master name of a [`RedisSentinel`], and of external sentinels when
/// [`SENTINEL_MASTER_VAR`] is unset.
pub const DEFAULT_MASTER_NAME: &str = "mymaster";

/// The master name tests use with the sentinels of [`SENTINEL_URLS_VAR`]:
/// [`SENTINEL_MASTER_VAR`], or [`DEFAULT_MASTER_NAME`].
pub fn sentinel_master_from_env() -> String {
    std::env::var(SENTINEL_MASTER_VAR)
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| DEFAULT_MASTER_NAME.to_owned())
}

/// Starts a standalone `redis-server` on `127.0.0.1:port`; its URL is
/// `redis://127.0.0.1:port/`. Nothing is persisted unless `options.append_only`.
pub(super) fn start(port: u16, options: StartOptions) -> Result<RunningServer, ServerError> {
    let mut directives = node::data_directives();
    if options.append_only {
        directives.extend(["appendonly yes".into(), "appendfsync always".into()]);
    }
    node::start(port, node::Role::Data, &directives)
}
