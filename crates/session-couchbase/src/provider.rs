//! [`CouchbaseProvider`]: the engine, a [`RowProvider`] on [`Backend`], its collection's
//! documents.

use couchbase::cluster::Cluster;
use couchbase::collection::Collection;
use session_core::row::RowProvider;
use session_core::{Error, Lifetimes, ProviderInit, Result};

use crate::backend::Backend;
use crate::config::CouchbaseConfig;
use crate::connect::connect;
use crate::ENGINE;

/// The Couchbase session engine: one cluster connection per provider, sessions as documents
/// of one collection.
#[derive(Debug)]
pub struct CouchbaseProvider {
    rows: RowProvider<Backend>,
}

session_core::forward_provider!(CouchbaseProvider => rows);

impl CouchbaseProvider {
    /// A provider for `init.config` (see the crate docs) with the manager's lifetimes
    /// (`ProviderInit::new(name, &config)` from the configuration the manager gets).
    /// Connects, opens the bucket and checks the collection, within `connect_timeout`.
    pub async fn connect(init: &ProviderInit) -> Result<Self> {
        let config = CouchbaseConfig::parse(&init.config)?;
        Self::with_config(config, init.lifetimes).await
    }

    /// A provider from a parsed configuration and the manager's lifetimes.
    pub async fn with_config(config: CouchbaseConfig, lifetimes: Lifetimes) -> Result<Self> {
        let connected = connect(&config)
            .await
            .map_err(|e| Error::backend(ENGINE, "connect to the cluster", e))?;
        let backend = Backend::new(connected.cluster, connected.collection, &config, lifetimes);
        Ok(CouchbaseProvider {
            rows: RowProvider::new(backend),
        })
    }

    /// The cluster connection (for health checks, or the tests' own documents).
    pub fn cluster(&self) -> &Cluster {
        &self.rows.backend().cluster
    }

    /// The collection sessions live in.
    pub fn collection(&self) -> &Collection {
        &self.rows.backend().collection
    }

    /// The document key of session `sid`: the configured prefix, then the id.
    pub fn document_key(&self, sid: &str) -> String {
        format!("{}{sid}", self.rows.backend().prefix)
    }
}
