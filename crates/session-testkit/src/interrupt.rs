//! Ctrl-C, SIGTERM and SIGHUP handling: the signal only sets a flag, which long waits (a
//! server starting, xtask waiting for its children) poll, so that running servers are stopped
//! and their directories removed by their guards instead of being left behind. Nothing is
//! installed unless a program calls [`install`]; tests leave the default handlers alone.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the signal handler.
static REQUESTED: AtomicBool = AtomicBool::new(false);

/// The signal handler: only stores to an atomic, which is async-signal-safe.
extern "C" fn on_signal(_signal: libc::c_int) {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Installs the handler for SIGINT, SIGTERM and SIGHUP. Child processes get the default
/// handlers back when they exec.
pub fn install() {
    let handler: extern "C" fn(libc::c_int) = on_signal;
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only touches an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(signal, handler as libc::sighandler_t);
        }
    }
}

/// True once one of the signals arrived.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
