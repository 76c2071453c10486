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

/// How many expired sessions a GC pass removes per hold of a shard's lock.
const GC_BATCH: usize = 64;

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

    /// Removes every session that ended by `now`: one shard at a time, at most
    /// [`GC_BATCH`] sessions per hold of its lock, each batch freed after the lock is
    /// released, letting other tasks run between batches. Returns how many were removed.
    pub(crate) async fn remove_expired(&self, now: Instant) -> usize {
        let mut removed = 0;
        let mut batch = Vec::with_capacity(GC_BATCH);
        for shard in self.shards.iter() {
            loop {
                {
                    let mut shard = lock(shard);
                    let ended: Vec<String> = shard
                        .entries
                        .iter()
                        .filter(|(_, entry)| !entry.live(now))
                        .take(GC_BATCH)
                        .map(|(sid, _)| sid.clone())
                        .collect();
                    for sid in ended {
                        if let Some(entry) = shard.entries.remove(&sid) {
                            batch.push((sid, entry));
                        }
                    }
                }
                let full = batch.len() == GC_BATCH;
                removed += batch.len();
                // Freed here, with no lock held: freeing is most of a removal's cost.
                batch.clear();
                tokio::task::yield_now().await;
                if !full {
                    break;
                }
            }
        }
        removed
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    /// Expired sessions in several batches of one shard (a store capped at 255 has one
    /// shard) and spread over the 256 shards of an uncapped one: all removed, every live
    /// one kept.
    #[tokio::test]
    async fn remove_expired_takes_every_batch_and_keeps_the_live() {
        let (expired, live) = (GC_BATCH * 2 + 3, 120);
        for cap in [NonZeroUsize::new(255), None] {
            let shards = Shards::new(cap);
            let now = Instant::now();
            for i in 0..expired + live {
                // Live and expired interleaved in LRU order.
                let ended = i % 2 == 0 || i >= 2 * live;
                let expires = if ended {
                    now - Duration::from_secs(1)
                } else {
                    now + Duration::from_secs(60)
                };
                let entry = Entry {
                    data: Arc::new(SessionData::new()),
                    expires,
                };
                let sid = format!("{i:032x}");
                shards.lock(&sid).insert(&sid, entry);
            }
            assert_eq!(shards.evicted(), 0);
            assert_eq!(shards.remove_expired(now).await, expired, "{cap:?}");
            let mut left = 0;
            shards.each(|entries| {
                assert!(entries.values().all(|e| e.live(now)));
                left += entries.len();
            });
            assert_eq!(left, live, "{cap:?}");
            assert_eq!(shards.remove_expired(now).await, 0);
        }
    }
}
