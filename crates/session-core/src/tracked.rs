//! [`TrackedStore`]: the value map and change tracking every engine needs, so that an
//! engine is mostly its I/O ([`Persist`]).

use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use http::HeaderMap;

use crate::changes::ChangeSet;
use crate::data::{SessionData, SessionMeta};
use crate::error::Result;
use crate::expiry::{now_millis, Expiry, Lifetime, Lifetimes};
use crate::store::{Released, Store};

/// What a release asks the engine to write.
#[derive(Debug, Clone, Copy)]
pub enum Write<'a> {
    /// Nothing changed: refresh the stored record's end to [`Release::lifetime`] (sliding
    /// expiry). Engines whose refresh costs a round trip may skip it while it is not due
    /// ([`Lifetime::refresh_due`]: less than 1 % of the inactivity limit was used) and
    /// report [`Released::Kept`]; a record that is gone stays gone ([`Released::Gone`]).
    Touch,
    /// These changes were made: replay them onto the latest stored state, so changes made
    /// meanwhile by concurrent requests to other keys survive, and give the record the
    /// lifetime of the merged result ([`Release::lifetime_of`]).
    Changes(&'a ChangeSet),
}

/// Everything an engine needs to write one session back.
#[derive(Debug)]
pub struct Release<'a, T> {
    /// The session id.
    pub sid: &'a str,
    /// What to write.
    pub write: Write<'a>,
    /// The token the engine attached when it loaded the session (a version, a CAS value, the
    /// bytes read, …); `None` when the session was new in this request.
    pub loaded: Option<&'a T>,
    /// The session's values as this request sees them (the loaded state plus the changes).
    /// Engines that cannot merge (the cookie engine) write this whole. It is the store's
    /// shared copy: an engine that keeps sessions in memory can keep it with an
    /// `Arc::clone` instead of copying it.
    pub data: &'a Arc<SessionData>,
    /// When true, write only if the session is still stored; never re-create it.
    pub only_if_present: bool,
    /// The lifetime of the session as this request sees it ([`data`](Self::data)'s own
    /// expiry and creation under the manager's rules): what a touch or a write of `data`
    /// gives the record.
    pub lifetime: Lifetime,
    /// The manager's lifetime rules, for a merged state's lifetime
    /// ([`lifetime_of`](Self::lifetime_of)).
    pub lifetimes: &'a Lifetimes,
}

impl<T> Release<'_, T> {
    /// True when the session was not in storage when this request loaded it.
    pub fn is_new(&self) -> bool {
        self.loaded.is_none()
    }

    /// The lifetime of `data` (e.g. the latest stored state with this request's changes
    /// replayed onto it, whose expiry another request may have set).
    pub fn lifetime_of(&self, data: &SessionData) -> Lifetime {
        lifetime_of(self.lifetimes, data)
    }
}

/// The lifetime of `data` under `lifetimes`.
pub fn lifetime_of(lifetimes: &Lifetimes, data: &SessionData) -> Lifetime {
    let meta = data.meta();
    lifetimes.of(meta.created, meta.expiry)
}

/// The I/O half of an engine's sessions: write a release.
#[async_trait]
pub trait Persist: Send + Sync + 'static {
    /// What the engine remembers from loading a session (use `()` for nothing).
    type Token: Send + Sync + 'static;

    /// The manager's lifetime rules (from [`ProviderInit::lifetimes`](crate::ProviderInit)).
    fn lifetimes(&self) -> &Lifetimes;

    /// For an unchanged session loaded with `token`: `Some(end)` when its stored expiry
    /// (ending at `end`) needs no refresh yet for `lifetime`, so the release writes nothing
    /// and [`persist`](Self::persist) is not called; `None` to hand it the
    /// [touch](Write::Touch). The rule engines should follow is
    /// [`Lifetime::refresh_due`] (more than 1 % of the inactivity limit used). The default
    /// always touches.
    fn touch_not_due(
        &self,
        token: &Self::Token,
        lifetime: &Lifetime,
    ) -> Option<std::time::SystemTime> {
        let _ = (token, lifetime);
        None
    }

    /// Writes `release` and says what it did (the record's new end, or that the session is
    /// gone). `response` is there for engines that answer with headers.
    async fn persist(
        &self,
        release: Release<'_, Self::Token>,
        response: &mut HeaderMap,
    ) -> Result<Released>;
}

struct State {
    /// The values as this request sees them. Shared with the engine where it keeps sessions
    /// in memory, so a read-only request never copies them; the first change copies.
    data: Arc<SessionData>,
    changes: ChangeSet,
    /// The session was loaded from storage.
    loaded: bool,
}

/// A [`Store`] that keeps values in memory, records what changed and hands the engine a
/// [`Release`] to persist.
///
/// Releases follow the contract of the whole library:
/// - a new session that holds no data is never written (a visitor costs nothing until it
///   has something to remember);
/// - an unchanged stored session is only [touched](Write::Touch);
/// - a changed one (values or [expiry](Store::set_expiry)) hands over its [`ChangeSet`] to
///   merge.
///
/// A new session is stamped with its creation time (for the absolute lifetime) when the
/// store is made. Reads and writes of values take a short, synchronous lock; only a release
/// waits (for another release of the same store to finish).
pub struct TrackedStore<P: Persist> {
    sid: String,
    persist: Arc<P>,
    state: Mutex<State>,
    /// The engine's token from the load; the async lock also serialises releases.
    token: tokio::sync::Mutex<Option<P::Token>>,
}

impl<P: Persist> std::fmt::Debug for TrackedStore<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackedStore")
            .field("session", &crate::id::Fingerprint::of(&self.sid))
            .finish_non_exhaustive()
    }
}

impl<P: Persist> TrackedStore<P> {
    /// A session that is not stored yet, created now.
    pub fn new(sid: impl Into<String>, persist: Arc<P>) -> Self {
        Self::build(sid.into(), Arc::new(fresh()), None, persist)
    }

    /// A session loaded from storage, with the engine's token for the write-back.
    pub fn loaded(
        sid: impl Into<String>,
        data: SessionData,
        token: P::Token,
        persist: Arc<P>,
    ) -> Self {
        Self::build(sid.into(), Arc::new(data), Some(token), persist)
    }

    /// The store for what an engine's lookup found, boxed for a [`Provider`](crate::Provider):
    /// `Some((data, token))` is a session loaded from storage, `None` one not stored yet.
    pub fn boxed(
        sid: impl Into<String>,
        found: Option<(SessionData, P::Token)>,
        persist: Arc<P>,
    ) -> Box<dyn Store> {
        Self::boxed_shared(sid, found.map(|(d, t)| (Arc::new(d), t)), persist)
    }

    /// [`boxed`](Self::boxed) for an engine that keeps sessions in memory as
    /// `Arc<SessionData>`: the store shares the engine's copy until the request changes
    /// something, so a read-only request copies nothing.
    pub fn boxed_shared(
        sid: impl Into<String>,
        found: Option<(Arc<SessionData>, P::Token)>,
        persist: Arc<P>,
    ) -> Box<dyn Store> {
        let sid = sid.into();
        Box::new(match found {
            Some((data, token)) => Self::build(sid, data, Some(token), persist),
            None => Self::build(sid, Arc::new(fresh()), None, persist),
        })
    }

    fn build(
        sid: String,
        data: Arc<SessionData>,
        token: Option<P::Token>,
        persist: Arc<P>,
    ) -> Self {
        TrackedStore {
            sid,
            persist,
            state: Mutex::new(State {
                data,
                changes: ChangeSet::new(),
                loaded: token.is_some(),
            }),
            token: tokio::sync::Mutex::new(token),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Never held across an await or user code: a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the values as this request sees them.
    pub async fn snapshot(&self) -> SessionData {
        SessionData::clone(&self.lock().data)
    }

    async fn release(&self, response: &mut HeaderMap, only_if_present: bool) -> Result<Released> {
        // Uncontended (the usual case) without building a lock future.
        let token = match self.token.try_lock() {
            Ok(token) => token,
            Err(_) => self.token.lock().await,
        };
        let (data, changes) = {
            let mut state = self.lock();
            if !state.loaded && (state.data.is_empty() || only_if_present) {
                return Ok(Released::NotStored);
            }
            (Arc::clone(&state.data), std::mem::take(&mut state.changes))
        };
        let lifetimes = self.persist.lifetimes();
        let lifetime = lifetime_of(lifetimes, &data);
        if changes.is_empty() {
            let kept = token
                .as_ref()
                .and_then(|token| self.persist.touch_not_due(token, &lifetime));
            if let Some(end) = kept {
                return Ok(Released::Kept { expires: Some(end) });
            }
        }
        let write = if changes.is_empty() {
            Write::Touch
        } else {
            Write::Changes(&changes)
        };
        let release = Release {
            sid: &self.sid,
            write,
            loaded: token.as_ref(),
            data: &data,
            only_if_present,
            lifetime,
            lifetimes,
        };
        let released = self.persist.persist(release, response).await;
        // Changes are done with once written. A release that failed, or found the session
        // gone, wrote nothing: a later release (one that may create) still has them to
        // write, followed by any made meanwhile.
        if !matches!(released, Ok(ref r) if *r != Released::Gone) {
            let mut state = self.lock();
            let later = std::mem::take(&mut state.changes);
            state.changes = changes;
            state.changes.extend(later);
        }
        released
    }
}

/// `set_now` of a TrackedStore always succeeds; should that change, fail rather than panic.
fn unreachable_set() -> crate::Error {
    crate::Error::Unsupported {
        engine: "tracked store".into(),
        what: "setting a value",
    }
}

/// An empty session created now.
fn fresh() -> SessionData {
    let mut data = SessionData::new();
    data.created_if_unknown(now_millis());
    data
}

#[async_trait]
impl<P: Persist> Store for TrackedStore<P> {
    fn session_id(&self) -> &str {
        &self.sid
    }

    fn read_now(&self, key: &str, read: &mut dyn FnMut(Option<&[u8]>)) -> bool {
        read(self.lock().data.get(key));
        true
    }

    fn set_now(&self, key: &str, value: Vec<u8>) -> std::result::Result<(), Vec<u8>> {
        let mut state = self.lock();
        state.changes.set(key, value.clone());
        Arc::make_mut(&mut state.data).insert(key, value);
        Ok(())
    }

    async fn get_raw(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.lock().data.get(key).map(<[u8]>::to_vec))
    }

    async fn set_raw(&self, key: &str, value: Vec<u8>) -> Result<()> {
        self.set_now(key, value).map_err(|_| unreachable_set())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let mut state = self.lock();
        let present = state.data.get(key).is_some();
        if present {
            Arc::make_mut(&mut state.data).remove(key);
        }
        if present || state.loaded {
            state.changes.delete(key);
        }
        Ok(())
    }

    async fn flush(&self) -> Result<()> {
        let mut state = self.lock();
        if !state.data.is_empty() {
            Arc::make_mut(&mut state.data).clear();
        }
        state.changes.clear();
        Ok(())
    }

    async fn keys(&self) -> Result<Vec<String>> {
        Ok(self.lock().data.keys().map(str::to_owned).collect())
    }

    async fn meta(&self) -> Result<SessionMeta> {
        Ok(self.lock().data.meta())
    }

    async fn set_expiry(&self, expiry: Option<Expiry>) -> Result<()> {
        let mut state = self.lock();
        Arc::make_mut(&mut state.data).set_expiry(expiry);
        state.changes.set_expiry(expiry);
        Ok(())
    }

    async fn changes(&self) -> Result<ChangeSet> {
        Ok(self.lock().changes.clone())
    }

    async fn session_release(&self, response: &mut HeaderMap) -> Result<Released> {
        self.release(response, false).await
    }

    async fn session_release_if_present(&self, response: &mut HeaderMap) -> Result<Released> {
        self.release(response, true).await
    }
}
