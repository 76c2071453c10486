//! One SDK call, bounded by a timeout, with its answer sorted into a value, an outcome that
//! is not a failure ([`Refusal`]), or an engine error that never shows the session id.
//!
//! The SDK 1.1 puts no deadline on key-value calls: its retry strategy retries what it
//! deems transient (a bucket still opening, an unknown collection, a node failing over)
//! for as long as the caller waits. Every call here is therefore wrapped in a timeout, and
//! dropping the call when it passes cancels the SDK's retries.

use std::future::Future;
use std::time::Duration;

use session_core::retry::TimedOut;
use session_core::{Error, Result};

use crate::errors::{Refusal, SdkError};
use crate::ENGINE;

/// Runs `op` for at most `limit`. `sid` is the session whose document the call is about:
/// it is scrubbed from error messages.
pub(crate) async fn bounded<T>(
    action: &'static str,
    sid: &str,
    limit: Duration,
    op: impl Future<Output = couchbase::error::Result<T>>,
) -> Result<std::result::Result<T, Refusal>> {
    match tokio::time::timeout(limit, op).await {
        Ok(Ok(value)) => Ok(Ok(value)),
        Ok(Err(error)) => match Refusal::of(error.kind()) {
            Some(refusal) => Ok(Err(refusal)),
            None => Err(Error::backend(
                ENGINE,
                action,
                SdkError::new(&error, Some(sid)),
            )),
        },
        Err(_) => Err(Error::backend(ENGINE, action, TimedOut(limit))),
    }
}

/// A refusal where the call cannot give one (say `DocumentExists` from a read): reported
/// as a failure rather than guessed at.
pub(crate) fn unexpected(action: &'static str, refusal: Refusal) -> Error {
    Error::backend(
        ENGINE,
        action,
        format!("the server answered {refusal:?}, which this call cannot get"),
    )
}

#[cfg(test)]
mod tests {
    use couchbase::error::{Error as CbError, ErrorKind};

    use super::*;

    #[tokio::test]
    async fn a_call_that_never_answers_times_out() {
        let limit = Duration::from_millis(20);
        let never = std::future::pending::<couchbase::error::Result<()>>();
        let err = bounded("read session", "sid", limit, never)
            .await
            .unwrap_err();
        assert!(err.is_unavailable(), "{err}");
        assert!(err.to_string().contains("no answer within"), "{err}");
    }

    #[tokio::test]
    async fn refusals_are_values_and_failures_errors() {
        let limit = Duration::from_secs(1);
        let not_found = async { Err::<(), _>(CbError::new(ErrorKind::DocumentNotFound)) };
        let out = bounded("read session", "sid", limit, not_found)
            .await
            .unwrap();
        assert_eq!(out, Err(Refusal::NotFound));
        let sid = "feedfacefeedfacefeedfacefeedface";
        let failed = async move {
            Err::<(), _>(CbError::new(ErrorKind::OtherFailure(format!(
                "broke on {sid}"
            ))))
        };
        let err = bounded("write session", sid, limit, failed)
            .await
            .unwrap_err();
        assert!(err.is_unavailable());
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(sid), "{shown}");
        assert!(shown.contains("write session"), "{shown}");
    }
}
