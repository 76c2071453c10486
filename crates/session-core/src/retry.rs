//! Running one backend operation with a deadline, retrying when the connection it used
//! turns out to be dead (the server restarted since the pool last used it).

use std::future::Future;
use std::time::Duration;

use crate::error::{BoxError, Error, Result};

/// The operation did not finish in time.
#[derive(Debug, thiserror::Error)]
#[error("no answer within {0:?} (the server is down, overloaded or unreachable)")]
pub struct TimedOut(pub Duration);

/// Runs `op` until it succeeds, fails with an error `is_connection_lost` does not accept,
/// has run `attempts` times, or `limit` has passed. Errors become
/// [`Error::Backend`] naming `engine` and `action`.
///
/// Retrying is for operations that are safe to repeat: reads, deletes and conditional
/// writes. A pool hands out idle connections that may have died with a server restart;
/// each failed attempt uses up one of them, so `attempts` should exceed the pool size.
pub async fn bounded<T, E, F, Fut>(
    engine: &'static str,
    action: &'static str,
    limit: Duration,
    attempts: usize,
    is_connection_lost: impl Fn(&E) -> bool,
    mut op: F,
) -> Result<T>
where
    E: Into<BoxError>,
    F: FnMut() -> Fut,
    Fut: Future<Output = std::result::Result<T, E>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    let mut attempt = 1;
    loop {
        match tokio::time::timeout_at(deadline, op()).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(error)) if attempt < attempts && is_connection_lost(&error) => {
                let error: BoxError = error.into();
                tracing::warn!(engine, action, attempt, %error, "connection lost; retrying");
                attempt += 1;
            }
            Ok(Err(error)) => return Err(Error::backend(engine, action, error)),
            Err(_) => return Err(Error::backend(engine, action, TimedOut(limit))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn retries_lost_connections_then_gives_up() {
        let mut calls = 0;
        let out: Result<()> = bounded(
            "t",
            "read",
            Duration::from_secs(5),
            3,
            |e: &std::io::Error| e.kind() == std::io::ErrorKind::BrokenPipe,
            || {
                calls += 1;
                async { Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe)) }
            },
        )
        .await;
        assert!(out.unwrap_err().is_backend());
        assert_eq!(calls, 3);
    }

    #[tokio::test]
    async fn times_out() {
        let out: Result<()> = bounded(
            "t",
            "read",
            Duration::from_millis(50),
            3,
            |_: &std::io::Error| true,
            std::future::pending,
        )
        .await;
        let err = out.unwrap_err().to_string();
        assert!(err.contains("no answer within"), "{err}");
    }
}
