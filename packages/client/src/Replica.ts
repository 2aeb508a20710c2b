import { CubbyError, type Mutation, type ServerMessage, type WireError } from '@cubby/protocol'
import type { CacheWrite, CubbyCache, OutboxEntry, OutboxRef } from './cache/CubbyCache.js'
import { WriteBatcher } from './cache/WriteBatcher.js'
import type { LocalState, ViewChange } from './state/LocalState.js'
import type { PendingWrite } from './state/PendingWrites.js'
import { pushFrames } from './sync/pushFrames.js'

/** A mutation before it gets its id. */
export type MutationInput = { op: 'store'; key: string; value: string } | { op: 'delete'; key: string } | { op: 'clear' }

/** How a {@link Replica} reports to its owner. */
export interface ReplicaHooks {
  change(changes: ViewChange[], origin: 'local' | 'remote'): void
  pending(writes: readonly PendingWrite[]): void
  error(error: CubbyError): void
  /** A `synced` frame arrived: the catch-up is complete. */
  synced(): void
}

interface Waiter {
  order: number
  resolve: () => void
  reject: (error: unknown) => void
}

const fromWire = (e: WireError, message: string): CubbyError =>
  new CubbyError(e.code, message, e.retryAfter === undefined ? {} : { retryAfter: e.retryAfter })
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
  readonly state: LocalState
  readonly cache: CubbyCache
  readonly #batcher: WriteBatcher
  readonly #hooks: ReplicaHooks
  readonly #clientId: string
  readonly #maxFrameBytes: number
  #nextMid = 1
  #nextSeq: number
  #send: ((frame: string) => boolean) | undefined
  #waiters: Waiter[] = []
  #needsRepair = false
  #repairing = false

  constructor(options: { state: LocalState; cache: CubbyCache; hooks: ReplicaHooks; clientId: string; maxFrameBytes: number }) {
    this.state = options.state
    this.cache = options.cache
    this.#batcher = new WriteBatcher(options.cache)
    this.#hooks = options.hooks
    this.#clientId = options.clientId
    this.#maxFrameBytes = options.maxFrameBytes
    this.#nextSeq = options.state.pending.maxSeq + 1
  }

  /** Applies writes to the view now; resolves once they are durable in the cache, then sends them. */
  write(inputs: readonly MutationInput[]): Promise<void> {
    const entries = inputs.map((input): OutboxEntry => ({
      seq: this.#nextSeq++,
      clientId: this.#clientId,
      mutation: { ...input, mid: this.#nextMid++ } as Mutation,
    }))
    const { writes, changes } = this.state.addWrites(entries)
    this.#hooks.change(changes, 'local')
    this.#hooks.pending(writes)
    return this.#batcher.enqueue({ outboxPut: entries }).then(
      () => {
        for (const w of writes) w.durable = true
        this.#push(writes)
      },
      (cause: unknown) => {
        this.#hooks.change(this.state.removeWrites(writes), 'local')
        this.#hooks.pending(writes)
        this.#settle()
        throw storageError(cause)
      },
    )
  }

  /** The session is established: sends the whole outbox, in order. */
  connected(send: (frame: string) => boolean): void {
    this.#send = send
    this.#push(this.state.pending.values())
  }

  /** The session ended: everything unacknowledged goes again on the next one. */
  disconnected(): void {
    this.#send = undefined
    for (const w of this.state.pending.values()) w.sent = false
  }

  /** Applies a frame of the established session (not `welcome`, which the owner checks). */
  receive(message: ServerMessage): void {
    switch (message.type) {
      case 'changes': {
        const { changes, dropped, write, errors } = this.state.applyChanges(message.changes, message.rev)
        this.#hooks.change(changes, 'remote')
        for (const cause of errors) this.#hooks.error(new CubbyError('INVALID_VALUE', `A value from the server did not decode: ${String(cause)}`, { cause }))
        return this.#persist({ ...write, outboxDelete: dropped.map(refOf) })
      }
      case 'synced': {
        const { changes, dropped } = this.state.advance(message.rev)
        this.#hooks.change(changes, 'remote')
        this.#persist({ cursor: this.state.cursor, outboxDelete: dropped.map(refOf) })
        return this.#hooks.synced()
      }
      case 'ack': {
        const { changes, dropped, rejected, settled } = this.state.acknowledge(message.clientId, message.results)
        this.#hooks.change(changes, 'remote')
        this.#hooks.pending(settled)
        for (const { write, error } of rejected) {
          const key = write.mutation.op === 'clear' ? 'clear' : JSON.stringify(write.mutation.key)
          this.#hooks.error(fromWire(error, `The server rejected the write of ${key}: ${error.message}`))
        }
        this.#persist({ outboxDelete: [...rejected.map((r) => r.write), ...dropped].map(refOf) })
        return this.#settle()
      }
      case 'error':
        return this.#hooks.error(fromWire(message, message.message))
      case 'welcome':
        return
    }
  }

  /** Resolves when every write made so far is acknowledged or rejected. */
  synced(): Promise<void> {
    const order = this.state.pending.lastOrder
    if (this.state.pending.firstUnsettledOrder() > order) return Promise.resolve()
    return new Promise((resolve, reject) => this.#waiters.push({ order, resolve, reject }))
  }

  /** Rejects waiters, finishes queued cache writes and closes the cache. */
  async close(reason: CubbyError, destroy = false): Promise<void> {
    for (const w of this.#waiters.splice(0)) w.reject(reason)
    this.#send = undefined
    await this.#batcher.drain()
    await (destroy ? this.cache.destroy() : this.cache.close())
  }

  #push(writes: Iterable<PendingWrite>): void {
    if (!this.#send) return
    const due = [...writes].filter((w) => w.durable && !w.sent && w.ackedRev === undefined)
    // A frame that cannot go means the socket is closing; disconnected() then marks everything unsent.
    for (const frame of pushFrames(due, this.#maxFrameBytes)) this.#send(frame)
    for (const w of due) w.sent = true
  }

  /**
   * Persists server data. A failed write leaves the cache without changes that a later cursor claims, so a
   * failure is followed by a repair: memory's confirmed records replace the cache's, whole, in one write (and
   * if that fails too, the next write carries the repair).
   */
  #persist(write: CacheWrite): void {
    const merged = this.#needsRepair ? { ...write, ...this.state.snapshotWrite() } : write
    this.#needsRepair = false
    this.#batcher.enqueue(merged).catch((cause: unknown) => this.#repair(cause))
  }

  #repair(cause: unknown): void {
    if (this.#repairing) return
    this.#hooks.error(storageError(cause))
    this.#repairing = true
    this.#batcher.enqueue(this.state.snapshotWrite()).then(
      () => (this.#repairing = false),
      () => {
        this.#repairing = false
        this.#needsRepair = true
      },
    )
  }

  #settle(): void {
    if (this.#waiters.length === 0) return
    const first = this.state.pending.firstUnsettledOrder()
    this.#waiters = this.#waiters.filter((w) => (w.order < first ? (w.resolve(), false) : true))
  }
}
