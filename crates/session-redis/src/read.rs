//! The read path. Every lookup of a session's data goes through [`load`] (requests,
//! re-reads) or [`record`] (the reply of a move): one `EVALSHA` of the load script, whose
//! reply [`record`] parses and [`row`] turns into what `RowProvider` needs. A client-side
//! cache would sit in [`load`], in front of the script.

use std::time::{Duration, SystemTime};

use deadpool_redis::redis::Value;
use session_core::row::{LoadedRow, Ttl};
use session_core::Result;

use crate::backend::Backend;
use crate::conn::{Failure, Op};
use crate::layout::{self, Unreadable};
use crate::scripts::LOAD;

/// A record as a script returned it.
pub(crate) struct Record {
    /// 1: the script has just refreshed the expiry; 0: it did not; -1: not a hash.
    status: i64,
    /// Milliseconds left; -1 for no expiry.
    pttl: i64,
    /// The hash's fields, or why there are none.
    pub(crate) fields: std::result::Result<Vec<(Vec<u8>, Vec<u8>)>, Unreadable>,
}

impl Record {
    /// How long the record has left, as `RowProvider` counts it: a record without an
    /// expiry (written by something else) is due for one at once.
    pub(crate) fn ttl(&self) -> Ttl {
        let left = u64::try_from(self.pttl).map_or(Duration::ZERO, Duration::from_millis);
        if self.status == 1 {
            Ttl::Refreshed(left)
        } else {
            Ttl::Left(left)
        }
    }

    /// Milliseconds left as stored (-1: no expiry).
    pub(crate) fn pttl(&self) -> i64 {
        self.pttl
    }
}

/// Now, in Unix milliseconds, as the scripts compare it with a hard end.
pub(crate) fn now_millis() -> u64 {
    layout::to_unix_millis(SystemTime::now())
}

/// The live session `sid` (one round trip). With `slide`, the script also refreshes the
/// record's expiry when that is due, and the row says [`Ttl::Refreshed`].
pub(crate) async fn load(
    backend: &Backend,
    sid: &str,
    slide: bool,
) -> Result<Option<LoadedRow<u64>>> {
    let key = backend.keys.session(sid);
    let mut invocation = LOAD.prepare_invoke();
    invocation
        .key(&key)
        .arg(now_millis())
        .arg(if slide { "1" } else { "0" });
    let reply = backend
        .redis
        .run("read session", Op::Script(&invocation))
        .await?;
    match record(reply).map_err(|f| backend.redis.error("read session", f))? {
        Some(found) => row(backend, sid, found).map(Some),
        None => Ok(None),
    }
}

/// The row for a record read for `sid`.
pub(crate) fn row(backend: &Backend, sid: &str, record: Record) -> Result<LoadedRow<u64>> {
    let ttl = record.ttl();
    let decoded = layout::decode(record.fields, backend.redis.engine(), sid)?;
    Ok(LoadedRow {
        data: decoded.data,
        version: decoded.writes,
        ttl,
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
    Ok(Some(Record {
        status,
        pttl,
        fields,
    }))
}

/// A flat `[field, value, …]` array as pairs.
fn pairs(value: Value) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    let Value::Array(items) = value else {
        return None;
    };
    if items.len() % 2 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut items = items.into_iter();
    while let Some(field) = items.next() {
        match (field, items.next()) {
            (Value::BulkString(field), Some(Value::BulkString(value))) => out.push((field, value)),
            _ => return None,
        }
    }
    Some(out)
}
