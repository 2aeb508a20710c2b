/** A token bucket's shape: how many tokens it refills per second and how many it holds at most. */
export interface RateLimit {
  /** Sustained rate: tokens added per second. */
  perSecond: number
  /** Bucket size: how many may be spent at once after a quiet period. */
  burst: number
}

/**
 * One token bucket, refilled lazily from the monotonic clock.
 * @internal
 */
export class TokenBucket {
  readonly #limit: RateLimit
  #tokens: number
  #at: number

  constructor(limit: RateLimit, now: number = performance.now()) {
    this.#limit = limit
    this.#tokens = limit.burst
    this.#at = now
  }

  /**
   * Spends one token.
   * @returns 0 when it was spent, else how many seconds until one is available (rounded up, at least 1).
   */
  take(now: number = performance.now()): number {
    this.#refill(now)
    if (this.#tokens >= 1) {
      this.#tokens -= 1
      return 0
    }
    return Math.max(1, Math.ceil((1 - this.#tokens) / this.#limit.perSecond))
  }

  /** Whether the bucket is full again (so forgetting it changes nothing). */
  isFull(now: number = performance.now()): boolean {
    this.#refill(now)
    return this.#tokens >= this.#limit.burst
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#at) / 1000
    this.#at = now
    this.#tokens = Math.min(this.#limit.burst, this.#tokens + elapsed * this.#limit.perSecond)
  }
}

/** Above this many buckets, full ones are forgotten; above twice as many, the oldest go too. */
const SWEEP_AT = 10_000

/**
 * Token buckets by key (a remote address), with bounded memory: buckets that have refilled are forgotten, since a
 * new bucket is full too.
 * @internal
 */
export class RateLimiter {
  readonly #limit: RateLimit
  readonly #buckets = new Map<string, TokenBucket>()

  constructor(limit: RateLimit) {
    this.#limit = limit
  }

  /** Spends one token of `key`'s bucket. @returns 0, or the seconds to wait. */
  take(key: string, now: number = performance.now()): number {
    let bucket = this.#buckets.get(key)
    if (bucket === undefined) {
      if (this.#buckets.size >= SWEEP_AT) this.#sweep(now)
      this.#buckets.set(key, (bucket = new TokenBucket(this.#limit, now)))
    }
    return bucket.take(now)
  }

  /** How many buckets are kept (for tests). */
  get size(): number {
    return this.#buckets.size
  }

  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) if (bucket.isFull(now)) this.#buckets.delete(key)
    // Many distinct busy addresses at once: forget the oldest rather than grow without bound.
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size < 2 * SWEEP_AT) break
      this.#buckets.delete(key)
    }
  }
}
