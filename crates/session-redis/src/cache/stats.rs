//! What the client-side cache counts, and the snapshot of it an app can read
//! ([`ClientCacheStats`], from `RedisProvider::client_cache_stats`).

use std::sync::atomic::{AtomicU64, Ordering};

/// The cache's running counts.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub bypassed: AtomicU64,
    pub refused: AtomicU64,
    pub invalidations: AtomicU64,
    pub local_drops: AtomicU64,
    pub evictions: AtomicU64,
    pub expired: AtomicU64,
    pub flushes: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A snapshot of one provider's client-side cache (`client_cache=on`): how reads were
/// served, why entries left, what it holds, and its tracking connections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientCacheStats {
    /// Reads served from the cache: no round trip.
    pub hits: u64,
    /// Reads fetched on a tracking connection (one `HGETALL`), to be cached.
    pub misses: u64,
    /// Reads sent the uncached way: no live tracking connection for the key (yet, or
    /// since one dropped), or this instance was writing the session.
    pub bypassed: u64,
    /// Fetched replies not installed because the session changed while they were in
    /// flight.
    pub refused: u64,
    /// Entries dropped because the server said their key changed.
    pub invalidations: u64,
    /// Entries dropped because this instance wrote their session.
    pub local_drops: u64,
    /// Entries dropped to stay within the bounds.
    pub evictions: u64,
    /// Entries dropped because their session's end (`#x`) had come.
    pub expired: u64,
    /// Times a tracking connection was lost and what it covered was flushed.
    pub flushes: u64,
    /// Sessions cached now.
    pub entries: usize,
    /// Bytes they count for (keys, fields and values, plus a fixed overhead each).
    pub bytes: usize,
    /// The bound in sessions.
    pub max_entries: usize,
    /// The bound in bytes.
    pub max_bytes: usize,
    /// True when every tracking connection the cache knows of is live: one for a single
    /// server, one per master of a cluster (false before the first read has set them up).
    pub tracking: bool,
    /// Each live tracking connection: the server (`host:port`) and its `CLIENT ID` there
    /// (each is also named `session-redis-cache` in `CLIENT LIST`).
    pub tracking_clients: Vec<(String, i64)>,
}

impl ClientCacheStats {
    /// Hits over all reads (hits, misses and bypassed ones); 0 before any read.
    pub fn hit_rate(&self) -> f64 {
        let reads = self.hits + self.misses + self.bypassed;
        if reads == 0 {
            0.0
        } else {
            self.hits as f64 / reads as f64
        }
    }

    pub(crate) fn counted(counters: &Counters) -> Self {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ClientCacheStats {
            hits: get(&counters.hits),
            misses: get(&counters.misses),
            bypassed: get(&counters.bypassed),
            refused: get(&counters.refused),
            invalidations: get(&counters.invalidations),
            local_drops: get(&counters.local_drops),
            evictions: get(&counters.evictions),
            expired: get(&counters.expired),
            flushes: get(&counters.flushes),
            ..ClientCacheStats::default()
        }
    }
}
