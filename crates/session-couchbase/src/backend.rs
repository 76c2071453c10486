//! [`Backend`]: sessions as documents of one collection, as a [`RowBackend`].
//!
//! A session is a binary document whose key is the configured prefix plus the session id,
//! whose value is the encoded session and whose expiry is the session's end. Its version is
//! the document's CAS.

use std::time::{Duration, SystemTime};

use couchbase::cluster::Cluster;
use couchbase::collection::Collection;
use couchbase::options::kv_options::{GetOptions, InsertOptions, RemoveOptions, ReplaceOptions};
use couchbase::subdoc::lookup_in_specs::{GetSpecOptions, LookupInSpec};
use couchbase::transcoding::{encode_common_flags, DataType};
use session_core::row::{LoadedRow, RowBackend, Ttl};
use session_core::{async_trait, Capabilities, Error, Lifetime, Lifetimes, Result, SessionData};

use crate::call::{bounded, unexpected};
use crate::config::{CouchbaseConfig, Counting};
use crate::errors::Refusal;
use crate::expiry::{document_expiry, remaining};
use crate::query::CountQuery;
use crate::ENGINE;

/// Largest stored session: Couchbase's document size limit (20 MiB).
pub const MAX_DATA_SIZE: usize = 20 * 1024 * 1024;

/// How often a regenerate carries over a write that raced it before giving up.
const RENAME_ATTEMPTS: usize = 5;

/// The key-value half of a provider: its collection and the bounds of its calls.
pub struct Backend {
    /// Kept so the connections stay open as long as the provider lives.
    pub(crate) cluster: Cluster,
    pub(crate) collection: Collection,
    pub(crate) prefix: String,
    pub(crate) kv_timeout: Duration,
    pub(crate) count: Option<CountQuery>,
    pub(crate) keyspace: String,
    pub(crate) lifetimes: Lifetimes,
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend")
            .field("keyspace", &self.keyspace)
            .field("prefix", &self.prefix)
            .field("kv_timeout", &self.kv_timeout)
            .field("counts", &self.count.is_some())
            .finish_non_exhaustive()
    }
}

/// A document as read with its expiry: its bytes, CAS and time left (`None`: no expiry).
struct Doc {
    bytes: Vec<u8>,
    cas: u64,
    left: Option<Duration>,
}

/// The flags that mark a document's value as binary (the SDK's common flags).
fn binary_flags() -> u32 {
    encode_common_flags(DataType::Binary)
}

impl Backend {
    pub(crate) fn new(
        cluster: Cluster,
        collection: Collection,
        config: &CouchbaseConfig,
        lifetimes: Lifetimes,
    ) -> Self {
        let count = match config.counting {
            Counting::Query => Some(CountQuery::new(config)),
            Counting::Off => None,
        };
        Backend {
            cluster,
            collection,
            prefix: config.prefix.clone(),
            kv_timeout: config.kv_timeout,
            count,
            keyspace: config.keyspace(),
            lifetimes,
        }
    }

    fn key(&self, sid: &str) -> String {
        format!("{}{sid}", self.prefix)
    }

    /// The live document `sid` with its expiry: one call (a lookup of the body and the
    /// `$document.exptime` attribute).
    async fn read_with_expiry(&self, action: &'static str, sid: &str) -> Result<Option<Doc>> {
        let options = GetOptions::new().expiry(true);
        let read = self.collection.get(self.key(sid), options);
        let got = match bounded(action, sid, self.kv_timeout, read).await? {
            Ok(got) => got,
            Err(Refusal::NotFound) => return Ok(None),
            Err(other) => return Err(unexpected(action, other)),
        };
        let now = SystemTime::now();
        let left = got
            .expiry_time()
            .and_then(|at| remaining(at.timestamp(), now));
        if left == Some(Duration::ZERO) {
            // Ended a moment ago; the server will say so on the next read.
            return Ok(None);
        }
        Ok(Some(Doc {
            bytes: got.content_as_raw().0.to_vec(),
            cas: got.cas(),
            left,
        }))
    }

    /// Writes `bytes` as the new document `sid` ending in `left` (`None`: never).
    async fn insert(
        &self,
        action: &'static str,
        sid: &str,
        bytes: &[u8],
        left: Option<Duration>,
    ) -> Result<std::result::Result<u64, Refusal>> {
        let mut options = InsertOptions::new();
        if let Some(left) = left {
            options = options.expiry(document_expiry(left, SystemTime::now()));
        }
        let insert = self
            .collection
            .insert_raw(self.key(sid), bytes, binary_flags(), options);
        Ok(bounded(action, sid, self.kv_timeout, insert)
            .await?
            .map(|done| done.cas()))
    }

    /// Replaces the document `sid` if its CAS is still `cas`; its new CAS.
    async fn replace_if(
        &self,
        action: &'static str,
        sid: &str,
        cas: u64,
        bytes: &[u8],
        left: Option<Duration>,
    ) -> Result<std::result::Result<u64, Refusal>> {
        let mut options = ReplaceOptions::new().cas(cas);
        if let Some(left) = left {
            options = options.expiry(document_expiry(left, SystemTime::now()));
        }
        let replace = self
            .collection
            .replace_raw(self.key(sid), bytes, binary_flags(), options);
        Ok(bounded(action, sid, self.kv_timeout, replace)
            .await?
            .map(|done| done.cas()))
    }
}

#[async_trait]
impl RowBackend for Backend {
    const ENGINE: &'static str = ENGINE;
    const MAX_DATA_SIZE: Option<usize> = Some(MAX_DATA_SIZE);
    /// Couchbase expires documents itself: there is no GC batch.
    const GC_BATCH: u64 = 1;
    type Version = u64;

    fn lifetimes(&self) -> &Lifetimes {
        &self.lifetimes
    }

    /// A get that returns the expiry with the body (one round trip). The lifetime a
    /// refresh needs is stored inside the session, so it is known only after this read:
    /// a get-and-touch here could not pick the right expiry, and would write (and change
    /// the CAS) on every read. The touch comes at release, when due.
    async fn load(&self, sid: &str) -> Result<Option<LoadedRow<u64>>> {
        let Some(doc) = self.read_with_expiry("read session", sid).await? else {
            return Ok(None);
        };
        Ok(Some(LoadedRow {
            data: SessionData::decode_stored(&doc.bytes, ENGINE, sid)?,
            version: doc.cas,
            // A document without an expiry (written by something else) is due a refresh,
            // which gives it one.
            ttl: Ttl::Left(doc.left.unwrap_or(Duration::ZERO)),
        }))
    }

    async fn fetch(&self, sid: &str) -> Result<Option<(SessionData, u64)>> {
        let action = "read session";
        let read = self.collection.get(self.key(sid), None);
        match bounded(action, sid, self.kv_timeout, read).await? {
            Ok(got) => {
                let data = SessionData::decode_stored(got.content_as_raw().0, ENGINE, sid)?;
                Ok(Some((data, got.cas())))
            }
            Err(Refusal::NotFound) => Ok(None),
            Err(other) => Err(unexpected(action, other)),
        }
    }

    /// An `insert`, which fails when a live document exists (an expired one is gone for
    /// the server).
    async fn create(&self, sid: &str, bytes: &[u8], lifetime: &Lifetime) -> Result<bool> {
        let action = "create session";
        match self
            .insert(action, sid, bytes, Some(lifetime.ttl()))
            .await?
        {
            Ok(_) => Ok(true),
            Err(Refusal::Exists) => Ok(false),
            Err(other) => Err(unexpected(action, other)),
        }
    }

    /// A `replace` with the CAS read: a document changed or removed since is not written.
    async fn replace(
        &self,
        sid: &str,
        expected: &u64,
        bytes: &[u8],
        lifetime: &Lifetime,
    ) -> Result<bool> {
        let action = "write session";
        let left = Some(lifetime.ttl());
        match self.replace_if(action, sid, *expected, bytes, left).await? {
            Ok(_) => Ok(true),
            Err(Refusal::CasMismatch | Refusal::NotFound) => Ok(false),
            Err(other) => Err(unexpected(action, other)),
        }
    }

    /// A `touch`, which never creates a document.
    async fn touch(&self, sid: &str, lifetime: &Lifetime) -> Result<bool> {
        let action = "refresh session";
        let expiry = document_expiry(lifetime.ttl(), SystemTime::now());
        let touch = self.collection.touch(self.key(sid), expiry, None);
        match bounded(action, sid, self.kv_timeout, touch).await? {
            Ok(_) => Ok(true),
            Err(Refusal::NotFound) => Ok(false),
            Err(other) => Err(unexpected(action, other)),
        }
    }

    /// Couchbase cannot rename a document, nor write two atomically: the new document is
    /// inserted with the old one's bytes and expiry, then the old one is removed with the
    /// CAS read. Between the two calls both ids are live (never neither); a write to the
    /// old id in that moment makes the remove fail its CAS, and the latest state is
    /// carried over to the new id before trying again.
    async fn rename(&self, old_sid: &str, sid: &str) -> Result<Option<LoadedRow<u64>>> {
        let action = "regenerate session";
        let Some(mut source) = self.read_with_expiry(action, old_sid).await? else {
            return Ok(None);
        };
        // Decode before writing anything: a newer format fails here, and nothing moves.
        let mut data = SessionData::decode_stored(&source.bytes, ENGINE, old_sid)?;
        let mut cas = match self.insert(action, sid, &source.bytes, source.left).await? {
            Ok(cas) => cas,
            Err(Refusal::Exists) => {
                return Err(Error::backend(
                    ENGINE,
                    action,
                    "the new session id is taken",
                ))
            }
            Err(other) => return Err(unexpected(action, other)),
        };
        for _ in 0..RENAME_ATTEMPTS {
            let remove = self
                .collection
                .remove(self.key(old_sid), RemoveOptions::new().cas(source.cas));
            match bounded(action, old_sid, self.kv_timeout, remove).await? {
                // Removed, or destroyed meanwhile (as if after the move): the new id lives.
                Ok(_) | Err(Refusal::NotFound) => {
                    let left = source.left.unwrap_or(Duration::ZERO);
                    return Ok(Some(LoadedRow {
                        data,
                        version: cas,
                        ttl: Ttl::Left(left),
                    }));
                }
                Err(Refusal::CasMismatch) => {}
                Err(other) => return Err(unexpected(action, other)),
            }
            // Written meanwhile: carry that write over to the new id, then try again.
            let Some(latest) = self.read_with_expiry(action, old_sid).await? else {
                continue;
            };
            data = SessionData::decode_stored(&latest.bytes, ENGINE, old_sid)?;
            cas = match self
                .replace_if(action, sid, cas, &latest.bytes, latest.left)
                .await?
            {
                Ok(cas) => cas,
                Err(refusal) => return Err(unexpected(action, refusal)),
            };
            source = latest;
        }
        Err(Error::backend(
            ENGINE,
            action,
            "the old session kept changing while it was moved; both ids stay live until \
             they expire",
        ))
    }

    /// A lookup of the `$document.exptime` attribute only (no body). A lookup goes through
    /// the server's expiry check, as every read does.
    async fn exists(&self, sid: &str) -> Result<bool> {
        let action = "check session";
        let specs = [LookupInSpec::get(
            "$document.exptime",
            GetSpecOptions::new().xattr(true),
        )];
        let lookup = self.collection.lookup_in(self.key(sid), &specs, None);
        let found = match bounded(action, sid, self.kv_timeout, lookup).await? {
            Ok(found) => found,
            Err(Refusal::NotFound) => return Ok(false),
            Err(other) => return Err(unexpected(action, other)),
        };
        // Belt and braces against a clock that runs ahead of the server's: a document
        // whose end has passed is not live, whatever the server has done with it yet.
        let exptime: i64 = found.content_as(0).unwrap_or(0);
        Ok(remaining(exptime, SystemTime::now()) != Some(Duration::ZERO))
    }

    async fn destroy(&self, sid: &str) -> Result<()> {
        let action = "destroy session";
        let remove = self.collection.remove(self.key(sid), None);
        match bounded(action, sid, self.kv_timeout, remove).await? {
            Ok(_) | Err(Refusal::NotFound) => Ok(()),
            Err(other) => Err(unexpected(action, other)),
        }
    }

    async fn count_live(&self) -> Result<usize> {
        match &self.count {
            Some(query) => query.run(&self.cluster).await,
            None => Err(Error::Unsupported {
                engine: ENGINE.into(),
                what: "session_all with count=off (counting needs the query service)",
            }),
        }
    }

    /// Couchbase removes expired documents itself (on access, and by its expiry pager).
    async fn delete_expired(&self) -> Result<u64> {
        Ok(0)
    }

    fn capabilities(&self) -> Capabilities {
        let caps = Capabilities::NONE.merging().native_expiry();
        if self.count.is_some() {
            caps.counting()
        } else {
            caps
        }
    }
}
