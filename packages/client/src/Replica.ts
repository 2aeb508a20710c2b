import { type AckMessage, CubbyError, type Mutation, type MutationResult, type ServerMessage, type WireError, type WriteCondition } from '@cubby/protocol'
import { asCubbyError } from './asCubbyError.js'
import type { CacheWrite, CubbyCache, OutboxEntry, OutboxRef } from './cache/CubbyCache.js'
import { ResilientCache } from './cache/ResilientCache.js'
import { WriteBatcher } from './cache/WriteBatcher.js'
import type { ListOptions } from './state/KeyIndex.js'
import type { LocalState, ViewChange, ViewEntry } from './state/LocalState.js'
import type { PendingWrite } from './state/PendingWrites.js'
import { ServerClock } from './state/ServerClock.js'
import { Pusher } from './sync/Pusher.js'

/**
 * A mutation before it gets its id: made for {@link Replica.write}, which sets `mid` in place (the makers put a
 * `0` there, so that the id keeps its place in the encoded frame).
 */
export type MutationInput =
  | { op: 'store'; mid?: number; key: string; value: string; expiresAt?: number; if?: WriteCondition }
  | { op: 'delete'; mid?: number; key: string; if?: WriteCondition }
  | { op: 'clear'; mid?: number }

/** How {@link Replica.writeTracked} files writes in the outbox. */
export interface WriteExtras {
  /** The first write's condition waits for this pending write's result (see `OutboxEntry.after`). */
  after?: PendingWrite | undefined
  /** The writes form one atomic batch with this id. */
  batch?: string | undefined
}

/**
 * Durable writes in overlay order, each client id's only up to its first write that is not durable yet: the
 * server takes a mid at or below the last one it applied for a client id as a retry, so a client's writes must
 * reach it (through whichever tab sends them) in the order of their mids.
 */
function durableInOrder(writes: Iterable<PendingWrite>): PendingWrite[] {
  const blocked = new Set<string>()
  const out: PendingWrite[] = []
  for (const w of writes) {
    if (blocked.has(w.clientId)) continue
    if (w.durable) out.push(w)
    else blocked.add(w.clientId)
  }
  return out
}

/** What a tracked write made: its pending writes (for their verdicts) and the promise of local durability. */
export interface TrackedWrite {
  writes: PendingWrite[]
  durable: Promise<void>
}

/** How a {@link Replica} reports to its owner. */
export interface ReplicaHooks {
  change(changes: ViewChange[], origin: 'local' | 'remote'): void
  pending(writes: readonly PendingWrite[]): void
  error(error: CubbyError): void
  /** A `synced` frame arrived: the catch-up is complete. */
  synced(): void
  /** A write of one key was rejected (by the server, or dropped with the one it was built on). Else `error` reports it. */
  rejected?(error: CubbyError, key: string): void
  /**
   * Local writes became durable in the outbox (for other tabs to learn of them). `entries` lists them, and is
   * called only when other tabs listen: with none (`tabs: 'independent'`, a memory cache) nothing is listed.
   */
  durable?(entries: () => readonly OutboxEntry[]): void
}

/** Local writes that went into one cache batch (see {@link WriteBatcher}), and the promise their stores share. */
interface LocalBatch {
  /** The cache batch's own promise: writes that get the same one went into the same transaction. */
  done: Promise<void>
  writes: PendingWrite[]
  entries: OutboxEntry[]
  result: Promise<void>
}

interface Waiter {
  order: number
  resolve: () => void
  reject: (error: unknown) => void
}

const fromWire = (e: WireError, message: string): CubbyError =>
  new CubbyError(e.code, message, e.retryAfter === undefined ? {} : { retryAfter: e.retryAfter })
/** The outbox entry of a write, without what memory keeps with it (for posting to other tabs). */
const outboxEntry = ({ seq, clientId, mutation, after, batch }: OutboxEntry): OutboxEntry =>
  ({ seq, clientId, mutation, ...(after !== undefined && { after }), ...(batch !== undefined && { batch }) })
const refOf = (w: PendingWrite): OutboxRef => ({ clientId: w.clientId, mid: w.mutation.mid })
const storageError = (cause: unknown): CubbyError =>
  new CubbyError('STORAGE_ERROR', `The local cache failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })

/**
 * A user's data on this device once loaded: the state in memory, its cache behind a write batcher, and the
 * outbox on its way to the server.
 *
 * @internal
 */
export class Replica {
  readonly #state: LocalState
  readonly cache: CubbyCache
  readonly #batcher: WriteBatcher
  readonly #hooks: ReplicaHooks
  readonly #clientId: string
  /**
   * This client's writes not yet announced as durable, in the order of their mids (see {@link #announce}): only
   * these are looked at per batch, not the whole overlay, which grows with every write made offline.
   */
  #unannounced: PendingWrite[] = []
  readonly #pusher: Pusher
  #nextMid = 1
  #nextSeq: number
  #waiters: Waiter[] = []
  /** Verdicts someone awaits (see {@link verdict}). */
  readonly #verdicts = new Map<PendingWrite, { promise: Promise<void>; resolve: () => void; reject: (e: CubbyError) => void }>()
  #needsRepair = false
  #repairing = false
  /** The local writes of the cache batch being filled. */
  #batch: LocalBatch | undefined
  readonly clock: ServerClock
  /** The one timer of the earliest expiry of a visible value, and when it fires (server time). */
  #expiryTimer: ReturnType<typeof setTimeout> | undefined
  #expiryAt: number | undefined
  #closed = false
  constructor(options: {
    state: LocalState
    cache: CubbyCache
    hooks: ReplicaHooks
    /** The server's clock as this device knows it, which `state` measures expiries on. @default the device's clock */
    clock?: ServerClock
    clientId: string
    maxFrameBytes: number
    /** The shortest time between two rounds of pushes of writes an asynchronous cache made durable. @default 8 */
    pushIntervalMs?: number
  }) {
    this.#state = options.state
    this.cache = options.cache
    this.#batcher = new WriteBatcher(options.cache)
    this.clock = options.clock ?? new ServerClock()
    const hooks = options.hooks
    // Every view change may add or remove an expiring value: the timer follows the earliest one.
    this.#hooks = {
      ...hooks,
      change: (changes, origin) => {
        hooks.change(changes, origin)
        this.#armExpiry()
      },
    }
    this.#clientId = options.clientId
    this.#pusher = new Pusher({
      writes: () => this.#state.pending.values(),
      maxFrameBytes: options.maxFrameBytes,
      syncCache: options.cache.writeSync !== undefined,
      intervalMs: options.pushIntervalMs,
    })
    this.#nextSeq = options.state.pending.maxSeq + 1
    // The cache writes memory's state again when the disk lost it (evicted, or over quota).
    if (options.cache instanceof ResilientCache) {
      options.cache.attach((all) => (all ? { ...this.#state.snapshotWrite(), outboxPut: this.durableWrites(true) } : this.#state.snapshotWrite()))
    }
  }

  /**
   * Applies writes to the view now; resolves once they are durable in the cache, then sends them. Every write
   * of one cache batch shares one promise, one durable/rollback step and one push: per-store callbacks were a
   * large part of the client's CPU when many stores come in one tick.
   */
  write(inputs: readonly MutationInput[]): Promise<void> {
    const entries: OutboxEntry[] = []
    for (let i = 0; i < inputs.length; i++) entries.push(this.#entry(inputs[i]!))
    return this.#add(entries).durable
  }

  /** {@link write} of one input (a `store`): no array of inputs. */
  writeOne(input: MutationInput): Promise<void> {
    return this.#add([this.#entry(input)]).durable
  }

  /** The outbox entry of an input, which takes its id in place: it is this write's own object, and a copy per store costs more. */
  #entry(input: MutationInput): OutboxEntry {
    input.mid = this.#nextMid++
    return { seq: this.#nextSeq++, clientId: this.#clientId, mutation: input as Mutation }
  }

  /**
   * As {@link write}, with the pending writes returned (to await their verdicts, see {@link verdict}), and the
   * writes filed as one atomic batch or as waiting for an earlier write's result.
   */
  writeTracked(inputs: readonly MutationInput[], { after, batch }: WriteExtras = {}): TrackedWrite {
    const entries = inputs.map((input, i): OutboxEntry => {
      input.mid = this.#nextMid++
      const entry: OutboxEntry = { seq: this.#nextSeq++, clientId: this.#clientId, mutation: input as Mutation }
      if (i === 0 && after !== undefined) entry.after = after.mutation.mid
      if (batch !== undefined) entry.batch = i === inputs.length - 1 ? { id: batch, last: true } : { id: batch }
      return entry
    })
    return this.#add(entries)
  }

  #add(entries: OutboxEntry[]): TrackedWrite {
    const { writes, changes } = this.#state.addWrites(entries)
    this.#hooks.change(changes, 'local')
    this.#hooks.pending(writes)
    if (this.#hooks.durable) for (const w of writes) this.#unannounced.push(w)
    if (this.cache.writeSync) return { writes, durable: this.#writeNow(writes, entries) }
    const done = this.#batcher.enqueue({ outboxPut: entries })
    if (this.#batch?.done !== done) this.#batch = this.#track(done)
    // One by one: spreading a large storeMany into push() would overflow the stack.
    for (const w of writes) this.#batch.writes.push(w)
    for (const e of entries) this.#batch.entries.push(e)
    return { writes, durable: this.#batch.result }
  }

  /**
   * Resolves once the server acknowledged the write; rejects with its error (`CONFLICT`, ...) once it was rejected
   * or rolled back, or with `CLOSED`. Settled already: resolves (or rejects) at once.
   */
  verdict(write: PendingWrite): Promise<void> {
    if (write.ackedRev !== undefined) return Promise.resolve()
    let resolve!: () => void
    let reject!: (e: CubbyError) => void
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)))
    this.#verdicts.set(write, { promise, resolve, reject })
    return promise
  }

  /** Settles a write's verdict, if anyone waits for it. */
  #decide(write: PendingWrite, error?: CubbyError): void {
    const waiting = this.#verdicts.get(write)
    if (waiting === undefined) return
    this.#verdicts.delete(write)
    if (error === undefined) waiting.resolve()
    else waiting.reject(error)
  }

  /**
   * Replaces the value (and condition) of a store this page made and never sent, in place, and persists it: an
   * `update` folded into the pending one of its key.
   */
  rewrite(write: PendingWrite, mutation: Mutation & { op: 'store' }): Promise<void> {
    this.#hooks.change(this.#state.rewrite(write, mutation), 'local')
    const done = this.#writeLater({ outboxPut: [outboxEntry(write)] }, false)
    this.#pusher.soon()
    return done
  }

  /** The server's version of `key` as last seen (0: no value), and its value then. */
  confirmed(key: string): { version: number; entry: ViewEntry | undefined } {
    return { version: this.#state.version(key), entry: this.#state.confirmed(key) }
  }

  /** The last write of `key` still in the overlay (pending or acknowledged), if any. */
  lastWrite(key: string): PendingWrite | undefined {
    return this.#state.pending.last(key)
  }

  /**
   * Writes whose condition waited for writes now settled: an acknowledged one's revision becomes their `if` (and
   * they may go); a rejected one's leaves them nothing to build on: `rebase` re-runs an `update`'s function on
   * the server's value, and one it cannot (after a reload) is rejected here with `CONFLICT`, like its predecessor.
   */
  #release(settled: readonly PendingWrite[], rejected: ReadonlySet<PendingWrite>): void {
    // Checked first: the scan below copies the whole overlay, once per ack.
    if (!this.#state.pending.anyWaiting) return
    const waiting = [...this.#state.pending.values()].filter((w) => w.after !== undefined && w.clientId === this.#clientId && w.mutation.op !== 'clear' && w.mutation.if === undefined)
    if (waiting.length === 0) return
    const byMid = new Map(settled.filter((w) => w.clientId === this.#clientId).map((w) => [w.mutation.mid, w]))
    const orphans: PendingWrite[] = []
    const put: OutboxEntry[] = []
    for (const w of waiting) {
      const before = byMid.get(w.after!)
      if (before === undefined) continue
      if (rejected.has(before)) {
        if (this.rebase?.(w) !== true) orphans.push(w)
        continue
      }
      const m = w.mutation as Mutation & { op: 'store' | 'delete' }
      m.if = before.mutation.op === 'store' ? { rev: before.ackedRev! } : { absent: true }
      put.push(outboxEntry(w))
    }
    if (put.length > 0) this.#persist({ outboxPut: put })
    if (orphans.length === 0) return
    this.#rollBackWrites(orphans, new CubbyError('CONFLICT', 'The write it was based on was rejected'))
    this.#persist({ outboxDelete: orphans.map(refOf) })
  }

  /** Reports a rejected write: with its key where it had one. */
  #report(write: PendingWrite, error: CubbyError): void {
    if (write.mutation.op !== 'clear' && this.#hooks.rejected) this.#hooks.rejected(error, write.mutation.key)
    else this.#hooks.error(error)
  }

  /** Takes writes out (rejected without reaching the server) and reports them, as a server rejection would. */
  #rollBackWrites(writes: PendingWrite[], error: CubbyError): void {
    this.#hooks.change(this.#state.removeWrites(writes), 'local')
    this.#hooks.pending(writes)
    for (const w of writes) {
      this.#decide(w, error)
      this.#report(w, new CubbyError(error.code, `The write of ${JSON.stringify(w.mutation.op === 'clear' ? 'clear' : w.mutation.key)} was dropped: ${error.message}`))
    }
    this.#settle()
  }

  /**
   * Set by the owner: re-runs an `update` whose write waited for one that was rejected, rewriting the write in
   * place (it was never sent). Returns whether it did; if not, the write is rejected with `CONFLICT`.
   */
  rebase: ((write: PendingWrite) => boolean) | undefined

  /**
   * Set by the owner: told of a rejected write before it is reported. Returns `true` when it takes care of it
   * (an `update` that retries): no `error` event then.
   */
  intercept: ((write: PendingWrite, error: CubbyError) => boolean) | undefined

  /**
   * Writes to a synchronous cache (memory) at once: the writes are in the outbox before this returns, so the
   * push can go on the next microtask, which still carries every store of the tick in one frame.
   */
  #writeNow(writes: PendingWrite[], entries: OutboxEntry[]): Promise<void> {
    try {
      // The entries and their mutations are this write's own (see `CubbyCache.writeSync`): the cache keeps them.
      this.cache.writeSync!({ outboxPut: entries }, true)
    } catch (cause) {
      this.#rollBack(writes, cause)
      return Promise.reject(storageError(cause))
    }
    for (const w of writes) w.durable = true
    this.#pusher.soon()
    this.#announce()
    return Promise.resolve()
  }

  #rollBack(writes: PendingWrite[], cause?: unknown): void {
    this.#hooks.change(this.#state.removeWrites(writes), 'local')
    this.#hooks.pending(writes)
    for (const w of writes) this.#decide(w, storageError(cause))
    this.#settle()
  }

  /** What happens once a cache batch of local writes is written: they go to the server, or they are rolled back. */
  #track(done: Promise<void>): LocalBatch {
    const batch: LocalBatch = { done, writes: [], entries: [], result: Promise.resolve() }
    const end = (): void => {
      if (this.#batch === batch) this.#batch = undefined
    }
    batch.result = done.then(
      () => {
        end()
        for (const w of batch.writes) w.durable = true
        this.#pusher.durable()
        this.#announce()
      },
      (cause: unknown) => {
        end()
        this.#rollBack(batch.writes, cause)
        throw storageError(cause)
      },
    )
    return batch
  }

  /** The session is established: sends the whole outbox, in order. */
  connected(send: (frame: string) => boolean): void {
    this.#pusher.connected(send)
  }

  /** The session ended: everything unacknowledged goes again on the next one. */
  disconnected(): void {
    this.#pusher.disconnected()
  }

  /**
   * Applies a frame of this client's own session (not `welcome`, which the owner checks), and persists it.
   *
   * The session leaves this client's own writes out of its changes (`hello.echo: false`), so an `ack` of this
   * connection confirms the acknowledged writes at their revisions (see {@link LocalState.acknowledgeOwn}).
   *
   * @param relay - Whether another tab gets the frame: without one, an `ack` lists nothing for it.
   * @returns For an `ack` that confirmed writes, with `relay`: the `changes` frame other tabs apply before the
   *   ack, which carries what the server left out.
   */
  receive(message: ServerMessage, relay = true): ServerMessage | undefined {
    return this.#apply(message, true, relay)
  }

  /** Applies a frame the leader tab relayed from its session: the leader persisted it, this only updates memory. */
  follow(message: ServerMessage): void {
    this.#apply(message, false, false)
  }

  /**
   * Applies a frame of this client's session (`own`), or of another tab's that the leader relayed, which the
   * leader persisted and whose pushes it sent.
   */
  #apply(message: ServerMessage, own: boolean, relay: boolean): ServerMessage | undefined {
    const state = this.#state
    // Persists what a frame changed (the leader does; a follower's leader did already).
    const persist = (write: CacheWrite): void => {
      if (own) this.#persist(write)
    }
    switch (message.type) {
      case 'changes': {
        const { changes, dropped, write, errors } = own
          ? state.applyChanges(message.changes, message.rev)
          : state.applyRelayed(message.changes, message.rev)
        this.#hooks.change(changes, 'remote')
        for (const cause of errors) this.#hooks.error(asCubbyError(cause, 'INVALID_VALUE'))
        if (dropped.length > 0) write.outboxDelete = dropped.map(refOf)
        persist(write)
        return
      }
      case 'synced': {
        const { changes, dropped } = this.#state.advance(message.rev)
        this.#hooks.change(changes, 'remote')
        persist({ cursor: this.#state.cursor, outboxDelete: dropped.map(refOf) })
        this.#hooks.synced()
        return
      }
      case 'ack': {
        const before = this.#state.cursor
        const { changes, dropped, rejected, settled, write, folded } = own
          ? state.acknowledgeOwn(message.clientId, message.results, relay)
          : state.acknowledge(message.clientId, message.results)
        this.#hooks.change(changes, 'remote')
        this.#hooks.pending(settled)
        // The tab that made a write reports its rejection (writes of a closed page: the tab that replays them).
        const rejectedSet = new Set<PendingWrite>()
        for (const { write, error } of rejected) {
          rejectedSet.add(write)
          const key = write.mutation.op === 'clear' ? 'clear' : JSON.stringify(write.mutation.key)
          const cubbyError = fromWire(error, `The server rejected the write of ${key}: ${error.message}`)
          this.#decide(write, cubbyError)
          if (!write.foreign && this.intercept?.(write, cubbyError) !== true) this.#report(write, cubbyError)
        }
        if (this.#verdicts.size > 0) for (const w of settled) if (!rejectedSet.has(w)) this.#decide(w)
        if (own) {
          const refs: OutboxRef[] = []
          for (const r of rejected) refs.push(refOf(r.write))
          for (const w of dropped) refs.push(refOf(w))
          write.outboxDelete = refs
          this.#persist(write)
        }
        if (own) this.#release(settled, rejectedSet)
        if (own) this.#pusher.answered()
        this.#settle()
        const { cursor } = this.#state
        return relay && cursor > before ? { type: 'changes', changes: folded, rev: cursor } : undefined
      }
      case 'error':
        if (own) this.#pusher.answered()
        this.#hooks.error(fromWire(message, message.message))
        return
      case 'welcome':
      case 'user-deleted':
      case 'pong':
        return
    }
  }

  /** Lays writes another tab made (durable in the shared outbox) over the view, and sends them when connected. */
  addForeign(entries: readonly OutboxEntry[]): OutboxEntry[] {
    const { writes, changes } = this.#state.addForeign(entries)
    this.#afterAdding(writes, changes)
    return writes.map(outboxEntry)
  }

  /**
   * Catches up with the shared cache (after this tab missed what others did, or on becoming the leader).
   *
   * @returns The outbox entries this tab did not know of.
   */
  async resync(): Promise<OutboxEntry[]> {
    await this.#batcher.drain()
    const { changes, settled, added } = this.#state.resync(await this.cache.load())
    this.#hooks.pending(settled)
    this.#settle()
    this.#afterAdding(added, changes)
    return added.map(outboxEntry)
  }

  /** Reads a key's visible value from memory. */
  get(key: string): ViewEntry | undefined {
    return this.#state.get(key)
  }

  /** Lists visible keys in code point order (the server's order), a page at a time. */
  list(options?: ListOptions): string[] {
    return this.#state.list(options)
  }

  /** The server revision this replica's confirmed state is at. */
  get cursor(): number {
    return this.#state.cursor
  }

  /** How many writes the server has not acknowledged yet. */
  get pendingCount(): number {
    return this.#state.pending.unsettledCount
  }

  /** Whether `key` has a write the server has not acknowledged yet (a pending `clear` counts for every key). */
  isPending(key: string): boolean {
    return this.#state.pending.isUnsettled(key)
  }

  /**
   * The writes durable in the outbox, in order: all of them (for a tab that joins, with {@link acknowledged}), or
   * with `unacknowledged`, those the server has not acknowledged yet (for the leader tab to send).
   */
  durableWrites(unacknowledged = false): OutboxEntry[] {
    return durableInOrder(this.#state.pending.values()).filter((w) => !(unacknowledged && w.ackedRev !== undefined)).map(outboxEntry)
  }

  /**
   * Tells the other tabs of this client's writes that became durable, in the order of their mids: one whose
   * earlier write is not durable yet (a cache batch still open, or a write rewritten in place) waits for it, so that
   * the tab that sends them never sends a later mid first.
   */
  #announce(): void {
    if (this.#hooks.durable === undefined) return
    const pending = this.#state.pending
    const ready: PendingWrite[] = []
    let done = 0
    for (const w of this.#unannounced) {
      // A write taken out (rolled back, or acknowledged and reached) is not announced, and holds nothing up.
      if (pending.find(w.clientId, w.mutation.mid) === w) {
        if (!w.durable) break
        ready.push(w)
      }
      done++
    }
    if (done === 0) return
    this.#unannounced = done === this.#unannounced.length ? [] : this.#unannounced.slice(done)
    // Listed only when another tab listens: with none (`tabs: 'independent'`, a memory cache) nothing is copied.
    if (ready.length > 0) this.#hooks.durable(() => ready.map(outboxEntry))
  }

  /** Drops everything in memory (the user's local data is gone), reporting the emptied view and the writes. */
  forget(): void {
    const { changes, writes } = this.#state.forget()
    for (const w of writes) this.#decide(w, new CubbyError('CLOSED', 'The local data of this user was dropped'))
    this.#hooks.change(changes, 'remote')
    this.#hooks.pending(writes)
  }

  /** Resolves once every cache write queued so far is done (or failed). */
  flushed(): Promise<void> {
    return this.#batcher.settled()
  }

  /** `ack` frames for writes acknowledged and still in the overlay, for a tab that starts mirroring this one. */
  acknowledged(): AckMessage[] {
    const byClient = new Map<string, MutationResult[]>()
    for (const w of this.#state.pending.values()) {
      if (w.ackedRev === undefined) continue
      const results = byClient.get(w.clientId) ?? []
      results.push({ mid: w.mutation.mid, rev: w.ackedRev })
      byClient.set(w.clientId, results)
    }
    return [...byClient].map(([clientId, results]) => ({ type: 'ack', clientId, results }))
  }

  #afterAdding(writes: PendingWrite[], changes: ViewChange[]): void {
    this.#nextSeq = Math.max(this.#nextSeq, this.#state.pending.maxSeq + 1)
    this.#hooks.change(changes, 'remote')
    this.#hooks.pending(writes)
    // The whole overlay, not only the new writes: one of them may come after an earlier write of its client that
    // is not sent yet, and must not overtake it.
    this.#pusher.push(this.#state.pending.values())
  }

  /** Resolves when every write made so far is acknowledged or rejected. */
  synced(): Promise<void> {
    const order = this.#state.pending.lastOrder
    if (this.#state.pending.firstUnsettledOrder() > order) return Promise.resolve()
    return new Promise((resolve, reject) => this.#waiters.push({ order, resolve, reject }))
  }

  /**
   * Learns the server's clock from a `welcome` (its `now`), keeps the offset in the cache for later loads, and
   * re-times the expiry timer.
   */
  learnClock(serverNow: number): void {
    const before = this.clock.offset
    const offset = this.clock.learn(serverNow)
    // Not every connection: only a change of more than a second is worth a cache write.
    if (Math.abs(offset - before) > 1000 || before === 0) this.#writeLater({ clockOffset: offset }, false).catch(() => {})
    this.#expiryAt = undefined
    this.#armExpiry()
  }

  /** Takes the clock offset the leader tab learnt (which it keeps in the cache), and re-times the expiry timer. */
  followClock(offset: number): void {
    // A leader tab of an older version sends none.
    if (!Number.isFinite(offset) || offset === this.clock.offset) return
    this.clock.adopt(offset)
    this.#expiryAt = undefined
    this.#armExpiry()
  }

  /** Sets the one expiry timer to the earliest expiry of a visible value; when it fires, those keys read as deleted. */
  #armExpiry(): void {
    const next = this.#state.nextExpiry()
    if (next === this.#expiryAt || this.#closed) return
    clearTimeout(this.#expiryTimer)
    this.#expiryAt = next
    if (next === undefined) return
    // setTimeout takes at most 2^31 - 1 ms; a later expiry re-arms when this fires.
    const delay = Math.min(Math.max(0, next - this.clock.now()), 2 ** 31 - 1)
    this.#expiryTimer = setTimeout(() => {
      this.#expiryAt = undefined
      this.#hooks.change(this.#state.expire(), 'remote')
    }, delay)
  }

  /** Rejects waiters, finishes queued cache writes and closes the cache. */
  async close(reason: CubbyError, destroy = false): Promise<void> {
    this.#closed = true
    clearTimeout(this.#expiryTimer)
    for (const w of this.#waiters.splice(0)) w.reject(reason)
    for (const [, v] of this.#verdicts) v.reject(reason)
    this.#verdicts.clear()
    this.#pusher.close()
    await this.#batcher.drain()
    await (destroy ? this.cache.destroy() : this.cache.close())
  }

  /**
   * Persists server data. A failed write leaves the cache without changes that a later cursor claims, so a
   * failure is followed by a repair: memory's confirmed records replace the cache's, whole, in one write (and
   * if that fails too, the next write carries the repair).
   */
  #persist(write: CacheWrite): void {
    const merged = this.#needsRepair ? { ...write, ...this.#state.snapshotWrite() } : write
    this.#needsRepair = false
    this.#writeLater(merged, false).catch((cause: unknown) => this.#repair(cause))
  }

  /**
   * Queues a write in the batcher, or with a synchronous cache, writes it at once (the promise says how it went).
   * Every record written here (confirmed records, outbox entries) is made for this write alone, so a synchronous
   * cache keeps it.
   */
  #writeLater(write: CacheWrite, urgent: boolean): Promise<void> {
    if (!this.cache.writeSync) return this.#batcher.enqueue(write, { urgent })
    // The executor runs at once: the write is done (or failed) before this returns.
    return new Promise((resolve) => resolve(this.cache.writeSync!(write, true)))
  }

  #repair(cause: unknown): void {
    if (this.#repairing) return
    this.#hooks.error(storageError(cause))
    this.#repairing = true
    this.#writeLater(this.#state.snapshotWrite(), true).then(
      () => (this.#repairing = false),
      () => {
        this.#repairing = false
        this.#needsRepair = true
      },
    )
  }

  #settle(): void {
    if (this.#waiters.length === 0) return
    const first = this.#state.pending.firstUnsettledOrder()
    this.#waiters = this.#waiters.filter((w) => (w.order < first ? (w.resolve(), false) : true))
  }
}
