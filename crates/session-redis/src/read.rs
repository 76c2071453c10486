//! The read path. Every lookup of a session's data goes through [`load`]: one `HGETALL`
//! of the session's hash, which [`row`] turns into what `RowProvider` needs (the remaining
//! lifetime comes from the `#x` field, so no `PTTL` is needed). A client-side cache would
//! sit in [`load`], in front of the `HGETALL` (a plain read command, which Redis's
//! client-side caching can track). Moves return their record through [`record`].

use std::time::{Duration, SystemTime};

use deadpool_redis::redis::{cmd, Value};
use session_core::row::{LoadedRow, Ttl};
use session_core::{Error, Result};

use crate::backend::Backend;
use crate::conn::{Failure, Op, RedisFailure};
use crate::layout::{self, Fields, Unreadable};

/// Now, in Unix milliseconds, as the scripts compare it with a hard end.
pub(crate) fn now_millis() -> u64 {
    layout::to_unix_millis(SystemTime::now())
}

/// The live session `sid`, in one round trip (`HGETALL`).
pub(crate) async fn load(backend: &Backend, sid: &str) -> Result<Option<LoadedRow<u64>>> {
    const ACTION: &str = "read session";
    let mut hgetall = cmd("HGETALL");
    hgetall.arg(backend.keys.session(sid));
    let fields = match backend.redis.run(ACTION, Op::Command(&hgetall)).await {
        Ok(reply) => match pairs(reply) {
            Some(fields) if fields.is_empty() => return Ok(None),
            Some(fields) => Ok(fields),
            None => {
                return Err(backend.redis.error(
                    ACTION,
                    Failure::Reply("HGETALL did not answer field/value pairs".into()),
                ))
            }
        },
        Err(error) if is_wrong_type(&error) => Err(Unreadable::NotAHash),
        Err(error) => return Err(error),
    };
    let decoded = layout::decode(fields, backend.redis.engine(), sid)?;
    // Unknown (a record read as empty): due for a refresh, which gives it one.
    let left = decoded.expires.map_or(Duration::ZERO, |end| {
        end.duration_since(SystemTime::now()).unwrap_or_default()
    });
    Ok(Some(LoadedRow {
        data: decoded.data,
        version: decoded.writes,
        ttl: Ttl::Left(left),
    }))
}

/// True for the error of a read of a key that holds something else than a hash.
fn is_wrong_type(error: &Error) -> bool {
    match error {
        Error::Backend { source, .. } => source
            .downcast_ref::<RedisFailure>()
            .is_some_and(RedisFailure::is_wrong_type),
        _ => false,
    }
}

/// A record as a move script returned it: `{status, pttl, fields}` (see the scripts).
pub(crate) struct Record {
    /// Milliseconds left; -1 for no expiry.
    pttl: i64,
    /// The hash's fields, or why there are none.
    pub(crate) fields: std::result::Result<Fields, Unreadable>,
}

impl Record {
    /// Milliseconds left as stored (-1: no expiry).
    pub(crate) fn pttl(&self) -> i64 {
        self.pttl
    }
}

/// The row for a record moved to `sid`: its lifetime is what the record had left.
pub(crate) fn row(backend: &Backend, sid: &str, record: Record) -> Result<LoadedRow<u64>> {
    let left = u64::try_from(record.pttl).map_or(Duration::ZERO, Duration::from_millis);
    let decoded = layout::decode(record.fields, backend.redis.engine(), sid)?;
    Ok(LoadedRow {
        data: decoded.data,
        version: decoded.writes,
        ttl: Ttl::Left(left),
    })
}

/// Parses `{status, pttl, fields}` (or nil: no record).
pub(crate) fn record(reply: Value) -> std::result::Result<Option<Record>, Failure> {
    let bad = |what: &str| Failure::Reply(format!("a session record: {what}"));
    let items = match reply {
        Value::Nil => return Ok(None),
        Value::Array(items) => items,
        _ => return Err(bad("not an array")),
    };
    let [Value::Int(status), Value::Int(pttl), fields] =
        <[Value; 3]>::try_from(items).map_err(|_| bad("not three items"))?
    else {
        return Err(bad("status and lifetime are not integers"));
    };
    let fields = if status == -1 {
        Err(Unreadable::NotAHash)
    } else {
        Ok(pairs(fields).ok_or_else(|| bad("fields are not pairs of strings"))?)
    };
    Ok(Some(Record { pttl, fields }))
}

/// A hash as `[field, value, …]` (RESP2) or a map (RESP3), as pairs.
fn pairs(value: Value) -> Option<Fields> {
    let bulk = |field, value| match (field, value) {
        (Value::BulkString(field), Value::BulkString(value)) => Some((field, value)),
        _ => None,
    };
    match value {
        Value::Map(entries) => entries.into_iter().map(|(f, v)| bulk(f, v)).collect(),
        Value::Array(items) => {
            if items.len() % 2 != 0 {
                return None;
            }
            let mut out = Vec::with_capacity(items.len() / 2);
            let mut items = items.into_iter();
            while let (Some(field), Some(value)) = (items.next(), items.next()) {
                out.push(bulk(field, value)?);
            }
            Some(out)
        }
        _ => None,
    }
}
