//! Everything the code under test logs, captured so targets can check it holds no secret.
//!
//! A fuzz target is one thread calling the code over and over: one global subscriber at
//! `TRACE` writes into a buffer that [`take`] empties after each input.

use std::io;
use std::sync::{Mutex, Once};

static BUFFER: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static INSTALL: Once = Once::new();

struct Capture;

impl io::Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let mut buffer = BUFFER.lock().unwrap_or_else(|e| e.into_inner());
        // A runaway input must not grow the buffer without bound; the start is enough.
        if buffer.len() < 1 << 20 {
            buffer.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Installs the capturing subscriber (once per process).
pub fn install() {
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(|| Capture)
            .finish();
        // Another subscriber already set (a test harness) only means less is checked.
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}

/// What was logged since the last call.
pub fn take() -> String {
    let mut buffer = BUFFER.lock().unwrap_or_else(|e| e.into_inner());
    let text = String::from_utf8_lossy(&buffer).into_owned();
    buffer.clear();
    text
}
