//! What each kind of request costs, counted by the servers (`INFO commandstats`, every
//! cluster node added up; for sentinel, the master): the commands the engine sends (its
//! round trips) and the commands its scripts run inside Redis. Each scenario's counts are
//! asserted exactly; run with `--nocapture` to see the table. This binary runs nothing
//! else, so the counters see only these requests.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use http::HeaderMap;
use session_core::{Manager, Session};
use session_redis::Topology;

use common::{cookie_request, Target};

type Counts = BTreeMap<String, u64>;

fn counts(pairs: &[(&str, u64)]) -> Counts {
    let mut out = Counts::new();
    for (command, calls) in pairs {
        *out.entry((*command).to_owned()).or_default() += calls;
    }
    out
}

/// One scenario's expected counts: the commands sent, and the commands run by scripts.
struct Expected {
    sent: &'static [(&'static str, u64)],
    inside: &'static [(&'static str, u64)],
}

struct Costs {
    target: Target,
    rows: Vec<String>,
    failures: Vec<String>,
}

impl Costs {
    /// Counts what `request` costs and compares it with `expected`.
    async fn measure<F: std::future::Future<Output = ()>>(
        &mut self,
        scenario: &str,
        expected: Expected,
        request: F,
    ) {
        self.target.reset_stats().await;
        request.await;
        let stats = self.target.stats().await;
        let mut seen = Counts::new();
        for (command, stat) in stats.iter().filter(|(c, _)| !common::NOISE.contains(c)) {
            if stat.calls > 0 {
                seen.insert(command.to_owned(), stat.calls);
            }
        }
        let (sent, inside) = (counts(expected.sent), counts(expected.inside));
        let mut all = sent.clone();
        for (command, calls) in &inside {
            *all.entry(command.clone()).or_default() += calls;
        }
        let round_trips: u64 = sent.values().sum();
        self.rows.push(format!(
            "{:<50} {:>2} round trip(s): {:?}; inside scripts: {:?}",
            scenario, round_trips, sent, inside
        ));
        if seen != all {
            self.failures.push(format!(
                "{scenario}: expected {all:?}, the servers counted {seen:?}"
            ));
        }
    }
}

/// A stored session holding `user` and `asta`; returns its id.
async fn stored(manager: &Manager) -> String {
    let session = manager
        .session_start(&http::Request::new(()))
        .await
        .unwrap();
    session.set("user", "astaxie").await.unwrap();
    session.set("asta", &1u64).await.unwrap();
    session.release(&mut HeaderMap::new()).await.unwrap();
    session.id()
}

async fn start(manager: &Manager, sid: &str) -> Session {
    let session = manager.session_start(&cookie_request(sid)).await.unwrap();
    assert_eq!(session.id(), sid, "the stored session was not found");
    session
}

async fn release(session: &Session) {
    session
        .release_if_present(&mut HeaderMap::new())
        .await
        .unwrap();
}

async fn costs(topology: Topology) {
    let Some(target) = common::target(topology, "costs") else {
        return;
    };
    let cluster = topology == Topology::Cluster;
    let prefix = common::unique_prefix("costs");
    // 10 s: the refresh slack is 100 ms, so a read 300 ms after a write refreshes.
    let manager = target.manager(&prefix, "", common::lifetime(10)).await;
    let mut costs = Costs {
        target,
        rows: Vec::new(),
        failures: Vec::new(),
    };

    // Warm up: connections made and every script loaded, on every node.
    for _ in 0..6 {
        let sid = stored(&manager).await;
        let session = start(&manager, &sid).await;
        session.set("asta", &2u64).await.unwrap();
        release(&session).await;
        let moved = manager
            .session_regenerate_id(&cookie_request(&sid), &mut HeaderMap::new())
            .await
            .unwrap();
        release(&moved).await;
        manager
            .session_destroy(&cookie_request(&moved.id()), &mut HeaderMap::new())
            .await
            .unwrap();
    }
    let sid = stored(&manager).await;

    costs
        .measure(
            "new visitor, session stays empty",
            Expected {
                sent: &[],
                inside: &[],
            },
            async {
                let session = manager
                    .session_start(&http::Request::new(()))
                    .await
                    .unwrap();
                session.release(&mut HeaderMap::new()).await.unwrap();
            },
        )
        .await;
    costs
        .measure(
            "new session with data",
            Expected {
                sent: &[("evalsha", 1)],
                inside: &[("hmget", 1), ("exists", 1), ("hset", 1), ("pexpire", 1)],
            },
            async {
                stored(&manager).await;
            },
        )
        .await;
    costs
        .measure(
            "read-only (expiry refresh not due)",
            Expected {
                sent: &[("hgetall", 1)],
                inside: &[],
            },
            async {
                let session = start(&manager, &sid).await;
                assert_eq!(
                    session.get::<String>("user").await.unwrap().as_deref(),
                    Some("astaxie")
                );
                release(&session).await;
            },
        )
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    costs
        .measure(
            "read-only (expiry refresh due: + a touch)",
            Expected {
                sent: &[("hgetall", 1), ("evalsha", 1)],
                inside: &[("pexpire", 1), ("hset", 1)],
            },
            async {
                let session = start(&manager, &sid).await;
                release(&session).await;
            },
        )
        .await;
    costs
        .measure(
            "changed (one key set)",
            Expected {
                sent: &[("hgetall", 1), ("evalsha", 1)],
                inside: &[("hmget", 1), ("hset", 1), ("pexpire", 1)],
            },
            async {
                let session = start(&manager, &sid).await;
                session.set("asta", &3u64).await.unwrap();
                release(&session).await;
            },
        )
        .await;
    let login = if cluster {
        Expected {
            sent: &[("hgetall", 1), ("evalsha", 3)],
            inside: &[
                ("exists", 2),
                ("pttl", 1),
                ("rename", 1),
                ("hgetall", 1),
                ("hset", 3),
                ("pexpire", 3),
                ("hmget", 1),
            ],
        }
    } else {
        Expected {
            sent: &[("hgetall", 1), ("evalsha", 2)],
            inside: &[
                ("exists", 2),
                ("rename", 1),
                ("pttl", 1),
                ("hgetall", 1),
                ("hmget", 1),
                ("hset", 1),
                ("pexpire", 1),
            ],
        }
    };
    let login_sid = stored(&manager).await;
    costs
        .measure(
            "login: read, set a key, regenerate at release",
            login,
            async {
                let session = start(&manager, &login_sid).await;
                session.set("user", "asta").await.unwrap();
                session.regenerate().await.unwrap();
                release(&session).await;
                assert_ne!(session.id(), login_sid);
            },
        )
        .await;
    let regenerate = if cluster {
        Expected {
            sent: &[("evalsha", 2)],
            inside: &[
                ("exists", 2),
                ("pttl", 1),
                ("rename", 1),
                ("hset", 2),
                ("pexpire", 2),
                ("hgetall", 1),
            ],
        }
    } else {
        Expected {
            sent: &[("evalsha", 1)],
            inside: &[("exists", 2), ("rename", 1), ("pttl", 1), ("hgetall", 1)],
        }
    };
    let mut moved = String::new();
    costs
        .measure("session_regenerate_id", regenerate, async {
            let session = manager
                .session_regenerate_id(&cookie_request(&sid), &mut HeaderMap::new())
                .await
                .unwrap();
            moved = session.id();
            release(&session).await;
        })
        .await;
    assert_ne!(moved, sid);
    let _ = start(&manager, &moved).await;
    costs
        .measure(
            "destroy",
            Expected {
                sent: &[("del", 1)],
                inside: &[],
            },
            async {
                manager
                    .session_destroy(&cookie_request(&moved), &mut HeaderMap::new())
                    .await
                    .unwrap();
            },
        )
        .await;

    println!(
        "What a request costs on {} (server counts):",
        topology.engine()
    );
    for row in &costs.rows {
        println!("  {row}");
    }
    assert!(costs.failures.is_empty(), "{}", costs.failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone() {
    costs(Topology::Standalone).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster() {
    costs(Topology::Cluster).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel() {
    costs(Topology::Sentinel).await;
}
