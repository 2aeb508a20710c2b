import type { CacheWrite, CachedEntry, CubbyCache, OutboxEntry, OutboxRef } from './CubbyCache.js'

/** Writes queued since the last flush, merged so that later parts override earlier ones. */
class Batch {
  clearEntries = false
  readonly entries = new Map<string, CachedEntry | null>()
  readonly outboxPut: OutboxEntry[] = []
  readonly outboxDelete: OutboxRef[] = []
  cursor: number | undefined
  reset = false
  readonly done: Promise<void>
  resolve!: () => void
  reject!: (error: unknown) => void

  constructor() {
    this.done = new Promise((resolve, reject) => Object.assign(this, { resolve, reject }))
    // The caller of enqueue() handles the failure; this only keeps it from being reported twice.
    this.done.catch(() => {})
  }

  merge(write: CacheWrite): void {
    if (write.clearEntries || write.reset) {
      this.clearEntries ||= write.clearEntries === true
      this.entries.clear()
    }
    if (write.reset) {
      // The server started over: the cursor goes back, and earlier records of this batch are of the old history.
      this.reset = true
      this.cursor = write.cursor
    }
    for (const key of write.deleteEntries ?? []) this.entries.set(key, null)
    for (const entry of write.putEntries ?? []) this.entries.set(entry.key, entry)
    this.outboxPut.push(...(write.outboxPut ?? []))
    this.outboxDelete.push(...(write.outboxDelete ?? []))
    if (write.cursor !== undefined) this.cursor = Math.max(this.cursor ?? 0, write.cursor)
  }

  toWrite(): CacheWrite {
    const entries = [...this.entries.values()]
    const write: CacheWrite = {
      clearEntries: this.clearEntries,
      deleteEntries: [...this.entries].filter(([, e]) => e === null).map(([key]) => key),
      putEntries: entries.filter((e): e is CachedEntry => e !== null),
      outboxPut: this.outboxPut,
      outboxDelete: this.outboxDelete,
    }
    if (this.cursor !== undefined) write.cursor = this.cursor
    if (this.reset) write.reset = true
    return write
  }
}

/**
 * Coalesces cache writes: everything enqueued in one tick goes into one transaction, and only one
 * transaction is in flight at a time (what arrives meanwhile forms the next one). Order is kept.
 *
 * @internal
 */
export class WriteBatcher {
  readonly #cache: CubbyCache
  #queued: Batch | undefined
  #inFlight: Promise<void> | undefined

  constructor(cache: CubbyCache) {
    this.#cache = cache
  }

  /** Queues a write; resolves once it is durable, rejects if its transaction failed. */
  enqueue(write: CacheWrite): Promise<void> {
    if (!this.#queued) {
      this.#queued = new Batch()
      if (!this.#inFlight) queueMicrotask(() => this.#flush())
    }
    this.#queued.merge(write)
    return this.#queued.done
  }

  /** Resolves once everything queued so far has been written (or has failed), not waiting for later writes. */
  settled(): Promise<void> {
    const last = this.#queued?.done ?? this.#inFlight
    return last ? last.then(() => {}, () => {}) : Promise.resolve()
  }

  /** Resolves when everything queued so far has been written (or has failed). */
  async drain(): Promise<void> {
    while (this.#inFlight || this.#queued) await (this.#inFlight ?? this.#queued!.done).catch(() => {})
  }

  #flush(): void {
    const batch = this.#queued
    if (!batch || this.#inFlight) return
    this.#queued = undefined
    this.#inFlight = this.#cache
      .write(batch.toWrite())
      .then(batch.resolve, batch.reject)
      .finally(() => {
        this.#inFlight = undefined
        this.#flush()
      })
  }
}
