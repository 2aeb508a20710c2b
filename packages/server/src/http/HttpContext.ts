import type { CubbyLimits } from '@cubby/protocol'
import type { TokenAuth } from '../auth/TokenAuth.js'
import type { UserAdmin } from '../admin/UserAdmin.js'
import type { Protection } from '../limits/Protection.js'
import type { RateLimit } from '../limits/RateLimiter.js'
import type { CubbyLogger } from '../logger.js'
import type { ServerMetrics } from '../metrics/ServerMetrics.js'
import type { CubbyStorage } from '../storage/CubbyStorage.js'
import type { Writer } from '../writes/Writer.js'

/** What the HTTP routes share. @internal */
export interface HttpContext {
  storage: CubbyStorage
  writer: Writer
  auth: TokenAuth
  limits: CubbyLimits
  logger: CubbyLogger
  /** Whether `POST /v1/identities` issues anonymous identities. */
  anonymousIdentities: boolean
  /** The admin API's operations. */
  admin: UserAdmin
  /** The admin credential; `undefined` turns the admin API off. */
  adminToken: string | undefined
  /** New anonymous identities per remote address. */
  identityRate: RateLimit
  /** Origins, rate limits. */
  protection: Protection
  /** Counters and histograms of `GET /metrics`. */
  metrics: ServerMetrics
  /** Resolves once the storage is open; rejects when it cannot open or the server is closed. */
  ready(): Promise<void>
}
