import { CubbyError, compareKeys, type Change } from '@cubby/protocol'
import type { GroupCommitter } from './GroupCommitter.js'
import { readRange, UTF8, type LevelBatchOperation, type LevelDatabase } from './LevelDatabase.js'
import {
  clientKey, countUsageFields, dataKey, expiryKey, dataKeyOffset, deletionKey, formatDeletion, formatMeta, formatRecord, importingKey, logKey,
  metaKey, nowInSeconds, parseClient, parseDeletion, parseMeta, parseRecord, purgeKey, userRange, type LevelDeletion, type LevelMeta,
} from './levelKeys.js'
import { countUsage } from './countUsage.js'
import type { MergeUserOptions, MergeUserResult } from './MergeUser.js'
import type { Purger } from './Purger.js'
import { recordBytes, type UserQuota } from './UserQuota.js'

/** A user as the merge reads them: meta (usage counted), deletion marker. */
interface MergeSide {
  meta: LevelMeta
  deletion: LevelDeletion | undefined
  exists: boolean
}

async function readSide(db: LevelDatabase, userId: string, authorizedAt: number | undefined): Promise<MergeSide> {
  const [raw, rawDeletion] = await db.getMany([metaKey(userId), deletionKey(userId)], UTF8)
  const deletion = parseDeletion(rawDeletion)
  if (authorizedAt !== undefined && deletion !== undefined && deletion.ms >= authorizedAt) {
    throw new CubbyError('UNAUTHORIZED', 'A user of the merge was deleted; sign in again')
  }
  const meta = parseMeta(raw, deletion)
  if (!countUsageFields(meta)) Object.assign(meta, await countUsage(db, userId, meta.clearRev))
  return { meta, deletion, exists: raw !== undefined }
}

/** The live values of a user (records after the last clear, not expired at `now`), with their expiry. */
async function liveValues(db: LevelDatabase, userId: string, clearRev: number, now: number): Promise<Array<[string, string, number | undefined]>> {
  const values: Array<[string, string, number | undefined]> = []
  const offset = dataKeyOffset(userId)
  await readRange(db, userRange('d', userId), (page) => {
    for (const [k, raw] of page) {
      const { rev, value, expiresAt } = parseRecord(raw)
      if (value !== undefined && rev > clearRev && !(expiresAt !== undefined && expiresAt <= now)) values.push([k.slice(offset), value, expiresAt])
    }
  })
  return values
}

/** The live exactly-once records of a user (those from before their last deletion are dead). */
async function liveClients(db: LevelDatabase, userId: string, deadUpTo: number): Promise<Map<string, number>> {
  const clients = new Map<string, number>()
  const offset = userRange('c', userId).gte.length
  await readRange(db, userRange('c', userId), (page) => {
    for (const [k, raw] of page) {
      const { mid, rev } = parseClient(raw)
      if (rev > deadUpTo) clients.set(k.slice(offset), mid)
    }
  })
  return clients
}

/**
 * Merges user `from` into user `into` (see `CubbyStorage.mergeUser`) in ONE synced LevelDB batch, run between two
 * flushes of the commit loop (so no commit of either user interleaves, and both users' cached state is dropped
 * before and after): the account's new records, log entries, exactly-once records and meta, and the anonymous
 * user's deletion (marker and pending purge, as `deleteUser` writes them). A crash leaves both users as they
 * were or the merge whole. The anonymous user's records are read into memory: at most their quota.
 * @internal
 */
export async function mergeUser(
  db: LevelDatabase, committer: GroupCommitter, purger: Purger, quota: UserQuota, from: string, into: string, options: MergeUserOptions,
): Promise<MergeUserResult> {
  const result = await committer.atRest(async () => {
    committer.cache.drop(from)
    committer.cache.drop(into)
    try {
      return await mergeAtRest(db, committer, quota, from, into, options)
    } finally {
      committer.cache.drop(from)
      committer.cache.drop(into)
    }
  })
  purger.schedule(from)
  return result
}

async function mergeAtRest(
  db: LevelDatabase, committer: GroupCommitter, quota: UserQuota, from: string, into: string, { prefer, authorizedAt }: MergeUserOptions,
): Promise<MergeUserResult> {
  const anon = await readSide(db, from, authorizedAt)
  const account = await readSide(db, into, authorizedAt)
  // An expired value is gone already (reads hide it before the sweep): it is not carried, and one of the account
  // counts as absent.
  const now = Date.now()
  const values = anon.exists ? await liveValues(db, from, anon.meta.clearRev, now) : []
  const anonClients = anon.exists ? await liveClients(db, from, anon.deletion?.head ?? 0) : new Map<string, number>()
  const clientIds = [...anonClients.keys()]
  const read = await db.getMany([...values.map(([key]) => dataKey(into, key)), ...clientIds.map((id) => clientKey(into, id))], UTF8)
  const meta = { ...account.meta }
  const bytesBefore = meta.bytes
  const operations: LevelBatchOperation[] = []
  const changes: Change[] = []
  const conflicts: string[] = []
  values.sort(([a], [b]) => compareKeys(a, b))
  values.forEach(([key, value, expiresAt], i) => {
    const raw = read[i]
    const record = raw === undefined ? undefined : parseRecord(raw)
    // A record at or below the account's last clear (or deletion) is dead: the key is free.
    const old = record === undefined || record.rev <= meta.clearRev ? undefined : record
    const expired = old?.expiresAt !== undefined && old.expiresAt <= now
    if (old?.value !== undefined && !expired) {
      conflicts.push(key)
      if (prefer === 'account') return
    }
    const rev = ++meta.head
    if (old !== undefined) {
      operations.push({ type: 'del', key: logKey(into, old.rev) })
      meta.bytes -= recordBytes(key, old.value)
      if (old.value !== undefined) meta.keys--
    }
    // The account's old value takes its expiry with it; the carried value keeps its own.
    if (old?.expiresAt !== undefined) operations.push({ type: 'del', key: expiryKey(old.expiresAt, into, key) })
    operations.push({ type: 'put', key: dataKey(into, key), value: formatRecord(rev, value, expiresAt) })
    if (expiresAt !== undefined) operations.push({ type: 'put', key: expiryKey(expiresAt, into, key), value: String(rev) })
    operations.push({ type: 'put', key: logKey(into, rev), value: key })
    meta.bytes += recordBytes(key, value)
    meta.keys++
    changes.push(expiresAt === undefined ? { rev, key, value } : { rev, key, value, expiresAt })
  })
  if ((meta.keys > quota.maxKeys && meta.keys > account.meta.keys) || (meta.bytes > quota.maxBytes && meta.bytes > bytesBefore)) {
    throw new CubbyError('QUOTA_EXCEEDED', `The merged account would pass its quota (${quota.maxKeys} keys, ${quota.maxBytes} bytes); nothing was merged`)
  }
  let clients = 0
  clientIds.forEach((clientId, i) => {
    const raw = read[values.length + i]
    const existing = raw === undefined ? undefined : parseClient(raw)
    const live = existing !== undefined && existing.rev > (account.deletion?.head ?? 0) ? existing : undefined
    const mid = anonClients.get(clientId)!
    if (live !== undefined && live.mid >= mid) return
    // The rev a repeated mid is answered with: the account's head once the merge is in, which includes that write.
    operations.push({ type: 'put', key: clientKey(into, clientId), value: `${mid}\n${meta.head}` })
    clients++
  })
  meta.usedAt = nowInSeconds()
  operations.push({ type: 'put', key: metaKey(into), value: formatMeta(meta) })
  // The anonymous user's deletion, exactly as deleteUser writes it.
  operations.push(
    { type: 'del', key: metaKey(from) },
    { type: 'del', key: importingKey(from) },
    { type: 'put', key: deletionKey(from), value: formatDeletion({ at: Math.floor(now / 1000), head: anon.meta.head, ms: now }) },
    { type: 'put', key: purgeKey(from), value: String(anon.meta.head) },
  )
  await db.batch(operations, { ...UTF8, sync: true })
  if (committer.budget !== undefined) committer.budget.used += meta.bytes - bytesBefore - (anon.exists ? anon.meta.bytes : 0)
  return { changes, head: meta.head, conflicts, clients }
}
