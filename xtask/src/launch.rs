//! Starting the servers that engines need, in parallel, and turning them into environment
//! variables for the tests.

use std::thread;
use std::time::Instant;

use crate::engines::{Engine, Provision};
use session_testkit::servers::{self, RunningServer, ServerError, ServerKind};

/// Servers one engine needs started.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    /// The engine.
    pub engine: &'static Engine,
    /// The kind of server.
    pub kind: ServerKind,
    /// How many instances.
    pub instances: usize,
    /// The variable that will point at them.
    pub env_var: &'static str,
}

impl Request {
    /// The request for `engine` if its provision is to start servers.
    pub fn from_provision(engine: &'static Engine, provision: &Provision) -> Option<Self> {
        match *provision {
            Provision::Start {
                kind,
                instances,
                env_var,
            } => Some(Request {
                engine,
                kind,
                instances,
                env_var,
            }),
            _ => None,
        }
    }
}

/// The servers started for one engine; dropping it stops them.
#[derive(Debug)]
pub struct Started {
    /// The engine.
    pub engine: &'static Engine,
    /// The variable pointing at the servers.
    pub env_var: &'static str,
    /// The servers.
    pub servers: Vec<RunningServer>,
}

impl Started {
    /// The value of [`Started::env_var`]: the servers' addresses, `;`-separated.
    pub fn env_value(&self) -> String {
        servers::join_urls(&self.servers)
    }
}

/// Outcome of starting the servers for several engines.
#[derive(Debug, Default)]
pub struct Launch {
    /// Engines whose servers run.
    pub started: Vec<Started>,
    /// Engines whose servers failed to start, with the reason.
    pub failed: Vec<(&'static Engine, ServerError)>,
}

impl Launch {
    /// Environment variables pointing the tests at the started servers.
    pub fn envs(&self) -> Vec<(String, String)> {
        self.started
            .iter()
            .map(|started| (started.env_var.to_owned(), started.env_value()))
            .collect()
    }
}

/// Starts the servers of every request in parallel, reporting progress on stderr.
pub fn start(requests: &[Request]) -> Launch {
    let results: Vec<_> = thread::scope(|scope| {
        let handles: Vec<_> = requests
            .iter()
            .map(|request| {
                let handle = scope.spawn(move || {
                    let begin = Instant::now();
                    let result = servers::start_many(request.kind, request.instances);
                    (result, begin.elapsed())
                });
                (request, handle)
            })
            .collect();
        handles
            .into_iter()
            .map(|(request, handle)| {
                let (result, elapsed) = handle.join().unwrap_or_else(|_| {
                    (
                        Err(ServerError::io(
                            format!("starting {}", request.kind),
                            std::io::Error::other("the starting thread panicked"),
                        )),
                        Default::default(),
                    )
                });
                (request, result, elapsed)
            })
            .collect()
    });
    let mut launch = Launch::default();
    for (request, result, elapsed) in results {
        match result {
            Ok(servers) => {
                let started = Started {
                    engine: request.engine,
                    env_var: request.env_var,
                    servers,
                };
                eprintln!(
                    "xtask: started {} for engine {} in {:.1} s: {}={}",
                    request.kind,
                    request.engine.name,
                    elapsed.as_secs_f64(),
                    started.env_var,
                    started.env_value()
                );
                launch.started.push(started);
            }
            Err(err) => {
                eprintln!(
                    "xtask: error: {} for engine {} failed to start: {err}",
                    request.kind, request.engine.name
                );
                launch.failed.push((request.engine, err));
            }
        }
    }
    launch
}
