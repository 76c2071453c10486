//! A cluster's slots: which master serves which range (`CLUSTER SLOTS`), and the slot of a
//! key, for the parts of the engine that talk to masters one by one (counting, the
//! client-side cache's tracking connections).

use deadpool_redis::redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use deadpool_redis::redis::{cmd, Value};
use session_core::Result;

use crate::backend::Backend;
use crate::conn::{Failure, Op};

/// How many slots a cluster has.
pub(crate) const SLOTS: usize = 16384;

/// Slots `start..=end`, served by the master at `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SlotRange {
    pub start: u16,
    pub end: u16,
    pub host: String,
    pub port: u16,
}

/// The cluster's slot ranges and their masters, asked of any node (`CLUSTER SLOTS`); errors
/// say they happened doing `action`.
pub(crate) async fn ranges(backend: &Backend, action: &'static str) -> Result<Vec<SlotRange>> {
    let slots = cmd("CLUSTER").arg("SLOTS").to_owned();
    let random = RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random);
    let reply = backend
        .redis
        .run(action, Op::Routed(&slots, &random))
        .await?;
    parse(reply).ok_or_else(|| {
        backend.redis.error(
            action,
            Failure::Reply("CLUSTER SLOTS did not list masters".into()),
        )
    })
}

/// `[[start, end, [host, port, …], replicas…], …]`; `None` when it is not that, or empty.
fn parse(reply: Value) -> Option<Vec<SlotRange>> {
    let Value::Array(ranges) = reply else {
        return None;
    };
    let number = |value: &Value| match value {
        Value::Int(n) => u16::try_from(*n).ok(),
        _ => None,
    };
    let mut out = Vec::with_capacity(ranges.len());
    for range in ranges {
        let Value::Array(range) = range else {
            return None;
        };
        let (start, end) = (number(range.first()?)?, number(range.get(1)?)?);
        let Some(Value::Array(master)) = range.get(2) else {
            return None;
        };
        let host = match master.first()? {
            Value::BulkString(host) => String::from_utf8(host.clone()).ok()?,
            _ => return None,
        };
        let port = number(master.get(1)?)?;
        out.push(SlotRange {
            start,
            end,
            host,
            port,
        });
    }
    (!out.is_empty()).then_some(out)
}

/// The slot of `key`: CRC16 (XMODEM) of its hash tag (the part between the first `{` and
/// the next `}`, when not empty) or of the whole key, modulo 16384.
pub(crate) fn of(key: &[u8]) -> u16 {
    let tag = key
        .iter()
        .position(|b| *b == b'{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            rest.iter()
                .position(|b| *b == b'}')
                .map(|close| &rest[..close])
        })
        .filter(|tag| !tag.is_empty())
        .unwrap_or(key);
    crc16::State::<crc16::XMODEM>::calculate(tag) % SLOTS as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_the_cluster_spec() {
        // The values the cluster specification and `CLUSTER KEYSLOT` give.
        assert_eq!(of(b"123456789"), 0x31C3);
        assert_eq!(of(b"foo"), 12182);
        assert_eq!(of(b"{user1000}.following"), of(b"user1000"));
        assert_eq!(of(b"foo{}{bar}"), of(b"foo{}{bar}"));
        assert_ne!(of(b"foo{}{bar}"), of(b"bar"));
        assert_eq!(of(b"session:{abc}"), of(b"abc"));
    }

    #[test]
    fn cluster_slots_replies_parse() {
        let node = |host: &str, port| {
            Value::Array(vec![
                Value::BulkString(host.as_bytes().to_vec()),
                Value::Int(port),
            ])
        };
        let reply = Value::Array(vec![Value::Array(vec![
            Value::Int(0),
            Value::Int(5460),
            node("127.0.0.1", 7000),
            node("127.0.0.1", 7003),
        ])]);
        assert_eq!(
            parse(reply),
            Some(vec![SlotRange {
                start: 0,
                end: 5460,
                host: "127.0.0.1".into(),
                port: 7000
            }])
        );
        assert_eq!(parse(Value::Array(vec![])), None);
        assert_eq!(parse(Value::Int(1)), None);
    }
}
