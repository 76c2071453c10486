//! The engine's own behaviour on a real Couchbase server (the `COUCHBASE_*` variables; each
//! test says it is skipped without them): CAS merging, no resurrection, expiries on the
//! documents (over 30 days too), regenerate keeping the expiry, counting, and start-up
//! errors for a wrong password and a missing bucket within the connect timeout.

mod common;

use std::time::{Duration, SystemTime};

use common::{release_to, start};
use couchbase::options::kv_options::GetOptions;
use session_core::conformance::Client;
use session_core::{Context, Error, Expiry, Lifetimes, Manager, ManagerConfig, Released};
use session_couchbase::{CouchbaseConfig, CouchbaseProvider};

const DAY: Duration = Duration::from_secs(24 * 3600);

/// Only a hang reaches this.
const HANG: Duration = Duration::from_secs(60);

/// A provider of its own on the test's prefix, to look at the documents directly.
async fn raw(server: &common::Server, prefix: &str) -> CouchbaseProvider {
    let config = CouchbaseConfig::parse(&server.config(prefix, &[])).unwrap();
    CouchbaseProvider::with_config(config, Lifetimes::sliding(Duration::from_secs(60)))
        .await
        .unwrap()
}

/// The document expiry of session `sid` (Unix seconds), as the server has it; `None` when
/// there is no such document.
async fn stored_expiry(raw: &CouchbaseProvider, sid: &str) -> Option<i64> {
    let got = raw
        .collection()
        .get(raw.document_key(sid), GetOptions::new().expiry(true))
        .await
        .ok()?;
    got.expiry_time().map(|at| at.timestamp())
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_changes_to_one_session_are_merged_through_cas() {
    let Some(server) = common::server("merge") else {
        return;
    };
    let manager = server
        .manager(&common::unique_prefix("merge"), &[], 60)
        .await;
    let mut client = Client::new();
    let first = start(&manager, &client).await;
    first.set("a", &1).await.unwrap();
    release_to(first, &mut client).await;
    // Both requests read the same CAS; each changes a key of its own.
    let (left, right) = (
        start(&manager, &client).await,
        start(&manager, &client).await,
    );
    left.set("x", &10).await.unwrap();
    right.set("y", &20).await.unwrap();
    let (mut h1, mut h2) = (http::HeaderMap::new(), http::HeaderMap::new());
    let (r1, r2) = tokio::join!(left.release(&mut h1), right.release(&mut h2));
    r1.unwrap();
    r2.unwrap();
    let after = start(&manager, &client).await;
    assert_eq!(after.get::<i64>("a").await.unwrap(), Some(1));
    assert_eq!(
        after.get::<i64>("x").await.unwrap(),
        Some(10),
        "a lost update"
    );
    assert_eq!(
        after.get::<i64>("y").await.unwrap(),
        Some(20),
        "a lost update"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destroyed_session_is_never_resurrected() {
    let Some(server) = common::server("no_resurrection") else {
        return;
    };
    let prefix = common::unique_prefix("gone");
    let manager = server.manager(&prefix, &[], 60).await;
    let raw = raw(&server, &prefix).await;
    let mut client = Client::new();
    let first = start(&manager, &client).await;
    first.set("user", "asta").await.unwrap();
    release_to(first, &mut client).await;
    let slow = start(&manager, &client).await;
    let sid = slow.id();
    slow.set("late", &1).await.unwrap();
    let logout = start(&manager, &client).await;
    logout.destroy().await.unwrap();
    logout.release(&mut http::HeaderMap::new()).await.unwrap();
    let released = slow
        .release_if_present(&mut http::HeaderMap::new())
        .await
        .unwrap();
    assert_eq!(released, Released::Gone);
    let cx = Context::detached();
    assert!(!manager.provider().session_exist(&cx, &sid).await.unwrap());
    assert_eq!(stored_expiry(&raw, &sid).await, None, "re-created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiries_live_on_the_documents_even_past_30_days() {
    let Some(server) = common::server("expiry") else {
        return;
    };
    let prefix = common::unique_prefix("exp");
    let manager = server.manager(&prefix, &[], 2).await;
    let raw = raw(&server, &prefix).await;
    // A 60-day session: the SDK sends an absolute time, which must mean 60 days from now.
    let long = start(&manager, &Client::new()).await;
    long.set("remember", &true).await.unwrap();
    long.set_expiry(Some(Expiry::OnInactivity(DAY * 60)))
        .await
        .unwrap();
    let long_sid = long.id();
    long.release(&mut http::HeaderMap::new()).await.unwrap();
    let stored = stored_expiry(&raw, &long_sid)
        .await
        .expect("stored with an expiry");
    let wanted = unix_now() + (DAY * 60).as_secs() as i64;
    assert!(
        (stored - wanted).abs() <= 10,
        "expiry {stored}, wanted about {wanted}"
    );

    // A 2-second session is gone after 2 seconds, without GC.
    let mut client = Client::new();
    let short = start(&manager, &client).await;
    short.set("k", &1).await.unwrap();
    let short_sid = short.id();
    release_to(short, &mut client).await;
    let stored = stored_expiry(&raw, &short_sid).await.unwrap();
    assert!((stored - (unix_now() + 2)).abs() <= 2, "expiry {stored}");
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let cx = Context::detached();
    assert!(!manager
        .provider()
        .session_exist(&cx, &short_sid)
        .await
        .unwrap());
    let again = start(&manager, &client).await;
    assert!(again.is_new(), "an expired session was loaded");
    assert_eq!(again.get::<i64>("k").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regenerate_moves_the_document_and_keeps_its_expiry() {
    let Some(server) = common::server("regenerate") else {
        return;
    };
    let prefix = common::unique_prefix("regen");
    let manager = server.manager(&prefix, &[], 3600).await;
    let raw = raw(&server, &prefix).await;
    let mut client = Client::new();
    let first = start(&manager, &client).await;
    first.set("user", "asta").await.unwrap();
    first
        .set_expiry(Some(Expiry::OnInactivity(DAY * 40)))
        .await
        .unwrap();
    let old_sid = first.id();
    release_to(first, &mut client).await;
    let old_expiry = stored_expiry(&raw, &old_sid).await.unwrap();
    let login = start(&manager, &client).await;
    login.regenerate().await.unwrap();
    release_to(login, &mut client).await;
    let moved = start(&manager, &client).await;
    let new_sid = moved.id();
    assert_ne!(new_sid, old_sid);
    assert_eq!(
        moved.get::<String>("user").await.unwrap().as_deref(),
        Some("asta")
    );
    assert_eq!(stored_expiry(&raw, &old_sid).await, None);
    let new_expiry = stored_expiry(&raw, &new_sid).await.unwrap();
    assert!(
        (new_expiry - old_expiry).abs() <= 2,
        "{old_expiry} -> {new_expiry}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_all_counts_the_live_sessions_of_the_prefix_or_says_it_cannot() {
    let Some(server) = common::server("count") else {
        return;
    };
    let prefix = common::unique_prefix("count");
    let manager = server.manager(&prefix, &[], 60).await;
    assert_eq!(manager.get_active_session().await.unwrap(), 0);
    for i in 0..3 {
        let session = start(&manager, &Client::new()).await;
        session.set("i", &i).await.unwrap();
        session.release(&mut http::HeaderMap::new()).await.unwrap();
    }
    assert_eq!(manager.get_active_session().await.unwrap(), 3);
    let off = server.manager(&prefix, &[("count", "off")], 60).await;
    let err = off.get_active_session().await.unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
}

async fn start_up_error(config: String) -> String {
    let config = ManagerConfig {
        provider_config: config,
        ..ManagerConfig::default()
    };
    match tokio::time::timeout(HANG, Manager::new("couchbase", config)).await {
        Ok(Ok(_)) => panic!("started"),
        Ok(Err(error)) => format!("{error}"),
        Err(_) => panic!("Manager::new hung"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_fails_start_up_within_the_connect_timeout() {
    let Some(mut server) = common::server("wrong_password") else {
        return;
    };
    server.password = "not-the-password-4711".into();
    let config = server.config("x:", &[("connect_timeout", "2s")]);
    let error = start_up_error(config).await;
    assert!(error.contains("did not succeed within 2s"), "{error}");
    assert!(!error.contains("not-the-password-4711"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_bucket_is_named_at_start_up() {
    let Some(mut server) = common::server("missing_bucket") else {
        return;
    };
    server.bucket = "no-such-bucket-4711".into();
    let config = server.config("x:", &[("connect_timeout", "3s")]);
    let error = start_up_error(config).await;
    assert!(
        error.contains("bucket `no-such-bucket-4711` could not be opened within 3s"),
        "{error}"
    );
}
