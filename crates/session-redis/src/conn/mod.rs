//! [`Redis`]: one provider's connections (a deadpool pool for the topology), and
//! [`Redis::run`], which bounds, retries and explains every operation.

mod build;
mod failure;
mod manager;
mod sentinel;

use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::{Object, Pool};
use deadpool_redis::redis::aio::ConnectionLike;
use deadpool_redis::redis::cluster_routing::RoutingInfo;
use deadpool_redis::redis::{Cmd, Pipeline, RedisFuture, ScriptInvocation, Value};
use session_core::{Error, Result};

pub(crate) use failure::Failure;
pub use failure::RedisFailure;
use manager::{ClusterManager, Generation, NodeManager};

use crate::config::Topology;

/// One operation: a script, a command, or (cluster only) a command for one node.
#[derive(Clone, Copy)]
pub(crate) enum Op<'a> {
    Script(&'a ScriptInvocation<'a>),
    Command(&'a Cmd),
    Routed(&'a Cmd, &'a RoutingInfo),
}

enum Pools {
    Node(Pool<NodeManager>),
    Cluster(Pool<ClusterManager>),
}

/// A connection checked out of the pool.
enum Conn {
    Node(Object<NodeManager>),
    Cluster(Object<ClusterManager>),
}

impl Conn {
    /// Takes a dead connection out of the pool for good.
    fn discard(self) {
        match self {
            Conn::Node(conn) => drop(Object::take(conn)),
            Conn::Cluster(conn) => drop(Object::take(conn)),
        }
    }

    async fn run(&mut self, op: Op<'_>) -> deadpool_redis::redis::RedisResult<Value> {
        match (op, self) {
            (Op::Script(script), conn) => script.invoke_async(conn).await,
            (Op::Command(cmd), conn) => cmd.query_async(conn).await,
            (Op::Routed(cmd, routing), Conn::Cluster(conn)) => {
                conn.conn.route_command(cmd.clone(), routing.clone()).await
            }
            (Op::Routed(cmd, _), conn) => cmd.query_async(conn).await,
        }
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Node(conn) => conn.conn.req_packed_command(cmd),
            Conn::Cluster(conn) => conn.conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Node(conn) => conn.conn.req_packed_commands(cmd, offset, count),
            Conn::Cluster(conn) => conn.conn.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Node(conn) => conn.conn.get_db(),
            Conn::Cluster(conn) => conn.conn.get_db(),
        }
    }
}

/// Aborts a background task when the provider goes away.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One provider's connections to its servers.
pub(crate) struct Redis {
    engine: &'static str,
    topology: Topology,
    /// Where the servers are, for messages (no password).
    target: Arc<str>,
    pools: Pools,
    generation: Arc<Generation>,
    /// Bound on one operation, waiting for a connection included.
    limit: Duration,
    connect_timeout: Duration,
    response_timeout: Duration,
    pool_size: usize,
    max_retries: u32,
    _tasks: Vec<AbortOnDrop>,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("engine", &self.engine)
            .field("target", &self.target)
            .field("pool_size", &self.pool_size)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl Redis {
    /// The engine's registered name.
    pub(crate) fn engine(&self) -> &'static str {
        self.engine
    }

    /// The topology.
    pub(crate) fn topology(&self) -> Topology {
        self.topology
    }

    /// Runs `op`: waits at most the connect timeout for a connection, and at most the
    /// connect plus the response timeout in all; retries on a fresh connection (up to
    /// `max_retries` times) when the one used turns out dead or read-only, after marking
    /// every pooled connection stale. Errors name the engine, `action` and the servers.
    pub(crate) async fn run(&self, action: &'static str, op: Op<'_>) -> Result<Value> {
        let deadline = tokio::time::Instant::now() + self.limit;
        let mut retries = 0;
        loop {
            let attempt = tokio::time::timeout_at(deadline, self.attempt(op)).await;
            match attempt {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(failure)) if failure.is_connection_lost() && retries < self.max_retries => {
                    retries += 1;
                    tracing::warn!(engine = self.engine, action, target = %self.target, retries, error = %failure, "connection lost; retrying on a new one");
                }
                Ok(Err(failure)) => return Err(self.error(action, failure)),
                Err(_) => return Err(self.error(action, Failure::TimedOut(self.limit))),
            }
        }
    }

    async fn attempt(&self, op: Op<'_>) -> std::result::Result<Value, Failure> {
        let wait = |e| Failure::from_pool(e, self.connect_timeout, self.pool_size);
        let mut conn = match &self.pools {
            Pools::Node(pool) => Conn::Node(pool.get().await.map_err(wait)?),
            Pools::Cluster(pool) => Conn::Cluster(pool.get().await.map_err(wait)?),
        };
        match conn.run(op).await {
            Ok(value) => Ok(value),
            Err(error) => {
                if failure::is_connection_lost(&error) {
                    // A server restart or failover kills every connection of the pool, not
                    // only this one: replace them all, without a round trip to find out.
                    self.generation.bump();
                    conn.discard();
                }
                if error.is_timeout() {
                    return Err(Failure::TimedOut(self.response_timeout));
                }
                Err(Failure::Redis(error))
            }
        }
    }

    /// A backend error for `action`, naming the engine and the servers.
    pub(crate) fn error(&self, action: &'static str, failure: Failure) -> Error {
        Error::backend(
            self.engine,
            action,
            RedisFailure::new(Arc::clone(&self.target), failure),
        )
    }
}
