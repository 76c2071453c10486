//! Captures what the app.conf reader logs, and writes small app.conf trees to read.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use session_web::config::{AppConf, WebConfigError, WebSessionConfig};

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

/// Runs `f` with a subscriber that records warnings and errors; returns `f`'s result and
/// the log text.
pub fn capture<R>(f: impl FnOnce() -> R) -> (R, String) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .without_time()
        .with_max_level(tracing::Level::WARN)
        .with_writer(move || writer.clone())
        .finish();
    let result = tracing::subscriber::with_default(subscriber, f);
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    (result, log)
}

/// A temporary directory holding `files` (`name`, text); `app.conf` is the one to read.
pub struct Tree {
    pub dir: tempfile::TempDir,
}

impl Tree {
    pub fn new(files: &[(&str, &str)]) -> Tree {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        Tree { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Loads `app.conf` of a tree made of `files` (with an empty environment), capturing the
/// log.
pub fn load(files: &[(&str, &str)]) -> (Result<WebSessionConfig, WebConfigError>, String) {
    let tree = Tree::new(files);
    capture(|| {
        let app = AppConf::from_file_with_env(tree.path("app.conf"), |_| None)?;
        WebSessionConfig::from_appconf(&app)
    })
}
