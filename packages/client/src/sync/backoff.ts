/** Reconnection delays. */
export interface ReconnectOptions {
  /** Cap of the first retry's delay, in ms. @default 250 */
  minDelayMs?: number
  /** Largest delay, in ms. @default 30_000 */
  maxDelayMs?: number
}

/**
 * The delay before reconnection attempt `attempt` (0 for the first): exponential backoff with full jitter, a
 * uniformly random delay between 0 and `min(maxDelayMs, minDelayMs * 2^attempt)`, so that many clients
 * dropped by one server restart do not come back in step.
 *
 * @internal
 */
export function backoffDelay(attempt: number, { minDelayMs = 250, maxDelayMs = 30_000 }: ReconnectOptions = {}, random: () => number = Math.random): number {
  const cap = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt, 52))
  return Math.floor(random() * cap)
}
