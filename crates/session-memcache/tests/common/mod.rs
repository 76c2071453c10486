//! What the engine's tests share: the servers (`MEMCACHE_SERVERS`, or throwaway ones of a
//! test's own), managers on them, and a look at the servers from outside the engine (raw
//! meta commands, `stats`).
#![allow(dead_code)] // each test file uses its own part

use std::collections::HashMap;
use std::io::Write;

use memcache::exp::{AsyncMetaClient, Get, Meta, Set, Ttl};
use session_core::conformance::Client;
use session_core::{Manager, ManagerConfig, Session};
use session_memcache::Placement;
use session_testkit::servers::{self, RunningServer, ServerKind};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The variable naming the test servers (set by `cargo xtask test`).
pub const SERVERS_VAR: &str = "MEMCACHE_SERVERS";

/// The servers the tests use (`host:port;host:port`), from `MEMCACHE_SERVERS`. `None`, after
/// saying that `test` is skipped, when it is not set (a plain `cargo test`), as the SQL
/// engines' tests do.
pub fn servers(test: &str) -> Option<String> {
    match std::env::var(SERVERS_VAR) {
        Ok(list) if !list.trim().is_empty() => Some(list.trim().to_owned()),
        _ => {
            // Straight to stderr: the harness hides the output of passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "{test}: skipped: {SERVERS_VAR} not set (run cargo xtask test)"
            );
            None
        }
    }
}

/// `count` throwaway memcached servers for a test of its own (the ones it stops, or whose
/// counters it reads), when the test run has servers at all (`MEMCACHE_SERVERS`).
pub async fn own_servers(test: &str, count: usize) -> Option<Vec<RunningServer>> {
    servers(test)?;
    let started =
        tokio::task::spawn_blocking(move || servers::start_many(ServerKind::Memcached, count))
            .await
            .expect("the server-starting thread");
    Some(started.unwrap_or_else(|err| panic!("starting memcached: {err}")))
}

/// Stops (`start_again` false) or restarts `server` off the async runtime.
pub async fn restart(mut server: RunningServer, start_again: bool) -> RunningServer {
    tokio::task::spawn_blocking(move || {
        if start_again {
            server
                .restart()
                .unwrap_or_else(|err| panic!("restarting memcached: {err}"));
        } else {
            server.stop();
        }
        server
    })
    .await
    .expect("the server-restarting thread")
}

/// A manager on the engine with `provider_config` and `max_lifetime` seconds.
pub async fn manager(provider_config: &str, max_lifetime: u64) -> Manager {
    let config = ManagerConfig {
        provider_config: provider_config.to_owned(),
        max_lifetime,
        ..ManagerConfig::default()
    };
    Manager::new("memcache", config)
        .await
        .expect("a manager on memcached")
}

/// The session `client`'s cookie names.
pub async fn start(manager: &Manager, client: &Client) -> Session {
    manager
        .session_start(&client.request("/"))
        .await
        .expect("session_start")
}

/// Releases `session` into `client`'s cookies.
pub async fn release(session: Session, client: &mut Client) {
    let mut headers = http::HeaderMap::new();
    session.release(&mut headers).await.expect("release");
    client.absorb(&headers);
}

/// A client whose stored session holds `key = value`, and the session's id.
pub async fn stored(manager: &Manager, key: &str, value: i64) -> (Client, String) {
    let mut client = Client::new();
    let session = start(manager, &client).await;
    session.set(key, &value).await.unwrap();
    let sid = session.id();
    release(session, &mut client).await;
    (client, sid)
}

/// The server list `a;b` as the engine's placement names them.
pub fn names(list: &str) -> Vec<String> {
    session_memcache::MemcacheConfig::parse(list)
        .expect("a server list")
        .servers
}

/// A client of one server, to look at it from outside the engine.
pub async fn raw(server: &str) -> AsyncMetaClient {
    AsyncMetaClient::connect(server.to_owned())
        .await
        .expect("a raw memcached client")
}

/// The server of `list` that the engine's placement puts `key` on.
pub fn home<'a>(list: &'a [String], key: &str) -> &'a str {
    &list[Placement::server_for(key.as_bytes(), list)]
}

/// The item `key` on `server` as memcached has it: its value and seconds left, or `None`.
pub async fn item(server: &str, key: &str) -> Option<(Vec<u8>, i64)> {
    let result = raw(server)
        .await
        .run(Get::new(key).meta(Meta::NONE.ttl()))
        .await
        .expect("mg");
    result.hit().then(|| {
        (
            result.value.unwrap_or_default(),
            result.item.ttl.unwrap_or(0),
        )
    })
}

/// Overwrites the item `key` on `server` with `bytes` for a minute.
pub async fn overwrite(server: &str, key: &str, bytes: &[u8]) {
    let set = Set::new(key, bytes).ttl(Ttl::secs(60));
    assert!(raw(server).await.run(set).await.expect("ms").applied());
}

/// The counters memcached's `stats` reports for `server`.
pub async fn stats(server: &str) -> HashMap<String, u64> {
    let mut stream = TcpStream::connect(server)
        .await
        .expect("a connection for stats");
    stream.write_all(b"stats\r\n").await.expect("stats");
    let mut lines = BufReader::new(stream).lines();
    let mut counters = HashMap::new();
    while let Some(line) = lines.next_line().await.expect("a stats line") {
        if line == "END" {
            break;
        }
        let mut words = line.split(' ');
        if let (Some("STAT"), Some(name), Some(value)) = (words.next(), words.next(), words.next())
        {
            if let Ok(value) = value.parse() {
                counters.insert(name.to_owned(), value);
            }
        }
    }
    counters
}

/// The commands that read or write items (`cmd_get`, `cmd_set`, `cmd_touch`, deletes), summed
/// over `servers` since they started.
pub async fn commands(servers: &[String]) -> usize {
    let mut total = 0;
    for server in servers {
        let stats = stats(server).await;
        let count = |name: &str| stats.get(name).copied().unwrap_or(0);
        total += count("cmd_get")
            + count("cmd_set")
            + count("cmd_touch")
            + count("delete_hits")
            + count("delete_misses");
    }
    usize::try_from(total).unwrap_or(usize::MAX)
}
