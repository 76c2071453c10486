//! Requests of one process take turns per session id before they touch its `flock`.
//!
//! Without this, every concurrent write to one session would sit in tokio's blocking pool
//! waiting for the same file lock, and a client firing requests at its own session could
//! use up the pool that `tokio::fs` and every other request need. With it, at most one task
//! per session id competes for the file lock; the others wait here, asynchronously, where
//! waiting costs no thread and a cancelled request simply leaves the line.

use std::sync::Arc;

use dashmap::DashMap;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// The lines of waiting tasks, one per session id that has a user right now. Entries go
/// away with their last user, so the map only ever holds ids with a write in progress.
#[derive(Debug, Default)]
pub(crate) struct Turns {
    lines: Arc<DashMap<String, Line>>,
}

#[derive(Debug)]
struct Line {
    /// Fair (first come, first served), so no writer of a busy session starves.
    lock: Arc<Mutex<()>>,
    /// Tasks holding or awaiting this id's turn. Counted explicitly, under the map shard's
    /// lock, rather than read off the `Arc`, so that the clean-up does not depend on the
    /// order in which a cancelled wait drops its parts.
    users: usize,
}

/// A task's place in line for session `sid`, and once [`Turns::wait`] returns, its turn:
/// the right to take the session's file lock. Dropping it lets the next task in.
#[derive(Debug)]
pub(crate) struct Turn {
    guard: Option<OwnedMutexGuard<()>>,
    lines: Arc<DashMap<String, Line>>,
    sid: String,
}

impl Turns {
    /// Waits, asynchronously and in order of arrival, for `sid`'s turn. Cancelling the
    /// wait gives up the place in line.
    pub(crate) async fn wait(&self, sid: &str) -> Turn {
        let lock = {
            let mut line = self.lines.entry(sid.to_owned()).or_insert_with(|| Line {
                lock: Arc::default(),
                users: 0,
            });
            line.users += 1;
            Arc::clone(&line.lock)
        };
        // Built before the wait, so that a cancelled wait still counts itself out.
        let mut turn = Turn {
            guard: None,
            lines: Arc::clone(&self.lines),
            sid: sid.to_owned(),
        };
        turn.guard = Some(lock.lock_owned().await);
        turn
    }

    /// How many session ids have a turn taken or awaited right now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lines.len()
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        // Next in line first; then this task is no longer a user of the id.
        drop(self.guard.take());
        self.lines.remove_if_mut(self.sid.as_str(), |_, line| {
            line.users -= 1;
            line.users == 0
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_turn_per_id_and_entries_go_with_their_last_user() {
        let turns = Turns::default();
        let first = turns.wait("ab").await;
        let other_id = turns.wait("cd").await;
        assert_eq!(turns.len(), 2);
        // A second task for "ab" waits while the first holds the turn.
        let second = tokio::time::timeout(Duration::from_millis(50), turns.wait("ab")).await;
        assert!(second.is_err(), "two turns for one id at once");
        // The cancelled wait counted itself out: "ab" still has exactly one user.
        drop(first);
        assert_eq!(turns.len(), 1);
        let again = turns.wait("ab").await;
        drop(again);
        drop(other_id);
        assert_eq!(turns.len(), 0);
    }

    #[tokio::test]
    async fn a_waiter_gets_the_turn_when_the_holder_is_done() {
        let turns = Arc::new(Turns::default());
        let first = turns.wait("ab").await;
        let waiter = {
            let turns = Arc::clone(&turns);
            tokio::spawn(async move { drop(turns.wait("ab").await) })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(first);
        waiter.await.unwrap();
        assert_eq!(turns.len(), 0);
    }
}
