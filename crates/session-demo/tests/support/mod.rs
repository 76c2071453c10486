//! What the HTTP suites (`concurrency`, `faults`, `hostile*`) share: the app served on a
//! loopback port, browsers that keep their own cookies and talk to it over TCP, raw
//! requests for bytes a client library refuses to send, the engines under test and where
//! their servers are, and a provider wrapper that counts what reaches storage.
#![allow(dead_code, unused_imports)] // each test binary uses its own part

pub mod browser;
pub mod counting;
pub mod engines;
pub mod hostile;
pub mod raw;
pub mod server;
pub mod testapp;

pub use browser::{Browser, Reply};
pub use server::Served;

/// Sends the app's `tracing` output (`default` as a filter, e.g. `error`; `RUST_LOG`
/// overrides it) to the test's captured output, so a failing test shows why the app
/// answered as it did.
pub fn init_logs(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// Prints a measurement (an outage window, what concurrent increments left) straight to
/// stderr, so it shows in the test run's output even when the test passes (the harness
/// hides what `eprintln!` prints in passing tests).
pub fn report(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}
