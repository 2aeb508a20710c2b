import type { CubbyLimits } from '@cubby/protocol'
import type { RateLimits } from './limits/defaults.js'
import type { CubbyLogger } from './logger.js'
import type { UserQuota } from './storage/UserQuota.js'
import type { LevelDatabase } from './storage/LevelDatabase.js'
import type { CubbyStorage } from './storage/CubbyStorage.js'
import type { ChangeBus } from './sync/ChangeBus.js'

/** Options of `createCubbyServer`. Give one of `dataDir`, `db` or `storage`. */
export interface CubbyServerOptions {
  /** Folder for the LevelDB database (`<dataDir>/db`) and the generated secret (`<dataDir>/secret`). @default undefined */
  dataDir?: string
  /** An abstract-level database to keep the values in, owned (and closed) by the caller. @default undefined */
  db?: LevelDatabase
  /** A ready-made storage, owned by the caller (the server opens it but never closes it). @default undefined */
  storage?: CubbyStorage
  /**
   * Fans commits out to the other nodes that share `storage` (e.g. `createRedisBus` of `@cubby/redis`), so a
   * client of any node sees every write live, and deletions and imports reach every node. Owned by the caller
   * (closed after the server). @default undefined (one node)
   */
  bus?: ChangeBus
  /** Secret that signs and checks tokens (HS256). Without it: `<dataDir>/secret`, else a random one per process. @default undefined */
  secret?: string
  /**
   * The credential of the admin API (`/v1/admin`: list, export, import and delete users). Without it:
   * `<dataDir>/admin-token` (created on first start, mode 0600); with neither, the admin API is off.
   * @default undefined
   */
  adminToken?: string
  /**
   * Older secrets during a rotation: tokens signed with them are still accepted; new tokens are signed with
   * `secret`. Lines after the first of `<dataDir>/secret` count too.
   * @default []
   */
  previousSecrets?: readonly string[]
  /** Turns a bearer token into a user id (or `undefined` to refuse it), replacing JWT verification. @default undefined */
  authenticate?: (token: string) => Promise<string | undefined>
  /** Whether `POST /v1/identities` hands out anonymous identities. @default true without `authenticate`, else false */
  anonymousIdentities?: boolean
  /** JWT `iss` to set on issued tokens and to require on checked ones. @default undefined */
  issuer?: string
  /** JWT `aud` to set on issued tokens and to require on checked ones. @default undefined */
  audience?: string
  /** Size limits; missing fields take `DEFAULT_LIMITS`. @default DEFAULT_LIMITS */
  limits?: Partial<CubbyLimits>
  /**
   * Per-user quota of stored bytes and keys; a write that would pass either fails with `QUOTA_EXCEEDED` and
   * leaves nothing behind. Applies to the storage the server makes (from `dataDir` or `db`).
   * @default DEFAULT_QUOTA
   */
  quota?: Partial<UserQuota>
  /**
   * Keys of all users whose rev and value size the write path keeps in memory, so that a commit reads nothing
   * before its synced batch (about 130 bytes each); the least recently written users are dropped first, and a
   * user not held is read as needed. 0 keeps none. Applies to the storage the server makes.
   * @default 250_000
   */
  maxIndexedKeys?: number
  /** Token-bucket rate limits per connection and per remote address; over them, `RATE_LIMITED` with `retryAfter`. @default DEFAULT_RATE_LIMITS */
  rateLimits?: { connection?: Partial<RateLimits['connection']>; address?: Partial<RateLimits['address']> }
  /** Most sync sockets one user may have open; one more is closed with `RATE_LIMITED`. @default 100 */
  maxConnectionsPerUser?: number
  /** Most sync sockets one remote address may have open; one more is refused with 429. @default 5_000 */
  maxConnectionsPerAddress?: number
  /** A client with more than this many bytes waiting to be sent to it (it stopped reading) is disconnected. @default 4 × limits.maxMessageBytes */
  maxSendBufferBytes?: number
  /**
   * Browser origins, besides the server's own, that may open sync sockets and call the HTTP API (CORS): exact
   * origins (`https://app.example.com`), any port of a host (`http://localhost:*`), or `'*'` for any.
   * Requests without an `Origin` header (programs, not pages) are always allowed.
   * @default DEFAULT_ALLOWED_ORIGINS (http://localhost:*, http://127.0.0.1:*, http://[::1]:*)
   */
  allowedOrigins?: readonly string[]
  /** Count per-address limits by the last `X-Forwarded-For` address (behind a reverse proxy). @default false */
  trustProxy?: boolean
  /** Changes per storage read during a catch-up. @default 500 */
  pullBatchSize?: number
  /** How long a new socket has to send its `hello`. @default 10_000 */
  helloTimeoutMs?: number
  /** Interval of WebSocket pings; a socket that has not answered the previous ping is cut. @default 30_000 */
  heartbeatMs?: number
  /** Where to report warnings and errors; `null` for silence. @default consoleLogger (stderr) */
  logger?: CubbyLogger | null
}
