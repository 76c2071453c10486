//! The app the hostile-input suites attack: the demo on a counted engine (see
//! [`counting`](super::counting)), with the id also accepted from the URL query and the
//! `Beegosessionid` header, so every way an id can arrive is tried.

use std::sync::Arc;

use axum::http::StatusCode;
use session_testkit::sql::unique_table;
use session_web::config::WebSessionConfig;
use tempfile::TempDir;

use super::counting::{self, CallLog};
use super::testapp::{self, Dump, TestApp};
use super::Reply;

/// The header the id may travel in (beego's default name).
pub const SID_HEADER: &str = "Beegosessionid";

/// The app, its engine's call log and, for the file engine, its directory.
pub struct Hostile {
    /// The app.
    pub app: TestApp,
    /// What reached the engine.
    pub log: Arc<CallLog>,
    /// The temporary directory holding the file engine's `sessions` directory.
    pub dir: Option<TempDir>,
}

/// Which engine is behind the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// `memory`.
    Memory,
    /// `file`, in a temporary directory.
    File,
}

/// The demo on a counted engine, ids accepted from cookie, query and header, `tweak`
/// applied to the configuration.
pub async fn app(engine: Counted, tweak: impl FnOnce(&mut WebSessionConfig)) -> Hostile {
    counting::register_engines();
    let name = unique_table("log");
    let (provider, inner, dir) = match engine {
        Counted::Memory => ("counted-memory", String::new(), None),
        Counted::File => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let sessions = dir.path().join("sessions").display().to_string();
            ("counted-file", sessions, Some(dir))
        }
    };
    let mut config = testapp::config(provider, &format!("{name}|{inner}"));
    config.enable_sid_in_url_query = true;
    config.enable_sid_in_http_header = true;
    tweak(&mut config);
    let app = testapp::start(&config).await;
    Hostile {
        app,
        log: counting::log(&name),
        dir,
    }
}

/// A `/dump` reply that served a new, empty session under an id other than `not`: the
/// hostile input was not adopted.
pub fn assert_fresh(reply: &Reply, not: &str, what: &str) -> Dump {
    assert_eq!(reply.status, StatusCode::OK, "{what}: {}", reply.body);
    let dump = Dump::parse(&reply.body);
    assert!(
        dump.new && dump.values.is_empty() && dump.id != not,
        "{what}: served {dump:?}"
    );
    dump
}
