import { CubbyError, compareKeys, isExpiresAt } from '@cubby/protocol'
import { RECORD_OVERHEAD_BYTES } from '@cubby/server'
import type { ImportResult, UserRecord, UserSummary } from '@cubby/server'
import type { Cluster, Redis } from 'ioredis'
import { metaPattern, userKeys, userOfMetaKey, type UserKeys } from './redisKeys.js'
import type { CubbyScripts } from './redisScripts.js'
import type { RedisSnapshot } from './redisSnapshot.js'

/** Records per import step and per export page: one user's script blocks Redis only that long. */
const STEP = 1000

/** Every master: the client itself, or each master of a Cluster. @internal */
export const mastersOf = (redis: Redis | Cluster): Redis[] => ('nodes' in redis ? redis.nodes('master') : [redis])

/**
 * The `limit` smallest user ids after `after` that `keep` lets through, in code-point order. SCAN visits every
 * meta key of every master (a Cluster's keys are spread by user), so a page costs a pass over the key space;
 * `keep` gets each batch of candidates (meta key and user id) with the master that holds them.
 */
async function scanUsers(
  redis: Redis | Cluster, prefix: string, { after, limit }: { after?: string; limit: number },
  keep: (node: Redis, candidates: Array<{ key: string; userId: string }>) => Promise<string[]> | string[],
): Promise<string[]> {
  if (limit <= 0) return []
  let ids: string[] = []
  for (const node of mastersOf(redis)) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', metaPattern(prefix), 'COUNT', 1000)
      cursor = next
      const candidates = keys.flatMap((key) => {
        const userId = userOfMetaKey(prefix, key)
        return userId !== undefined && (after === undefined || compareKeys(userId, after) > 0) ? [{ key, userId }] : []
      })
      if (candidates.length > 0) ids.push(...(await keep(node, candidates)))
      if (ids.length > 2 * limit) ids = smallest(ids, limit)
    } while (cursor !== '0')
  }
  return smallest(ids, limit)
}

/** Users in code-point order of their ids, after `after` (a page costs a pass over the key space). @internal */
export async function listUsers(redis: Redis | Cluster, prefix: string, options: { after?: string; limit: number }): Promise<UserSummary[]> {
  const ids = await scanUsers(redis, prefix, options, (_node, candidates) => candidates.map((c) => c.userId))
  const metas = await Promise.all(ids.map(async (userId) => {
    const [head, keys, bytes] = await redis.hmget(userKeys(prefix, userId).meta, 'h', 'n', 'b')
    return head === null ? undefined : { userId, head: Number(head), keys: Number(keys), bytes: Number(bytes) }
  }))
  return metas.filter((m) => m !== undefined)
}

/**
 * Users whose last write (meta field `u`, seconds) was at or before `before`, in code-point order of their ids after
 * `after`; like {@link listUsers}, a page costs a pass over the key space. Users without a recorded write are left
 * out, and so are deleted users (they have no meta).
 * @internal
 */
export function usersUnusedSince(
  redis: Redis | Cluster, prefix: string, { before, ...page }: { before: number; after?: string; limit: number },
): Promise<string[]> {
  return scanUsers(redis, prefix, page, async (node, candidates) => {
    const pipeline = node.pipeline()
    for (const { key } of candidates) pipeline.hget(key, 'u')
    const usedAt = (await pipeline.exec()) ?? []
    return candidates.flatMap(({ userId }, i) => {
      const [error, raw] = usedAt[i] ?? [null, null]
      return error === null && typeof raw === 'string' && Number(raw) <= before ? [userId] : []
    })
  })
}

/** How often {@link waitForLazyFree} asks the masters. */
const LAZYFREE_POLL_MS = 20

/**
 * Waits until every master has freed what UNLINK had handed to its background thread when called: its count of
 * freed objects (INFO `lazyfreed_objects`) has grown by what was pending (`lazyfree_pending_objects`), which the one
 * lazyfree thread frees in order. Frees queued later (other users' clears) do not keep it waiting. @internal
 */
export async function waitForLazyFree(redis: Redis | Cluster): Promise<void> {
  const lazyfree = async (node: Redis): Promise<{ pending: number; freed: number }> => {
    const info = await node.info('memory')
    const field = (name: string): number => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0)
    return { pending: field('lazyfree_pending_objects'), freed: field('lazyfreed_objects') }
  }
  await Promise.all(mastersOf(redis).map(async (node) => {
    const start = await lazyfree(node)
    for (let now = start; now.pending > 0 && now.freed < start.freed + start.pending; now = await lazyfree(node)) {
      await new Promise((resolve) => setTimeout(resolve, LAZYFREE_POLL_MS))
    }
  }))
}

const smallest = (ids: string[], limit: number): string[] => [...new Set(ids)].sort(compareKeys).slice(0, limit)

/**
 * A user's header, then every record, page by page from one snapshot, then the exactly-once records (`clients`, the
 * user's `:c` hash) of writes up to the snapshot's head (a later write is not in the export either). @internal
 */
export async function* exportUser(snapshot: RedisSnapshot, userId: string, redis: Redis | Cluster, clients: string): AsyncGenerator<UserRecord> {
  try {
    if (!snapshot.exists) throw new CubbyError('NOT_FOUND', 'No such user')
    yield { type: 'user', v: 1, userId, head: snapshot.head, clearRev: snapshot.clearRev }
    for (let page = await snapshot.next(STEP); page.length > 0; page = await snapshot.next(STEP)) {
      for (const c of page) {
        if ('deleted' in c) yield { type: 'deleted', key: c.key, rev: c.rev }
        else if ('value' in c) yield c.expiresAt === undefined ? { type: 'value', key: c.key, rev: c.rev, value: c.value } : { type: 'value', key: c.key, rev: c.rev, value: c.value, expiresAt: c.expiresAt }
      }
    }
    let cursor = '0'
    do {
      const [next, flat] = await redis.hscan(clients, cursor, 'COUNT', STEP)
      cursor = next
      for (let i = 0; i < flat.length; i += 2) {
        const [mid, rev] = flat[i + 1]!.split(' ').map(Number) as [number, number]
        // HSCAN may return a field twice; an import keeps the higher mid.
        if (rev <= snapshot.head) yield { type: 'client', clientId: flat[i]!, mid, rev }
      }
    } while (cursor !== '0')
  } finally {
    await snapshot.close()
  }
}

const isRev = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0

/**
 * Writes a user back from their records: the header reserves the revs up to its head and marks the import as
 * running (refused when the user has data, resumed when an import of theirs did not finish), then steps of
 * {@link STEP} records, each one script that keeps a newer record where there is one (a value keeps its expiry, one
 * expired already is written as a tombstone); the last step removes the mark and the user's deletion marker.
 * @internal
 */
export async function importUser(
  records: AsyncIterable<UserRecord>,
  serial: <T>(step: () => Promise<T>) => Promise<T>,
  { scripts, keys: k, noteExpiry }: { scripts: CubbyScripts; keys: UserKeys; noteExpiry: (earliest: number) => Promise<void> },
): Promise<ImportResult> {
  let head: number | undefined
  let batch: Array<string | number> = []
  let count = 0
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return
    const step = batch
    batch = []
    const [written] = await serial(async () => {
      const reply = await scripts.cubbyImportRecords(k.meta, k.data, k.keys, k.log, k.snapshots, k.clients, k.expiry, head!, RECORD_OVERHEAD_BYTES, Date.now(), ...step) as number[]
      await noteExpiry(Number(reply[1]))
      return reply
    })
    if (written === -1) throw deletedMeanwhile()
  }
  for await (const record of records) {
    if (head === undefined) {
      if (record.type !== 'user' || !isRev(record.head) || !isRev(record.clearRev) || record.clearRev > record.head) {
        throw new CubbyError('BAD_MESSAGE', 'An import starts with the user line')
      }
      head = record.head
      const { clearRev } = record
      const now = Math.floor(Date.now() / 1000)
      if (await serial(() => scripts.cubbyImportHeader(k.meta, k.log, record.head, clearRev, now)) !== 1) {
        throw new CubbyError('BAD_MESSAGE', 'This user already has data; delete the user first')
      }
      continue
    }
    checkRecord(record, head)
    if (record.type === 'client') batch.push(record.clientId, record.rev, 'c', record.mid, '')
    else {
      const value = record.type === 'value' ? [record.value, record.expiresAt ?? ''] : ['', '']
      batch.push(record.key, record.rev, record.type === 'value' ? 'v' : 'd', ...value)
      count++
    }
    if (batch.length >= 5 * STEP) await flush()
  }
  if (head === undefined) throw new CubbyError('BAD_MESSAGE', 'The import is empty')
  await flush()
  // Only now is the user whole: the deletion marker goes with the import mark.
  if (await serial(() => scripts.cubbyImportFinish(k.meta, k.deleted)) !== 1) throw deletedMeanwhile()
  return { head, records: count }
}

const deletedMeanwhile = (): CubbyError => new CubbyError('BAD_MESSAGE', 'The user was deleted during the import; nothing more was written')

function checkRecord(record: UserRecord, head: number): asserts record is Exclude<UserRecord, { type: 'user' }> {
  if (record.type === 'user') throw new CubbyError('BAD_MESSAGE', 'An import has one user line')
  if (record.type === 'client') {
    if (typeof record.clientId !== 'string' || record.clientId === '') throw new CubbyError('BAD_MESSAGE', 'A client record needs a clientId')
    if (!isRev(record.mid) || record.mid < 1) throw new CubbyError('BAD_MESSAGE', 'A client record needs a positive integer mid')
  } else if (record.type !== 'value' && record.type !== 'deleted') throw new CubbyError('BAD_MESSAGE', 'Unknown record type')
  else if (typeof record.key !== 'string' || record.key === '') throw new CubbyError('BAD_MESSAGE', 'A record needs a key')
  if (!isRev(record.rev) || record.rev < 1) throw new CubbyError('BAD_MESSAGE', 'A record needs a positive integer rev')
  if (record.rev > head) throw new CubbyError('BAD_MESSAGE', `A record's rev (${record.rev}) is above the head (${head})`)
  if (record.type === 'value' && typeof record.value !== 'string') throw new CubbyError('BAD_MESSAGE', 'A value record needs an encoded value')
  if (record.type === 'value' && record.expiresAt !== undefined && !isExpiresAt(record.expiresAt)) {
    throw new CubbyError('BAD_MESSAGE', 'expiresAt must be a positive integer (ms since the epoch)')
  }
}
