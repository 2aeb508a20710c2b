import type { CubbyError } from '@cubby/protocol'

/**
 * Connection state: `connecting` until the first attempt fails, and while an open socket waits for its welcome
 * and catch-up; `offline` once an attempt failed (the server unreachable) and while waiting to retry, when
 * disconnected, and after the client stopped; `online` once the catch-up after connecting is complete.
 */
export type CubbyStatus = 'connecting' | 'online' | 'offline'

/** One key's new visible value, or its deletion. */
export type CubbyChange = { key: string; value: unknown } | { key: string; deleted: true }

/** Detail of the `change` event. */
export interface CubbyChangeDetail {
  /** The keys whose visible value changed, in the order of `changes`. */
  keys: string[]
  changes: CubbyChange[]
  /** `local` for this client's own writes (and their rollback), `remote` for what came from the server or another tab. */
  origin: 'local' | 'remote'
}

/** Detail of the `status` event. */
export interface CubbyStatusDetail {
  status: CubbyStatus
  /** Whether the local cache outlives the page (false when it fell back to memory). */
  persistent: boolean
  /**
   * With `offline`, when the client found out why it cannot connect: `BAD_MESSAGE` for a `url` whose server
   * does not answer as Cubby (a wrong base path). The same error goes to the `error` event, once until it connects.
   * Tabs that coordinate get it from the leader tab, also one that joins later.
   */
  error?: CubbyError
}

/** Detail of the `pending` event. */
export interface CubbyPendingDetail {
  /** Keys whose pending state changed (a `clear` names no key). */
  keys: string[]
  /** Writes not yet acknowledged by the server. */
  count: number
}

/** Detail of the `error` event. */
export interface CubbyErrorDetail {
  error: CubbyError
  /** The key of the write this error rejected (the server's verdict, e.g. `CONFLICT`), when it was one key's. */
  key?: string
  /**
   * Set when the client stopped connecting because of this error, and stays offline (writes keep going to the
   * outbox) until the app acts: `token` the server refused the fixed token of `auth` (create a client with a
   * new one); `identity` it refused the anonymous identity this client created itself (the server lost or
   * deleted that user: start over with `signOut({ discardPending: true })` and a new client, which gets a new
   * identity); `version` it does not speak this client's protocol version (update the app).
   */
  stopped?: StopReason
  /**
   * With `CACHE_EVICTED`: how many pending writes were lost with the local database (they were only on this
   * device, never sent; there is no way to get them back). 0 when the client still had them in memory and wrote
   * them again.
   */
  lostWrites?: number
}

/** Why a client stopped connecting: see {@link CubbyErrorDetail.stopped}. */
export type StopReason = 'token' | 'identity' | 'version'

/** The events of a {@link Cubby}. */
export interface CubbyEventMap {
  /** Visible values changed: one event per applied batch, only for keys whose visible value changed. */
  change: CustomEvent<CubbyChangeDetail>
  /** The connection state or the persistence of the cache changed. */
  status: CustomEvent<CubbyStatusDetail>
  /** Writes became pending or were settled (acknowledged or rejected). */
  pending: CustomEvent<CubbyPendingDetail>
  /**
   * A background operation failed: a rejected write (with the server's code), auth, storage (`CACHE_FULL`,
   * `CACHE_EVICTED`, `CACHE_UNAVAILABLE`, `STORAGE_ERROR`), the protocol.
   */
  error: CustomEvent<CubbyErrorDetail>
}
