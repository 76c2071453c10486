//! Starting the servers that engines need, in parallel, and turning them into environment
//! variables for the tests.

use std::thread;
use std::time::Instant;

use crate::engines::{Engine, Provision, Topology};
use session_testkit::servers::{self, redis, RedisCluster, RedisSentinel};
use session_testkit::servers::{RunningServer, ServerError, StartOptions};

/// Servers one engine needs started.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    /// The engine.
    pub engine: &'static Engine,
    /// What to start.
    pub topology: Topology,
    /// The variable that will point at it.
    pub env_var: &'static str,
}

impl Request {
    /// The request for `engine` if its provision is to start servers.
    pub fn from_provision(engine: &'static Engine, provision: &Provision) -> Option<Self> {
        match *provision {
            Provision::Start { topology, env_var } => Some(Request {
                engine,
                topology,
                env_var,
            }),
            _ => None,
        }
    }
}

/// The running servers of one topology; dropping it stops them.
#[derive(Debug)]
pub enum Deployment {
    /// Independent servers.
    Servers(Vec<RunningServer>),
    /// A Redis Cluster.
    RedisCluster(RedisCluster),
    /// A Redis master, replica and sentinel.
    RedisSentinel(Box<RedisSentinel>),
}

impl Deployment {
    /// Starts `topology` and waits until it is ready; `options` apply to independent
    /// servers (each kind takes the options it knows).
    pub fn start(topology: Topology, options: StartOptions) -> Result<Self, ServerError> {
        Ok(match topology {
            Topology::Servers { kind, instances } => {
                Deployment::Servers(servers::start_many_with(kind, instances, options)?)
            }
            Topology::RedisCluster => Deployment::RedisCluster(RedisCluster::start()?),
            Topology::RedisSentinel => Deployment::RedisSentinel(Box::new(RedisSentinel::start()?)),
        })
    }

    /// The variables pointing at the deployment: `env_var` with its addresses, `;`-separated
    /// (the nodes of a cluster, the sentinels), and the sentinel's master name.
    pub fn env(&self, env_var: &str) -> Vec<(String, String)> {
        match self {
            Deployment::Servers(list) => vec![(env_var.to_owned(), servers::join_urls(list))],
            Deployment::RedisCluster(cluster) => vec![(env_var.to_owned(), cluster.urls())],
            Deployment::RedisSentinel(sentinel) => vec![
                (env_var.to_owned(), sentinel.sentinel_urls()),
                (
                    redis::SENTINEL_MASTER_VAR.to_owned(),
                    sentinel.master_name().to_owned(),
                ),
            ],
        }
    }

    /// What runs, for `cargo xtask servers`: kinds and addresses of the processes.
    pub fn describe(&self) -> String {
        let urls = |servers: &[RunningServer]| -> String {
            let urls: Vec<&str> = servers.iter().map(|server| server.url.as_str()).collect();
            urls.join(", ")
        };
        match self {
            Deployment::Servers(servers) => {
                let each: Vec<String> = servers
                    .iter()
                    .map(|server| format!("{} {}", server.kind(), server.url))
                    .collect();
                each.join(", ")
            }
            Deployment::RedisCluster(cluster) => {
                format!("redis cluster, masters {}", urls(cluster.nodes()))
            }
            Deployment::RedisSentinel(sentinel) => format!(
                "redis sentinel {} watching {:?}; data nodes {}",
                sentinel.sentinel().url,
                sentinel.master_name(),
                urls(sentinel.nodes())
            ),
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
    pub deployment: Deployment,
}

impl Started {
    /// The variables pointing the engine's tests at the servers.
    pub fn env(&self) -> Vec<(String, String)> {
        self.deployment.env(self.env_var)
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
        self.started.iter().flat_map(Started::env).collect()
    }
}

/// Starts the servers of every request in parallel, reporting progress on stderr.
pub fn start(requests: &[Request]) -> Launch {
    start_with(requests, StartOptions::default())
}

/// [`start`] with [`StartOptions`] for every independent server.
pub fn start_with(requests: &[Request], options: StartOptions) -> Launch {
    let results: Vec<_> = thread::scope(|scope| {
        let handles: Vec<_> = requests
            .iter()
            .map(|request| {
                let handle = scope.spawn(move || {
                    let begin = Instant::now();
                    let result = Deployment::start(request.topology, options);
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
                            format!("starting {}", request.topology),
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
            Ok(deployment) => {
                let started = Started {
                    engine: request.engine,
                    env_var: request.env_var,
                    deployment,
                };
                let vars: Vec<String> = started
                    .env()
                    .iter()
                    .map(|(var, value)| format!("{var}={value}"))
                    .collect();
                eprintln!(
                    "xtask: started {} for engine {} in {:.1} s: {}",
                    request.topology,
                    request.engine.name,
                    elapsed.as_secs_f64(),
                    vars.join(" ")
                );
                launch.started.push(started);
            }
            Err(err) => {
                eprintln!(
                    "xtask: error: {} for engine {} failed to start: {err}",
                    request.topology, request.engine.name
                );
                launch.failed.push((request.engine, err));
            }
        }
    }
    launch
}
