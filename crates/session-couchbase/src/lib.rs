//! The `couchbase` session engine: sessions as documents with an expiry, on the official
//! Couchbase SDK (`couchbase` 1.1).
//!
//! Each provider (one per [`Manager`](session_core::Manager)) holds one cluster connection.
//! A session is a binary document in one collection (`_default._default` of the bucket
//! unless configured), keyed by the session id (after an optional prefix), whose expiry is
//! the session's end; Couchbase removes expired documents itself, so there is no GC pass.
//!
//! What a request costs, in key-value calls:
//! - a new visitor whose session stays empty: none;
//! - a new session with data: one `insert` (which fails if the document exists);
//! - a request that only reads: one get that returns the expiry with the body (a sub-document
//!   lookup of the body and `$document.exptime`), plus a `touch` when more than 1 % of the
//!   session's inactivity limit has passed since its expiry was last set. Not a
//!   get-and-touch: a session's lifetime is stored inside it (its own
//!   [`Expiry`](session_core::Expiry)), so the right expiry is known only after the read,
//!   and touching on every read would write, replicate and change the CAS every time;
//! - a request that changes the session: the read and one `replace` with the CAS read. When
//!   another request changed the session meanwhile the CAS does not match: the document is
//!   read again, this request's changes are replayed onto it and the replace is retried, so
//!   concurrent requests changing different keys both keep their changes.
//!   `release_if_present` never re-creates a removed document (`replace` and `touch` fail on
//!   a missing one);
//! - regenerating the id: a read, an `insert` of the new document with the old one's bytes
//!   and expiry, and a `remove` of the old one with the CAS read. Couchbase cannot rename
//!   a document nor write two atomically, so for the moment between the insert and the
//!   remove both ids are live (never neither). A write to the old id in that moment fails
//!   the remove's CAS, and is carried over to the new id before the remove is retried.
//!
//! Every SDK call is bounded: key-value calls by `kv_timeout`, the count by
//! `query_timeout`, and start-up by `connect_timeout`. The SDK itself never gives up: with a
//! wrong password it retries the login, and with a missing bucket it waits for it, forever.
//! So [`Manager::new`](session_core::Manager::new) fails within `connect_timeout` instead,
//! naming the cause it could establish: no server listening at the seeds, a login that does
//! not succeed, a bucket that does not exist (or that the user may not open), a collection
//! that does not answer.
//!
//! # Configuration
//!
//! `providerConfig` is one of:
//! - a connection string
//!   `couchbase://[user:password@]host[:port][,host[:port]…][/bucket][?parameters]`, or
//!   `couchbases://…` for TLS (rustls, trusting the public roots, or the CA file `ca_cert`).
//!   Ports are key-value ports (default 11210, 11207 with TLS): a cluster published on other
//!   ports is reached as `couchbase://127.0.0.1:41695,127.0.0.1:36139`;
//! - beego's `http://user:pass@host:8091,pool,bucket` (the pool must be `default`; without a
//!   bucket part the bucket is the user name, as in beego's documented
//!   `http://bucketname:bucketpass@myserver:8091`; `https://` or port 18091 means TLS);
//! - beego's JSON form `{"save_path":"http://user:pass@host:8091","pool":"default","bucket":"b"}`,
//!   whose object may also carry the parameters below as keys.
//!
//! | parameter | default | meaning |
//! |---|---|---|
//! | `username`, `password` | (required) | the Couchbase user (Data Reader and Data Writer on the bucket; Query Select for the count) |
//! | `bucket` | (required) | the bucket |
//! | `scope`, `collection` | `_default` | where the session documents live |
//! | `prefix` | empty | prepended to each session id to make the document key |
//! | `connect_timeout` | 10 s | start-up: bootstrap, opening the bucket, checking the collection |
//! | `kv_timeout` | 2.5 s | each key-value call |
//! | `query_timeout` | 10 s | the count query of `session_all` |
//! | `count` | `query` | `off`: `session_all` is an [`Unsupported`](session_core::Error::Unsupported) error |
//! | `ca_cert` | none | a PEM file of CA certificates to trust (`couchbases://` only) |
//!
//! Timeouts take `ms`, `s` (the default), `m` or `h`. Other parameters go to the SDK as
//! they are (`network=external`, `num_kv_connections=2`, …). A malformed string is an error
//! naming the wrong part, with the password masked.
//!
//! # Counting sessions
//!
//! [`session_all`](session_core::Provider::session_all) is an exact count through the query
//! service, with `request_plus` consistency (it waits until the index has every write made
//! before it), of the documents with this provider's prefix whose expiry is in the future.
//! It needs this index, created once by an administrator
//! ([`create_index_statement`] prints it for a configuration):
//!
//! ```sql
//! CREATE INDEX `session_live` IF NOT EXISTS
//!   ON `bucket`.`_default`.`_default`(META().expiration, META().id)
//! ```
//!
//! Without the query service, set `count=off`: `session_all` is then an `Unsupported`
//! error, never a silent 0. The count includes every document of the collection that has
//! the prefix and an expiry: give sessions a collection (or a prefix) of their own.
//!
//! # Limits
//!
//! - A session's encoded data is limited to 20 MiB (Couchbase's document limit; larger ones
//!   fail at release with [`Error::TooLarge`](session_core::Error::TooLarge)).
//! - Expiries are whole seconds (rounded up). Lifetimes of 30 days and more reach the server
//!   as absolute times computed by this machine's clock (the SDK does this), so a clock far
//!   off the cluster's shifts them. A bucket's "max time-to-live", when set, caps every
//!   session.
//! - After a failed start-up the SDK keeps retrying a bucket it could not open in a
//!   background task until the tokio runtime stops (SDK 1.1 behaviour).
//!
//! # Build cost
//!
//! The SDK is large. With its lean features (rustls TLS only, which the SDK cannot do
//! without; no logging meter, no threshold tracer, no DNS SRV lookups) this crate builds 169
//! crates, 116 more than `session-core` alone, among them `reqwest`, `hyper`, `regex` and
//! `aws-lc-sys` (rustls' crypto: a C library compiled with `cc`). Measured with
//! `cargo build -p session-couchbase --timings` from an empty target directory on the 2-core
//! development machine: 69 s wall when the machine was idle (the biggest units `aws-lc-sys`
//! 25 s, `couchbase-core` 15 s, `couchbase` 7 s); in CPU time about 120 s, against 24 s for
//! `session-core` alone. So the SDK adds roughly a minute of wall time to a clean build, once;
//! incremental builds of this crate take seconds.
//!
//! # Example
//!
//! ```no_run
//! use session_core::{Manager, ManagerConfig};
//! use session_couchbase as _; // registers "couchbase"
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> session_core::Result<()> {
//! let config = ManagerConfig {
//!     provider_config: "couchbase://127.0.0.1?username=app&password=secret&bucket=sessions"
//!         .into(),
//!     ..ManagerConfig::default()
//! };
//! let manager = Manager::new("couchbase", config).await?; // fails, never hangs
//! let session = manager.session_start(&http::Request::new(())).await?;
//! session.set("user", "asta").await?;
//! session.release(&mut http::HeaderMap::new()).await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod backend;
mod call;
mod config;
mod connect;
mod errors;
mod expiry;
mod provider;
mod query;

use std::sync::Arc;

pub use backend::MAX_DATA_SIZE;
pub use config::{
    CouchbaseConfig, Counting, Seed, DEFAULT_COLLECTION, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_KV_TIMEOUT, DEFAULT_QUERY_TIMEOUT,
};
pub use errors::{SdkError, StartupError};
pub use provider::CouchbaseProvider;
pub use query::{create_index_statement, INDEX_NAME};

/// The name the engine registers under.
pub const ENGINE: &str = "couchbase";

session_core::register_provider!(COUCHBASE, "couchbase", "session-couchbase", |init| {
    Box::pin(async move {
        let provider = CouchbaseProvider::connect(&init).await?;
        Ok(Arc::new(provider) as Arc<dyn session_core::Provider>)
    })
});
