import type { RateLimit } from './RateLimiter.js'

/** Rate limits per connection and per remote address. */
export interface RateLimits {
  /** Each WebSocket (every frame) and each HTTP connection (every request). */
  connection: RateLimit
  /** Everything from one remote address together: frames, upgrades and requests. */
  address: RateLimit
  /** New anonymous identities (`POST /v1/identities`) from one remote address. */
  identity: RateLimit
}

/**
 * The default rate limits: generous enough for a client replaying a large outbox one write per frame
 * (about 10,000 frames at once) and for thousands of connections from one address (a NAT, a proxy, a load test),
 * tight enough that no one address can flood the server without pause.
 */
export const DEFAULT_RATE_LIMITS: Readonly<RateLimits> = Object.freeze({
  connection: Object.freeze({ perSecond: 1_000, burst: 20_000 }),
  address: Object.freeze({ perSecond: 5_000, burst: 50_000 }),
  // A browser makes one identity and keeps it: 20 at once covers a classroom behind one NAT opening the app
  // together, and 10 a minute after that any household or office, while minting stays 10,000 times slower than
  // the 1,000+ a second one address managed without a limit.
  identity: Object.freeze({ perSecond: 10 / 60, burst: 20 }),
})

/** Most sync sockets one user may have open at once (by default). */
export const DEFAULT_MAX_CONNECTIONS_PER_USER = 100
/** Most sync sockets one remote address may have open at once (by default). */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 5_000
/** Most bytes a socket may send before its `hello` is in (a hello is a token and a few fields). */
export const DEFAULT_MAX_HELLO_BYTES: number = 64 * 1024
/** How long a socket may leave bytes unwritten without any getting through before it is cut. */
export const DEFAULT_SEND_TIMEOUT_MS = 20_000
/** Server-wide budget of inbound bytes held in frames partly received. */
export const DEFAULT_MAX_INBOUND_BYTES: number = 256 * 1024 * 1024
/** Server-wide budget of outbound bytes waiting to be written to sockets. */
export const DEFAULT_MAX_OUTBOUND_BYTES: number = 512 * 1024 * 1024
/** Most TCP connections (HTTP and WebSocket together) of a server made by `listen()`. */
export const DEFAULT_MAX_CONNECTIONS = 10_000
