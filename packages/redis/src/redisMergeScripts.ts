import type { Cluster, Redis } from 'ioredis'
import { HELPERS, SNAPSHOT_HELPERS } from './redisScripts.js'

// The account merge runs in two slots on a Cluster (each user has their own hash tag), so it is a two-phase
// scheme of single-slot scripts (see redisMerge.ts): DETACH on the anonymous user's slot, APPLY on the account's,
// then DROP (or RESTORE after a refusal) on the anonymous user's again.

/**
 * Moves the anonymous user's keys aside (RENAME, O(1)) under their staging keys, with what is needed to finish or
 * undo the merge, and marks the user deleted: from here on the user is deleted for every reader and writer, and
 * the staged records cannot change. KEYS meta data keys log clients deleted snapshots, then staged meta data keys
 * log clients, then expiry and staged expiry (the user's expiry index goes aside too); ARGV ms authorizedAt ('' for none) into prefer id. A merge already staged is not staged again:
 * returns {1, into, prefer, id} of it; {-1} when the user was deleted at or after authorizedAt; else {0, into, prefer, id}.
 */
const MERGE_DETACH = `#!lua
${HELPERS}${SNAPSHOT_HELPERS}
if redis.call('EXISTS', KEYS[8]) == 1 then
  local staged = redis.call('HMGET', KEYS[8], 'into', 'prefer', 'id')
  return {1, staged[1], staged[2], staged[3]}
end
local deletedMs, deletedHead = deletion(KEYS[6])
if ARGV[2] ~= '' and deletedMs > 0 and deletedMs >= tonumber(ARGV[2]) then return {-1} end
local meta = redis.call('HMGET', KEYS[1], 'h', 'r', 'n', 'b')
local head = math.max(tonumber(meta[1]) or 0, deletedHead)
local open = openSnapshots(KEYS[7])
if #open > 0 then
  -- Open snapshots (a catch-up under way) keep reading the records: they get the frozen copy, the merge a COPY of it.
  freeze(open, KEYS[2], KEYS[3])
  for j, suffix in ipairs({ ':f', ':k' }) do
    if redis.call('EXISTS', open[1][1] .. suffix) == 1 then redis.call('COPY', open[1][1] .. suffix, KEYS[8 + j]) end
  end
else
  for j = 2, 3 do if redis.call('EXISTS', KEYS[j]) == 1 then redis.call('RENAME', KEYS[j], KEYS[j + 7]) end end
end
for j = 4, 5 do if redis.call('EXISTS', KEYS[j]) == 1 then redis.call('RENAME', KEYS[j], KEYS[j + 7]) end end
if redis.call('EXISTS', KEYS[13]) == 1 then redis.call('RENAME', KEYS[13], KEYS[14]) end
redis.call('UNLINK', KEYS[1])
redis.call('HSET', KEYS[8], 'into', ARGV[3], 'prefer', ARGV[4], 'id', ARGV[5], 'h', int(head), 'r', meta[2] or int(head),
  'n', meta[3] or '0', 'b', meta[4] or '0', 'had', meta[1] and '1' or '0', 'x', redis.call('GET', KEYS[6]) or '')
redis.call('SET', KEYS[6], ARGV[1] .. ' ' .. int(head))
return {0, ARGV[3], ARGV[4], ARGV[5]}
`

/**
 * Writes the staged records into the account, all or nothing: quota checked on the result first, one rev per key
 * written (in ARGV order), exactly-once records moved (a higher mid wins) with the new head as their rev, and the
 * merge's id recorded in the account's journal so that a resumed merge does not apply twice. KEYS meta data keys log
 * clients snapshots deleted journal expiry; ARGV maxKeys maxBytes overhead prefer authorizedAt now (seconds) from id
 * count now (ms), then key value expiresAt ('' for never) per record (count of them), then clientId mid per
 * exactly-once record. A value of the account expired by now is absent (no conflict). Returns {-2, head} when this merge was
 * applied before, {-1} when the account was deleted at or after authorizedAt, {-3} over the key quota, {-4} over the
 * byte quota; else {head, clients moved, head before, the account's earliest expiry (0 for none), kind per record: 1
 * written, 2 conflict kept, 3 conflict taken}.
 */
const MERGE_APPLY = `#!lua
${HELPERS}${SNAPSHOT_HELPERS}
if redis.call('HGET', KEYS[8], ARGV[7]) == ARGV[8] then return {-2, tonumber(redis.call('HGET', KEYS[1], 'h')) or 0} end
local deletedMs, deletedHead = deletion(KEYS[7])
if ARGV[5] ~= '' and deletedMs > 0 and deletedMs >= tonumber(ARGV[5]) then return {-1} end
local maxKeys, maxBytes, overhead, prefer = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local meta = redis.call('HMGET', KEYS[1], 'h', 'r', 'n', 'b')
local head, clearRev = tonumber(meta[1]), tonumber(meta[2]) or 0
local keys, bytes = tonumber(meta[3]) or 0, tonumber(meta[4]) or 0
local fresh = not head
if fresh then head, clearRev = deletedHead, deletedHead end
local count, nowMs = tonumber(ARGV[9]), tonumber(ARGV[10])
local kinds, newKeys, newBytes = {}, keys, bytes
for i = 0, count - 1 do
  local key, value = ARGV[11 + 3 * i], ARGV[12 + 3 * i]
  local raw = redis.call('HGET', KEYS[2], key)
  local _, oldValue = parse(raw)
  local _, liveValue = live(raw, nowMs)
  local kind = 1
  if liveValue then kind = prefer == 'anonymous' and 3 or 2 end
  kinds[i + 1] = kind
  if kind ~= 2 then
    newKeys = newKeys + 1 - (oldValue and 1 or 0)
    newBytes = newBytes + #value - (oldValue and #oldValue or 0) + (raw and 0 or (#key + overhead))
  end
end
if newKeys > maxKeys and newKeys > keys then return {-3} end
if newBytes > maxBytes and newBytes > bytes then return {-4} end
if fresh and head > 0 then redis.call('ZADD', KEYS[4], int(head), 'c') end
local open = openSnapshots(KEYS[6])
local out = {0, 0, head, 0}
for i = 0, count - 1 do
  local key, value, expiresAt = ARGV[11 + 3 * i], ARGV[12 + 3 * i], ARGV[13 + 3 * i]
  if kinds[i + 1] ~= 2 then
    head = head + 1
    preserve(open, KEYS[2], key)
    redis.call('HSET', KEYS[2], key, record(head, value, expiresAt))
    redis.call('ZADD', KEYS[3], 0, key)
    redis.call('ZADD', KEYS[4], int(head), 'k' .. key)
    -- The account's old value takes its expiry with it; the carried value keeps its own.
    if expiresAt ~= '' then redis.call('ZADD', KEYS[9], expiresAt, key) else redis.call('ZREM', KEYS[9], key) end
  end
  out[#out + 1] = kinds[i + 1]
end
local moved = 0
for j = 11 + 3 * count, #ARGV, 2 do
  local seen = redis.call('HGET', KEYS[5], ARGV[j])
  local seenMid = seen and tonumber(string.sub(seen, 1, string.find(seen, ' ', 1, true) - 1)) or 0
  if tonumber(ARGV[j + 1]) > seenMid then
    redis.call('HSET', KEYS[5], ARGV[j], ARGV[j + 1] .. ' ' .. int(head))
    moved = moved + 1
  end
end
redis.call('HSET', KEYS[1], 'h', int(head), 'r', int(clearRev), 'n', int(newKeys), 'b', int(newBytes), 'u', ARGV[6])
redis.call('HSET', KEYS[8], ARGV[7], ARGV[8])
out[1], out[2], out[4] = head, moved, earliest(KEYS[9])
return out
`

/**
 * Undoes a DETACH whose APPLY was refused: the staged keys go back and the earlier deletion marker (or none) with
 * them. KEYS as MERGE_DETACH; ARGV id now (seconds). Returns 1 when restored, 0 when nothing of this merge is staged,
 * -1 when the user wrote again since the DETACH (the staged records then stay for a retry of the merge to finish).
 */
const MERGE_RESTORE = `#!lua
local staged = redis.call('HMGET', KEYS[8], 'id', 'h', 'r', 'n', 'b', 'had', 'x')
if staged[1] ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
for j = 2, 5 do if redis.call('EXISTS', KEYS[j + 7]) == 1 then redis.call('RENAME', KEYS[j + 7], KEYS[j]) end end
if redis.call('EXISTS', KEYS[14]) == 1 then redis.call('RENAME', KEYS[14], KEYS[13]) end
if staged[6] == '1' then redis.call('HSET', KEYS[1], 'h', staged[2], 'r', staged[3], 'n', staged[4], 'b', staged[5], 'u', ARGV[2]) end
if staged[7] == '' then redis.call('DEL', KEYS[6]) else redis.call('SET', KEYS[6], staged[7]) end
redis.call('UNLINK', KEYS[8])
return 1
`

/** Drops what a finished merge staged. KEYS staged meta data keys log clients expiry; ARGV id. Returns 1 if it was there. */
const MERGE_DROP = `#!lua
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return 0 end
redis.call('UNLINK', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6])
return 1
`

type Script = (...args: Array<string | number>) => Promise<unknown>

/** The merge scripts as commands of a client. @internal */
export interface MergeScripts {
  cubbyMergeDetach: Script
  cubbyMergeApply: Script
  cubbyMergeRestore: Script
  cubbyMergeDrop: Script
}

const SCRIPTS: Record<keyof MergeScripts, { lua: string; numberOfKeys: number }> = {
  cubbyMergeDetach: { lua: MERGE_DETACH, numberOfKeys: 14 },
  cubbyMergeApply: { lua: MERGE_APPLY, numberOfKeys: 9 },
  cubbyMergeRestore: { lua: MERGE_RESTORE, numberOfKeys: 14 },
  cubbyMergeDrop: { lua: MERGE_DROP, numberOfKeys: 6 },
}

/** Defines the merge scripts on the client (harmless when done again). @internal */
export function defineMergeScripts(redis: Redis | Cluster): MergeScripts {
  for (const [name, definition] of Object.entries(SCRIPTS)) {
    if (!(name in redis)) redis.defineCommand(name, definition)
  }
  return redis as unknown as MergeScripts
}
