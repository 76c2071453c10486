//! [`Store`]: one session, beego's `Store` interface in Rust.

use std::time::SystemTime;

use async_trait::async_trait;
use http::HeaderMap;
use serde::{de::DeserializeOwned, Serialize};

use crate::changes::ChangeSet;
use crate::data::{decode_value, encode_value, SessionMeta};
use crate::error::{Error, Result};
use crate::expiry::Expiry;

/// What a release did, so the manager knows which cookie to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Released {
    /// Nothing is stored: a new session that holds no data (it costs nothing), or a new
    /// one that [`session_release_if_present`](Store::session_release_if_present) may not
    /// create.
    NotStored,
    /// The session is stored and nothing was written: it was unchanged and its expiry
    /// refresh was not due. `expires` is when the stored record ends, where known.
    Kept {
        /// The stored record's end, where the engine knows it.
        expires: Option<SystemTime>,
    },
    /// The session was written, or its expiry refreshed: the stored record ends at
    /// `expires`.
    Stored {
        /// The stored record's new end.
        expires: SystemTime,
    },
    /// The session is no longer stored (destroyed or expired meanwhile) and
    /// [`session_release_if_present`](Store::session_release_if_present) did not
    /// re-create it. The response must not send a cookie for it.
    Gone,
}

/// One session: its id and values, and how it is written back.
///
/// The trait is object safe and works on encoded bytes; the typed
/// [`get`](StoreExt::get) / [`set`](StoreExt::set) come from [`StoreExt`], implemented for
/// every store. Engines rarely implement `Store` themselves: [`TrackedStore`](crate::TrackedStore)
/// does the value map and change tracking and calls the engine's
/// [`Persist`](crate::Persist) hook at release.
#[async_trait]
pub trait Store: Send + Sync {
    /// The session id.
    fn session_id(&self) -> &str;

    /// The encoded (MessagePack) value under `key`.
    async fn get_raw(&self, key: &str) -> Result<Option<Vec<u8>>>;

    /// Sets `key` to an encoded (MessagePack) value.
    async fn set_raw(&self, key: &str, value: Vec<u8>) -> Result<()>;

    /// Removes `key`.
    async fn delete(&self, key: &str) -> Result<()>;

    /// Removes every key.
    async fn flush(&self) -> Result<()>;

    /// The keys the session holds, in no particular order.
    async fn keys(&self) -> Result<Vec<String>>;

    /// Reads the value under `key` without awaiting, where the store keeps its values in
    /// memory ([`TrackedStore`](crate::TrackedStore) does): calls `read` with it (borrowed,
    /// nothing copied) and returns true. The default returns false, and callers await
    /// [`get_raw`](Self::get_raw) instead.
    fn read_now(&self, key: &str, read: &mut dyn FnMut(Option<&[u8]>)) -> bool {
        let _ = (key, read);
        false
    }

    /// Sets `key` without awaiting, where the store keeps its values in memory; gives
    /// `value` back when it cannot (the default), and callers await
    /// [`set_raw`](Self::set_raw) instead.
    fn set_now(&self, key: &str, value: Vec<u8>) -> std::result::Result<(), Vec<u8>> {
        let _ = key;
        Err(value)
    }

    /// The session's creation time and own expiry. The default (for stores that keep
    /// neither) reports both unknown.
    async fn meta(&self) -> Result<SessionMeta> {
        Ok(SessionMeta::default())
    }

    /// Gives the session its own expiry (`None`: back to the manager's default); stored at
    /// release like any change. The default refuses: the store keeps no expiry.
    async fn set_expiry(&self, expiry: Option<Expiry>) -> Result<()> {
        let _ = expiry;
        Err(Error::Unsupported {
            engine: "custom store".into(),
            what: "a per-session expiry",
        })
    }

    /// What this request changed, for replaying onto another copy of the session (the
    /// manager moves a regenerated session's changes to its new id with it). The default,
    /// for stores that do not track changes, is the whole view: a flush, then every key.
    async fn changes(&self) -> Result<ChangeSet> {
        let mut changes = ChangeSet::new();
        changes.clear();
        for key in self.keys().await? {
            if let Some(value) = self.get_raw(&key).await? {
                changes.set(&key, value);
            }
        }
        Ok(changes)
    }

    /// Writes what changed back to the engine, creating the session if it is not stored yet.
    ///
    /// `response` receives any header the engine itself needs to send (the cookie engine's
    /// data cookie); the session-id cookie is the [`Manager`](crate::Manager)'s job, and
    /// the returned [`Released`] tells it what to send.
    async fn session_release(&self, response: &mut HeaderMap) -> Result<Released>;

    /// Like [`session_release`](Self::session_release), but never re-creates a session that
    /// is no longer stored (destroyed or expired meanwhile): a logout stays a logout.
    async fn session_release_if_present(&self, response: &mut HeaderMap) -> Result<Released>;
}

/// Typed access to any [`Store`], values encoded as MessagePack.
///
/// (Plain `async fn`s, not `async_trait` ones: typed access adds no allocation of its own
/// to the store's call.)
pub trait StoreExt: Store {
    /// The value under `key` decoded as `T`; `Ok(None)` when absent.
    ///
    /// A stored value of another type is an [`Error::Decode`](crate::Error::Decode) for this
    /// call only; the session is unchanged.
    fn get<T: DeserializeOwned + Send>(
        &self,
        key: &str,
    ) -> impl std::future::Future<Output = Result<Option<T>>> + Send {
        let mut now = None;
        let found = self.read_now(key, &mut |raw| {
            now = Some(raw.map(|raw| decode_value(key, raw)).transpose());
        });
        async move {
            if let (true, Some(decoded)) = (found, now) {
                return decoded;
            }
            match self.get_raw(key).await? {
                Some(raw) => decode_value(key, &raw).map(Some),
                None => Ok(None),
            }
        }
    }

    /// Sets `key` to `value`.
    fn set<T: Serialize + Sync + ?Sized>(
        &self,
        key: &str,
        value: &T,
    ) -> impl std::future::Future<Output = Result<()>> + Send {
        let pending = encode_value(key, value).map(|raw| self.set_now(key, raw));
        async move {
            match pending? {
                Ok(()) => Ok(()),
                Err(raw) => self.set_raw(key, raw).await,
            }
        }
    }
}

impl<S: Store + ?Sized> StoreExt for S {}
