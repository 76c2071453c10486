//! [`Store`]: one session, beego's `Store` interface in Rust.

use async_trait::async_trait;
use http::HeaderMap;
use serde::{de::DeserializeOwned, Serialize};

use crate::data::{decode_value, encode_value};
use crate::error::Result;

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

    /// Writes what changed back to the engine, creating the session if it is not stored yet.
    ///
    /// `response` receives any header the engine itself needs to send (the cookie engine's
    /// data cookie); the session-id cookie is the [`Manager`](crate::Manager)'s job.
    async fn session_release(&self, response: &mut HeaderMap) -> Result<()>;

    /// Like [`session_release`](Self::session_release), but never re-creates a session that
    /// is no longer stored (destroyed or expired meanwhile): a logout stays a logout.
    async fn session_release_if_present(&self, response: &mut HeaderMap) -> Result<()>;
}

/// Typed access to any [`Store`], values encoded as MessagePack.
#[async_trait]
pub trait StoreExt: Store {
    /// The value under `key` decoded as `T`; `Ok(None)` when absent.
    ///
    /// A stored value of another type is an [`Error::Decode`](crate::Error::Decode) for this
    /// call only; the session is unchanged.
    async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        match self.get_raw(key).await? {
            Some(raw) => decode_value(key, &raw).map(Some),
            None => Ok(None),
        }
    }

    /// Sets `key` to `value`.
    async fn set<T: Serialize + Sync + ?Sized>(&self, key: &str, value: &T) -> Result<()> {
        let raw = encode_value(key, value)?;
        self.set_raw(key, raw).await
    }
}

impl<S: Store + ?Sized> StoreExt for S {}
