//! The engine's own behaviour on each topology, beyond the conformance suite: no lost
//! updates under 100 concurrent writers, no resurrection decided by the server, the stored
//! layout, newer and foreign records, and every config form reaching the server.

mod common;

use std::time::Duration;

use http::HeaderMap;
use session_core::{Error, Manager, ManagerConfig, Released};
use session_redis::{session_key, Topology};
use session_testkit::servers::redis::Reply;

use common::{cookie_request, Target};

const TOPOLOGIES: [Topology; 3] = [Topology::Standalone, Topology::Cluster, Topology::Sentinel];

/// Stores a session holding `user = astaxie`; returns its id.
async fn stored(manager: &Manager) -> String {
    let session = manager
        .session_start(&http::Request::new(()))
        .await
        .unwrap();
    session.set("user", "astaxie").await.unwrap();
    session.release(&mut HeaderMap::new()).await.unwrap();
    session.id()
}

/// Runs `test` on the topology this run is for.
macro_rules! on_each_topology {
    ($name:ident, $body:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            for topology in TOPOLOGIES {
                if let Some(target) = common::target(topology, stringify!($name)) {
                    $body(target).await;
                }
            }
        }
    };
}

on_each_topology!(
    a_hundred_concurrent_writers_all_keep_their_key,
    hundred_writers
);
on_each_topology!(
    release_if_present_never_brings_back_a_destroyed_or_expired_session,
    no_resurrection
);
on_each_topology!(a_session_is_one_hash_with_its_lifetime, layout);
on_each_topology!(
    a_newer_layout_fails_the_request_and_is_left_alone,
    newer_layout
);
on_each_topology!(
    a_foreign_value_under_the_key_reads_as_empty_and_is_replaced,
    foreign_value
);
on_each_topology!(the_row_backend_calls_keep_their_contract, row_backend);

/// 100 requests on one session at once, each setting a key of its own, on a pool of 8:
/// every key is there afterwards (the merge script applies each change set atomically).
async fn hundred_writers(target: Target) {
    let prefix = common::unique_prefix("writers");
    let manager = target
        .manager(&prefix, "pool_size=8", ManagerConfig::default())
        .await;
    let sid = stored(&manager).await;
    let mut tasks = Vec::new();
    for i in 0..100u32 {
        let (manager, request) = (manager.clone(), cookie_request(&sid));
        tasks.push(tokio::spawn(async move {
            let session = manager.session_start(&request).await.unwrap();
            assert!(!session.is_new(), "request {i} did not find the session");
            session.set(&format!("k{i}"), &i).await.unwrap();
            let released = session
                .release_if_present(&mut HeaderMap::new())
                .await
                .unwrap();
            assert!(
                matches!(released, Released::Stored { .. }),
                "request {i}: {released:?}"
            );
        }));
    }
    for task in tasks {
        task.await.expect("a writer");
    }
    let session = manager.session_start(&cookie_request(&sid)).await.unwrap();
    let mut missing = Vec::new();
    for i in 0..100u32 {
        if session.get::<u32>(&format!("k{i}")).await.unwrap() != Some(i) {
            missing.push(i);
        }
    }
    assert!(
        missing.is_empty(),
        "{} keys lost: {missing:?}",
        missing.len()
    );
    assert_eq!(
        session.get::<String>("user").await.unwrap().as_deref(),
        Some("astaxie")
    );
    assert_eq!(session.keys().await.unwrap().len(), 101);
}

/// A request that loaded a session, which is then destroyed (or expires) before the
/// request releases it with changes: `release_if_present` writes nothing, and the key stays
/// absent. The script decides, atomically, on the server.
async fn no_resurrection(target: Target) {
    let prefix = common::unique_prefix("resurrect");
    let manager = target.manager(&prefix, "", common::lifetime(1)).await;

    let sid = stored(&manager).await;
    let late = manager.session_start(&cookie_request(&sid)).await.unwrap();
    manager
        .session_destroy(&cookie_request(&sid), &mut HeaderMap::new())
        .await
        .unwrap();
    late.set("cart", "full").await.unwrap();
    let released = late
        .release_if_present(&mut HeaderMap::new())
        .await
        .unwrap();
    assert_eq!(released, Released::Gone, "a destroyed session was written");
    assert!(
        !target.exists(&session_key(&prefix, &sid)).await,
        "a destroyed session came back"
    );

    let sid = stored(&manager).await;
    let late = manager.session_start(&cookie_request(&sid)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1300)).await;
    late.set("cart", "full").await.unwrap();
    let released = late
        .release_if_present(&mut HeaderMap::new())
        .await
        .unwrap();
    assert_eq!(released, Released::Gone, "an expired session was written");
    assert!(
        !target.exists(&session_key(&prefix, &sid)).await,
        "an expired session came back"
    );

    // A plain release may store it again: the request's whole view, not only its change.
    let released = late.release(&mut HeaderMap::new()).await.unwrap();
    assert!(matches!(released, Released::Stored { .. }), "{released:?}");
    let again = manager.session_start(&cookie_request(&sid)).await.unwrap();
    assert_eq!(
        again.get::<String>("user").await.unwrap().as_deref(),
        Some("astaxie")
    );
    assert_eq!(
        again.get::<String>("cart").await.unwrap().as_deref(),
        Some("full")
    );
}

/// `<prefix>{<id>}` is a hash: `#v` 2, one `.`-field per key holding the value's
/// MessagePack, and a TTL of the session's lifetime.
async fn layout(target: Target) {
    let prefix = common::unique_prefix("layout");
    let manager = target.manager(&prefix, "", common::lifetime(600)).await;
    let sid = stored(&manager).await;
    let key = session_key(&prefix, &sid);
    assert_eq!(key, format!("{prefix}{{{sid}}}"));
    assert_eq!(
        target.call_str(&["TYPE", &key]).await,
        Reply::Status("hash".into())
    );
    assert_eq!(
        target.call_str(&["HGET", &key, "#v"]).await,
        Reply::Bulk(Some(b"2".to_vec()))
    );
    let user = target.call_str(&["HGET", &key, ".user"]).await;
    assert_eq!(
        user,
        Reply::Bulk(Some(session_core::encode_value("user", "astaxie").unwrap()))
    );
    assert_eq!(
        target.call_str(&["HGET", &key, "#i"]).await,
        Reply::Bulk(Some(b"600000".to_vec()))
    );
    let Reply::Integer(pttl) = target.call_str(&["PTTL", &key]).await else {
        panic!("PTTL")
    };
    assert!((595_000..=600_000).contains(&pttl), "PTTL {pttl}");
}

/// A record written by a newer build (`#v` 3) fails the request as unavailable (503), and
/// neither a read nor a release with changes touches it.
async fn newer_layout(target: Target) {
    let prefix = common::unique_prefix("newer");
    let manager = target.manager(&prefix, "", ManagerConfig::default()).await;
    let sid = stored(&manager).await;
    let key = session_key(&prefix, &sid);

    let loaded = manager.session_start(&cookie_request(&sid)).await.unwrap();
    target
        .call_str(&["HSET", &key, "#v", "3", ".future", "x"])
        .await;
    let err = manager
        .session_start(&cookie_request(&sid))
        .await
        .expect_err("a newer record was read");
    assert!(
        matches!(err, Error::NewerFormat { version: 3, .. }),
        "{err}"
    );
    assert!(err.is_unavailable());
    loaded.set("user", "someone else").await.unwrap();
    let err = loaded
        .release(&mut HeaderMap::new())
        .await
        .expect_err("a newer record was overwritten");
    assert!(
        matches!(err, Error::NewerFormat { version: 3, .. }),
        "{err}"
    );
    assert_eq!(
        target.call_str(&["HGET", &key, ".future"]).await,
        Reply::Bulk(Some(b"x".to_vec()))
    );
    let user = target.call_str(&["HGET", &key, ".user"]).await;
    assert_eq!(
        user,
        Reply::Bulk(Some(session_core::encode_value("user", "astaxie").unwrap()))
    );
}

/// A string under a session's key (beego's gob, say) reads as an empty stored session, and
/// the next write replaces it with a session of this layout.
async fn foreign_value(target: Target) {
    let prefix = common::unique_prefix("foreign");
    let manager = target.manager(&prefix, "", ManagerConfig::default()).await;
    let sid = stored(&manager).await;
    let key = session_key(&prefix, &sid);
    target
        .call(vec![
            b"SET".to_vec(),
            key.clone().into_bytes(),
            b"\x0e\xff\x81gob".to_vec(),
            b"EX".to_vec(),
            b"600".to_vec(),
        ])
        .await;
    let session = manager.session_start(&cookie_request(&sid)).await.unwrap();
    assert_eq!(session.id(), sid);
    assert!(
        session.keys().await.unwrap().is_empty(),
        "a foreign value yielded keys"
    );
    session.set("b", &2).await.unwrap();
    session.release(&mut HeaderMap::new()).await.unwrap();
    assert_eq!(
        target.call_str(&["TYPE", &key]).await,
        Reply::Status("hash".into())
    );
    let session = manager.session_start(&cookie_request(&sid)).await.unwrap();
    assert_eq!(session.get::<i32>("b").await.unwrap(), Some(2));
}

/// beego's comma form (the seed's `addr,poolsize,password`), beego's JSON form and a URL
/// all reach the standalone server, with the settings they carry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_config_form_reaches_the_server() {
    let Some(target) = common::target(Topology::Standalone, "every_config_form_reaches_the_server")
    else {
        return;
    };
    let url = target.config("unused", "");
    let addr = url
        .trim_start_matches("redis://")
        .split(['/', '?'])
        .next()
        .unwrap()
        .to_owned();
    let prefix = common::unique_prefix("forms");
    for config in [
        format!("{addr},8,,0,prefix={prefix}"),
        format!(
            r#"{{"save_path":"{addr}","poolsize":8,"db_num":0,"idle_timeout":"30s","max_retries":2,"prefix":"{prefix}"}}"#
        ),
        format!(
            "redis://{addr}/0?prefix={prefix}&pool_size=8&connect_timeout=2s&response_timeout=2s"
        ),
    ] {
        let manager = Manager::new(
            "redis",
            ManagerConfig {
                provider_config: config.clone(),
                ..ManagerConfig::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{config}: {e}"));
        let sid = stored(&manager).await;
        assert!(
            target.exists(&session_key(&prefix, &sid)).await,
            "{config}: not stored under the prefix"
        );
        let session = manager.session_start(&cookie_request(&sid)).await.unwrap();
        assert_eq!(
            session.get::<String>("user").await.unwrap().as_deref(),
            Some("astaxie"),
            "{config}"
        );
    }
}

/// The compare-and-set half of `RowBackend`, which `RowProvider` does not need (it merges on
/// the server) but which the contract has: create only once, replace only the version read,
/// touch and rename never create.
async fn row_backend(target: Target) {
    use session_core::row::RowBackend;
    use session_core::{Lifetime, ProviderInit, SessionData};
    use session_redis::RedisProvider;

    let prefix = common::unique_prefix("row");
    let config = ManagerConfig {
        provider_config: target.config(&prefix, ""),
        ..ManagerConfig::default()
    };
    let provider = RedisProvider::connect(&ProviderInit::new(target.topology.engine(), &config))
        .await
        .unwrap();
    let rows = provider.backend();
    let life = Lifetime::sliding(Duration::from_secs(60));
    let mut data = SessionData::new();
    data.insert("a", session_core::encode_value("a", &1).unwrap());
    let sid = "0123456789abcdef0123456789abcdef";
    assert!(rows.create(sid, &data.encode(), &life).await.unwrap());
    assert!(
        !rows.create(sid, &data.encode(), &life).await.unwrap(),
        "created twice"
    );
    let (fetched, version) = rows.fetch(sid).await.unwrap().expect("the created record");
    assert_eq!(fetched.get("a"), data.get("a"));
    data.insert("b", session_core::encode_value("b", &2).unwrap());
    data.remove("a");
    assert!(rows
        .replace(sid, &version, &data.encode(), &life)
        .await
        .unwrap());
    assert!(
        !rows
            .replace(sid, &version, &data.encode(), &life)
            .await
            .unwrap(),
        "a stale version replaced the record"
    );
    let (now, _) = rows.fetch(sid).await.unwrap().unwrap();
    assert_eq!((now.get("a"), now.get("b")), (None, data.get("b")));
    assert!(rows.touch(sid, &life).await.unwrap());
    assert!(rows.exists(sid).await.unwrap());
    rows.destroy(sid).await.unwrap();
    assert!(!rows.exists(sid).await.unwrap());
    assert!(
        !rows.touch(sid, &life).await.unwrap(),
        "touch reported a gone record"
    );
    let other = "fedcba9876543210fedcba9876543210";
    assert!(rows.rename(sid, other).await.unwrap().is_none());
    assert!(
        !target.exists(&session_key(&prefix, sid)).await,
        "touch re-created a record"
    );
    assert!(
        !target.exists(&session_key(&prefix, other)).await,
        "rename created a record"
    );
    assert_eq!(rows.delete_expired().await.unwrap(), 0);
}
