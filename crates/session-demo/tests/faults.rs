//! Faults under load, over real HTTP: 20 browsers load the demo for 20 s while its server
//! (MariaDB, PostgreSQL, Redis with `appendonly yes`, memcached: a throwaway one of each
//! test's own) is killed with SIGKILL and, 2 s later, restarted on the same data.
//!
//! Each test checks that requests fail only with 503 and only during the outage (from the
//! kill until a short grace after the server accepts connections again), that no request
//! hangs (each is bounded by the client's timeout) and nothing panics, that the same app
//! serves again with no restart, and that sessions committed before the kill are still
//! there afterwards: MariaDB, PostgreSQL, and Redis with its append-only file. memcached
//! keeps nothing across a restart: its sessions are gone, which the test checks too.
//! Each test prints its outage window and error count.
//!
//! The tests run one at a time (they would distort each other's windows on a small
//! machine), and only when `cargo xtask test` has servers for the engine (its variable is
//! set): they start their own, so the kill reaches no other test.

mod support;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use session_testkit::servers::{self, RunningServer, ServerKind, StartOptions};
use support::browser::Failure;
use support::testapp::{self, TestApp};
use support::Browser;

/// Simulated browsers.
const CLIENTS: usize = 20;
/// How long the load runs.
const LOAD_FOR: Duration = Duration::from_secs(20);
/// When the server is killed, from the start of the load.
const KILL_AT: Duration = Duration::from_secs(6);
/// How long it stays down before the restart begins.
const DOWN_FOR: Duration = Duration::from_secs(2);
/// How long after the server accepts connections again a request may still fail (pools
/// notice dead connections one request at a time, a restarted server warms up).
const GRACE: Duration = Duration::from_secs(5);
/// Each browser's pause between two requests (the load is bounded, not a flood).
const PACE: Duration = Duration::from_millis(20);

/// The tests take turns.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One request of the load: when it began and ended (from the start of the load), what
/// came back, and the counter and user the page showed.
#[derive(Debug, Clone)]
struct Sample {
    began: Duration,
    ended: Duration,
    outcome: Result<StatusCode, Failure>,
    count: Option<u64>,
    user: Option<String>,
}

/// One engine's fault test.
struct Fault {
    engine: &'static str,
    kind: ServerKind,
    options: StartOptions,
    /// The engine's `providerConfig` on the test's own server.
    provider_config: fn(&RunningServer) -> String,
    /// Whether sessions survive a kill and restart of the server.
    durable: bool,
}

/// When the outage happened, from the start of the load.
#[derive(Debug, Clone, Copy)]
struct Outage {
    killed: Duration,
    back: Duration,
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("a blocking test step")
}

/// Logs `client` in as `client{i}` and shows the counter once: a committed session.
async fn logged_in(app: &TestApp, i: usize) -> Browser {
    let mut browser = app.served.browser();
    let login = browser
        .post_form("/login", &format!("user=client{i}"))
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
    let home = browser.get("/").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert_eq!(home.user(), Some(format!("client{i}")));
    browser
}

/// One browser reloading the counter until `LOAD_FOR` has passed.
async fn load(mut browser: Browser, start: Instant) -> Vec<Sample> {
    let mut samples = Vec::new();
    while start.elapsed() < LOAD_FOR {
        let began = start.elapsed();
        let outcome = browser.send(axum::http::Method::GET, "/", &[], None).await;
        let ended = start.elapsed();
        let (count, user) = match &outcome {
            Ok(reply) if reply.status == StatusCode::OK => (Some(reply.count()), reply.user()),
            _ => (None, None),
        };
        samples.push(Sample {
            began,
            ended,
            outcome: outcome.map(|reply| reply.status),
            count,
            user,
        });
        tokio::time::sleep(PACE).await;
    }
    samples
}

impl Fault {
    async fn run(&self) {
        let test = format!("{}_killed_under_load", self.engine);
        let var = match self.kind {
            ServerKind::MariaDb => "MYSQL_URL",
            ServerKind::Postgres => "POSTGRES_URL",
            ServerKind::Redis => servers::redis::URL_VAR,
            ServerKind::Memcached => "MEMCACHE_SERVERS",
        };
        if servers::from_env(var, &test).is_none() {
            return;
        }
        let _turn = SERIAL.lock().await;
        // Thousands of requests fail on purpose: their logs only with RUST_LOG set.
        support::init_logs("off");
        let (kind, options) = (self.kind, self.options);
        let mut server = blocking(move || servers::start_with(kind, options))
            .await
            .unwrap_or_else(|e| panic!("starting {kind}: {e}"));
        let app = testapp::start(&testapp::config(
            self.engine,
            &(self.provider_config)(&server),
        ))
        .await;
        let mut browsers = Vec::new();
        for i in 0..CLIENTS {
            browsers.push(logged_in(&app, i).await);
        }

        let start = Instant::now();
        let clients: Vec<_> = browsers
            .into_iter()
            .map(|browser| tokio::spawn(load(browser, start)))
            .collect();
        tokio::time::sleep(KILL_AT.saturating_sub(start.elapsed())).await;
        // Taken before the signal goes out: nothing that ended earlier can have seen it.
        let killed = start.elapsed();
        server = blocking(move || {
            server.kill();
            server
        })
        .await;
        tokio::time::sleep(DOWN_FOR).await;
        server = blocking(move || {
            server
                .restart()
                .unwrap_or_else(|e| panic!("restarting {kind}: {e}"));
            server
        })
        .await;
        let outage = Outage {
            killed,
            back: start.elapsed(),
        };
        let mut runs = Vec::new();
        for client in clients {
            runs.push(client.await.expect("a load client panicked"));
        }
        self.check(&runs, outage);
        let mut after = app.served.browser();
        assert_eq!(after.get("/health").await.status, StatusCode::OK);
        assert!(app.served.is_running(), "the server task ended");
        drop(server);
    }

    fn check(&self, runs: &[Vec<Sample>], outage: Outage) {
        let engine = self.engine;
        let all: Vec<&Sample> = runs.iter().flatten().collect();
        // Nothing hung, nothing broke a connection (a panicking handler would), and the
        // only error is 503.
        for sample in &all {
            match &sample.outcome {
                Ok(status) if *status == StatusCode::OK => {}
                Ok(status) if *status == StatusCode::SERVICE_UNAVAILABLE => {
                    assert!(
                        sample.ended >= outage.killed && sample.began <= outage.back + GRACE,
                        "{engine}: a 503 outside the outage ({sample:?}, {outage:?})"
                    );
                }
                Ok(status) => panic!("{engine}: answered {status} ({sample:?})"),
                Err(failure) => panic!("{engine}: {failure} ({sample:?}, {outage:?})"),
            }
        }
        let errors: Vec<&&Sample> = all.iter().filter(|s| s.count.is_none()).collect();
        assert!(
            !errors.is_empty(),
            "{engine}: no request failed while the server was down: the kill did not happen"
        );
        for (i, run) in runs.iter().enumerate() {
            let ok_after = run
                .iter()
                .filter(|s| s.began > outage.back + GRACE && s.count.is_some())
                .count();
            assert!(
                ok_after > 0,
                "{engine}: client {i} did not recover: {run:?}"
            );
            self.check_sessions_kept(i, run, outage);
        }
        let first = errors.iter().map(|s| s.ended).min().unwrap_or_default();
        let last = errors.iter().map(|s| s.ended).max().unwrap_or_default();
        let secs = |d: Duration| d.as_secs_f64();
        support::report(format_args!(
            "{engine}: SIGKILL at +{:.1} s, restarted and accepting at +{:.1} s; {} of {} \
             requests failed, all 503, ending from +{:.2} s to +{:.2} s after the kill \
             (outage window {:.2} s; {:.2} s after the server was back){}",
            secs(outage.killed),
            secs(outage.back),
            errors.len(),
            all.len(),
            secs(first.saturating_sub(outage.killed)),
            secs(last.saturating_sub(outage.killed)),
            secs(last.saturating_sub(outage.killed)),
            secs(last.saturating_sub(outage.back)),
            if self.durable {
                "; every session kept"
            } else {
                "; sessions lost with the restart (memcached keeps nothing)"
            }
        ));
    }

    /// Durable engines: the user is still logged in after the outage and the counter went
    /// on from at least where the last acknowledged request left it. memcached: the
    /// session is gone after the restart (the counter starts over, nobody logged in).
    fn check_sessions_kept(&self, i: usize, run: &[Sample], outage: Outage) {
        let engine = self.engine;
        let before = run
            .iter()
            .filter(|s| s.ended < outage.killed)
            .filter_map(|s| s.count)
            .next_back();
        let after = run
            .iter()
            .find(|s| s.began > outage.back && s.count.is_some())
            .unwrap_or_else(|| panic!("{engine}: client {i} never got a page after the outage"));
        let last = run.iter().rev().find(|s| s.count.is_some());
        if self.durable {
            if let Some(before) = before {
                assert!(
                    after.count.unwrap_or(0) > before,
                    "{engine}: client {i} counted {before} before the kill and {:?} after: \
                     an acknowledged write was lost",
                    after.count
                );
            }
            for sample in run.iter().filter(|s| s.count.is_some()) {
                assert_eq!(
                    sample.user,
                    Some(format!("client{i}")),
                    "{engine}: client {i} lost its login ({sample:?})"
                );
            }
        } else {
            assert_eq!(
                last.and_then(|s| s.user.clone()),
                None,
                "{engine}: client {i} is still logged in after memcached restarted empty"
            );
        }
    }
}

/// Bounds for the SQL engines: connecting or waiting for a pooled connection 1 s, a
/// statement 2 s.
const SQL_LIMITS: &str = "connect_timeout=1s&statement_timeout=2s";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_killed_under_load() {
    Fault {
        engine: "mysql",
        kind: ServerKind::MariaDb,
        options: StartOptions::default(),
        provider_config: |server| format!("{}?table=faults&{SQL_LIMITS}", server.url),
        durable: true,
    }
    .run()
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killed_under_load() {
    Fault {
        engine: "postgres",
        kind: ServerKind::Postgres,
        // The throwaway servers acknowledge commits before writing them unless told not
        // to; a kill then loses the last ones (seen here before this option existed).
        options: StartOptions {
            durable_commits: true,
            ..StartOptions::default()
        },
        provider_config: |server| format!("{}?table=faults&{SQL_LIMITS}", server.url),
        durable: true,
    }
    .run()
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_append_only_killed_under_load() {
    Fault {
        engine: "redis",
        kind: ServerKind::Redis,
        options: StartOptions {
            append_only: true,
            ..StartOptions::default()
        },
        provider_config: |server| format!("{}?connect_timeout=1s&response_timeout=1s", server.url),
        durable: true,
    }
    .run()
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memcache_killed_under_load() {
    Fault {
        engine: "memcache",
        kind: ServerKind::Memcached,
        options: StartOptions::default(),
        provider_config: |server| format!("{}?timeout=1s", server.url),
        durable: false,
    }
    .run()
    .await;
}
