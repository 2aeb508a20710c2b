import type { CubbyLimits } from '@cubby/protocol'
import type { CubbyLogger } from './logger.js'
import type { LevelDatabase } from './storage/LevelDatabase.js'
import type { CubbyStorage } from './storage/CubbyStorage.js'

/** Options of `createCubbyServer`. Give one of `dataDir`, `db` or `storage`. */
export interface CubbyServerOptions {
  /** Folder for the LevelDB database (`<dataDir>/db`) and the generated secret (`<dataDir>/secret`). @default undefined */
  dataDir?: string
  /** An abstract-level database to keep the values in, owned (and closed) by the caller. @default undefined */
  db?: LevelDatabase
  /** A ready-made storage, owned by the caller (the server opens it but never closes it). @default undefined */
  storage?: CubbyStorage
  /** Secret that signs and checks tokens (HS256). Without it: `<dataDir>/secret`, else a random one per process. @default undefined */
  secret?: string
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
  /** Changes per storage read during a catch-up. @default 500 */
  pullBatchSize?: number
  /** How long a new socket has to send its `hello`. @default 10_000 */
  helloTimeoutMs?: number
  /** Interval of WebSocket pings; a socket that has not answered the previous ping is cut. @default 30_000 */
  heartbeatMs?: number
  /** Where to report warnings and errors; `null` for silence. @default consoleLogger (stderr) */
  logger?: CubbyLogger | null
}
