//! The deadpool managers: how pooled connections are made, and when a pooled one is stale.
//!
//! deadpool-redis's own managers `PING` every connection each time it leaves the pool: one
//! more round trip per request, which is what this engine exists to avoid. These managers
//! make connections the same way (deadpool-redis's for a single server, redis-rs's cluster
//! and sentinel clients otherwise) but recycle without I/O: a connection is stale when it
//! predates the last [`Generation`] bump, which happens whenever one connection is found
//! dead (a server restart), refused as read-only, or the sentinels announce a new master.

use std::sync::atomic::{AtomicU64, Ordering};

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use deadpool_redis::redis::aio::MultiplexedConnection;
use deadpool_redis::redis::cluster::ClusterClient;
use deadpool_redis::redis::cluster_async::ClusterConnection;
use deadpool_redis::redis::sentinel::SentinelClient;
use deadpool_redis::redis::{AsyncConnectionConfig, RedisError};

/// Counts the events after which every pooled connection must be replaced.
#[derive(Debug, Default)]
pub(crate) struct Generation(AtomicU64);

impl Generation {
    pub(crate) fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Makes every connection made so far stale.
    pub(crate) fn bump(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// A pooled connection and the generation it was made in.
pub(crate) struct Tagged<C> {
    pub(crate) conn: C,
    generation: u64,
}

fn recycle<C>(conn: &Tagged<C>, generation: &Generation) -> RecycleResult<RedisError> {
    if conn.generation == generation.current() {
        Ok(())
    } else {
        Err(RecycleError::message(
            "made before a lost connection or a failover; replaced",
        ))
    }
}

/// Where a single-server connection comes from.
pub(crate) enum NodeSource {
    /// One server (deadpool-redis's manager, with the connect and response timeouts).
    Direct(deadpool_redis::Manager),
    /// The master the sentinels name, asked anew for every connection.
    Sentinel(tokio::sync::Mutex<SentinelClient>, AsyncConnectionConfig),
}

/// Connections to one server: the standalone server or the sentinels' master.
pub(crate) struct NodeManager {
    pub(crate) source: NodeSource,
    pub(crate) generation: std::sync::Arc<Generation>,
}

impl managed::Manager for NodeManager {
    type Type = Tagged<MultiplexedConnection>;
    type Error = RedisError;

    async fn create(&self) -> Result<Self::Type, RedisError> {
        let generation = self.generation.current();
        let conn = match &self.source {
            NodeSource::Direct(manager) => managed::Manager::create(manager).await?,
            NodeSource::Sentinel(client, config) => {
                client
                    .lock()
                    .await
                    .get_async_connection_with_config(config)
                    .await?
            }
        };
        Ok(Tagged { conn, generation })
    }

    async fn recycle(&self, conn: &mut Self::Type, _: &Metrics) -> RecycleResult<RedisError> {
        recycle(conn, &self.generation)
    }
}

/// Connections to a Redis Cluster (each follows `MOVED`/`ASK` and holds one connection per
/// node).
pub(crate) struct ClusterManager {
    pub(crate) client: ClusterClient,
    pub(crate) generation: std::sync::Arc<Generation>,
}

impl managed::Manager for ClusterManager {
    type Type = Tagged<ClusterConnection>;
    type Error = RedisError;

    async fn create(&self) -> Result<Self::Type, RedisError> {
        let generation = self.generation.current();
        let conn = self.client.get_async_connection().await?;
        Ok(Tagged { conn, generation })
    }

    async fn recycle(&self, conn: &mut Self::Type, _: &Metrics) -> RecycleResult<RedisError> {
        recycle(conn, &self.generation)
    }
}
