import type { CacheWrite, CachedEntry, CubbyCache, OutboxEntry, OutboxRef } from './CubbyCache.js'
import { stageEntries } from './stageEntries.js'

/** Writes queued since the last flush, merged so that later parts override earlier ones. */
class Batch {
  clearEntries = false
  readonly entries = new Map<string, CachedEntry | null>()
  readonly outboxPut: OutboxEntry[] = []
  readonly outboxDelete: OutboxRef[] = []
  cursor: number | undefined
  reset = false
  clockOffset: number | undefined
  readonly done: Promise<void>
  // Declared only: the constructor's Object.assign sets them, and the build emits no field for them.
  declare resolve: () => void
  declare reject: (error: unknown) => void

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
    if (write.clockOffset !== undefined) this.clockOffset = write.clockOffset
  }

  toWrite(): CacheWrite {
    const write = stageEntries({ clearEntries: this.clearEntries, outboxPut: this.outboxPut, outboxDelete: this.outboxDelete }, this.entries)
    if (this.cursor !== undefined) write.cursor = this.cursor
    if (this.reset) write.reset = true
    if (this.clockOffset !== undefined) write.clockOffset = this.clockOffset
    return write
  }
}

/** How long server bookkeeping may wait behind local writes before it goes along with one. */
const BOOKKEEPING_MAX_DELAY_MS = 100
/** How many parts (records, outbox deletes) it may gather before it goes along with the next transaction. */
const BOOKKEEPING_MAX_PARTS = 2_000

/** Whether a write is only local writes going into the outbox (what `store()` waits for). */
const isLocal = (write: CacheWrite): boolean => Object.keys(write).join() === 'outboxPut'

/**
 * Coalesces cache writes: everything enqueued in one tick goes into one transaction, and only one
 * transaction is in flight at a time (what arrives meanwhile forms the next one).
 *
 * Local writes (outbox puts only) are urgent: a `store()` resolves when its transaction is done, so they
 * flush on a microtask, in transactions of their own. Everything else is server bookkeeping (a change's
 * records and cursor, an ack's outbox deletes), kept in order in a batch of its own that goes after the
 * local writes: on a macrotask when no local write is queued, or along with the next local write's
 * transaction once it has waited {@link BOOKKEEPING_MAX_DELAY_MS} or grown large, or at once when hurried
 * (a non-lazy enqueue, {@link settled}, {@link drain}). Otherwise every awaited store would queue behind the
 * bookkeeping of the previous one (the browser benchmark's awaited store/s). Letting local writes pass it is
 * safe: they touch outbox entries the bookkeeping does not (an ack comes after its write is durable), the
 * cursor is written with the records it covers, memory is ahead of the cache only while this batcher holds
 * the rest, and a replay of writes whose acks were not yet persisted is exactly-once.
 *
 * A cache that writes synchronously (`writeSync`, the memory cache) does not use a batcher: it has no
 * transaction to share, and a store's push can then leave without waiting for one.
 *
 * @internal
 */
export class WriteBatcher {
  readonly #cache: CubbyCache
  #local: Batch | undefined
  #bookkeeping: Batch | undefined
  #bookkeepingSince = 0
  #bookkeepingParts = 0
  #hurry = false
  #inFlight: Promise<void> | undefined
  #microtask = false
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(cache: CubbyCache) {
    this.#cache = cache
  }

  /**
   * Queues a write; resolves once it is durable, rejects if its transaction failed. A write that is not only
   * outbox puts is bookkeeping; `urgent: false` lets it wait behind local writes.
   */
  enqueue(write: CacheWrite, { urgent = true }: { urgent?: boolean } = {}): Promise<void> {
    let batch: Batch
    if (isLocal(write)) batch = this.#local ??= new Batch()
    else {
      if (!this.#bookkeeping) {
        this.#bookkeeping = new Batch()
        this.#bookkeepingSince = Date.now()
        this.#bookkeepingParts = 0
      }
      batch = this.#bookkeeping
      this.#bookkeepingParts += (write.putEntries?.length ?? 0) + (write.deleteEntries?.length ?? 0) + (write.outboxDelete?.length ?? 0) + 1
      this.#hurry ||= urgent
    }
    batch.merge(write)
    this.#schedule()
    return batch.done
  }

  /**
   * Resolves once everything queued so far has been written (or has failed), not waiting for later writes.
   * Bookkeeping queued so far goes with the next transaction (another tab hears of server frames only once
   * they are in the cache).
   */
  settled(): Promise<void> {
    const pending = [this.#local?.done, this.#bookkeeping?.done, this.#inFlight].filter((p) => p !== undefined)
    if (pending.length === 0) return Promise.resolve()
    if (this.#bookkeeping) {
      this.#hurry = true
      this.#schedule()
    }
    return Promise.all(pending.map((p) => p.catch(() => {}))).then(() => {})
  }

  /** Resolves when everything queued so far has been written (or has failed). */
  async drain(): Promise<void> {
    while (this.#inFlight || this.#local || this.#bookkeeping) {
      if (this.#bookkeeping) this.#hurry = true
      this.#schedule()
      await (this.#inFlight ?? this.#local?.done ?? this.#bookkeeping!.done).catch(() => {})
    }
  }

  #schedule(): void {
    if (this.#inFlight) return // the transaction in flight schedules what follows it
    if (this.#local || (this.#bookkeeping && this.#hurry)) {
      if (this.#microtask) return
      this.#microtask = true
      queueMicrotask(() => {
        this.#microtask = false
        this.#flush()
      })
    } else if (this.#bookkeeping) {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined
        this.#flush()
      }, 0)
    }
  }

  #flush(): void {
    if (this.#inFlight) return
    const local = this.#local
    const bookkeeping =
      this.#bookkeeping &&
      (!local || this.#hurry || Date.now() - this.#bookkeepingSince >= BOOKKEEPING_MAX_DELAY_MS || this.#bookkeepingParts >= BOOKKEEPING_MAX_PARTS)
        ? this.#bookkeeping
        : undefined
    if (!local && !bookkeeping) return
    if (bookkeeping) {
      clearTimeout(this.#timer)
      this.#timer = undefined
      this.#bookkeeping = undefined
      this.#hurry = false
    }
    this.#local = undefined
    const batches = [bookkeeping, local].filter((b) => b !== undefined)
    const write = bookkeeping ? bookkeeping.toWrite() : local!.toWrite()
    if (bookkeeping && local) write.outboxPut = [...write.outboxPut!, ...local.outboxPut]
    this.#inFlight = this.#cache
      .write(write)
      .then(
        () => batches.forEach((b) => b.resolve()),
        (error: unknown) => batches.forEach((b) => b.reject(error)),
      )
      .finally(() => {
        this.#inFlight = undefined
        this.#schedule()
      })
  }
}
