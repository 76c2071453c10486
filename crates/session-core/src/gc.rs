//! The background garbage-collection loop: one per manager, shared by every handle.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::manager::Manager;

/// A handle on a manager's GC loop ([`Manager::spawn_gc`]).
///
/// Handles of one manager share its single loop: the loop stops when the last handle is
/// dropped, or at once when any handle is [shut down](GcTask::shutdown). Each pass runs on
/// the loop's own task, so requests never wait for it; a failing pass is logged and the
/// next one runs on schedule.
#[derive(Debug, Clone)]
pub struct GcTask {
    shared: Arc<GcLoop>,
}

/// The loop itself, kept alive by its handles.
#[derive(Debug)]
pub(crate) struct GcLoop {
    stop: Mutex<Option<oneshot::Sender<()>>>,
    handle: Mutex<Option<JoinHandle<()>>>,
    running: AtomicBool,
}

impl GcLoop {
    pub(crate) fn is_running(&self) -> bool {
        self.running.load(Ordering::Acquire)
    }

    fn stop(&self) {
        self.running.store(false, Ordering::Release);
        let stop = self.stop.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
    }
}

impl Drop for GcLoop {
    fn drop(&mut self) {
        self.stop();
    }
}

impl GcTask {
    pub(crate) fn spawn(manager: Manager, every: Duration) -> Self {
        let (stop, mut stopped) = oneshot::channel::<()>();
        // Never spin, whatever the caller passed: validated configs have every >= 1 s.
        let every = every.max(Duration::from_millis(100));
        let engine = manager.engine().to_owned();
        tracing::debug!(engine, "session GC started");
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
            shared: Arc::new(GcLoop {
                stop: Mutex::new(Some(stop)),
                handle: Mutex::new(Some(handle)),
                running: AtomicBool::new(true),
            }),
        }
    }

    /// Another handle on a running loop.
    pub(crate) fn join(shared: Arc<GcLoop>) -> Self {
        GcTask { shared }
    }

    pub(crate) fn downgrade(&self) -> Weak<GcLoop> {
        Arc::downgrade(&self.shared)
    }

    /// True while the loop runs (not yet shut down).
    pub fn is_running(&self) -> bool {
        self.shared.is_running()
    }

    /// Stops the loop (for every handle) and waits for a pass in progress to finish.
    pub async fn shutdown(self) {
        self.shared.stop();
        let handle = self
            .shared
            .handle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(handle) = handle {
            let _ = handle.await;
        }
    }
}
