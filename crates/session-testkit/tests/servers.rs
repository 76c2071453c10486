//! The throwaway servers themselves. SQL: they accept the URL they report, keep their data
//! across a stop and restart, and expose what the statement tests count (PostgreSQL's
//! statement log and `pg_stat_statements`, MariaDB's `Com_*` counters); like the engines'
//! tests they run under `cargo xtask test`, which sets `MYSQL_URL` and `POSTGRES_URL`, and
//! plain `cargo test` skips them. Redis: the cluster, the sentinel topology and its failover,
//! the command counters and the append-only option.

use session_testkit::servers::redis::{self, Connection, Reply, RespError};
use session_testkit::servers::StartOptions;
use session_testkit::servers::{self, RedisCluster, RedisSentinel, RunningServer, ServerKind};
use session_testkit::sql::{Dialect, RawPool, SqlEngine};

/// A server of `dialect`'s kind (started as the engines' tests start theirs), with a table
/// `kept` holding one row; `None` when skipped.
async fn server_with_a_row(dialect: Dialect, test: &str) -> Option<(RunningServer, RawPool)> {
    dialect.server_url(test)?;
    let engine = SqlEngine {
        dialect,
        name: "unused",
        alias: "unused",
        connect: |_| unreachable!("no provider in these tests"),
        create_table_sql: |_| unreachable!("no provider in these tests"),
    };
    let options = StartOptions {
        log_statements: dialect == Dialect::Postgres,
        stat_statements: dialect == Dialect::Postgres,
        ..StartOptions::default()
    };
    let server = engine.start_server(options).await;
    let raw = RawPool::connect(dialect, &server.url).await;
    raw.execute("CREATE TABLE kept (x INT)").await;
    raw.execute("INSERT INTO kept (x) VALUES (1)").await;
    Some((server, raw))
}

/// Stops `server` (clients can no longer connect), restarts it, and checks the row is back.
async fn restart_keeps_the_row(dialect: Dialect, server: RunningServer) -> RunningServer {
    let url = server.url.clone();
    let server = tokio::task::spawn_blocking(move || {
        let mut server = server;
        server.stop();
        server
    })
    .await
    .unwrap();
    let refused = match dialect {
        Dialect::MySql => sqlx::MySqlPool::connect(&url).await.is_err(),
        Dialect::Postgres => sqlx::PgPool::connect(&url).await.is_err(),
    };
    assert!(
        refused,
        "{dialect:?} still accepts connections after stop()"
    );
    let server = tokio::task::spawn_blocking(move || {
        let mut server = server;
        server.restart().expect("restart");
        server
    })
    .await
    .unwrap();
    let raw = RawPool::connect(dialect, &server.url).await;
    assert_eq!(
        raw.count("kept").await,
        1,
        "the row did not survive a restart"
    );
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_logs_statements_and_keeps_data_across_restarts() {
    let Some((server, _raw)) = server_with_a_row(Dialect::Postgres, "postgres_server").await else {
        return;
    };
    let log = server.read_log().unwrap();
    assert!(
        log.contains("LOG:  statement: INSERT INTO kept"),
        "the INSERT is not in the log:\n{log}"
    );
    // pg_stat_statements counts it too, and the `session` role may read the counters.
    let pool = sqlx::PgPool::connect(&server.url).await.unwrap();
    let inserts: Option<i64> = sqlx::query_scalar(
        "SELECT sum(calls)::bigint FROM pg_stat_statements WHERE query LIKE 'INSERT INTO kept%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        inserts,
        Some(1),
        "pg_stat_statements did not count the INSERT"
    );
    pool.close().await;
    let server = restart_keeps_the_row(Dialect::Postgres, server).await;
    let log = server.read_log().unwrap();
    assert!(
        log.contains("LOG:  statement: INSERT INTO kept"),
        "the log before the restart was lost"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_counts_statements_and_keeps_data_across_restarts() {
    let Some((server, raw)) = server_with_a_row(Dialect::MySql, "mariadb_server").await else {
        return;
    };
    let before = raw.global_status(&["Com_insert"]).await;
    raw.execute("INSERT INTO kept (x) VALUES (2)").await;
    raw.execute("DELETE FROM kept WHERE x = 2").await;
    let after = raw.global_status(&["Com_insert"]).await;
    assert_eq!(after["Com_insert"] - before["Com_insert"], 1);
    restart_keeps_the_row(Dialect::MySql, server).await;
}

// Redis: these start their own servers (redis-server and redis-cli are required, as in CI),
// since until an engine package uses them `cargo xtask test` sets none of the Redis variables.

/// The value of `key` on the server at `addr`, read without following redirections.
fn get(addr: &str, key: &str) -> Result<Option<String>, RespError> {
    Ok(redis::call(addr, &["GET", key])?.text())
}

#[test]
fn redis_cluster_has_three_masters_covering_every_slot_and_routes_keys() {
    let cluster = RedisCluster::start().expect("cluster");
    let urls: Vec<String> = cluster.urls().split(';').map(str::to_owned).collect();
    assert_eq!(urls.len(), 3, "{urls:?}");
    for (url, addr) in urls.iter().zip(cluster.addrs()) {
        assert_eq!(*url, format!("redis://{addr}/"));
        let info = Connection::open(url)
            .and_then(|mut c| c.call_text(&["CLUSTER", "INFO"]))
            .unwrap();
        assert_eq!(
            redis::info_field(&info, "cluster_state"),
            Some("ok"),
            "{info}"
        );
        assert_eq!(
            redis::info_field(&info, "cluster_slots_assigned"),
            Some("16384")
        );
        assert_eq!(
            redis::info_field(&info, "cluster_size"),
            Some("3"),
            "{info}"
        );
        let nodes = Connection::open(addr)
            .and_then(|mut c| c.call_text(&["CLUSTER", "NODES"]))
            .unwrap();
        let masters = nodes.lines().filter(|l| l.contains("master")).count();
        assert_eq!(masters, 3, "{nodes}");
    }

    let key = "session:routed";
    let owner = cluster.node_for_key(key.as_bytes()).unwrap();
    let other = (owner + 1) % 3;
    let moved = redis::call(&cluster.addrs()[other], &["SET", key, "v1"]).unwrap_err();
    let expected = format!(" {}", cluster.addrs()[owner]);
    assert!(
        matches!(&moved, RespError::Server { message, .. }
            if message.starts_with("MOVED ") && message.ends_with(&expected)),
        "{moved}"
    );
    let set = cluster.call(&[b"SET", key.as_bytes(), b"v1"]).unwrap();
    assert_eq!(set.text().as_deref(), Some("OK"));
    assert_eq!(
        get(&cluster.addrs()[owner], key).unwrap().as_deref(),
        Some("v1")
    );
    assert!(
        get(&cluster.addrs()[other], key).is_err(),
        "read off its slot"
    );
    let via_cluster = cluster.call(&[b"GET", key.as_bytes()]).unwrap();
    assert_eq!(via_cluster.text().as_deref(), Some("v1"));
}

#[test]
fn redis_cluster_node_rejoins_after_a_restart() {
    let mut cluster = RedisCluster::start().expect("cluster");
    let key = "session:restarted";
    let owner = cluster.node_for_key(key.as_bytes()).unwrap();
    let addr = cluster.addrs()[owner].clone();
    cluster.stop_node(owner);
    assert!(
        matches!(Connection::open(&addr), Err(RespError::Connect { .. })),
        "node still up after stop_node"
    );
    cluster.restart_node(owner).expect("restart and rejoin");
    for addr in cluster.addrs() {
        let info = Connection::open(addr)
            .and_then(|mut c| c.call_text(&["CLUSTER", "INFO"]))
            .unwrap();
        assert_eq!(
            redis::info_field(&info, "cluster_state"),
            Some("ok"),
            "{info}"
        );
        assert_eq!(redis::info_field(&info, "cluster_known_nodes"), Some("3"));
    }
    assert_eq!(cluster.node_for_key(key.as_bytes()).unwrap(), owner);
    cluster.call(&[b"SET", key.as_bytes(), b"back"]).unwrap();
    assert_eq!(get(&addr, key).unwrap().as_deref(), Some("back"));
}

#[test]
fn redis_sentinel_failover_promotes_the_replica_with_its_data() {
    let topology = RedisSentinel::start().expect("master, replica and sentinel");
    assert_eq!(topology.master_name(), redis::DEFAULT_MASTER_NAME);
    assert_eq!(
        topology.sentinel_urls(),
        topology.sentinel().url,
        "one sentinel"
    );
    let [first, second] = topology.node_addrs() else {
        panic!("two data nodes: {:?}", topology.node_addrs());
    };
    assert_eq!(topology.master_addr().unwrap(), *first);
    assert_eq!(topology.master_index().unwrap(), 0);

    let mut master = Connection::open(first).unwrap();
    master.call(&["SET", "session:kept", "before"]).unwrap();
    let acked = master.call(&["WAIT", "1", "5000"]).unwrap();
    assert_eq!(acked, Reply::Integer(1), "the replica did not acknowledge");

    let new_master = topology.failover().expect("failover");
    assert_eq!(new_master, *second);
    assert_eq!(topology.master_addr().unwrap(), *second);
    assert_eq!(topology.master_index().unwrap(), 1);
    let role = redis::call(second, &["ROLE"]).unwrap();
    assert_eq!(
        role.elements().and_then(|r| r[0].text()).as_deref(),
        Some("master")
    );
    assert_eq!(
        get(second, "session:kept").unwrap().as_deref(),
        Some("before")
    );
    redis::call(second, &["SET", "session:after", "x"]).expect("the new master takes writes");
}

#[test]
fn redis_commandstats_count_commands_and_reset() {
    let server = servers::start(ServerKind::Redis).expect("redis");
    redis::call(&server.url, &["SET", "warm", "up"]).unwrap();
    redis::reset_stats(&server.url).unwrap();
    assert_eq!(redis::command_stats(&server.url).unwrap().total_calls(), 0);
    let mut connection = Connection::open(&server.url).unwrap();
    for value in ["1", "2", "3"] {
        connection.call(&["SET", "counted", value]).unwrap();
    }
    connection.call(&["GET", "counted"]).unwrap();
    let stats = redis::command_stats(&server.url).unwrap();
    assert_eq!(stats.calls("set"), 3, "{stats:?}");
    assert_eq!(stats.calls("get"), 1, "{stats:?}");
    assert_eq!(stats.total_calls(), 4, "{stats:?}");
}

/// Writes a key, kills the server with SIGKILL, restarts it, and returns the key's value.
fn value_after_kill(options: StartOptions) -> Option<String> {
    let mut server = servers::start_with(ServerKind::Redis, options).expect("redis");
    redis::call(&server.url, &["SET", "session:durable", "kept"]).unwrap();
    let pid = libc::pid_t::try_from(server.pid()).unwrap();
    // SAFETY: kill has no memory-safety preconditions; the pid is our own child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    server.restart().expect("restart");
    get(&server.url, "session:durable").unwrap()
}

#[test]
fn redis_append_only_keeps_acknowledged_writes_across_kill_9() {
    let durable = StartOptions {
        append_only: true,
        ..StartOptions::default()
    };
    assert_eq!(value_after_kill(durable).as_deref(), Some("kept"));
    assert_eq!(
        value_after_kill(StartOptions::default()),
        None,
        "persisted by default"
    );
}
