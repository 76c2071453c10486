//! A master, one replica, and one sentinel watching them, with timeouts short enough for tests.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use super::super::{host, join_urls, process, retry_on_port_conflict, READY_TIMEOUT};
use super::super::{RunningServer, ServerError};
use super::node::{self, Role};
use super::resp::{info_field, Connection, Reply, RespError};
use super::DEFAULT_MASTER_NAME;

/// `down-after-milliseconds`: how long the master may be unreachable before the sentinel
/// counts it as down (and, with a quorum of 1, fails over). Tests fail over with
/// [`RedisSentinel::failover`], which does not wait for it; a short value only let a busy
/// machine (a node silent for a second) start a second, unwanted failover.
const DOWN_AFTER_MS: u32 = 5000;

/// `failover-timeout`: how long one failover may take before the sentinel gives it up.
const FAILOVER_TIMEOUT_MS: u32 = 5000;

/// How long [`RedisSentinel::failover`] waits for the sentinel to name the new master, and
/// [`RedisSentinel::wait_replica_synced`] for a replica it could promote. A former master
/// that is still running is turned into a replica by the sentinel only after about 10 to
/// 20 s (it waits for a few periods of its `INFO` polling first).
const SETTLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Master + replica + sentinel on loopback, each with its own config file and site. The
/// sentinel monitors the master under [`DEFAULT_MASTER_NAME`] with a quorum of 1. Since the
/// sentinel rewrites the data nodes' config files when it changes their roles, a data node
/// restarted after a failover comes back in its new role. Dropping it stops every process
/// and removes their directories.
pub struct RedisSentinel {
    master_name: String,
    nodes: Vec<RunningServer>,
    node_addrs: Vec<String>,
    sentinel: RunningServer,
    sentinel_addr: String,
}

impl RedisSentinel {
    /// Starts the master, then the replica (`replicaof` the master), waits until the replica
    /// is in sync, then starts the sentinel and waits until it knows the replica.
    pub fn start() -> Result<Self, ServerError> {
        let (master, master_port) = retry_on_port_conflict(|| {
            let port = host::free_port()?;
            Ok((
                node::start(port, Role::Data, &node::data_directives())?,
                port,
            ))
        })?;
        let (replica, replica_port) = retry_on_port_conflict(|| {
            let port = host::free_port()?;
            let mut directives = node::data_directives();
            directives.push(format!("replicaof 127.0.0.1 {master_port}"));
            Ok((node::start(port, Role::Data, &directives)?, port))
        })?;
        let replica_addr = format!("127.0.0.1:{replica_port}");
        // The sentinel learns of replicas from the master's INFO, which it asks for on
        // connecting and then only every 10 s: the replica must be attached by then.
        process::wait_until("the replica in sync with the master", READY_TIMEOUT, || {
            replication_link(&replica_addr)
        })?;
        let (sentinel, sentinel_port) = retry_on_port_conflict(|| {
            let port = host::free_port()?;
            let name = DEFAULT_MASTER_NAME;
            let directives = [
                format!("sentinel monitor {name} 127.0.0.1 {master_port} 1"),
                format!("sentinel down-after-milliseconds {name} {DOWN_AFTER_MS}"),
                format!("sentinel failover-timeout {name} {FAILOVER_TIMEOUT_MS}"),
                format!("sentinel parallel-syncs {name} 1"),
            ];
            Ok((node::start(port, Role::Sentinel, &directives)?, port))
        })?;
        let topology = RedisSentinel {
            master_name: DEFAULT_MASTER_NAME.to_owned(),
            nodes: vec![master, replica],
            node_addrs: vec![format!("127.0.0.1:{master_port}"), replica_addr],
            sentinel,
            sentinel_addr: format!("127.0.0.1:{sentinel_port}"),
        };
        topology.wait_replica_synced()?;
        Ok(topology)
    }

    /// The sentinels' URLs, `;`-separated (one here): `redis://127.0.0.1:PORT/`.
    pub fn sentinel_urls(&self) -> String {
        join_urls(std::slice::from_ref(&self.sentinel))
    }

    /// The name the sentinel knows the master by.
    pub fn master_name(&self) -> &str {
        &self.master_name
    }

    /// The master's `127.0.0.1:PORT`, as the sentinel reports it
    /// (`SENTINEL GET-MASTER-ADDR-BY-NAME`).
    pub fn master_addr(&self) -> Result<String, ServerError> {
        let mut sentinel = Connection::open(&self.sentinel_addr)?;
        let reply = sentinel.call(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", &self.master_name])?;
        match reply.elements() {
            Some([host, port]) => match (host.text(), port.text()) {
                (Some(host), Some(port)) => Ok(format!("{host}:{port}")),
                _ => Err(sentinel
                    .protocol(format!("master address {reply:?}"))
                    .into()),
            },
            _ => Err(sentinel
                .protocol(format!("master address {reply:?}"))
                .into()),
        }
    }

    /// Which of [`nodes`](Self::nodes) is the master now, as the sentinel reports it.
    pub fn master_index(&self) -> Result<usize, ServerError> {
        let master = self.master_addr()?;
        self.node_index(&master).ok_or_else(|| {
            RespError::Protocol {
                addr: self.sentinel_addr.clone(),
                detail: format!("the master it names, {master}, is none of its data nodes"),
            }
            .into()
        })
    }

    /// Runs `SENTINEL FAILOVER` and waits until the sentinel names another master and that
    /// server says it is a master. Returns the new master's `127.0.0.1:PORT`. The former
    /// master, if running, keeps acting as a master until the sentinel demotes it, 10 to 20 s
    /// later: call [`wait_replica_synced`](Self::wait_replica_synced) before failing over
    /// again.
    pub fn failover(&self) -> Result<String, ServerError> {
        let old = self.master_addr()?;
        Connection::open(&self.sentinel_addr)?.call(&[
            "SENTINEL",
            "FAILOVER",
            &self.master_name,
        ])?;
        process::wait_until("the sentinel naming a new master", SETTLE_TIMEOUT, || {
            let new = self.master_addr().map_err(|err| err.to_string())?;
            if new == old {
                return Err(format!("the sentinel still names {old}"));
            }
            match role(&new)?.as_str() {
                "master" => Ok(new),
                other => Err(format!("the sentinel names {new}, whose role is {other}")),
            }
        })
    }

    /// Waits until the sentinel knows a replica of the current master that is up and in sync
    /// with it, i.e. one it can promote: its link is up and it has received everything the
    /// master had written when the wait began. A link reported `up` is not enough: after its
    /// first full sync a replica can stay `up` at offset 0 for up to a second before the
    /// master starts streaming writes to it, and a failover then would lose them.
    pub fn wait_replica_synced(&self) -> Result<(), ServerError> {
        let mut written = None;
        process::wait_until(
            "the sentinel knowing a replica in sync with the master",
            SETTLE_TIMEOUT,
            || {
                let master = self.master_addr().map_err(|err| err.to_string())?;
                // The target is fixed on the first look at each master, so writes that go
                // on during the wait cannot keep it moving.
                let target = match &written {
                    Some((addr, offset)) if *addr == master => *offset,
                    _ => {
                        let offset = repl_offset(&master, "master_repl_offset")?;
                        written = Some((master.clone(), offset));
                        offset
                    }
                };
                self.promotable_replica(&master, target)
            },
        )
    }

    /// The data nodes: index 0 started as the master, index 1 as its replica (roles swap on
    /// a failover; see [`master_index`](Self::master_index)).
    pub fn nodes(&self) -> &[RunningServer] {
        &self.nodes
    }

    /// The data nodes' `127.0.0.1:PORT` addresses, in the order of [`nodes`](Self::nodes).
    pub fn node_addrs(&self) -> &[String] {
        &self.node_addrs
    }

    /// The index in [`nodes`](Self::nodes) of the data node at `addr` (`127.0.0.1:PORT`).
    pub fn node_index(&self, addr: &str) -> Option<usize> {
        self.node_addrs.iter().position(|node| node == addr)
    }

    /// Data node `index`, to stop or restart it.
    ///
    /// # Panics
    /// If `index` is not below 2.
    pub fn node_mut(&mut self, index: usize) -> &mut RunningServer {
        &mut self.nodes[index]
    }

    /// The sentinel process.
    pub fn sentinel(&self) -> &RunningServer {
        &self.sentinel
    }

    /// The sentinel process, to stop or restart it (it keeps what it learnt in its config).
    pub fn sentinel_mut(&mut self) -> &mut RunningServer {
        &mut self.sentinel
    }

    /// `Ok` when the sentinel lists a replica of `master` that is up, linked to it, and has
    /// received the master's replication stream up to offset `written`; otherwise what was
    /// seen.
    fn promotable_replica(&self, master: &str, written: i64) -> Result<(), String> {
        let replicas = Connection::open(&self.sentinel_addr)
            .and_then(|mut sentinel| sentinel.call(&["SENTINEL", "REPLICAS", &self.master_name]))
            .map_err(|err| err.to_string())?;
        let listed: Vec<HashMap<String, String>> = replicas
            .elements()
            .unwrap_or_default()
            .iter()
            .map(fields)
            .collect();
        let ready = listed.iter().find(|replica| {
            let field = |name: &str| replica.get(name).map(String::as_str);
            field("flags") == Some("slave") && field("master-link-status") == Some("ok")
        });
        let Some(replica) = ready else {
            return Err(format!("master {master}; sentinel's replicas: {listed:?}"));
        };
        let addr = format!(
            "{}:{}",
            replica.get("ip").map_or("?", String::as_str),
            replica.get("port").map_or("?", String::as_str)
        );
        replication_link(&addr)?;
        let received = repl_offset(&addr, "slave_repl_offset")?;
        if received >= written {
            Ok(())
        } else {
            Err(format!(
                "{addr} has received up to offset {received} of master {master}'s {written}"
            ))
        }
    }
}

impl fmt::Debug for RedisSentinel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSentinel")
            .field("master_name", &self.master_name)
            .field("nodes", &self.nodes)
            .field("sentinel", &self.sentinel)
            .finish()
    }
}

/// A flat `[name, value, name, value…]` array (how sentinels describe instances) as a map.
fn fields(reply: &Reply) -> HashMap<String, String> {
    reply
        .elements()
        .unwrap_or_default()
        .chunks(2)
        .filter_map(|pair| match pair {
            [name, value] => Some((name.text()?, value.text()?)),
            _ => None,
        })
        .collect()
}

/// The first word of `ROLE` from the server at `addr`: `master`, `slave` or `sentinel`.
fn role(addr: &str) -> Result<String, String> {
    let reply = Connection::open(addr)
        .and_then(|mut connection| connection.call(&["ROLE"]))
        .map_err(|err| err.to_string())?;
    reply
        .elements()
        .and_then(|items| items.first())
        .and_then(Reply::text)
        .ok_or_else(|| format!("{addr} answered ROLE with {reply:?}"))
}

/// The replication offset `field` (`master_repl_offset`, or a replica's
/// `slave_repl_offset`) from `INFO replication` of the server at `addr`.
fn repl_offset(addr: &str, field: &str) -> Result<i64, String> {
    let info = Connection::open(addr)
        .and_then(|mut connection| connection.call_text(&["INFO", "replication"]))
        .map_err(|err| err.to_string())?;
    info_field(&info, field)
        .and_then(|value| value.parse().ok())
        .ok_or_else(|| format!("{addr}: no numeric {field} in INFO replication"))
}

/// `Ok` when the replica at `addr` has its link to the master up and no sync in progress.
fn replication_link(addr: &str) -> Result<(), String> {
    let info = Connection::open(addr)
        .and_then(|mut connection| connection.call_text(&["INFO", "replication"]))
        .map_err(|err| err.to_string())?;
    let link = info_field(&info, "master_link_status");
    let syncing = info_field(&info, "master_sync_in_progress");
    if link == Some("up") && syncing == Some("0") {
        Ok(())
    } else {
        Err(format!(
            "{addr}: master_link_status:{} master_sync_in_progress:{}",
            link.unwrap_or("?"),
            syncing.unwrap_or("?")
        ))
    }
}
