//! The sessions: a fixed set of shards, each a map in least-recently-used order under its
//! own lock, each holding its share of the cap.
//!
//! Requests on sessions of different shards never wait for each other, and no request ever
//! takes a lock that spans shards. The price is that the order is exact only per shard: a
//! full shard evicts its own least recently used session even if another shard still has
//! room (see the crate docs).

use std::hash::BuildHasher;

// Keys are ids this engine minted (random, validated), never text an attacker chooses, so a
// fast seeded hasher is safe here where std's SipHash would cost more than the map itself.
use foldhash::fast::RandomState;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime};

use hashlink::linked_hash_map::Entry as MapEntry;
use hashlink::LinkedHashMap;
use session_core::{Lifetime, Released, SessionData};

use crate::ENGINE;

/// How many shards an uncapped store has.
const SHARDS: usize = 256;

/// A capped shard keeps at least this many sessions (unless the cap itself is smaller), so
/// that its LRU order means something: small caps get few shards, down to one.
const MIN_PER_SHARD: usize = 128;

/// One stored session.
#[derive(Debug)]
pub(crate) struct Entry {
    /// Shared with the stores of requests reading it: a read-only request copies nothing.
    pub(crate) data: std::sync::Arc<SessionData>,
    /// When the session ends (its own lifetime, from the last write or touch).
    pub(crate) expires: Instant,
}

impl Entry {
    pub(crate) fn live(&self, now: Instant) -> bool {
        self.expires > now
    }

    /// Gives the entry `lifetime` from now; what the release reports.
    pub(crate) fn refresh(&mut self, lifetime: &Lifetime, now: Instant) -> Released {
        let ttl = lifetime.ttl();
        self.expires = now + ttl;
        Released::Stored {
            expires: SystemTime::now() + ttl,
        }
    }
}

/// Every session, sharded by id.
pub(crate) struct Shards {
    shards: Box<[Mutex<Shard>]>,
    /// Picks the shard; keyed apart from the shards' own maps so that the ids of one shard
    /// still spread over its buckets.
    picker: RandomState,
    cap: Option<NonZeroUsize>,
    evicted: AtomicU64,
    warned: AtomicBool,
}

/// The sessions of one shard, least recently used first.
pub(crate) struct Shard {
    entries: LinkedHashMap<String, Entry, RandomState>,
    /// This shard's share of the cap (`usize::MAX`: no cap).
    capacity: usize,
}

/// A locked shard: what a request works on from its read to its write.
pub(crate) struct Locked<'a> {
    shard: MutexGuard<'a, Shard>,
    owner: &'a Shards,
}

impl Shards {
    /// Empty shards sharing `cap` sessions between them (`None`: no cap).
    pub(crate) fn new(cap: Option<NonZeroUsize>) -> Self {
        // Many small shards, so that a GC pass (one shard at a time) never holds a lock for
        // long: at a million sessions a shard holds about 4,000.
        let mut count = SHARDS;
        if let Some(cap) = cap {
            let wanted = (cap.get() / MIN_PER_SHARD).max(1);
            // The largest power of two not above `wanted`.
            count = count.min(1 << wanted.ilog2());
        }
        let shards = (0..count)
            .map(|i| {
                // Shares that add up to exactly the cap.
                let capacity = cap.map_or(usize::MAX, |cap| {
                    cap.get() / count + usize::from(i < cap.get() % count)
                });
                Mutex::new(Shard {
                    entries: LinkedHashMap::with_hasher(RandomState::default()),
                    capacity,
                })
            })
            .collect();
        Shards {
            shards,
            picker: RandomState::default(),
            cap,
            evicted: AtomicU64::new(0),
            warned: AtomicBool::new(false),
        }
    }

    /// Locks the shard of `sid`.
    pub(crate) fn lock(&self, sid: &str) -> Locked<'_> {
        // Shard counts are powers of two, so the low bits pick one evenly.
        let index = (self.picker.hash_one(sid) as usize) & (self.shards.len() - 1);
        Locked {
            shard: lock(&self.shards[index]),
            owner: self,
        }
    }

    /// Runs `f` on each shard in turn, holding one shard's lock at a time.
    pub(crate) fn each(&self, mut f: impl FnMut(&mut LinkedHashMap<String, Entry, RandomState>)) {
        for shard in self.shards.iter() {
            f(&mut lock(shard).entries);
        }
    }

    /// Like [`each`](Self::each), but lets other tasks run between shards (a GC pass on
    /// the request threads must not stall them).
    pub(crate) async fn each_yielding(
        &self,
        mut f: impl FnMut(&mut LinkedHashMap<String, Entry, RandomState>),
    ) {
        for shard in self.shards.iter() {
            f(&mut lock(shard).entries);
            tokio::task::yield_now().await;
        }
    }

    /// How many sessions the cap has evicted so far.
    pub(crate) fn evicted(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }

    fn report_evictions(&self, count: usize) {
        self.evicted.fetch_add(count as u64, Ordering::Relaxed);
        // Once: a full store stays full, and one line per new visitor would flood the log.
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                engine = ENGINE,
                max_entries = self.cap.map_or(0, NonZeroUsize::get),
                "the session store is full: evicting the least recently used sessions to \
                 make room for new ones (raise `maxEntries` in providerConfig if live \
                 sessions are being lost); reported once"
            );
        }
    }
}

/// A poisoned lock only means another request panicked mid-way; every change here is
/// complete or not made, so the map is still sound.
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Locked<'_> {
    /// The entry of `sid`, without marking it used.
    pub(crate) fn peek(&self, sid: &str) -> Option<&Entry> {
        self.shard.entries.get(sid)
    }

    /// The entry of `sid`, marked as the shard's most recently used.
    pub(crate) fn used(&mut self, sid: &str) -> Option<&mut Entry> {
        self.shard.entries.to_back(sid)
    }

    /// Removes `sid`'s entry.
    pub(crate) fn remove(&mut self, sid: &str) -> Option<Entry> {
        self.shard.entries.remove(sid)
    }

    /// Stores `entry` as `sid` (most recently used), evicting the least recently used
    /// sessions of the shard while it is full.
    pub(crate) fn insert(&mut self, sid: &str, entry: Entry) -> &mut Entry {
        let shard = &mut *self.shard;
        let mut evicted = 0;
        if !shard.entries.contains_key(sid) {
            while shard.entries.len() >= shard.capacity {
                if shard.entries.pop_front().is_none() {
                    break;
                }
                evicted += 1;
            }
        }
        if evicted > 0 {
            self.owner.report_evictions(evicted);
        }
        match self.shard.entries.entry(sid.to_owned()) {
            MapEntry::Occupied(mut stored) => {
                // Replacing moves it to the back too: most recently used.
                stored.insert(entry);
                stored.into_mut()
            }
            MapEntry::Vacant(slot) => slot.insert(entry),
        }
    }
}

impl std::fmt::Debug for Shards {
    // Counts only: the map holds session ids (bearer credentials) and their data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shards")
            .field("shards", &self.shards.len())
            .field("max_entries", &self.cap)
            .field("evicted", &self.evicted())
            .finish_non_exhaustive()
    }
}
