//! What the SDK's errors mean here, and how they are shown without the session id.
//!
//! The SDK's `Display` of a key-value error appends its context as JSON, and that context
//! holds the document key: the session id, a credential. So the engine never shows an SDK
//! error as it is: [`SdkError`] keeps only the error kind, with any copy of the id in its
//! message replaced by the id's fingerprint.

use std::time::Duration;

use couchbase::error::{Error as CbError, ErrorKind};
use session_core::id::Fingerprint;

/// An SDK error as the engine shows it: its kind only, never the session id (in `Debug`
/// too).
#[derive(Clone, PartialEq, Eq)]
pub struct SdkError {
    kind: ErrorKind,
    message: String,
}

impl SdkError {
    /// `error`, from a call about the document of `sid` (if any).
    pub(crate) fn new(error: &CbError, sid: Option<&str>) -> Self {
        let kind = error.kind().clone();
        let mut message = hint(&kind).map_or_else(|| kind.to_string(), str::to_owned);
        if let Some(sid) = sid.filter(|s| !s.is_empty()) {
            if message.contains(sid) {
                message = message.replace(sid, &Fingerprint::of(sid).to_string());
            }
        }
        SdkError { kind, message }
    }

    /// The SDK's error kind.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }
}

impl std::fmt::Debug for SdkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SdkError").field(&self.message).finish()
    }
}

impl std::fmt::Display for SdkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SdkError {}

/// Messages for the kinds whose SDK text does not say what to do.
fn hint(kind: &ErrorKind) -> Option<&'static str> {
    Some(match kind {
        ErrorKind::AuthenticationFailure => {
            "authentication failed: wrong username or password, or the user may not access \
             the bucket (it needs the Data Reader and Data Writer roles on it)"
        }
        ErrorKind::BucketNotFound => "the bucket does not exist",
        ErrorKind::ScopeNotFound => "the scope does not exist in the bucket",
        ErrorKind::CollectionNotFound => "the collection does not exist in the scope",
        ErrorKind::IndexNotFound | ErrorKind::PlanningFailure | ErrorKind::IndexFailure => {
            "the count query has no index to run on: create the one in the \
             session-couchbase docs (or set count=off)"
        }
        ErrorKind::ValueTooLarge => "the session is larger than the bucket accepts",
        ErrorKind::ClusterDropped => "the cluster connection was closed",
        _ => return None,
    })
}

/// The answers of a key-value call that are outcomes, not failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No live document with that key (unknown, expired or removed).
    NotFound,
    /// `insert`: a live document with that key exists.
    Exists,
    /// A CAS-conditional write found the document changed since it was read.
    CasMismatch,
}

impl Refusal {
    /// The outcome `kind` stands for, if it is one.
    pub(crate) fn of(kind: &ErrorKind) -> Option<Self> {
        match kind {
            ErrorKind::DocumentNotFound => Some(Refusal::NotFound),
            ErrorKind::DocumentExists => Some(Refusal::Exists),
            ErrorKind::CasMismatch => Some(Refusal::CasMismatch),
            _ => None,
        }
    }
}

/// Why start-up failed, named as precisely as the SDK lets the engine tell.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartupError {
    /// No seed node accepted a TCP connection.
    #[error(
        "no server answers at {seeds}: nothing listens there (wrong host or port?), or a \
         firewall drops the connection"
    )]
    Unreachable {
        /// The seed nodes tried.
        seeds: String,
    },
    /// A seed accepts connections, but the bootstrap did not finish in time: the SDK retries
    /// a failed login without end, so this is almost always the credentials.
    #[error(
        "the servers at {seeds} accept connections, but logging in as `{username}` did not \
         succeed within {timeout:?}: the username or password is most likely wrong (or the \
         port is not a Couchbase key-value port, or the cluster is still starting)"
    )]
    LoginFailed {
        /// The seed nodes tried.
        seeds: String,
        /// The user that tried to log in.
        username: String,
        /// The connect timeout.
        timeout: Duration,
    },
    /// The bucket could not be opened in time.
    #[error("bucket `{bucket}` could not be opened within {timeout:?}: {why}")]
    Bucket {
        /// The bucket.
        bucket: String,
        /// The connect timeout.
        timeout: Duration,
        /// What the cluster said about it.
        why: String,
    },
    /// The bucket opened, but the collection did not answer in time (the SDK waits for an
    /// unknown collection to appear).
    #[error(
        "collection `{keyspace}` did not answer within {timeout:?}: the scope or collection \
         most likely does not exist (create it, or drop `scope`/`collection` to use \
         `_default`)"
    )]
    Collection {
        /// `bucket.scope.collection`.
        keyspace: String,
        /// The connect timeout.
        timeout: Duration,
    },
    /// The CA file of `ca_cert` could not be used.
    #[error("ca_cert `{path}`: {why}")]
    CaCert {
        /// The file.
        path: String,
        /// What is wrong with it.
        why: String,
    },
    /// The SDK refused to start, and said why.
    #[error(transparent)]
    Sdk(#[from] SdkError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_id_never_shows() {
        let sid = "0123456789abcdef0123456789abcdef";
        let error = CbError::new(ErrorKind::OtherFailure(format!("no luck with key {sid}")));
        let error = SdkError::new(&error, Some(sid));
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains(sid), "{shown}");
        assert!(shown.contains(&Fingerprint::of(sid).to_string()), "{shown}");
    }

    #[test]
    fn refusals_are_outcomes_and_the_rest_failures() {
        assert_eq!(
            Refusal::of(&ErrorKind::DocumentNotFound),
            Some(Refusal::NotFound)
        );
        assert_eq!(
            Refusal::of(&ErrorKind::DocumentExists),
            Some(Refusal::Exists)
        );
        assert_eq!(
            Refusal::of(&ErrorKind::CasMismatch),
            Some(Refusal::CasMismatch)
        );
        for failure in [
            ErrorKind::AuthenticationFailure,
            ErrorKind::ServerTimeout,
            ErrorKind::TemporaryFailure,
            ErrorKind::DocumentLocked,
        ] {
            assert_eq!(Refusal::of(&failure), None, "{failure:?}");
        }
    }

    #[test]
    fn unhelpful_kinds_say_what_to_do() {
        let shown = SdkError::new(&CbError::new(ErrorKind::AuthenticationFailure), None);
        assert!(shown.to_string().contains("Data Writer"), "{shown}");
        let shown = SdkError::new(&CbError::new(ErrorKind::IndexNotFound), None);
        assert!(shown.to_string().contains("count=off"), "{shown}");
    }
}
