//! Test support for the beego-session workspace (not published).
//!
//! - [`servers`]: throwaway MariaDB, PostgreSQL, Redis and memcached servers on free loopback
//!   ports with their data in temporary directories, stopped and removed when their guard
//!   drops; they can be stopped and restarted on the same data. Redis also comes as a
//!   3-master [`servers::RedisCluster`] and as master + replica + sentinel
//!   ([`servers::RedisSentinel`]), with [`servers::redis::command_stats`] for counting the
//!   commands a request costs. `cargo xtask` starts the servers of a test run with it, and
//!   tests that need a server of their own use it directly.
//! - [`sql`]: the scenarios the SQL engines' tests share (behaviour beyond the conformance
//!   suite, surviving a server restart, statements per request), run against an engine the
//!   test describes with a [`sql::SqlEngine`].
//! - [`interrupt`]: Ctrl-C handling that lets server guards clean up.
//!
//! To start, give each test a table of its own and build its config string:
//!
//! ```
//! use session_testkit::sql::{unique_table, with_params};
//!
//! let table = unique_table("demo");
//! assert!(table.starts_with("demo_") && table.len() == "demo_".len() + 12);
//! let config = with_params("mysql://u:p@127.0.0.1:3306/db", &format!("table={table}"));
//! assert_eq!(config, format!("mysql://u:p@127.0.0.1:3306/db?table={table}"));
//! ```
//!
//! A test that needs its own server (here skipped when PostgreSQL is not installed):
//!
//! ```no_run
//! use session_testkit::servers::{self, ServerKind};
//!
//! let mut server = servers::start(ServerKind::Postgres).expect("PostgreSQL installed");
//! println!("connect to {}", server.url);
//! server.stop();
//! server.restart().expect("same data, same port");
//! ```
//!
//! A Redis Cluster of its own, and what its nodes counted:
//!
//! ```no_run
//! use session_testkit::servers::RedisCluster;
//!
//! let cluster = RedisCluster::start().expect("redis-server and redis-cli installed");
//! println!("REDIS_CLUSTER_URLS={}", cluster.urls());
//! cluster.reset_stats().expect("CONFIG RESETSTAT");
//! cluster.call(&[b"SET", b"key", b"value"]).expect("routed to the key's node");
//! assert_eq!(cluster.command_stats().expect("INFO commandstats").calls("set"), 1);
//! ```

pub mod interrupt;
pub mod servers;
pub mod sql;
