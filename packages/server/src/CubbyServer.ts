import type { ExpiryInput } from '@cubby/protocol'
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Router } from 'express'
import type { ServerListOptions } from './ServerVerbs.js'
import type { ImportResult, UserRecord, UserSummary } from './storage/UserRecord.js'

/** Where {@link CubbyServer.listen} listens. */
export interface ListenOptions {
  /** TCP port; 0 picks a free one. @default 0 */
  port?: number
  /** Address to bind. @default '127.0.0.1' */
  host?: string
  /**
   * Folder of a built single-page app to serve at `/` (with `index.html` for client-side routes). Without it,
   * `GET /` answers a short text page about the server.
   * @default undefined
   */
  staticDir?: string
  /**
   * A second port that serves only `GET /metrics`, without a credential, for scrapers; on the main port
   * `/metrics` needs the admin credential. @default undefined (none)
   */
  metricsPort?: number
  /** Address the metrics port binds. @default '127.0.0.1' */
  metricsHost?: string
}

/** The condition and expiry of a server-side write (see the client's `ifVersion`, `ifAbsent`, `ttl` and `expiresAt`). */
export interface ServerWriteOptions extends ExpiryInput {
  /** Write only while the key's version is this; 0: while it has no value. @default undefined */
  ifVersion?: number
  /** Write only while the key has no value. @default false */
  ifAbsent?: boolean
}

/** A running Cubby server: mount `app` and `attach` it to your own server, or call `listen`. */
export interface CubbyServer extends AsyncDisposable {
  /** The HTTP API (`/healthz`, `/v1/...`) as an express router; paths outside it fall through. */
  readonly app: Router
  /** Takes over an upgrade request for `SYNC_PATH` (answers 404 for any other path). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void
  /** Serves WebSocket sync on an http server's `upgrade` events for `SYNC_PATH`; other paths are left alone. */
  attach(server: Server): void
  /** Starts an http server of its own with `app` and sync. */
  listen(options?: ListenOptions): Promise<{ url: string; port: number; metricsUrl?: string }>
  /**
   * Stores a value for a user; with `ifVersion` (0: no value) or `ifAbsent`, only while the key's version is that;
   * expiring after `ttl` ms or at `expiresAt` when given (server time).
   * @returns its rev. @throws CubbyError `INVALID_USER_ID`, `INVALID_KEY`, `INVALID_VALUE` (also for a bad ttl), `VALUE_TOO_LARGE`, `CONFLICT`.
   */
  store(userId: string, key: string, value: unknown, options?: ServerWriteOptions): Promise<number>
  /** A user's key with its version (the revision of its value, for `ifVersion`), or `undefined`. */
  getEntry(userId: string, key: string): Promise<{ value: unknown; version: number } | undefined>
  /** The value of a user's key, or `undefined`. */
  get(userId: string, key: string): Promise<unknown>
  /** A user's keys in code-point order. */
  list(userId: string, options?: ServerListOptions): Promise<string[]>
  /** A user's `[key, value]` pairs in code-point order of the keys. */
  entries(userId: string, options?: ServerListOptions): Promise<Array<[string, unknown]>>
  /** Deletes a user's key, on a condition as {@link store}. @returns the rev of the delete. @throws CubbyError `CONFLICT`. */
  delete(userId: string, key: string, options?: ServerWriteOptions): Promise<number>
  /** Deletes every key of a user. @returns the rev of the clear. */
  clear(userId: string): Promise<number>
  /** Users that have data, `limit` at a time after `after`. */
  users(options?: { after?: string; limit?: number }): Promise<UserSummary[]>
  /** A user's data as records (header, then every key with its rev), streamed. @throws CubbyError `NOT_FOUND`. */
  exportUser(userId: string): AsyncIterable<UserRecord>
  /** Writes an export back into a user without data; the user's live sessions reconnect (4012). @throws CubbyError `BAD_MESSAGE`. */
  importUser(userId: string, records: AsyncIterable<UserRecord>): Promise<ImportResult>
  /**
   * Deletes everything of a user (values, revisions, tombstones, exactly-once records); their live sessions get
   * `user-deleted` and are closed with 4010, and JWTs of the user issued (`iat`) at or before the second of the
   * deletion are refused from then on (a durable marker, lifted only by an import of the user). Tokens an
   * `authenticate` hook accepts are the app's to refuse. @returns whether the user had data.
   */
  deleteUser(userId: string): Promise<boolean>
  /** Signs a token (JWT, HS256, `sub` = `userId`) that this server accepts. */
  issueToken(userId: string): Promise<string>
  /**
   * Reads the token secrets again, for a rotation without restart: the first line of `<dataDir>/secret` signs new
   * tokens (unless `secret` was given, which stays), its further lines and `previousSecrets` still check tokens.
   * Live sessions stay connected. The CLI calls this on `SIGHUP`.
   * @throws Error when the secret file is missing or empty; the secrets in use are then unchanged.
   * @example
   * ```ts
   * process.on('SIGHUP', () => cubby.reloadSecrets())
   * ```
   */
  reloadSecrets(): void
  /** Stops accepting, waits for writes in flight, closes sockets (1001) and whatever the server opened. */
  close(): Promise<void>
}
