//! Engine failures are logged through `tracing`, as beego logs them.

mod common;

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use common::{app, flaky_manager, send, Gate};
use session_core::ManagerConfig;
use session_web::SessionLayer;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// current_thread: the subscriber set for this thread sees every task of the test.
#[tokio::test(flavor = "current_thread")]
async fn a_failing_engine_is_logged_as_an_error() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::ERROR)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (manager, state) = flaky_manager("web-test-log", ManagerConfig::default()).await;
    let app = app(SessionLayer::new(manager), Arc::new(Gate::default()));
    state.down.store(true, Ordering::SeqCst);
    assert_eq!(
        send(&app, "GET", "/", None).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("ERROR"), "{log}");
    assert!(log.contains("could not start the session"), "{log}");
    assert!(
        log.contains("connection refused (test)"),
        "the cause is in the log: {log}"
    );
    assert!(log.contains("web-test-log"), "the engine is named: {log}");
}
