/**
 * Every error code Cubby uses, on the client, the server, the WebSocket and HTTP. The code is the contract:
 * match on it, never on the message.
 */
export const CUBBY_ERROR_CODES = {
  /** A key is not a non-empty string of at most `maxKeyBytes` UTF-8 bytes. */
  INVALID_KEY: 'INVALID_KEY',
  /** A user id is not a non-empty string of at most `maxUserIdBytes` UTF-8 bytes. */
  INVALID_USER_ID: 'INVALID_USER_ID',
  /** A value holds something structuredClone rejects (a function, a symbol, a WeakMap, ...) or cannot be decoded. */
  INVALID_VALUE: 'INVALID_VALUE',
  /** An encoded value is larger than `maxValueBytes`. */
  VALUE_TOO_LARGE: 'VALUE_TOO_LARGE',
  /** A frame or HTTP body is larger than `maxMessageBytes`. */
  MESSAGE_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  /** No valid token: missing, badly signed, expired, or for a user this server does not accept. */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** The request comes from a browser origin the server does not allow (`allowedOrigins`). */
  FORBIDDEN: 'FORBIDDEN',
  /** A frame or request that does not parse or does not match the protocol. */
  BAD_MESSAGE: 'BAD_MESSAGE',
  /** The peer speaks a protocol version this side does not support. */
  PROTOCOL_VERSION: 'PROTOCOL_VERSION',
  /** HTTP only: the key has no value. (The client API returns `undefined` instead.) */
  NOT_FOUND: 'NOT_FOUND',
  /** Too many requests or connections; `retryAfter` says how many seconds to wait. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** The user is over their byte or key quota; nothing of the write was kept. */
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  /**
   * The server's storage budget (`maxTotalBytes`) is spent: an anonymous identity's write that would add bytes was
   * refused and nothing of it kept (writes that free space still pass). HTTP 507.
   */
  STORAGE_FULL: 'STORAGE_FULL',
  /**
   * A conditional write (`ifVersion`, `ifAbsent`, HTTP `If-Match`/`If-None-Match: *`) found the key at another
   * version, or a write of its atomic batch did: nothing of it (or of its batch) was written. HTTP 412.
   */
  CONFLICT: 'CONFLICT',
  /**
   * A push came after a higher `mid` of its client id on the same connection: the server would have taken it for a
   * retry of a write it applied and dropped it without a word. Nothing of the push was written. A client that sends
   * each client id's writes in `mid` order never gets it.
   */
  OUT_OF_ORDER: 'OUT_OF_ORDER',
  /** The operation needs a connection or an acknowledgement that did not come (e.g. `signOut` with pending writes while offline). */
  PENDING_WRITES: 'PENDING_WRITES',
  /** The client or server was closed while the operation ran. */
  CLOSED: 'CLOSED',
  /** The local cache (IndexedDB) failed; the message has the cause. */
  STORAGE_ERROR: 'STORAGE_ERROR',
  /**
   * Client only: the browser's storage quota is spent and the local cache refused a write. Cached server values are
   * evicted first (they can be fetched again); pending writes are kept (on disk if they fit, else in memory) and
   * persisted again once space is available.
   */
  CACHE_FULL: 'CACHE_FULL',
  /**
   * Client only: the local cache was deleted behind the client's back (eviction, cleared site data, another
   * version). The client rebuilds it from memory or the server; `lostWrites` on the event counts pending writes
   * that were only on disk and are gone.
   */
  CACHE_EVICTED: 'CACHE_EVICTED',
  /** Client only: the local cache kept failing after reopening it; the client now works from memory (`persistent: false`). */
  CACHE_UNAVAILABLE: 'CACHE_UNAVAILABLE',
  /** Client only: the server could not be reached (offline, refused connection, DNS, CORS, a proxy without it); the client retries by itself. */
  NETWORK: 'NETWORK',
  /** Something unexpected on the server; the request may be retried. */
  INTERNAL: 'INTERNAL',
} as const

/** One of {@link CUBBY_ERROR_CODES}. */
export type CubbyErrorCode = (typeof CUBBY_ERROR_CODES)[keyof typeof CUBBY_ERROR_CODES]

/** Tells whether `code` is a known error code (for parsing codes that arrive over the wire). */
export const isCubbyErrorCode = (code: unknown): code is CubbyErrorCode =>
  typeof code === 'string' && Object.hasOwn(CUBBY_ERROR_CODES, code)

/**
 * Why a token was refused, sent as `reason` with `UNAUTHORIZED` (HTTP 401 bodies and WebSocket error frames):
 * - `missing`: no token was sent (HTTP only);
 * - `invalid`: not a token this server accepts: badly signed, malformed, wrong issuer or audience, not yet valid,
 *   or refused by the app's `authenticate` hook;
 * - `expired`: correctly signed, but past its `exp`: get a new token;
 * - `revoked`: correctly signed, but issued before its user was deleted, or signed by a device key that was
 *   revoked (or by a device linked before the user's deletion).
 *
 * `expired` and `revoked` are only said of tokens whose signature checked out, so a forged token gets `invalid`
 * whether or not the user it names exists.
 */
export const UNAUTHORIZED_REASONS = ['missing', 'invalid', 'expired', 'revoked'] as const

/** One of {@link UNAUTHORIZED_REASONS}. */
export type UnauthorizedReason = (typeof UNAUTHORIZED_REASONS)[number]

/** Tells whether `reason` is a known {@link UnauthorizedReason} (for parsing reasons that arrive over the wire). */
export const isUnauthorizedReason = (reason: unknown): reason is UnauthorizedReason =>
  typeof reason === 'string' && (UNAUTHORIZED_REASONS as readonly string[]).includes(reason)
