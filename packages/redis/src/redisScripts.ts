import type { Cluster, Redis } from 'ioredis'

// Every script starts with a shebang (Redis 7): a script that may write is then refused whole when Redis is out
// of memory instead of failing half-way, and no script may touch keys of another slot; reads say no-writes.
// Lua helpers shared by the scripts. Revs and mids are integers below 2^53, exact in Lua's doubles; '%d' keeps
// them out of exponent notation. A record is "<rev>:<value>" (live) or "<rev>" (tombstone).
const HELPERS = `
local function int(n) return string.format('%d', n) end
local function parse(rec)
  if not rec then return nil end
  local sep = string.find(rec, ':', 1, true)
  if sep then return tonumber(string.sub(rec, 1, sep - 1)), string.sub(rec, sep + 1) end
  return tonumber(rec), nil
end
`

// Copy-on-write for open snapshots (see redisSnapshot.ts). A snapshot <base>:s:<id> is a hash (h head, r clear
// rev, c 1 once frozen) listed in the user's registry <base>:n; <id>:d holds each key's record as it was at the
// snapshot ('' for none), saved before the key's first change since; a clear or deletion moves the records and the
// key index to <id>:f and <id>:k (a RENAME, O(1), for the first open snapshot; a COPY for more).
const SNAPSHOT_HELPERS = `
local function openSnapshots(registry)
  local open = {}
  if redis.call('EXISTS', registry) == 0 then return open end
  local base = string.sub(registry, 1, -3) .. ':s:'
  for _, id in ipairs(redis.call('SMEMBERS', registry)) do
    local s = base .. id
    local ttl = redis.call('PTTL', s)
    if ttl <= 0 then redis.call('SREM', registry, id)
    elseif redis.call('HGET', s, 'c') ~= '1' then open[#open + 1] = { s, ttl } end
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
  for i, s in ipairs(open) do
    local from = { data, keys }
    if i > 1 then from = { open[1][1] .. ':f', open[1][1] .. ':k' } end
    for j, to in ipairs({ s[1] .. ':f', s[1] .. ':k' }) do
      if redis.call('EXISTS', from[j]) == 1 then
        if i == 1 then redis.call('RENAME', from[j], to) else redis.call('COPY', from[j], to, 'REPLACE') end
        redis.call('PEXPIRE', to, s[2])
      end
    end
    redis.call('HSET', s[1], 'c', '1')
  end
end
`

/**
 * One user's commit: exactly-once check, quota, revs, records, key index, log and meta, all or nothing.
 * KEYS meta data keys log clients snapshots; ARGV maxKeys maxBytes overhead clientId ('' for none), then op mid key value
 * per mutation (op s|d|c). Returns head, then two numbers per mutation: kind (1 applied, 2 repeated mid,
 * 3 over the key quota, 4 over the byte quota) and rev.
 */
const COMMIT = `#!lua
${HELPERS}${SNAPSHOT_HELPERS}
local open = openSnapshots(KEYS[6])
local maxKeys, maxBytes, overhead, clientId = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local meta = redis.call('HMGET', KEYS[1], 'h', 'r', 'n', 'b')
local head, clearRev = tonumber(meta[1]) or 0, tonumber(meta[2]) or 0
local keys, bytes = tonumber(meta[3]) or 0, tonumber(meta[4]) or 0
local lastMid, lastRev, applied = 0, 0, false
if clientId ~= '' then
  local seen = redis.call('HGET', KEYS[5], clientId)
  if seen then
    local sp = string.find(seen, ' ', 1, true)
    lastMid, lastRev = tonumber(string.sub(seen, 1, sp - 1)), tonumber(string.sub(seen, sp + 1))
  end
end
local out = {0}
for i = 5, #ARGV, 4 do
  local op, mid, key, value = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3]
  local kind = 1
  if clientId ~= '' and mid <= lastMid then
    kind = 2
  elseif op == 'c' then
    head = head + 1
    freeze(open, KEYS[2], KEYS[3])
    open = {}
    redis.call('UNLINK', KEYS[2], KEYS[3], KEYS[4])
    redis.call('ZADD', KEYS[4], int(head), 'c')
    clearRev, keys, bytes = head, 0, 0
  else
    local raw = redis.call('HGET', KEYS[2], key)
    local _, oldValue = parse(raw)
    local old = raw ~= false
    local deltaKeys = (op == 's' and 1 or 0) - (oldValue and 1 or 0)
    local deltaBytes = (op == 's' and #value or 0) - (oldValue and #oldValue or 0)
    if not old then deltaBytes = deltaBytes + #key + overhead end
    if deltaKeys > 0 and keys + deltaKeys > maxKeys then kind = 3
    elseif deltaBytes > 0 and bytes + deltaBytes > maxBytes then kind = 4
    else
      head = head + 1
      preserve(open, KEYS[2], key)
      redis.call('HSET', KEYS[2], key, op == 's' and (int(head) .. ':' .. value) or int(head))
      redis.call('ZADD', KEYS[3], 0, key)
      redis.call('ZADD', KEYS[4], int(head), 'k' .. key)
      keys, bytes = keys + deltaKeys, bytes + deltaBytes
    end
  end
  if kind == 1 then
    applied = true
    if clientId ~= '' then lastMid, lastRev = mid, head end
    out[#out + 1] = 1
    out[#out + 1] = head
  elseif kind == 2 then
    out[#out + 1] = 2
    out[#out + 1] = lastRev
  else
    out[#out + 1] = kind
    out[#out + 1] = 0
  end
end
if applied then
  redis.call('HSET', KEYS[1], 'h', int(head), 'r', int(clearRev), 'n', int(keys), 'b', int(bytes))
  if clientId ~= '' then redis.call('HSET', KEYS[5], clientId, int(lastMid) .. ' ' .. int(lastRev)) end
end
out[1] = head
return out
`

/**
 * Live entries in key order. KEYS data keys; ARGV lower bound kind ('>' or '>='), bound, prefix, limit.
 * Returns key, rev, value per entry.
 */
const LIST = `#!lua flags=no-writes
${HELPERS}
local lower = ARGV[1] == '>' and ('(' .. ARGV[2]) or (ARGV[2] == '' and '-' or ('[' .. ARGV[2]))
-- Valid UTF-8 never holds the byte 0xFF, so every key that starts with the prefix sorts below prefix..0xFF.
local upper = ARGV[3] == '' and '+' or ('(' .. ARGV[3] .. '\\255')
local limit, out, found = tonumber(ARGV[4]), {}, 0
while found < limit do
  local page = redis.call('ZRANGE', KEYS[2], lower, upper, 'BYLEX', 'LIMIT', 0, math.min(math.max(limit - found, 16), 512))
  if #page == 0 then break end
  local recs = redis.call('HMGET', KEYS[1], unpack(page))
  for i, key in ipairs(page) do
    local rev, value = parse(recs[i])
    if value then
      out[#out + 1] = key
      out[#out + 1] = rev
      out[#out + 1] = value
      found = found + 1
      if found == limit then break end
    end
  end
  lower = '(' .. page[#page]
end
return out
`

/**
 * The compacted log after a rev. KEYS meta data log; ARGV rev limit. Returns the covered rev, then kind
 * ('c' clear, 'v' value, 'd' deleted), rev, key, value per change.
 */
const CHANGES = `#!lua flags=no-writes
${HELPERS}
local head = tonumber(redis.call('HGET', KEYS[1], 'h')) or 0
local rev, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
if rev >= head then return {head} end
if limit <= 0 then return {rev} end
local log = redis.call('ZRANGE', KEYS[3], '(' .. ARGV[1], '+inf', 'BYSCORE', 'LIMIT', 0, limit, 'WITHSCORES')
local out = {head}
for i = 1, #log, 2 do
  local member, logRev = log[i], log[i + 1]
  if member == 'c' then
    out[#out + 1] = 'c'; out[#out + 1] = logRev; out[#out + 1] = ''; out[#out + 1] = ''
  else
    local key = string.sub(member, 2)
    local _, value = parse(redis.call('HGET', KEYS[2], key))
    out[#out + 1] = value and 'v' or 'd'; out[#out + 1] = logRev; out[#out + 1] = key; out[#out + 1] = value or ''
  end
end
if #log / 2 == limit then out[1] = tonumber(log[#log]) end
return out
`

/**
 * Opens a snapshot in O(1): records the head and clear rev, and registers it for copy-on-write. KEYS meta snapshot
 * registry; ARGV ttl (ms) id. Returns exists (0/1), head, clear rev.
 */
const SNAPSHOT = `#!lua
local meta = redis.call('HMGET', KEYS[1], 'h', 'r')
if not meta[1] then return {0, 0, 0} end
redis.call('HSET', KEYS[2], 'h', meta[1], 'r', meta[2], 'c', '0')
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[1])
return {1, tonumber(meta[1]), tonumber(meta[2])}
`

/**
 * The next page of a snapshot: the live key index (or the frozen one after a clear), each key's saved record
 * where it changed since. KEYS snapshot saved frozenData frozenKeys data keys registry; ARGV after ('' from the
 * start) limit ttl. Returns key, rev, value-or-false per record; an error once the snapshot expired.
 */
const SNAPSHOT_NEXT = `#!lua
${HELPERS}
if redis.call('EXISTS', KEYS[1]) == 0 then return redis.error_reply('SNAPSHOT_EXPIRED the snapshot expired or was closed') end
for _, k in ipairs({ KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[7] }) do redis.call('PEXPIRE', k, ARGV[3]) end
local frozen = redis.call('HGET', KEYS[1], 'c') == '1'
local index, records = KEYS[6], KEYS[5]
if frozen then index, records = KEYS[4], KEYS[3] end
local lower = ARGV[1] == '' and '-' or ('(' .. ARGV[1])
local limit, out, found = tonumber(ARGV[2]), {}, 0
while found < limit do
  local page = redis.call('ZRANGE', index, lower, '+', 'BYLEX', 'LIMIT', 0, math.min(math.max(limit - found, 16), 512))
  if #page == 0 then break end
  local saved = redis.call('HMGET', KEYS[2], unpack(page))
  local current = redis.call('HMGET', records, unpack(page))
  for i, key in ipairs(page) do
    local raw = saved[i]
    if not raw then raw = current[i] end
    if raw and raw ~= '' then
      local rev, value = parse(raw)
      out[#out + 1] = key; out[#out + 1] = rev; out[#out + 1] = value or false
      found = found + 1
      if found == limit then break end
    end
  end
  lower = '(' .. page[#page]
end
return out
`

/** Deletes a user and marks the time. KEYS meta data keys log clients deleted snapshots; ARGV seconds. Returns 1 if the user had data. */
const DELETE_USER = `#!lua
${HELPERS}${SNAPSHOT_HELPERS}
freeze(openSnapshots(KEYS[7]), KEYS[2], KEYS[3])
local had = redis.call('EXISTS', KEYS[1])
redis.call('UNLINK', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
redis.call('SET', KEYS[6], ARGV[1])
return had
`

/** An import's header: reserves revs up to head. KEYS meta log deleted; ARGV head clearRev. Returns 0 if the user has data. */
const IMPORT_HEADER = `#!lua
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'h', ARGV[1], 'r', ARGV[2], 'n', '0', 'b', '0')
redis.call('DEL', KEYS[3])
if tonumber(ARGV[2]) > 0 then redis.call('ZADD', KEYS[2], ARGV[2], 'c') end
return 1
`

/**
 * A step of an import: writes records unless a newer one is there. KEYS meta data keys log snapshots; ARGV head overhead,
 * then key rev kind (v|d) value per record.
 */
const IMPORT_RECORDS = `#!lua
${HELPERS}${SNAPSHOT_HELPERS}
local open = openSnapshots(KEYS[5])
local meta = redis.call('HMGET', KEYS[1], 'h', 'r', 'n', 'b')
local head, keys, bytes, overhead = math.max(tonumber(meta[1]) or 0, tonumber(ARGV[1])), tonumber(meta[3]) or 0, tonumber(meta[4]) or 0, tonumber(ARGV[2])
for i = 3, #ARGV, 4 do
  local key, rev, live, value = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2] == 'v', ARGV[i + 3]
  local raw = redis.call('HGET', KEYS[2], key)
  local oldRev, oldValue = parse(raw)
  if not raw or oldRev < rev then
    if raw then
      bytes = bytes - #key - overhead - (oldValue and #oldValue or 0)
      if oldValue then keys = keys - 1 end
    end
    preserve(open, KEYS[2], key)
    redis.call('HSET', KEYS[2], key, live and (int(rev) .. ':' .. value) or int(rev))
    redis.call('ZADD', KEYS[3], 0, key)
    redis.call('ZADD', KEYS[4], int(rev), 'k' .. key)
    bytes = bytes + #key + overhead + (live and #value or 0)
    if live then keys = keys + 1 end
  end
end
redis.call('HSET', KEYS[1], 'h', int(head), 'r', meta[2] or '0', 'n', int(keys), 'b', int(bytes))
return head
`

type Arg = string | number
type Script = (...args: Arg[]) => Promise<unknown>

/** The scripts as commands of a client (see {@link defineScripts}). @internal */
export interface CubbyScripts {
  cubbyCommit: Script
  cubbyList: Script
  cubbyChanges: Script
  cubbySnapshot: Script
  cubbySnapshotNext: Script
  cubbyDeleteUser: Script
  cubbyImportHeader: Script
  cubbyImportRecords: Script
}

const SCRIPTS: Record<keyof CubbyScripts, { lua: string; numberOfKeys: number; readOnly?: boolean }> = {
  cubbyCommit: { lua: COMMIT, numberOfKeys: 6 },
  cubbyList: { lua: LIST, numberOfKeys: 2, readOnly: true },
  cubbyChanges: { lua: CHANGES, numberOfKeys: 3, readOnly: true },
  cubbySnapshot: { lua: SNAPSHOT, numberOfKeys: 3 },
  cubbySnapshotNext: { lua: SNAPSHOT_NEXT, numberOfKeys: 7 },
  cubbyDeleteUser: { lua: DELETE_USER, numberOfKeys: 7 },
  cubbyImportHeader: { lua: IMPORT_HEADER, numberOfKeys: 3 },
  cubbyImportRecords: { lua: IMPORT_RECORDS, numberOfKeys: 5 },
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
