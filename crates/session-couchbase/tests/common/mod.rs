//! The Couchbase server the tests run against, named by the environment:
//! `COUCHBASE_CONNSTR` (taken as given: it may carry explicit key-value ports such as
//! `couchbase://127.0.0.1:41695,127.0.0.1:36139`), `COUCHBASE_USERNAME`,
//! `COUCHBASE_PASSWORD` and `COUCHBASE_BUCKET`. Couchbase Server cannot be installed on the
//! machines `cargo xtask test` runs on, so without `COUCHBASE_CONNSTR` every test here says
//! it is skipped and returns.

#![allow(dead_code)] // each test file uses its own part

use std::io::Write;

use session_core::conformance::Client;
use session_core::{Manager, ManagerConfig, Session};
// Links the engine, so `Manager::new("couchbase", …)` finds it.
use session_couchbase as _;

/// The variables, in the order the skip line names them.
pub const VARS: [&str; 4] = [
    "COUCHBASE_CONNSTR",
    "COUCHBASE_USERNAME",
    "COUCHBASE_PASSWORD",
    "COUCHBASE_BUCKET",
];

/// Where the test server is and how to log in.
#[derive(Clone)]
pub struct Server {
    pub connstr: String,
    pub username: String,
    pub password: String,
    pub bucket: String,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The server, or `None` after printing that `test` is skipped because
/// `COUCHBASE_CONNSTR` is not set. With `COUCHBASE_CONNSTR` set, the other three are
/// required: a half-named server is a mistake, not a skip.
pub fn server(test: &str) -> Option<Server> {
    let Some(connstr) = var(VARS[0]) else {
        // Straight to stderr: the harness hides the output of passing tests, and a skip
        // must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "{test}: skipped: COUCHBASE_CONNSTR not set (set {} to run it against a \
             Couchbase server; see the README)",
            VARS.join(", ")
        );
        return None;
    };
    let missing: Vec<&str> = VARS[1..]
        .iter()
        .copied()
        .filter(|v| var(v).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "COUCHBASE_CONNSTR is set but {} not: set all of {}",
        missing.join(", "),
        VARS.join(", ")
    );
    Some(Server {
        connstr,
        username: var(VARS[1]).unwrap_or_default(),
        password: var(VARS[2]).unwrap_or_default(),
        bucket: var(VARS[3]).unwrap_or_default(),
    })
}

/// A document key prefix nobody else uses, so concurrent tests never count or read each
/// other's sessions.
pub fn unique_prefix(test: &str) -> String {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).expect("OS random");
    format!("t-{test}-{}:", hex::encode(bytes))
}

impl Server {
    /// The `providerConfig` for this server, with the key `prefix` and `extra` parameters.
    pub fn config(&self, prefix: &str, extra: &[(&str, &str)]) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("username", &self.username)
            .append_pair("password", &self.password)
            .append_pair("bucket", &self.bucket)
            .append_pair("prefix", prefix);
        query.extend_pairs(extra.iter().copied());
        let joiner = if self.connstr.contains('?') { '&' } else { '?' };
        format!("{}{joiner}{}", self.connstr, query.finish())
    }

    /// A manager on this server with `prefix`, `extra` parameters and `max_lifetime`
    /// seconds.
    pub async fn manager(
        &self,
        prefix: &str,
        extra: &[(&str, &str)],
        max_lifetime: u64,
    ) -> Manager {
        let config = ManagerConfig {
            provider_config: self.config(prefix, extra),
            max_lifetime,
            gc_lifetime: max_lifetime,
            ..ManagerConfig::default()
        };
        Manager::new("couchbase", config)
            .await
            .unwrap_or_else(|e| panic!("couchbase manager: {e}"))
    }
}

/// Starts the session of `client` (new or by its cookie).
pub async fn start(manager: &Manager, client: &Client) -> Session {
    manager.session_start(&client.request("/")).await.unwrap()
}

/// Releases `session` and lets `client` take the cookies of the response.
pub async fn release_to(session: Session, client: &mut Client) {
    let mut headers = http::HeaderMap::new();
    session.release(&mut headers).await.unwrap();
    client.absorb(&headers);
}
