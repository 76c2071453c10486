//! A sentinel failover in the middle of a run (master, replica and sentinel of this test's
//! own): requests succeed again, writing to the new master, soon after the sentinel names
//! it (asserted loosely: within 10 s, while the old master goes on accepting writes for 10
//! to 20 s until it is demoted), and the sessions written and replicated before the failover
//! are all there.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::HeaderMap;
use session_core::{Manager, ManagerConfig};
use session_redis::{session_key, Topology};
use session_testkit::servers::redis::{self, Reply};
use session_testkit::servers::RedisSentinel;

use common::cookie_request;

/// How soon after the sentinel names the new master requests must write to it.
const SWITCH_BOUND: Duration = Duration::from_secs(10);

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("a blocking test step")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_follow_a_sentinel_failover() {
    if common::target(Topology::Sentinel, "requests_follow_a_sentinel_failover").is_none() {
        return;
    }
    let topology = Arc::new(
        blocking(RedisSentinel::start)
            .await
            .expect("master, replica and sentinel"),
    );
    let prefix = common::unique_prefix("failover");
    let config = format!(
        "{}?master_name={}&prefix={prefix}&connect_timeout=1s&response_timeout=1s",
        topology.sentinel_urls(),
        topology.master_name()
    );
    let manager = Manager::new(
        "redis_sentinel",
        ManagerConfig {
            provider_config: config,
            ..ManagerConfig::default()
        },
    )
    .await
    .unwrap();
    let mut sids = Vec::new();
    for i in 0..20 {
        let session = manager
            .session_start(&http::Request::new(()))
            .await
            .unwrap();
        session.set("n", &i).await.unwrap();
        session.release(&mut HeaderMap::new()).await.unwrap();
        sids.push(session.id());
    }
    let old_master = topology.master_addr().unwrap();
    // Replicated: the replica has received everything the master holds. (`WAIT` would not
    // tell: it waits for the calling connection's own writes, and these went through the
    // engine's pool.)
    blocking({
        let topology = Arc::clone(&topology);
        move || {
            topology
                .wait_replica_synced()
                .expect("the replica to catch up with the master")
        }
    })
    .await;

    // Requests keep coming during the failover.
    let (stop, ok, failed) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let load = tokio::spawn({
        let (manager, sid, stop, ok, failed) = (
            manager.clone(),
            sids[0].clone(),
            stop.clone(),
            ok.clone(),
            failed.clone(),
        );
        async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let request = async {
                    let session = manager.session_start(&cookie_request(&sid)).await?;
                    session.set("counter", &n).await?;
                    session.release(&mut HeaderMap::new()).await
                };
                let counter = if request.await.is_ok() { &ok } else { &failed };
                counter.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let new_master = blocking({
        let topology = Arc::clone(&topology);
        move || topology.failover().expect("SENTINEL FAILOVER")
    })
    .await;
    assert_ne!(new_master, old_master);
    let named = Instant::now();

    // A write through the engine must land on the new master.
    let switched = common::eventually(SWITCH_BOUND, async || {
        let session = match manager.session_start(&http::Request::new(())).await {
            Ok(session) => session,
            Err(_) => return false,
        };
        if session.set("probe", &1).await.is_err()
            || session.release(&mut HeaderMap::new()).await.is_err()
        {
            return false;
        }
        let (key, new) = (session_key(&prefix, &session.id()), new_master.clone());
        blocking(move || redis::call(&new, &["EXISTS", &key]).ok() == Some(Reply::Integer(1))).await
    })
    .await;
    let took = named.elapsed();
    stop.store(true, Ordering::Relaxed);
    load.await.unwrap();
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    eprintln!(
        "failover {old_master} -> {new_master}: writes reached the new master {took:?} after the sentinel named it; \
         {ok} requests succeeded and {failed} failed during the run"
    );
    assert!(
        switched,
        "writes did not reach the new master within {SWITCH_BOUND:?} of the failover"
    );
    assert!(ok > 0, "no request succeeded during the run");

    for (i, sid) in sids.iter().enumerate() {
        let session = manager.session_start(&cookie_request(sid)).await.unwrap();
        if session.id() != *sid {
            let seen = blocking({
                let (topology, key) = (Arc::clone(&topology), session_key(&prefix, sid));
                move || where_is(&topology, &key)
            })
            .await;
            panic!("session {i}, written before the failover, is gone; {seen}");
        }
        assert_eq!(session.get::<i32>("n").await.unwrap(), Some(i as i32));
    }
    drop(manager);
}

/// What each server says about `key` and its role, and the sentinel's log: what a failure
/// needs to tell a lost write from a spurious second failover.
fn where_is(topology: &RedisSentinel, key: &str) -> String {
    let mut seen = String::new();
    for addr in topology.node_addrs() {
        let role = redis::call(addr, &["ROLE"]);
        let exists = redis::call(addr, &["EXISTS", key]);
        let ttl = redis::call(addr, &["PTTL", key]);
        seen += &format!("{addr}: ROLE {role:?}, EXISTS {exists:?}, PTTL {ttl:?}; ");
    }
    seen += &format!("the sentinel names {:?}; ", topology.master_addr());
    match topology.sentinel().read_log() {
        Ok(log) => seen += &format!("sentinel log:\n{log}"),
        Err(error) => seen += &format!("no sentinel log: {error}"),
    }
    seen
}
