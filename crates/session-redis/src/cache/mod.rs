//! The client-side cache of read-only requests (`client_cache=on`; the crate docs give the
//! rules it keeps): sessions as last read, kept coherent by the server's invalidation
//! messages (`CLIENT TRACKING`, RESP3) on dedicated tracking connections.
//!
//! [`ClientCache::load`] sits in front of the `HGETALL` of `read::load`: a hit costs no
//! round trip; a miss is read on the tracking connection of the key's server (so the server
//! tracks it) and installed unless something changed it meanwhile ([`store`]); without a
//! live tracking connection the read goes the uncached way. Every write of this instance
//! marks its keys ([`ClientCache::writing`]).

mod routes;
mod stats;
mod store;
mod tracker;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use deadpool_redis::redis::{ConnectionInfo, ProtocolVersion, RedisResult};
use session_core::row::{LoadedRow, Ttl};
use session_core::{Error, Result};

use crate::backend::Backend;
use crate::config::{Address, RedisConfig, Topology};
use crate::{layout, read};
pub use stats::ClientCacheStats;
use stats::Counters;
pub(crate) use store::WriteMark;
use store::{Cached, Store};

/// One provider's client-side cache.
pub(crate) struct ClientCache {
    store: Arc<Store>,
    routes: routes::Routes,
    response_timeout: Duration,
}

impl std::fmt::Debug for ClientCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (max_entries, max_bytes) = self.store.bounds();
        f.debug_struct("ClientCache")
            .field("max_entries", &max_entries)
            .field("max_bytes", &max_bytes)
            .finish_non_exhaustive()
    }
}

/// The connection info of a tracking connection to `address`: the data nodes' credentials,
/// RESP3 (push messages).
fn tracking_info(address: &Address, config: &RedisConfig, db: i64) -> RedisResult<ConnectionInfo> {
    let info = crate::conn::connection_info(
        address,
        config.username.as_deref(),
        config.password.as_deref(),
        db,
    )?;
    let redis = info
        .redis_settings()
        .clone()
        .set_protocol(ProtocolVersion::RESP3);
    Ok(info.set_redis_settings(redis))
}

impl ClientCache {
    /// The cache `config` asks for, if any (connections are made by the first reads).
    pub(crate) fn new(config: &RedisConfig) -> Result<Option<Self>> {
        let settings = config.client_cache;
        if !settings.enabled {
            return Ok(None);
        }
        let engine = config.topology.engine();
        let store = Arc::new(Store::new(settings.max_entries, settings.max_bytes));
        let timeouts = (config.connect_timeout, config.response_timeout);
        let routes = match config.topology {
            Topology::Cluster => {
                let node = config.clone();
                let tls = config.addresses.iter().any(Address::is_tls);
                let node_info: routes::NodeInfo = Box::new(move |host, port| {
                    let address = Address::tcp(host, port, tls).ok()?;
                    tracking_info(&address, &node, 0).ok()
                });
                routes::Routes::cluster(node_info, timeouts, &store, engine)
            }
            Topology::Standalone | Topology::Sentinel => {
                let info = tracking_info(&config.addresses[0], config, config.db).map_err(|e| {
                    Error::backend(engine, "set up the client-side cache", e.to_string())
                })?;
                routes::Routes::Single(tracker::Tracker::new(info, timeouts, &store, engine))
            }
        };
        Ok(Some(ClientCache {
            store,
            routes,
            response_timeout: config.response_timeout,
        }))
    }

    /// Session `sid` (stored under `key`) from the cache, or read on a tracking connection
    /// and cached; `None` when the cache cannot serve it (no live tracking connection, this
    /// instance is writing it, or the tracking read failed): then read it the uncached way.
    pub(crate) async fn load(
        &self,
        backend: &Backend,
        key: &str,
        sid: &str,
    ) -> Option<Result<Option<LoadedRow<u64>>>> {
        let now = SystemTime::now();
        if let Some(hit) = self.store.get(key, now) {
            return Some(Ok(Some(row(hit, now))));
        }
        let bypass = || {
            Counters::add(&self.store.counters.bypassed);
            None
        };
        let Some(route) = self.routes.route(backend, key).await else {
            return bypass();
        };
        let Some(ticket) = self
            .store
            .begin(key, &route.tracker.origin, route.live.epoch)
        else {
            return bypass();
        };
        let read = tracker::hgetall(route.live.conn.clone(), key);
        let reply = match tokio::time::timeout(self.response_timeout, read).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(error)) => {
                self.routes.failed(&route, &error);
                return bypass();
            }
            Err(_) => return bypass(),
        };
        // Anything unexpected is left to the uncached read, which explains it.
        let fields = read::pairs(reply)?;
        Counters::add(&self.store.counters.misses);
        if fields.is_empty() {
            return Some(Ok(None));
        }
        let bytes = Store::weigh(key, fields.iter().map(|(f, v)| (&f[..], &v[..])));
        let decoded = match layout::decode(Ok(fields), backend.redis.engine(), sid) {
            Ok(decoded) => decoded,
            Err(error) => return Some(Err(error)),
        };
        // A record read as empty (unreadable) has no known end: it is not cached.
        let Some(expires) = decoded.expires.filter(|end| *end > now) else {
            return Some(Ok(Some(read::loaded(decoded))));
        };
        let cached = Cached {
            data: decoded.data,
            version: decoded.writes,
            expires,
        };
        self.store.install(ticket, cached.clone(), bytes);
        Some(Ok(Some(row(cached, now))))
    }

    /// Marks `key` as written by this instance until the mark is dropped: its copy is
    /// dropped now and again then, and nothing read meanwhile is installed.
    pub(crate) fn writing(&self, key: String) -> WriteMark<'_> {
        self.store.writing(key)
    }

    /// What the cache counted and holds.
    pub(crate) fn stats(&self) -> ClientCacheStats {
        let mut stats = ClientCacheStats::counted(&self.store.counters);
        (stats.entries, stats.bytes) = self.store.usage();
        (stats.max_entries, stats.max_bytes) = self.store.bounds();
        let trackers = self.routes.trackers();
        stats.tracking_clients = trackers
            .iter()
            .filter_map(|t| Some((t.addr().to_owned(), t.client_id()?)))
            .collect();
        stats.tracking = !trackers.is_empty() && stats.tracking_clients.len() == trackers.len();
        stats
    }
}

fn row(cached: Cached, now: SystemTime) -> LoadedRow<u64> {
    LoadedRow {
        data: cached.data,
        version: cached.version,
        ttl: Ttl::Left(cached.expires.duration_since(now).unwrap_or_default()),
    }
}
