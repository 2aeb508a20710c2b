import type { CubbyErrorCode, UnauthorizedReason } from './errorCodes.js'

/** The protocol version this build speaks; the client sends it in `hello`, the server answers in `welcome`. */
export const PROTOCOL_VERSION = 1
/** Versions a server accepts. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1]

/** Path of the sync WebSocket endpoint, relative to the server's base URL. */
export const SYNC_PATH = '/v1/sync'

/**
 * WebSocket close codes a server uses to end a session on purpose. 4000-4999 are the application range
 * (RFC 6455 §7.4.2); the client decides from them whether reconnecting can help.
 */
export const CLOSE_CODES = {
  /** Token missing, invalid or expired: get a new token before reconnecting. */
  UNAUTHORIZED: 4001,
  /** Unsupported protocol version: reconnecting will not help. */
  PROTOCOL_VERSION: 4002,
  /** The first frame was not a valid `hello`. */
  BAD_MESSAGE: 4003,
  /** No `hello` arrived in time. */
  HELLO_TIMEOUT: 4004,
  /** The server deleted this user (after a `user-deleted` frame): clear the local copy, do not reconnect as this user. */
  USER_DELETED: 4010,
  /** The server's data for this user was replaced (an admin import): reconnect at once to catch up. */
  RESYNC: 4012,
  /** Too many frames or connections (after an `error` frame with `retryAfter`): reconnect after `retryAfter` seconds. */
  RATE_LIMITED: 4029,
  /** The server is shutting down; reconnect with backoff. */
  GOING_AWAY: 1001,
} as const

// ---------------------------------------------------------------- client → server

/** First frame of every session: authenticates and says where the client's copy stands. */
export interface HelloMessage {
  type: 'hello'
  /** Protocol version of the client. */
  v: number
  /** Bearer token (a JWT signed by the server's secret, or whatever the server's `authenticate` accepts). */
  token: string
  /** The last revision this client has applied; 0 for a cold client. The server sends every change after it. */
  cursor: number
  /**
   * `false`: leave this session's own writes out of the live changes it is sent; their `ack` carries their
   * revisions, and the client applies its acknowledged writes itself (see {@link AckMessage}). Changes read
   * from storage (a catch-up, or a session that fell behind) still include them. Default `true`.
   */
  echo?: boolean
}

/**
 * The condition of a compare-and-set write, checked by the server when the write arrives: `{ rev }` holds while
 * the key's live value is at that revision (its version), `{ absent: true }` while the key has no live value.
 * A write whose condition fails is rejected with `CONFLICT` and changes nothing.
 */
export type WriteCondition = { rev: number } | { absent: true }

/**
 * One write. `mid` (mutation id) increases by one per write of a client id, so retries can be recognised.
 * A store or delete may carry a condition (`if`, see {@link WriteCondition}).
 */
export type Mutation =
  | {
    op: 'store'; mid: number; key: string; /** Encoded with `encodeValue`. */ value: string
    /** When the value expires, in milliseconds since the epoch on the server's clock (see `expiry.ts`); none: never. */
    expiresAt?: number
    if?: WriteCondition
  }
  | { op: 'delete'; mid: number; key: string; if?: WriteCondition }
  | { op: 'clear'; mid: number }

/** Writes of one client id, in the order the client made them. */
export interface PushMessage {
  type: 'push'
  /** Identifies the writer for exactly-once: the server applies a (clientId, mid) at most once. */
  clientId: string
  mutations: Mutation[]
  /**
   * The mutations form one atomic batch: all of them are applied, or none (each then gets the error that stopped
   * the batch, e.g. `CONFLICT` when a condition failed; conditions are checked together, against the state before
   * the batch). A batch larger than one frame is sent as several pushes with the same `batch.id`, the last one
   * with `batch.last: true`; the server holds the parts of the session's open batch and commits them together
   * when the last part arrives (a part's answer comes then, for all parts at once). A batch cut by a disconnect is
   * dropped by the server and sent again whole.
   */
  batch?: { id: string; last?: true }
}

/**
 * Asks the server for a `pong`, after `hello`. A browser cannot see the WebSocket ping frames the server
 * sends, so a client that has heard nothing for a while asks, and takes a missing answer for a dead
 * connection (one that was cut without a close, e.g. by a sleeping laptop or a dropped network).
 */
export interface PingMessage {
  type: 'ping'
}

/** Every message a client may send. */
export type ClientMessage = HelloMessage | PushMessage | PingMessage

// ---------------------------------------------------------------- server → client

/** Answer to a valid `hello`. Changes after the client's cursor follow, then `synced`. */
export interface WelcomeMessage {
  type: 'welcome'
  v: number
  /** The user the token names. */
  userId: string
  /** The user's latest revision at the time of the hello. */
  head: number
  /** This server answers `ping` with `pong` (older servers answer it with an error): a client pings only then. */
  ping?: true
  /** The server's clock when it sent the welcome (ms since the epoch): a client learns its offset to it for expiry. */
  now?: number
}

/** A change of one key (or of all keys, for `clear`) at revision `rev` of the user. */
export type Change =
  | { rev: number; key: string; value: string; /** When the value expires (server ms since the epoch); none: never. */ expiresAt?: number }
  | { rev: number; key: string; deleted: true }
  | { rev: number; clear: true }

/**
 * Changes in increasing, gap-free order of the revisions that still matter (overwritten ones are skipped). The
 * catch-up of a client at cursor 0 is the exception: a snapshot of every record in key order, where every frame
 * but the last keeps `rev` at the cursor.
 */
export interface ChangesMessage {
  type: 'changes'
  changes: Change[]
  /** The client is now current up to this revision (at least the last change's rev, except in a cold catch-up). */
  rev: number
}

/** The catch-up after `hello` is complete: the client holds everything up to `rev`. Live changes follow. */
export interface SyncedMessage {
  type: 'synced'
  rev: number
}

/** A wire error: `{ code, message }`, turned back into a CubbyError by the client. */
export interface WireError {
  code: CubbyErrorCode
  message: string
  /** Seconds to wait, for `RATE_LIMITED`. */
  retryAfter?: number
  /** Why the token was refused, for `UNAUTHORIZED`. */
  reason?: UnauthorizedReason
  /** The key's version (revision of its live value; 0: no live value) the failed condition met, for `CONFLICT`. */
  rev?: number
}

/** Outcome of one mutation: the revision it got (durable on the server), or why it was rejected. */
export type MutationResult = { mid: number; rev: number } | { mid: number; error: WireError }

/**
 * Sent once the mutations of a push are durable (or rejected). Every change up to the highest `rev` in `results`
 * has been sent before it on this connection, except, for a session that said `echo: false`, the changes of its
 * own mutations: such a client takes each acknowledged write as the value at its `rev` and moves its cursor to
 * the highest `rev`.
 */
export interface AckMessage {
  type: 'ack'
  clientId: string
  results: MutationResult[]
}

/** An error about a whole frame (bad JSON, unknown type, ...). The session carries on unless it is closed after. */
export interface ErrorMessage extends WireError {
  type: 'error'
}

/**
 * The user was deleted on the server (by an admin): every value, revision and tombstone is gone. The server closes
 * the socket with `CLOSE_CODES.USER_DELETED` right after. The client drops its local copy and outbox for this user.
 */
export interface UserDeletedMessage {
  type: 'user-deleted'
}

/** The answer to a `ping`. */
export interface PongMessage {
  type: 'pong'
}

/** Every message a server may send. */
export type ServerMessage = WelcomeMessage | ChangesMessage | SyncedMessage | AckMessage | ErrorMessage | UserDeletedMessage | PongMessage
