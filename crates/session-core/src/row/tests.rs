//! [`RowProvider`] on an in-memory backend that logs every call, so each test sees what a
//! request cost and what was stored.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use http::HeaderMap;

use super::*;
use crate::context::Context;
use crate::error::Error;
use crate::expiry::Expiry;
use crate::provider::Provider;
use crate::store::{Released, Store};

const LIFETIME: Duration = Duration::from_secs(100);
const RULES: Lifetimes = Lifetimes {
    max_lifetime: LIFETIME,
    absolute: None,
    cookie_life_time: None,
};

struct Record {
    bytes: Vec<u8>,
    version: u64,
    left: Duration,
}

/// Records with counter versions; `left == 0` means expired. `refreshes_on_load` plays
/// a backend whose read refreshes the expiry itself.
#[derive(Default)]
struct Fake {
    records: Mutex<HashMap<String, Record>>,
    calls: Mutex<Vec<&'static str>>,
    refreshes_on_load: bool,
    /// The next `replace` first loses against a concurrent write of this key and value.
    race: Mutex<Option<(String, Vec<u8>)>>,
}

impl Fake {
    fn call(&self, name: &'static str) {
        self.calls.lock().unwrap().push(name);
    }

    fn calls(&self) -> Vec<&'static str> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }

    fn live(&self, sid: &str) -> Option<(SessionData, u64, Duration)> {
        let records = self.records.lock().unwrap();
        let r = records.get(sid).filter(|r| !r.left.is_zero())?;
        let data = SessionData::decode_stored(&r.bytes, Self::ENGINE, sid).ok()?;
        Some((data, r.version, r.left))
    }

    fn set_left(&self, sid: &str, left: Duration) {
        self.records.lock().unwrap().get_mut(sid).unwrap().left = left;
    }

    fn loaded(&self, sid: &str) -> Option<LoadedRow<u64>> {
        let (data, version, left) = self.live(sid)?;
        let ttl = if self.refreshes_on_load {
            Ttl::Refreshed(left)
        } else {
            Ttl::Left(left)
        };
        Some(LoadedRow { data, version, ttl })
    }
}

#[async_trait]
impl RowBackend for Fake {
    const ENGINE: &'static str = "fake";
    const MAX_DATA_SIZE: Option<usize> = Some(64);
    const GC_BATCH: u64 = 2;
    type Version = u64;

    fn lifetimes(&self) -> &Lifetimes {
        &RULES
    }

    async fn load(&self, sid: &str) -> Result<Option<LoadedRow<u64>>> {
        self.call("load");
        Ok(self.loaded(sid))
    }

    async fn fetch(&self, sid: &str) -> Result<Option<(SessionData, u64)>> {
        self.call("fetch");
        Ok(self.live(sid).map(|(data, version, _)| (data, version)))
    }

    async fn create(&self, sid: &str, bytes: &[u8], lifetime: &Lifetime) -> Result<bool> {
        self.call("create");
        let mut records = self.records.lock().unwrap();
        if records.get(sid).is_some_and(|r| !r.left.is_zero()) {
            return Ok(false);
        }
        let record = Record {
            bytes: bytes.to_vec(),
            version: 1,
            left: lifetime.ttl(),
        };
        records.insert(sid.to_owned(), record);
        Ok(true)
    }

    async fn replace(
        &self,
        sid: &str,
        expected: &u64,
        bytes: &[u8],
        lifetime: &Lifetime,
    ) -> Result<bool> {
        self.call("replace");
        let mut records = self.records.lock().unwrap();
        let Some(r) = records.get_mut(sid).filter(|r| !r.left.is_zero()) else {
            return Ok(false);
        };
        if let Some((key, value)) = self.race.lock().unwrap().take() {
            let mut theirs = SessionData::decode(&r.bytes).unwrap();
            theirs.insert(key, value);
            r.bytes = theirs.encode();
            r.version += 1;
        }
        if r.version != *expected {
            return Ok(false);
        }
        r.bytes = bytes.to_vec();
        r.version += 1;
        r.left = lifetime.ttl();
        Ok(true)
    }

    async fn touch(&self, sid: &str, lifetime: &Lifetime) -> Result<bool> {
        self.call("touch");
        match self.records.lock().unwrap().get_mut(sid) {
            Some(r) if !r.left.is_zero() => {
                r.left = lifetime.ttl();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn rename(&self, old_sid: &str, sid: &str) -> Result<Option<LoadedRow<u64>>> {
        self.call("rename");
        {
            let mut records = self.records.lock().unwrap();
            match records.remove(old_sid) {
                Some(r) if !r.left.is_zero() => {
                    records.insert(sid.to_owned(), r);
                }
                _ => return Ok(None),
            }
        }
        Ok(self.loaded(sid))
    }

    async fn exists(&self, sid: &str) -> Result<bool> {
        self.call("exists");
        Ok(self.live(sid).is_some())
    }

    async fn destroy(&self, sid: &str) -> Result<()> {
        self.call("destroy");
        self.records.lock().unwrap().remove(sid);
        Ok(())
    }

    async fn count_live(&self) -> Result<usize> {
        self.call("count");
        let records = self.records.lock().unwrap();
        Ok(records.values().filter(|r| !r.left.is_zero()).count())
    }

    async fn delete_expired(&self) -> Result<u64> {
        self.call("delete_expired");
        let mut records = self.records.lock().unwrap();
        let expired: Vec<String> = records
            .iter()
            .filter(|(_, r)| r.left.is_zero())
            .map(|(sid, _)| sid.clone())
            .take(Self::GC_BATCH as usize)
            .collect();
        for sid in &expired {
            records.remove(sid);
        }
        Ok(expired.len() as u64)
    }
}

fn cx() -> Context<'static> {
    Context::detached()
}

async fn release(store: &dyn Store) -> Released {
    store.session_release(&mut HeaderMap::new()).await.unwrap()
}

/// Stores session `sid` holding `key = value` and forgets the calls that cost.
async fn stored(p: &RowProvider<Fake>, sid: &str, key: &str, value: u8) {
    let s = p.session_create(&cx(), sid).await.unwrap();
    s.set_raw(key, vec![value]).await.unwrap();
    release(&*s).await;
    p.backend().calls();
}

#[tokio::test]
async fn each_kind_of_request_costs_what_the_docs_say() {
    let p = RowProvider::new(Fake::default());
    let s = p.session_create(&cx(), "a").await.unwrap();
    release(&*s).await;
    assert!(
        p.backend().calls().is_empty(),
        "a new empty session is free"
    );

    let s = p.session_create(&cx(), "a").await.unwrap();
    s.set_raw("k", vec![1]).await.unwrap();
    release(&*s).await;
    assert_eq!(p.backend().calls(), ["create"]);

    let s = p.session_read(&cx(), "a").await.unwrap();
    assert_eq!(s.get_raw("k").await.unwrap(), Some(vec![1]));
    release(&*s).await;
    assert_eq!(p.backend().calls(), ["load"], "a fresh read-only session");

    let s = p.session_read(&cx(), "a").await.unwrap();
    s.set_raw("k", vec![2]).await.unwrap();
    release(&*s).await;
    assert_eq!(p.backend().calls(), ["load", "replace"]);
}

#[tokio::test]
async fn an_unchanged_session_is_touched_only_past_the_slack() {
    let p = RowProvider::new(Fake::default());
    stored(&p, "a", "k", 1).await;
    let slack = Lifetime::sliding(LIFETIME).refresh_slack();
    for (left, touched) in [
        (LIFETIME - slack + Duration::from_millis(50), false),
        (LIFETIME - slack - Duration::from_secs(1), true),
    ] {
        p.backend().set_left("a", left);
        let s = p.session_read(&cx(), "a").await.unwrap();
        let released = release(&*s).await;
        let expected: &[&str] = if touched {
            &["load", "touch"]
        } else {
            &["load"]
        };
        assert_eq!(p.backend().calls(), expected, "{left:?} left");
        assert_eq!(
            matches!(released, Released::Stored { .. }),
            touched,
            "{released:?}"
        );
    }
    assert_eq!(p.backend().live("a").unwrap().2, LIFETIME);
}

#[tokio::test]
async fn a_backend_that_refreshes_on_load_is_never_touched() {
    let p = RowProvider::new(Fake {
        refreshes_on_load: true,
        ..Fake::default()
    });
    stored(&p, "a", "k", 1).await;
    p.backend().set_left("a", Duration::from_secs(1));
    let s = p.session_read(&cx(), "a").await.unwrap();
    let released = release(&*s).await;
    assert_eq!(p.backend().calls(), ["load"]);
    // The load refreshed the record: the release says so, and the cookie is sent again.
    assert!(matches!(released, Released::Stored { .. }), "{released:?}");
}

#[tokio::test]
async fn concurrent_changes_to_other_keys_are_merged() {
    let p = RowProvider::new(Fake::default());
    stored(&p, "a", "k", 1).await;
    let s = p.session_read(&cx(), "a").await.unwrap();
    s.set_raw("mine", vec![2]).await.unwrap();
    *p.backend().race.lock().unwrap() = Some(("theirs".into(), vec![9]));
    release(&*s).await;
    assert_eq!(p.backend().calls(), ["load", "replace", "fetch", "replace"]);
    let (data, _, _) = p.backend().live("a").unwrap();
    assert_eq!(data.get("theirs"), Some(&[9u8][..]));
    assert_eq!(data.get("mine"), Some(&[2u8][..]));
    assert_eq!(data.get("k"), Some(&[1u8][..]));
}

#[tokio::test]
async fn release_if_present_never_brings_back_a_destroyed_session() {
    let p = RowProvider::new(Fake::default());
    stored(&p, "a", "k", 1).await;
    let logout_raced = p.session_read(&cx(), "a").await.unwrap();
    let plain = p.session_read(&cx(), "a").await.unwrap();
    p.session_destroy(&cx(), "a").await.unwrap();
    logout_raced.set_raw("k", vec![2]).await.unwrap();
    logout_raced
        .session_release_if_present(&mut HeaderMap::new())
        .await
        .unwrap();
    assert!(!p.session_exist(&cx(), "a").await.unwrap());
    // A plain release re-creates it.
    plain.set_raw("k", vec![3]).await.unwrap();
    release(&*plain).await;
    assert!(p.session_exist(&cx(), "a").await.unwrap());
}

#[tokio::test]
async fn too_large_sessions_fail_and_write_nothing() {
    let p = RowProvider::new(Fake::default());
    let s = p.session_create(&cx(), "big").await.unwrap();
    s.set_raw("k", vec![0; 100]).await.unwrap();
    let err = s.session_release(&mut HeaderMap::new()).await.unwrap_err();
    assert!(matches!(err, Error::TooLarge { limit: 64, .. }), "{err:?}");
    assert_eq!(p.backend().calls(), Vec::<&str>::new());
    assert!(!p.session_exist(&cx(), "big").await.unwrap());
}

#[tokio::test]
async fn each_record_gets_its_own_lifetime() {
    let p = RowProvider::new(Fake::default());
    let s = p.session_create(&cx(), "a").await.unwrap();
    s.set_raw("k", vec![1]).await.unwrap();
    let month = Duration::from_secs(30 * 86_400);
    s.set_expiry(Some(Expiry::OnInactivity(month)))
        .await
        .unwrap();
    release(&*s).await;
    assert_eq!(p.backend().live("a").unwrap().2, month);
    // An unchanged read of it, one minute into its month, is not due: 1 % is 7.2 hours.
    p.backend().set_left("a", month - Duration::from_secs(60));
    let s = p.session_read(&cx(), "a").await.unwrap();
    assert!(matches!(release(&*s).await, Released::Kept { .. }));
    // Back to the manager's lifetime: a change, written with it.
    let s = p.session_read(&cx(), "a").await.unwrap();
    s.set_expiry(None).await.unwrap();
    release(&*s).await;
    assert_eq!(p.backend().live("a").unwrap().2, LIFETIME);
}

#[tokio::test]
async fn a_touch_of_a_vanished_record_reports_it_gone() {
    let p = RowProvider::new(Fake::default());
    stored(&p, "a", "k", 1).await;
    p.backend().set_left("a", Duration::from_secs(1));
    let s = p.session_read(&cx(), "a").await.unwrap();
    p.session_destroy(&cx(), "a").await.unwrap();
    assert_eq!(release(&*s).await, Released::Gone);
    assert!(!p.session_exist(&cx(), "a").await.unwrap());
}

#[tokio::test]
async fn move_keeps_the_lifetime_and_reports_a_vanished_session() {
    let p = RowProvider::new(Fake::default());
    stored(&p, "old", "k", 7).await;
    p.backend().set_left("old", Duration::from_secs(50));
    let moved = p.session_move(&cx(), "old", "new").await.unwrap().unwrap();
    assert_eq!(moved.get_raw("k").await.unwrap(), Some(vec![7]));
    assert_eq!(p.backend().live("new").unwrap().2, Duration::from_secs(50));
    assert!(p.session_move(&cx(), "old", "x").await.unwrap().is_none());
}

#[tokio::test]
async fn regenerate_moves_the_data_or_starts_empty() {
    let p = RowProvider::new(Fake::default());
    stored(&p, "old", "k", 7).await;
    let s = p.session_regenerate(&cx(), "old", "new").await.unwrap();
    assert_eq!(s.session_id(), "new");
    assert_eq!(s.get_raw("k").await.unwrap(), Some(vec![7]));
    assert!(!p.session_exist(&cx(), "old").await.unwrap());
    let s = p
        .session_regenerate(&cx(), "missing", "new2")
        .await
        .unwrap();
    assert!(s.keys().await.unwrap().is_empty());
}

#[tokio::test]
async fn gc_deletes_batches_until_one_comes_back_short() {
    let p = RowProvider::new(Fake::default());
    for i in 0..5 {
        stored(&p, &format!("s{i}"), "k", 1).await;
        p.backend().set_left(&format!("s{i}"), Duration::ZERO);
    }
    stored(&p, "live", "k", 1).await;
    assert_eq!(p.session_all().await.unwrap(), 1);
    p.backend().calls();
    p.session_gc().await.unwrap();
    assert_eq!(p.backend().calls(), ["delete_expired"; 3]);
    assert_eq!(p.backend().records.lock().unwrap().len(), 1);
    assert!(p.session_load(&cx(), "s0").await.unwrap().is_none());
}
