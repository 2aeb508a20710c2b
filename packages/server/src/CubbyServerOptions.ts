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
  /**
   * Whether anonymous users are accepted: `POST /v1/identities` hands out identities, and self-certified device tokens
   * (ES256, signed by the key in their `jwk` header, user id `anon_key_<thumbprint>`) are accepted. New ones of both
   * kinds share the per-address limit `rateLimits.identity`.
   * @default true without `authenticate`, else false
   */
  anonymousIdentities?: boolean
  /**
   * The origins under which clients reach this deployment (`https://sync.example.com`); a device token's `aud` must be
   * one of them. Without it, `aud` must be the origin of the request's `Host` header (http or https), which a client
   * can choose: set it in production so that a token made for another deployment is refused here.
   * @default undefined (the Host's origin)
   */
  publicOrigins?: readonly string[]
  /**
   * Seconds a token of `POST /v1/identities` lives (its `exp`); renew it with `POST /v1/tokens/refresh` before then
   * (the client does, past half its lifetime). Tokens issued without `exp` (by earlier versions) stay valid.
   * @default 604_800 (7 days, see docs/security.md)
   */
  anonymousTokenTtlSeconds?: number
  /** Seconds a token of `issueToken` lives (its `exp`); renewable the same way. @default undefined (no `exp`) */
  tokenTtlSeconds?: number
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
  /**
   * Server-wide budget of stored bytes, counted as the quota counts them (keys, values, 64 bytes per record) over all
   * users and kept exactly. Past it, a write of an anonymous identity (from `POST /v1/identities`, user id `anon_…`)
   * that would add bytes fails with `STORAGE_FULL` (HTTP 507) and leaves nothing behind; the app's own users and
   * writes that free space always pass. Applies to the storage the server makes.
   * @default undefined (no budget)
   */
  maxTotalBytes?: number
  /**
   * Deletes anonymous identities (user id `anon_…`) that have not written for this many days, checking every hour
   * (more often for periods under two hours), through the same deletion as `deleteUser` (their tokens are revoked).
   * Users last written before the time of the last write was kept are left alone until they write again.
   * @default undefined (never)
   */
  pruneAnonymousAfterDays?: number
  /**
   * Token-bucket rate limits per connection and per remote address, and of new anonymous identities per remote
   * address (`identity`: 10 a minute, 20 at once); over them, `RATE_LIMITED` with `retryAfter`.
   * @default DEFAULT_RATE_LIMITS
   */
  rateLimits?: { connection?: Partial<RateLimits['connection']>; address?: Partial<RateLimits['address']>; identity?: Partial<RateLimits['identity']> }
  /** Most sync sockets one user may have open; one more is closed with `RATE_LIMITED`. @default 100 */
  maxConnectionsPerUser?: number
  /**
   * Most sync sockets one remote address may have open; one more is refused with 429. With `listen()`, it also caps
   * the address's TCP connections, HTTP and WebSocket together (unless `trustProxy`: then all come from the proxy).
   * @default 5_000
   */
  maxConnectionsPerAddress?: number
  /** A client with more than this many bytes waiting to be sent to it (it stopped reading) is disconnected. @default 4 × limits.maxMessageBytes */
  maxSendBufferBytes?: number
  /**
   * Most bytes a sync socket may send before its `hello` is in: more (one big first frame, fragments, pings) is
   * closed with 1009 after a `MESSAGE_TOO_LARGE` error, before the frame is buffered or parsed.
   * @default 65_536
   */
  maxHelloBytes?: number
  /**
   * A sync socket or an HTTP response with bytes waiting to be sent, none of which got written for this long (the
   * client stopped reading), is cut. Independent of the heartbeat.
   * @default 20_000
   */
  sendTimeoutMs?: number
  /**
   * Server-wide budget of bytes held in WebSocket frames partly received. Past it, upgrades are refused (503) and a
   * socket that sends more is closed with `RATE_LIMITED`.
   * @default 268_435_456 (256 MiB)
   */
  maxInboundBytes?: number
  /**
   * Server-wide budget of bytes waiting to be written to sync sockets. Past it, upgrades are refused (503) and a
   * socket that does not keep up is cut.
   * @default 536_870_912 (512 MiB)
   */
  maxOutboundBytes?: number
  /**
   * Most TCP connections, HTTP and WebSocket together, that `listen()` keeps open; more are answered 503
   * `RATE_LIMITED` and closed. Lowered to the process's open-file limit minus a reserve for the database when that
   * is less. (With `attach()`, the host's server accepts connections: cap them there, e.g. `server.maxConnections`.)
   * @default 10_000
   */
  maxConnections?: number
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
