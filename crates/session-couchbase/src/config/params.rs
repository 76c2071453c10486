//! The engine's parameters, the same in every form, and the checks that turn them into a
//! [`CouchbaseConfig`].

use std::path::PathBuf;
use std::time::Duration;

use session_core::dsn::parse_duration;

use super::{
    CouchbaseConfig, Seed, DEFAULT_COLLECTION, DEFAULT_CONNECT_TIMEOUT, DEFAULT_KV_TIMEOUT,
    DEFAULT_QUERY_TIMEOUT,
};

/// Longest key prefix: document keys are at most 250 bytes, and the id needs the rest.
const MAX_PREFIX: usize = 100;

/// How `session_all` counts the live sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// An exact `COUNT(*)` through the query service, with `request_plus` consistency (the
    /// default; needs the index shown in the crate docs).
    Query,
    /// Not at all: `session_all` is an [`Unsupported`](session_core::Error::Unsupported)
    /// error (for clusters without a query service).
    Off,
}

/// The parameters as read so far, from whichever form.
#[derive(Debug, Default)]
pub(super) struct Draft {
    pub tls: bool,
    pub seeds: Vec<Seed>,
    pub sdk_options: Vec<(String, String)>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub bucket: Option<String>,
    scope: Option<String>,
    collection: Option<String>,
    prefix: Option<String>,
    connect_timeout: Option<Duration>,
    kv_timeout: Option<Duration>,
    query_timeout: Option<Duration>,
    counting: Option<Counting>,
    ca_cert: Option<PathBuf>,
}

/// Sets `slot` once; a second value for the same parameter is an error (which of two
/// passwords was meant?).
fn set_once<T>(slot: &mut Option<T>, key: &str, value: T) -> Result<(), String> {
    if slot.is_some() {
        return Err(format!("parameter `{key}` is given twice"));
    }
    *slot = Some(value);
    Ok(())
}

impl Draft {
    /// Takes `key=value` if it is one of the engine's parameters: `Ok(true)` when taken,
    /// `Ok(false)` when it is not one of them (it goes to the SDK), an error naming the key
    /// when the value is unusable. Values are never quoted in errors (one may be a
    /// password).
    pub fn take(&mut self, key: &str, value: &str) -> Result<bool, String> {
        let bad = |why: String| format!("parameter `{key}`: {why}");
        let duration = |value: &str| parse_duration(value).map_err(bad);
        match key.to_ascii_lowercase().replace('-', "_").as_str() {
            "username" | "user" => set_once(&mut self.username, key, value.to_owned())?,
            "password" | "pass" => set_once(&mut self.password, key, value.to_owned())?,
            "bucket" => set_once(&mut self.bucket, key, value.to_owned())?,
            "scope" => set_once(&mut self.scope, key, value.to_owned())?,
            "collection" => set_once(&mut self.collection, key, value.to_owned())?,
            "prefix" | "key_prefix" => set_once(&mut self.prefix, key, value.to_owned())?,
            "connect_timeout" | "bootstrap_timeout" => {
                set_once(&mut self.connect_timeout, key, duration(value)?)?
            }
            "kv_timeout" | "operation_timeout" | "timeout" => {
                set_once(&mut self.kv_timeout, key, duration(value)?)?
            }
            "query_timeout" => set_once(&mut self.query_timeout, key, duration(value)?)?,
            "count" => {
                let counting = match value.trim().to_ascii_lowercase().as_str() {
                    "query" | "on" | "true" => Counting::Query,
                    "off" | "none" | "false" => Counting::Off,
                    _ => return Err(bad("use `query` (the default) or `off`".into())),
                };
                set_once(&mut self.counting, key, counting)?
            }
            "ca_cert" | "cacert" | "ca_certificate" => {
                if value.trim().is_empty() {
                    return Err(bad("needs the path of a PEM file".into()));
                }
                set_once(&mut self.ca_cert, key, PathBuf::from(value.trim()))?
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Checks what was read and fills in the defaults.
    pub fn finish(self) -> Result<CouchbaseConfig, String> {
        if self.seeds.is_empty() {
            return Err("no host: expected couchbase://host[,host…]".into());
        }
        let username = self.username.filter(|u| !u.is_empty()).ok_or(
            "no username: add `username=…` (the Couchbase user with access to the bucket)",
        )?;
        let password = self
            .password
            .ok_or("no password: add `password=…` for the user")?;
        let bucket = self
            .bucket
            .filter(|b| !b.is_empty())
            .ok_or("no bucket: add `bucket=…` (or `/bucket` after the hosts)")?;
        check_bucket_name(&bucket)?;
        let scope = self.scope.unwrap_or_else(|| DEFAULT_COLLECTION.into());
        check_collection_name("scope", &scope)?;
        let collection = self.collection.unwrap_or_else(|| DEFAULT_COLLECTION.into());
        check_collection_name("collection", &collection)?;
        let prefix = self.prefix.unwrap_or_default();
        if prefix.len() > MAX_PREFIX || !prefix.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!(
                "parameter `prefix`: at most {MAX_PREFIX} printable ASCII characters, no spaces"
            ));
        }
        if self.ca_cert.is_some() && !self.tls {
            return Err("parameter `ca_cert` needs TLS: use couchbases://".into());
        }
        Ok(CouchbaseConfig {
            tls: self.tls,
            seeds: self.seeds,
            sdk_options: self.sdk_options,
            username,
            password,
            bucket,
            scope,
            collection,
            prefix,
            connect_timeout: self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            kv_timeout: self.kv_timeout.unwrap_or(DEFAULT_KV_TIMEOUT),
            query_timeout: self.query_timeout.unwrap_or(DEFAULT_QUERY_TIMEOUT),
            counting: self.counting.unwrap_or(Counting::Query),
            ca_cert: self.ca_cert,
        })
    }
}

/// Couchbase's rule for bucket names: up to 100 of `A-Z a-z 0-9 . _ % -`, not starting
/// with a dot. (The names also go into the count query, quoted: the rule keeps backticks
/// out.)
fn check_bucket_name(name: &str) -> Result<(), String> {
    let ok = name.len() <= 100
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._%-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "bucket `{name}` is not a bucket name (up to 100 letters, digits, `.`, `_`, `%`, \
             `-`, not starting with `.`)"
        ))
    }
}

/// Couchbase's rule for scope and collection names: up to 251 of `A-Z a-z 0-9 _ % -`, not
/// starting with `_` or `%` (except `_default`).
fn check_collection_name(what: &str, name: &str) -> Result<(), String> {
    let ok = name == DEFAULT_COLLECTION
        || (!name.is_empty()
            && name.len() <= 251
            && !name.starts_with(['_', '%'])
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_%-".contains(&b)));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what} `{name}` is not a {what} name (`_default`, or up to 251 letters, digits, \
             `_`, `%`, `-`, not starting with `_` or `%`)"
        ))
    }
}
