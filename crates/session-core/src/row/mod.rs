//! Engines whose backend keeps one record per session, with an expiry, and can write it
//! conditionally: implement [`RowBackend`] (the I/O) and [`RowProvider`] is the engine.
//!
//! # When to use this module
//!
//! Use it when the backend stores each session as one record (an SQL row, a Redis key,
//! a memcached item, a Couchbase document) that
//! - expires on its own clock: a read can hide expired records, or say how long a record
//!   has left, and
//! - can be replaced only if it is unchanged since it was read: `UPDATE … WHERE data = <the
//!   bytes read>`, a version column, memcached's `cas`, a Couchbase CAS value, a Redis
//!   `WATCH` or a compare-and-set script.
//!
//! The backend then only writes its statements or commands ([`RowBackend`]); what is the
//! same for all such engines lives here once: the [`Provider`](crate::Provider) methods,
//! the [`Persist`](crate::Persist) half with the merge of concurrent changes
//! ([`cas::write_changes`](crate::cas::write_changes)), when an unchanged session's expiry
//! is refreshed, the size limit, and the GC loop over batches.
//!
//! Implement [`Provider`](crate::Provider) and [`Persist`](crate::Persist) yourself instead
//! when the engine does not fit: the data travels with the client (the cookie engine),
//! writes are serialised by a lock rather than made conditional (the file engine), sessions
//! live in this process (the memory engine), or the backend cannot compare-and-set (then
//! it cannot claim to merge concurrent changes either). [`cas`](crate::cas) alone helps
//! engines that can write conditionally but do not fit otherwise.
//!
//! # What a request costs
//!
//! With [`TrackedStore`](crate::TrackedStore)'s rules on top:
//! - a new visitor whose session stays empty: nothing;
//! - a new session with data: one [`create`](RowBackend::create);
//! - a request that only reads: one [`load`](RowBackend::load), plus a
//!   [`touch`](RowBackend::touch) when the record has lost more than
//!   [`refresh_slack`] of its lifetime (or none, where the load refreshes it itself:
//!   [`Expiry::Refreshed`]);
//! - a request that changes the session: the `load` and one
//!   [`replace`](RowBackend::replace); when another request changed the session meanwhile,
//!   the latest record is [fetched](RowBackend::fetch), the changes are replayed onto it and
//!   the replace is retried.

mod provider;
#[cfg(test)]
mod tests;

use std::time::Duration;

use async_trait::async_trait;

use crate::data::SessionData;
use crate::error::Result;
use crate::provider::Capabilities;

pub use provider::RowProvider;

/// How much of its lifetime an unchanged session may lose before a read refreshes its
/// expiry: 1 %. Most read-only requests then write nothing, and a session still lives at
/// least 99 % of its lifetime after its last use.
pub fn refresh_slack(lifetime: Duration) -> Duration {
    lifetime / 100
}

/// What a backend knows about a record's expiry when it loads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// The load itself refreshed the expiry when it was due (one statement reads and
    /// refreshes): release never needs to touch it.
    Refreshed,
    /// The record lives this much longer; release [touches](RowBackend::touch) it when that
    /// is more than [`refresh_slack`] short of a full [lifetime](RowBackend::lifetime).
    Remaining(Duration),
}

/// A live record as [`RowBackend::load`] found it.
#[derive(Debug, Clone)]
pub struct LoadedRow<V> {
    /// The session's values (decode with [`SessionData::decode_or_empty`], so corrupt
    /// bytes read as an empty session).
    pub data: SessionData,
    /// What identifies this stored state for [`RowBackend::replace`].
    pub version: V,
    /// How fresh the record's expiry is.
    pub expiry: Expiry,
}

/// The I/O of a backend that keeps one record per session with an expiry and can replace
/// a record only if it is unchanged; [`RowProvider`] builds the engine on top.
///
/// Every method sees only live records: an expired record is as good as absent (until
/// [`delete_expired`](RowBackend::delete_expired) removes it, where the backend does not
/// remove it itself). Methods report backend failures as
/// [`Error::Backend`](crate::Error::Backend) naming [`ENGINE`](RowBackend::ENGINE).
#[async_trait]
pub trait RowBackend: Send + Sync + 'static {
    /// The engine's registered name, for errors and logs.
    const ENGINE: &'static str;

    /// The largest encoded session the backend can store; larger ones fail at release with
    /// [`Error::TooLarge`](crate::Error::TooLarge) and write nothing. `None`: no limit here.
    const MAX_DATA_SIZE: Option<usize> = None;

    /// The most records one [`delete_expired`](RowBackend::delete_expired) call removes; a
    /// call that removes fewer ends the GC pass.
    const GC_BATCH: u64;

    /// What identifies one stored state of a record: the bytes read, a CAS value, a version.
    type Version: Send + Sync + 'static;

    /// How long a session lives after its last use, as the backend counts it.
    fn lifetime(&self) -> Duration;

    /// The live record `sid`, for a request (one round trip).
    async fn load(&self, sid: &str) -> Result<Option<LoadedRow<Self::Version>>>;

    /// The live record `sid` and its version, re-read after a conditional write lost.
    async fn fetch(&self, sid: &str) -> Result<Option<(SessionData, Self::Version)>>;

    /// Stores `bytes` as a new record `sid` with a full lifetime, replacing an expired
    /// leftover. Returns `false`, writing nothing, when a live record `sid` exists.
    async fn create(&self, sid: &str, bytes: &[u8]) -> Result<bool>;

    /// Replaces the live record `sid` with `bytes` and gives it a full lifetime, but only
    /// if its stored state is still `expected`. Returns `false`, writing nothing, otherwise
    /// (changed meanwhile, expired or gone).
    async fn replace(&self, sid: &str, expected: &Self::Version, bytes: &[u8]) -> Result<bool>;

    /// Gives the live record `sid` a full lifetime. A record that is gone stays gone.
    async fn touch(&self, sid: &str) -> Result<()>;

    /// Moves the live record `old_sid` to `sid` with a full lifetime and returns it as
    /// loaded from `sid`; `None` when `old_sid` is not live.
    async fn rename(&self, old_sid: &str, sid: &str) -> Result<Option<LoadedRow<Self::Version>>>;

    /// True when a live record `sid` exists.
    async fn exists(&self, sid: &str) -> Result<bool>;

    /// Removes the record `sid`; an unknown one is not an error.
    async fn destroy(&self, sid: &str) -> Result<()>;

    /// The number of live records.
    async fn count_live(&self) -> Result<usize>;

    /// Removes at most [`GC_BATCH`](RowBackend::GC_BATCH) expired records; how many it
    /// removed. Backends that expire records themselves return 0.
    async fn delete_expired(&self) -> Result<u64>;

    /// What the engine guarantees: by default it merges concurrent changes (conditional
    /// writes) and counts sessions exactly.
    fn capabilities(&self) -> Capabilities {
        Capabilities::NONE.merging().counting()
    }
}
