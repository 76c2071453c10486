//! The background garbage-collection task.

use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::manager::Manager;

/// A running GC loop; stops when [`shutdown`](GcTask::shutdown) is awaited or it is dropped.
///
/// Each pass runs on its own task, so requests never wait for it; a failing pass is logged
/// and the next one runs on schedule.
#[derive(Debug)]
pub struct GcTask {
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl GcTask {
    pub(crate) fn spawn(manager: Manager, every: Duration) -> Self {
        let (stop, mut stopped) = oneshot::channel::<()>();
        // Never spin, whatever the caller passed: validated configs have every >= 1 s.
        let every = every.max(Duration::from_millis(100));
        let handle = tokio::spawn(async move {
            let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = ticker.tick() => {
                        if let Err(error) = manager.gc().await {
                            tracing::warn!(engine = manager.engine(), %error, "session GC pass failed");
                        }
                    }
                }
            }
            tracing::debug!(engine = manager.engine(), "session GC stopped");
        });
        GcTask {
            stop: Some(stop),
            handle: Some(handle),
        }
    }

    /// Stops the loop and waits for a pass in progress to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            let _ = handle.await;
        }
    }
}

impl Drop for GcTask {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
