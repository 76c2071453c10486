//! `session_all`: an exact count of the live sessions through the query service.
//!
//! Documents that expired are not always gone yet (the server removes them when they are
//! read, or when its expiry pager runs), and an index still holds them: the count keeps only
//! documents whose `META().expiration` is in the future. `request_plus` makes the count
//! wait until the index has every write made before it. With the index of
//! [`create_index_statement`] the query is answered from the index alone.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use couchbase::cluster::Cluster;
use couchbase::error::ErrorKind;
use couchbase::options::query_options::{QueryOptions, ScanConsistency};
use couchbase::service_type::ServiceType;
use futures_util::TryStreamExt;
use session_core::retry::TimedOut;
use session_core::{Error, Result};

use crate::config::CouchbaseConfig;
use crate::errors::SdkError;
use crate::ENGINE;

/// The name of the index the count query runs on.
pub const INDEX_NAME: &str = "session_live";

/// `` `bucket`.`scope`.`collection` `` (the names are validated: no backticks).
fn quoted_keyspace(config: &CouchbaseConfig) -> String {
    format!(
        "`{}`.`{}`.`{}`",
        config.bucket, config.scope, config.collection
    )
}

/// The `CREATE INDEX` statement for the count query of `config`'s collection, as a cluster
/// administrator runs it once (in the query workbench, or with `cbq`).
pub fn create_index_statement(config: &CouchbaseConfig) -> String {
    format!(
        "CREATE INDEX `{INDEX_NAME}` IF NOT EXISTS ON {}(META().expiration, META().id)",
        quoted_keyspace(config)
    )
}

/// The count query of one provider.
#[derive(Debug, Clone)]
pub(crate) struct CountQuery {
    statement: String,
    /// `LIKE` pattern of the provider's keys: its prefix, escaped, then anything.
    pattern: String,
    timeout: Duration,
}

impl CountQuery {
    pub(crate) fn new(config: &CouchbaseConfig) -> Self {
        CountQuery {
            statement: format!(
                "SELECT RAW COUNT(*) FROM {} WHERE META().expiration > $1 AND META().id LIKE $2",
                quoted_keyspace(config)
            ),
            pattern: like_prefix(&config.prefix),
            timeout: config.query_timeout,
        }
    }

    pub(crate) async fn run(&self, cluster: &Cluster) -> Result<usize> {
        let action = "count sessions";
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let options = QueryOptions::new()
            .scan_consistency(ScanConsistency::RequestPlus)
            .server_timeout(self.timeout)
            .read_only(true)
            .add_positional_parameter(now)
            .and_then(|o| o.add_positional_parameter(&self.pattern))
            .map_err(|e| Error::backend(ENGINE, action, SdkError::new(&e, None)))?;
        let query = async {
            let mut result = cluster.query(self.statement.as_str(), options).await?;
            result.rows::<u64>().try_collect::<Vec<u64>>().await
        };
        let rows = match tokio::time::timeout(self.timeout, query).await {
            Ok(Ok(rows)) => rows,
            Ok(Err(e)) if *e.kind() == ErrorKind::ServiceNotAvailable(ServiceType::QUERY) => {
                return Err(Error::Unsupported {
                    engine: ENGINE.into(),
                    what: "session_all on a cluster without the query service (set count=off)",
                })
            }
            Ok(Err(e)) => return Err(Error::backend(ENGINE, action, SdkError::new(&e, None))),
            Err(_) => return Err(Error::backend(ENGINE, action, TimedOut(self.timeout))),
        };
        let count = rows.first().copied().unwrap_or(0);
        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }
}

/// `prefix` as the start of a `LIKE` pattern: `%`, `_` and `\` stand for themselves.
fn like_prefix(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_keeps_to_live_documents_of_this_prefix() {
        let config =
            CouchbaseConfig::parse("couchbase://u:p@h/app?scope=web&collection=s&prefix=a_b%25:")
                .unwrap();
        let query = CountQuery::new(&config);
        assert_eq!(
            query.statement,
            "SELECT RAW COUNT(*) FROM `app`.`web`.`s` WHERE META().expiration > $1 AND \
             META().id LIKE $2"
        );
        assert_eq!(query.pattern, r"a\_b\%:%");
        assert_eq!(like_prefix(""), "%");
        assert_eq!(
            create_index_statement(&config),
            "CREATE INDEX `session_live` IF NOT EXISTS ON `app`.`web`.`s`(META().expiration, \
             META().id)"
        );
    }
}
