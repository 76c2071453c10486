//! Redis session engines (placeholder docs, replaced below).
#![warn(missing_docs)]

mod backend;
mod config;
mod conn;
mod count;
mod layout;
mod provider;
mod read;
mod scripts;
mod write;

use std::sync::Arc;

pub use backend::Backend;
pub use config::{
    Address, RedisConfig, Topology, DEFAULT_MASTER_NAME, DEFAULT_POOL_SIZE, DEFAULT_PREFIX,
};
pub use conn::RedisFailure;
pub use deadpool_redis::redis;
pub use provider::RedisProvider;

/// The key session `sid` is stored under with key prefix `prefix`: `<prefix>{<sid>}`.
pub fn session_key(prefix: &str, sid: &str) -> String {
    layout::Keys::new(prefix).session(sid)
}

fn factory(init: session_core::ProviderInit) -> session_core::ProviderFuture {
    Box::pin(async move {
        let provider = RedisProvider::connect(&init).await?;
        Ok(Arc::new(provider) as Arc<dyn session_core::Provider>)
    })
}

session_core::register_provider!(REDIS, "redis", "session-redis", factory);
session_core::register_provider!(REDIS_CLUSTER, "redis_cluster", "session-redis", factory);
session_core::register_provider!(REDIS_SENTINEL, "redis_sentinel", "session-redis", factory);
