//! [`Session`]: the handle a request works with, tying a [`Store`] to its manager's cookie
//! and id rules.

use std::sync::{Arc, Mutex, MutexGuard};

use http::HeaderMap;
use serde::{de::DeserializeOwned, Serialize};

use crate::context::Context;
use crate::error::Result;
use crate::manager::Manager;
use crate::store::{Store, StoreExt};

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
    /// The session was in storage when loaded (or after its last release).
    stored: bool,
    /// The id changed in this request (regenerate), so the cookie must be sent again.
    id_changed: bool,
    /// A session was destroyed in this request: unless a new one gets data, the browser is
    /// told to forget the cookie.
    destroyed: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

impl Session {
    pub(crate) fn new(manager: Manager, store: Arc<dyn Store>, stored: bool) -> Self {
        Session {
            inner: Arc::new(Inner {
                manager,
                current: Mutex::new(Current {
                    store,
                    stored,
                    id_changed: false,
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

    /// The underlying store (replaced by [`regenerate`](Self::regenerate) and
    /// [`destroy`](Self::destroy)).
    pub fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.lock().store)
    }

    /// The manager this session belongs to.
    pub fn manager(&self) -> &Manager {
        &self.inner.manager
    }

    /// The session id.
    pub fn id(&self) -> String {
        self.lock().store.session_id().to_owned()
    }

    /// True when the session is not stored yet (a first visit, or after regenerate/destroy).
    pub fn is_new(&self) -> bool {
        !self.lock().stored
    }

    /// The value under `key` decoded as `T` (beego's `GetSession`); `Ok(None)` when absent.
    /// A value of another type is an error for this call only.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
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

    /// Moves the session to a fresh id, keeping its data and any change not yet released,
    /// and removes the old id (beego's `SessionRegenerateID`; call it on login). The new
    /// cookie goes out at [`release`](Self::release).
    pub async fn regenerate(&self) -> Result<()> {
        let manager = &self.inner.manager;
        let cx = Context::detached();
        let old = self.lock().clone();
        let new = manager.new_store(&cx).await?;
        for key in old.store.keys().await? {
            if let Some(value) = old.store.get_raw(&key).await? {
                new.set_raw(&key, value).await?;
            }
        }
        if old.stored {
            manager
                .provider()
                .session_destroy(&cx, old.store.session_id())
                .await?;
        }
        *self.lock() = Current {
            store: new,
            stored: false,
            id_changed: true,
            destroyed: old.destroyed,
        };
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
            id_changed: false,
            destroyed: true,
        };
        Ok(())
    }

    /// Writes what changed (a new session only if it holds data; an unchanged one only has
    /// its lifetime refreshed) and adds the cookie headers the response needs.
    pub async fn release(&self, response: &mut HeaderMap) -> Result<()> {
        self.release_with(response, false).await
    }

    /// Like [`release`](Self::release), but never re-creates a session that was destroyed
    /// or expired meanwhile (beego #5681: a logout undone by a concurrent request).
    pub async fn release_if_present(&self, response: &mut HeaderMap) -> Result<()> {
        self.release_with(response, true).await
    }

    async fn release_with(&self, response: &mut HeaderMap, only_if_present: bool) -> Result<()> {
        let manager = &self.inner.manager;
        let current = self.lock().clone();
        let has_data = !current.store.keys().await?.is_empty();
        if only_if_present {
            current.store.session_release_if_present(response).await?;
        } else {
            current.store.session_release(response).await?;
        }
        let stored = current.stored || (has_data && !only_if_present);
        let sid = current.store.session_id();
        if stored {
            let refresh = manager.config().cookie_life_time > 0;
            if !current.stored || current.id_changed || refresh {
                manager.send_session_cookie(response, sid);
            }
        } else if current.destroyed {
            manager.send_removal_cookie(response);
        }
        let mut now = self.lock();
        if Arc::ptr_eq(&now.store, &current.store) {
            now.stored = stored;
            now.id_changed = false;
            now.destroyed = false;
        }
        Ok(())
    }
}
