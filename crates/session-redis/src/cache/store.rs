//! The cached sessions: a bounded LRU (in shards, each behind its own lock) of decoded
//! sessions by key, with what keeps it coherent:
//!
//! - every entry names the tracking connection whose invalidations cover it ([`Origin`])
//!   and that connection's epoch; a hit needs the connection still live in that epoch, and
//!   the key's end (`#x`) still ahead;
//! - a fetch takes a [`Ticket`] for its key before it sends the read, and its reply is
//!   installed only if the ticket is still the key's latest when the reply is in: an
//!   invalidation, a flush or a local write in between withdraws it, so a read that started
//!   before a change and completed after it never installs what it saw;
//! - while this instance writes a key (a [`WriteMark`]), no ticket is handed out for it, and
//!   its entry and tickets are dropped when the write starts and again when it ends
//!   (whatever the outcome): the server's invalidation for our own write may come later
//!   than our next request, and a write that lost its condition changes nothing, so the
//!   server would send none at all.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use lru::LruCache;
use session_core::SessionData;

use super::stats::Counters;

/// Bytes counted for every cached session besides its key and fields: the entry, its
/// place in the LRU and the session's map.
pub(crate) const ENTRY_OVERHEAD: usize = 256;
/// Bytes counted for every value besides its name and bytes (its map slot, two buffers).
pub(crate) const VALUE_OVERHEAD: usize = 64;

/// The most shards: enough that two cores rarely wait on each other's lock.
const MAX_SHARDS: usize = 16;
/// Each shard holds at least this many entries and bytes (fewer shards for a small cache),
/// so that a session of up to 1/16 of the bytes bound, or of 1 MiB, fits in its shard.
const MIN_SHARD_ENTRIES: usize = 64;
const MIN_SHARD_BYTES: usize = 1 << 20;

/// The epoch of a tracking connection while it is live; 0 while there is none. An entry
/// is good only while its origin's epoch is the one it was read in.
#[derive(Debug, Default)]
pub(crate) struct Origin(AtomicU64);

impl Origin {
    pub(crate) fn epoch(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    pub(crate) fn set(&self, epoch: u64) {
        self.0.store(epoch, Ordering::Release);
    }
}

/// A session as read: what a hit gives back.
#[derive(Debug, Clone)]
pub(crate) struct Cached {
    pub data: SessionData,
    pub version: u64,
    /// The key's end as last set (`#x`): the entry is never served past it.
    pub expires: SystemTime,
}

struct Entry {
    cached: Cached,
    origin: Arc<Origin>,
    epoch: u64,
    bytes: usize,
}

#[derive(Default)]
struct Shard {
    entries: Option<LruCache<String, Entry>>,
    bytes: usize,
    /// The latest ticket of each key being fetched.
    pending: HashMap<String, u64>,
    /// Keys this instance is writing, with how many writes are in flight.
    writing: HashMap<String, u32>,
}

impl Shard {
    fn entries(&mut self) -> &mut LruCache<String, Entry> {
        self.entries.get_or_insert_with(LruCache::unbounded)
    }

    fn remove(&mut self, key: &str) -> bool {
        match self.entries().pop(key) {
            Some(entry) => {
                self.bytes -= entry.bytes;
                true
            }
            None => false,
        }
    }
}

/// Which shard a key is in.
struct Spread(std::hash::RandomState);

/// The cache's entries and counters.
pub(crate) struct Store {
    shards: Box<[Mutex<Shard>]>,
    spread: Spread,
    /// Per shard.
    max_entries: usize,
    /// Per shard.
    max_bytes: usize,
    tickets: AtomicU64,
    pub(crate) counters: Counters,
}

impl Store {
    /// A store for at most `max_entries` sessions and `max_bytes` bytes.
    pub(crate) fn new(max_entries: usize, max_bytes: usize) -> Self {
        let count = (max_entries / MIN_SHARD_ENTRIES)
            .min(max_bytes / MIN_SHARD_BYTES)
            .clamp(1, MAX_SHARDS);
        Store {
            shards: (0..count).map(|_| Mutex::default()).collect(),
            spread: Spread(std::hash::RandomState::new()),
            max_entries: (max_entries / count).max(1),
            max_bytes: max_bytes / count,
            tickets: AtomicU64::new(1),
            counters: Counters::default(),
        }
    }

    fn shard(&self, key: &str) -> MutexGuard<'_, Shard> {
        let index = self.spread.0.hash_one(key) as usize % self.shards.len();
        // A panic while holding the lock leaves the shard as consistent as any other state.
        self.shards[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The bytes an entry of `key` with `fields` counts for.
    pub(crate) fn weigh<'a>(
        key: &str,
        fields: impl Iterator<Item = (&'a [u8], &'a [u8])>,
    ) -> usize {
        key.len()
            + ENTRY_OVERHEAD
            + fields
                .map(|(f, v)| f.len() + v.len() + VALUE_OVERHEAD)
                .sum::<usize>()
    }

    /// The cached session `key`, if it is still good at `now`.
    pub(crate) fn get(&self, key: &str, now: SystemTime) -> Option<Cached> {
        let mut shard = self.shard(key);
        let entry = shard.entries().get(key)?;
        if entry.origin.epoch() == entry.epoch && now < entry.cached.expires {
            let cached = entry.cached.clone();
            drop(shard);
            Counters::add(&self.counters.hits);
            return Some(cached);
        }
        let expired = now >= entry.cached.expires;
        shard.remove(key);
        drop(shard);
        if expired {
            Counters::add(&self.counters.expired);
        }
        None
    }

    /// A ticket to install what a read of `key` about to be sent on `origin` (live in
    /// `epoch`) returns; `None` while this instance writes the key.
    pub(crate) fn begin<'a>(
        &'a self,
        key: &str,
        origin: &Arc<Origin>,
        epoch: u64,
    ) -> Option<Ticket<'a>> {
        if epoch == 0 || origin.epoch() != epoch {
            return None;
        }
        let mut shard = self.shard(key);
        if shard.writing.contains_key(key) {
            return None;
        }
        let number = self.tickets.fetch_add(1, Ordering::Relaxed);
        shard.pending.insert(key.to_owned(), number);
        Some(Ticket {
            store: self,
            key: key.to_owned(),
            number,
            origin: Arc::clone(origin),
            epoch,
            done: false,
        })
    }

    /// Installs `cached` under the ticket's key if nothing withdrew the ticket and its
    /// connection is still live in the same epoch; true when installed.
    pub(crate) fn install(&self, mut ticket: Ticket<'_>, cached: Cached, bytes: usize) -> bool {
        ticket.done = true;
        let mut shard = self.shard(&ticket.key);
        if shard.pending.get(&ticket.key) != Some(&ticket.number) {
            drop(shard);
            Counters::add(&self.counters.refused);
            return false;
        }
        shard.pending.remove(&ticket.key);
        if ticket.origin.epoch() != ticket.epoch || bytes > self.max_bytes {
            return false;
        }
        shard.remove(&ticket.key);
        let entry = Entry {
            cached,
            origin: Arc::clone(&ticket.origin),
            epoch: ticket.epoch,
            bytes,
        };
        shard.bytes += bytes;
        shard.entries().put(std::mem::take(&mut ticket.key), entry);
        let mut evicted = 0;
        while shard.bytes > self.max_bytes || shard.entries().len() > self.max_entries {
            let Some((_, old)) = shard.entries().pop_lru() else {
                break;
            };
            shard.bytes -= old.bytes;
            evicted += 1;
        }
        drop(shard);
        self.counters
            .evictions
            .fetch_add(evicted, Ordering::Relaxed);
        true
    }

    /// Drops `key` on the server's word (an invalidation message).
    pub(crate) fn invalidate(&self, key: &str) {
        let mut shard = self.shard(key);
        shard.pending.remove(key);
        if shard.remove(key) {
            drop(shard);
            Counters::add(&self.counters.invalidations);
        }
    }

    /// Drops every entry read on `origin` (every entry for `None`) and withdraws every
    /// ticket: its tracking connection is gone, or the server flushed the database.
    pub(crate) fn flush(&self, origin: Option<&Arc<Origin>>) {
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            shard.pending.clear();
            let mut freed = 0;
            shard.entries().retain(|_, entry| match origin {
                Some(origin) if !Arc::ptr_eq(origin, &entry.origin) => true,
                _ => {
                    freed += entry.bytes;
                    false
                }
            });
            shard.bytes -= freed;
        }
    }

    /// Marks `key` as being written by this instance until the mark is dropped.
    pub(crate) fn writing(&self, key: String) -> WriteMark<'_> {
        let mut shard = self.shard(&key);
        *shard.writing.entry(key.clone()).or_default() += 1;
        shard.pending.remove(&key);
        let dropped = shard.remove(&key);
        drop(shard);
        if dropped {
            Counters::add(&self.counters.local_drops);
        }
        WriteMark { store: self, key }
    }

    /// Sessions held and the bytes they count for.
    pub(crate) fn usage(&self) -> (usize, usize) {
        self.shards.iter().fold((0, 0), |(n, b), shard| {
            let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            (n + shard.entries().len(), b + shard.bytes)
        })
    }

    /// The bounds over every shard.
    pub(crate) fn bounds(&self) -> (usize, usize) {
        let n = self.shards.len();
        (self.max_entries * n, self.max_bytes * n)
    }
}

/// The right to install one read's reply (see [`Store::begin`]); withdrawn when dropped.
pub(crate) struct Ticket<'a> {
    store: &'a Store,
    key: String,
    number: u64,
    origin: Arc<Origin>,
    epoch: u64,
    done: bool,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut shard = self.store.shard(&self.key);
        if shard.pending.get(&self.key) == Some(&self.number) {
            shard.pending.remove(&self.key);
        }
    }
}

/// A write of this instance in flight (see [`Store::writing`]).
pub(crate) struct WriteMark<'a> {
    store: &'a Store,
    key: String,
}

impl Drop for WriteMark<'_> {
    fn drop(&mut self) {
        let mut shard = self.store.shard(&self.key);
        match shard.writing.get_mut(&self.key) {
            Some(n) if *n > 1 => *n -= 1,
            _ => {
                shard.writing.remove(&self.key);
            }
        }
        shard.pending.remove(&self.key);
        let dropped = shard.remove(&self.key);
        drop(shard);
        if dropped {
            Counters::add(&self.store.counters.local_drops);
        }
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
