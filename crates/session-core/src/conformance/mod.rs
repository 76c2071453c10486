//! The public conformance suite: the whole session contract, run against any engine with one
//! call.
//!
//! Every in-tree engine runs it from its own tests, and so can a third-party engine:
//!
//! ```no_run
//! use session_core::conformance::Suite;
//!
//! #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
//! async fn my_engine_meets_the_contract() {
//!     // `use my_engine as _;` somewhere links the engine and its registration.
//!     Suite::new("my-engine")
//!         .provider_config("address-of-a-test-server")
//!         .run()
//!         .await; // panics with the list of failed checks
//! }
//! # fn main() {}
//! ```
//!
//! The suite builds many [`Manager`]s through the engine's factory, each with
//! its own [`ManagerConfig`] (lifetimes of one to a few seconds, cookie
//! attributes, id hashing), and drives them through a [`Client`] that keeps cookies the way a
//! browser does. It checks what the engine claims in
//! [`Provider::capabilities`](crate::Provider::capabilities) and skips, with the reason, what
//! it does not claim. Checks that count sessions or collect garbage run one at a time; the
//! rest run concurrently, so the suite takes a few seconds, not minutes.
//!
//! What it checks ([`Suite::check_names`] lists the names):
//! - beego's own session tests: set/get/delete/flush in one request, the cookie a first
//!   visit gets, the active-session count;
//! - a round trip across requests by cookie, and (when enabled) by URL query and header;
//! - an unknown id is never adopted; invalid ids (empty, 1 char, `../../etc/passwd`, 10 KB,
//!   non-hex, NUL, forged HMAC tags) are rejected before storage is touched;
//! - a new visitor costs no write and gets no cookie until the session holds data;
//! - regenerate keeps the data, kills the old id and keeps every cookie attribute;
//! - destroy removes the data, sends a removal cookie, and a concurrent
//!   `release_if_present` does not resurrect it (beego #5681);
//! - expiry with short lifetimes, sliding expiry on an unchanged session, GC removing what
//!   expired and keeping what lives, exact `session_all` counts;
//! - typed values (numbers, strings, a struct, a map, a list); a wrong type is an error that
//!   leaves the session intact;
//! - two concurrent releases changing different keys both survive (engines that merge);
//! - corrupt stored data reads as an empty session, never an error (with
//!   [`Suite::corrupt_with`]);
//! - the beego provider methods called directly (`session_exist`, `session_read`,
//!   `session_regenerate` and `session_destroy` of unknown ids).

mod checks;
mod client;
mod report;
mod spy;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use client::{set_cookies, Client};
pub use report::{Outcome, Report};

use crate::config::ManagerConfig;
use crate::error::Error;
use crate::manager::Manager;
use crate::provider::{Capabilities, ProviderFuture, ProviderInit};
use crate::registry;
use spy::{Counts, Spy};

/// What a [`Suite::corrupt_with`] hook is given, and gives back.
#[derive(Debug, Clone)]
pub struct Corruption {
    /// The id of a stored session whose stored bytes the hook should damage.
    pub sid: String,
    /// The client's cookies: engines that keep data on the client (the cookie engine) damage
    /// them here instead.
    pub cookies: BTreeMap<String, String>,
}

/// The future a [`Suite::corrupt_with`] hook returns.
pub type CorruptFuture = Pin<Box<dyn Future<Output = Corruption> + Send>>;

/// The future a [`Suite::count_backend_calls_with`] hook returns.
pub type CountFuture = Pin<Box<dyn Future<Output = usize> + Send>>;

/// The future a [`Suite::held_with`] hook returns.
pub type HeldFuture = Pin<Box<dyn Future<Output = bool> + Send>>;

type CorruptFn = Arc<dyn Fn(Corruption) -> CorruptFuture + Send + Sync>;
type CountFn = Arc<dyn Fn() -> CountFuture + Send + Sync>;
type HeldFn = Arc<dyn Fn(String) -> HeldFuture + Send + Sync>;
type Factory = Arc<dyn Fn(ProviderInit) -> ProviderFuture + Send + Sync>;

/// The conformance suite for one engine; see the [module documentation](self).
#[must_use = "a suite does nothing until `run` is awaited"]
pub struct Suite {
    engine: String,
    provider_config: String,
    factory: Option<Factory>,
    hooks: Hooks,
}

/// What the engine's author taught the suite about the backend.
#[derive(Clone, Default)]
struct Hooks {
    corrupt: Option<CorruptFn>,
    count: Option<CountFn>,
    held: Option<HeldFn>,
}

impl std::fmt::Debug for Suite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Suite")
            .field("engine", &self.engine)
            .field(
                "provider_config",
                &crate::dsn::Redacted(&self.provider_config),
            )
            .finish_non_exhaustive()
    }
}

impl Suite {
    /// The suite for the engine registered as `engine` (linked, or registered at run time
    /// with [`register`](crate::register)).
    pub fn new(engine: impl Into<String>) -> Self {
        Suite {
            engine: engine.into(),
            provider_config: String::new(),
            factory: None,
            hooks: Hooks::default(),
        }
    }

    /// The `providerConfig` every manager the suite builds gets (default: empty, which
    /// suits engines that need no configuration, such as `memory`).
    pub fn provider_config(mut self, config: impl Into<String>) -> Self {
        self.provider_config = config.into();
        self
    }

    /// Builds providers with `factory` instead of looking the engine up in the registry.
    pub fn factory<F>(mut self, factory: F) -> Self
    where
        F: Fn(ProviderInit) -> ProviderFuture + Send + Sync + 'static,
    {
        self.factory = Some(Arc::new(factory));
        self
    }

    /// Teaches the suite how to damage a stored session, so it can check that corrupt data
    /// reads as an empty session. Without it, that check is skipped.
    ///
    /// The hook gets the id of a stored session and must damage its stored bytes where
    /// the backend keeps them: a server engine writes junk into the record through its own
    /// client; an in-process engine needs a way in, e.g. a test that builds providers
    /// through [`factory`](Self::factory), keeps them, and asks one to damage `sid` through
    /// an accessor of its own.
    pub fn corrupt_with<F>(mut self, hook: F) -> Self
    where
        F: Fn(Corruption) -> CorruptFuture + Send + Sync + 'static,
    {
        self.hooks.corrupt = Some(Arc::new(hook));
        self
    }

    /// Teaches the suite to count what reaches the backend: the hook returns how many
    /// operations (round trips, statements, map lookups) the backend has served so far,
    /// for every provider this suite builds. With it, "a new visitor costs nothing" is
    /// counted where the engine cannot bypass the count (without it, only the calls that
    /// reach the [`Provider`](crate::Provider) are counted). The check that uses it runs
    /// alone, so a backend-wide counter is fine.
    pub fn count_backend_calls_with<F>(mut self, hook: F) -> Self
    where
        F: Fn() -> CountFuture + Send + Sync + 'static,
    {
        self.hooks.count = Some(Arc::new(hook));
        self
    }

    /// Teaches the suite to look into the backend: the hook returns whether anything is
    /// still stored under `sid`, expired or not. With it, the GC check sees that garbage
    /// collection really removes expired sessions (rather than reads merely hiding them);
    /// without it, that part is not checked.
    pub fn held_with<F>(mut self, hook: F) -> Self
    where
        F: Fn(String) -> HeldFuture + Send + Sync + 'static,
    {
        self.hooks.held = Some(Arc::new(hook));
        self
    }

    /// The names of every check, in the order they are reported.
    pub fn check_names() -> Vec<&'static str> {
        checks::ALL.iter().map(|c| c.name).collect()
    }

    /// Runs every check and panics, listing the failures, if any failed. Prints one line per
    /// check. Needs a multi-threaded tokio runtime.
    pub async fn run(self) {
        let report = self.run_report().await;
        println!("{report}");
        if !report.passed() {
            panic!(
                "conformance suite for engine `{}`: {} check(s) failed:\n{}",
                report.engine,
                report.failures().count(),
                report
                    .failures()
                    .map(|(name, why)| format!("  {name}: {why}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }

    /// Runs every check and returns the report without panicking.
    pub async fn run_report(self) -> Report {
        let env = Arc::new(Env {
            engine: self.engine.clone(),
            provider_config: self.provider_config,
            factory: self.factory,
            hooks: self.hooks,
        });
        let mut outcomes: BTreeMap<usize, (&'static str, Outcome)> = BTreeMap::new();
        let mut running = tokio::task::JoinSet::new();
        for (index, check) in checks::ALL.iter().enumerate().filter(|(_, c)| !c.exclusive) {
            let env = Arc::clone(&env);
            let run = check.run;
            running.spawn(async move { (index, run(env).await) });
        }
        while let Some(joined) = running.join_next().await {
            match joined {
                Ok((index, result)) => {
                    outcomes.insert(index, (checks::ALL[index].name, Outcome::from(result)));
                }
                Err(error) => tracing::error!(%error, "a conformance check task died"),
            }
        }
        for (index, check) in checks::ALL.iter().enumerate().filter(|(_, c)| c.exclusive) {
            let outcome = match tokio::spawn((check.run)(Arc::clone(&env))).await {
                Ok(result) => Outcome::from(result),
                Err(error) => Outcome::Failed(format!("the check panicked: {error}")),
            };
            outcomes.insert(index, (check.name, outcome));
        }
        for (index, check) in checks::ALL.iter().enumerate() {
            outcomes
                .entry(index)
                .or_insert_with(|| (check.name, Outcome::Failed("the check panicked".into())));
        }
        Report {
            engine: self.engine,
            outcomes: outcomes.into_values().collect(),
        }
    }
}

/// What every check gets: how to build managers on the engine under test.
pub(crate) struct Env {
    engine: String,
    provider_config: String,
    factory: Option<Factory>,
    hooks: Hooks,
}

/// A manager on a fresh provider instance, with its call counters.
pub(crate) struct Harness {
    pub manager: Manager,
    pub counts: Arc<Counts>,
    pub caps: Capabilities,
}

impl Env {
    /// A manager on a fresh provider built with `config` (its `provider_config` is replaced
    /// by the suite's).
    pub async fn harness(&self, mut config: ManagerConfig) -> Result<Harness, Error> {
        config.provider_config = self.provider_config.clone();
        config.validate()?;
        let factory = match &self.factory {
            Some(factory) => Arc::clone(factory),
            None => registry::lookup(&self.engine)?,
        };
        let provider = factory(ProviderInit::new(&self.engine, &config)).await?;
        let caps = provider.capabilities();
        let counts = Arc::new(Counts::default());
        let spy = Spy {
            inner: provider,
            counts: Arc::clone(&counts),
        };
        let manager = Manager::with_provider(self.engine.clone(), Arc::new(spy), config)?;
        Ok(Harness {
            manager,
            counts,
            caps,
        })
    }

    /// The backend's operation count, if the suite has a counting hook.
    pub async fn backend_calls(&self) -> Option<usize> {
        Some(self.hooks.count.as_ref()?().await)
    }

    /// Whether the backend still holds anything under `sid`, if the suite can look.
    pub async fn held(&self, sid: &str) -> Option<bool> {
        Some(self.hooks.held.as_ref()?(sid.to_owned()).await)
    }

    /// Runs the corruption hook, if the suite has one.
    pub async fn corrupt(&self, sid: &str, client: &mut Client) -> Option<()> {
        let hook = self.hooks.corrupt.as_ref()?;
        let out = hook(Corruption {
            sid: sid.to_owned(),
            cookies: client.cookies.clone(),
        })
        .await;
        client.cookies = out.cookies;
        Some(())
    }
}
