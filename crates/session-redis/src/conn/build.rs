//! Building a [`Redis`] from a [`RedisConfig`]: redis-rs clients with the timeouts, a pool
//! per provider, and the background tasks (idle reaping, the sentinel watcher).

use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::{Pool, QueueMode};
use deadpool::Runtime;
use deadpool_redis::redis::cluster::ClusterClientBuilder;
use deadpool_redis::redis::sentinel::{
    SentinelClient, SentinelNodeConnectionInfo, SentinelServerType,
};
use deadpool_redis::redis::{
    AsyncConnectionConfig, ConnectionInfo, IntoConnectionInfo, RedisConnectionInfo, RedisResult,
    TlsMode,
};
use session_core::{Error, Result};

use super::manager::{ClusterManager, Generation, NodeManager, NodeSource};
use super::{sentinel, AbortOnDrop, Pools, Redis};
use crate::config::{Address, RedisConfig, Topology};

/// How often a cluster client retries a command (after `MOVED`, `ASK`, `TRYAGAIN` or a lost
/// node connection) before giving up; the operation's own limit bounds the total anyway.
const CLUSTER_RETRIES: u32 = 6;

fn connection_info(
    address: &Address,
    username: Option<&str>,
    password: Option<&str>,
    db: i64,
) -> RedisResult<ConnectionInfo> {
    let mut redis = RedisConnectionInfo::default().set_db(db);
    if let Some(username) = username {
        redis = redis.set_username(username);
    }
    if let Some(password) = password {
        redis = redis.set_password(password);
    }
    Ok(address
        .to_redis()
        .into_connection_info()?
        .set_redis_settings(redis))
}

impl Redis {
    /// Connections for `config` (made lazily: nothing is sent until the first operation).
    pub(crate) fn new(config: &RedisConfig) -> Result<Self> {
        let engine = config.topology.engine();
        let failed = |e: deadpool_redis::redis::RedisError| {
            Error::backend(engine, "set up the connection pool", e.to_string())
        };
        let generation = Arc::new(Generation::default());
        let timeouts = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(Some(config.response_timeout));
        let (user, pass) = (config.username.as_deref(), config.password.as_deref());
        let mut tasks = Vec::new();
        let pools = match config.topology {
            Topology::Standalone => {
                let info =
                    connection_info(&config.addresses[0], user, pass, config.db).map_err(failed)?;
                let manager =
                    deadpool_redis::Manager::new_with_config(info, timeouts).map_err(failed)?;
                let manager = NodeManager {
                    source: NodeSource::Direct(manager),
                    generation: Arc::clone(&generation),
                };
                Pools::Node(pool(manager, config, engine)?)
            }
            Topology::Cluster => {
                let nodes = config
                    .addresses
                    .iter()
                    .map(|a| connection_info(a, user, pass, 0))
                    .collect::<RedisResult<Vec<_>>>()
                    .map_err(failed)?;
                let mut builder = ClusterClientBuilder::new(nodes)
                    .connection_timeout(config.connect_timeout)
                    .response_timeout(config.response_timeout)
                    .retries(CLUSTER_RETRIES)
                    .min_retry_wait(10)
                    .max_retry_wait(200);
                if let Some(user) = user {
                    builder = builder.username(user);
                }
                if let Some(pass) = pass {
                    builder = builder.password(pass);
                }
                let manager = ClusterManager {
                    client: builder.build().map_err(failed)?,
                    generation: Arc::clone(&generation),
                };
                Pools::Cluster(pool(manager, config, engine)?)
            }
            Topology::Sentinel => {
                let sentinels = config
                    .addresses
                    .iter()
                    .map(|a| {
                        let (u, p) = (
                            config.sentinel_username.as_deref(),
                            config.sentinel_password.as_deref(),
                        );
                        connection_info(a, u, p, 0)
                    })
                    .collect::<RedisResult<Vec<_>>>()
                    .map_err(failed)?;
                let mut node = RedisConnectionInfo::default().set_db(config.db);
                if let Some(user) = user {
                    node = node.set_username(user);
                }
                if let Some(pass) = pass {
                    node = node.set_password(pass);
                }
                let mut node =
                    SentinelNodeConnectionInfo::default().set_redis_connection_info(node);
                if config.addresses.iter().any(Address::is_tls) {
                    node = node.set_tls_mode(TlsMode::Secure);
                }
                let client = SentinelClient::build(
                    sentinels.clone(),
                    config.master_name.clone(),
                    Some(node),
                    SentinelServerType::Master,
                )
                .map_err(failed)?;
                tasks.push(AbortOnDrop(
                    tokio::spawn(sentinel::watch(
                        sentinels,
                        config.master_name.clone(),
                        config.connect_timeout,
                        Arc::downgrade(&generation),
                    ))
                    .abort_handle(),
                ));
                let manager = NodeManager {
                    source: NodeSource::Sentinel(tokio::sync::Mutex::new(client), timeouts),
                    generation: Arc::clone(&generation),
                };
                Pools::Node(pool(manager, config, engine)?)
            }
        };
        if let Some(idle) = config.idle_timeout {
            tasks.push(AbortOnDrop(reap_idle(
                &pools,
                idle,
                config.idle_check_frequency,
            )));
        }
        Ok(Redis {
            engine,
            topology: config.topology,
            target: config.describe().into(),
            pools,
            generation,
            limit: config.connect_timeout + config.response_timeout,
            connect_timeout: config.connect_timeout,
            response_timeout: config.response_timeout,
            pool_size: config.pool_size,
            max_retries: config.max_retries,
            _tasks: tasks,
        })
    }
}

fn pool<M: deadpool::managed::Manager>(
    manager: M,
    config: &RedisConfig,
    engine: &'static str,
) -> Result<Pool<M>> {
    Pool::builder(manager)
        .max_size(config.pool_size)
        // The most recently used connection first: a quiet app keeps few connections warm.
        .queue_mode(QueueMode::Lifo)
        .wait_timeout(Some(config.connect_timeout))
        .create_timeout(Some(config.connect_timeout))
        .recycle_timeout(Some(config.connect_timeout))
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|e| Error::backend(engine, "set up the connection pool", e.to_string()))
}

/// Closes pooled connections idle longer than `idle`, every `every` (beego's `idleTimeout`
/// and `idleCheckFrequency`).
fn reap_idle(pools: &Pools, idle: Duration, every: Duration) -> tokio::task::AbortHandle {
    fn spawn<M: deadpool::managed::Manager + 'static>(
        pool: deadpool::managed::WeakPool<M>,
        idle: Duration,
        every: Duration,
    ) -> tokio::task::AbortHandle {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(pool) = pool.upgrade() else { return };
                let removed = pool
                    .retain(|_, metrics| metrics.last_used() < idle)
                    .removed
                    .len();
                if removed > 0 {
                    tracing::debug!(removed, "closed idle Redis connections");
                }
            }
        })
        .abort_handle()
    }
    match pools {
        Pools::Node(pool) => spawn(pool.weak(), idle, every),
        Pools::Cluster(pool) => spawn(pool.weak(), idle, every),
    }
}
