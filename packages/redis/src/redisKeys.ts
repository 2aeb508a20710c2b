/**
 * Where a user's data lives in Redis. Every key of a user carries the Cluster hash tag `{<hex of the user id's
 * UTF-8 bytes>}`: hex has no `{` or `}`, so no user id can leave its tag or share another user's, and one user's
 * keys all sit in one slot, where one script can change them together.
 *
 * ```
 * <prefix>{<tag>}:m        hash    h head, r clear rev, n live keys, b bytes, u last write (seconds), i 1 while an
 *                                  import runs (exists while the user has data, also after a clear)
 * <prefix>{<tag>}:d        hash    key → "<rev>:<value>" (live) or "<rev>" (tombstone)
 * <prefix>{<tag>}:k        zset    every key with a record, score 0, for lexicographic (UTF-8 byte) order
 * <prefix>{<tag>}:l        zset    the compacted change log: member "k<key>" or "c" (the last clear), score its rev
 * <prefix>{<tag>}:c        hash    clientId → "<last applied mid> <its rev>" (exactly-once)
 * <prefix>{<tag>}:x        string  "<ms> <head>": when the user was last deleted (ms since the epoch) and their head
 *                                  then; later writes continue from that head, and a write authorised at or before
 *                                  that time is refused
 * <prefix>{<tag>}:n        set     ids of the user's open snapshots
 * <prefix>{<tag>}:e        zset    the user's expiry index: each key whose value expires, score its expiresAt (ms)
 * <prefix>{due-<b>}:e      zset    due users of bucket b (of DUE_BUCKETS, by a hash of the user id): member
 *                                  "u<user id>" with score at or below the user's earliest expiry, or "l<user id>"
 *                                  while a sweep of that user runs (score: when the sweep's lease ends)
 * <prefix>{<tag>}:s:<id>   hash    a snapshot: h head, r clear rev, c 1 once a clear or deletion froze it, g the
 *                                  id of the snapshot whose frozen copy (:f, :k) it reads
 * <prefix>{<tag>}:s:<id>:d hash    records as they were at the snapshot, saved before their first change since
 * <prefix>{<tag>}:s:<id>:f, :k     the records and key index a clear or deletion moved aside (RENAME) for every
 *                                  snapshot open then; removed when the last of them closes or expires
 * ```
 * A live record that expires is "<rev>;<expiresAt>:<value>".
 * A snapshot's keys expire (see `SNAPSHOT_TTL_MS`) unless read.
 * @module
 */

/** The keys of one user's data. @internal */
export interface UserKeys {
  meta: string
  data: string
  keys: string
  log: string
  clients: string
  deleted: string
  snapshots: string
  expiry: string
}

/** A deletion marker's time (ms) and head, or `undefined` for none. @internal */
export function parseDeletion(raw: string | null): { ms: number; head: number } | undefined {
  if (raw === null) return undefined
  const [ms, head] = raw.split(' ')
  return { ms: Number(ms), head: Number(head ?? 0) }
}

/** The hash tag of a user: `{` + hex of the UTF-8 bytes + `}`. @internal */
export const userTag = (userId: string): string => `{${Buffer.from(userId, 'utf8').toString('hex')}}`

/** The keys of one user's data under `prefix`. @internal */
export function userKeys(prefix: string, userId: string): UserKeys {
  const base = prefix + userTag(userId)
  return { meta: `${base}:m`, data: `${base}:d`, keys: `${base}:k`, log: `${base}:l`, clients: `${base}:c`, deleted: `${base}:x`, snapshots: `${base}:n`, expiry: `${base}:e` }
}

/** The keys of one snapshot of a user (see the layout above). @internal */
export function snapshotKeys(prefix: string, userId: string, id: string): { marker: string; saved: string; frozenData: string; frozenKeys: string } {
  const base = `${prefix}${userTag(userId)}:s:${id}`
  return { marker: base, saved: `${base}:d`, frozenData: `${base}:f`, frozenKeys: `${base}:k` }
}

/** The SCAN pattern of every user's meta key under `prefix` (glob characters of the prefix escaped). @internal */
export const metaPattern = (prefix: string): string => `${prefix.replace(/[*?[\]\\]/g, '\\$&')}{*}:m`

/** The user id of a meta key under `prefix`, or `undefined` for a key of another shape. @internal */
export function userOfMetaKey(prefix: string, key: string): string | undefined {
  const hex = /^\{([0-9a-f]+)\}:m$/.exec(key.slice(prefix.length))?.[1]
  return key.startsWith(prefix) && hex !== undefined && hex.length % 2 === 0 ? Buffer.from(hex, 'hex').toString('utf8') : undefined
}

/** @throws TypeError for a prefix that would change the hash tag (`{`, `}`). @internal */
export function checkPrefix(prefix: string): void {
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) throw new TypeError('prefix must be a string without { or }')
}

/** The keys of a user's account merge: staged (as the anonymous side) and the journal (as the account). @internal */
export interface MergeKeys {
  /** Staged meta: into, prefer, id, the user's meta fields, `had` (1 if they had a meta), `x` (the earlier deletion marker). */
  stagedMeta: string
  stagedData: string
  stagedKeys: string
  stagedLog: string
  stagedClients: string
  stagedExpiry: string
  /** As an account: anonymous user id → id of the merge of theirs applied here. */
  journal: string
}

/** The merge keys of one user under `prefix` (in the user's slot). @internal */
export function mergeKeys(prefix: string, userId: string): MergeKeys {
  const base = prefix + userTag(userId)
  return { stagedMeta: `${base}:gm`, stagedData: `${base}:gd`, stagedKeys: `${base}:gk`, stagedLog: `${base}:gl`, stagedClients: `${base}:gc`, stagedExpiry: `${base}:ge`, journal: `${base}:j` }
}

/** The set of anonymous users with a merge staged and not yet finished, for `open()` to finish after a crash. @internal */
export const pendingMergesKey = (prefix: string): string => `${prefix}merges`

/**
 * Buckets of due users. Each is one key in its own slot, so that on a Cluster the commits of users with expiring
 * values spread over up to this many shards; the sweeper reads the head of each (a constant number of commands).
 * @internal
 */
export const DUE_BUCKETS = 8

/** The due-users key of bucket `bucket`. @internal */
export const dueKey = (prefix: string, bucket: number): string => `${prefix}{due-${bucket}}:e`

/** The due-users key of a user's bucket (FNV-1a of the user id's UTF-8 bytes). @internal */
export function dueKeyOf(prefix: string, userId: string): string {
  let hash = 0x811c9dc5
  for (const byte of Buffer.from(userId, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0
  return dueKey(prefix, hash % DUE_BUCKETS)
}

/** A record as stored in a user's data hash: rev, and for a value, the value and when it expires. @internal */
export interface RedisRecord {
  rev: number
  value?: string
  expiresAt?: number
}

/** Parses a record ("<rev>", "<rev>:<value>" or "<rev>;<expiresAt>:<value>"); `undefined` for none. @internal */
export function parseRecord(raw: string | null | undefined): RedisRecord | undefined {
  if (raw === null || raw === undefined) return undefined
  const sep = raw.indexOf(':')
  if (sep < 0) return { rev: Number(raw) }
  const head = raw.slice(0, sep)
  const semi = head.indexOf(';')
  const value = raw.slice(sep + 1)
  return semi < 0 ? { rev: Number(head), value } : { rev: Number(head.slice(0, semi)), value, expiresAt: Number(head.slice(semi + 1)) }
}
