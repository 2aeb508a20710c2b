import { compareKeys, isExpired, type Change, type Mutation } from '@cubby/protocol'
import { CATCH_UP_PAGE_BYTES, type CommitOptions, type ExpiredChanges, type CommitResult, type CubbyStorage, type StorageListOptions, type StorageSnapshot, type StoredEntry } from './CubbyStorage.js'
import { GroupCommitter } from './GroupCommitter.js'
import { readRange, UTF8, type LevelDatabase } from './LevelDatabase.js'
import {
  CLEAR_MARKER, dataKey, dataKeyOffset, logKey, parseRecord, prefixEnd, revOfLogKey, userRange, type LevelRecord,
} from './levelKeys.js'
import { nextLevelExpiry, sweepLevelExpired } from './levelExpiry.js'
import { Purger } from './Purger.js'
import { checkCommitArguments } from './checkCommitArguments.js'
import { resolveQuota, type UserQuota } from './UserQuota.js'
import { checkMaxTotalBytes, StorageBudget } from './StorageBudget.js'
import { deletedAt, deleteUser, exportUser, importUser, listUsers, usersUnusedSince } from './levelUserAdmin.js'
import type { ImportResult, UserRecord, UserSummary } from './UserRecord.js'
import type { DeviceRegistry } from '../auth/DeviceRegistry.js'
import { createLevelDevices } from './createLevelDevices.js'
import { mergeUser } from './levelMerge.js'
import type { MergeUserOptions, MergeUserResult } from './MergeUser.js'

/** Options of {@link createLevelStorage}. */
export interface LevelStorageOptions {
  /** An abstract-level database (`new Level(dir)`), open or not. Its owner closes it; `close()` does not. */
  db: LevelDatabase
  /** Per-user quota; a store or delete that would pass it gets a `QUOTA_EXCEEDED` result and writes nothing. @default DEFAULT_QUOTA */
  quota?: Partial<UserQuota>
  /**
   * Most keys the write path keeps indexed in memory over all users (about 130 bytes each), so that a commit
   * reads nothing before its batch; users beyond it (least recently written first) have their records read.
   * @default 250_000
   */
  maxIndexedKeys?: number
  /**
   * Server-wide budget of stored bytes: the sum of every user's usage as the quota counts it (loaded by `open()`,
   * then kept exactly). A write of an anonymous identity (user id `anon_…`) that would take the sum past it gets a
   * `STORAGE_FULL` result and writes nothing; the app's own users and writes that free space always pass.
   * @default undefined (no budget)
   */
  maxTotalBytes?: number
}

/** @throws TypeError unless `maxIndexedKeys` is undefined or a non-negative integer. @internal */
export function checkMaxIndexedKeys(maxIndexedKeys: number | undefined): void {
  if (maxIndexedKeys !== undefined && (!Number.isSafeInteger(maxIndexedKeys) || maxIndexedKeys < 0)) {
    throw new TypeError('maxIndexedKeys must be a non-negative integer')
  }
}

/**
 * Creates a {@link CubbyStorage} on one LevelDB database: every user's records under their own prefix, writes
 * grouped into one fsync'd batch per flush.
 *
 * @example
 * ```ts
 * const db = new Level('./cubby-data/db')
 * const storage = createLevelStorage({ db })
 * await storage.open()
 * ```
 */
export function createLevelStorage(options: LevelStorageOptions): CubbyStorage {
  const { maxIndexedKeys = 250_000 } = options
  checkMaxIndexedKeys(maxIndexedKeys)
  checkMaxTotalBytes(options.maxTotalBytes)
  const budget = options.maxTotalBytes === undefined ? undefined : new StorageBudget(options.maxTotalBytes)
  return new LevelStorage(options.db, resolveQuota(options.quota), maxIndexedKeys, budget)
}

/** A live record as an entry; `undefined` for a tombstone or a value expired at `now`. */
function toEntry(key: string, { rev, value, expiresAt }: LevelRecord, now: number): StoredEntry | undefined {
  if (value === undefined || isExpired(expiresAt, now)) return undefined
  return expiresAt === undefined ? { key, rev, value } : { key, rev, value, expiresAt }
}

/** A record as a change: a value expired at `now` reads as deleted (its sweep follows with a newer tombstone). */
function toChange(key: string, record: LevelRecord, now: number): Change {
  const { rev, value, expiresAt } = record
  if (value === undefined || isExpired(expiresAt, now)) return { rev, key, deleted: true }
  return expiresAt === undefined ? { rev, key, value } : { rev, key, value, expiresAt }
}

class LevelStorage implements CubbyStorage {
  readonly #db: LevelDatabase
  readonly #committer: GroupCommitter
  readonly #purger: Purger
  readonly devices: DeviceRegistry
  readonly #quota: UserQuota
  #resumed = false

  constructor(db: LevelDatabase, quota: UserQuota, maxIndexedKeys: number, budget: StorageBudget | undefined) {
    this.#db = db
    this.devices = createLevelDevices(db)
    this.#quota = quota
    this.#committer = new GroupCommitter(db, quota, maxIndexedKeys, budget)
    this.#purger = new Purger(db, this.#committer)
    this.#committer.onPurge = (userId) => this.#purger.schedule(userId)
  }

  async open(): Promise<void> {
    if (this.#db.status !== 'open') await this.#db.open()
    // Between two batches, so that no flush moves the sum while it is counted.
    const budget = this.#committer.budget
    if (budget !== undefined) await this.#committer.atRest(() => budget.load(this.#db))
    if (this.#resumed) return
    this.#resumed = true
    await this.#purger.resume()
  }

  close(): Promise<void> {
    return this.#committer.close()
  }

  commit(userId: string, mutations: Mutation[], clientId?: string, options: CommitOptions = {}): Promise<CommitResult> {
    try {
      checkCommitArguments(userId, mutations, clientId)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.#committer.commit(userId, mutations, clientId, options.authorizedAt, options.atomic)
  }

  async get(userId: string, key: string): Promise<StoredEntry | undefined> {
    const { clearRev } = await this.#committer.meta(userId)
    const [raw] = await this.#db.getMany([dataKey(userId, key)], UTF8)
    if (raw === undefined) return undefined
    const record = parseRecord(raw)
    return record.rev <= clearRev ? undefined : toEntry(key, record, Date.now())
  }

  async list(userId: string, { prefix = '', after, limit }: StorageListOptions): Promise<StoredEntry[]> {
    const entries: StoredEntry[] = []
    if (limit <= 0) return entries
    const end = prefixEnd(prefix)
    const lt = end === undefined ? userRange('d', userId).lt : dataKey(userId, end)
    const lower = after !== undefined && compareKeys(after, prefix) >= 0
      ? { gt: dataKey(userId, after) } : { gte: dataKey(userId, prefix) }
    const offset = dataKeyOffset(userId)
    const { clearRev } = await this.#committer.meta(userId)
    const now = Date.now()
    await readRange(this.#db, { ...lower, lt }, (page) => {
      for (const [k, raw] of page) {
        const record = parseRecord(raw)
        const entry = record.rev > clearRev ? toEntry(k.slice(offset), record, now) : undefined
        if (entry !== undefined) entries.push(entry)
        if (entries.length === limit) return false
      }
      return true
    })
    return entries
  }

  async changesSince(userId: string, since: number, limit: number): Promise<{ changes: Change[]; rev: number }> {
    const { head, clearRev } = await this.#committer.meta(userId)
    if (since >= head) return { changes: [], rev: head }
    if (limit <= 0) return { changes: [], rev: since }
    // Everything at or below the last clear is dead (a purge removes it in the background): a reader behind it
    // gets the clear, then the log after it.
    if (since < clearRev) {
      const after = await this.changesSince(userId, clearRev, limit - 1)
      return { changes: [{ rev: clearRev, clear: true }, ...after.changes], rev: after.rev }
    }
    const rev = since
    const log: Array<[string, string]> = []
    await readRange(this.#db, { gt: logKey(userId, rev), lte: logKey(userId, head), limit }, (page) => {
      log.push(...page)
    })
    const changes: Change[] = []
    const now = Date.now()
    let bytes = 0
    // Records are read a few at a time, fewer as values turn out large, and the page ends once its values reach
    // CATCH_UP_PAGE_BYTES: a gap of hundreds of large values is read over several calls, never held at once.
    for (let at = 0; at < log.length;) {
      const room = CATCH_UP_PAGE_BYTES - bytes
      const size = bytes === 0 ? 8 : Math.min(64, Math.max(1, Math.floor(room / (bytes / changes.length || 1))))
      const chunk = log.slice(at, at + size)
      at += chunk.length
      const wanted = chunk.filter(([, k]) => k !== CLEAR_MARKER)
      const records = await this.#db.getMany(wanted.map(([, k]) => dataKey(userId, k)), UTF8)
      let i = 0
      for (const [lKey, key] of chunk) {
        const logRev = revOfLogKey(lKey)
        if (key === CLEAR_MARKER) {
          changes.push({ rev: logRev, clear: true })
          continue
        }
        const raw = records[i++]
        // A record with another rev was overwritten after the log was read: its newer entry comes later.
        const record = raw === undefined ? undefined : parseRecord(raw)
        if (record?.rev !== logRev) continue
        changes.push(toChange(key, record, now))
        bytes += record.value?.length ?? 0
        if (bytes >= CATCH_UP_PAGE_BYTES) return { changes, rev: logRev }
      }
    }
    const last = log.at(-1)
    return { changes, rev: log.length === limit && last !== undefined ? revOfLogKey(last[0]) : head }
  }

  sweepExpired(now: number, limit: number): Promise<ExpiredChanges[]> {
    return sweepLevelExpired(this.#db, this.#committer, now, limit)
  }

  nextExpiry(): Promise<number | undefined> {
    return nextLevelExpiry(this.#db)
  }

  users(options: { after?: string; limit: number }): Promise<UserSummary[]> {
    return listUsers(this.#db, options)
  }

  usersUnusedSince(options: { before: number; after?: string; limit: number }): Promise<string[]> {
    return usersUnusedSince(this.#db, options)
  }

  exportUser(userId: string): AsyncIterable<UserRecord> {
    return exportUser(this.#db, userId)
  }

  importUser(userId: string, records: AsyncIterable<UserRecord>): Promise<ImportResult> {
    return importUser(this.#db, this.#committer, this.#purger, userId, records)
  }

  deleteUser(userId: string): Promise<boolean> {
    return deleteUser(this.#db, this.#committer, this.#purger, userId)
  }

  mergeUser(from: string, into: string, options: MergeUserOptions): Promise<MergeUserResult> {
    return mergeUser(this.#db, this.#committer, this.#purger, this.#quota, from, into, options)
  }

  purge(): Promise<void> {
    return this.#purger.drain()
  }

  deletedAt(userId: string): Promise<number | undefined> {
    return deletedAt(this.#db, userId)
  }

  async head(userId: string): Promise<number> {
    return (await this.#committer.meta(userId)).head
  }

  async snapshot(userId: string): Promise<StorageSnapshot> {
    // Between two batches, the meta and the iterator's snapshot (taken synchronously) agree.
    const { head, clearRev, it } = await this.#committer.atRest(async () => {
      const { head, clearRev } = await this.#committer.meta(userId, true)
      // A page ends once it holds CATCH_UP_PAGE_BYTES (classic-level stops at 16 KiB by default).
      return { head, clearRev, it: this.#db.iterator({ ...userRange('d', userId), ...UTF8, highWaterMarkBytes: CATCH_UP_PAGE_BYTES }) }
    })
    const offset = dataKeyOffset(userId)
    return {
      head,
      clearRev,
      async next(limit) {
        if (limit <= 0) return []
        // Dead records (at or below the clear) are skipped, so a page may come back shorter; empty only at the end.
        for (;;) {
          const page = await it.nextv(limit)
          if (page.length === 0) return []
          const changes: Change[] = []
          const now = Date.now()
          for (const [k, raw] of page) {
            const record = parseRecord(raw)
            if (record.rev > clearRev) changes.push(toChange(k.slice(offset), record, now))
          }
          if (changes.length > 0) return changes
        }
      },
      close: () => it.close(),
    }
  }
}
