//! Start-up: connect to the cluster, open the bucket, check the collection, all within the
//! connect timeout, and say why when that fails.
//!
//! The SDK 1.1 never gives up on its own: with a wrong password it retries the login every
//! second, and with a missing bucket it waits for the bucket, without end and without
//! telling the caller why (it only logs). So each step runs against one deadline, and when
//! a step runs out the engine looks for the cause itself, in the time kept back for that:
//! - bootstrap did not finish: is anything listening on the seeds? If so, the login is what
//!   fails;
//! - the bucket did not open: does the cluster know the bucket?
//! - the collection did not answer: the SDK waits for an unknown collection to appear.
//!
//! Once the bucket is open every later call finds it at once, so the SDK's race on the
//! first wait (see [`connect`]'s bucket step) matters only here.

use std::time::Duration;

use couchbase::authenticator::PasswordAuthenticator;
use couchbase::cluster::Cluster;
use couchbase::collection::Collection;
use couchbase::error::ErrorKind;
use couchbase::options::cluster_options::{ClusterOptions, KvOptions, TlsOptions};
use couchbase::options::diagnostic_options::WaitUntilReadyOptions;
use couchbase::service_type::ServiceType;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use tokio::time::{timeout, timeout_at, Instant};

use crate::config::CouchbaseConfig;
use crate::errors::{SdkError, StartupError};

/// The longest time kept back from the connect timeout to find out why a step failed.
const MAX_DIAGNOSIS: Duration = Duration::from_secs(2);

/// How long one wait for the bucket lasts before it is asked again.
const READY_SLICE: Duration = Duration::from_millis(500);

/// A key no session has: reading it checks the collection answers.
const PROBE_KEY: &str = "session-couchbase:probe";

/// The connected cluster and the collection sessions live in.
pub(crate) struct Connected {
    pub cluster: Cluster,
    pub collection: Collection,
}

/// How the connect timeout is split: the steps share the deadline, the rest is for the
/// diagnosis.
fn split_budget(connect_timeout: Duration) -> (Duration, Duration) {
    let diagnosis = (connect_timeout / 5).min(MAX_DIAGNOSIS);
    (connect_timeout - diagnosis, diagnosis)
}

/// Connects as `config` says, in at most its connect timeout.
pub(crate) async fn connect(config: &CouchbaseConfig) -> Result<Connected, StartupError> {
    let (steps, diagnosis) = split_budget(config.connect_timeout);
    let deadline = Instant::now() + steps;
    let options = cluster_options(config, steps)?;
    let bootstrap = Cluster::connect(config.connection_string(), options);
    let cluster = match timeout_at(deadline, bootstrap).await {
        Ok(Ok(cluster)) => cluster,
        Ok(Err(error)) => return Err(SdkError::new(&error, None).into()),
        Err(_) => return Err(why_no_login(config, diagnosis).await),
    };
    let bucket = cluster.bucket(config.bucket.as_str());
    // Asked in slices: the SDK's first wait for a bucket can miss the wake-up that the
    // bucket is open (`CouchbaseAgentProvider::get_agent` checks, then waits, and a
    // notification in between is lost), and then waits forever; a new ask sees it at once.
    let ready = async {
        loop {
            let ready = WaitUntilReadyOptions::new().service_types(vec![ServiceType::KV]);
            if let Ok(answer) = timeout(READY_SLICE, bucket.wait_until_ready(ready)).await {
                return answer;
            }
        }
    };
    match timeout_at(deadline, ready).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => return Err(bucket_error(config, SdkError::new(&error, None))),
        Err(_) => return Err(why_no_bucket(&cluster, config, diagnosis).await),
    }
    let collection = bucket
        .scope(config.scope.as_str())
        .collection(config.collection.as_str());
    match timeout_at(deadline, collection.exists(PROBE_KEY, None)).await {
        Ok(Ok(_)) => {}
        Ok(Err(error)) if *error.kind() == ErrorKind::DocumentNotFound => {}
        Ok(Err(error)) => return Err(SdkError::new(&error, None).into()),
        Err(_) => {
            return Err(StartupError::Collection {
                keyspace: config.keyspace(),
                timeout: config.connect_timeout,
            })
        }
    }
    tracing::debug!(keyspace = %config.keyspace(), "couchbase session collection ready");
    Ok(Connected {
        cluster,
        collection,
    })
}

fn cluster_options(
    config: &CouchbaseConfig,
    connect: Duration,
) -> Result<ClusterOptions, StartupError> {
    let login = PasswordAuthenticator::new(config.username.as_str(), config.password());
    let mut options = ClusterOptions::new(login.into())
        .kv_options(KvOptions::new().connect_timeout(connect))
        // The SDK logs document keys (session ids) unless told to redact them.
        .log_redaction(true);
    if let Some(path) = &config.ca_cert {
        let shown = path.display().to_string();
        let fail = |why: String| StartupError::CaCert {
            path: shown.clone(),
            why,
        };
        let pem = std::fs::read(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
        let certs = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| fail(format!("not a PEM file of certificates: {e}")))?;
        if certs.is_empty() {
            return Err(fail("holds no CERTIFICATE block".into()));
        }
        options = options.tls_options(TlsOptions::new().add_ca_certificates(certs));
    }
    Ok(options)
}

/// Bootstrap timed out: unreachable seeds, or a login the SDK keeps retrying.
async fn why_no_login(config: &CouchbaseConfig, diagnosis: Duration) -> StartupError {
    let seeds = config.seed_addresses();
    let probes = seeds.iter().map(|address| async move {
        matches!(
            timeout(diagnosis, tokio::net::TcpStream::connect(address.as_str())).await,
            Ok(Ok(_))
        )
    });
    let answered = futures_util::future::join_all(probes).await;
    let seeds_shown = seeds.join(", ");
    if answered.contains(&true) {
        StartupError::LoginFailed {
            seeds: seeds_shown,
            username: config.username.clone(),
            timeout: config.connect_timeout,
        }
    } else {
        StartupError::Unreachable { seeds: seeds_shown }
    }
}

/// The bucket did not open: ask the cluster whether it exists.
async fn why_no_bucket(
    cluster: &Cluster,
    config: &CouchbaseConfig,
    diagnosis: Duration,
) -> StartupError {
    let asked = timeout(
        diagnosis,
        cluster.buckets().get_bucket(config.bucket.as_str(), None),
    )
    .await;
    let why = match asked {
        Ok(Err(error)) if *error.kind() == ErrorKind::BucketNotFound => {
            "it does not exist".to_owned()
        }
        Ok(Ok(_)) => format!(
            "it exists, but user `{}` may not access it (grant the Data Reader and Data \
             Writer roles on it), or its key-value service is down",
            config.username
        ),
        _ => format!(
            "it does not exist, or user `{}` may not access it (needs the Data Reader and \
             Data Writer roles on it)",
            config.username
        ),
    };
    StartupError::Bucket {
        bucket: config.bucket.clone(),
        timeout: config.connect_timeout,
        why,
    }
}

fn bucket_error(config: &CouchbaseConfig, error: SdkError) -> StartupError {
    StartupError::Bucket {
        bucket: config.bucket.clone(),
        timeout: config.connect_timeout,
        why: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diagnosis_fits_in_the_connect_timeout() {
        for secs in [1, 5, 10, 60] {
            let total = Duration::from_secs(secs);
            let (steps, diagnosis) = split_budget(total);
            assert_eq!(steps + diagnosis, total);
            assert!(diagnosis > Duration::ZERO && diagnosis <= MAX_DIAGNOSIS);
            assert!(steps >= diagnosis * 4);
        }
    }
}
