// Two test binaries share this engine, each using part of its accessors.
#![allow(dead_code)]

//! A small in-memory engine with one switchable bug at a time. Without a bug it is a
//! correct engine, and a model of how to write one: every release reads, merges and
//! writes under one lock, each record keeps its own end, and a move is atomic.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use session_core::http::HeaderMap;
use session_core::{
    async_trait, Capabilities, Change, Context, Error, Lifetime, Lifetimes, Persist, Provider,
    Release, Released, Result, SessionData, Store, TrackedStore, Write,
};

/// The bugs that can be planted, one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bug {
    /// A release writes the request's whole view instead of merging its changes.
    Overwrite,
    /// A release replays sets but forgets deletes and flushes.
    DropsDeletes,
    /// Records never end: reads, counts and GC ignore every lifetime.
    Immortal,
    /// `session_exist` ignores the record's end.
    ExistIgnoresExpiry,
    /// An unchanged release does not refresh the record's end (no sliding expiry).
    NoSlide,
    /// Records get the manager's `maxLifetime` whatever the session's own expiry.
    IgnoresOwnExpiry,
    /// Records ignore the absolute lifetime.
    IgnoresAbsolute,
    /// Records are stored for half the lifetime the release reports.
    ShortStore,
    /// `session_destroy` does nothing.
    Undying,
    /// `release_if_present` of a changed session re-creates it when it is gone.
    ResurrectOnChange,
    /// An unchanged release re-creates a session that is gone.
    ResurrectOnTouch,
    /// `session_create` looks the new id up in the backend.
    LookupOnCreate,
    /// `session_load` of an unknown id returns an empty session instead of none.
    AdoptsUnknown,
    /// A move copies the record, leaving the old id alive.
    MoveKeepsOld,
    /// A move drops the session's own expiry (the moved record follows `maxLifetime`).
    MoveDropsExpiry,
    /// New sessions are never written (yet reported stored).
    ForgetsNewSessions,
    /// `session_read` of an unknown id writes an empty record.
    ReadWrites,
    /// `session_all` counts expired records too.
    CountsExpired,
    /// GC does nothing (reads still hide expired records).
    LazyGc,
    /// Stored bytes that do not decode fail the request.
    CorruptIsError,
    /// Values longer than 8 bytes are cut to 8 when stored.
    TruncatesValues,
}

struct Record {
    bytes: Vec<u8>,
    ends: SystemTime,
}

/// The storage every provider of one suite run shares (like a database), and a count of
/// the operations it served.
#[derive(Default)]
pub struct Backend {
    records: Mutex<HashMap<String, Record>>,
    ops: AtomicUsize,
    /// Every session id the engine was handed.
    seen: Mutex<std::collections::HashSet<String>>,
}

impl Backend {
    fn saw(&self, sid: &str) {
        self.seen.lock().unwrap().insert(sid.to_owned());
    }

    /// Every session id the engine was handed so far.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().iter().cloned().collect()
    }

    fn records(&self) -> std::sync::MutexGuard<'_, HashMap<String, Record>> {
        self.ops.fetch_add(1, Ordering::SeqCst);
        self.records.lock().unwrap()
    }

    /// Operations served so far.
    pub fn ops(&self) -> usize {
        self.ops.load(Ordering::SeqCst)
    }

    /// Whether anything is stored under `sid`, expired or not.
    pub fn holds(&self, sid: &str) -> bool {
        self.records.lock().unwrap().contains_key(sid)
    }

    /// The stored bytes of `sid`.
    pub fn bytes(&self, sid: &str) -> Option<Vec<u8>> {
        self.records
            .lock()
            .unwrap()
            .get(sid)
            .map(|r| r.bytes.clone())
    }

    /// Replaces the stored bytes of `sid`.
    pub fn set_bytes(&self, sid: &str, bytes: Vec<u8>) {
        if let Some(record) = self.records.lock().unwrap().get_mut(sid) {
            record.bytes = bytes;
        }
    }

    /// Replaces the stored bytes of `sid` with junk.
    pub fn corrupt(&self, sid: &str) {
        if let Some(record) = self.records.lock().unwrap().get_mut(sid) {
            record.bytes = b"\x01not messagepack".to_vec();
        }
    }
}

/// One provider instance: the shared backend, the manager's rules, and maybe a bug.
pub struct Engine {
    pub bug: Option<Bug>,
    pub lifetimes: Lifetimes,
    pub backend: Arc<Backend>,
}

impl Engine {
    fn has(&self, bug: Bug) -> bool {
        self.bug == Some(bug)
    }

    fn is_live(&self, record: &Record, now: SystemTime) -> bool {
        self.has(Bug::Immortal) || record.ends > now
    }

    fn decode(&self, sid: &str, bytes: &[u8]) -> Result<SessionData> {
        if self.has(Bug::CorruptIsError) {
            return SessionData::decode(bytes).map_err(|e| Error::backend("buggy", "decode", e));
        }
        SessionData::decode_stored(bytes, "buggy", sid)
    }

    fn live(&self, sid: &str) -> Result<Option<SessionData>> {
        self.backend.saw(sid);
        let records = self.backend.records();
        let now = SystemTime::now();
        match records.get(sid).filter(|r| self.is_live(r, now)) {
            Some(record) => self.decode(sid, &record.bytes).map(Some),
            None => Ok(None),
        }
    }

    fn lifetime_of(&self, data: &SessionData) -> Lifetime {
        let meta = data.meta();
        if self.has(Bug::IgnoresOwnExpiry) {
            return Lifetime::sliding(self.lifetimes.max_lifetime);
        }
        let rules = if self.has(Bug::IgnoresAbsolute) {
            Lifetimes {
                absolute: None,
                ..self.lifetimes
            }
        } else {
            self.lifetimes
        };
        rules.of(meta.created, meta.expiry)
    }

    /// The record of `data` ending by `lifetime`, and what the release reports.
    fn record(&self, data: &SessionData, lifetime: &Lifetime) -> (Record, Released) {
        let ttl = lifetime.ttl();
        let stored_ttl = if self.has(Bug::ShortStore) {
            ttl / 2
        } else {
            ttl
        };
        let now = SystemTime::now();
        let bytes = if self.has(Bug::TruncatesValues) {
            let mut cut: SessionData = data
                .iter()
                .map(|(k, v)| (k.to_owned(), v[..v.len().min(8)].to_vec()))
                .collect();
            cut.set_expiry(data.meta().expiry);
            if let Some(created) = data.meta().created {
                cut.created_if_unknown(created);
            }
            cut.encode()
        } else {
            data.encode()
        };
        let record = Record {
            bytes,
            ends: now + stored_ttl,
        };
        (record, Released::Stored { expires: now + ttl })
    }

    fn merge(
        &self,
        stored: &mut SessionData,
        release: &Release<'_, ()>,
        changes: &session_core::ChangeSet,
    ) {
        if self.has(Bug::Overwrite) {
            *stored = SessionData::clone(release.data);
        } else if self.has(Bug::DropsDeletes) {
            for (key, change) in changes.iter() {
                if let Change::Set(value) = change {
                    stored.insert(key, value.clone());
                }
            }
            if let Some(expiry) = changes.expiry() {
                stored.set_expiry(expiry);
            }
        } else {
            changes.apply_to(stored);
        }
    }

    fn store(self: &Arc<Self>, sid: &str, data: Option<SessionData>) -> Box<dyn Store> {
        TrackedStore::boxed(sid, data.map(|d| (d, ())), Arc::clone(self))
    }
}

#[async_trait]
impl Persist for Engine {
    type Token = ();

    fn lifetimes(&self) -> &Lifetimes {
        &self.lifetimes
    }

    async fn persist(&self, release: Release<'_, ()>, _: &mut HeaderMap) -> Result<Released> {
        let now = SystemTime::now();
        self.backend.saw(release.sid);
        // One lock from the read to the write: no other release slips in between.
        let mut records = self.backend.records();
        let live = records
            .get(release.sid)
            .filter(|r| self.is_live(r, now))
            .map(|r| (self.decode(release.sid, &r.bytes), r.ends));
        let (record, released) = match (live, release.write) {
            (Some((stored, _)), Write::Changes(changes)) => {
                let mut stored = stored.unwrap_or_default();
                self.merge(&mut stored, &release, changes);
                self.record(&stored, &self.lifetime_of(&stored))
            }
            (Some((_, ends)), Write::Touch) if self.has(Bug::NoSlide) => {
                return Ok(Released::Kept {
                    expires: Some(ends),
                })
            }
            (Some((stored, _)), Write::Touch) => {
                let stored = stored.unwrap_or_default();
                self.record(&stored, &self.lifetime_of(&stored))
            }
            (None, Write::Touch) if !self.has(Bug::ResurrectOnTouch) => return Ok(Released::Gone),
            (None, Write::Changes(_))
                if release.only_if_present && !self.has(Bug::ResurrectOnChange) =>
            {
                return Ok(Released::Gone)
            }
            (None, _) if self.has(Bug::ForgetsNewSessions) => {
                return Ok(self.record(release.data, &self.lifetime_of(release.data)).1)
            }
            (None, _) => self.record(release.data, &self.lifetime_of(release.data)),
        };
        records.insert(release.sid.to_owned(), record);
        Ok(released)
    }
}

/// The provider half.
pub struct Handle(pub Arc<Engine>);

#[async_trait]
impl Provider for Handle {
    async fn session_read(&self, _: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
        let found = self.0.live(sid)?;
        if found.is_none() && self.0.has(Bug::ReadWrites) {
            let (record, _) = self.0.record(
                &SessionData::new(),
                &self.0.lifetime_of(&SessionData::new()),
            );
            self.0.backend.records().insert(sid.to_owned(), record);
        }
        Ok(self.0.store(sid, found))
    }

    async fn session_exist(&self, _: &Context<'_>, sid: &str) -> Result<bool> {
        if self.0.has(Bug::ExistIgnoresExpiry) {
            return Ok(self.0.backend.records().contains_key(sid));
        }
        Ok(self.0.live(sid)?.is_some())
    }

    async fn session_load(&self, _: &Context<'_>, sid: &str) -> Result<Option<Box<dyn Store>>> {
        match self.0.live(sid)? {
            Some(data) => Ok(Some(self.0.store(sid, Some(data)))),
            None if self.0.has(Bug::AdoptsUnknown) => {
                Ok(Some(self.0.store(sid, Some(SessionData::new()))))
            }
            None => Ok(None),
        }
    }

    async fn session_create(&self, _: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
        self.0.backend.saw(sid);
        if self.0.has(Bug::LookupOnCreate) {
            self.0.live(sid)?;
        }
        Ok(self.0.store(sid, None))
    }

    async fn session_move(
        &self,
        _: &Context<'_>,
        old: &str,
        sid: &str,
    ) -> Result<Option<Box<dyn Store>>> {
        let engine = &self.0;
        let now = SystemTime::now();
        engine.backend.saw(old);
        engine.backend.saw(sid);
        let data = {
            let mut records = engine.backend.records();
            let taken = if engine.has(Bug::MoveKeepsOld) {
                records.get(old).map(|r| Record {
                    bytes: r.bytes.clone(),
                    ends: r.ends,
                })
            } else {
                records.remove(old)
            };
            let Some(mut record) = taken.filter(|r| engine.is_live(r, now)) else {
                return Ok(None);
            };
            let mut data = engine.decode(sid, &record.bytes)?;
            if engine.has(Bug::MoveDropsExpiry) {
                data.set_expiry(None);
                record.bytes = data.encode();
                record.ends = now + engine.lifetimes.max_lifetime;
            }
            records.insert(sid.to_owned(), record);
            data
        };
        Ok(Some(engine.store(sid, Some(data))))
    }

    async fn session_regenerate(
        &self,
        cx: &Context<'_>,
        old: &str,
        sid: &str,
    ) -> Result<Box<dyn Store>> {
        let moved = self.session_move(cx, old, sid).await?;
        Ok(moved.unwrap_or_else(|| self.0.store(sid, None)))
    }

    async fn session_destroy(&self, _: &Context<'_>, sid: &str) -> Result<()> {
        let mut records = self.0.backend.records();
        if !self.0.has(Bug::Undying) {
            records.remove(sid);
        }
        Ok(())
    }

    async fn session_all(&self) -> Result<usize> {
        let now = SystemTime::now();
        let records = self.0.backend.records();
        let counts_all = self.0.has(Bug::CountsExpired);
        Ok(records
            .values()
            .filter(|r| counts_all || self.0.is_live(r, now))
            .count())
    }

    async fn session_gc(&self) -> Result<()> {
        let engine = &self.0;
        if engine.has(Bug::LazyGc) || engine.has(Bug::Immortal) {
            return Ok(());
        }
        let now = SystemTime::now();
        engine.backend.records().retain(|_, r| r.ends > now);
        Ok(())
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::NONE.merging().counting()
    }
}
