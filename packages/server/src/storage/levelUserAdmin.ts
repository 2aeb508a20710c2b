import { CubbyError, isExpired } from '@cubby/protocol'
import { UTF8, type LevelDatabase } from './LevelDatabase.js'
import type { GroupCommitter } from './GroupCommitter.js'
import {
  clientKey, countUsageFields, expiryKey, dataKey, dataKeyOffset, deletionKey, formatDeletion, formatMeta, formatRecord, importingKey, logKey,
  metaKey, nowInSeconds, parseClient, parseDeletion, parseMeta, parseRecord, purgeKey, userOfMetaKey, userRange,
} from './levelKeys.js'
import type { Purger } from './Purger.js'
import { countUsage } from './countUsage.js'
import type { ImportResult, UserRecord, UserSummary } from './UserRecord.js'
import { recordBytes } from './UserQuota.js'

/** Records deleted or imported per exclusive step, so other users' commits wait only briefly. */
const STEP = 1000

/** Pages through a key range with one iterator (one LevelDB snapshot), `STEP` entries at a time. @internal */
async function* iterateRange(db: LevelDatabase, range: { gt?: string; gte?: string; lt: string }, values = true): AsyncGenerator<Array<[string, string]>> {
  const it = db.iterator({ ...range, values, ...UTF8 })
  try {
    for (;;) {
      const page = await it.nextv(STEP)
      if (page.length === 0) return
      yield page
    }
  } finally {
    await it.close()
  }
}

/** Users in storage order of their meta keys, after `after`. @internal */
export async function listUsers(db: LevelDatabase, { after, limit }: { after?: string; limit: number }): Promise<UserSummary[]> {
  const users: UserSummary[] = []
  if (limit <= 0) return users
  const range = after === undefined ? { gte: 'm', lt: 'n' } : { gt: metaKey(after), lt: 'n' }
  for await (const page of iterateRange(db, range)) {
    for (const [k, raw] of page) {
      const userId = userOfMetaKey(k)
      const meta = parseMeta(raw)
      const usage = countUsageFields(meta) ? meta : await countUsage(db, userId, meta.clearRev)
      users.push({ userId, head: meta.head, keys: usage.keys, bytes: usage.bytes })
      if (users.length === limit) return users
    }
  }
  return users
}

/** Users whose last write was at or before `before` (seconds), in storage order after `after`. @internal */
export async function usersUnusedSince(db: LevelDatabase, { before, after, limit }: { before: number; after?: string; limit: number }): Promise<string[]> {
  const users: string[] = []
  if (limit <= 0) return users
  const range = after === undefined ? { gte: 'm', lt: 'n' } : { gt: metaKey(after), lt: 'n' }
  for await (const page of iterateRange(db, range)) {
    for (const [k, raw] of page) {
      const { usedAt } = parseMeta(raw)
      if (usedAt === undefined || usedAt > before) continue
      users.push(userOfMetaKey(k))
      if (users.length === limit) return users
    }
  }
  return users
}

/** When the user was last deleted (seconds since the epoch), or `undefined`. @internal */
export async function deletedAt(db: LevelDatabase, userId: string): Promise<number | undefined> {
  const [raw] = await db.getMany([deletionKey(userId)], UTF8)
  return parseDeletion(raw)?.at
}

/** A user's header and records, streamed from one snapshot of the records. @internal */
export async function* exportUser(db: LevelDatabase, userId: string): AsyncGenerator<UserRecord> {
  const [raw] = await db.getMany([metaKey(userId)], UTF8)
  if (raw === undefined) throw new CubbyError('NOT_FOUND', 'No such user')
  const { head, clearRev } = parseMeta(raw)
  yield { type: 'user', v: 1, userId, head, clearRev }
  const now = Date.now()
  const offset = dataKeyOffset(userId)
  for await (const page of iterateRange(db, userRange('d', userId))) {
    for (const [k, record] of page) {
      const { rev, value, expiresAt } = parseRecord(record)
      if (rev <= clearRev) continue
      const key = k.slice(offset)
      // An expired value is not exported: it is as good as deleted (its sweep writes the tombstone).
      if (value === undefined || isExpired(expiresAt, now)) yield { type: 'deleted', key, rev }
      else yield expiresAt === undefined ? { type: 'value', key, rev, value } : { type: 'value', key, rev, value, expiresAt }
    }
  }
  // The exactly-once records, so that a write whose ack was lost is not applied again after an import. A record
  // of a write after the header's head is left out, as that write is.
  const clientOffset = userRange('c', userId).gte.length
  for await (const page of iterateRange(db, userRange('c', userId))) {
    for (const [k, raw] of page) {
      const { mid, rev } = parseClient(raw)
      if (rev <= head) yield { type: 'client', clientId: k.slice(clientOffset), mid, rev }
    }
  }
}

/**
 * Deletes a user in one synced batch, whatever their size: the meta (and a half-done import) goes, and the
 * deletion marker records the time (seconds) and the head, which makes every record of the user dead at once.
 * A purge, recorded in the same batch, removes the records in the background (see {@link Purger}). A crash
 * leaves the user either whole or deleted, and the purge resumes at start-up.
 * @returns whether the user had any data. @internal
 */
export async function deleteUser(db: LevelDatabase, committer: GroupCommitter, purger: Purger, userId: string): Promise<boolean> {
  const existed = await committer.exclusive(userId, async () => {
    const [raw, rawDeletion, importing] = await db.getMany([metaKey(userId), deletionKey(userId), importingKey(userId)], UTF8)
    const { head } = parseMeta(raw, parseDeletion(rawDeletion))
    const budget = committer.budget
    const freed = budget === undefined || raw === undefined ? 0 : await usageBytes(db, userId, raw)
    const now = Date.now()
    await db.batch([
      { type: 'del', key: metaKey(userId) },
      { type: 'del', key: importingKey(userId) },
      { type: 'put', key: deletionKey(userId), value: formatDeletion({ at: Math.floor(now / 1000), head, ms: now }) },
      { type: 'put', key: purgeKey(userId), value: String(head) },
    ], { ...UTF8, sync: true })
    if (budget !== undefined) budget.used -= freed
    return raw !== undefined || importing !== undefined
  })
  purger.schedule(userId)
  return existed
}

/** The bytes a user's meta counts (or their records, for a meta that has no usage). */
async function usageBytes(db: LevelDatabase, userId: string, raw: string): Promise<number> {
  const meta = parseMeta(raw)
  return countUsageFields(meta) ? meta.bytes : (await countUsage(db, userId, meta.clearRev)).bytes
}

/**
 * Writes a user back from their records. The user must have no data, or an import of theirs that did not finish
 * (it resumes: records already written are skipped). The header reserves the revisions up to its head first, so
 * writes that arrive during the import get later revisions, and a record never replaces a newer one. The user's
 * deletion marker goes only once the last record is written, so tokens from before a deletion see the user whole
 * or not at all.
 * @throws CubbyError `BAD_MESSAGE` when the first record is not the header or the user already has data.
 * @internal
 */
export async function importUser(db: LevelDatabase, committer: GroupCommitter, purger: Purger, userId: string, records: AsyncIterable<UserRecord>): Promise<ImportResult> {
  let header: Extract<UserRecord, { type: 'user' }> | undefined
  let batch: Array<Exclude<UserRecord, { type: 'user' }>> = []
  let count = 0
  const flush = async (): Promise<void> => {
    const step = batch
    batch = []
    if (step.length > 0) await committer.exclusive(userId, () => writeRecords(db, committer, userId, header!.head, step))
    count += step.filter((r) => r.type !== 'client').length
  }
  for await (const record of records) {
    if (header === undefined) {
      if (record.type !== 'user') throw new CubbyError('BAD_MESSAGE', 'An import starts with the user line')
      header = record
      // Records of an earlier life of the user must be gone before any revision is written again.
      await purger.finish(userId)
      await committer.exclusive(userId, () => reserve(db, userId, record))
      continue
    }
    if (record.type === 'user') throw new CubbyError('BAD_MESSAGE', 'An import has one user line')
    if (record.rev > header.head) throw new CubbyError('BAD_MESSAGE', `A record's rev (${record.rev}) is above the head (${header.head})`)
    batch.push(record)
    if (batch.length >= STEP) await flush()
  }
  if (header === undefined) throw new CubbyError('BAD_MESSAGE', 'The import is empty')
  await flush()
  // An import restores the user, so their deletion marker goes (tokens issued before the deletion work again).
  await committer.exclusive(userId, () =>
    db.batch([{ type: 'del', key: importingKey(userId) }, { type: 'del', key: deletionKey(userId) }], { ...UTF8, sync: true }))
  return { head: header.head, records: count }
}

async function reserve(db: LevelDatabase, userId: string, { head, clearRev }: { head: number; clearRev: number }): Promise<void> {
  const [raw, importing] = await db.getMany([metaKey(userId), importingKey(userId)], UTF8)
  if (raw !== undefined && importing === undefined) throw new CubbyError('BAD_MESSAGE', 'This user already has data; delete the user first')
  // A resumed import keeps what the first attempt wrote and counted.
  const meta = raw === undefined ? { head, clearRev, keys: 0, bytes: 0, usedAt: nowInSeconds() } : { ...parseMeta(raw), head: Math.max(parseMeta(raw).head, head) }
  await db.batch([
    { type: 'put', key: metaKey(userId), value: formatMeta(meta) },
    { type: 'put', key: importingKey(userId), value: '1' },
  ], { ...UTF8, sync: true })
}

async function writeRecords(
  db: LevelDatabase, committer: GroupCommitter, userId: string, head: number, all: Array<Exclude<UserRecord, { type: 'user' }>>,
): Promise<void> {
  const records = all.filter((r) => r.type !== 'client')
  const clients = all.filter((r) => r.type === 'client')
  const keys = [metaKey(userId), ...records.map((r) => dataKey(userId, r.key)), ...clients.map((c) => clientKey(userId, c.clientId))]
  const [rawMeta, ...read] = await db.getMany(keys, UTF8)
  const existing = read.slice(0, records.length)
  const meta = parseMeta(rawMeta)
  const bytesBefore = meta.bytes
  const operations: Array<{ type: 'put'; key: string; value: string } | { type: 'del'; key: string }> = []
  const written = new Map<string, { rev: number; value: string | undefined; expiresAt?: number | undefined }>()
  records.forEach((r, i) => {
    const raw = existing[i]
    const old = written.get(r.key) ?? (raw === undefined ? undefined : parseRecord(raw))
    const value = r.type === 'value' ? r.value : undefined
    // A record written since (a live write during the import, or a later line) is newer: keep it.
    if (old !== undefined && old.rev >= r.rev) return
    if (old !== undefined) {
      operations.push({ type: 'del', key: logKey(userId, old.rev) })
      if (old.expiresAt !== undefined) operations.push({ type: 'del', key: expiryKey(old.expiresAt, userId, r.key) })
      meta.bytes -= recordBytes(r.key, old.value)
      if (old.value !== undefined) meta.keys--
    }
    const expiresAt = r.type === 'value' ? r.expiresAt : undefined
    operations.push({ type: 'put', key: dataKey(userId, r.key), value: formatRecord(r.rev, value, expiresAt) })
    if (expiresAt !== undefined) operations.push({ type: 'put', key: expiryKey(expiresAt, userId, r.key), value: String(r.rev) })
    operations.push({ type: 'put', key: logKey(userId, r.rev), value: r.key })
    meta.bytes += recordBytes(r.key, value)
    if (value !== undefined) meta.keys++
    written.set(r.key, { rev: r.rev, value, expiresAt })
  })
  // A client that wrote during the import has a newer record: keep the higher mid.
  const lastMid = new Map<string, number>()
  clients.forEach((c, i) => {
    const raw = read[records.length + i]
    const before = lastMid.get(c.clientId) ?? (raw === undefined ? 0 : parseClient(raw).mid)
    if (c.mid <= before) return
    lastMid.set(c.clientId, c.mid)
    operations.push({ type: 'put', key: clientKey(userId, c.clientId), value: `${c.mid}\n${c.rev}` })
  })
  meta.head = Math.max(meta.head, head)
  operations.push({ type: 'put', key: metaKey(userId), value: formatMeta(meta) })
  await db.batch(operations, { ...UTF8, sync: true })
  if (committer.budget !== undefined) committer.budget.used += meta.bytes - bytesBefore
}
