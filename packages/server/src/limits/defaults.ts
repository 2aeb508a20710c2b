import type { RateLimit } from './RateLimiter.js'

/** Rate limits per connection and per remote address. */
export interface RateLimits {
  /** Each WebSocket (every frame) and each HTTP connection (every request). */
  connection: RateLimit
  /** Everything from one remote address together: frames, upgrades and requests. */
  address: RateLimit
}

/**
 * The default rate limits: generous enough for a client replaying a large outbox one write per frame
 * (about 10,000 frames at once) and for thousands of connections from one address (a NAT, a proxy, a load test),
 * tight enough that no one address can flood the server without pause.
 */
export const DEFAULT_RATE_LIMITS: Readonly<RateLimits> = Object.freeze({
  connection: Object.freeze({ perSecond: 1_000, burst: 20_000 }),
  address: Object.freeze({ perSecond: 5_000, burst: 50_000 }),
})

/** Most sync sockets one user may have open at once (by default). */
export const DEFAULT_MAX_CONNECTIONS_PER_USER = 100
/** Most sync sockets one remote address may have open at once (by default). */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 5_000
