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
//!   [`touch`](RowBackend::touch) when the record has lost more than 1 % of its inactivity
//!   limit ([`Lifetime::refresh_due`]), or none where the load refreshes it itself when
//!   that is due ([`Ttl::Refreshed`]);
//! - a request that changes the session: the `load` and one
//!   [`replace`](RowBackend::replace); when another request changed the session meanwhile,
//!   the latest record is [fetched](RowBackend::fetch), the changes are replayed onto it and
//!   the replace is retried (a backend that replays changes itself in one atomic call does
//!   one [`merge`](RowBackend::merge) instead, and never retries);
//! - a regenerated session: one [`rename`](RowBackend::rename), plus the write of the
//!   request's changes if it made any.
//!
//! # Lifetimes
//!
//! Every record has its own lifetime: each write and touch hands the backend the
//! [`Lifetime`] of the session written (the manager's `maxLifetime`, or the session's own
//! [`Expiry`](crate::Expiry), cut at the absolute lifetime), and the backend stores its end
//! natively ([`Lifetime::ttl`] from now: an expiry column, a `PX`, an exptime). When an
//! unchanged session is refreshed is decided here, once for all backends.

mod provider;
#[cfg(test)]
mod tests;

use std::time::Duration;

use async_trait::async_trait;

use crate::changes::ChangeSet;
use crate::data::SessionData;
use crate::error::Result;
use crate::expiry::{Lifetime, Lifetimes};
use crate::provider::Capabilities;

pub use provider::RowProvider;

/// How long a record has left, as [`RowBackend::load`] saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// The record ends in this long; release [touches](RowBackend::touch) it when that is
    /// due ([`Lifetime::refresh_due`]).
    Left(Duration),
    /// The load itself refreshed the expiry, because that was due (one call reads and
    /// refreshes, from a lifetime the backend stored with the record): the record ends in
    /// this long. Release never touches it, and reports the session
    /// [stored](crate::Released::Stored) so that the cookie is refreshed with it. A load
    /// that found no refresh due returns [`Ttl::Left`].
    Refreshed(Duration),
}

impl Ttl {
    /// How long the record has left, either way.
    pub fn left(self) -> Duration {
        match self {
            Ttl::Left(left) | Ttl::Refreshed(left) => left,
        }
    }
}

/// A live record as [`RowBackend::load`] found it.
#[derive(Debug, Clone)]
pub struct LoadedRow<V> {
    /// The session's values (decode with [`SessionData::decode_stored`], so that corrupt
    /// bytes read as an empty session and a newer format is an error).
    pub data: SessionData,
    /// What identifies this stored state for [`RowBackend::replace`].
    pub version: V,
    /// How long the record has left.
    pub ttl: Ttl,
}

/// The I/O of a backend that keeps one record per session with its own expiry and can
/// replace a record only if it is unchanged; [`RowProvider`] builds the engine on top.
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

    /// The manager's lifetime rules (from [`ProviderInit::lifetimes`](crate::ProviderInit)).
    fn lifetimes(&self) -> &Lifetimes;

    /// The live record `sid`, for a request (one round trip).
    async fn load(&self, sid: &str) -> Result<Option<LoadedRow<Self::Version>>>;

    /// The live record `sid` and its version, re-read after a conditional write lost.
    async fn fetch(&self, sid: &str) -> Result<Option<(SessionData, Self::Version)>>;

    /// Stores `bytes` as a new record `sid` ending [`lifetime.ttl()`](Lifetime::ttl) from
    /// now, replacing an expired leftover. Returns `false`, writing nothing, when a live
    /// record `sid` exists.
    async fn create(&self, sid: &str, bytes: &[u8], lifetime: &Lifetime) -> Result<bool>;

    /// Replaces the live record `sid` with `bytes`, ending `lifetime.ttl()` from now, but
    /// only if its stored state is still `expected`. Returns `false`, writing nothing,
    /// otherwise (changed meanwhile, expired or gone).
    async fn replace(
        &self,
        sid: &str,
        expected: &Self::Version,
        bytes: &[u8],
        lifetime: &Lifetime,
    ) -> Result<bool>;

    /// Makes the live record `sid` end `lifetime.ttl()` from now. Returns `false`, writing
    /// nothing, when it is gone: a record that is gone stays gone.
    async fn touch(&self, sid: &str, lifetime: &Lifetime) -> Result<bool>;

    /// Moves the live record `old_sid` to `sid`, keeping its data and its expiry, and
    /// returns it as loaded from `sid`; `None`, writing nothing, when `old_sid` is not
    /// live. Atomic: at no moment are both ids, or neither, live.
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

    /// For backends that can replay a change set themselves, atomically and in one call
    /// (a server-side script over a record of fields, say): applies `changes` to the live
    /// record `sid` and makes it end `lifetime.ttl()` from now; when no live record
    /// exists, creates it from `data` (the request's whole view) unless `only_if_present`.
    /// Returns `Some(true)` when written, `Some(false)` when the record is gone and was not
    /// created.
    ///
    /// The default returns `None`: the backend has no such call, and [`RowProvider`]
    /// merges with [`replace`](RowBackend::replace) and [`fetch`](RowBackend::fetch) (a
    /// conditional write, retried on a conflict).
    async fn merge(
        &self,
        sid: &str,
        changes: &ChangeSet,
        data: &SessionData,
        lifetime: &Lifetime,
        only_if_present: bool,
    ) -> Result<Option<bool>> {
        let _ = (sid, changes, data, lifetime, only_if_present);
        Ok(None)
    }

    /// What the engine guarantees: by default it merges concurrent changes (conditional
    /// writes) and counts sessions exactly.
    fn capabilities(&self) -> Capabilities {
        Capabilities::NONE.merging().counting()
    }
}
