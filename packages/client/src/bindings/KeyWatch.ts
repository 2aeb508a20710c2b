import type { CubbyHub } from './CubbyHub.js'
import { type CubbyValueSnapshot, createMeta } from './CubbyMeta.js'

/**
 * One key of one Cubby as a subscribable snapshot (`subscribe` + `getSnapshot`, for `useSyncExternalStore`, a
 * Vue ref or a Svelte store). The snapshot is read from the client on demand and keeps its identity until
 * something about the key changes, so components of other keys never re-render.
 *
 * Public for the bindings through `@cubby/client/bindings` (never tagged internal: stripInternal would drop it from
 * the published types that entry re-exports).
 */
export class KeyWatch {
  readonly key: string
  readonly #hub: CubbyHub
  #snapshot: CubbyValueSnapshot<unknown> | undefined

  constructor(hub: CubbyHub, key: string) {
    this.#hub = hub
    this.key = key
  }

  /** Calls `listener` whenever the snapshot may have changed; returns the unsubscribe function. */
  subscribe = (listener: () => void): (() => void) => this.#hub.onKey(this.key, this, listener)

  /** The key's value and meta now; the same object as last time when nothing changed. */
  getSnapshot = (): CubbyValueSnapshot<unknown> => {
    const { cubby } = this.#hub
    const value: unknown = cubby.getSnapshot(this.key)
    const loaded = this.#hub.loaded
    const pending = cubby.isPending(this.key)
    const error = this.#hub.errorOf(this.key)
    const { version } = cubby.getEntrySnapshot(this.key)
    const last = this.#snapshot
    if (last && Object.is(last.value, value) && last.meta.loaded === loaded && last.meta.pending === pending && last.meta.error === error
      && last.meta.version === version) {
      return last
    }
    return (this.#snapshot = { value, meta: createMeta(loaded, pending, error, version) })
  }

  /** Stores `value` under the key; a failure shows as `meta.error` instead of a rejection. */
  set = (value: unknown): Promise<void> => this.#hub.store(this.key, value)
}
