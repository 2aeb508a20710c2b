import type { CubbyError, CubbyLimits, WriteCondition } from '@cubby/protocol'
import type { MutationInput, Replica } from '../Replica.js'
import type { PendingWrite } from '../state/PendingWrites.js'
import { deleteInput, storeInput } from '../state/mutationInputs.js'

/** One `update(key, fn)` call until the server accepted its result or it ran out of retries. */
interface Intent {
  readonly key: string
  readonly fn: (value: unknown) => unknown
  /** Conflicts it may still retry after. */
  retries: number
  resolve(): void
  reject(error: CubbyError): void
}

/** What {@link Updater.update} returns: local durability now, the server's verdict later. */
export interface UpdateHandle {
  durable: Promise<void>
  settled: Promise<void>
}

/**
 * Read-modify-write on one replica: `update(key, fn)` runs `fn` on the key's visible value and stores the result
 * on the condition that the server's version is still the one `fn` built on. A `CONFLICT` re-runs `fn` on the
 * server's value (which the server sends before its verdict) and tries again, up to `retries` times. Updates of a
 * key made while its last write is pending build on that write: they are folded into it while it is unsent, or
 * wait for its revision (`OutboxEntry.after`) otherwise. Only this page knows the functions: after a reload, a
 * conflict of an update made before is reported (`error` event, rolled back to the server's value), not retried.
 * @internal
 */
export class Updater {
  readonly #replica: Replica
  readonly #limits: CubbyLimits
  /** The update calls each write carries (several once folded into one). */
  readonly #intents = new Map<PendingWrite, Intent[]>()
  /** Intents whose write conflicted, by key, waiting to be written again once the ack is processed. */
  readonly #retrying = new Map<string, Intent[]>()
  /** Whether tabs share the outbox: then a write may be sent by another tab, so none is rewritten or held back. */
  readonly #shared: () => boolean

  constructor(replica: Replica, limits: CubbyLimits, shared: () => boolean) {
    this.#replica = replica
    this.#limits = limits
    this.#shared = shared
    replica.intercept = (write, error) => this.#conflicted(write, error)
    replica.rebase = (write) => this.#rebase(write)
  }

  /** Runs `fn` on the key's visible value now and writes the result (see the class). */
  update(key: string, fn: (value: unknown) => unknown, retries: number): UpdateHandle {
    let intent!: Intent
    const settled = new Promise<void>((resolve, reject) => (intent = { key, fn, retries, resolve, reject }))
    // Nobody has to await the verdict: a failure is also an `error` event.
    settled.catch(() => {})
    return { durable: this.#place(key, [intent]), settled }
  }

  /** Writes intents of a key: folded into its last write when that is an unsent update, else as a new write. */
  #place(key: string, intents: Intent[]): Promise<void> {
    const last = this.#replica.lastWrite(key)
    const carried = last === undefined ? undefined : this.#intents.get(last)
    // With tabs coordinated, the leader tab sends this tab's writes: a write here may be on the wire already, so it
    // is never rewritten, and nothing waits for a write's revision (a write built on a pending one conflicts with
    // it and runs again: more round trips, the same result).
    const shared = this.#shared()
    if (!shared && last !== undefined && carried !== undefined && !last.everSent && last.mutation.op === 'store') {
      // The view shows the last write's value, which its carried functions made: only the new ones run on it.
      const input = this.#input(key, intents, undefined)
      if (input.op === 'store') {
        carried.push(...intents)
        return this.#replica.rewrite(last, { ...input, mid: last.mutation.mid, ...(last.mutation.if !== undefined && { if: last.mutation.if }) })
      }
    }
    const waitFor = !shared && last !== undefined && last.ackedRev === undefined && !last.foreign ? last : undefined
    // The functions run on the value the condition names: the pending write waited for (the view shows it), the
    // acknowledged last write, or else the server's value as last seen, not the view, which may hold pending
    // writes that could still be rejected.
    const input = waitFor !== undefined || last?.ackedRev !== undefined
      ? this.#input(key, intents, waitFor === undefined ? this.#condition(key, last) : undefined)
      : this.#input(key, intents, this.#condition(key, undefined), this.#replica.confirmed(key).entry?.value)
    const { writes, durable } = this.#replica.writeTracked([input], { after: waitFor })
    const write = writes[0]!
    this.#intents.set(write, intents)
    this.#replica.verdict(write).then(
      () => this.#take(write)?.forEach((i) => i.resolve()),
      (error: CubbyError) => this.#take(write)?.forEach((i) => i.reject(error)),
    )
    return durable
  }

  /** The condition of a write built on `last` (acknowledged) or on the server's value as last seen. */
  #condition(key: string, last: PendingWrite | undefined): WriteCondition {
    if (last?.ackedRev !== undefined) return last.mutation.op === 'store' ? { rev: last.ackedRev } : { absent: true }
    const { version } = this.#replica.confirmed(key)
    return version === 0 ? { absent: true } : { rev: version }
  }

  /** Runs the functions in order on the key's visible value (or `base`) and makes the write of the result. */
  #input(key: string, intents: readonly Intent[], condition: WriteCondition | undefined, base = this.#replica.get(key)?.value): MutationInput {
    let value = base
    for (const { fn } of intents) value = fn(value)
    // An update that returns undefined deletes the key.
    const input = value === undefined ? deleteInput(key, this.#limits) : storeInput(key, value, this.#limits)
    if (condition !== undefined && input.op !== 'clear') input.if = condition
    return input
  }

  #take(write: PendingWrite): Intent[] | undefined {
    const intents = this.#intents.get(write)
    this.#intents.delete(write)
    return intents
  }

  /** A write was rejected: a `CONFLICT` with retries left is written again (after the ack), quietly. */
  #conflicted(write: PendingWrite, error: CubbyError): boolean {
    const intents = this.#intents.get(write)
    if (intents === undefined || error.code !== 'CONFLICT') return false
    this.#intents.delete(write)
    const again = intents.filter((i) => i.retries-- > 0)
    for (const i of intents) if (i.retries < 0) i.reject(error)
    if (again.length === 0) return false
    const key = intents[0]!.key
    const queued = this.#retrying.get(key)
    if (queued !== undefined) queued.push(...again)
    else {
      this.#retrying.set(key, again)
      // After the ack is processed: a write that waited for this one takes these first (see #rebase).
      queueMicrotask(() => {
        const left = this.#retrying.get(key)
        this.#retrying.delete(key)
        if (left !== undefined && left.length > 0) this.#place(key, left).catch(() => {})
      })
    }
    return again.length === intents.length
  }

  /**
   * A write that waited for a rejected one: if it is an update, it takes the rejected write's retries first and
   * all their functions run again on the server's value, in place (it was never sent).
   */
  #rebase(write: PendingWrite): boolean {
    const intents = this.#intents.get(write)
    if (intents === undefined || write.mutation.op === 'clear') return false
    const key = write.mutation.key
    const before = this.#retrying.get(key) ?? []
    this.#retrying.delete(key)
    intents.unshift(...before)
    const { version, entry } = this.#replica.confirmed(key)
    const condition: WriteCondition = version === 0 ? { absent: true } : { rev: version }
    const input = this.#input(key, intents, condition, entry?.value)
    if (input.op !== 'store') {
      // A delete cannot be rewritten in place: the write is dropped and the intents written anew.
      this.#intents.delete(write)
      this.#retrying.set(key, intents)
      queueMicrotask(() => {
        const left = this.#retrying.get(key)
        this.#retrying.delete(key)
        if (left !== undefined) this.#place(key, left).catch(() => {})
      })
      return false
    }
    void this.#replica.rewrite(write, { ...input, mid: write.mutation.mid }).catch(() => {})
    return true
  }
}
