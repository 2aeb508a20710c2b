import { isCubbyError } from '@cubby/protocol'
import type { CubbyLogger } from '../logger.js'
import { checkUnusedDays, pruneAnonymousUsers, type PruneTarget } from './pruneAnonymousUsers.js'

/** Checks at most this often. */
const MAX_INTERVAL_MS = 60 * 60 * 1000

/**
 * Prunes anonymous identities unused for `days` on a timer, inside a running server: every hour, or every half
 * period when that is shorter. One run at a time; failures are logged and the next run tries again.
 * @internal
 */
export class PruneSchedule {
  readonly #timer: NodeJS.Timeout
  #running: Promise<void> | undefined

  /** @throws TypeError unless `days` is a positive number. */
  constructor(target: PruneTarget, days: number, logger: CubbyLogger) {
    checkUnusedDays('pruneAnonymousAfterDays', days)
    const interval = Math.max(1000, Math.min(MAX_INTERVAL_MS, (days * 86_400_000) / 2))
    this.#timer = setInterval(() => {
      this.#running ??= pruneAnonymousUsers(target, { unusedDays: days })
        .then((n) => { if (n > 0) logger.info(`pruned ${n} anonymous users unused for ${days} days`) })
        // A run cut short by the server closing is no failure: the next start prunes again.
        .catch((error: unknown) => { if (!isCubbyError(error, 'CLOSED')) logger.warn('Pruning anonymous users failed', error) })
        .finally(() => { this.#running = undefined })
    }, interval).unref()
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer)
    await this.#running
  }
}
