//! The Lua scripts that make each operation one atomic round trip. redis-rs sends them as
//! `EVALSHA` and loads them (`SCRIPT LOAD`, then `EVALSHA` again) when the server answers
//! `NOSCRIPT`, e.g. after a restart. Every key a script touches is in `KEYS`, and the keys
//! of one call share a hash slot, as Redis Cluster requires.
//!
//! Replies describing a record are `{status, pttl, fields}` (nil when there is none):
//! `status` 1 when the script has just refreshed the record's expiry, 0 when it did not,
//! -1 when the key does not hold a hash; `pttl` the milliseconds left (-1: no expiry); `fields`
//! the hash as `HGETALL` gives it.

use std::sync::LazyLock;

use deadpool_redis::redis::Script;

/// Reads a session and, with `ARGV[2] = '1'`, slides its expiry when that is due.
///
/// `KEYS[1]`: the session. `ARGV[1]`: now, Unix milliseconds. The refresh rule is the one of
/// `session_core::Lifetime::refresh_due`: push the end to `min(#i, #u - now)` from now when
/// that extends it by more than 1 % of `#i`; a fixed end (`#u` only) never slides. A record
/// whose hard end has passed is deleted and reads as absent.
pub(crate) static LOAD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local key = KEYS[1]
local pttl = redis.call('PTTL', key)
if pttl == -2 then return false end
local fields = redis.pcall('HGETALL', key)
if fields.err then return {-1, pttl, {}} end
if ARGV[2] ~= '1' then return {0, pttl, fields} end
local idle, untl
for i = 1, #fields, 2 do
  local f = fields[i]
  if f == '#i' then idle = tonumber(fields[i + 1])
  elseif f == '#u' then untl = tonumber(fields[i + 1]) end
end
if not idle and not untl then return {0, pttl, fields} end
local want = idle
if untl then
  local cap = untl - tonumber(ARGV[1])
  if not want or cap < want then want = cap end
end
if want <= 0 then
  redis.call('DEL', key)
  return false
end
if pttl == -1 or (idle and want - pttl > idle / 100) then
  redis.call('PEXPIRE', key, string.format('%d', want))
  return {1, want, fields}
end
return {0, pttl, fields}
",
    )
});

/// Applies a change set to a session, or creates it, in one atomic step.
///
/// `KEYS[1]`: the session. `ARGV`: 1 now (Unix ms); 2 the mode: `p` only if present, `c`
/// create from these changes when absent, `m` report an absent session (0), `n` create
/// only (0 when present), `v` only if `#n` equals `ARGV[3]`; 3 that count; 4 `1` to delete
/// every value first (a flush); 5 `1` to write the meta fields 6 to 9 (`#e`, `#i`, `#u`,
/// `#c`; empty removes) besides on creation; 10 the number `n` of fields to set; then `n`
/// field/value pairs; then the fields to delete.
///
/// Returns 1 when written, 0 when not (see the mode), minus the version when the record has a newer layout
/// (nothing written). A key that does not hold a session of this layout counts as absent,
/// and is replaced when the mode creates. The record then ends `min(#i, #u - now)` from now,
/// from the meta fields as they stand after the write (deleted when that is not positive).
pub(crate) static MERGE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local key = KEYS[1]
local mode = ARGV[2]
local state = 'missing'
local v = redis.pcall('HGET', key, '#v')
if type(v) == 'table' then state = 'foreign'
elseif v then
  local n = tonumber(v)
  if n == 2 then state = 'live'
  elseif n and n > 2 then return -n
  else state = 'foreign' end
elseif redis.call('EXISTS', key) == 1 then state = 'foreign' end

if state == 'live' then
  if mode == 'n' then return 0 end
  if mode == 'v' and (redis.call('HGET', key, '#n') or '0') ~= ARGV[3] then return 0 end
elseif mode == 'c' or mode == 'n' then
  if state == 'foreign' then redis.call('DEL', key) end
else
  return 0
end
local creating = state ~= 'live'

local function batched(command, list, from, to)
  local i = from
  while i <= to do
    local j = math.min(i + 511, to)
    redis.call(command, key, unpack(list, i, j))
    i = j + 1
  end
end

if ARGV[4] == '1' and not creating then
  local doomed = {}
  for _, f in ipairs(redis.call('HKEYS', key)) do
    if string.byte(f, 1) == 46 then doomed[#doomed + 1] = f end
  end
  batched('HDEL', doomed, 1, #doomed)
end
local meta = creating or ARGV[5] == '1'
if meta then
  local set, del, names = {}, {}, {'#e', '#i', '#u'}
  if creating then
    set = {'#v', '2'}
    if ARGV[9] ~= '' then set[3] = '#c'; set[4] = ARGV[9] end
  end
  for j = 1, 3 do
    if ARGV[5 + j] == '' then del[#del + 1] = names[j]
    else set[#set + 1] = names[j]; set[#set + 1] = ARGV[5 + j] end
  end
  batched('HSET', set, 1, #set)
  if not creating then batched('HDEL', del, 1, #del) end
end
local first_delete = 11 + 2 * tonumber(ARGV[10])
batched('HSET', ARGV, 11, first_delete - 1)
batched('HDEL', ARGV, first_delete, #ARGV)
redis.call('HINCRBY', key, '#n', 1)

local idle, untl
if meta then
  idle, untl = tonumber(ARGV[7]), tonumber(ARGV[8])
else
  local stored = redis.call('HMGET', key, '#i', '#u')
  idle, untl = tonumber(stored[1]), tonumber(stored[2])
end
local want = idle
if untl then
  local cap = untl - tonumber(ARGV[1])
  if not want or cap < want then want = cap end
end
if not want or want <= 0 then
  redis.call('DEL', key)
  return 1
end
redis.call('PEXPIRE', key, string.format('%d', want))
return 1
",
    )
});

/// Moves a session to a new id on one server, keeping its data and expiry (`RENAME`).
///
/// `KEYS[1]`: the old id's session, `KEYS[2]`: the new id's. Nil when the old one is gone;
/// a retry after a lost reply finds the session already under the new id and returns it.
pub(crate) static RENAME: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('EXISTS', KEYS[2]) == 1 then return false end
  redis.call('RENAME', KEYS[1], KEYS[2])
elseif redis.call('EXISTS', KEYS[2]) == 0 then
  return false
end
local pttl = redis.call('PTTL', KEYS[2])
local fields = redis.pcall('HGETALL', KEYS[2])
if fields.err then return {-1, pttl, {}} end
return {0, pttl, fields}
",
    )
});

/// First half of a move on a cluster, on the old id's slot: takes the session away from
/// its id (renamed to its moving key, same slot, kept `ARGV[1]` ms with its remaining
/// lifetime in `#p`) and returns it with that lifetime. Nil when it is gone; a retry
/// returns what the first try took.
pub(crate) static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then
  local pttl = redis.call('PTTL', KEYS[1])
  redis.call('RENAME', KEYS[1], KEYS[2])
  local ok = redis.pcall('HSET', KEYS[2], '#p', pttl)
  if type(ok) == 'table' and ok.err then
    redis.call('DEL', KEYS[2])
    return false
  end
  redis.call('PEXPIRE', KEYS[2], ARGV[1])
elseif redis.call('EXISTS', KEYS[2]) == 0 then
  return false
end
local fields = redis.call('HGETALL', KEYS[2])
local pttl = -1
for i = 1, #fields, 2 do
  if fields[i] == '#p' then pttl = tonumber(fields[i + 1]) end
end
return {0, pttl, fields}
",
    )
});

/// Second half of a move on a cluster, on the new id's slot: writes the claimed fields
/// under the new id with the claimed lifetime (`ARGV[1]` ms, -1 for none), then the
/// field/value pairs. Returns 1; a retry finds it written and returns 1 too.
pub(crate) static RESTORE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
local i = 2
while i <= #ARGV do
  local j = math.min(i + 511, #ARGV)
  redis.call('HSET', KEYS[1], unpack(ARGV, i, j))
  i = j + 1
end
if tonumber(ARGV[1]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1
",
    )
});

/// Undoes a [`CLAIM`] whose [`RESTORE`] failed: puts the moving key back under the old id
/// with its lifetime (`ARGV[1]` ms, -1 for none). Returns 1 when put back.
pub(crate) static UNCLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[2]) == 0 or redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('RENAME', KEYS[2], KEYS[1])
redis.call('HDEL', KEYS[1], '#p')
if tonumber(ARGV[1]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1])
else redis.call('PERSIST', KEYS[1]) end
return 1
",
    )
});
