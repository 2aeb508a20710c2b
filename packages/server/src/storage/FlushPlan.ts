import type { Change, Mutation, MutationResult, WireError } from '@cubby/protocol'
import type { CommitResult } from './CubbyStorage.js'
import { readRange, UTF8, type LevelBatchOperation, type LevelDatabase } from './LevelDatabase.js'
import {
  CLEAR_MARKER, clientKey, dataKey, formatMeta, formatRecord, logKey, metaKey, parseClient, parseMeta, parseRecord,
  userRange, type LevelMeta,
} from './levelKeys.js'
import { countUsage } from './countUsage.js'
import { recordBytes, type UserQuota } from './UserQuota.js'

/** A user's meta: the latest rev, the rev of the last clear, and the usage counted against the quota. @internal */
export type UserMeta = LevelMeta

/** One queued call of `commit`. @internal */
export interface CommitRequest {
  userId: string
  mutations: Mutation[]
  clientId: string | undefined
}

/**
 * The writes of one group commit, planned against an overlay of what earlier requests of the same flush wrote,
 * so that the whole flush becomes one atomic batch. @internal
 */
export class FlushPlan {
  readonly #db: LevelDatabase
  readonly #cache: ReadonlyMap<string, UserMeta>
  readonly #quota: UserQuota
  /** Records read before planning. */
  readonly #read = new Map<string, string | undefined>()
  /** Records this flush writes: a string to put, `null` to delete. The last write of a key wins. */
  readonly #writes = new Map<string, string | null>()
  /** The metas as they will be once the batch is written. */
  readonly metas: Map<string, UserMeta> = new Map()

  constructor(db: LevelDatabase, cache: ReadonlyMap<string, UserMeta>, quota: UserQuota) {
    this.#db = db
    this.#cache = cache
    this.#quota = quota
  }

  /** Reads, in one `getMany`, every record the requests will look at. */
  async prefetch(requests: readonly CommitRequest[]): Promise<void> {
    const keys = new Set<string>()
    for (const { userId, mutations, clientId } of requests) {
      if (!this.#cache.has(userId)) keys.add(metaKey(userId))
      if (clientId !== undefined) keys.add(clientKey(userId, clientId))
      for (const m of mutations) if (m.op !== 'clear') keys.add(dataKey(userId, m.key))
    }
    const list = [...keys]
    const values = await this.#db.getMany(list, UTF8)
    list.forEach((k, i) => this.#read.set(k, values[i] ?? undefined))
    for (const { userId } of requests) await this.#countLegacyUsage(userId)
  }

  /** A meta written before usage was counted gets it counted from the user's records, once. */
  async #countLegacyUsage(userId: string): Promise<void> {
    if (this.#cache.has(userId) || this.metas.has(userId)) return
    const meta = parseMeta(this.#read.get(metaKey(userId)))
    if (Number.isNaN(meta.keys) || Number.isNaN(meta.bytes)) Object.assign(meta, await countUsage(this.#db, userId))
    this.metas.set(userId, meta)
  }

  /** Plans one request and tells what it will have done once the batch is written. */
  async apply({ userId, mutations, clientId }: CommitRequest): Promise<CommitResult> {
    const meta = this.#meta(userId)
    const cKey = clientId === undefined ? undefined : clientKey(userId, clientId)
    const last = cKey === undefined ? undefined : this.#current(cKey)
    let client = last === undefined ? undefined : parseClient(last)
    const results: MutationResult[] = []
    const changes: Change[] = []
    for (const m of mutations) {
      if (client !== undefined && m.mid <= client.mid) {
        results.push({ mid: m.mid, rev: client.rev })
        continue
      }
      const over = this.#overQuota(userId, m, meta)
      if (over !== undefined) {
        // Rejected whole: no rev, no record, and the mid stays unapplied.
        results.push({ mid: m.mid, error: over })
        continue
      }
      const rev = ++meta.head
      changes.push(await this.#mutate(userId, m, rev, meta))
      results.push({ mid: m.mid, rev })
      if (cKey !== undefined) client = { mid: m.mid, rev }
    }
    if (cKey !== undefined && client !== undefined) this.#writes.set(cKey, `${client.mid}\n${client.rev}`)
    this.#writes.set(metaKey(userId), formatMeta(meta))
    return { results, changes, head: meta.head }
  }

  /** Why a mutation would take the user past the quota, or `undefined`. Writes that shrink usage always pass. */
  #overQuota(userId: string, m: Mutation, meta: UserMeta): WireError | undefined {
    if (m.op === 'clear') return undefined
    const { bytes, keys } = this.#usageDelta(userId, m)
    if (keys > 0 && meta.keys + keys > this.#quota.maxKeys) {
      return { code: 'QUOTA_EXCEEDED', message: `A user may keep at most ${this.#quota.maxKeys} keys` }
    }
    if (bytes > 0 && meta.bytes + bytes > this.#quota.maxBytes) {
      return { code: 'QUOTA_EXCEEDED', message: `A user may store at most ${this.#quota.maxBytes} bytes` }
    }
    return undefined
  }

  /** How a store or delete changes the user's live keys and bytes. */
  #usageDelta(userId: string, m: Mutation & { key: string }): { bytes: number; keys: number } {
    const old = this.#current(dataKey(userId, m.key))
    const before = old === undefined ? undefined : parseRecord(old).value
    const after = m.op === 'store' ? m.value : undefined
    const bytes = recordBytes(m.key, after) - (old === undefined ? 0 : recordBytes(m.key, before))
    return { bytes, keys: (after === undefined ? 0 : 1) - (before === undefined ? 0 : 1) }
  }

  /** The batch that makes the plan durable. */
  operations(): LevelBatchOperation[] {
    return Array.from(this.#writes, ([key, value]) =>
      value === null ? { type: 'del' as const, key } : { type: 'put' as const, key, value })
  }

  async #mutate(userId: string, m: Mutation, rev: number, meta: UserMeta): Promise<Change> {
    if (m.op === 'clear') {
      await this.#clear(userId, rev)
      Object.assign(meta, { clearRev: rev, keys: 0, bytes: 0 })
      return { rev, clear: true }
    }
    const delta = this.#usageDelta(userId, m)
    meta.keys += delta.keys
    meta.bytes += delta.bytes
    const value = m.op === 'store' ? m.value : undefined
    const dKey = dataKey(userId, m.key)
    const old = this.#current(dKey)
    // Drop the log entry of the overwritten record, so the log holds one entry per live key or tombstone.
    if (old !== undefined) this.#writes.set(logKey(userId, parseRecord(old).rev), null)
    this.#writes.set(dKey, formatRecord(rev, value))
    this.#writes.set(logKey(userId, rev), m.key)
    return value === undefined ? { rev, key: m.key, deleted: true } : { rev, key: m.key, value }
  }

  /** Deletes every record and log entry of the user (stored or planned), then logs the clear. */
  async #clear(userId: string, rev: number): Promise<void> {
    for (const tag of ['d', 'l'] as const) {
      const range = userRange(tag, userId)
      await readRange(this.#db, { ...range, values: false }, (page) => {
        for (const [key] of page) this.#writes.set(key, null)
      })
      for (const key of this.#writes.keys()) if (key.startsWith(range.gte)) this.#writes.set(key, null)
    }
    this.#writes.set(logKey(userId, rev), CLEAR_MARKER)
  }

  #meta(userId: string): UserMeta {
    let meta = this.metas.get(userId)
    if (meta === undefined) {
      const cached = this.#cache.get(userId)
      meta = cached === undefined ? parseMeta(this.#read.get(metaKey(userId))) : { ...cached }
      this.metas.set(userId, meta)
    }
    return meta
  }

  #current(key: string): string | undefined {
    return this.#writes.has(key) ? (this.#writes.get(key) ?? undefined) : this.#read.get(key)
  }
}
