//! The write path: merging a request's changes on the server ([`merge`]), the whole-record
//! writes of the compare-and-set contract ([`create`], [`replace`]), [`touch`], and moving a
//! session to a new id ([`rename`]).

use std::collections::HashSet;

use deadpool_redis::redis::Value;
use session_core::row::{LoadedRow, Ttl};
use session_core::{Change, ChangeSet, Error, Lifetime, Result, SessionData};

use crate::backend::Backend;
use crate::config::Topology;
use crate::conn::{Failure, Op};
use crate::layout::{self, meta_args, value_field};
use crate::read::{self, now_millis};
use crate::scripts::{CLAIM, MERGE, RENAME, RESTORE, TOUCH, UNCLAIM};

/// How long a moving key outlives a move on a cluster that was interrupted: long enough
/// for the move's second half, or its undoing, to find it.
const MOVING_KEEP_MS: u64 = 30_000;

/// What the merge script should do when the record is absent (see [`MERGE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    OnlyIfPresent,
    CreateFromChanges,
    ReportMissing,
    CreateOnly,
    IfVersion(u64),
}

impl Mode {
    fn code(self) -> &'static str {
        match self {
            Mode::OnlyIfPresent => "p",
            Mode::CreateFromChanges => "c",
            Mode::ReportMissing => "m",
            Mode::CreateOnly => "n",
            Mode::IfVersion(_) => "v",
        }
    }
}

/// One call of the merge script.
struct Write<'a> {
    mode: Mode,
    cleared: bool,
    /// Write the meta fields even when the record exists (the expiry changed).
    meta: bool,
    meta_args: [String; 4],
    sets: Vec<(Vec<u8>, &'a [u8])>,
    deletes: Vec<Vec<u8>>,
}

impl<'a> Write<'a> {
    fn new(mode: Mode, data: &SessionData, lifetime: &Lifetime) -> Self {
        Write {
            mode,
            cleared: false,
            meta: false,
            meta_args: meta_args(data, lifetime),
            sets: Vec::new(),
            deletes: Vec::new(),
        }
    }

    /// Every value of `data`, set.
    fn whole(mut self, data: &'a SessionData) -> Self {
        self.sets = data.iter().map(|(k, v)| (value_field(k), v)).collect();
        self
    }

    /// `changes`' flush, sets and deletes (and expiry, as meta).
    fn changes(mut self, changes: &'a ChangeSet) -> Self {
        self.cleared = changes.cleared();
        self.meta = changes.expiry().is_some();
        for (key, change) in changes.iter() {
            match change {
                Change::Set(value) => self.sets.push((value_field(key), value)),
                Change::Delete => self.deletes.push(value_field(key)),
            }
        }
        self
    }

    /// Runs it: `Ok(true)` written, `Ok(false)` not written (see the mode).
    async fn run(&self, backend: &Backend, sid: &str, action: &'static str) -> Result<bool> {
        let key = backend.keys.session(sid);
        let expected = match self.mode {
            Mode::IfVersion(v) => v.to_string(),
            _ => String::new(),
        };
        let flag = |on: bool| if on { "1" } else { "0" };
        let mut invocation = MERGE.prepare_invoke();
        invocation
            .key(&key)
            .arg(now_millis())
            .arg(self.mode.code())
            .arg(expected)
            .arg(flag(self.cleared))
            .arg(flag(self.meta))
            .arg(&self.meta_args[..])
            .arg(self.sets.len());
        for (field, value) in &self.sets {
            invocation.arg(field).arg(*value);
        }
        for field in &self.deletes {
            invocation.arg(field);
        }
        let reply = backend.redis.run(action, Op::Script(&invocation)).await?;
        match reply {
            Value::Int(1) => Ok(true),
            Value::Int(0) => Ok(false),
            Value::Int(newer) if newer < 0 => Err(Error::NewerFormat {
                engine: backend.redis.engine().into(),
                version: u8::try_from(-newer).unwrap_or(u8::MAX),
            }),
            other => Err(backend.redis.error(
                action,
                Failure::Reply(format!("the merge script answered {other:?}")),
            )),
        }
    }
}

/// Applies `changes` to the live session `sid` in one atomic call; when it is absent,
/// creates it from `data` unless `only_if_present`. The common case is one round trip
/// carrying only the changes; a session that expired or was destroyed between this
/// request's load and its release, and whose view holds keys the changes do not cover,
/// costs a second call carrying the whole view.
pub(crate) async fn merge(
    backend: &Backend,
    sid: &str,
    changes: &ChangeSet,
    data: &SessionData,
    lifetime: &Lifetime,
    only_if_present: bool,
) -> Result<bool> {
    let action = "write session";
    let changed: HashSet<&str> = changes
        .iter()
        .filter(|(_, c)| matches!(c, Change::Set(_)))
        .map(|(k, _)| k)
        .collect();
    let covered = data.keys().all(|k| changed.contains(k));
    let mode = match (only_if_present, covered) {
        (true, _) => Mode::OnlyIfPresent,
        (false, true) => Mode::CreateFromChanges,
        (false, false) => Mode::ReportMissing,
    };
    let first = Write::new(mode, data, lifetime).changes(changes);
    if first.run(backend, sid, action).await? {
        return Ok(true);
    }
    if mode != Mode::ReportMissing {
        return Ok(false);
    }
    let mut whole = Write::new(Mode::CreateFromChanges, data, lifetime).whole(data);
    whole.cleared = changes.cleared();
    whole.meta = changes.expiry().is_some();
    whole.deletes = changes
        .iter()
        .filter(|(_, c)| matches!(c, Change::Delete))
        .map(|(k, _)| value_field(k))
        .collect();
    whole.run(backend, sid, action).await
}

/// Stores `data` as a new session, unless a live one exists.
pub(crate) async fn create(
    backend: &Backend,
    sid: &str,
    data: &SessionData,
    lifetime: &Lifetime,
) -> Result<bool> {
    Write::new(Mode::CreateOnly, data, lifetime)
        .whole(data)
        .run(backend, sid, "create session")
        .await
}

/// Replaces the live session with `data` if its write counter is still `expected`.
pub(crate) async fn replace(
    backend: &Backend,
    sid: &str,
    expected: u64,
    data: &SessionData,
    lifetime: &Lifetime,
) -> Result<bool> {
    let mut write = Write::new(Mode::IfVersion(expected), data, lifetime).whole(data);
    write.cleared = true;
    write.meta = true;
    write.run(backend, sid, "write session").await
}

/// Makes the live session end `lifetime.ttl()` from now; never creates it.
pub(crate) async fn touch(backend: &Backend, sid: &str, lifetime: &Lifetime) -> Result<bool> {
    let millis = u64::try_from(lifetime.ttl().as_millis()).unwrap_or(u64::MAX);
    if millis == 0 {
        // Its hard end has passed: it is over.
        destroy(backend, sid).await?;
        return Ok(false);
    }
    let key = backend.keys.session(sid);
    let mut invocation = TOUCH.prepare_invoke();
    invocation.key(&key).arg(now_millis()).arg(millis);
    let reply = backend
        .redis
        .run("refresh session", Op::Script(&invocation))
        .await?;
    Ok(matches!(reply, Value::Int(1)))
}

/// Removes the session.
pub(crate) async fn destroy(backend: &Backend, sid: &str) -> Result<()> {
    let mut cmd = deadpool_redis::redis::cmd("DEL");
    cmd.arg(backend.keys.session(sid));
    backend
        .redis
        .run("destroy session", Op::Command(&cmd))
        .await
        .map(drop)
}

/// Moves the live session `old` to `new`, keeping data and expiry: one atomic `RENAME` on a
/// single server; on a cluster, where the two ids live in different slots, a claim on the
/// old slot and a restore on the new one (undone if the restore fails).
pub(crate) async fn rename(
    backend: &Backend,
    old: &str,
    new: &str,
) -> Result<Option<LoadedRow<u64>>> {
    let action = "regenerate session";
    if backend.redis.topology() != Topology::Cluster {
        let (from, to) = (backend.keys.session(old), backend.keys.session(new));
        let mut invocation = RENAME.prepare_invoke();
        invocation.key(&from).key(&to);
        let reply = backend.redis.run(action, Op::Script(&invocation)).await?;
        return match read::record(reply).map_err(|f| backend.redis.error(action, f))? {
            Some(record) => read::row(backend, new, record).map(Some),
            None => Ok(None),
        };
    }
    let (from, moving) = (backend.keys.session(old), backend.keys.moving(old));
    let mut claim = CLAIM.prepare_invoke();
    claim.key(&from).key(&moving).arg(MOVING_KEEP_MS);
    let reply = backend.redis.run(action, Op::Script(&claim)).await?;
    let Some(record) = read::record(reply).map_err(|f| backend.redis.error(action, f))? else {
        return Ok(None);
    };
    let pttl = record.pttl();
    let fields: crate::layout::Fields = match &record.fields {
        Ok(fields) => fields
            .iter()
            .filter(|(f, _)| f.as_slice() != b"#p")
            .cloned()
            .collect(),
        Err(_) => return Ok(None),
    };
    let to = backend.keys.session(new);
    let mut restore = RESTORE.prepare_invoke();
    restore.key(&to).arg(pttl);
    for (field, value) in &fields {
        restore.arg(field).arg(value);
    }
    if let Err(error) = backend.redis.run(action, Op::Script(&restore)).await {
        let mut unclaim = UNCLAIM.prepare_invoke();
        unclaim.key(&from).key(&moving).arg(pttl);
        if let Err(undo) = backend.redis.run(action, Op::Script(&unclaim)).await {
            let session = session_core::id::Fingerprint::of(old);
            tracing::error!(engine = backend.redis.engine(), %session, error = %undo, "could not put a session back after a failed move; it is lost");
        }
        return Err(error);
    }
    let decoded = layout::decode(Ok(fields), backend.redis.engine(), new)?;
    let left =
        u64::try_from(pttl).map_or(std::time::Duration::ZERO, std::time::Duration::from_millis);
    Ok(Some(LoadedRow {
        data: decoded.data,
        version: decoded.writes,
        ttl: Ttl::Left(left),
    }))
}
