import { CubbyError } from '@cubby/protocol'
import type { CacheSnapshot, CacheWrite, CubbyCache, OutboxEntry, OutboxRef } from './CubbyCache.js'
import { evictionRecord } from './evictionRecord.js'
import { storageFailureKind } from './storageFailureKind.js'
import type { CubbyStorageStats } from './storageStats.js'

/** How a {@link ResilientCache} tells its owner what the app should hear of. */
export interface StorageEvents {
  /** A failure the app should hear of: `CACHE_FULL`, `CACHE_EVICTED` (with the pending writes lost), `CACHE_UNAVAILABLE`. */
  error(error: CubbyError, lostWrites?: number): void
  /** `persistent` changed: the cache gave up on the database and works from memory. */
  persistence(): void
}

/** What the owner of the data in memory writes when the disk lost it: everything confirmed, and with `all` the outbox too. */
export type SnapshotSource = (all: boolean) => CacheWrite

/** Everything {@link ResilientCache.open} needs. */
export interface ResilientCacheOptions {
  /** Opens a new connection to the user's database. */
  open: () => Promise<CubbyCache>
  /** Names the database in localStorage (see {@link evictionRecord}). */
  id: string
  stats: CubbyStorageStats
  events: StorageEvents
}

/** How many times in a row one operation reopens the database before the cache falls back to memory. */
const MAX_REOPENS = 5
/** The first and the longest wait before writing confirmed data again after the quota was spent. */
const FULL_RETRY_MIN_MS = 1_000
const FULL_RETRY_MAX_MS = 60_000
/**
 * The longest the localStorage record of the pending writes on disk (see {@link evictionRecord}) lags behind the
 * disk: writing it after every transaction cost an awaited store a synchronous localStorage call. It is written
 * at once when it was not written for this long, else at the end of the period, and when the page is hidden or
 * the cache closed.
 */
const RECORD_EVERY_MS = 250

const refId = (clientId: string, mid: number): string => `${mid}\u0000${clientId}`
const randomMarker = (): string => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The failure handling both IndexedDB caches share, around a cache of either: a connection closed or lost under
 * it is reopened and the write retried (writes queue in memory meanwhile, in order), up to {@link MAX_REOPENS}
 * times before it gives up and works from memory; a spent quota evicts the cached server values and keeps the
 * outbox (on disk, or in memory when even that does not fit) until there is space again; a database deleted
 * under it (its marker is gone) is written again from memory, and one deleted between page loads is reported
 * with the pending writes it took along.
 *
 * @internal
 */
export class ResilientCache implements CubbyCache {
  #inner: CubbyCache | undefined
  readonly #options: ResilientCacheOptions
  #marker: string
  #mode: 'disk' | 'full' | 'memory' = 'disk'
  /** What the disk lacks of the data in memory: nothing, the confirmed records, or everything. */
  #stale: 'none' | 'confirmed' | 'all' = 'none'
  /** Outbox parts not yet on disk. */
  readonly #outboxPut = new Map<string, OutboxEntry>()
  readonly #outboxDelete = new Map<string, OutboxRef>()
  /** Outbox entries on disk, as far as this tab knows (for the count of writes an eviction would lose). */
  readonly #onDisk = new Set<string>()
  #snapshot: SnapshotSource | undefined
  #queue: Promise<unknown> = Promise.resolve()
  #fullDelay = 0
  #fullRetryAt = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  #closed = false
  /**
   * Whether the marker of the connection in use was checked: at open, then by the first write on each new
   * connection (see {@link CubbyCache.onClosed}); a cache that cannot tell of a close has every write check it.
   */
  #verified = true
  /** The eviction record changed since it was last written; the timer of its period runs. */
  #recordDue = false
  #recordTimer: ReturnType<typeof setTimeout> | undefined
  readonly #flushRecord = (): void => {
    clearTimeout(this.#recordTimer)
    this.#recordTimer = undefined
    this.#writeRecord(false)
  }

  private constructor(options: ResilientCacheOptions, inner: CubbyCache, marker: string) {
    this.#options = options
    this.#inner = inner
    this.#marker = marker
    this.#watch(inner)
    // The record's last change must not wait for a timer that a closing page never runs.
    globalThis.addEventListener?.('pagehide', this.#flushRecord)
  }

  /** Once the browser closes the connection (its database was deleted), the next write checks the marker: now. */
  #watch(inner: CubbyCache): void {
    inner.onClosed?.(() => {
      if (this.#inner !== inner || this.#closed) return
      this.#verified = false
      void this.write({}).catch(() => {})
    })
  }

  /**
   * Opens the database and reads it; a database without a marker that localStorage remembers was evicted since
   * the last page load: reported with the pending writes it held.
   *
   * @throws What opening or reading threw the last time, after the reopens.
   */
  static async open(options: ResilientCacheOptions): Promise<{ cache: ResilientCache; snapshot: CacheSnapshot }> {
    for (let attempt = 0; ; attempt++) {
      let inner: CubbyCache | undefined
      try {
        inner = await options.open()
        const snapshot = await inner.load()
        let { marker } = snapshot
        if (marker === undefined) {
          const known = evictionRecord.read(options.id)
          if (known) ResilientCache.#evicted(options, known.pending, 'between page loads')
          marker = await ResilientCache.#markerOf(inner)
        }
        const cache = new ResilientCache(options, inner, marker)
        for (const e of snapshot.outbox) cache.#onDisk.add(refId(e.clientId, e.mutation.mid))
        cache.#remember()
        return { cache, snapshot }
      } catch (error) {
        await inner?.close().catch(() => {})
        if (attempt >= MAX_REOPENS || storageFailureKind(error) === 'other') throw error
        options.stats.failures[storageFailureKind(error)]++
        await wait(20 * 2 ** attempt)
      }
    }
  }

  /**
   * The database's marker, marking it first if it has none. Another tab may mark it at the same time: the write
   * keeps a stored marker, and the one read back afterwards is the one all tabs use.
   */
  static async #markerOf(cache: CubbyCache): Promise<string> {
    const { marker } = await cache.load()
    if (marker !== undefined) return marker
    await cache.write({ marker: randomMarker() })
    const marked = (await cache.load()).marker
    if (marked === undefined) throw new CubbyError('STORAGE_ERROR', 'The cache did not keep its marker')
    return marked
  }

  static #evicted({ stats, events }: ResilientCacheOptions, lost: number, when: string): void {
    stats.evictions++
    stats.failures.evicted++
    stats.lostWrites += lost
    const what = lost > 0 ? `${lost} pending write(s) that were only on this device are lost` : 'no pending write was lost'
    events.error(new CubbyError('CACHE_EVICTED', `The local cache was deleted ${when}: ${what}; rebuilding it`), lost)
  }

  get persistent(): boolean {
    return this.#mode !== 'memory'
  }

  /** Takes the source of the data in memory, for writing it again when the disk lost some of it. */
  attach(snapshot: SnapshotSource): void {
    this.#snapshot = snapshot
  }

  load(): Promise<CacheSnapshot> {
    return this.#serial(async () => {
      if (!this.persistent) return this.#memorySnapshot()
      // Whatever the disk lacks goes first, so that a tab reading it sees what memory has.
      // (And a new connection's marker is checked first, by a write.)
      if (this.#stale !== 'none' || this.#outboxPut.size > 0 || this.#outboxDelete.size > 0 || !this.#verified) await this.#write({})
      // (Which may have given up on the database.)
      if (!this.persistent) return this.#memorySnapshot()
      return this.#attempt((cache) => cache.load())
    })
  }

  write(batch: CacheWrite): Promise<void> {
    return this.#serial(() => this.#write(batch))
  }

  async destroy(): Promise<void> {
    await this.#serial(async () => {
      clearTimeout(this.#timer)
      // Nothing is due any more: no record comes back after this removal.
      this.#recordDue = false
      evictionRecord.remove(this.#options.id)
      if (this.#mode !== 'memory') await this.#attempt((cache) => cache.destroy())
      // Working from memory, the user's data may still be on disk: one more try to delete it.
      else await this.#options.open().then((cache) => cache.destroy()).catch(() => {})
      this.#stop()
      this.#inner = undefined
    })
  }

  async close(): Promise<void> {
    await this.#serial(async () => {
      this.#stop()
      await this.#inner?.close().catch(() => {})
      this.#inner = undefined
    })
  }

  #stop(): void {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#flushRecord()
    globalThis.removeEventListener?.('pagehide', this.#flushRecord)
  }

  #serial<T>(run: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(run)
    this.#queue = result.catch(() => {})
    return result
  }

  #memorySnapshot(): CacheSnapshot {
    const { putEntries = [], outboxPut = [], cursor = 0 } = this.#snapshot?.(true) ?? {}
    return { entries: putEntries, outbox: outboxPut, cursor }
  }

  async #write(batch: CacheWrite): Promise<void> {
    if (this.#mode === 'memory') return
    for (const e of batch.outboxPut ?? []) this.#outboxPut.set(refId(e.clientId, e.mutation.mid), e)
    for (const r of batch.outboxDelete ?? []) {
      this.#outboxPut.delete(refId(r.clientId, r.mid))
      this.#outboxDelete.set(refId(r.clientId, r.mid), r)
    }
    const confirmed = this.#mode === 'disk' || Date.now() >= this.#fullRetryAt
    const hasConfirmed = !!(batch.clearEntries || batch.deleteEntries?.length || batch.putEntries?.length) || batch.cursor !== undefined
    if (!confirmed && hasConfirmed && this.#stale === 'none') this.#stale = 'confirmed'
    try {
      await this.#attempt((cache) => this.#writeTo(cache, this.#compose(batch, confirmed, cache)))
    } catch (error) {
      const kind = storageFailureKind(error)
      if (kind === 'quota') return this.#full(confirmed)
      if (kind === 'closed' || kind === 'unknown') return this.#toMemory(error)
      // This write cannot be stored at all: its own outbox parts are rolled back by the caller.
      this.#options.stats.failures.other++
      for (const e of batch.outboxPut ?? []) this.#outboxPut.delete(refId(e.clientId, e.mutation.mid))
      throw error
    }
    this.#persisted()
    if (confirmed) {
      this.#stale = 'none'
      if (this.#mode === 'full') this.#roomAgain()
    } else if (this.#stale === 'all') this.#stale = 'confirmed'
  }

  /**
   * The write to send: with `confirmed`, the confirmed parts (or memory's whole state, if the disk lost it); and
   * every outbox part not on disk.
   */
  #compose(batch: CacheWrite, confirmed: boolean, cache: CubbyCache): CacheWrite {
    const snapshot = this.#stale !== 'none' ? this.#snapshot?.(this.#stale === 'all') : undefined
    const write: CacheWrite = confirmed ? { ...(snapshot ?? batch) } : {}
    const puts = new Map<string, OutboxEntry>()
    for (const e of snapshot?.outboxPut ?? []) puts.set(refId(e.clientId, e.mutation.mid), e)
    for (const [id, e] of this.#outboxPut) puts.set(id, e)
    write.outboxPut = [...puts.values()]
    write.outboxDelete = [...this.#outboxDelete.values()]
    if (!this.#verified || !cache.onClosed) write.expectMarker = this.#marker
    return write
  }

  /** Writes to a connection; one whose marker the write checked is verified. */
  async #writeTo(cache: CubbyCache, write: CacheWrite): Promise<void> {
    await cache.write(write)
    if (write.expectMarker !== undefined && cache === this.#inner) this.#verified = true
  }

  /** Runs an operation on the database, reopening it when the connection was closed or lost, and rebuilding it when it was evicted. */
  async #attempt<T>(run: (cache: CubbyCache) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (this.#closed) throw new CubbyError('CLOSED')
        this.#inner ??= await this.#reopen()
        return await run(this.#inner)
      } catch (error) {
        const kind = storageFailureKind(error)
        if (kind === 'other' || kind === 'quota' || attempt >= MAX_REOPENS) throw error
        if (kind === 'evicted') await this.#rebuild()
        else {
          this.#options.stats.failures[kind]++
          await this.#inner?.close().catch(() => {})
          this.#inner = undefined
          await wait(20 * 2 ** attempt)
        }
      }
    }
  }

  async #reopen(): Promise<CubbyCache> {
    this.#options.stats.reopens++
    const inner = await this.#options.open()
    // A new connection may be to a new database (the old one deleted): its first write checks the marker.
    this.#verified = false
    this.#watch(inner)
    return inner
  }

  /**
   * The database was deleted under a running client: memory has everything (no pending write is lost); write it
   * all again. Another tab may have marked the new database already: its marker is taken over, so that tabs do
   * not take turns finding each other's marker "evicted".
   */
  async #rebuild(): Promise<void> {
    ResilientCache.#evicted(this.#options, 0, 'while the page ran')
    this.#stale = 'all'
    this.#onDisk.clear()
    try {
      this.#marker = await ResilientCache.#markerOf(this.#inner!)
    } catch {
      // The next try finds the marker wrong again, and comes here again.
    }
  }

  /**
   * The quota is spent: evict the cached server values (the server has them), keep the outbox, try again later
   * (waiting longer after each try with the confirmed data that failed).
   */
  async #full(triedConfirmed: boolean): Promise<void> {
    const { stats, events } = this.#options
    stats.failures.quota++
    if (triedConfirmed) {
      this.#fullDelay = Math.min(Math.max(this.#fullDelay * 2, FULL_RETRY_MIN_MS), FULL_RETRY_MAX_MS)
      this.#fullRetryAt = Date.now() + this.#fullDelay
    }
    if (this.#stale === 'none') this.#stale = 'confirmed'
    if (this.#mode !== 'full') {
      this.#mode = 'full'
      stats.full = true
      events.error(new CubbyError('CACHE_FULL', 'The browser refused to store more: cached values were evicted, pending writes are kept'))
      // A cursor of 0 with no records: a reload then catches up from the start.
      await this.#attempt((cache) => cache.write({ reset: true, clearEntries: true, cursor: 0, expectMarker: this.#marker })).catch(() => {})
    }
    try {
      await this.#attempt((cache) => this.#writeTo(cache, this.#compose({}, false, cache)))
      this.#persisted()
      if (this.#stale === 'all') this.#stale = 'confirmed'
    } catch (error) {
      // Not even the outbox fits: it stays in memory, and goes with the next write that fits.
      if (storageFailureKind(error) !== 'quota') return this.#toMemory(error)
    }
    stats.unpersisted = this.#outboxPut.size
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined
      if (!this.#closed) void this.write({}).catch(() => {})
    }, this.#fullDelay)
  }

  #roomAgain(): void {
    this.#mode = 'disk'
    this.#fullDelay = 0
    this.#options.stats.full = false
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /** The outbox parts of the last write are on disk. */
  #persisted(): void {
    for (const [id] of this.#outboxPut) this.#onDisk.add(id)
    for (const [id] of this.#outboxDelete) this.#onDisk.delete(id)
    this.#outboxPut.clear()
    this.#outboxDelete.clear()
    this.#options.stats.unpersisted = 0
    this.#remember()
  }

  #remember(): void {
    this.#recordDue = true
    if (this.#recordTimer === undefined) this.#writeRecord(true)
  }

  /** Writes the eviction record if it changed; with `period`, starts a period in which changes wait for its end. */
  #writeRecord(period: boolean): void {
    if (!this.#recordDue) return
    this.#recordDue = false
    evictionRecord.write(this.#options.id, { marker: this.#marker, pending: this.#onDisk.size })
    if (period && !this.#closed) {
      this.#recordTimer = setTimeout(() => {
        this.#recordTimer = undefined
        this.#writeRecord(true)
      }, RECORD_EVERY_MS)
    }
  }

  /** The database kept failing: work from memory, and say so. */
  async #toMemory(cause: unknown): Promise<void> {
    const { stats, events } = this.#options
    this.#mode = 'memory'
    stats.memoryOnly = true
    stats.full = false
    stats.unpersisted = 0
    this.#outboxPut.clear()
    this.#outboxDelete.clear()
    clearTimeout(this.#timer)
    await this.#inner?.close().catch(() => {})
    this.#inner = undefined
    const reason = cause instanceof Error ? cause.message : String(cause)
    events.error(new CubbyError('CACHE_UNAVAILABLE', `The local cache kept failing (${reason}): working from memory; values will not outlive this page`, { cause }))
    events.persistence()
  }
}
