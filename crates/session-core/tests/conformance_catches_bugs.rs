//! The conformance suite must be able to fail: a small engine with switchable bugs is run
//! through it, and each bug must fail the checks that guard against it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use session_core::conformance::{Outcome, Report, Suite};
use session_core::http::HeaderMap;
use session_core::{
    async_trait, Capabilities, Context, Lifetimes, Persist, Provider, ProviderFuture, ProviderInit,
    Release, Released, Result, SessionData, Store, TrackedStore, Write,
};

#[derive(Debug, Clone, Copy, Default)]
struct Bugs {
    /// Writes the request's whole view instead of merging its changes.
    overwrite: bool,
    /// Ignores the lifetime: sessions never expire.
    immortal: bool,
    /// `session_destroy` does nothing.
    undying: bool,
    /// `release_if_present` re-creates sessions.
    resurrect: bool,
}

struct Engine {
    bugs: Bugs,
    lifetime: Duration,
    lifetimes: Lifetimes,
    sessions: Arc<Mutex<HashMap<String, (SessionData, Instant)>>>,
}

impl Engine {
    fn live(&self, sid: &str) -> Option<SessionData> {
        let sessions = self.sessions.lock().unwrap();
        let (data, touched) = sessions.get(sid)?;
        (self.bugs.immortal || touched.elapsed() < self.lifetime).then(|| data.clone())
    }

    fn store(self: &Arc<Self>, sid: &str, data: Option<SessionData>) -> Box<dyn Store> {
        Box::new(match data {
            Some(data) => TrackedStore::loaded(sid, data, (), Arc::clone(self)),
            None => TrackedStore::new(sid, Arc::clone(self)),
        })
    }
}

#[async_trait]
impl Persist for Engine {
    type Token = ();

    fn lifetimes(&self) -> &Lifetimes {
        &self.lifetimes
    }

    async fn persist(&self, release: Release<'_, ()>, _: &mut HeaderMap) -> Result<Released> {
        let current = self.live(release.sid);
        if current.is_none() && release.only_if_present && !self.bugs.resurrect {
            return Ok(Released::Gone);
        }
        let data = match (current, release.write) {
            (Some(mut data), Write::Changes(changes)) if !self.bugs.overwrite => {
                changes.apply_to(&mut data);
                data
            }
            (Some(data), Write::Touch) => data,
            _ => release.data.clone(),
        };
        let mut sessions = self.sessions.lock().unwrap();
        sessions.insert(release.sid.to_owned(), (data, Instant::now()));
        Ok(Released::Stored {
            expires: std::time::SystemTime::now() + self.lifetime,
        })
    }
}

struct Handle(Arc<Engine>);

#[async_trait]
impl Provider for Handle {
    async fn session_read(&self, _: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
        Ok(self.0.store(sid, self.0.live(sid)))
    }
    async fn session_create(&self, _: &Context<'_>, sid: &str) -> Result<Box<dyn Store>> {
        Ok(self.0.store(sid, None))
    }
    async fn session_exist(&self, _: &Context<'_>, sid: &str) -> Result<bool> {
        Ok(self.0.live(sid).is_some())
    }
    async fn session_regenerate(
        &self,
        _: &Context<'_>,
        old: &str,
        sid: &str,
    ) -> Result<Box<dyn Store>> {
        let data = self.0.live(old);
        let mut sessions = self.0.sessions.lock().unwrap();
        sessions.remove(old);
        if let Some(data) = &data {
            sessions.insert(sid.to_owned(), (data.clone(), Instant::now()));
        }
        drop(sessions);
        Ok(self.0.store(sid, data))
    }
    async fn session_destroy(&self, _: &Context<'_>, sid: &str) -> Result<()> {
        if !self.0.bugs.undying {
            self.0.sessions.lock().unwrap().remove(sid);
        }
        Ok(())
    }
    async fn session_all(&self) -> Result<usize> {
        let sessions = self.0.sessions.lock().unwrap();
        let lifetime = self.0.lifetime;
        Ok(sessions
            .values()
            .filter(|(_, t)| self.0.bugs.immortal || t.elapsed() < lifetime)
            .count())
    }
    async fn session_gc(&self) -> Result<()> {
        let engine = &self.0;
        if !engine.bugs.immortal {
            let lifetime = engine.lifetime;
            engine
                .sessions
                .lock()
                .unwrap()
                .retain(|_, (_, t)| t.elapsed() < lifetime);
        }
        Ok(())
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::NONE.merging().counting()
    }
}

async fn run(bugs: Bugs) -> Report {
    // One store per suite run, shared by all its managers (like a database); each manager's
    // provider sees it with its own lifetime.
    let sessions: Arc<Mutex<HashMap<String, (SessionData, Instant)>>> = Arc::default();
    Suite::new("buggy")
        .factory(move |init: ProviderInit| -> ProviderFuture {
            let engine = Engine {
                bugs,
                lifetime: init.max_lifetime(),
                lifetimes: init.lifetimes,
                sessions: Arc::clone(&sessions),
            };
            Box::pin(async move { Ok(Arc::new(Handle(Arc::new(engine))) as Arc<dyn Provider>) })
        })
        .run_report()
        .await
}

fn failed(report: &Report) -> Vec<&'static str> {
    report.failures().map(|(name, _)| name).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bug_fails_its_checks() {
    let cases: [(Bugs, &[&str]); 4] = [
        (
            Bugs {
                overwrite: true,
                ..Bugs::default()
            },
            &["concurrent_changes_to_different_keys_merge"],
        ),
        (
            Bugs {
                immortal: true,
                ..Bugs::default()
            },
            &[
                "expired_sessions_are_never_returned",
                "gc_removes_expired_and_keeps_live",
            ],
        ),
        (
            Bugs {
                undying: true,
                ..Bugs::default()
            },
            &[
                "destroy_removes_data_and_cookie",
                "destroy_is_not_undone_by_a_concurrent_request",
            ],
        ),
        (
            Bugs {
                resurrect: true,
                ..Bugs::default()
            },
            &["destroy_is_not_undone_by_a_concurrent_request"],
        ),
    ];
    // The four runs are independent (each has its own store): run them at once.
    let runs: Vec<_> = cases
        .iter()
        .map(|(bugs, _)| tokio::spawn(run(*bugs)))
        .collect();
    for ((bugs, expected), handle) in cases.into_iter().zip(runs) {
        let report = handle.await.expect("a suite run panicked");
        let failed = failed(&report);
        for name in expected {
            assert!(
                failed.contains(name),
                "{bugs:?} should fail {name}; failed: {failed:?}\n{report}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correct_engine_passes() {
    let report = run(Bugs::default()).await;
    assert!(report.passed(), "{report}");
    let skipped: Vec<_> = report.skipped().map(|(name, _)| name).collect();
    assert_eq!(skipped, ["corrupt_data_reads_as_empty"], "{report}");
    assert!(report
        .outcomes
        .iter()
        .all(|(_, o)| matches!(o, Outcome::Passed | Outcome::Skipped(_))));
}
