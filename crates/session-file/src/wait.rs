//! Waiting for a session's lock without holding a thread.
//!
//! A write first waits for its turn among this process's tasks on the same session id
//! ([`crate::turns`]), then tries the file lock on the blocking pool; while another process
//! (or a crashed request's leftover holder) has it, the task sleeps on tokio's timer, not in
//! the pool, and tries again. The whole wait is bounded by `lockTimeoutMs`, and a request
//! cancelled while waiting stops waiting at once.

use std::sync::Arc;
use std::time::Duration;

use session_core::{Error, Result};
use tokio::time::Instant;

use crate::ops::{Attempt, Engine};
use crate::{Shared, ENGINE};

/// First pause after finding the file lock busy; doubled up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(1);
/// Longest pause between two tries at a busy file lock.
const MAX_BACKOFF: Duration = Duration::from_millis(20);

/// The session's lock was not free within `lockTimeoutMs`.
#[derive(Debug, thiserror::Error)]
#[error(
    "another request held the session lock for over {0:?}; if writes are this slow, raise \
     `lockTimeoutMs` in providerConfig"
)]
pub(crate) struct LockTimedOut(pub(crate) Duration);

impl Shared {
    /// Runs `op`, which needs session `sid`'s lock, on the blocking pool once this task has
    /// `sid`'s turn, trying again after an async pause whenever the lock is busy.
    pub(crate) async fn locked<T, F>(&self, sid: &str, action: &'static str, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: Fn(&Engine) -> Result<Attempt<T>> + Send + Sync + 'static,
    {
        let limit = self.engine.lock_timeout;
        let timed_out = || Error::backend(ENGINE, action, LockTimedOut(limit));
        let deadline = Instant::now() + limit;
        let mut turn = tokio::time::timeout_at(deadline, self.turns.wait(sid))
            .await
            .map_err(|_| timed_out())?;
        let op = Arc::new(op);
        let mut backoff = FIRST_BACKOFF;
        loop {
            let engine = Arc::clone(&self.engine);
            let op = Arc::clone(&op);
            // The turn travels with the blocking work and comes back with its result: if
            // the request is cancelled mid-write the write still finishes (it is never cut
            // short), and only then is the next task let in.
            let (outcome, back) = tokio::task::spawn_blocking(move || (op(&engine), turn))
                .await
                .map_err(|e| Error::backend(ENGINE, action, e))?;
            turn = back;
            if let Attempt::Done(value) = outcome? {
                return Ok(value);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(timed_out());
            }
            tokio::time::sleep(backoff.min(deadline - now)).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}
