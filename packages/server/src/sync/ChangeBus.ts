import type { Change } from '@cubby/protocol'
import type { Registry } from 'prom-client'
import type { StorageMetricsHooks } from '../storage/CubbyStorage.js'

/**
 * What happened to a user as a whole: `deleted` (its sessions get `user-deleted` and close 4010, and its tokens
 * issued until then stop working) or `replaced` (an import: its sessions close 4012 to catch up).
 */
export type UserEvent = 'deleted' | 'replaced'

/** What a {@link ChangeBus} hands to the server it was given to. */
export interface ChangeBusListener {
  /** The changes of a commit made on another node (consecutive revs), for a user this node subscribed to. */
  changes(userId: string, changes: readonly Change[]): void
  /** A user event published by any node (every node hears every user event, subscribed or not). */
  userEvent(userId: string, event: UserEvent): void
  /** A device of the user was revoked on any node (every node hears it): its sessions here close at once. */
  deviceRevoked(userId: string, deviceId: string): void
  /**
   * Messages may have been missed (the connection to the bus broke and is back, or a subscription just became
   * active): every live session reads what it lacks from storage, and cached deletion markers are dropped.
   * Without `userId`: all users.
   */
  resync(userId?: string): void
}

/**
 * Fans commits out across several server nodes that share one storage (e.g. `createRedisBus` of
 * `@cubby/redis`). A node publishes each of its commits and subscribes to the users it has live sessions for.
 * Delivery may lose messages: the sessions notice a gap in the revisions and read the rest from storage, and
 * a bus calls {@link ChangeBusListener.resync} after any outage, so a lost message delays a change but never
 * loses it. A bus does not hand a node back its own messages.
 */
export interface ChangeBus {
  /** Called once by the server, before anything else. */
  listen(listener: ChangeBusListener): void
  /** Publishes the changes of a commit made on this node. Never throws; a failure is the same as a lost message. */
  publish(userId: string, changes: readonly Change[]): void
  /** Publishes a user event to every node. Resolves once it was sent (rejects if it could not be). */
  publishUserEvent(userId: string, event: UserEvent): Promise<void>
  /**
   * Publishes a device's revocation to every node. Resolves once it was sent (rejects if it could not be). Optional:
   * a bus without it leaves the revoked device's sessions on other nodes open until they reconnect.
   */
  publishDeviceRevoked?(userId: string, deviceId: string): Promise<void>
  /** Starts taking the user's changes (the first live session of the user on this node). */
  subscribe(userId: string): void
  /** Stops taking the user's changes (the last live session is gone). */
  unsubscribe(userId: string): void
  /** Ends the subscriptions; the caller owns the bus and closes it after the server. */
  close(): Promise<void>
  /** Registers the bus's own metrics (e.g. Redis reconnects, pub/sub messages) into the server's registry, once, when the server is created. Optional. */
  registerMetrics?(registry: Registry, hooks: StorageMetricsHooks): void
}
