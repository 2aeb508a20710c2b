import type { Cluster, Redis } from 'ioredis'

// Every script starts with a shebang (Redis 7): a script that may write is then refused whole when Redis is out
// of memory instead of failing half-way, and no script may touch keys of another slot; reads say no-writes.
// Lua helpers shared by the scripts. Revs and mids are integers below 2^53, exact in Lua's doubles; '%d' keeps
// them out of exponent notation. A record is "<rev>:<value>" (live), "<rev>;<expiresAt>:<value>" (live until
// expiresAt, ms since the epoch) or "<rev>" (tombstone).
/** @internal */
export const HELPERS = `
local function int(n) return string.format('%d', n) end
-- rev, value (nil for a tombstone), expiresAt (nil for never).
local function parse(rec)
  if not rec then return nil end
  local sep = string.find(rec, ':', 1, true)
  if not sep then return tonumber(rec), nil end
  local semi = string.find(rec, ';', 1, true)
  if semi and semi < sep then
    return tonumber(string.sub(rec, 1, semi - 1)), string.sub(rec, sep + 1), tonumber(string.sub(rec, semi + 1, sep - 1))
  end
  return tonumber(string.sub(rec, 1, sep - 1)), string.sub(rec, sep + 1)
end
-- As parse, but a value expired at now (ms) reads as a tombstone (expiry is inclusive).
local function live(rec, now)
  local rev, value, expiresAt = parse(rec)
  if value and expiresAt and expiresAt <= now then return rev, nil, nil end
  return rev, value, expiresAt
end
-- A record with its expiry ('' for none).
local function record(rev, value, expiresAt)
  if expiresAt == '' or not expiresAt then return int(rev) .. ':' .. value end
  return int(rev) .. ';' .. int(tonumber(expiresAt)) .. ':' .. value
end
-- The earliest expiry of a user's index, 0 when empty.
local function earliest(index)
  local first = redis.call('ZRANGE', index, 0, 0, 'WITHSCORES')
  return first[2] and tonumber(first[2]) or 0
end
-- The deletion marker: "<ms> <head>" (when the user was last deleted, and their head then); 0, 0 without one.
local function deletion(marker)
  local raw = redis.call('GET', marker)
  if not raw then return 0, 0 end
  local sp = string.find(raw, ' ', 1, true)
  return tonumber(string.sub(raw, 1, sp - 1)), tonumber(string.sub(raw, sp + 1))
end
`

// Copy-on-write for open snapshots (see redisSnapshot.ts). A snapshot <base>:s:<id> is a hash (h head, r clear
// rev, c 1 once frozen, g the id whose frozen keys it reads) listed in the user's registry <base>:n; <id>:d holds
// each key's record as it was at the snapshot ('' for none), saved before the key's first change since. A clear or
// deletion moves the records and the key index, by RENAME (O(1)), to <g>:f and <g>:k of the first open snapshot g,
// and every open snapshot then reads that one frozen copy: no script copies a user's records.
/** @internal */
export const SNAPSHOT_HELPERS = `
local function openSnapshots(registry)
  local open = {}
  if redis.call('EXISTS', registry) == 0 then return open end
  local base = string.sub(registry, 1, -3) .. ':s:'
  for _, id in ipairs(redis.call('SMEMBERS', registry)) do
    local s = base .. id
    local ttl = redis.call('PTTL', s)
    if ttl <= 0 then redis.call('SREM', registry, id)
    elseif redis.call('HGET', s, 'c') ~= '1' then open[#open + 1] = { s, ttl, id } end
  end
  return open
end
local function preserve(open, data, key)
  if #open == 0 then return end
  local raw = redis.call('HGET', data, key) or ''
  for _, s in ipairs(open) do
    if redis.call('HSETNX', s[1] .. ':d', key, raw) == 1 then redis.call('PEXPIRE', s[1] .. ':d', s[2]) end
  end
end
local function freeze(open, data, keys)
  if #open == 0 then return end
  local g, ttl = open[1][1], 0
  for _, s in ipairs(open) do
    ttl = math.max(ttl, s[2])
    redis.call('HSET', s[1], 'c', '1', 'g', open[1][3])
  end
  for j, from in ipairs({ data, keys }) do
    local to = g .. (j == 1 and ':f' or ':k')
    if redis.call('EXISTS', from) == 1 then
      redis.call('RENAME', from, to)
      redis.call('PEXPIRE', to, ttl)
    end
  end
end
`

/**
 * One user's commit: deletion barrier, exactly-once check, conditions, quota, revs, records, key index, log and
 * meta, expiry index, all or nothing. KEYS meta data keys log clients snapshots deleted expiry; ARGV maxKeys
 * maxBytes overhead clientId ('' for none) authorizedAt (ms, '' for none) now (seconds) atomic ('1' or '') now (ms),
 * then op mid key value condition expiresAt per mutation (op s|d|c; condition '' for none, 'a' for absent, else the
 * rev; expiresAt '' for never). A value expired at now (ms) is absent for conditions. Returns head, then two numbers per
 * mutation: kind (1 applied, 2 repeated mid, 3 over the key quota, 4 over the byte quota, 5 the user was deleted
 * at or after authorizedAt, 6 its condition failed, 7 a repeated mid that had failed its condition, 8 another
 * write of its atomic batch failed its condition) and rev (for 6-8: the key's version, 0 when absent). A client's
 * exactly-once record is "<mid> <rev>", then " <conflicted mids, comma-separated>" when there are any. Last, the
 * user's earliest expiry after the commit (0 for none), for the due-users set.
 */
const COMMIT = `#!lua
${HELPERS}${SNAPSHOT_HELPERS}
local maxKeys, maxBytes, overhead, clientId = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local atomic, nowMs = ARGV[7] == '1', tonumber(ARGV[8])
local deletedMs, deletedHead = deletion(KEYS[7])
local meta = redis.call('HMGET', KEYS[1], 'h', 'r', 'n', 'b')
local head, clearRev = tonumber(meta[1]), tonumber(meta[2]) or 0
local keys, bytes = tonumber(meta[3]) or 0, tonumber(meta[4]) or 0
if ARGV[5] ~= '' and deletedMs > 0 and deletedMs >= tonumber(ARGV[5]) then
  local out = { head or deletedHead }
  for i = 9, #ARGV, 6 do out[#out + 1] = 5; out[#out + 1] = 0 end
  return out
end
if not head then
  -- A user deleted before continues from the head they had, behind a clear at it (see DELETE_USER).
  head, clearRev = deletedHead, deletedHead
  if head > 0 then redis.call('ZADD', KEYS[4], int(head), 'c') end
end
local lastMid, lastRev, conflicts, applied = 0, 0, '', false
if clientId ~= '' then
  local seen = redis.call('HGET', KEYS[5], clientId)
  if seen then
    local sp = string.find(seen, ' ', 1, true)
    local sp2 = string.find(seen, ' ', sp + 1, true)
    lastMid = tonumber(string.sub(seen, 1, sp - 1))
    if sp2 then lastRev, conflicts = tonumber(string.sub(seen, sp + 1, sp2 - 1)), string.sub(seen, sp2 + 1)
    else lastRev = tonumber(string.sub(seen, sp + 1)) end
  end
end
local function repeated(mid) return clientId ~= '' and mid <= lastMid end
local function wasConflict(mid) return string.find(',' .. conflicts .. ',', ',' .. int(mid) .. ',', 1, true) ~= nil end
-- The key's live version: the rev of its value, 0 without one (also once it expired).
local function version(op, key)
  if op == 'c' then return 0 end
  local rev, value = live(redis.call('HGET', KEYS[2], key), nowMs)
  return value and rev or 0
end
local function fails(op, key, cond)
  if cond == '' or op == 'c' then return false end
  local v = version(op, key)
  if cond == 'a' then return v ~= 0 end
  return v ~= tonumber(cond)
end
-- A conflicted mid counts as applied (a retry gets CONFLICT again); the newest 256 are remembered.
local function remember(mid)
  conflicts = conflicts == '' and int(mid) or (conflicts .. ',' .. int(mid))
  local n = select(2, string.gsub(conflicts, ',', ','))
  while n >= 256 do
    conflicts = string.sub(conflicts, string.find(conflicts, ',', 1, true) + 1)
    n = n - 1
  end
  lastMid, applied = mid, true
  if lastRev == 0 then lastRev = head end
end
local function saveClient()
  if applied and clientId ~= '' then
    redis.call('HSET', KEYS[5], clientId, int(lastMid) .. ' ' .. int(lastRev) .. (conflicts ~= '' and (' ' .. conflicts) or ''))
  end
end
-- An atomic batch: every condition checked first, against the state before it; then the quota, as a dry run.
if atomic then
  local failed, over = false, 0
  for i = 9, #ARGV, 6 do
    if not repeated(tonumber(ARGV[i + 1])) and fails(ARGV[i], ARGV[i + 2], ARGV[i + 4]) then failed = true end
  end
  if not failed then
    local k, b, planned, cleared = keys, bytes, {}, false
    for i = 9, #ARGV, 6 do
      local op, key, value = ARGV[i], ARGV[i + 2], ARGV[i + 3]
      if repeated(tonumber(ARGV[i + 1])) then
      elseif op == 'c' then k, b, planned, cleared = 0, 0, {}, true
      else
        local old, oldLen
        local st = planned[key]
        if st then old, oldLen = true, st.len
        elseif not cleared then
          local raw = redis.call('HGET', KEYS[2], key)
          local _, v = parse(raw)
          old, oldLen = raw ~= false, v and #v or nil
        end
        local dk = (op == 's' and 1 or 0) - (oldLen and 1 or 0)
        local db = (op == 's' and #value or 0) - (oldLen or 0)
        if not old then db = db + #key + overhead end
        if op == 'd' and not oldLen then
        elseif dk > 0 and k + dk > maxKeys then over = 3; break
        elseif db > 0 and b + db > maxBytes then over = 4; break
        else
          k, b = k + dk, b + db
          planned[key] = { len = op == 's' and #value or nil }
        end
      end
    end
  end
  if failed or over > 0 then
    local out = { head }
    for i = 9, #ARGV, 6 do
      local op, mid, key = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
      if repeated(mid) then
        out[#out + 1] = wasConflict(mid) and 7 or 2
        out[#out + 1] = wasConflict(mid) and version(op, key) or lastRev
      elseif failed then
        out[#out + 1] = fails(op, key, ARGV[i + 4]) and 6 or 8
        out[#out + 1] = version(op, key)
        remember(mid)
      else
        out[#out + 1] = over
        out[#out + 1] = 0
      end
    end
    saveClient()
    out[#out + 1] = earliest(KEYS[8])
    return out
  end
end
local open = openSnapshots(KEYS[6])
local out = {0}
for i = 9, #ARGV, 6 do
  local op, mid, key, value, cond, expiresAt = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  local kind, rev = 1, 0
  if repeated(mid) then
    if wasConflict(mid) then kind, rev = 7, version(op, key) else kind, rev = 2, lastRev end
  elseif not atomic and fails(op, key, cond) then
    kind, rev = 6, version(op, key)
    remember(mid)
  elseif op == 'c' then
    head = head + 1
    freeze(open, KEYS[2], KEYS[3])
    open = {}
    redis.call('UNLINK', KEYS[2], KEYS[3], KEYS[4], KEYS[8])
    redis.call('ZADD', KEYS[4], int(head), 'c')
    clearRev, keys, bytes = head, 0, 0
  else
    local raw = redis.call('HGET', KEYS[2], key)
    local _, oldValue = parse(raw)
    local old = raw ~= false
    local deltaKeys = (op == 's' and 1 or 0) - (oldValue and 1 or 0)
    local deltaBytes = (op == 's' and #value or 0) - (oldValue and #oldValue or 0)
    if not old then deltaBytes = deltaBytes + #key + overhead end
    if op == 'd' and not oldValue then
      -- Nothing to delete: the delete takes a rev but stores nothing (no tombstone, no quota).
      head = head + 1
    elseif deltaKeys > 0 and keys + deltaKeys > maxKeys then kind = 3
    elseif deltaBytes > 0 and bytes + deltaBytes > maxBytes then kind = 4
    else
      head = head + 1
      preserve(open, KEYS[2], key)
      redis.call('HSET', KEYS[2], key, op == 's' and record(head, value, expiresAt) or int(head))
      redis.call('ZADD', KEYS[3], 0, key)
      redis.call('ZADD', KEYS[4], int(head), 'k' .. key)
      -- The old value's expiry goes with it: a store without expiresAt clears it.
      if op == 's' and expiresAt ~= '' then redis.call('ZADD', KEYS[8], expiresAt, key) else redis.call('ZREM', KEYS[8], key) end
      keys, bytes = keys + deltaKeys, bytes + deltaBytes
    end
  end
  if kind == 1 then
    applied = true
    rev = head
    if clientId ~= '' then lastMid, lastRev = mid, head end
  end
  out[#out + 1] = kind
  out[#out + 1] = rev
end
-- The meta is written anyway, with the time of the last write (for pruning unused users).
redis.call('HSET', KEYS[1], 'h', int(head), 'r', int(clearRev), 'n', int(keys), 'b', int(bytes), 'u', ARGV[6])
saveClient()
out[1] = head
out[#out + 1] = earliest(KEYS[8])
return out
`

/**
 * Live entries in key order. KEYS data keys; ARGV lower bound kind ('>' or '>='), bound, prefix, limit, most index
 * entries to scan (tombstones and values expired at now are skipped, so a call stops after that many whatever it
 * found), now (ms). Returns the key to go on after ('' once the range is exhausted), then key, rev, value, expiresAt
 * ('' for never) per entry.
 */
const LIST = `#!lua flags=no-writes
${HELPERS}
local lower = ARGV[1] == '>' and ('(' .. ARGV[2]) or (ARGV[2] == '' and '-' or ('[' .. ARGV[2]))
-- Valid UTF-8 never holds the byte 0xFF, so every key that starts with the prefix sorts below prefix..0xFF.
local upper = ARGV[3] == '' and '+' or ('(' .. ARGV[3] .. '\\255')
local limit, step, out, found, scanned = tonumber(ARGV[4]), tonumber(ARGV[5]), {''}, 0, 0
local now = tonumber(ARGV[6])
while found < limit and scanned < step do
  local page = redis.call('ZRANGE', KEYS[2], lower, upper, 'BYLEX', 'LIMIT', 0, math.min(math.max(limit - found, 16), step - scanned, 512))
  if #page == 0 then out[1] = ''; return out end
  local recs = redis.call('HMGET', KEYS[1], unpack(page))
  for i, key in ipairs(page) do
    scanned = scanned + 1
    out[1] = key
    local rev, value, expiresAt = live(recs[i], now)
    if value then
      out[#out + 1] = key
      out[#out + 1] = rev
      out[#out + 1] = value
      out[#out + 1] = expiresAt and int(expiresAt) or ''
      found = found + 1
      if found == limit then break end
    end
  end
  lower = '(' .. out[1]
end
return out
`

/**
 * The compacted log after a rev. KEYS meta data log deleted; ARGV rev limit maxBytes (the page ends once its values
 * reach it) now (ms). Returns the covered rev, then kind ('c' clear, 'v' value, 'd' deleted: also a value expired at
 * now), rev, key, value, expiresAt ('' for never) per change. A deleted user is a clear at their head.
 */
const CHANGES = `#!lua flags=no-writes
${HELPERS}
local head = tonumber(redis.call('HGET', KEYS[1], 'h'))
local rev, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
if not head then
  local _, deletedHead = deletion(KEYS[4])
  if rev >= deletedHead then return {deletedHead} end
  if limit <= 0 then return {rev} end
  return {deletedHead, 'c', deletedHead, '', '', ''}
end
if rev >= head then return {head} end
if limit <= 0 then return {rev} end
local log = redis.call('ZRANGE', KEYS[3], '(' .. ARGV[1], '+inf', 'BYSCORE', 'LIMIT', 0, limit, 'WITHSCORES')
local out, bytes, maxBytes = {head}, 0, tonumber(ARGV[3])
for i = 1, #log, 2 do
  local member, logRev = log[i], log[i + 1]
  if member == 'c' then
    out[#out + 1] = 'c'; out[#out + 1] = logRev; out[#out + 1] = ''; out[#out + 1] = ''; out[#out + 1] = ''
  else
    local key = string.sub(member, 2)
    local _, value, expiresAt = live(redis.call('HGET', KEYS[2], key), tonumber(ARGV[4]))
    out[#out + 1] = value and 'v' or 'd'; out[#out + 1] = logRev; out[#out + 1] = key; out[#out + 1] = value or ''
    out[#out + 1] = expiresAt and int(expiresAt) or ''
    bytes = bytes + (value and #value or 0)
    if bytes >= maxBytes then
      out[1] = tonumber(logRev)
      return out
    end
  end
end
if #log / 2 == limit then out[1] = tonumber(log[#log]) end
return out
`

/**
 * Opens a snapshot in O(1): records the head and clear rev, and registers it for copy-on-write. KEYS meta snapshot
 * registry deleted; ARGV ttl (ms) id. Returns exists (0/1), head, clear rev (a deleted user's: a clear at the head).
 */
const SNAPSHOT = `#!lua
${HELPERS}
local meta = redis.call('HMGET', KEYS[1], 'h', 'r')
if not meta[1] then
  local _, deletedHead = deletion(KEYS[4])
  return {0, deletedHead, deletedHead}
end
redis.call('HSET', KEYS[2], 'h', meta[1], 'r', meta[2], 'c', '0')
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[1])
return {1, tonumber(meta[1]), tonumber(meta[2])}
`

/**
 * The next page of a snapshot: the live key index (or the frozen one after a clear), each key's saved record
 * where it changed since. KEYS snapshot saved frozenData frozenKeys data keys registry; ARGV after ('' from the
 * start) limit ttl id, most index entries to scan (keys made since the snapshot are skipped), maxBytes (the page ends
 * once its values reach it; records are read 32 at a time, so the script holds little more). Returns the key to go on
 * after ('' once the index is exhausted), then key, rev, value-or-false, expiresAt-or-false per record (the caller
 * hides a value expired by its time); an error once the snapshot expired.
 */
const SNAPSHOT_NEXT = `#!lua
${HELPERS}
if redis.call('EXISTS', KEYS[1]) == 0 then return redis.error_reply('SNAPSHOT_EXPIRED the snapshot expired or was closed') end
local state = redis.call('HMGET', KEYS[1], 'c', 'g')
local index, records = KEYS[6], KEYS[5]
local renew = { KEYS[1], KEYS[2], KEYS[7] }
if state[1] == '1' then
  -- The frozen copy this snapshot shares (see freeze): its own keys, or those of the snapshot g.
  local g = string.sub(KEYS[1], 1, #KEYS[1] - #ARGV[4]) .. (state[2] or ARGV[4])
  index, records = g .. ':k', g .. ':f'
  renew[#renew + 1] = index
  renew[#renew + 1] = records
end
for _, k in ipairs(renew) do redis.call('PEXPIRE', k, ARGV[3]) end
local lower = ARGV[1] == '' and '-' or ('(' .. ARGV[1])
local limit, step, out, found, scanned = tonumber(ARGV[2]), tonumber(ARGV[5]), {''}, 0, 0
local bytes, maxBytes = 0, tonumber(ARGV[6])
while found < limit and scanned < step and bytes < maxBytes do
  local page = redis.call('ZRANGE', index, lower, '+', 'BYLEX', 'LIMIT', 0, math.min(math.max(limit - found, 16), step - scanned, 32))
  if #page == 0 then out[1] = ''; return out end
  local saved = redis.call('HMGET', KEYS[2], unpack(page))
  local current = redis.call('HMGET', records, unpack(page))
  for i, key in ipairs(page) do
    scanned = scanned + 1
    out[1] = key
    local raw = saved[i]
    if not raw then raw = current[i] end
    if raw and raw ~= '' then
      local rev, value, expiresAt = parse(raw)
      out[#out + 1] = key; out[#out + 1] = rev; out[#out + 1] = value or false; out[#out + 1] = expiresAt and int(expiresAt) or false
      found = found + 1
      bytes = bytes + (value and #value or 0)
      if found == limit or bytes >= maxBytes then break end
    end
  end
  lower = '(' .. out[1]
end
return out
`

/**
 * Closes a snapshot: its keys go (UNLINK), and the frozen copy it read too unless another open snapshot reads it.
 * KEYS snapshot saved registry; ARGV id.
 */
const SNAPSHOT_CLOSE = `#!lua
local g = redis.call('HGET', KEYS[1], 'g')
redis.call('UNLINK', KEYS[1], KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
if not g then return 0 end
local base = string.sub(KEYS[3], 1, -3) .. ':s:'
for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if redis.call('HGET', base .. id, 'g') == g then return 0 end
end
redis.call('UNLINK', base .. g .. ':f', base .. g .. ':k')
return 1
`

/**
 * Deletes a user in O(1) and marks the time and head: UNLINK drops the keys from the keyspace at once and Redis
 * frees a large one in its background thread. KEYS meta data keys log clients deleted snapshots expiry; ARGV ms. Returns 1
 * if the user had data (or an unfinished import).
 */
const DELETE_USER = `#!lua
${HELPERS}${SNAPSHOT_HELPERS}
freeze(openSnapshots(KEYS[7]), KEYS[2], KEYS[3])
local _, deletedHead = deletion(KEYS[6])
local head = math.max(tonumber(redis.call('HGET', KEYS[1], 'h')) or 0, deletedHead)
local had = redis.call('EXISTS', KEYS[1])
redis.call('UNLINK', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[8])
redis.call('SET', KEYS[6], ARGV[1] .. ' ' .. int(head))
return had
`

/**
 * An import's header: reserves revs up to head and marks the import as running (meta field i), or resumes an
 * import that did not finish. KEYS meta log; ARGV head clearRev now (seconds). Returns 0 if the user has data.
 */
const IMPORT_HEADER = `#!lua
local meta = redis.call('HMGET', KEYS[1], 'h', 'i')
if meta[1] and not meta[2] then return 0 end
if meta[1] then
  redis.call('HSET', KEYS[1], 'h', string.format('%d', math.max(tonumber(meta[1]), tonumber(ARGV[1]))))
  return 1
end
redis.call('HSET', KEYS[1], 'h', ARGV[1], 'r', ARGV[2], 'n', '0', 'b', '0', 'u', ARGV[3], 'i', '1')
if tonumber(ARGV[2]) > 0 then redis.call('ZADD', KEYS[2], ARGV[2], 'c') end
return 1
`

/**
 * The end of an import: the user is whole, so the import mark and the deletion marker go (tokens from before the
 * deletion work again). KEYS meta deleted. Returns 0 if the import was not running (the user was deleted meanwhile).
 */
const IMPORT_FINISH = `#!lua
if redis.call('HDEL', KEYS[1], 'i') == 0 then return 0 end
redis.call('DEL', KEYS[2])
return 1
`

/**
 * A step of an import: writes records unless a newer one is there. KEYS meta data keys log snapshots clients expiry;
 * ARGV head overhead now (ms), then key rev kind (v|d) value expiresAt ('' for never) per record (a value expired at
 * now is written as a tombstone), or clientId rev 'c' mid '' per exactly-once record (kept unless the client's mid
 * there is higher: it wrote during the import). Returns head and the user's earliest expiry (0 for none).
 */
const IMPORT_RECORDS = `#!lua
${HELPERS}${SNAPSHOT_HELPERS}
-- A deletion during the import removed its mark: write nothing (the user stays deleted).
if redis.call('HGET', KEYS[1], 'i') ~= '1' then return {-1, 0} end
local open = openSnapshots(KEYS[5])
local meta = redis.call('HMGET', KEYS[1], 'h', 'r', 'n', 'b')
local head, keys, bytes, overhead = math.max(tonumber(meta[1]) or 0, tonumber(ARGV[1])), tonumber(meta[3]) or 0, tonumber(meta[4]) or 0, tonumber(ARGV[2])
local now = tonumber(ARGV[3])
for i = 4, #ARGV, 5 do
  local key, rev, isValue, value, expiresAt = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2] == 'v', ARGV[i + 3], ARGV[i + 4]
  if isValue and expiresAt ~= '' and tonumber(expiresAt) <= now then isValue = false end
  local raw, oldRev, oldValue = false, 0, nil
  if ARGV[i + 2] == 'c' then
    local seen = redis.call('HGET', KEYS[6], key)
    local seenMid = seen and tonumber(string.sub(seen, 1, string.find(seen, ' ', 1, true) - 1)) or 0
    if tonumber(value) > seenMid then redis.call('HSET', KEYS[6], key, value .. ' ' .. int(rev)) end
    rev = nil
  else
    raw = redis.call('HGET', KEYS[2], key)
    oldRev, oldValue = parse(raw)
  end
  if rev and (not raw or oldRev < rev) then
    if raw then
      bytes = bytes - #key - overhead - (oldValue and #oldValue or 0)
      if oldValue then keys = keys - 1 end
    end
    preserve(open, KEYS[2], key)
    redis.call('HSET', KEYS[2], key, isValue and record(rev, value, expiresAt) or int(rev))
    redis.call('ZADD', KEYS[3], 0, key)
    redis.call('ZADD', KEYS[4], int(rev), 'k' .. key)
    if isValue and expiresAt ~= '' then redis.call('ZADD', KEYS[7], expiresAt, key) else redis.call('ZREM', KEYS[7], key) end
    bytes = bytes + #key + overhead + (isValue and #value or 0)
    if isValue then keys = keys + 1 end
  end
end
redis.call('HSET', KEYS[1], 'h', int(head), 'r', meta[2] or '0', 'n', int(keys), 'b', int(bytes))
return {head, earliest(KEYS[7])}
`

/**
 * Deletes a user's values expired at now, as tombstones at new revisions (like a commit's deletes; quota freed), from
 * the user's expiry index: at most `limit` entries, each re-checked against its record (a value written since is
 * not deleted). KEYS meta data keys log snapshots expiry; ARGV now (ms) limit. Returns head, the user's earliest
 * expiry left (0 for none), then key, rev per deletion. A deleted user has no index: nothing happens.
 */
const SWEEP = `#!lua
${HELPERS}${SNAPSHOT_HELPERS}
local now = tonumber(ARGV[1])
local due = redis.call('ZRANGE', KEYS[6], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[2]))
local meta = redis.call('HMGET', KEYS[1], 'h', 'n', 'b')
if not meta[1] then
  redis.call('UNLINK', KEYS[6])
  return {0, 0}
end
local head, keys, bytes = tonumber(meta[1]), tonumber(meta[2]) or 0, tonumber(meta[3]) or 0
local open = openSnapshots(KEYS[5])
local out = {0, 0}
for _, key in ipairs(due) do
  local _, value, expiresAt = parse(redis.call('HGET', KEYS[2], key))
  redis.call('ZREM', KEYS[6], key)
  if value and expiresAt and expiresAt <= now then
    head = head + 1
    preserve(open, KEYS[2], key)
    redis.call('HSET', KEYS[2], key, int(head))
    redis.call('ZADD', KEYS[4], int(head), 'k' .. key)
    keys, bytes = keys - 1, bytes - #value
    out[#out + 1] = key
    out[#out + 1] = head
  end
end
if #out > 2 then redis.call('HSET', KEYS[1], 'h', int(head), 'n', int(keys), 'b', int(bytes)) end
out[1], out[2] = head, earliest(KEYS[6])
return out
`

/**
 * Claims a due user for a sweep: if the member (the user's "u" entry, or the "l" lease of a sweep that never
 * finished) still has the score read, it goes and the lease "l<user>" takes its place until the lease's end. Two
 * nodes that read the same entry: one claims it. KEYS due; ARGV member score user lease end (ms). Returns 1 if claimed.
 */
const DUE_CLAIM = `#!lua
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[4], 'l' .. ARGV[3])
return 1
`

/**
 * Ends a sweep of a user: the lease goes, and the user's earliest expiry left (if any) comes back as its "u" entry,
 * unless a commit put a lower one there. KEYS due; ARGV user earliest (0 for none).
 */
const DUE_RELEASE = `#!lua
redis.call('ZREM', KEYS[1], 'l' .. ARGV[1])
if tonumber(ARGV[2]) > 0 then redis.call('ZADD', KEYS[1], 'LT', ARGV[2], 'u' .. ARGV[1]) end
return 1
`

/** Most key-index entries one read script (list, snapshot page) scans; a read that needs more runs several. @internal */
export const SCAN_STEP = 1000

type Arg = string | number
type Script = (...args: Arg[]) => Promise<unknown>

/** The scripts as commands of a client (see {@link defineScripts}). @internal */
export interface CubbyScripts {
  cubbyCommit: Script
  cubbyList: Script
  cubbyChanges: Script
  cubbySnapshot: Script
  cubbySnapshotNext: Script
  cubbySnapshotClose: Script
  cubbyDeleteUser: Script
  cubbyImportHeader: Script
  cubbyImportRecords: Script
  cubbyImportFinish: Script
  cubbySweep: Script
  cubbyDueClaim: Script
  cubbyDueRelease: Script
}

const SCRIPTS: Record<keyof CubbyScripts, { lua: string; numberOfKeys: number; readOnly?: boolean }> = {
  cubbyCommit: { lua: COMMIT, numberOfKeys: 8 },
  cubbyList: { lua: LIST, numberOfKeys: 2, readOnly: true },
  cubbyChanges: { lua: CHANGES, numberOfKeys: 4, readOnly: true },
  cubbySnapshot: { lua: SNAPSHOT, numberOfKeys: 4 },
  cubbySnapshotNext: { lua: SNAPSHOT_NEXT, numberOfKeys: 7 },
  cubbySnapshotClose: { lua: SNAPSHOT_CLOSE, numberOfKeys: 3 },
  cubbyDeleteUser: { lua: DELETE_USER, numberOfKeys: 8 },
  cubbyImportHeader: { lua: IMPORT_HEADER, numberOfKeys: 2 },
  cubbyImportRecords: { lua: IMPORT_RECORDS, numberOfKeys: 7 },
  cubbyImportFinish: { lua: IMPORT_FINISH, numberOfKeys: 2 },
  cubbySweep: { lua: SWEEP, numberOfKeys: 6 },
  cubbyDueClaim: { lua: DUE_CLAIM, numberOfKeys: 1 },
  cubbyDueRelease: { lua: DUE_RELEASE, numberOfKeys: 1 },
}

/**
 * Defines Cubby's Lua scripts as commands of the client (EVALSHA, loaded on first use by ioredis); defining them
 * again on the same client is harmless. @internal
 */
export function defineScripts(redis: Redis | Cluster): CubbyScripts {
  for (const [name, definition] of Object.entries(SCRIPTS)) {
    if (!(name in redis)) redis.defineCommand(name, definition)
  }
  return redis as unknown as CubbyScripts
}
