import type { CubbyError } from '@cubby/protocol'
import type { CubbyStatus } from '../CubbyEventMap.js'
import type { CubbyHub } from './CubbyHub.js'

/** A Cubby's connection and sync state as one snapshot. The same in every binding. */
export interface CubbyStatusSnapshot {
  /** `online` once caught up with the server, `connecting` until then (and on the server), `offline` when disconnected. */
  readonly status: CubbyStatus
  /** The local cache is loaded. */
  readonly loaded: boolean
  /** Values outlive the page (false before loading and when IndexedDB fell back to memory). */
  readonly persistent: boolean
  /** Writes the server has not acknowledged yet. */
  readonly pendingCount: number
  /** The user whose values these are, once loaded. */
  readonly userId: string | undefined
  /** The latest background error (a rejected write, auth, storage) or why loading failed. */
  readonly error: CubbyError | undefined
}

/** The status snapshot before there is a client: on the server, and in the first render of a provider given options. */
export const INITIAL_STATUS: CubbyStatusSnapshot = {
  status: 'connecting',
  loaded: false,
  persistent: false,
  pendingCount: 0,
  userId: undefined,
  error: undefined,
}

const FIELDS = Object.keys(INITIAL_STATUS) as Array<keyof CubbyStatusSnapshot>

/**
 * A Cubby's {@link CubbyStatusSnapshot} as `subscribe` + `getSnapshot`, which the client lacks (it has a
 * `status` event and getters).
 *
 * Public for the bindings through `@cubby/client/bindings` (never tagged internal: stripInternal would drop it from
 * the published types that entry re-exports).
 */
export class StatusWatch {
  readonly #hub: CubbyHub
  #snapshot: CubbyStatusSnapshot = INITIAL_STATUS

  constructor(hub: CubbyHub) {
    this.#hub = hub
  }

  /** Calls `listener` whenever the snapshot may have changed; returns the unsubscribe function. */
  subscribe = (listener: () => void): (() => void) => this.#hub.onState(listener)

  /** The status now; the same object as last time when nothing changed. */
  getSnapshot = (): CubbyStatusSnapshot => {
    const hub = this.#hub
    const { cubby } = hub
    const next: CubbyStatusSnapshot = {
      status: cubby.status,
      loaded: hub.loaded,
      persistent: cubby.persistent,
      pendingCount: cubby.pendingCount,
      userId: cubby.userId,
      error: hub.lastError,
    }
    if (FIELDS.every((field) => Object.is(next[field], this.#snapshot[field]))) return this.#snapshot
    return (this.#snapshot = next)
  }
}
