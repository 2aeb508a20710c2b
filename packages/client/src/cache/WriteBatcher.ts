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
    // One by one: spreading a large write into push() overflows the stack (storeMany of 200,000 entries).
    for (const entry of write.outboxPut ?? []) this.outboxPut.push(entry)
    for (const ref of write.outboxDelete ?? []) this.outboxDelete.push(ref)
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
 * Local writes are urgent: a `store()` resolves when its transaction is done, so they flush on a microtask.
 * Server bookkeeping (a change's records and cursor, an ack's outbox deletes) is lazy: it rides along with
 * the next local write, or flushes on a macrotask when none comes. Otherwise every awaited store would queue
 * behind the two bookkeeping transactions of the previous one (the browser benchmark's awaited store/s).
 * Delaying it is safe: the cursor is written with the records it covers, and a replay is exactly-once.
 *
 * A cache that writes synchronously (`writeSync`, the memory cache) does not use a batcher: it has no
 * transaction to share, and a store's push can then leave without waiting for one.
 *
 * @internal
 */
export class WriteBatcher {
  readonly #cache: CubbyCache
  #queued: Batch | undefined
  #urgent = false
  #inFlight: Promise<void> | undefined
  #microtask = false
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(cache: CubbyCache) {
    this.#cache = cache
  }

  /** Queues a write; resolves once it is durable, rejects if its transaction failed. */
  enqueue(write: CacheWrite, { urgent = true }: { urgent?: boolean } = {}): Promise<void> {
    this.#queued ??= new Batch()
    this.#queued.merge(write)
    this.#urgent ||= urgent
    this.#schedule()
    return this.#queued.done
  }

  /**
   * Resolves once everything queued so far has been written (or has failed), not waiting for later writes.
   * It does not hurry lazy writes: they go within a macrotask anyway (another tab hears of server frames
   * that much later).
   */
  settled(): Promise<void> {
    const last = this.#queued?.done ?? this.#inFlight
    return last ? last.then(() => {}, () => {}) : Promise.resolve()
  }

  /** Resolves when everything queued so far has been written (or has failed). */
  async drain(): Promise<void> {
    while (this.#inFlight || this.#queued) {
      if (this.#queued) this.#urgent = true
      this.#schedule()
      await (this.#inFlight ?? this.#queued!.done).catch(() => {})
    }
  }

  #schedule(): void {
    if (!this.#queued || this.#inFlight) return // the transaction in flight schedules what follows it
    if (this.#urgent) {
      if (this.#microtask) return
      this.#microtask = true
      queueMicrotask(() => {
        this.#microtask = false
        this.#flush()
      })
    } else {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined
        this.#flush()
      }, 0)
    }
  }

  #flush(): void {
    const batch = this.#queued
    if (!batch || this.#inFlight) return
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#queued = undefined
    this.#urgent = false
    this.#inFlight = this.#cache
      .write(batch.toWrite())
      .then(batch.resolve, batch.reject)
      .finally(() => {
        this.#inFlight = undefined
        this.#schedule()
      })
  }
}
