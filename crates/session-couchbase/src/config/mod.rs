//! The `providerConfig` string: a `couchbase://` / `couchbases://` connection string with the
//! engine's parameters, or beego's forms (`http://user:pass@host:8091,pool,bucket` and its
//! JSON form). Every form ends as one [`CouchbaseConfig`].

mod beego;
mod connstr;
mod params;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::time::Duration;

use session_core::ConfigError;

use crate::ENGINE;

pub use params::Counting;

/// The scope and collection sessions live in unless configured: the bucket's own.
pub const DEFAULT_COLLECTION: &str = "_default";

/// How long start-up (bootstrap, opening the bucket, checking the collection) may take.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one key-value call may take (the SDKs' usual 2.5 s).
pub const DEFAULT_KV_TIMEOUT: Duration = Duration::from_millis(2500);

/// How long the count query of `session_all` may take.
pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(10);

/// One seed node of the connection string, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// The key-value port, when given (else the SDK uses 11210, or 11207 with TLS).
    pub port: Option<u16>,
}

impl Seed {
    /// The key-value port this seed is reached on.
    pub fn kv_port(&self, tls: bool) -> u16 {
        self.port.unwrap_or(if tls { 11207 } else { 11210 })
    }

    /// `host:port` for messages and connections (IPv6 in brackets).
    pub fn address(&self, tls: bool) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.kv_port(tls))
        } else {
            format!("{}:{}", self.host, self.kv_port(tls))
        }
    }
}

/// A parsed configuration: where the cluster is, who logs in, where sessions live and how
/// long each call may take. `Debug` never shows the password.
#[derive(Clone)]
pub struct CouchbaseConfig {
    /// `true` for `couchbases://` (TLS, with rustls).
    pub tls: bool,
    /// The seed nodes.
    pub seeds: Vec<Seed>,
    /// Connection-string options passed to the SDK unchanged (`network`,
    /// `num_kv_connections`, …), as `key=value` pairs.
    pub sdk_options: Vec<(String, String)>,
    /// The user (RBAC) that logs in.
    pub username: String,
    password: String,
    /// The bucket sessions live in.
    pub bucket: String,
    /// The scope in the bucket ([`DEFAULT_COLLECTION`] unless configured).
    pub scope: String,
    /// The collection in the scope ([`DEFAULT_COLLECTION`] unless configured).
    pub collection: String,
    /// Prepended to every session id to make its document key (empty by default, as beego).
    pub prefix: String,
    /// Bounds start-up: bootstrap, opening the bucket, checking the collection.
    pub connect_timeout: Duration,
    /// Bounds each key-value call.
    pub kv_timeout: Duration,
    /// Bounds the count query.
    pub query_timeout: Duration,
    /// How `session_all` counts.
    pub counting: Counting,
    /// A PEM file of CA certificates to trust instead of the public roots (`couchbases://`
    /// only), for clusters with certificates of their own CA.
    pub ca_cert: Option<PathBuf>,
}

impl std::fmt::Debug for CouchbaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CouchbaseConfig")
            .field("connection_string", &self.connection_string())
            .field("username", &self.username)
            .field("password", &"***")
            .field("bucket", &self.bucket)
            .field("scope", &self.scope)
            .field("collection", &self.collection)
            .field("prefix", &self.prefix)
            .field("connect_timeout", &self.connect_timeout)
            .field("kv_timeout", &self.kv_timeout)
            .field("query_timeout", &self.query_timeout)
            .field("counting", &self.counting)
            .field("ca_cert", &self.ca_cert)
            .finish()
    }
}

impl CouchbaseConfig {
    /// Parses `config` in any of the accepted forms (see the crate docs). Errors name the
    /// part that is wrong; passwords never appear in them.
    pub fn parse(config: &str) -> Result<Self, ConfigError> {
        let config = config.trim();
        let parsed = if config.is_empty() {
            Err(
                "it is empty; expected couchbase://host?username=…&password=…&bucket=… \
                 or beego's http://user:pass@host:8091,default,bucket"
                    .to_owned(),
            )
        } else if config.starts_with('{') {
            beego::parse_json(config)
        } else if starts_with_ignore_case(config, "http://")
            || starts_with_ignore_case(config, "https://")
        {
            beego::parse_comma_form(config)
        } else {
            connstr::parse(config)
        };
        parsed
            .and_then(params::Draft::finish)
            .map_err(|reason| ConfigError::provider(ENGINE, reason).masking_secrets_of(config))
    }

    /// The password the user logs in with.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The connection string the SDK gets: the scheme, the seeds and the SDK's own options
    /// (no credentials, none of this engine's parameters).
    pub fn connection_string(&self) -> String {
        let scheme = if self.tls { "couchbases" } else { "couchbase" };
        let hosts: Vec<String> = self
            .seeds
            .iter()
            .map(|seed| match seed.port {
                Some(_) => seed.address(self.tls),
                None if seed.host.contains(':') => format!("[{}]", seed.host),
                None => seed.host.clone(),
            })
            .collect();
        let mut out = format!("{scheme}://{}", hosts.join(","));
        if !self.sdk_options.is_empty() {
            let mut query = form_urlencoded::Serializer::new(String::new());
            query.extend_pairs(&self.sdk_options);
            out.push('?');
            out.push_str(&query.finish());
        }
        out
    }

    /// The seeds as `host:port` (key-value ports), for messages.
    pub fn seed_addresses(&self) -> Vec<String> {
        self.seeds.iter().map(|s| s.address(self.tls)).collect()
    }

    /// `bucket.scope.collection`, for messages.
    pub fn keyspace(&self) -> String {
        format!("{}.{}.{}", self.bucket, self.scope, self.collection)
    }
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
}
