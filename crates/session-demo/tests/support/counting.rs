//! A provider wrapper that records every call reaching the engine (and the ids it carried),
//! registered as `counted-memory` and `counted-file` around the real engines, so a suite
//! can check that a hostile id never reaches storage.
//!
//! Their `providerConfig` is `<log name>|<the engine's own providerConfig>`: each app
//! under test names its own log, and [`log`] hands it to the test.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Once, OnceLock};

use session_core::{
    async_trait, register, Capabilities, Context, Provider, ProviderInit, Result, Store,
};
use session_file::FileProvider;
use session_memory::MemoryProvider;

/// The calls one app's engine received: method and id(s), in order.
#[derive(Debug, Default)]
pub struct CallLog {
    calls: Mutex<Vec<(&'static str, String)>>,
}

impl CallLog {
    fn push(&self, method: &'static str, sid: &str) {
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((method, sid.to_owned()));
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<(&'static str, String)> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// How many calls looked up, moved or removed a session by id: everything but
    /// `session_create` (an empty session for a freshly minted id, which touches nothing)
    /// and the background GC and counts.
    pub fn storage_calls(&self) -> usize {
        self.calls()
            .iter()
            .filter(|(method, _)| {
                !matches!(*method, "session_create" | "session_gc" | "session_all")
            })
            .count()
    }

    /// Forgets the calls so far.
    pub fn reset(&self) {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Calls whose id (either id of a move) contains `needle`.
    pub fn carrying(&self, needle: &str) -> Vec<(&'static str, String)> {
        self.calls()
            .into_iter()
            .filter(|(_, sid)| sid.contains(needle))
            .collect()
    }
}

fn logs() -> &'static Mutex<HashMap<String, Arc<CallLog>>> {
    static LOGS: OnceLock<Mutex<HashMap<String, Arc<CallLog>>>> = OnceLock::new();
    LOGS.get_or_init(Default::default)
}

/// The log of the app whose `providerConfig` starts with `name|` (created on first use).
pub fn log(name: &str) -> Arc<CallLog> {
    let mut logs = logs().lock().unwrap_or_else(|e| e.into_inner());
    Arc::clone(logs.entry(name.to_owned()).or_default())
}

/// Registers `counted-memory` and `counted-file` (once per test binary).
pub fn register_engines() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        register("counted-memory", |init| {
            Box::pin(async move {
                let (log, init) = split(init);
                let inner = MemoryProvider::from_init(&init)?;
                Ok(Arc::new(Counted::new(inner, log)) as Arc<dyn Provider>)
            })
        })
        .expect("register counted-memory");
        register("counted-file", |init| {
            Box::pin(async move {
                let (log, init) = split(init);
                let inner = FileProvider::from_init(&init).await?;
                Ok(Arc::new(Counted::new(inner, log)) as Arc<dyn Provider>)
            })
        })
        .expect("register counted-file");
    });
}

/// The log named before the `|`, and the init the real engine gets.
fn split(mut init: ProviderInit) -> (Arc<CallLog>, ProviderInit) {
    let config = std::mem::take(&mut init.config);
    let (name, rest) = config.split_once('|').unwrap_or(("default", &config));
    init.config = rest.to_owned();
    (log(name), init)
}

/// Forwards every call to the real engine and records it.
pub struct Counted<P> {
    inner: P,
    log: Arc<CallLog>,
}

impl<P> Counted<P> {
    fn new(inner: P, log: Arc<CallLog>) -> Self {
        Counted { inner, log }
    }
}

#[async_trait]
impl<P: Provider> Provider for Counted<P> {
    async fn session_read(&self, cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
        self.log.push("session_read", sid);
        self.inner.session_read(cx, sid).await
    }

    async fn session_exist(&self, cx: &Context<'_>, sid: &str) -> Result<bool> {
        self.log.push("session_exist", sid);
        self.inner.session_exist(cx, sid).await
    }

    async fn session_regenerate(
        &self,
        cx: &Context<'_>,
        old_sid: &str,
        sid: &str,
    ) -> Result<Box<dyn Store>> {
        self.log
            .push("session_regenerate", &format!("{old_sid}>{sid}"));
        self.inner.session_regenerate(cx, old_sid, sid).await
    }

    async fn session_destroy(&self, cx: &Context<'_>, sid: &str) -> Result<()> {
        self.log.push("session_destroy", sid);
        self.inner.session_destroy(cx, sid).await
    }

    async fn session_all(&self) -> Result<usize> {
        self.log.push("session_all", "");
        self.inner.session_all().await
    }

    async fn session_gc(&self) -> Result<()> {
        self.log.push("session_gc", "");
        self.inner.session_gc().await
    }

    async fn session_load(&self, cx: &Context<'_>, sid: &str) -> Result<Option<Box<dyn Store>>> {
        self.log.push("session_load", sid);
        self.inner.session_load(cx, sid).await
    }

    async fn session_create(&self, cx: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
        self.log.push("session_create", sid);
        self.inner.session_create(cx, sid).await
    }

    async fn session_move(
        &self,
        cx: &Context<'_>,
        old_sid: &str,
        sid: &str,
    ) -> Result<Option<Box<dyn Store>>> {
        self.log.push("session_move", &format!("{old_sid}>{sid}"));
        self.inner.session_move(cx, old_sid, sid).await
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
}
