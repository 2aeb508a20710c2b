import type { Change, Mutation, MutationResult } from '@cubby/protocol'
import type { CommitResult } from './CubbyStorage.js'
import { readRange, UTF8, type LevelBatchOperation, type LevelDatabase } from './LevelDatabase.js'
import {
  CLEAR_MARKER, clientKey, dataKey, formatRecord, logKey, metaKey, parseClient, parseMeta, parseRecord, userRange,
} from './levelKeys.js'

/** A user's meta: the latest rev and the rev of the last clear. @internal */
export interface UserMeta {
  head: number
  clearRev: number
}

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
  /** Records read before planning. */
  readonly #read = new Map<string, string | undefined>()
  /** Records this flush writes: a string to put, `null` to delete. The last write of a key wins. */
  readonly #writes = new Map<string, string | null>()
  /** The metas as they will be once the batch is written. */
  readonly metas: Map<string, UserMeta> = new Map()

  constructor(db: LevelDatabase, cache: ReadonlyMap<string, UserMeta>) {
    this.#db = db
    this.#cache = cache
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
      const rev = ++meta.head
      changes.push(await this.#mutate(userId, m, rev, meta))
      results.push({ mid: m.mid, rev })
      if (cKey !== undefined) client = { mid: m.mid, rev }
    }
    if (cKey !== undefined && client !== undefined) this.#writes.set(cKey, `${client.mid}\n${client.rev}`)
    this.#writes.set(metaKey(userId), `${meta.head}\n${meta.clearRev}`)
    return { results, changes, head: meta.head }
  }

  /** The batch that makes the plan durable. */
  operations(): LevelBatchOperation[] {
    return Array.from(this.#writes, ([key, value]) =>
      value === null ? { type: 'del' as const, key } : { type: 'put' as const, key, value })
  }

  async #mutate(userId: string, m: Mutation, rev: number, meta: UserMeta): Promise<Change> {
    if (m.op === 'clear') {
      await this.#clear(userId, rev)
      meta.clearRev = rev
      return { rev, clear: true }
    }
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
