import { CubbyError, type Mutation } from '@cubby/protocol'
import type { CommitResult } from './CubbyStorage.js'
import { FlushPlan, type CommitRequest, type UserMeta } from './FlushPlan.js'
import { UTF8, type LevelDatabase } from './LevelDatabase.js'
import { deletionKey, metaKey, parseDeletion, parseMeta } from './levelKeys.js'
import type { StorageBudget } from './StorageBudget.js'
import type { UserQuota } from './UserQuota.js'
import { WriteCache } from './WriteCache.js'
import { traceStage } from '../traceStage.js'

interface PendingCommit extends CommitRequest {
  exclusive?: undefined
  resolve: (result: CommitResult) => void
  reject: (error: unknown) => void
}

/** An operation that runs alone, between flushes (deleting or importing a user, taking a snapshot). */
interface PendingExclusive {
  exclusive: () => Promise<unknown>
  mutations: readonly unknown[]
  resolve: (result: unknown) => void
  reject: (error: unknown) => void
}

type Pending = PendingCommit | PendingExclusive

/** Mutations to gather into one flush at most (one request always goes whole). */
const MAX_MUTATIONS_PER_FLUSH = 10_000

/**
 * Group commit: one loop takes everything queued, plans it as one batch and writes it with `sync: true`, then
 * resolves every request in order. Many users share one fsync; one user's requests stay strictly ordered. A commit
 * that finds the loop idle starts it in the same step (no hop before the fsync); the commits that come while a batch
 * is written go together in the next.
 * @internal
 */
export class GroupCommitter {
  readonly #db: LevelDatabase
  readonly #quota: UserQuota
  /** Durable state only: updated after each batch is written, and only by this loop. */
  readonly cache: WriteCache
  /** The server-wide byte budget, when one is set: moved by each batch, and by deletions and imports. */
  readonly budget: StorageBudget | undefined
  #queue: Pending[] = []
  #loop: Promise<void> | undefined
  #closed = false
  /** Told of every user a flush cleared, once the batch is durable. */
  onPurge: (userId: string) => void = () => {}

  constructor(db: LevelDatabase, quota: UserQuota, maxIndexedKeys: number, budget?: StorageBudget) {
    this.#db = db
    this.#quota = quota
    this.cache = new WriteCache(db, maxIndexedKeys)
    this.budget = budget
  }

  /** Queues a commit; it is applied after every commit queued before it. */
  commit(
    userId: string, mutations: Mutation[], clientId: string | undefined, authorizedAt?: number, atomic?: boolean, expire?: CommitRequest['expire'],
  ): Promise<CommitResult> {
    if (this.#closed) return Promise.reject(new CubbyError('CLOSED', 'The storage is closed'))
    return new Promise((resolve, reject) => {
      this.#queue.push({ userId, mutations, clientId, authorizedAt, atomic, expire, resolve, reject })
      traceStage('queued')
      // An idle committer starts at once: a cached user's batch is then issued in this very step, and the rest of
      // the frame's handling runs while the fsync does. Commits queued while a batch is written share the next one.
      // (The queue is empty whenever the loop is idle, so this step plans only this commit and calls no commit back.)
      this.#loop ??= this.#run()
    })
  }

  /**
   * Queues an operation that runs alone, after every commit queued before it and before any queued after it,
   * with what is cached of the user dropped before and after (it may change their records). For work that must
   * not interleave with commits of the same user, in steps small enough to keep other users' commits waiting
   * only briefly.
   */
  exclusive<T>(userId: string, run: () => Promise<T>): Promise<T> {
    return this.atRest(async () => {
      this.cache.drop(userId)
      try {
        return await run()
      } finally {
        this.cache.drop(userId)
      }
    })
  }

  /**
   * Runs `run` between two flushes, when no batch is in flight, so that what it reads (a snapshot taken
   * synchronously, the durable meta) is consistent with the cache. It must not change any user's records.
   */
  atRest<T>(run: () => Promise<T> | T): Promise<T> {
    if (this.#closed) return Promise.reject(new CubbyError('CLOSED', 'The storage is closed'))
    return new Promise<T>((resolve, reject) => {
      const exclusive = async (): Promise<T> => run()
      this.#queue.push({ exclusive, mutations: [], resolve: resolve as (r: unknown) => void, reject })
      this.#loop ??= Promise.resolve().then(() => this.#run())
    })
  }

  /**
   * The user's durable meta: cached, or read (and cached when no batch is in flight). A deleted user's is made
   * from the deletion marker: the head they had, everything up to it cleared.
   */
  async meta(userId: string, atRest = false): Promise<UserMeta> {
    const cached = this.cache.get(userId)
    if (cached?.meta !== undefined && cached.deletion !== undefined) return cached.meta
    const [raw, rawDeletion] = await this.#db.getMany([metaKey(userId), deletionKey(userId)], UTF8)
    const deletion = parseDeletion(rawDeletion) ?? null
    const meta = parseMeta(raw, deletion ?? undefined)
    if (atRest && !Number.isNaN(meta.keys) && !Number.isNaN(meta.bytes)) this.cache.setMeta(userId, meta, deletion)
    return meta
  }

  /** Refuses new commits and waits for the queued ones. */
  async close(): Promise<void> {
    this.#closed = true
    await this.#loop
  }

  async #run(): Promise<void> {
    while (this.#queue.length > 0) {
      const first = this.#queue[0]!
      if (first.exclusive !== undefined) {
        this.#queue.shift()
        await first.exclusive().then(first.resolve, first.reject)
      } else await this.#flush(this.#take())
    }
    this.#loop = undefined
  }

  #take(): PendingCommit[] {
    let count = 0
    let n = 0
    while (n < this.#queue.length && this.#queue[n]!.exclusive === undefined && (n === 0 || count + this.#queue[n]!.mutations.length <= MAX_MUTATIONS_PER_FLUSH)) {
      count += this.#queue[n]!.mutations.length
      n++
    }
    return this.#queue.splice(0, n) as PendingCommit[]
  }

  async #flush(requests: PendingCommit[]): Promise<void> {
    try {
      const plan = new FlushPlan(this.#db, (userId) => this.cache.get(userId), this.#quota, this.budget)
      // Cached users need no read: the plan and the batch then follow in the same synchronous step.
      const reading = plan.prefetch(requests)
      if (reading !== undefined) await reading
      const results = requests.map((request) => plan.apply(request))
      traceStage('batch-start')
      await this.#db.batch(plan.operations(), { ...UTF8, sync: true })
      traceStage('batch-durable')
      this.cache.commit(plan.users)
      if (this.budget !== undefined) this.budget.used += plan.bytesDelta
      requests.forEach((r, i) => r.resolve(results[i]!))
      for (const userId of plan.purges) this.onPurge(userId)
    } catch (error) {
      for (const r of requests) r.reject(error)
    }
  }
}
