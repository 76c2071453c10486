//! What the engine's tests share: the servers `cargo xtask test` names (one topology per
//! run), config strings with a key prefix of each test's own, and raw access to the
//! servers (through session-testkit's RESP client) for hooks and command counts.
#![allow(dead_code)] // each test binary uses its own part

use std::sync::Arc;
use std::time::Duration;

use session_core::conformance::{Corruption, Suite};
use session_core::{Manager, ManagerConfig};
use session_redis::{session_key, Topology};
use session_testkit::servers::redis::{CommandStats, Connection, Reply};
use session_testkit::servers::{self, redis};

/// Commands that the servers run for themselves or for each other (sentinel pings and
/// hellos, replication acks), never for the engine: left out of command counts.
pub const NOISE: &[&str] = &[
    "ping", "publish", "replconf", "info", "role", "psync", "sync",
];

/// Where a topology's servers are, and how to reach them without the engine.
#[derive(Debug, Clone)]
pub struct Target {
    pub topology: Topology,
    /// The config string for the engine, without a prefix.
    base: String,
    raw: Raw,
}

#[derive(Debug, Clone)]
enum Raw {
    Standalone(String),
    Cluster(Vec<String>),
    Sentinel {
        sentinels: Vec<String>,
        master: String,
    },
}

/// The servers of `topology` that `cargo xtask test` started (or the environment names);
/// `None`, saying why on stderr, when this run is for another topology.
pub fn target(topology: Topology, test: &str) -> Option<Target> {
    let test = format!("{test} ({})", topology.engine());
    match topology {
        Topology::Standalone => {
            let url = servers::from_env(redis::URL_VAR, &test)?;
            Some(Target::standalone(&url))
        }
        Topology::Cluster => {
            let urls = servers::from_env(redis::CLUSTER_URLS_VAR, &test)?;
            Some(Target::cluster(&urls))
        }
        Topology::Sentinel => {
            let urls = servers::from_env(redis::SENTINEL_URLS_VAR, &test)?;
            Some(Target::sentinel(&urls, &redis::sentinel_master_from_env()))
        }
    }
}

fn split(urls: &str) -> Vec<String> {
    urls.split(';')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Target {
    pub fn standalone(url: &str) -> Self {
        Target {
            topology: Topology::Standalone,
            base: url.to_owned(),
            raw: Raw::Standalone(url.to_owned()),
        }
    }

    pub fn cluster(urls: &str) -> Self {
        Target {
            topology: Topology::Cluster,
            base: urls.to_owned(),
            raw: Raw::Cluster(split(urls)),
        }
    }

    pub fn sentinel(urls: &str, master: &str) -> Self {
        let base = with_param(urls, &format!("master_name={master}"));
        Target {
            topology: Topology::Sentinel,
            base,
            raw: Raw::Sentinel {
                sentinels: split(urls),
                master: master.to_owned(),
            },
        }
    }

    /// The config string with `prefix` and `extra` (`key=value&…`, may be empty).
    pub fn config(&self, prefix: &str, extra: &str) -> String {
        let mut params = format!("prefix={prefix}");
        if !extra.is_empty() {
            params.push('&');
            params.push_str(extra);
        }
        with_param(&self.base, &params)
    }

    /// A manager on this target with `prefix`, `extra` parameters and `config`'s settings.
    pub async fn manager(&self, prefix: &str, extra: &str, config: ManagerConfig) -> Manager {
        let config = ManagerConfig {
            provider_config: self.config(prefix, extra),
            ..config
        };
        Manager::new(self.topology.engine(), config)
            .await
            .expect("a manager on the test servers")
    }

    /// The data nodes whose command counts matter: the server, every cluster node, or the
    /// sentinels' current master.
    pub fn data_nodes(&self) -> Vec<String> {
        match &self.raw {
            Raw::Standalone(url) => vec![url.clone()],
            Raw::Cluster(urls) => urls.clone(),
            Raw::Sentinel { sentinels, master } => vec![master_addr(sentinels, master)],
        }
    }

    /// Sends one command as a client would: to the server, the key's cluster node
    /// (following `MOVED` and `ASK`), or the sentinels' master. The key is `args[1]`.
    pub async fn call(&self, args: Vec<Vec<u8>>) -> Reply {
        let raw = self.raw.clone();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            match &raw {
                Raw::Standalone(url) => Connection::open(url).and_then(|mut c| c.call_bytes(&args)),
                Raw::Cluster(urls) => Ok(cluster_call(urls, &args)),
                Raw::Sentinel { sentinels, master } => {
                    Connection::open(&master_addr(sentinels, master))
                        .and_then(|mut c| c.call_bytes(&args))
                }
            }
            .unwrap_or_else(|e| panic!("raw command {:?}: {e}", String::from_utf8_lossy(args[0])))
        })
        .await
        .expect("the raw command's thread")
    }

    /// `call` with text arguments.
    pub async fn call_str(&self, args: &[&str]) -> Reply {
        self.call(args.iter().map(|a| a.as_bytes().to_vec()).collect())
            .await
    }

    /// What the data nodes counted, added up, without [`NOISE`].
    pub async fn stats(&self) -> CommandStats {
        let nodes = self.data_nodes();
        tokio::task::spawn_blocking(move || {
            let mut total = CommandStats::default();
            for node in &nodes {
                total += &redis::command_stats(node).expect("INFO commandstats");
            }
            total
        })
        .await
        .expect("the stats thread")
    }

    /// Commands the engine caused, every data node together.
    pub async fn engine_calls(&self) -> usize {
        let stats = self.stats().await;
        let noise: u64 = NOISE.iter().map(|c| stats.calls(c)).sum();
        (stats.total_calls() - noise) as usize
    }

    /// Sets every data node's counters back to zero.
    pub async fn reset_stats(&self) {
        let nodes = self.data_nodes();
        tokio::task::spawn_blocking(move || {
            for node in &nodes {
                redis::reset_stats(node).expect("CONFIG RESETSTAT");
            }
        })
        .await
        .expect("the stats thread");
    }

    /// True when anything is stored under `key`.
    pub async fn exists(&self, key: &str) -> bool {
        self.call_str(&["EXISTS", key]).await == Reply::Integer(1)
    }
}

/// `urls` (`;`-separated) with `params` added to the first URL's query.
fn with_param(urls: &str, params: &str) -> String {
    let mut list = split(urls);
    if let Some(first) = list.first_mut() {
        let sep = if first.contains('?') { '&' } else { '?' };
        first.push(sep);
        first.push_str(params);
    }
    list.join(";")
}

/// The master the sentinels name.
fn master_addr(sentinels: &[String], master: &str) -> String {
    for sentinel in sentinels {
        let Ok(mut connection) = Connection::open(sentinel) else {
            continue;
        };
        let Ok(reply) = connection.call(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", master]) else {
            continue;
        };
        if let Some([host, port]) = reply.elements() {
            if let (Some(host), Some(port)) = (host.text(), port.text()) {
                return format!("{host}:{port}");
            }
        }
    }
    panic!("no sentinel of {sentinels:?} names master {master}")
}

/// One command to the node serving its key, following redirections.
fn cluster_call(urls: &[String], args: &[&[u8]]) -> Reply {
    let mut connection = urls
        .iter()
        .find_map(|url| Connection::open(url).ok())
        .expect("a reachable cluster node");
    for _ in 0..5 {
        let reply = connection.call_raw(args).expect("a cluster node's answer");
        let Reply::Error(message) = &reply else {
            return reply;
        };
        let words: Vec<&str> = message.split(' ').collect();
        match words.as_slice() {
            ["MOVED", _, target] => {
                connection = Connection::open(target).expect("the MOVED target")
            }
            ["ASK", _, target] => {
                connection = Connection::open(target).expect("the ASK target");
                connection.call(&["ASKING"]).expect("ASKING");
            }
            _ => return reply,
        }
    }
    panic!("more than 5 redirections")
}

/// A key prefix nobody else uses, so tests sharing a server never see each other's keys.
pub fn unique_prefix(tag: &str) -> String {
    let mut bytes = [0u8; 5];
    getrandom::fill(&mut bytes).expect("OS random");
    format!("t-{tag}-{}:", hex::encode(bytes))
}

/// Default manager settings with sessions living `secs` seconds.
pub fn lifetime(secs: u64) -> ManagerConfig {
    ManagerConfig {
        max_lifetime: secs,
        gc_lifetime: secs.max(1),
        ..ManagerConfig::default()
    }
}

/// The `Cookie` header for session `sid` under the default cookie name.
pub fn cookie_request(sid: &str) -> http::Request<()> {
    let mut request = http::Request::new(());
    let value = format!("beegosessionID={sid}")
        .parse()
        .expect("a cookie header");
    request.headers_mut().insert(http::header::COOKIE, value);
    request
}

/// Waits up to `limit` for `check` to hold, polling.
pub async fn eventually(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The conformance suite on `target` with `extra` parameters and the hooks that look into
/// Redis: the corruption hook writes junk into a session's version field (behind the
/// engine's back), `held_with` asks `EXISTS`.
pub fn suite(topology: Topology, target: &Arc<Target>, prefix: &str, extra: &str) -> Suite {
    let (corrupt, held) = (Arc::clone(target), Arc::clone(target));
    let (corrupt_prefix, held_prefix) = (prefix.to_owned(), prefix.to_owned());
    Suite::new(topology.engine())
        .provider_config(target.config(prefix, extra))
        .corrupt_with(move |c: Corruption| {
            let (target, key) = (Arc::clone(&corrupt), session_key(&corrupt_prefix, &c.sid));
            Box::pin(async move {
                let reply = target
                    .call_str(&["HSET", &key, "#v", "not a version"])
                    .await;
                assert_eq!(reply, Reply::Integer(0), "the corrupted field existed");
                c
            })
        })
        .held_with(move |sid| {
            let (target, key) = (Arc::clone(&held), session_key(&held_prefix, &sid));
            Box::pin(async move { target.exists(&key).await })
        })
}
