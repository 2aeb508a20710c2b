import type { CubbyLimits } from '@cubby/protocol'
import type { CubbyCacheProvider } from './cache/CubbyCache.js'
import type { ReconnectOptions } from './sync/backoff.js'
import type { HeartbeatOptions } from './sync/SyncConnection.js'

/** Options of `createCubby`. */
export interface CubbyOptions {
  /** The server's http(s) base URL, e.g. `https://cubby.example.com`; the WebSocket goes to `/v1/sync` under it. */
  url: string
  /**
   * A bearer token, or a function that returns one. The function is called again for every connection: when
   * the server refuses a token (close 4001, `UNAUTHORIZED`: reported as an `error` event only if the new token
   * is refused too), and shortly before a JWT's `exp` (read without verifying), when the session moves to the
   * new token. Pending writes stay queued meanwhile and are sent after. A refused fixed token, or a refused
   * anonymous identity, is reported (`UNAUTHORIZED`) and the client stays offline: it never creates a new
   * identity by itself, which would leave the user's data behind.
   * @default an anonymous identity made on this device at first start, without the network: a P-256 key pair
   * (WebCrypto, private key not extractable) kept in the cache, so that a reload stays the same user, whose
   * user id is `anon_key_` + its public key's thumbprint; each connection sends a fresh device token signed with
   * it (5 minutes, `aud` the origin of `url`). An identity from earlier versions (a token of
   * `POST /v1/identities`) is kept and refreshed with `POST /v1/tokens/refresh` past half its lifetime. Without
   * `crypto.subtle` (plain http from a host other than localhost) the client asks `POST /v1/identities` instead.
   */
  auth?: string | (() => string | Promise<string>)
  /**
   * The user the token is for; needed only when the token is not a JWT (otherwise its `sub` is read, without
   * verification, to pick the local database; the server verifies).
   * @default the token's `sub`
   */
  userId?: string
  /** Namespaces local databases, so that two apps on one origin do not collide. @default 'default' */
  name?: string
  /**
   * Where values are kept locally. `indexeddb` falls back to memory when IndexedDB is missing or cannot be
   * opened (private modes); `persistent` then says false.
   * @default 'indexeddb'
   */
  cache?: 'indexeddb' | 'memory' | CubbyCacheProvider
  /** The WebSocket class (pass `ws`'s in Node). @default globalThis.WebSocket */
  WebSocket?: typeof WebSocket
  /** The fetch function, used to refresh or (without WebCrypto) create the anonymous identity. @default globalThis.fetch */
  fetch?: typeof fetch
  /** Reconnection backoff (full jitter), reset after each successful welcome. @default { minDelayMs: 250, maxDelayMs: 30_000 } */
  reconnect?: ReconnectOptions
  /**
   * How the client notices a connection that died without a close (a sleeping laptop, a dropped network), which
   * a browser may otherwise keep for minutes: after `idleMs` without a frame from the server it sends a `ping`,
   * and without an answer `timeoutMs` later it goes offline and reconnects. `false`: never ping.
   * @default { idleMs: 25_000, timeoutMs: 10_000 }
   */
  heartbeat?: HeartbeatOptions | false
  /** Size limits; keep them equal to the server's. @default DEFAULT_LIMITS */
  limits?: Partial<CubbyLimits>
  /**
   * Whether to connect at once; with false the client works offline (status `offline`) until `connect()`.
   * @default true
   */
  connect?: boolean
  /**
   * How tabs of one app (same `name`) and user share the work. `coordinate`: one tab (elected with a Web Lock)
   * holds the only WebSocket and pushes the shared outbox; the others write to the outbox and follow its
   * stream over a BroadcastChannel, so all show one state, live. `independent`: every tab connects on its own.
   * Coordination needs Web Locks, BroadcastChannel and a persistent cache; without them tabs are independent.
   * @default 'coordinate'
   */
  tabs?: 'coordinate' | 'independent'
  /**
   * The device's clock, for tests that shift it (expiry is measured on the server's clock, learnt as an offset
   * to this one). @default Date.now
   * @internal
   */
  now?: () => number
}

/** Options of `signOut`. */
export interface SignOutOptions {
  /** Throw away writes the server has not acknowledged instead of waiting for them. @default false */
  discardPending?: boolean
  /** How long to wait for pending writes to reach the server before giving up. @default 10_000 */
  timeoutMs?: number
}
