//! The Lua scripts that make each operation one atomic round trip. redis-rs sends them as
//! `EVALSHA` and loads them (`SCRIPT LOAD`, then `EVALSHA` again) when the server answers
//! `NOSCRIPT`, e.g. after a restart. Every key a script touches is in `KEYS`, and the keys
//! of one call share a hash slot, as Redis Cluster requires.
//!
//! Replies describing a record are `{status, pttl, fields}` (nil when there is none):
//! `status` 0, or -1 when the key does not hold a hash; `pttl` the milliseconds left (-1: no expiry); `fields`
//! the hash as `HGETALL` gives it.

use std::sync::LazyLock;

use deadpool_redis::redis::Script;

/// Refreshes a session's expiry: makes it end `ARGV[2]` ms from now (`ARGV[1]`, Unix ms)
/// and records that end in `#x`. Returns 1, or 0 when the session is gone (`PEXPIRE` never
/// creates a key).
pub(crate) static TOUCH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('PEXPIRE', KEYS[1], ARGV[2]) == 0 then return 0 end
redis.pcall('HSET', KEYS[1], '#x', string.format('%d', tonumber(ARGV[1]) + tonumber(ARGV[2])))
return 1
",
    )
});

/// Applies a change set to a session, or creates it, in one atomic step.
///
/// `KEYS[1]`: the session. `ARGV`: 1 now (Unix ms); 2 the mode: `p` only if present, `c`
/// create from these changes when absent, `m` report an absent session (0), `n` create
/// only (0 when present), `v` only if `#n` equals `ARGV[3]`; 3 that count; 4 `1` to delete
/// every value first (a flush); 5 `1` to write the meta fields 6 to 8 (`#e`, `#i`, `#u`;
/// empty removes) besides on creation; 9 `#c` for a creation; 10 the number `n` of fields to
/// set; then `n` field/value pairs; then the fields to delete.
///
/// Returns 1 when written, 0 when not (see the mode), minus the version when the record has
/// a newer layout (nothing written). A key that does not hold a session of this layout
/// counts as absent, and is replaced when the mode creates. The record then ends
/// `min(#i, #u - now)` from now, from the meta fields as they stand after the write (it is
/// deleted when that is not positive), and `#x` says when.
pub(crate) static MERGE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local key = KEYS[1]
local mode = ARGV[2]
local now = tonumber(ARGV[1])
local state = 'missing'
local stored = redis.pcall('HMGET', key, '#v', '#i', '#u', '#n')
if stored.err then state = 'foreign'
elseif stored[1] then
  local n = tonumber(stored[1])
  if n == 2 then state = 'live'
  elseif n and n > 2 then return -n
  else state = 'foreign' end
elseif redis.call('EXISTS', key) == 1 then state = 'foreign' end

if state == 'live' then
  if mode == 'n' then return 0 end
  if mode == 'v' and (stored[4] or '0') ~= ARGV[3] then return 0 end
elseif mode == 'c' or mode == 'n' then
  if state == 'foreign' then redis.call('DEL', key) end
else
  return 0
end
local creating = state ~= 'live'
local meta = creating or ARGV[5] == '1'

local idle, untl
if meta then
  idle, untl = tonumber(ARGV[7]), tonumber(ARGV[8])
else
  idle, untl = tonumber(stored[2]), tonumber(stored[3])
end
local want = idle
if untl then
  local cap = untl - now
  if not want or cap < want then want = cap end
end
if not want or want <= 0 then
  redis.call('DEL', key)
  return 1
end

local function batched(command, list)
  local i = 1
  while i <= #list do
    local j = math.min(i + 511, #list)
    redis.call(command, key, unpack(list, i, j))
    i = j + 1
  end
end

if ARGV[4] == '1' and not creating then
  local doomed = {}
  for _, f in ipairs(redis.call('HKEYS', key)) do
    if string.byte(f, 1) == 46 then doomed[#doomed + 1] = f end
  end
  batched('HDEL', doomed)
end
local writes = 1
if not creating then writes = (tonumber(stored[4]) or 0) + 1 end
local set = {'#x', string.format('%d', now + want), '#n', string.format('%d', writes)}
local del = {}
if creating then
  set[#set + 1] = '#v'; set[#set + 1] = '2'
  if ARGV[9] ~= '' then set[#set + 1] = '#c'; set[#set + 1] = ARGV[9] end
end
if meta then
  local names = {'#e', '#i', '#u'}
  for j = 1, 3 do
    if ARGV[5 + j] ~= '' then
      set[#set + 1] = names[j]; set[#set + 1] = ARGV[5 + j]
    elseif not creating then
      del[#del + 1] = names[j]
    end
  end
end
local first_delete = 11 + 2 * tonumber(ARGV[10])
for i = 11, first_delete - 1 do set[#set + 1] = ARGV[i] end
for i = first_delete, #ARGV do del[#del + 1] = ARGV[i] end
batched('HSET', set)
batched('HDEL', del)
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
