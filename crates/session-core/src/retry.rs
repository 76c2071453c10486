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

/// How operations on a bounded connection pool are bounded, and what its errors mean: for
/// engines on a pooled client (SQL, Redis, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pooled {
    /// How long one operation may take, waiting for a connection included.
    pub limit: Duration,
    /// How often an operation is tried on a connection that turns out dead.
    pub attempts: usize,
    /// How long waiting for a connection may take.
    pub connect_timeout: Duration,
    /// The pool's size.
    pub max_connections: u32,
}

impl Pooled {
    /// For a pool of `max_connections`: an operation may wait `connect_timeout` for a
    /// connection and run `statement_timeout`, and is tried once more than the pool has
    /// connections (each dead idle connection uses up one attempt).
    pub fn new(
        max_connections: u32,
        connect_timeout: Duration,
        statement_timeout: Duration,
    ) -> Self {
        Pooled {
            limit: connect_timeout + statement_timeout,
            attempts: max_connections as usize + 1,
            connect_timeout,
            max_connections,
        }
    }

    /// Runs `op` as [`bounded`] does. A final error that `is_pool_timeout` recognises (the
    /// pool handed out no connection in time, which client libraries seldom explain)
    /// becomes one saying what that means.
    pub async fn run<T, E, F, Fut>(
        &self,
        engine: &'static str,
        action: &'static str,
        is_connection_lost: impl Fn(&E) -> bool,
        is_pool_timeout: impl Fn(&E) -> bool,
        op: F,
    ) -> Result<T>
    where
        E: std::error::Error + Send + Sync + 'static,
        F: FnMut() -> Fut,
        Fut: Future<Output = std::result::Result<T, E>>,
    {
        let result = bounded(
            engine,
            action,
            self.limit,
            self.attempts,
            is_connection_lost,
            op,
        );
        result.await.map_err(|error| match error {
            Error::Backend { source, .. }
                if source.downcast_ref::<E>().is_some_and(&is_pool_timeout) =>
            {
                let why = format!(
                    "no connection to the server within {:?}: it is down or unreachable, or all \
                     {} pooled connections are busy",
                    self.connect_timeout, self.max_connections
                );
                Error::backend(engine, action, why)
            }
            other => other,
        })
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

    #[tokio::test]
    async fn a_pool_timeout_is_explained() {
        let pooled = Pooled::new(4, Duration::from_secs(1), Duration::from_secs(1));
        assert_eq!(pooled.attempts, 5);
        let timed_out = |e: &std::io::Error| e.kind() == std::io::ErrorKind::WouldBlock;
        for (kind, explained) in [
            (std::io::ErrorKind::WouldBlock, true),
            (std::io::ErrorKind::PermissionDenied, false),
        ] {
            let op = || async move { Err::<(), _>(std::io::Error::from(kind)) };
            let out = pooled.run("t", "read", |_| false, timed_out, op).await;
            let err = out.unwrap_err().to_string();
            let says = err.contains("all 4 pooled connections are busy");
            assert_eq!(says, explained, "{err}");
        }
    }
}
