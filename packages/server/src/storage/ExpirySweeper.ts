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
/** After a failed sweep, wait this long before trying again; doubled after each failure in a row, up to {@link MAX_RETRY_MS}. */
const RETRY_MS = 1000
/** The longest wait between two tries while the storage keeps failing (a Redis that is down). */
const MAX_RETRY_MS = 10_000
/** How long `close()` waits for a sweep in flight. */
const CLOSE_WAIT_MS = 2000
/** While sweeps keep failing, one log line per this interval at most, with the count of failures since the last. */
const LOG_INTERVAL_MS = 60_000

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
  /** Sweeps failed in a row, and those of them not in a log line yet. */
  #failures = 0
  #unlogged = 0
  #loggedAt = Number.NEGATIVE_INFINITY

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

  /**
   * Stops the timer and waits for a sweep in flight, for {@link CLOSE_WAIT_MS} at most: one waiting on a storage
   * that is down (Redis stopped) would hold the shutdown until it came back. Closing the storage then ends it; a
   * sweep cut short is done again by the next one (each record is checked again).
   */
  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    if (this.#running === undefined) return
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([this.#running, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))])
    clearTimeout(timer)
  }

  /** Wakes after `delayMs`, or {@link MAX_WAIT_MS} at most unless retrying (`atMost`). */
  #arm(delayMs: number, atMost = MAX_WAIT_MS): void {
    if (this.#closed) return
    const delay = Math.max(0, Math.min(delayMs, atMost))
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
      if (this.#failures > 0) {
        logger.info('The expiry sweep works again', { event: 'storage-recovered', operation: 'sweep-expired', failures: this.#failures })
        this.#failures = this.#unlogged = 0
        this.#loggedAt = Number.NEGATIVE_INFINITY
      }
      // Due already (a full batch, or a value that expired meanwhile): the next step on the next turn.
      this.#arm(next === undefined ? MAX_WAIT_MS : next - Date.now())
    } catch (error) {
      if (this.#closed) return
      this.#failures++
      this.#unlogged++
      // A storage that stays down (Redis stopped) would otherwise write a line a second on every node.
      const now = Date.now()
      if (now - this.#loggedAt >= LOG_INTERVAL_MS) {
        logger.error('The expiry sweep failed', error, { event: 'storage-error', operation: 'sweep-expired', failures: this.#unlogged })
        this.#loggedAt = now
        this.#unlogged = 0
      }
      this.#arm(RETRY_MS * 2 ** (this.#failures - 1), MAX_RETRY_MS)
    }
  }
}
