//! [`Backend`]: the engine's meta-protocol commands, as a [`RowBackend`].
//!
//! | method | commands |
//! |---|---|
//! | `load` | `mg <key> v c t` (value, CAS, seconds left) |
//! | `fetch` | `mg <key> v c` |
//! | `create` | `ms <key> T<ttl> ME` (add: only if absent) |
//! | `replace` | `ms <key> T<ttl> C<cas>` (only if unchanged) |
//! | `touch` | `mg <key> T<ttl>` (no value) |
//! | `rename` | `mg <old> v c t`, `ms <new> T<left> ME`, `md <old> C<cas>` |
//! | `exists` | `mg <key>` (no value) |
//! | `destroy` | `md <key>` |

use std::time::Duration;

use memcache::exp::{Delete, Get, GetResult, Meta, MutationStatus, Set, Ttl as WireTtl};
use session_core::id::{is_safe_id, Fingerprint};
use session_core::row::{LoadedRow, RowBackend, Ttl};
use session_core::{async_trait, lifetime_of, Error, Lifetime, Lifetimes, Result, SessionData};

use crate::client::Servers;
use crate::config::MemcacheConfig;
use crate::ENGINE;

/// How often a move re-copies a session that a concurrent request changed meanwhile before
/// it gives up.
const MOVE_ATTEMPTS: usize = 8;

/// The commands of one provider on its servers.
#[derive(Debug)]
pub struct Backend {
    pub(crate) servers: Servers,
    pub(crate) config: MemcacheConfig,
    pub(crate) lifetimes: Lifetimes,
}

/// What memcached stores as a record's expiry: whole seconds, rounded up, at least one
/// (memcached reads 0 as "never"); beyond 30 days the crate sends the absolute Unix time,
/// since memcached reads a relative value that large as one (beego's sessions of over 30
/// days expired at once).
fn expiry(lifetime: &Lifetime) -> WireTtl {
    WireTtl::from(lifetime.ttl().max(Duration::from_secs(1)))
}

/// A live record read with `mg … v c t`.
struct Found {
    bytes: Vec<u8>,
    cas: u64,
    /// Seconds left, as the server counts them (`None`: the item never expires).
    left: Option<u64>,
}

impl Found {
    fn of(action: &'static str, result: GetResult) -> Result<Option<Found>> {
        if !result.hit() {
            return Ok(None);
        }
        let cas = result
            .item
            .cas
            .ok_or_else(|| Error::backend(ENGINE, action, "the server sent no CAS value"))?;
        Ok(Some(Found {
            bytes: result.value.unwrap_or_default(),
            cas,
            left: result.item.ttl.and_then(|t| u64::try_from(t).ok()),
        }))
    }

    /// How long the record has left: an item without an expiry (written by someone else)
    /// is due for a refresh at once, which gives it one.
    fn ttl(&self) -> Ttl {
        Ttl::Left(self.left.map_or(Duration::ZERO, Duration::from_secs))
    }
}

impl Backend {
    /// The memcached key of session `sid`: the configured prefix and the id. Ids are
    /// validated by the manager already; one that is not safe (a direct provider call)
    /// never reaches the server.
    fn key(&self, sid: &str) -> Result<Vec<u8>> {
        if !is_safe_id(sid) {
            return Err(Error::invalid_id(sid));
        }
        let mut key = Vec::with_capacity(self.config.key_prefix.len() + sid.len());
        key.extend_from_slice(self.config.key_prefix.as_bytes());
        key.extend_from_slice(sid.as_bytes());
        Ok(key)
    }

    /// [`Error::TooLarge`] when `bytes` under `key` would not fit the item size limit.
    fn check_size(&self, sid: &str, key: &[u8], bytes: &[u8]) -> Result<()> {
        let limit = self.config.max_value_size(key.len());
        if bytes.len() > limit {
            return Err(Error::TooLarge {
                engine: ENGINE.into(),
                session: Fingerprint::of(sid),
                size: bytes.len(),
                limit,
            });
        }
        Ok(())
    }

    async fn read(&self, action: &'static str, key: &[u8], meta: Meta) -> Result<Option<Found>> {
        let get = Get::new(key).meta(meta);
        Found::of(action, self.servers.run(action, key, get).await?)
    }

    fn decode(&self, sid: &str, found: &Found) -> Result<SessionData> {
        SessionData::decode_stored(&found.bytes, ENGINE, sid)
    }

    /// Runs `set` (asking for the new CAS): the written item's CAS, `None` when the set's
    /// condition failed (the item exists for an add, changed or gone for a CAS write).
    async fn store(&self, action: &'static str, key: &[u8], set: Set) -> Result<Option<u64>> {
        let written = self.servers.run(action, key, set.return_cas()).await?;
        if !written.applied() {
            return Ok(None);
        }
        let cas = written.cas;
        cas.map(Some)
            .ok_or_else(|| Error::backend(ENGINE, action, "the server sent no CAS value"))
    }

    /// The expiry a moved record keeps: the time it had left, or, for an item that never
    /// expires (not written by this engine), its session's lifetime.
    fn kept(&self, found: &Found, data: &SessionData) -> WireTtl {
        match found.left {
            Some(left) => WireTtl::secs(u32::try_from(left.max(1)).unwrap_or(u32::MAX)),
            None => expiry(&lifetime_of(&self.lifetimes, data)),
        }
    }

    async fn delete(
        &self,
        action: &'static str,
        key: &[u8],
        cas: Option<u64>,
    ) -> Result<MutationStatus> {
        let mut delete = Delete::new(key);
        if let Some(cas) = cas {
            delete = delete.compare_cas(cas);
        }
        Ok(self.servers.run(action, key, delete).await?.status)
    }
}

/// The version of a stored session is its CAS value.
#[async_trait]
impl RowBackend for Backend {
    const ENGINE: &'static str = ENGINE;
    /// Checked by the backend itself against the configured item size limit.
    const MAX_DATA_SIZE: Option<usize> = None;
    const GC_BATCH: u64 = 1;
    type Version = u64;

    fn lifetimes(&self) -> &Lifetimes {
        &self.lifetimes
    }

    /// One `mg` with the value, the CAS and the seconds left. It cannot refresh the
    /// expiry in the same call: the lifetime of a session is stored inside it (its own
    /// [`Expiry`](session_core::Expiry)), known only once read, and a blind `T` would
    /// shorten a "remember me" session or stretch one past its fixed end. Release
    /// touches it when more than 1 % of its inactivity limit is used.
    async fn load(&self, sid: &str) -> Result<Option<LoadedRow<u64>>> {
        let key = self.key(sid)?;
        let Some(found) = self
            .read("read session", &key, Meta::NONE.cas().ttl())
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(LoadedRow {
            data: self.decode(sid, &found)?,
            version: found.cas,
            ttl: found.ttl(),
        }))
    }

    async fn fetch(&self, sid: &str) -> Result<Option<(SessionData, u64)>> {
        let key = self.key(sid)?;
        match self.read("read session", &key, Meta::NONE.cas()).await? {
            Some(found) => Ok(Some((self.decode(sid, &found)?, found.cas))),
            None => Ok(None),
        }
    }

    async fn create(&self, sid: &str, bytes: &[u8], lifetime: &Lifetime) -> Result<bool> {
        let key = self.key(sid)?;
        self.check_size(sid, &key, bytes)?;
        let set = Set::new(&key, bytes).ttl(expiry(lifetime)).add();
        let written = self.servers.run("create session", &key, set).await?;
        Ok(written.applied())
    }

    async fn replace(
        &self,
        sid: &str,
        expected: &u64,
        bytes: &[u8],
        lifetime: &Lifetime,
    ) -> Result<bool> {
        let key = self.key(sid)?;
        self.check_size(sid, &key, bytes)?;
        let set = Set::new(&key, bytes)
            .ttl(expiry(lifetime))
            .compare_cas(*expected);
        let written = self.servers.run("write session", &key, set).await?;
        Ok(written.applied())
    }

    async fn touch(&self, sid: &str, lifetime: &Lifetime) -> Result<bool> {
        let key = self.key(sid)?;
        let get = Get::new(&key).without_value().touch(expiry(lifetime));
        Ok(self.servers.run("refresh session", &key, get).await?.hit())
    }

    /// memcached has no rename, and the two ids may live on different servers: the session
    /// is copied to the new id with the time it has left, then the old id is deleted only
    /// if unchanged since it was read. A request that changed the old id meanwhile has its
    /// state copied again; one that destroyed it wins (the copy is deleted, `None`). For a
    /// moment both ids are live; never neither. Three commands when nothing interferes.
    async fn rename(&self, old_sid: &str, sid: &str) -> Result<Option<LoadedRow<u64>>> {
        let action = "regenerate session";
        let (old_key, key) = (self.key(old_sid)?, self.key(sid)?);
        let meta = Meta::NONE.cas().ttl();
        let Some(mut found) = self.read(action, &old_key, meta).await? else {
            return Ok(None);
        };
        let mut data = self.decode(old_sid, &found)?;
        let copy = Set::new(&key, &found.bytes)
            .ttl(self.kept(&found, &data))
            .add();
        let Some(mut cas) = self.store(action, &key, copy).await? else {
            return Err(Error::backend(
                ENGINE,
                action,
                "the new session id is taken",
            ));
        };
        for _ in 0..MOVE_ATTEMPTS {
            match self.delete(action, &old_key, Some(found.cas)).await {
                Ok(MutationStatus::Applied) => {
                    let ttl = found.ttl();
                    return Ok(Some(LoadedRow {
                        data,
                        version: cas,
                        ttl,
                    }));
                }
                Ok(MutationStatus::CasMismatch) => {}
                // Gone meanwhile (destroyed, expired): so is the copy.
                Ok(_) => return self.undo_copy(&key, None).await,
                Err(error) => return self.undo_copy(&key, Some(error)).await,
            }
            // Changed meanwhile: copy the latest state over the copy, then try again.
            let latest = match self.read(action, &old_key, meta).await {
                Ok(Some(latest)) => latest,
                Ok(None) => return self.undo_copy(&key, None).await,
                Err(error) => return self.undo_copy(&key, Some(error)).await,
            };
            data = match self.decode(old_sid, &latest) {
                Ok(data) => data,
                Err(error) => return self.undo_copy(&key, Some(error)).await,
            };
            let copy = Set::new(&key, &latest.bytes)
                .ttl(self.kept(&latest, &data))
                .compare_cas(cas);
            cas = match self.store(action, &key, copy).await {
                Ok(Some(cas)) => cas,
                Ok(None) => {
                    let why = "the new session id was changed by another request during the move";
                    return self
                        .undo_copy(&key, Some(Error::backend(ENGINE, action, why)))
                        .await;
                }
                Err(error) => return self.undo_copy(&key, Some(error)).await,
            };
            found = latest;
        }
        let why = format!("the session kept changing during the move ({MOVE_ATTEMPTS} attempts)");
        self.undo_copy(&key, Some(Error::backend(ENGINE, action, why)))
            .await
    }

    async fn exists(&self, sid: &str) -> Result<bool> {
        let key = self.key(sid)?;
        let get = Get::new(&key).without_value();
        Ok(self.servers.run("check session", &key, get).await?.hit())
    }

    async fn destroy(&self, sid: &str) -> Result<()> {
        let key = self.key(sid)?;
        self.delete("destroy session", &key, None).await.map(drop)
    }

    async fn count_live(&self) -> Result<usize> {
        Err(Error::Unsupported {
            engine: ENGINE.into(),
            what: "counting sessions: memcached cannot list its keys",
        })
    }

    /// memcached expires items itself.
    async fn delete_expired(&self) -> Result<u64> {
        Ok(0)
    }

    fn capabilities(&self) -> session_core::Capabilities {
        session_core::Capabilities::NONE.merging().native_expiry()
    }
}

impl Backend {
    /// Removes the copy a failed move made, so that only the old id stays live; then
    /// reports `error`, or `None` (the old session is gone) when there is none.
    async fn undo_copy(&self, key: &[u8], error: Option<Error>) -> Result<Option<LoadedRow<u64>>> {
        let undone = self.delete("regenerate session", key, None).await;
        match (error, undone) {
            (Some(error), _) => Err(error),
            (None, Err(error)) => Err(error),
            (None, Ok(_)) => Ok(None),
        }
    }
}
