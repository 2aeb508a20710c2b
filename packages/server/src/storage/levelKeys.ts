/*
 * The LevelDB key layout. Every record sits under a one-letter tag and an unambiguous user prefix
 * `${userId.length}:${userId}\x00`: the length comes before the first `:`, so no other user id (whatever its
 * characters) yields a string that starts with this prefix.
 *
 * - `d` + user + key → the key's record: `${rev}\n${encoded}` for a value, `${rev};${expiresAt}\n${encoded}` for a value
 *   that expires (ms since the epoch), `${rev}` for a tombstone
 * - `e` + 16 hex digits of expiresAt + user + key → the expiry index: `${rev}` of the record that expires then. Ordered by
 *   time over all users, so the sweep reads only what is due (see ExpirySweeper); an entry whose record changed
 *   since is stale and dropped when its time comes
 * - `l` + user + 16 hex digits of rev → the change log: the key ('' for a clear, in databases written before
 *   clears were logical)
 * - `m` + user → the user's meta: `${head}\n${rev of the last clear}\n${live keys}\n${bytes}\n${last write}` (see
 *   UserQuota; the last write in seconds since the epoch, missing in metas written before it was kept).
 *   Every `d` and `l` record at or below the clear's rev is dead: readers skip it, a purge removes it.
 * - `c` + user + clientId → the last applied mid of a client: `${mid}\n${rev}`, then `\n` and the mids it had
 *   rejected with `CONFLICT` (the newest few, comma-separated) when there are any
 * - `x` + user → the user's deletion: `${seconds since the epoch}\n${head at the deletion}\n${milliseconds}`. Written in the one
 *   batch that removes the meta, kept after it (tokens issued until then are refused; a later write of the user
 *   continues from that head, with everything at or below it dead), removed only by a completed import
 * - `p` + user → a purge is pending: `${rev}`, every `d` and `l` record at or below it (and every `c` record at
 *   or below the deletion's head) is dead and still to be removed, in bounded steps; start-up resumes it
 * - `i` + user → an import of the user is under way (a crashed one may be retried: it resumes)
 */

/** The log value that marks a clear (keys are never empty). */
export const CLEAR_MARKER = ''

export const userPrefix = (userId: string): string => `${userId.length}:${userId}\x00`
const revToHex = (rev: number): string => rev.toString(16).padStart(16, '0')

/** Key of the current record of `key`. */
export const dataKey = (userId: string, key: string): string => `d${userPrefix(userId)}${key}`
/** Key of the log entry at `rev`. */
export const logKey = (userId: string, rev: number): string => `l${userPrefix(userId)}${revToHex(rev)}`
/** Key of the user's meta record. */
export const metaKey = (userId: string): string => `m${userPrefix(userId)}`
/** Key of a client's exactly-once record. */
export const clientKey = (userId: string, clientId: string): string => `c${userPrefix(userId)}${clientId}`

/** Key of the user's deletion marker. */
export const deletionKey = (userId: string): string => `x${userPrefix(userId)}`
/** Key of the user's pending purge. */
export const purgeKey = (userId: string): string => `p${userPrefix(userId)}`
/** Key of the user's import in progress. */
export const importingKey = (userId: string): string => `i${userPrefix(userId)}`

/** A parsed `x` record: when the user was deleted and their head then (0 for markers written before it was kept). */
export interface LevelDeletion {
  /** Seconds since the epoch, rounded down (what tokens' `iat` is compared with). */
  at: number
  head: number
  /** Milliseconds since the epoch (what a commit's `authorizedAt` is compared with). */
  ms: number
}

/** Formats a `x` record. */
export const formatDeletion = ({ at, head, ms }: LevelDeletion): string => `${at}\n${head}\n${ms}`

/** Parses a `x` record (or its absence). A marker without milliseconds counts as the end of its second. */
export function parseDeletion(raw: string | undefined): LevelDeletion | undefined {
  if (raw === undefined) return undefined
  const [at, head, ms] = raw.split('\n')
  return { at: Number(at), head: Number(head ?? 0), ms: ms === undefined ? Number(at) * 1000 + 999 : Number(ms) }
}

/** The user id of a {@link metaKey} (or of any key made of a one-letter tag and a user prefix, such as {@link purgeKey}). */
export function userOfMetaKey(k: string): string {
  const colon = k.indexOf(':')
  return k.slice(colon + 1, colon + 1 + Number(k.slice(1, colon)))
}

/** Length of the part before the key in a {@link dataKey}, to cut the key back out. */
export const dataKeyOffset = (userId: string): number => 1 + userPrefix(userId).length
/** Rev of a {@link logKey}. */
export const revOfLogKey = (k: string): number => Number.parseInt(k.slice(-16), 16)

/** Bounds of all records with one tag (`d`, `l` or `c`) of a user. */
export function userRange(tag: 'd' | 'l' | 'c', userId: string): { gte: string; lt: string } {
  const p = `${userId.length}:${userId}`
  return { gte: `${tag}${p}\x00`, lt: `${tag}${p}\x01` }
}

/**
 * The least string greater than every string that starts with `prefix`, in code-point order; `undefined` when
 * there is none (the prefix is all U+10FFFF).
 */
export function prefixEnd(prefix: string): string | undefined {
  const cps = Array.from(prefix)
  while (cps.length > 0) {
    const cp = cps.pop()!.codePointAt(0)!
    if (cp < 0x10ffff) {
      // Skip the surrogate range: those code points are not characters of a well-formed string.
      const next = cp + 1 === 0xd800 ? 0xe000 : cp + 1
      return cps.join('') + String.fromCodePoint(next)
    }
  }
  return undefined
}

/** A parsed `d` record. */
export interface LevelRecord {
  rev: number
  /** `undefined` for a tombstone. */
  value: string | undefined
  /** When the value expires (ms since the epoch); `undefined`: never. */
  expiresAt?: number | undefined
}

/** Formats a `d` record. */
export const formatRecord = (rev: number, value: string | undefined, expiresAt?: number): string =>
  value === undefined ? String(rev) : expiresAt === undefined ? `${rev}\n${value}` : `${rev};${expiresAt}\n${value}`

/** Parses a `d` record. */
export function parseRecord(raw: string): LevelRecord {
  const nl = raw.indexOf('\n')
  if (nl === -1) return { rev: Number(raw), value: undefined }
  const head = raw.slice(0, nl)
  const semi = head.indexOf(';')
  if (semi === -1) return { rev: Number(head), value: raw.slice(nl + 1) }
  return { rev: Number(head.slice(0, semi)), value: raw.slice(nl + 1), expiresAt: Number(head.slice(semi + 1)) }
}

/** Key of the expiry index entry of `key`, which expires at `expiresAt`. */
export const expiryKey = (expiresAt: number, userId: string, key: string): string =>
  `e${revToHex(expiresAt)}${userPrefix(userId)}${key}`

/** The least expiry index key after every entry due at or before `now`. */
export const expiryBound = (now: number): string => `e${revToHex(now + 1)}`

/** Bounds of the whole expiry index. */
export const EXPIRY_RANGE = { gte: 'e', lt: 'f' } as const

/** Parses an {@link expiryKey}. */
export function parseExpiryKey(k: string): { expiresAt: number; userId: string; key: string } {
  const colon = k.indexOf(':', 17)
  const length = Number(k.slice(17, colon))
  const userId = k.slice(colon + 1, colon + 1 + length)
  return { expiresAt: Number.parseInt(k.slice(1, 17), 16), userId, key: k.slice(colon + 2 + length) }
}

/** A user's meta record: the head, the rev of the last clear and the usage counted against the quota. */
export interface LevelMeta {
  head: number
  clearRev: number
  keys: number
  bytes: number
  /** When the user last wrote, in seconds since the epoch; `undefined` in metas written before it was kept. */
  usedAt?: number
}

/**
 * Parses a `m` record (or its absence). A record written before usage was counted has `keys` and `bytes` NaN;
 * the storage counts them from the user's records before it uses them. Without a meta, a deleted user
 * (`deletion`, the parsed `x` record) starts again from the head they had, with everything up to it dead.
 */
export function parseMeta(raw: string | undefined, deletion?: LevelDeletion): LevelMeta {
  if (raw === undefined) {
    const head = deletion?.head ?? 0
    return { head, clearRev: head, keys: 0, bytes: 0 }
  }
  const [head, clearRev, keys, bytes, usedAt] = raw.split('\n')
  const meta: LevelMeta = { head: Number(head), clearRev: Number(clearRev ?? 0), keys: Number(keys ?? Number.NaN), bytes: Number(bytes ?? Number.NaN) }
  if (usedAt !== undefined) meta.usedAt = Number(usedAt)
  return meta
}

/** Whether a parsed meta holds its usage (metas written before usage was counted do not). */
export const countUsageFields = (meta: LevelMeta): boolean => !Number.isNaN(meta.keys) && !Number.isNaN(meta.bytes)

/** Formats a `m` record. */
export const formatMeta = (meta: LevelMeta): string =>
  `${meta.head}\n${meta.clearRev}\n${meta.keys}\n${meta.bytes}${meta.usedAt === undefined ? '' : `\n${meta.usedAt}`}`

/** Now in whole seconds since the epoch, as a meta's `usedAt` holds it. */
export const nowInSeconds = (): number => Math.floor(Date.now() / 1000)

/** Parses a `c` record: the client's last applied mid, the rev it got, and the conflicted mids it remembers. */
export function parseClient(raw: string): { mid: number; rev: number; conflicts?: number[] } {
  const [mid, rev, conflicts] = raw.split('\n')
  const record = { mid: Number(mid), rev: Number(rev) }
  return conflicts === undefined ? record : { ...record, conflicts: conflicts.split(',').map(Number) }
}
