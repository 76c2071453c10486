//! What each kind of request costs, counted by memcached itself (`stats`) on two servers of
//! this test's own, so nothing else adds to the counts. Run with `--nocapture` to see the
//! table.

mod common;

use std::future::Future;
use std::time::Duration;

use common::{manager, release, start};
use session_core::conformance::Client;
use session_core::Manager;
use session_testkit::servers::RunningServer;

/// The counters of the commands the engine sends.
const COUNTERS: [&str; 8] = [
    "cmd_get",
    "cmd_set",
    "cmd_touch",
    "delete_hits",
    "delete_misses",
    "cas_hits",
    "cas_badval",
    "cas_misses",
];

/// Commands one request sent, by counter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Cost {
    get: u64,
    set: u64,
    touch: u64,
    delete: u64,
    cas_hits: u64,
    cas_badval: u64,
    cas_misses: u64,
}

impl Cost {
    const fn new(get: u64, set: u64, touch: u64, delete: u64) -> Cost {
        Cost {
            get,
            set,
            touch,
            delete,
            cas_hits: 0,
            cas_badval: 0,
            cas_misses: 0,
        }
    }

    const fn cas(mut self, hits: u64, badval: u64) -> Cost {
        self.cas_hits = hits;
        self.cas_badval = badval;
        self
    }

    fn round_trips(&self) -> u64 {
        self.get + self.set + self.touch + self.delete
    }
}

impl std::fmt::Display for Cost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} commands: get {}, set {}, touch {}, delete {} (cas_hits {}, cas_badval {}, cas_misses {})",
            self.round_trips(),
            self.get,
            self.set,
            self.touch,
            self.delete,
            self.cas_hits,
            self.cas_badval,
            self.cas_misses
        )
    }
}

/// The counters summed over `servers`.
async fn totals(servers: &[RunningServer]) -> [u64; COUNTERS.len()] {
    let mut sum = [0; COUNTERS.len()];
    for server in servers {
        let stats = common::stats(&server.url).await;
        for (slot, name) in sum.iter_mut().zip(COUNTERS) {
            *slot += stats.get(name).copied().unwrap_or(0);
        }
    }
    sum
}

/// The commands the servers ran while `f` ran.
async fn count<F: Future<Output = ()>>(servers: &[RunningServer], f: F) -> Cost {
    let before = totals(servers).await;
    f.await;
    let after = totals(servers).await;
    let d: Vec<u64> = after.iter().zip(before).map(|(a, b)| a - b).collect();
    Cost {
        get: d[0],
        set: d[1],
        touch: d[2],
        delete: d[3] + d[4],
        cas_hits: d[5],
        cas_badval: d[6],
        cas_misses: d[7],
    }
}

/// One request: read `n`, set `change` if given.
async fn request(manager: &Manager, client: &mut Client, change: Option<(&str, i64)>) {
    let session = start(manager, client).await;
    let _ = session.get::<i64>("n").await.unwrap();
    if let Some((key, value)) = change {
        session.set(key, &value).await.unwrap();
    }
    release(session, client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_per_request() {
    let Some(servers) = common::own_servers("commands_per_request", 2).await else {
        return;
    };
    let list = session_testkit::servers::join_urls(&servers);
    let manager = manager(&list, 3600).await;
    let mut table: Vec<(&str, Cost, Cost)> = Vec::new();
    let mut client = Client::new();

    let cost = count(&servers, request(&manager, &mut Client::new(), None)).await;
    table.push((
        "new visitor, session stays empty",
        Cost::new(0, 0, 0, 0),
        cost,
    ));
    let cost = count(&servers, request(&manager, &mut client, Some(("n", 1)))).await;
    table.push(("new session with data (add)", Cost::new(0, 1, 0, 0), cost));
    let cost = count(&servers, request(&manager, &mut client, None)).await;
    table.push(("read only", Cost::new(1, 0, 0, 0), cost));
    let cost = count(&servers, request(&manager, &mut client, Some(("n", 2)))).await;
    table.push((
        "changed (read + CAS write)",
        Cost::new(1, 1, 0, 0).cas(1, 0),
        cost,
    ));

    // A lifetime of 400 s refreshes the expiry once over 4 s of it is used (memcached
    // counts whole seconds: right after a refresh, at most one or two have gone).
    let short = common::manager(&list, 400).await;
    let mut due = Client::new();
    request(&short, &mut due, Some(("n", 1))).await;
    tokio::time::sleep(Duration::from_millis(5100)).await;
    let cost = count(&servers, request(&short, &mut due, None)).await;
    table.push((
        "read only, expiry refresh due (read + touch)",
        Cost::new(1, 0, 1, 0),
        cost,
    ));
    let cost = count(&servers, request(&short, &mut due, None)).await;
    table.push((
        "read only, right after the refresh",
        Cost::new(1, 0, 0, 0),
        cost,
    ));

    // Two requests load the session, then both change it: the second one's CAS write
    // loses, re-reads, replays its change and writes again.
    let conflict = count(&servers, async {
        let first = start(&manager, &client).await;
        let second = start(&manager, &client).await;
        first.set("a", &1).await.unwrap();
        second.set("b", &2).await.unwrap();
        first.release(&mut http::HeaderMap::new()).await.unwrap();
        second.release(&mut http::HeaderMap::new()).await.unwrap();
    })
    .await;
    table.push((
        "two concurrent changing requests",
        Cost::new(3, 3, 0, 0).cas(2, 1),
        conflict,
    ));
    let merged = start(&manager, &client).await;
    assert_eq!(merged.get::<i64>("a").await.unwrap(), Some(1));
    assert_eq!(merged.get::<i64>("b").await.unwrap(), Some(2));

    let cost = count(&servers, async {
        let session = start(&manager, &client).await;
        session.regenerate().await.unwrap();
        release(session, &mut client).await;
    })
    .await;
    table.push((
        "Session::regenerate (read, then mg + add + md)",
        Cost::new(2, 1, 0, 1),
        cost,
    ));
    let cost = count(&servers, async {
        let mut headers = http::HeaderMap::new();
        let session = manager
            .session_regenerate_id(&client.request("/"), &mut headers)
            .await
            .unwrap();
        session.release(&mut headers).await.unwrap();
        client.absorb(&headers);
    })
    .await;
    table.push((
        "Manager::session_regenerate_id (mg + add + md)",
        Cost::new(1, 1, 0, 1),
        cost,
    ));
    let cost = count(&servers, async {
        let session = start(&manager, &client).await;
        session.destroy().await.unwrap();
        release(session, &mut client).await;
    })
    .await;
    table.push(("destroy (read + md)", Cost::new(1, 0, 0, 1), cost));

    println!("\nmemcached commands per request (stats over both servers):");
    let mut wrong = Vec::new();
    for (what, expected, got) in &table {
        println!("  {what:<48} {got}");
        if got != expected {
            wrong.push(format!("{what}: {got}; expected {expected}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
