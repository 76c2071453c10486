//! Session ids are bearer credentials: a full conformance run (hundreds of sessions,
//! corrupt data, regenerates, logouts, expiry) must not put one raw id into the logs, and
//! the library's error messages carry fingerprints instead.

#[path = "catches_bugs/engine.rs"]
mod engine;

use std::io::Write;
use std::sync::{Arc, Mutex};

use engine::{Backend, Engine, Handle};
use session_core::conformance::{Corruption, Suite};
use session_core::id::Fingerprint;
use session_core::{Error, Provider, ProviderFuture, ProviderInit};

/// Everything the subscriber writes, for the test to search.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_conformance_run_logs_no_session_id() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let backend = Arc::new(Backend::default());
    let (for_factory, for_corrupt) = (backend.clone(), backend.clone());
    let report = Suite::new("leak-check")
        .factory(move |init: ProviderInit| -> ProviderFuture {
            let engine = Engine {
                bug: None,
                lifetimes: init.lifetimes,
                backend: Arc::clone(&for_factory),
            };
            Box::pin(async move { Ok(Arc::new(Handle(Arc::new(engine))) as Arc<dyn Provider>) })
        })
        .corrupt_with(move |c: Corruption| {
            for_corrupt.corrupt(&c.sid);
            Box::pin(async move { c })
        })
        .run_report()
        .await;
    assert!(report.passed(), "{report}");

    let logs = captured.text();
    assert!(
        logs.contains("treating it as empty"),
        "the corrupt session was not logged at all, so the search proves nothing:\n{logs}"
    );
    let ids = backend.seen();
    assert!(ids.len() > 50, "only {} ids seen", ids.len());
    let leaked: Vec<&String> = ids
        .iter()
        .filter(|sid| logs.contains(sid.as_str()))
        .collect();
    assert!(leaked.is_empty(), "session ids in the logs: {leaked:?}");
}

#[test]
fn error_messages_carry_fingerprints_not_ids() {
    let sid = "0123456789abcdef0123456789abcdef";
    let errors = [
        Error::invalid_id(sid),
        Error::TooLarge {
            engine: "test".into(),
            session: Fingerprint::of(sid),
            size: 5000,
            limit: 4096,
        },
    ];
    for error in errors {
        let text = format!("{error} {error:?}");
        assert!(!text.contains(sid), "{text}");
        assert!(text.contains(&Fingerprint::of(sid).to_string()), "{text}");
    }
}
