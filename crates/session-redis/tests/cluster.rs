//! On a Redis Cluster: `session_all` counts the sessions of every master, and a session
//! whose slot moves to another node under a live provider is still found, through `ASK`
//! while the slot migrates and `MOVED` once it has moved.

mod common;

use http::HeaderMap;
use session_core::{Manager, ManagerConfig};
use session_redis::{session_key, Topology};
use session_testkit::servers::redis::{command_stats, Connection, Reply};

use common::cookie_request;

async fn stored(manager: &Manager, value: &str) -> String {
    let session = manager
        .session_start(&http::Request::new(()))
        .await
        .unwrap();
    session.set("user", value).await.unwrap();
    session.release(&mut HeaderMap::new()).await.unwrap();
    session.id()
}

/// Blocking: one command to one node (no redirections followed).
fn node_call(node: &str, args: &[&str]) -> Reply {
    Connection::open(node)
        .and_then(|mut c| c.call(args))
        .unwrap_or_else(|e| panic!("{args:?} on {node}: {e}"))
}

fn text(reply: Reply) -> String {
    reply
        .text()
        .unwrap_or_else(|| panic!("not text: {reply:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_all_counts_every_master() {
    let Some(target) = common::target(Topology::Cluster, "session_all_counts_every_master") else {
        return;
    };
    let prefix = common::unique_prefix("all");
    let manager = target.manager(&prefix, "", ManagerConfig::default()).await;
    let mut sids = Vec::new();
    for i in 0..30 {
        sids.push(stored(&manager, &format!("user{i}")).await);
    }
    let nodes = target.data_nodes();
    let pattern = format!("{prefix}{{*}}");
    let per_node: Vec<usize> = tokio::task::spawn_blocking(move || {
        nodes
            .iter()
            .map(|node| {
                match node_call(node, &["SCAN", "0", "MATCH", &pattern, "COUNT", "100000"]) {
                    Reply::Array(Some(items)) => items[1].elements().map_or(0, <[Reply]>::len),
                    other => panic!("SCAN: {other:?}"),
                }
            })
            .collect()
    })
    .await
    .unwrap();
    assert_eq!(per_node.iter().sum::<usize>(), 30, "{per_node:?}");
    assert!(
        per_node.iter().all(|n| *n > 0),
        "30 sessions did not spread over the 3 masters: {per_node:?}"
    );
    assert_eq!(manager.get_active_session().await.unwrap(), 30);
    manager
        .session_destroy(&cookie_request(&sids[0]), &mut HeaderMap::new())
        .await
        .unwrap();
    assert_eq!(manager.get_active_session().await.unwrap(), 29);
}

/// The node serving `slot` and another one, with their ids: `(from, from_id, to, to_id)`.
fn owners(nodes: &[String], slot: i64) -> (String, String, String, String) {
    let slots = node_call(&nodes[0], &["CLUSTER", "SLOTS"]);
    let owner = slots
        .elements()
        .unwrap()
        .iter()
        .find_map(|range| match range.elements()? {
            [Reply::Integer(first), Reply::Integer(last), master, ..]
                if (*first..=*last).contains(&slot) =>
            {
                let master = master.elements()?;
                Some(format!(
                    "127.0.0.1:{}",
                    match &master[1] {
                        Reply::Integer(p) => *p,
                        _ => return None,
                    }
                ))
            }
            _ => None,
        })
        .expect("the slot's owner");
    let to = nodes
        .iter()
        .map(|n| {
            n.trim_start_matches("redis://")
                .trim_end_matches('/')
                .to_owned()
        })
        .find(|n| *n != owner)
        .expect("another node");
    let from_id = text(node_call(&owner, &["CLUSTER", "MYID"]));
    let to_id = text(node_call(&to, &["CLUSTER", "MYID"]));
    (owner, from_id, to, to_id)
}

/// Commands the node refused with a redirection (`MOVED`, `ASK`), all commands together.
fn redirected(node: &str) -> u64 {
    command_stats(node)
        .expect("INFO commandstats")
        .iter()
        .map(|(_, stat)| stat.rejected_calls)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_slot_is_followed_by_ask_then_moved() {
    let Some(target) = common::target(
        Topology::Cluster,
        "a_moved_slot_is_followed_by_ask_then_moved",
    ) else {
        return;
    };
    let prefix = common::unique_prefix("moved");
    let manager = target.manager(&prefix, "", ManagerConfig::default()).await;
    let sid = stored(&manager, "astaxie").await;
    let key = session_key(&prefix, &sid);
    let nodes = target.data_nodes();

    let (key2, nodes2) = (key.clone(), nodes.clone());
    let migration = tokio::task::spawn_blocking(move || {
        let Reply::Integer(slot) = node_call(&nodes2[0], &["CLUSTER", "KEYSLOT", &key2]) else {
            panic!("KEYSLOT")
        };
        let (from, from_id, to, to_id) = owners(&nodes2, slot);
        let slot = slot.to_string();
        node_call(&to, &["CLUSTER", "SETSLOT", &slot, "IMPORTING", &from_id]);
        node_call(&from, &["CLUSTER", "SETSLOT", &slot, "MIGRATING", &to_id]);
        let (host, port) = to.split_once(':').unwrap();
        node_call(
            &from,
            &["MIGRATE", host, port, "", "0", "5000", "KEYS", &key2],
        );
        Migration {
            from,
            to,
            slot,
            to_id,
        }
    })
    .await
    .unwrap();

    // Mid-migration: the old owner answers ASK for the moved key.
    let asked_before = redirected(&migration.from);
    let session = manager.session_start(&cookie_request(&sid)).await.unwrap();
    assert_eq!(
        session.id(),
        sid,
        "the session was not found while its slot migrates"
    );
    assert_eq!(
        session.get::<String>("user").await.unwrap().as_deref(),
        Some("astaxie")
    );
    session.set("during", &1).await.unwrap();
    session.release(&mut HeaderMap::new()).await.unwrap();
    assert!(
        redirected(&migration.from) > asked_before,
        "the old owner never redirected (ASK) a request"
    );

    // Migration done: every node says the slot is the new owner's; the old one answers MOVED.
    let from = migration.from.clone();
    tokio::task::spawn_blocking(move || {
        let Migration {
            from,
            to,
            slot,
            to_id,
        } = migration;
        let (host, port) = to.split_once(':').unwrap();
        loop {
            let keys = node_call(&from, &["CLUSTER", "GETKEYSINSLOT", &slot, "100"]);
            let keys: Vec<String> = keys
                .elements()
                .unwrap()
                .iter()
                .filter_map(Reply::text)
                .collect();
            if keys.is_empty() {
                break;
            }
            let mut args = vec!["MIGRATE", host, port, "", "0", "5000", "KEYS"];
            args.extend(keys.iter().map(String::as_str));
            node_call(&from, &args);
        }
        for node in &nodes {
            node_call(node, &["CLUSTER", "SETSLOT", &slot, "NODE", &to_id]);
        }
    })
    .await
    .unwrap();
    let moved_before = redirected(&from);
    let session = manager.session_start(&cookie_request(&sid)).await.unwrap();
    assert_eq!(
        session.id(),
        sid,
        "the session was not found after its slot moved"
    );
    assert_eq!(session.get::<i32>("during").await.unwrap(), Some(1));
    session.set("after", &2).await.unwrap();
    session.release(&mut HeaderMap::new()).await.unwrap();
    assert!(
        redirected(&from) > moved_before,
        "the old owner never redirected (MOVED) a request"
    );
    let session = manager.session_start(&cookie_request(&sid)).await.unwrap();
    assert_eq!(session.get::<i32>("after").await.unwrap(), Some(2));
    assert_eq!(
        target.call_str(&["HGET", &key, "#v"]).await,
        Reply::Bulk(Some(b"2".to_vec()))
    );
}

/// A slot being moved from one node to another.
struct Migration {
    from: String,
    to: String,
    slot: String,
    to_id: String,
}
