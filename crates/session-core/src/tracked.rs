//! [`TrackedStore`]: the value map and change tracking every engine needs, so that an
//! engine is mostly its I/O ([`Persist`]).

use std::sync::Arc;

use async_trait::async_trait;
use http::HeaderMap;
use tokio::sync::Mutex;

use crate::changes::ChangeSet;
use crate::data::SessionData;
use crate::error::Result;
use crate::store::Store;

/// What a release asks the engine to write.
#[derive(Debug, Clone, Copy)]
pub enum Write<'a> {
    /// Nothing changed: only refresh the session's lifetime (sliding expiry).
    Touch,
    /// These changes were made: replay them onto the latest stored state, so changes made
    /// meanwhile by concurrent requests to other keys survive.
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
    /// Engines that cannot merge (the cookie engine) write this whole.
    pub data: &'a SessionData,
    /// When true, write only if the session is still stored; never re-create it.
    pub only_if_present: bool,
}

impl<T> Release<'_, T> {
    /// True when the session was not in storage when this request loaded it.
    pub fn is_new(&self) -> bool {
        self.loaded.is_none()
    }
}

/// The I/O half of an engine's sessions: write a release.
#[async_trait]
pub trait Persist: Send + Sync + 'static {
    /// What the engine remembers from loading a session (use `()` for nothing).
    type Token: Send + Sync + 'static;

    /// Writes `release`. `response` is there for engines that answer with headers.
    async fn persist(
        &self,
        release: Release<'_, Self::Token>,
        response: &mut HeaderMap,
    ) -> Result<()>;
}

struct State<T> {
    data: SessionData,
    changes: ChangeSet,
    loaded: Option<T>,
}

/// A [`Store`] that keeps values in memory, records what changed and hands the engine a
/// [`Release`] to persist.
///
/// Releases follow the contract of the whole library:
/// - a new session that holds no data is never written (a visitor costs nothing until it
///   has something to remember);
/// - an unchanged stored session is only [touched](Write::Touch);
/// - a changed one hands over its [`ChangeSet`] to merge.
pub struct TrackedStore<P: Persist> {
    sid: String,
    persist: Arc<P>,
    state: Mutex<State<P::Token>>,
}

impl<P: Persist> std::fmt::Debug for TrackedStore<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackedStore")
            .field("sid", &self.sid)
            .finish_non_exhaustive()
    }
}

impl<P: Persist> TrackedStore<P> {
    /// A session that is not stored yet.
    pub fn new(sid: impl Into<String>, persist: Arc<P>) -> Self {
        Self::build(sid.into(), SessionData::new(), None, persist)
    }

    /// A session loaded from storage, with the engine's token for the write-back.
    pub fn loaded(
        sid: impl Into<String>,
        data: SessionData,
        token: P::Token,
        persist: Arc<P>,
    ) -> Self {
        Self::build(sid.into(), data, Some(token), persist)
    }

    /// The store for what an engine's lookup found, boxed for a [`Provider`](crate::Provider):
    /// `Some((data, token))` is a session loaded from storage, `None` one not stored yet.
    pub fn boxed(
        sid: impl Into<String>,
        found: Option<(SessionData, P::Token)>,
        persist: Arc<P>,
    ) -> Box<dyn Store> {
        let sid = sid.into();
        Box::new(match found {
            Some((data, token)) => Self::build(sid, data, Some(token), persist),
            None => Self::build(sid, SessionData::new(), None, persist),
        })
    }

    fn build(sid: String, data: SessionData, loaded: Option<P::Token>, persist: Arc<P>) -> Self {
        TrackedStore {
            sid,
            persist,
            state: Mutex::new(State {
                data,
                changes: ChangeSet::new(),
                loaded,
            }),
        }
    }

    /// A copy of the values as this request sees them.
    pub async fn snapshot(&self) -> SessionData {
        self.state.lock().await.data.clone()
    }

    async fn release(&self, response: &mut HeaderMap, only_if_present: bool) -> Result<()> {
        let mut state = self.state.lock().await;
        let is_new = state.loaded.is_none();
        if is_new && (state.data.is_empty() || only_if_present) {
            return Ok(());
        }
        let State {
            data,
            changes,
            loaded,
        } = &*state;
        let write = if changes.is_empty() {
            Write::Touch
        } else {
            Write::Changes(changes)
        };
        let release = Release {
            sid: &self.sid,
            write,
            loaded: loaded.as_ref(),
            data,
            only_if_present,
        };
        self.persist.persist(release, response).await?;
        state.changes = ChangeSet::new();
        Ok(())
    }
}

#[async_trait]
impl<P: Persist> Store for TrackedStore<P> {
    fn session_id(&self) -> &str {
        &self.sid
    }

    async fn get_raw(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.state.lock().await.data.get(key).map(<[u8]>::to_vec))
    }

    async fn set_raw(&self, key: &str, value: Vec<u8>) -> Result<()> {
        let mut state = self.state.lock().await;
        state.changes.set(key, value.clone());
        state.data.insert(key, value);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let mut state = self.state.lock().await;
        if state.data.remove(key).is_some() || state.loaded.is_some() {
            state.changes.delete(key);
        }
        Ok(())
    }

    async fn flush(&self) -> Result<()> {
        let mut state = self.state.lock().await;
        state.data.clear();
        state.changes.clear();
        Ok(())
    }

    async fn keys(&self) -> Result<Vec<String>> {
        Ok(self
            .state
            .lock()
            .await
            .data
            .keys()
            .map(str::to_owned)
            .collect())
    }

    async fn session_release(&self, response: &mut HeaderMap) -> Result<()> {
        self.release(response, false).await
    }

    async fn session_release_if_present(&self, response: &mut HeaderMap) -> Result<()> {
        self.release(response, true).await
    }
}
