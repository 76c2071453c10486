//! Counting live sessions: `SCAN … MATCH <prefix>{*} COUNT 1000` on the server, or on every
//! master of a cluster. It costs one round trip per 1000 keys of the database (of each
//! master), whatever their names, and memory for one 8-byte hash per session found (`SCAN`
//! may return a key twice; each is counted once). Expired keys are never returned.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use deadpool_redis::redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use deadpool_redis::redis::{cmd, Value};
use session_core::Result;

use crate::backend::Backend;
use crate::config::Topology;
use crate::conn::{Failure, Op};

/// Keys examined per `SCAN` call.
const SCAN_COUNT: u64 = 1000;

const ACTION: &str = "count sessions";

/// The number of live sessions under the backend's prefix.
pub(crate) async fn count_live(backend: &Backend) -> Result<usize> {
    let pattern = backend.keys.pattern();
    let nodes = match backend.redis.topology() {
        Topology::Cluster => masters(backend)
            .await?
            .into_iter()
            .map(|(host, port)| {
                Some(RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
                    host,
                    port,
                }))
            })
            .collect(),
        Topology::Standalone | Topology::Sentinel => vec![None],
    };
    let mut seen = HashSet::new();
    for node in &nodes {
        let mut cursor = 0u64;
        loop {
            let mut scan = cmd("SCAN");
            scan.arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_COUNT);
            let op = match node {
                Some(routing) => Op::Routed(&scan, routing),
                None => Op::Command(&scan),
            };
            let reply = backend.redis.run(ACTION, op).await?;
            let (next, keys) = scan_reply(reply).map_err(|f| backend.redis.error(ACTION, f))?;
            for key in keys {
                let mut hasher = DefaultHasher::new();
                key.hash(&mut hasher);
                seen.insert(hasher.finish());
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
    }
    Ok(seen.len())
}

/// `[cursor, [key, …]]`.
fn scan_reply(reply: Value) -> std::result::Result<(u64, Vec<Vec<u8>>), Failure> {
    let bad = || Failure::Reply("SCAN did not answer [cursor, keys]".into());
    let Value::Array(items) = reply else {
        return Err(bad());
    };
    let [cursor, Value::Array(keys)] = <[Value; 2]>::try_from(items).map_err(|_| bad())? else {
        return Err(bad());
    };
    let cursor = match cursor {
        Value::BulkString(text) => std::str::from_utf8(&text).ok().and_then(|t| t.parse().ok()),
        Value::Int(n) => u64::try_from(n).ok(),
        _ => None,
    }
    .ok_or_else(bad)?;
    let keys = keys
        .into_iter()
        .map(|key| match key {
            Value::BulkString(key) => Ok(key),
            _ => Err(bad()),
        })
        .collect::<std::result::Result<_, _>>()?;
    Ok((cursor, keys))
}

/// The masters serving the cluster's slots (`CLUSTER SLOTS`), as `(host, port)`.
async fn masters(backend: &Backend) -> Result<Vec<(String, u16)>> {
    let slots = cmd("CLUSTER").arg("SLOTS").to_owned();
    let random = RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random);
    let reply = backend
        .redis
        .run(ACTION, Op::Routed(&slots, &random))
        .await?;
    let bad = || {
        backend.redis.error(
            ACTION,
            Failure::Reply("CLUSTER SLOTS did not list masters".into()),
        )
    };
    let Value::Array(ranges) = reply else {
        return Err(bad());
    };
    let mut masters = Vec::new();
    for range in ranges {
        let Value::Array(range) = range else {
            return Err(bad());
        };
        let Some(Value::Array(master)) = range.into_iter().nth(2) else {
            return Err(bad());
        };
        let mut master = master.into_iter();
        let host = match master.next() {
            Some(Value::BulkString(host)) => String::from_utf8(host).map_err(|_| bad())?,
            _ => return Err(bad()),
        };
        let port = match master.next() {
            Some(Value::Int(port)) => u16::try_from(port).map_err(|_| bad())?,
            _ => return Err(bad()),
        };
        if !masters.contains(&(host.clone(), port)) {
            masters.push((host, port));
        }
    }
    if masters.is_empty() {
        return Err(bad());
    }
    Ok(masters)
}
