//! [`MemcacheProvider`]: the engine, a [`RowProvider`] on [`Backend`].

use session_core::row::RowProvider;
use session_core::{Lifetimes, ProviderInit, Result};

use crate::backend::Backend;
use crate::client::Servers;
use crate::config::MemcacheConfig;

/// The memcached session engine: one pooled client over the configured servers per
/// provider.
#[derive(Debug, Clone)]
pub struct MemcacheProvider {
    rows: RowProvider<Backend>,
}

session_core::forward_provider!(MemcacheProvider => rows);

impl MemcacheProvider {
    /// A provider for `init.config` (see the [crate docs](crate#configuration)) with the
    /// manager's lifetimes (`ProviderInit::new(name, &config)` from the configuration the
    /// manager gets). Connects lazily: a server that is down now fails only the requests
    /// whose sessions live on it, until it is back.
    pub async fn connect(init: &ProviderInit) -> Result<Self> {
        let config = MemcacheConfig::parse(&init.config)?;
        Self::with_config(config, init.lifetimes).await
    }

    /// A provider from a parsed configuration and the manager's lifetimes.
    pub async fn with_config(config: MemcacheConfig, lifetimes: Lifetimes) -> Result<Self> {
        let servers = Servers::new(&config).await?;
        let backend = Backend {
            servers,
            config,
            lifetimes,
        };
        Ok(MemcacheProvider {
            rows: RowProvider::new(backend),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &MemcacheConfig {
        &self.rows.backend().config
    }

    /// The server (`host:port`, as configured) that holds session `sid`, for operators
    /// and tests.
    pub fn server_of(&self, sid: &str) -> &str {
        let backend = self.rows.backend();
        let key = format!("{}{sid}", backend.config.key_prefix);
        backend.servers.server_of(key.as_bytes())
    }
}
