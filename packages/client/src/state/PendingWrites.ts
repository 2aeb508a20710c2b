import type { Mutation } from '@cubby/protocol'
import type { OutboxEntry } from '../cache/CubbyCache.js'
import { type Confirmed, confirmedEntry } from './confirmedEntry.js'

/** A local write from the time it is made until the cursor reaches its acknowledged revision. */
export interface PendingWrite extends OutboxEntry {
  /** Position in this client's overlay (seq may tie between tabs; this never does). */
  readonly order: number
  /**
   * The decoded value of a `store`: a private copy (replaced only by {@link PendingWrites.rewrite}), with `rev` 0
   * until its ack makes it the key's confirmed record (see `Confirmed`).
   */
  entry: Confirmed | undefined
  /** The revision the server acknowledged it at; undefined while it is pending. */
  ackedRev: number | undefined
  /** Written to the local outbox. */
  durable: boolean
  /** Sent on the current connection. */
  sent: boolean
  /** Made by another tab (which reports its rejection); learnt over the tab channel. */
  readonly foreign: boolean
  /** Sent on some connection of this page (a write loaded from the outbox may have been sent before a reload). */
  everSent: boolean
}

const keyOf = (m: Mutation): string | undefined => (m.op === 'clear' ? undefined : m.key)

/**
 * A key's writes in order: the write itself while it has one (most keys: no array per write), an array once it
 * has more.
 */
type KeyWrites = PendingWrite | PendingWrite[]

/** Whether a list of writes in order holds one still pending; acks come in order, so the newest tells most. */
function hasUnsettled(writes: KeyWrites | undefined): boolean {
  if (writes === undefined) return false
  if (!Array.isArray(writes)) return writes.ackedRev === undefined
  for (let i = writes.length - 1; i >= 0; i--) if (writes[i]!.ackedRev === undefined) return true
  return false
}

/**
 * The overlay's writes in order, indexed by id and by key, counting those still pending (not yet
 * acknowledged or rejected).
 *
 * @internal
 */
export class PendingWrites {
  /** Every write, in order. */
  readonly #all = new Set<PendingWrite>()
  /** By client id, then mid: no id string is built per lookup. */
  readonly #byId = new Map<string, Map<number, PendingWrite>>()
  readonly #byKey = new Map<string, KeyWrites>()
  readonly #clears: PendingWrite[] = []
  readonly #acked = new Set<PendingWrite>()
  #unsettled = 0
  /** Writes with an `after` (an `update` waiting for an earlier write's result). */
  #waiting = 0
  #order = 0
  #maxSeq = 0

  constructor(outbox: readonly OutboxEntry[]) {
    for (const entry of outbox) this.add(entry, true)
  }

  /** Writes still waiting for the server. */
  get unsettledCount(): number {
    return this.#unsettled
  }

  /** Whether any write has an `after` (see `OutboxEntry.after`): without one, no write waits for another's result. */
  get anyWaiting(): boolean {
    return this.#waiting > 0
  }

  /** The highest seq seen, so that new writes sort after every loaded one. */
  get maxSeq(): number {
    return this.#maxSeq
  }

  add({ seq, clientId, mutation, after, batch }: OutboxEntry, durable = false, foreign = false): PendingWrite {
    const entry = mutation.op === 'store' ? confirmedEntry(mutation.value, 0, mutation.expiresAt) : undefined
    const write: PendingWrite = { seq, clientId, mutation, order: ++this.#order, entry, ackedRev: undefined, durable, sent: false, foreign, everSent: durable }
    if (after !== undefined) {
      write.after = after
      this.#waiting++
    }
    if (batch !== undefined) write.batch = batch
    this.#all.add(write)
    const mids = this.#byId.get(clientId)
    if (mids) mids.set(mutation.mid, write)
    else this.#byId.set(clientId, new Map([[mutation.mid, write]]))
    const key = keyOf(mutation)
    if (key === undefined) this.#clears.push(write)
    else {
      const writes = this.#byKey.get(key)
      if (writes === undefined) this.#byKey.set(key, write)
      else if (Array.isArray(writes)) writes.push(write)
      else this.#byKey.set(key, [writes, write])
    }
    this.#maxSeq = Math.max(this.#maxSeq, seq)
    this.#unsettled++
    return write
  }

  remove(write: PendingWrite): void {
    if (!this.#all.delete(write)) return
    const mids = this.#byId.get(write.clientId)!
    mids.delete(write.mutation.mid)
    if (mids.size === 0) this.#byId.delete(write.clientId)
    const key = keyOf(write.mutation)
    const writes = key === undefined ? this.#clears : this.#byKey.get(key)!
    if (!Array.isArray(writes)) this.#byKey.delete(key!)
    else {
      writes.splice(writes.indexOf(write), 1)
      if (key !== undefined && writes.length === 0) this.#byKey.delete(key)
    }
    if (write.ackedRev === undefined) this.#unsettled--
    if (write.after !== undefined) this.#waiting--
    this.#acked.delete(write)
  }

  /** Replaces the value (and condition) of a store that was never sent, in place: same mid, same place in the order. */
  rewrite(write: PendingWrite, mutation: Mutation & { op: 'store' }): void {
    write.mutation = mutation
    write.entry = confirmedEntry(mutation.value, 0, mutation.expiresAt)
  }

  /** Marks a write acknowledged at `rev`; it stays in the overlay until {@link reached}. */
  settle(write: PendingWrite, rev: number): void {
    if (write.ackedRev !== undefined) return
    this.#unsettled--
    write.ackedRev = rev
    this.#acked.add(write)
  }

  find(clientId: string, mid: number): PendingWrite | undefined {
    return this.#byId.get(clientId)?.get(mid)
  }

  /** The last write that decides `key`: its own last store/delete, or a later clear. */
  last(key: string): PendingWrite | undefined {
    const writes = this.#byKey.get(key)
    const own = Array.isArray(writes) ? writes.at(-1) : writes
    const clear = this.#clears.at(-1)
    return clear && (!own || clear.order > own.order) ? clear : own
  }

  /** Acknowledged writes whose revision the cursor has reached. */
  reached(cursor: number): PendingWrite[] {
    if (this.#acked.size === 0) return []
    const due: PendingWrite[] = []
    for (const w of this.#acked) if (w.ackedRev! <= cursor) due.push(w)
    return due
  }

  /** Asked per key when needed (a binding's snapshot), rather than kept per write as a count per key. */
  isUnsettled(key: string): boolean {
    return hasUnsettled(this.#byKey.get(key)) || hasUnsettled(this.#clears)
  }

  /** The order of the earliest write still pending, or Infinity. */
  firstUnsettledOrder(): number {
    for (const w of this.#all) if (w.ackedRev === undefined) return w.order
    return Infinity
  }

  /** The highest order given out so far. */
  get lastOrder(): number {
    return this.#order
  }

  /** Keys with writes in the overlay. */
  keys(): IterableIterator<string> {
    return this.#byKey.keys()
  }

  /** Every write in the overlay, in order. */
  values(): IterableIterator<PendingWrite> {
    return this.#all.values()
  }
}
