//! [`Backend`]: the engine's scripts and commands on its connections, as a [`RowBackend`].

use deadpool_redis::redis::{cmd, Value};
use session_core::row::{LoadedRow, RowBackend};
use session_core::{
    async_trait, Capabilities, ChangeSet, Lifetime, Lifetimes, Result, SessionData,
};

use crate::conn::{Op, Redis};
use crate::layout::Keys;
use crate::{count, read, write};

/// One provider's sessions: where they are (connections, key prefix) and the manager's
/// lifetime rules.
#[derive(Debug)]
pub struct Backend {
    pub(crate) redis: Redis,
    pub(crate) keys: Keys,
    pub(crate) lifetimes: Lifetimes,
}

/// The version of a stored session is its write counter (`#n`), which every write
/// increments; only [`replace`](RowBackend::replace) compares it, since changes are merged
/// on the server ([`merge`](RowBackend::merge)) and never need a compare-and-set.
#[async_trait]
impl RowBackend for Backend {
    /// The family's name (each topology's errors use its own registered name).
    const ENGINE: &'static str = "redis";
    /// Redis expires keys itself: there is nothing to collect.
    const GC_BATCH: u64 = 1;
    type Version = u64;

    fn lifetimes(&self) -> &Lifetimes {
        &self.lifetimes
    }

    async fn load(&self, sid: &str) -> Result<Option<LoadedRow<u64>>> {
        read::load(self, sid).await
    }

    async fn fetch(&self, sid: &str) -> Result<Option<(SessionData, u64)>> {
        Ok(read::load(self, sid)
            .await?
            .map(|row| (row.data, row.version)))
    }

    async fn create(&self, sid: &str, bytes: &[u8], lifetime: &Lifetime) -> Result<bool> {
        let data = SessionData::decode_stored(bytes, self.redis.engine(), sid)?;
        write::create(self, sid, &data, lifetime).await
    }

    async fn replace(
        &self,
        sid: &str,
        expected: &u64,
        bytes: &[u8],
        lifetime: &Lifetime,
    ) -> Result<bool> {
        let data = SessionData::decode_stored(bytes, self.redis.engine(), sid)?;
        write::replace(self, sid, *expected, &data, lifetime).await
    }

    async fn touch(&self, sid: &str, lifetime: &Lifetime) -> Result<bool> {
        write::touch(self, sid, lifetime).await
    }

    async fn rename(&self, old_sid: &str, sid: &str) -> Result<Option<LoadedRow<u64>>> {
        write::rename(self, old_sid, sid).await
    }

    async fn exists(&self, sid: &str) -> Result<bool> {
        let mut exists = cmd("EXISTS");
        exists.arg(self.keys.session(sid));
        let reply = self
            .redis
            .run("check session", Op::Command(&exists))
            .await?;
        Ok(matches!(reply, Value::Int(1)))
    }

    async fn destroy(&self, sid: &str) -> Result<()> {
        write::destroy(self, sid).await
    }

    async fn count_live(&self) -> Result<usize> {
        count::count_live(self).await
    }

    async fn delete_expired(&self) -> Result<u64> {
        Ok(0)
    }

    async fn merge(
        &self,
        sid: &str,
        changes: &ChangeSet,
        data: &SessionData,
        lifetime: &Lifetime,
        only_if_present: bool,
    ) -> Result<Option<bool>> {
        write::merge(self, sid, changes, data, lifetime, only_if_present)
            .await
            .map(Some)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::NONE.merging().counting().native_expiry()
    }
}
