import type { Change, ServerMessage } from '@cubby/protocol'
import type { ServerMetrics } from '../metrics/ServerMetrics.js'
import type { ChangeBus } from './ChangeBus.js'
import type { SyncSession } from './SyncSession.js'
import { RecentRevocations } from './RecentRevocations.js'

/**
 * The live sessions of every user. Each commit's changes are published here (after the commit, before its
 * ack), and every session of that user takes them. With a {@link ChangeBus}, the changes also go to the other
 * nodes, and this node subscribes to the users it has sessions for (the first session subscribes, the last
 * unsubscribes); changes from other nodes come in through {@link deliverRemote}.
 * @internal
 */
export class SyncHub {
  readonly #sessions = new Map<string, Set<SyncSession>>()
  readonly #bus: ChangeBus | undefined
  readonly #metrics: ServerMetrics | undefined
  readonly #revocations = new RecentRevocations()

  constructor(bus?: ChangeBus, metrics?: ServerMetrics) {
    this.#bus = bus
    this.#metrics = metrics
  }

  /** Registers a session; it receives the changes of every commit published from now on. */
  add(session: SyncSession): void {
    let set = this.#sessions.get(session.userId)
    if (set === undefined) {
      this.#sessions.set(session.userId, (set = new Set()))
      this.#bus?.subscribe(session.userId)
    }
    set.add(session)
  }

  /** Unregisters a session. */
  remove(session: SyncSession): void {
    const set = this.#sessions.get(session.userId)
    if (set?.delete(session) === true && set.size === 0) {
      this.#sessions.delete(session.userId)
      this.#bus?.unsubscribe(session.userId)
    }
  }

  /**
   * Hands the changes of one commit made on this node to every session of the user (`origin` is the session
   * that pushed them), then to the bus. Local sessions get them first and directly, so the no-echo order holds.
   */
  publish(userId: string, changes: readonly Change[], origin?: object): void {
    this.#deliver(userId, changes, origin)
    this.#bus?.publish(userId, changes)
  }

  /** Hands the changes of a commit made on another node to the user's sessions (gaps and repeats are theirs to handle). */
  deliverRemote(userId: string, changes: readonly Change[]): void {
    this.#deliver(userId, changes, undefined)
  }

  /** Makes the sessions of a user (all users without `userId`) read what they may have missed from storage. */
  catchUp(userId?: string): void {
    const sets = userId === undefined ? [...this.#sessions.values()] : [this.#sessions.get(userId) ?? []]
    for (const set of sets) for (const session of set) session.catchUp()
  }

  #deliver(userId: string, changes: readonly Change[], origin: object | undefined): void {
    const set = this.#sessions.get(userId)
    if (set === undefined) return
    const sessions = set.size
    for (const session of set) {
      try {
        session.deliver(changes, session === origin)
      } catch (error) {
        // One broken connection must not keep the others from their changes.
        session.fail(error)
      }
    }
    // Counted after the sends: the metrics are not on the way to the devices.
    this.#metrics?.fannedOut(sessions, changes.length)
  }

  /** Ends every session of a user: sends `message` (if any) as the last frame, then closes with `closeCode`. */
  end(userId: string, message: ServerMessage | undefined, closeCode: number, reason: string): void {
    for (const session of [...(this.#sessions.get(userId) ?? [])]) session.endWith(message, closeCode, reason)
  }

  /**
   * Ends the sessions a revoked device opened for a user, and remembers the revocation for a while, so that a
   * session whose token was checked before it and registered after it is ended too (see {@link revokedSince}).
   */
  endDevice(userId: string, deviceId: string, message: ServerMessage, closeCode: number, reason: string): void {
    this.#revocations.remember(userId, deviceId)
    for (const session of [...(this.#sessions.get(userId) ?? [])]) {
      if (session.deviceId === deviceId) session.endWith(message, closeCode, reason)
    }
  }

  /** Whether this node heard of the device's revocation at or after `since` (ms), within the last few minutes. */
  revokedSince(userId: string, deviceId: string, since: number): boolean {
    return this.#revocations.since(userId, deviceId, since)
  }

  /** How many sessions a user has (all users without `userId`). */
  count(userId?: string): number {
    if (userId !== undefined) return this.#sessions.get(userId)?.size ?? 0
    let n = 0
    for (const set of this.#sessions.values()) n += set.size
    return n
  }
}
