//! What can go wrong talking to Redis, and how it reads in an error message.

use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::{PoolError, TimeoutType};
use deadpool_redis::redis::{ErrorKind, RedisError, ServerErrorKind};

/// One failed attempt, or the reason the engine gave up.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Failure {
    /// The server (or the client library) reported an error.
    #[error("{0}")]
    Redis(RedisError),
    /// No pooled connection became free in time, and none could be made.
    #[error(
        "no connection within {wait:?}: the server is down or unreachable, or all {size} pooled \
         connections are busy"
    )]
    NoConnection {
        /// The connect timeout.
        wait: Duration,
        /// The pool's size.
        size: usize,
    },
    /// Connecting took longer than the connect timeout.
    #[error("could not connect within {0:?} (the server is down, overloaded or unreachable)")]
    ConnectTimedOut(Duration),
    /// The whole operation took longer than its limit.
    #[error("no answer within {0:?} (the server is down, overloaded or unreachable)")]
    TimedOut(Duration),
    /// The pool refused for another reason (closed).
    #[error("the connection pool is closed")]
    PoolClosed,
    /// The server answered something the engine does not expect.
    #[error("unexpected reply: {0}")]
    Reply(String),
}

impl Failure {
    /// From a pool error, with what the messages need to explain a timeout.
    pub(crate) fn from_pool(error: PoolError<RedisError>, wait: Duration, size: usize) -> Self {
        match error {
            PoolError::Backend(error) if error.is_timeout() => Failure::ConnectTimedOut(wait),
            PoolError::Backend(error) => Failure::Redis(error),
            PoolError::Timeout(TimeoutType::Create) => Failure::ConnectTimedOut(wait),
            PoolError::Timeout(_) => Failure::NoConnection { wait, size },
            PoolError::Closed | PoolError::NoRuntimeSpecified | PoolError::PostCreateHook(_) => {
                Failure::PoolClosed
            }
        }
    }

    /// True when the connection used is dead or talks to a server that no longer takes
    /// writes (a demoted master): the same operation on a fresh connection may well work,
    /// and was not applied. Refused connections are not retried: the server is down.
    pub(crate) fn is_connection_lost(&self) -> bool {
        match self {
            Failure::Redis(error) => is_connection_lost(error),
            _ => false,
        }
    }
}

/// See [`Failure::is_connection_lost`].
pub(crate) fn is_connection_lost(error: &RedisError) -> bool {
    if error.is_connection_refusal() || error.is_timeout() {
        return false;
    }
    error.is_connection_dropped()
        || matches!(
            error.kind(),
            ErrorKind::Server(ServerErrorKind::ReadOnly)
                | ErrorKind::Server(ServerErrorKind::MasterDown)
        )
}

/// A failure with where it happened: what [`session_core::Error::Backend`] carries, so
/// messages read `… failed while trying to read session: at 127.0.0.1:6379: …`. Never
/// holds a password.
#[derive(Debug, thiserror::Error)]
#[error("at {target}: {failure}")]
pub struct RedisFailure {
    target: Arc<str>,
    failure: Failure,
}

impl RedisFailure {
    pub(crate) fn new(target: Arc<str>, failure: Failure) -> Self {
        RedisFailure { target, failure }
    }

    /// True when the server refused the command because the key holds another type.
    pub(crate) fn is_wrong_type(&self) -> bool {
        matches!(&self.failure, Failure::Redis(error) if error.code() == Some("WRONGTYPE"))
    }

    /// True when the server was down, unreachable or too slow (rather than answering with
    /// an error).
    pub fn is_unreachable(&self) -> bool {
        match &self.failure {
            Failure::Redis(error) => {
                error.is_io_error() || error.is_connection_refusal() || error.is_timeout()
            }
            Failure::NoConnection { .. } | Failure::ConnectTimedOut(_) | Failure::TimedOut(_) => {
                true
            }
            Failure::PoolClosed | Failure::Reply(_) => false,
        }
    }
}
