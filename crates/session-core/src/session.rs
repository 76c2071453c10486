//! [`Session`]: the handle a request works with, tying a [`Store`] to its manager's cookie
//! and id rules.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use http::HeaderMap;
use serde::{de::DeserializeOwned, Serialize};

use crate::context::Context;
use crate::error::Result;
use crate::expiry::Expiry;
use crate::manager::Manager;
use crate::store::{Released, Store, StoreExt};
use crate::transport::IdSource;

/// The session of one request, from [`Manager::session_start`].
///
/// Cheap to clone; clones share the session (a web layer keeps one, the handler another).
/// Call [`release`](Session::release) once the handler is done: it writes what changed and
/// adds the `Set-Cookie` the response needs.
///
/// ```
/// # async fn demo(manager: session_core::Manager) -> session_core::Result<()> {
/// let request = http::Request::new(());
/// let session = manager.session_start(&request).await?;
/// let visits: u32 = session.get("visits").await?.unwrap_or(0);
/// session.set("visits", &(visits + 1)).await?;
/// let mut response = http::HeaderMap::new();
/// session.release(&mut response).await?; // stores the session, sets the cookie
/// # Ok(()) }
/// ```
///
/// # Cookies
///
/// Release sends the session cookie when the session is first stored, when its id changed
/// ([`regenerate`](Self::regenerate)), when its [expiry](Self::set_expiry) changed, and
/// whenever the stored expiry is refreshed while the cookie has a `Max-Age`; that
/// `Max-Age` is never longer than the stored session has left. So a persistent cookie and
/// its stored session end together (within the 1 % refresh slack), and a browser-session
/// cookie is sent only when something about it changed. No cookie is sent for a session
/// that is gone, nor for an id that arrived in the URL query (see
/// [`ManagerConfig::enable_sid_in_url_query`](crate::ManagerConfig::enable_sid_in_url_query)).
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    manager: Manager,
    current: Mutex<Current>,
}

#[derive(Clone)]
struct Current {
    store: Arc<dyn Store>,
    /// The session was in storage (under `store`'s id) when loaded, or after its last
    /// release.
    stored: bool,
    /// Where the id came from.
    source: IdSource,
    /// Set by `regenerate` on a stored session: the id it moves to at release. Until then
    /// the stored session stays where it is, so a failed request leaves it intact.
    move_to: Option<String>,
    /// The session's expiry was set in this request: its cookie must be sent again.
    expiry_changed: bool,
    /// A session was destroyed in this request: unless a new one gets data, the browser is
    /// told to forget the cookie.
    destroyed: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &crate::id::Fingerprint::of(&self.id()))
            .finish_non_exhaustive()
    }
}

impl Session {
    pub(crate) fn new(
        manager: Manager,
        store: Arc<dyn Store>,
        stored: bool,
        source: IdSource,
    ) -> Self {
        Session {
            inner: Arc::new(Inner {
                manager,
                current: Mutex::new(Current {
                    store,
                    stored,
                    source,
                    move_to: None,
                    expiry_changed: false,
                    destroyed: false,
                }),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Current> {
        // The lock is never held across an await or user code, so poisoning cannot leave
        // it half-updated; recover rather than panic.
        self.inner.current.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The underlying store (replaced by [`destroy`](Self::destroy), by a
    /// [`regenerate`](Self::regenerate) of a session not stored yet, and by the release of
    /// a regenerated one).
    pub fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.lock().store)
    }

    /// The manager this session belongs to.
    pub fn manager(&self) -> &Manager {
        &self.inner.manager
    }

    /// The session id (after [`regenerate`](Self::regenerate), the new one, which the
    /// cookie carries from the release on).
    pub fn id(&self) -> String {
        let current = self.lock();
        match &current.move_to {
            Some(sid) => sid.clone(),
            None => current.store.session_id().to_owned(),
        }
    }

    /// True when the session is not stored (a first visit, or after
    /// [`destroy`](Self::destroy)). A stored session stays stored after
    /// [`regenerate`](Self::regenerate): it moves at release.
    pub fn is_new(&self) -> bool {
        !self.lock().stored
    }

    /// The value under `key` decoded as `T` (beego's `GetSession`); `Ok(None)` when absent.
    /// A value of another type is an error for this call only.
    pub async fn get<T: DeserializeOwned + Send>(&self, key: &str) -> Result<Option<T>> {
        self.store().get(key).await
    }

    /// Sets `key` (beego's `SetSession`).
    pub async fn set<T: Serialize + Sync + ?Sized>(&self, key: &str, value: &T) -> Result<()> {
        self.store().set(key, value).await
    }

    /// The encoded value under `key`.
    pub async fn get_raw(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.store().get_raw(key).await
    }

    /// Sets `key` to an already encoded (MessagePack) value.
    pub async fn set_raw(&self, key: &str, value: Vec<u8>) -> Result<()> {
        self.store().set_raw(key, value).await
    }

    /// Removes `key` (beego's `DelSession`).
    pub async fn delete(&self, key: &str) -> Result<()> {
        self.store().delete(key).await
    }

    /// Removes every key.
    pub async fn flush(&self) -> Result<()> {
        self.store().flush().await
    }

    /// The keys the session holds.
    pub async fn keys(&self) -> Result<Vec<String>> {
        self.store().keys().await
    }

    /// Gives this session its own lifetime, stored with it (so it holds on the next
    /// request, on every app instance and across [`regenerate`](Self::regenerate)); `None`
    /// goes back to the manager's (`maxLifetime`, and `cookieLifeTime` for the cookie).
    /// The cookie sent at release follows it.
    ///
    /// ```
    /// # async fn login(session: session_core::Session, remember: bool) -> session_core::Result<()> {
    /// use std::time::Duration;
    /// use session_core::Expiry;
    ///
    /// session.set("user", "astaxie").await?;
    /// session.regenerate().await?;
    /// if remember {
    ///     // "Remember me": 30 days without a visit, and a cookie that lasts as long.
    ///     session.set_expiry(Some(Expiry::OnInactivity(Duration::from_secs(30 * 86_400)))).await?;
    /// } else {
    ///     // Gone with the browser; the stored data still ends after maxLifetime.
    ///     session.set_expiry(Some(Expiry::OnSessionEnd)).await?;
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// The manager's `absoluteLifetime`, when set, still ends the session that long after
    /// its creation.
    pub async fn set_expiry(&self, expiry: Option<Expiry>) -> Result<()> {
        self.store().set_expiry(expiry).await?;
        self.lock().expiry_changed = true;
        Ok(())
    }

    /// The session's own expiry, if it has one.
    pub async fn expiry(&self) -> Result<Option<Expiry>> {
        Ok(self.store().meta().await?.expiry)
    }

    /// When the session was created (first stored), if known.
    pub async fn created(&self) -> Result<Option<SystemTime>> {
        Ok(self.store().meta().await?.created)
    }

    /// Moves the session to a fresh id, keeping its data, its expiry, its creation time and
    /// any change not yet released (beego's `SessionRegenerateID`; call it on login).
    ///
    /// Nothing happens to the stored session until [`release`](Self::release): the release
    /// moves it to the new id ([`Provider::session_move`](crate::Provider::session_move),
    /// atomic where the engine can) and writes this request's changes there, and the new
    /// cookie goes out with the response. A request whose release is skipped (the web
    /// layer skips it on a 5xx) or fails leaves the old session intact and usable.
    pub async fn regenerate(&self) -> Result<()> {
        let manager = &self.inner.manager;
        let sid = manager.id_policy().generate()?;
        let current = self.lock().clone();
        if current.stored {
            self.lock().move_to = Some(sid);
            return Ok(());
        }
        // Nothing stored yet: the values simply continue under the new id.
        let fresh: Arc<dyn Store> = manager
            .provider()
            .session_create(&Context::detached(), &sid)
            .await?
            .into();
        copy_view(current.store.as_ref(), fresh.as_ref()).await?;
        let mut now = self.lock();
        if Arc::ptr_eq(&now.store, &current.store) {
            now.store = fresh;
            now.source = IdSource::Minted;
        }
        Ok(())
    }

    /// Removes the session from storage (beego's `DestroySession`; call it on logout). The
    /// handle carries on as a new empty session; unless that one gets data, release tells
    /// the browser to forget the cookie.
    pub async fn destroy(&self) -> Result<()> {
        let manager = &self.inner.manager;
        let cx = Context::detached();
        let old = self.lock().clone();
        if old.stored {
            manager
                .provider()
                .session_destroy(&cx, old.store.session_id())
                .await?;
        }
        let new = manager.new_store(&cx).await?;
        *self.lock() = Current {
            store: new,
            stored: false,
            source: IdSource::Minted,
            move_to: None,
            expiry_changed: false,
            destroyed: true,
        };
        Ok(())
    }

    /// Writes what changed (a new session only if it holds data; an unchanged one only has
    /// its lifetime refreshed), moves a regenerated session, and adds the cookie headers
    /// the response needs. Returns what was written.
    pub async fn release(&self, response: &mut HeaderMap) -> Result<Released> {
        self.release_with(response, false).await
    }

    /// Like [`release`](Self::release), but never re-creates a session that was destroyed
    /// or expired meanwhile (beego #5681: a logout undone by a concurrent request); such a
    /// release returns [`Released::Gone`] and sends no cookie.
    pub async fn release_if_present(&self, response: &mut HeaderMap) -> Result<Released> {
        self.release_with(response, true).await
    }

    async fn release_with(
        &self,
        response: &mut HeaderMap,
        only_if_present: bool,
    ) -> Result<Released> {
        let current = self.lock().clone();
        let (store, released) = match &current.move_to {
            Some(sid) if current.stored => {
                self.release_moved(&current, sid, response, only_if_present)
                    .await?
            }
            _ => {
                let store = Arc::clone(&current.store);
                let released = if only_if_present {
                    store.session_release_if_present(response).await?
                } else {
                    store.session_release(response).await?
                };
                (store, released)
            }
        };
        self.send_cookies(&current, store.as_ref(), released, response)
            .await?;
        let mut now = self.lock();
        if Arc::ptr_eq(&now.store, &current.store) && now.move_to == current.move_to {
            now.stored = matches!(released, Released::Stored { .. } | Released::Kept { .. });
            now.store = store;
            now.move_to = None;
            now.expiry_changed = false;
            now.destroyed = false;
            if current.move_to.is_some() {
                now.source = IdSource::Minted;
            }
        }
        Ok(released)
    }

    /// The release of a regenerated stored session: move it, then write this request's
    /// changes under the new id.
    async fn release_moved(
        &self,
        current: &Current,
        sid: &str,
        response: &mut HeaderMap,
        only_if_present: bool,
    ) -> Result<(Arc<dyn Store>, Released)> {
        let provider = self.inner.manager.provider();
        let cx = Context::detached();
        let old = current.store.as_ref();
        if provider.capabilities().keeps_data_on_client {
            // The request's view is the whole session (it came with the request): it goes
            // out under the new id, and the old id's data cookie dies with the old id.
            let fresh: Arc<dyn Store> = provider.session_create(&cx, sid).await?.into();
            copy_view(old, fresh.as_ref()).await?;
            let released = fresh.session_release(response).await?;
            return Ok((fresh, released));
        }
        let target: Arc<dyn Store> = match provider.session_move(&cx, old.session_id(), sid).await?
        {
            Some(moved) => {
                let moved: Arc<dyn Store> = moved.into();
                replay(&old.changes().await?, moved.as_ref()).await?;
                moved
            }
            // The old session is gone (a logout, or expiry, in the meantime): a logout stays
            // a logout.
            None if only_if_present => return Ok((Arc::clone(&current.store), Released::Gone)),
            None => {
                let fresh: Arc<dyn Store> = provider.session_create(&cx, sid).await?.into();
                copy_view(old, fresh.as_ref()).await?;
                fresh
            }
        };
        let released = if only_if_present {
            target.session_release_if_present(response).await?
        } else {
            target.session_release(response).await?
        };
        Ok((target, released))
    }

    /// The session cookie (or the removal cookie) this release calls for.
    async fn send_cookies(
        &self,
        current: &Current,
        store: &dyn Store,
        released: Released,
        response: &mut HeaderMap,
    ) -> Result<()> {
        let manager = &self.inner.manager;
        let moved = current.move_to.is_some();
        let expires = match released {
            Released::Gone => return Ok(()),
            Released::NotStored => {
                if current.destroyed {
                    manager.send_removal_cookie(response);
                }
                return Ok(());
            }
            Released::Kept { expires } => {
                if !(moved || current.expiry_changed) {
                    return Ok(());
                }
                expires
            }
            Released::Stored { expires } => Some(expires),
        };
        // An id from the URL query never becomes a cookie (session fixation by link).
        if current.source == IdSource::Query && !moved {
            return Ok(());
        }
        let meta = store.meta().await?;
        let lifetimes = manager.lifetimes();
        let remaining = match expires {
            Some(at) => at.duration_since(SystemTime::now()).unwrap_or_default(),
            None => lifetimes.of(meta.created, meta.expiry).ttl(),
        };
        let max_age = lifetimes.cookie_max_age(meta.expiry, remaining);
        let first = !current.stored || moved || current.expiry_changed;
        if first || max_age.is_some() {
            manager.send_session_cookie(response, store.session_id(), max_age);
        }
        Ok(())
    }
}

/// Replays `changes` onto `store` through its methods.
async fn replay(changes: &crate::ChangeSet, store: &dyn Store) -> Result<()> {
    if changes.cleared() {
        store.flush().await?;
    }
    for (key, change) in changes.iter() {
        match change {
            crate::Change::Set(value) => store.set_raw(key, value.clone()).await?,
            crate::Change::Delete => store.delete(key).await?,
        }
    }
    if let Some(expiry) = changes.expiry() {
        store.set_expiry(expiry).await?;
    }
    Ok(())
}

/// Copies every value and the expiry of `from` into `to`.
async fn copy_view(from: &dyn Store, to: &dyn Store) -> Result<()> {
    for key in from.keys().await? {
        if let Some(value) = from.get_raw(&key).await? {
            to.set_raw(&key, value).await?;
        }
    }
    if let Some(expiry) = from.meta().await?.expiry {
        to.set_expiry(Some(expiry)).await?;
    }
    Ok(())
}
