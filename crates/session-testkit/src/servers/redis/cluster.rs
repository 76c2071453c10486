//! A Redis Cluster of three masters and no replicas, joined with `redis-cli --cluster create`.

use std::fmt;
use std::time::Duration;

use super::super::{host, join_urls, process, retry_on_port_conflict, READY_TIMEOUT};
use super::super::{RunningServer, ServerError};
use super::node::{self, Role};
use super::resp::{info_field, Connection, Reply, RespError};
use super::stats::{self, CommandStats};

/// How many masters the cluster has.
const MASTERS: usize = 3;

/// Hash slots a healthy cluster covers.
const SLOTS: u64 = 16384;

/// `cluster-node-timeout`: how long a node may be unreachable before the others count it as
/// failing. Short, so a stopped node is noticed (and a restarted one rejoins) within seconds,
/// yet long enough that a busy test machine does not make a node look dead.
const NODE_TIMEOUT_MS: u32 = 3000;

/// How long `redis-cli --cluster create` may take.
const CREATE_TIMEOUT: Duration = Duration::from_secs(60);

/// How many redirections [`RedisCluster::call`] follows before giving up.
const MAX_REDIRECTS: usize = 5;

/// A 3-master Redis Cluster on loopback. Each node has its own site, where it keeps its
/// `nodes.conf`, so a node stopped and restarted rejoins with the same id and slots (its data
/// is not persisted: it comes back empty). Dropping the cluster stops every node and removes
/// their directories.
pub struct RedisCluster {
    nodes: Vec<RunningServer>,
    addrs: Vec<String>,
}

impl RedisCluster {
    /// Starts three `redis-server --cluster-enabled yes` (each with an explicit
    /// `--cluster-port`, another free port), joins them, and waits until every node reports
    /// `cluster_state:ok` with all 16384 slots assigned.
    pub fn start() -> Result<Self, ServerError> {
        let cli = node::cli_binary()?;
        let mut nodes = Vec::with_capacity(MASTERS);
        let mut addrs = Vec::with_capacity(MASTERS);
        for _ in 0..MASTERS {
            let (server, port) = retry_on_port_conflict(start_node)?;
            nodes.push(server);
            addrs.push(format!("127.0.0.1:{port}"));
        }
        let first = &nodes[0].site;
        let mut create = first.command(&cli);
        create.args(["--cluster", "create"]).args(&addrs).args([
            "--cluster-replicas",
            "0",
            "--cluster-yes",
        ]);
        process::run_tool_within(
            "redis-cli --cluster create",
            &mut create,
            &first.path().join("cluster-create.log"),
            CREATE_TIMEOUT,
        )?;
        let cluster = RedisCluster { nodes, addrs };
        cluster.wait_ok()?;
        Ok(cluster)
    }

    /// The nodes' URLs, `;`-separated: `redis://127.0.0.1:P1/;redis://127.0.0.1:P2/;…`.
    pub fn urls(&self) -> String {
        join_urls(&self.nodes)
    }

    /// The nodes, in the order of [`urls`](Self::urls).
    pub fn nodes(&self) -> &[RunningServer] {
        &self.nodes
    }

    /// The nodes' `127.0.0.1:PORT` addresses, in the order of [`nodes`](Self::nodes).
    pub fn addrs(&self) -> &[String] {
        &self.addrs
    }

    /// Stops node `index` (keeping its site). After the cluster node timeout (3 s) the other nodes
    /// count it as failed and, since its slots have no replica, refuse commands.
    ///
    /// # Panics
    /// If `index` is not below 3.
    pub fn stop_node(&mut self, index: usize) {
        self.nodes[index].stop();
    }

    /// Restarts node `index` on its site and waits until the whole cluster is `ok` again.
    ///
    /// # Panics
    /// If `index` is not below 3.
    pub fn restart_node(&mut self, index: usize) -> Result<(), ServerError> {
        self.nodes[index].restart()?;
        self.wait_ok()
    }

    /// Waits until every node reports `cluster_state:ok`, knows all three nodes and sees all
    /// 16384 slots served. Every node must be running.
    pub fn wait_ok(&self) -> Result<(), ServerError> {
        process::wait_until(
            "every cluster node reporting cluster_state:ok",
            READY_TIMEOUT,
            || self.addrs.iter().try_for_each(|addr| node_is_ok(addr)),
        )
    }

    /// The index of the node serving `key`'s hash slot (asked from the first reachable node
    /// with `CLUSTER KEYSLOT` and `CLUSTER SLOTS`).
    pub fn node_for_key(&self, key: &[u8]) -> Result<usize, ServerError> {
        let mut connection = self.any_node()?;
        let slot = match connection.call_bytes(&[b"CLUSTER", b"KEYSLOT", key])? {
            Reply::Integer(slot) => slot,
            other => return Err(connection.protocol(format!("slot {other:?}")).into()),
        };
        let ranges = connection.call(&["CLUSTER", "SLOTS"])?;
        let owner = ranges.elements().and_then(|ranges| {
            ranges.iter().find_map(|range| match range.elements()? {
                [Reply::Integer(first), Reply::Integer(last), master, ..]
                    if (*first..=*last).contains(&slot) =>
                {
                    match master.elements()? {
                        [host, Reply::Integer(port), ..] => {
                            Some(format!("{}:{port}", host.text()?))
                        }
                        _ => None,
                    }
                }
                _ => None,
            })
        });
        owner
            .and_then(|owner| self.addrs.iter().position(|addr| *addr == owner))
            .ok_or_else(|| {
                connection
                    .protocol(format!(
                        "no node of this cluster serves slot {slot}: {ranges:?}"
                    ))
                    .into()
            })
    }

    /// Sends one command to the cluster the way a cluster client does: to a node, then
    /// following `MOVED` and `ASK` redirections to the node serving the key.
    pub fn call(&self, args: &[&[u8]]) -> Result<Reply, ServerError> {
        let mut connection = self.any_node()?;
        for _ in 0..MAX_REDIRECTS {
            let reply = connection.call_raw(args)?;
            let Reply::Error(message) = reply else {
                return Ok(reply);
            };
            let mut words = message.split(' ');
            match (words.next(), words.nth(1)) {
                (Some("MOVED"), Some(target)) => connection = Connection::open(target)?,
                (Some("ASK"), Some(target)) => {
                    connection = Connection::open(target)?;
                    connection.call(&["ASKING"])?;
                }
                _ => return Err(connection.server_error(args, message).into()),
            }
        }
        Err(connection
            .protocol(format!("more than {MAX_REDIRECTS} redirections"))
            .into())
    }

    /// `INFO commandstats` of every node, added up (see [`stats::command_stats`]).
    pub fn command_stats(&self) -> Result<CommandStats, ServerError> {
        let mut total = CommandStats::default();
        for addr in &self.addrs {
            total += &stats::command_stats(addr)?;
        }
        Ok(total)
    }

    /// `CONFIG RESETSTAT` on every node.
    pub fn reset_stats(&self) -> Result<(), ServerError> {
        for addr in &self.addrs {
            stats::reset_stats(addr)?;
        }
        Ok(())
    }

    /// A connection to the first node that accepts one.
    fn any_node(&self) -> Result<Connection, RespError> {
        let mut last = None;
        for addr in &self.addrs {
            match Connection::open(addr) {
                Ok(connection) => return Ok(connection),
                Err(err) => last = Some(err),
            }
        }
        Err(last.unwrap_or_else(|| RespError::BadAddress("a cluster without nodes".into())))
    }
}

impl fmt::Debug for RedisCluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCluster")
            .field("nodes", &self.nodes)
            .finish()
    }
}

/// Starts one cluster node on two fresh ports (clients, cluster bus); returns it and its
/// client port.
fn start_node() -> Result<(RunningServer, u16), ServerError> {
    let ports = host::free_ports(2)?;
    let (port, bus_port) = (ports[0], ports[1]);
    let mut directives = node::data_directives();
    directives.extend([
        "cluster-enabled yes".into(),
        format!("cluster-port {bus_port}"),
        "cluster-config-file nodes.conf".into(),
        format!("cluster-node-timeout {NODE_TIMEOUT_MS}"),
    ]);
    Ok((node::start(port, Role::Data, &directives)?, port))
}

/// `Ok` when the node at `addr` says the cluster is healthy; otherwise what it says.
fn node_is_ok(addr: &str) -> Result<(), String> {
    let info = Connection::open(addr)
        .and_then(|mut connection| connection.call_text(&["CLUSTER", "INFO"]))
        .map_err(|err| err.to_string())?;
    let field = |name| info_field(&info, name).unwrap_or("?");
    let healthy = field("cluster_state") == "ok"
        && field("cluster_known_nodes") == MASTERS.to_string()
        && field("cluster_slots_ok") == SLOTS.to_string();
    if healthy {
        Ok(())
    } else {
        Err(format!(
            "{addr}: cluster_state:{} cluster_known_nodes:{} cluster_slots_ok:{}",
            field("cluster_state"),
            field("cluster_known_nodes"),
            field("cluster_slots_ok")
        ))
    }
}
