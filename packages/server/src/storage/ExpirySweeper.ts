import type { Change } from '@cubby/protocol'
import type { CubbyLogger } from '../logger.js'
import type { CubbyStorage } from './CubbyStorage.js'

/** Index entries one sweep step reads at most, so that a million keys expiring at once never block the event loop. */
const SWEEP_BATCH = 500
/**
 * Longest wait between two looks at the index head: writes this node did not make (another node of a shared
 * storage, an import) may add an earlier expiry. A look reads one index entry, whatever the number of keys.
 */
const MAX_WAIT_MS = 1000
/** After a failed sweep, wait this long before trying again. */
const RETRY_MS = 1000

/** Options of {@link ExpirySweeper}. @internal */
export interface ExpirySweeperOptions {
  storage: CubbyStorage
  /** Publishes the tombstones of a sweep to live sessions, like any commit's changes. */
  publish: (userId: string, changes: Change[]) => void
  logger: CubbyLogger
  /** Resolves once the storage is open. */
  ready: () => Promise<void>
}

/**
 * Deletes expired values on the server, with no client connected: one timer on the earliest expiry of the
 * storage's index (so an idle key costs nothing), then batches of at most {@link SWEEP_BATCH} entries, one per
 * event-loop turn, until nothing due is left. At start it sweeps what expired while the server was down.
 * @internal
 */
export class ExpirySweeper {
  readonly #options: ExpirySweeperOptions
  #timer: ReturnType<typeof setTimeout> | undefined
  /** When the armed timer fires (ms since the epoch). */
  #wakeAt = Number.POSITIVE_INFINITY
  #running: Promise<void> | undefined
  #closed = false

  constructor(options: ExpirySweeperOptions) {
    this.#options = options
  }

  /** Starts sweeping once the storage is open (a no-op for a storage without an expiry index). */
  start(): void {
    if (this.#options.storage.sweepExpired === undefined) return
    this.#options.ready().then(() => this.#arm(0), () => {})
  }

  /** Tells of values this node wrote: wakes earlier when one of them expires before the armed timer. */
  noteChanges(changes: readonly Change[]): void {
    if (this.#options.storage.sweepExpired === undefined) return
    for (const c of changes) if ('expiresAt' in c && c.expiresAt !== undefined && c.expiresAt < this.#wakeAt) this.#arm(c.expiresAt - Date.now())
  }

  /** Stops the timer and waits for a sweep in flight. */
  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    await this.#running
  }

  #arm(delayMs: number): void {
    if (this.#closed) return
    const delay = Math.max(0, Math.min(delayMs, MAX_WAIT_MS))
    clearTimeout(this.#timer)
    this.#wakeAt = Date.now() + delay
    this.#timer = setTimeout(() => this.#wake(), delay)
    // An idle server may exit: the timer alone keeps nothing alive.
    this.#timer.unref?.()
  }

  #wake(): void {
    this.#timer = undefined
    this.#wakeAt = Number.POSITIVE_INFINITY
    if (this.#running !== undefined) return
    this.#running = this.#step().finally(() => (this.#running = undefined))
  }

  async #step(): Promise<void> {
    const { storage, publish, logger } = this.#options
    try {
      const now = Date.now()
      for (const { userId, changes } of await storage.sweepExpired!(now, SWEEP_BATCH)) publish(userId, changes)
      const next = await storage.nextExpiry!()
      // Due already (a full batch, or a value that expired meanwhile): the next step on the next turn.
      this.#arm(next === undefined ? MAX_WAIT_MS : next - Date.now())
    } catch (error) {
      if (this.#closed) return
      logger.error('The expiry sweep failed', error, { event: 'storage-error', operation: 'sweep-expired' })
      this.#arm(RETRY_MS)
    }
  }
}
