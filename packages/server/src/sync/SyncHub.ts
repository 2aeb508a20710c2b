import type { Change, ServerMessage } from '@cubby/protocol'
import type { ServerMetrics } from '../metrics/ServerMetrics.js'
import type { SyncSession } from './SyncSession.js'

/**
 * The live sessions of every user. Each commit's changes are published here (after the commit, before its
 * ack), and every session of that user takes them.
 * @internal
 */
export class SyncHub {
  readonly #sessions = new Map<string, Set<SyncSession>>()
  readonly #metrics: ServerMetrics | undefined

  constructor(metrics?: ServerMetrics) {
    this.#metrics = metrics
  }

  /** Registers a session; it receives the changes of every commit published from now on. */
  add(session: SyncSession): void {
    let set = this.#sessions.get(session.userId)
    if (set === undefined) this.#sessions.set(session.userId, (set = new Set()))
    set.add(session)
  }

  /** Unregisters a session. */
  remove(session: SyncSession): void {
    const set = this.#sessions.get(session.userId)
    if (set?.delete(session) === true && set.size === 0) this.#sessions.delete(session.userId)
  }

  /** Hands the changes of one commit to every session of the user; `origin` is the session that pushed them. */
  publish(userId: string, changes: readonly Change[], origin?: object): void {
    const set = this.#sessions.get(userId)
    if (set === undefined) return
    this.#metrics?.fannedOut(set.size, changes.length)
    for (const session of set) {
      try {
        session.deliver(changes, session === origin)
      } catch (error) {
        // One broken connection must not keep the others from their changes.
        session.fail(error)
      }
    }
  }

  /** Ends every session of a user: sends `message` (if any) as the last frame, then closes with `closeCode`. */
  end(userId: string, message: ServerMessage | undefined, closeCode: number, reason: string): void {
    for (const session of [...(this.#sessions.get(userId) ?? [])]) session.endWith(message, closeCode, reason)
  }

  /** How many sessions a user has (all users without `userId`). */
  count(userId?: string): number {
    if (userId !== undefined) return this.#sessions.get(userId)?.size ?? 0
    let n = 0
    for (const set of this.#sessions.values()) n += set.size
    return n
  }
}
