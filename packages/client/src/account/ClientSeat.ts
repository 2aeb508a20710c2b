import type { CubbyLimits } from '@cubby/protocol'
import type { CubbyOptions } from '../CubbyOptions.js'
import type { Session } from '../loadReplica.js'
import type { Replica, ReplicaHooks } from '../Replica.js'
import type { StorageGuard } from '../cache/StorageGuard.js'
import type { Link, LinkEvents } from '../sync/Link.js'

/** Who a client is and its parts: what changes when it signs in. @internal */
export interface ClientParts {
  options: CubbyOptions
  session: Session
  replica: Replica
  link: Link
}

/**
 * What `signIn` needs of a client's insides (kept out of `Cubby`, so that the sign-in code loads only when used).
 *
 * @internal
 */
export interface ClientSeat {
  readonly limits: CubbyLimits
  readonly storage: StorageGuard
  readonly hooks: ReplicaHooks & LinkEvents
  /** Aborted when the client closes. */
  readonly signal: AbortSignal
  /** The loaded replica (rejects with `CLOSED` once the client closes). */
  loaded(): Promise<Replica>
  /** The current parts, once loaded. */
  parts(): ClientParts
  /**
   * From now on reads and writes wait for `next`, whose parts are the client's once it resolves (and the previous
   * ones again if it rejects). Resolves once they are.
   */
  replace(next: Promise<ClientParts>): Promise<ClientParts>
}
