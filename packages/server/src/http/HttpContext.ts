import type { CubbyLimits } from '@cubby/protocol'
import type { DeviceLinks } from '../auth/DeviceLinks.js'
import type { AccountMerger } from '../auth/AccountMerger.js'
import type { IdentityAdmission } from '../auth/IdentityAdmission.js'
import type { TokenAuth } from '../auth/TokenAuth.js'
import type { UserAdmin } from '../admin/UserAdmin.js'
import type { Protection } from '../limits/Protection.js'
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
  /** Whether anonymous users are accepted: `POST /v1/identities` and self-certified device tokens. */
  anonymousIdentities: boolean
  /** Users' devices and link codes; `undefined` when the storage keeps none. */
  devices: DeviceLinks | undefined
  /** The admin API's operations. */
  admin: UserAdmin
  /** The admin credential; `undefined` turns the admin API off. */
  adminToken: string | undefined
  /** New anonymous identities per remote address, issued or self-certified. */
  identities: IdentityAdmission
  /** Origins, rate limits. */
  protection: Protection
  /** Counters and histograms of `GET /metrics`. */
  metrics: ServerMetrics
  /** Runs authorised account merges (`POST /v1/account/merge`). */
  merger: AccountMerger
  /** Resolves once the storage is open; rejects when it cannot open or the server is closed. */
  ready(): Promise<void>
}
