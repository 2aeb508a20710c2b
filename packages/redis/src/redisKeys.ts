/**
 * Where a user's data lives in Redis. Every key of a user carries the Cluster hash tag `{<hex of the user id's
 * UTF-8 bytes>}`: hex has no `{` or `}`, so no user id can leave its tag or share another user's, and one user's
 * keys all sit in one slot, where one script can change them together.
 *
 * ```
 * <prefix>{<tag>}:m        hash    h head, r clear rev, n live keys, b bytes (exists while the user has data)
 * <prefix>{<tag>}:d        hash    key → "<rev>:<value>" (live) or "<rev>" (tombstone)
 * <prefix>{<tag>}:k        zset    every key with a record, score 0, for lexicographic (UTF-8 byte) order
 * <prefix>{<tag>}:l        zset    the compacted change log: member "k<key>" or "c" (the last clear), score its rev
 * <prefix>{<tag>}:c        hash    clientId → "<last applied mid> <its rev>" (exactly-once)
 * <prefix>{<tag>}:x        string  when the user was last deleted, seconds since the epoch
 * <prefix>{<tag>}:s:<id>…          a snapshot's private copy of :d and :k, with a time to live
 * ```
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
}

/** The hash tag of a user: `{` + hex of the UTF-8 bytes + `}`. @internal */
export const userTag = (userId: string): string => `{${Buffer.from(userId, 'utf8').toString('hex')}}`

/** The keys of one user's data under `prefix`. @internal */
export function userKeys(prefix: string, userId: string): UserKeys {
  const base = prefix + userTag(userId)
  return { meta: `${base}:m`, data: `${base}:d`, keys: `${base}:k`, log: `${base}:l`, clients: `${base}:c`, deleted: `${base}:x` }
}

/** The keys of one snapshot of a user: a marker and copies of the records and the key index. @internal */
export function snapshotKeys(prefix: string, userId: string, id: string): { marker: string; data: string; keys: string } {
  const base = `${prefix}${userTag(userId)}:s:${id}`
  return { marker: base, data: `${base}:d`, keys: `${base}:k` }
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
