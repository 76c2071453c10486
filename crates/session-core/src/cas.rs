//! Merging a request's changes into a backend that can write conditionally (SQL
//! `UPDATE … WHERE data = <what was read>`, a CAS token, a version column), with no lock
//! held between the read and the write.
//!
//! An engine implements [`ConditionalStore`] (three small primitives) and hands its
//! [`Write::Changes`](crate::Write::Changes) releases to [`write_changes`]: the write succeeds
//! only if the stored session is unchanged since it was read; otherwise the latest state is
//! read again, the request's [`ChangeSet`] is replayed onto it, and the write is retried.
//! Two requests changing different keys of one session therefore both keep their changes.
//!
//! From the second retry on, each retry first waits a random, growing pause (at most
//! 25 ms), so that many requests writing one session at once (a hundred, say) spread out
//! instead of colliding in lockstep until the attempts run out.

use std::time::Duration;

use async_trait::async_trait;

use crate::changes::ChangeSet;
use crate::data::SessionData;
use crate::error::{Error, Result};
use crate::expiry::{Lifetime, Lifetimes};
use crate::id::Fingerprint;
use crate::tracked::lifetime_of;

/// How often [`write_changes`] re-reads and retries before it reports a conflict. Every
/// round one of the competing writers wins, so this only runs out under heavy contention
/// on a single session.
pub const MAX_ATTEMPTS: usize = 32;

/// The primitives of a backend that can replace a session only if it is unchanged.
#[async_trait]
pub trait ConditionalStore: Send + Sync {
    /// What identifies one stored state of a session (the bytes read, a CAS value, …).
    type Version: Send + Sync;

    /// The live (unexpired) stored session `sid` and its version; `None` when it is not
    /// stored or has expired.
    async fn fetch(&self, sid: &str) -> Result<Option<(SessionData, Self::Version)>>;

    /// Stores `data` as a new session `sid` living `lifetime` (replacing an expired
    /// leftover). Returns `false`, writing nothing, when a live session `sid` exists.
    async fn create(&self, sid: &str, data: &SessionData, lifetime: &Lifetime) -> Result<bool>;

    /// Replaces the live session `sid` with `data` and gives it `lifetime`, but only if
    /// its stored state is still `expected`. Returns `false`, writing nothing, otherwise
    /// (changed meanwhile, expired or gone).
    async fn replace(
        &self,
        sid: &str,
        expected: &Self::Version,
        data: &SessionData,
        lifetime: &Lifetime,
    ) -> Result<bool>;
}

/// What [`write_changes`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merged {
    /// The session was written (created, or updated with the changes merged in).
    Written {
        /// How many conditional writes lost a race before this one won.
        conflicts: usize,
        /// The lifetime the written state was given (that of the merged result, whose
        /// expiry another request may have set).
        lifetime: Lifetime,
    },
    /// The session is no longer stored and `only_if_present` forbade re-creating it.
    Gone,
}

/// One release's changes, as [`write_changes`] merges them.
#[derive(Debug)]
pub struct Merge<'a, V> {
    /// The engine's registered name, for errors and logs.
    pub engine: &'static str,
    /// The session id.
    pub sid: &'a str,
    /// What the request changed, replayed onto the latest state on a conflict.
    pub changes: &'a ChangeSet,
    /// The version the request read; `None` for a session new in this request.
    pub loaded: Option<&'a V>,
    /// The session as the request sees it (what was read plus `changes`), written whole
    /// when the session is created.
    pub data: &'a SessionData,
    /// Never create the session (a logout stays a logout).
    pub only_if_present: bool,
    /// The manager's rules, from which each written state gets its lifetime.
    pub lifetimes: &'a Lifetimes,
}

/// Writes a release's changes to `store`.
///
/// The common case costs one call: `replace` (or `create`) with `data`. On a conflict the
/// latest state is fetched, `changes` are replayed onto it and the write is tried again.
pub async fn write_changes<S: ConditionalStore + ?Sized>(
    store: &S,
    merge: Merge<'_, S::Version>,
) -> Result<Merged> {
    let Merge {
        engine,
        sid,
        changes,
        loaded,
        data,
        only_if_present,
        lifetimes,
    } = merge;
    let lifetime = lifetime_of(lifetimes, data);
    let first = match loaded {
        Some(version) => store.replace(sid, version, data, &lifetime).await?,
        None if only_if_present => return Ok(Merged::Gone),
        None => store.create(sid, data, &lifetime).await?,
    };
    if first {
        return Ok(Merged::Written {
            conflicts: 0,
            lifetime,
        });
    }
    for conflicts in 1..MAX_ATTEMPTS {
        back_off(conflicts).await;
        let (written, lifetime) = match store.fetch(sid).await? {
            Some((mut latest, version)) => {
                changes.apply_to(&mut latest);
                let lifetime = lifetime_of(lifetimes, &latest);
                (
                    store.replace(sid, &version, &latest, &lifetime).await?,
                    lifetime,
                )
            }
            None if only_if_present => return Ok(Merged::Gone),
            None => (store.create(sid, data, &lifetime).await?, lifetime),
        };
        if written {
            let session = Fingerprint::of(sid);
            tracing::debug!(engine, %session, conflicts, "merged changes after concurrent writes");
            return Ok(Merged::Written {
                conflicts,
                lifetime,
            });
        }
    }
    Err(Error::backend(
        engine,
        "write session",
        format!(
            "session {} kept changing; gave up after {MAX_ATTEMPTS} conditional writes",
            Fingerprint::of(sid)
        ),
    ))
}

/// The longest pause [`back_off`] makes before the second retry; it doubles with each
/// further conflict, up to [`MAX_BACKOFF`].
const BACKOFF_BASE: Duration = Duration::from_micros(200);

/// The longest pause between two retries.
const MAX_BACKOFF: Duration = Duration::from_millis(25);

/// Pauses before retry number `conflicts`: not at all before the first (two requests
/// racing cost nothing extra), then for a random time of up to `BACKOFF_BASE × 2^(n-2)`
/// (at most [`MAX_BACKOFF`]), so that many writers on one session stop colliding in
/// lockstep: without it, of a hundred requests retrying together one wins each round and
/// the last needs a hundred rounds.
async fn back_off(conflicts: usize) {
    if conflicts < 2 {
        return;
    }
    let doublings = u32::try_from(conflicts - 2).unwrap_or(u32::MAX).min(16);
    let ceiling = BACKOFF_BASE.saturating_mul(1 << doublings).min(MAX_BACKOFF);
    let fraction = f64::from(getrandom::u32().unwrap_or(u32::MAX / 2)) / f64::from(u32::MAX);
    tokio::time::sleep(ceiling.mul_f64(fraction)).await;
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::*;

    /// An in-memory backend whose versions are counters; `race` makes the next
    /// `replace` lose against a simulated concurrent write first.
    #[derive(Default)]
    struct Fake {
        rows: Mutex<HashMap<String, (SessionData, u64)>>,
        race: Mutex<Vec<(String, Vec<u8>)>>,
    }

    #[async_trait]
    impl ConditionalStore for Fake {
        type Version = u64;

        async fn fetch(&self, sid: &str) -> Result<Option<(SessionData, u64)>> {
            Ok(self.rows.lock().unwrap().get(sid).cloned())
        }

        async fn create(&self, sid: &str, data: &SessionData, _: &Lifetime) -> Result<bool> {
            let mut rows = self.rows.lock().unwrap();
            if rows.contains_key(sid) {
                return Ok(false);
            }
            rows.insert(sid.to_owned(), (data.clone(), 1));
            Ok(true)
        }

        async fn replace(
            &self,
            sid: &str,
            expected: &u64,
            data: &SessionData,
            _: &Lifetime,
        ) -> Result<bool> {
            let mut rows = self.rows.lock().unwrap();
            if let Some((key, value)) = self.race.lock().unwrap().pop() {
                if let Some(row) = rows.get_mut(sid) {
                    row.0.insert(key, value);
                    row.1 += 1;
                }
            }
            match rows.get_mut(sid) {
                Some(row) if row.1 == *expected => {
                    *row = (data.clone(), row.1 + 1);
                    Ok(true)
                }
                _ => Ok(false),
            }
        }
    }

    const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);
    const RULES: Lifetimes = Lifetimes {
        max_lifetime: HOUR,
        absolute: None,
        cookie_life_time: None,
    };
    const LIFE: Lifetime = Lifetime {
        idle: Some(HOUR),
        until: None,
    };

    fn merge<'a>(
        changes: &'a ChangeSet,
        loaded: Option<&'a u64>,
        data: &'a SessionData,
        only_if_present: bool,
    ) -> Merge<'a, u64> {
        Merge {
            engine: "fake",
            sid: "s",
            changes,
            loaded,
            data,
            only_if_present,
            lifetimes: &RULES,
        }
    }

    fn one(key: &str, value: u8) -> SessionData {
        [(key.to_owned(), vec![value])].into_iter().collect()
    }

    #[tokio::test]
    async fn a_lost_race_is_merged_not_overwritten() {
        let fake = Fake::default();
        fake.create("s", &one("a", 1), &LIFE).await.unwrap();
        fake.race.lock().unwrap().push(("theirs".into(), vec![9]));
        let mut changes = ChangeSet::new();
        changes.set("mine", vec![2]);
        let mut view = one("a", 1);
        changes.apply_to(&mut view);
        let out = write_changes(&fake, merge(&changes, Some(&1), &view, false))
            .await
            .unwrap();
        assert!(
            matches!(out, Merged::Written { conflicts: 1, .. }),
            "{out:?}"
        );
        let (stored, _) = fake.fetch("s").await.unwrap().unwrap();
        assert_eq!(stored.get("theirs"), Some(&[9u8][..]));
        assert_eq!(stored.get("mine"), Some(&[2u8][..]));
        assert_eq!(stored.get("a"), Some(&[1u8][..]));
    }

    /// [`Fake`] with a network's latency before every call, so that concurrent writers
    /// really overlap.
    #[derive(Default)]
    struct Slow(Fake);

    #[async_trait]
    impl ConditionalStore for Slow {
        type Version = u64;

        async fn fetch(&self, sid: &str) -> Result<Option<(SessionData, u64)>> {
            tokio::time::sleep(Duration::from_micros(200)).await;
            self.0.fetch(sid).await
        }

        async fn create(&self, sid: &str, data: &SessionData, life: &Lifetime) -> Result<bool> {
            tokio::time::sleep(Duration::from_micros(200)).await;
            self.0.create(sid, data, life).await
        }

        async fn replace(
            &self,
            sid: &str,
            expected: &u64,
            data: &SessionData,
            life: &Lifetime,
        ) -> Result<bool> {
            tokio::time::sleep(Duration::from_micros(200)).await;
            self.0.replace(sid, expected, data, life).await
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hundred_writers_that_all_read_the_same_version_all_get_through() {
        let slow = std::sync::Arc::new(Slow::default());
        slow.create("s", &one("a", 1), &LIFE).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..100u8 {
            let slow = std::sync::Arc::clone(&slow);
            tasks.push(tokio::spawn(async move {
                let mut changes = ChangeSet::new();
                changes.set(&format!("w{i}"), vec![i]);
                let mut view = one("a", 1);
                changes.apply_to(&mut view);
                write_changes(&*slow, merge(&changes, Some(&1), &view, false)).await
            }));
        }
        for task in tasks {
            let out = task.await.unwrap().unwrap();
            assert!(matches!(out, Merged::Written { .. }), "{out:?}");
        }
        let (stored, version) = slow.fetch("s").await.unwrap().unwrap();
        assert_eq!(version, 101);
        for i in 0..100u8 {
            assert_eq!(stored.get(&format!("w{i}")), Some(&[i][..]), "w{i} lost");
        }
    }

    #[tokio::test]
    async fn back_off_grows_and_stays_bounded() {
        let started = tokio::time::Instant::now();
        back_off(1).await;
        assert!(
            started.elapsed() < Duration::from_millis(1),
            "the first retry waited"
        );
        for conflicts in [2, 10, 31, usize::MAX] {
            let started = tokio::time::Instant::now();
            back_off(conflicts).await;
            assert!(started.elapsed() <= MAX_BACKOFF + Duration::from_millis(20));
        }
    }

    #[tokio::test]
    async fn only_if_present_never_recreates() {
        let fake = Fake::default();
        let mut changes = ChangeSet::new();
        changes.set("k", vec![1]);
        let data = one("k", 1);
        let out = write_changes(&fake, merge(&changes, Some(&3), &data, true))
            .await
            .unwrap();
        assert_eq!(out, Merged::Gone);
        assert!(fake.fetch("s").await.unwrap().is_none());
        let out = write_changes(&fake, merge(&changes, Some(&3), &data, false))
            .await
            .unwrap();
        assert!(
            matches!(out, Merged::Written { conflicts: 1, .. }),
            "{out:?}"
        );
    }
}
