import type { CubbyLogger } from '../logger.js'

/**
 * Logs refusals (auth refusals, connection caps) aggregated: the first of a reason at once, then at most one line
 * per reason per window with how many there were, so that a flood of bad tokens cannot flood the log.
 * Reasons are a bounded set; no token, user id or address is ever logged.
 * @internal
 */
export class RefusalLog {
  readonly #logger: CubbyLogger
  readonly #windowMs: number
  /** Per reason: refusals not yet logged, while its window runs. */
  readonly #pending = new Map<string, { count: number; timer: NodeJS.Timeout }>()

  constructor(logger: CubbyLogger, windowMs = 10_000) {
    this.#logger = logger
    this.#windowMs = windowMs
  }

  /** Counts one refusal of `reason` (e.g. `unauthorized:expired`). */
  refused(reason: string): void {
    const open = this.#pending.get(reason)
    if (open !== undefined) return void open.count++
    this.#write(reason, 1)
    const timer = setTimeout(() => this.#flush(reason), this.#windowMs).unref()
    this.#pending.set(reason, { count: 0, timer })
  }

  /** Logs what is pending now (on close). */
  close(): void {
    for (const [reason, { count, timer }] of this.#pending) {
      clearTimeout(timer)
      if (count > 0) this.#write(reason, count)
    }
    this.#pending.clear()
  }

  /** The window of a reason ends: its count is logged and a new window starts, or, without any, the reason is forgotten. */
  #flush(reason: string): void {
    const open = this.#pending.get(reason)
    if (open === undefined) return
    if (open.count === 0) return void this.#pending.delete(reason)
    this.#write(reason, open.count)
    open.count = 0
    open.timer.refresh()
  }

  #write(reason: string, count: number): void {
    this.#logger.warn(`Refused ${count} request(s): ${reason}`, undefined, { event: 'refused', reason, count, windowSeconds: this.#windowMs / 1000 })
  }
}
