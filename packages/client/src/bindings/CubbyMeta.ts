// The framework-free core of @cubby/react, @cubby/vue and @cubby/svelte, as TanStack's bindings share query-core.
import type { CubbyError } from '@cubby/protocol'

/** Where a key's value stands, in one word: `error` wins, then `loading`, then `pending`, then `synced`. */
export type CubbyValueStatus = 'loading' | 'pending' | 'synced' | 'error'

/** What a binding knows about a key's value besides the value itself. The same in every binding. */
export interface CubbyMeta {
  /** One word for the UI, from the fields below. */
  readonly status: CubbyValueStatus
  /** The local cache is loaded, so the value is the stored one (or `initial` when the key has none). */
  readonly loaded: boolean
  /** A write of this key has not been acknowledged by the server yet. */
  readonly pending: boolean
  /** Loaded and not pending: the value is the one the server confirmed (as of the last sync). */
  readonly synced: boolean
  /**
   * Why loading failed, or why the last write of this key failed (through the binding, or the server's verdict on
   * any write of it, e.g. `CONFLICT`); the next successful write through the binding clears it.
   */
  readonly error: CubbyError | undefined
  /** The server's version of the key as last seen (for `ifVersion`); 0 when it has no value there (or before loading). */
  readonly version: number
}

/** A key's value as the client holds it (`undefined` when it has none) and its {@link CubbyMeta}. */
export interface CubbyValueSnapshot<TValue> {
  readonly value: TValue | undefined
  readonly meta: CubbyMeta
}

/** Builds the meta of a key from its facts. */
export function createMeta(loaded: boolean, pending: boolean, error: CubbyError | undefined, version = 0): CubbyMeta {
  const synced = loaded && !pending
  const status: CubbyValueStatus = error !== undefined ? 'error' : !loaded ? 'loading' : pending ? 'pending' : 'synced'
  return { status, loaded, pending, synced, error, version }
}

/** The snapshot of every key before there is a loaded client: on the server, and before the first load. */
export const LOADING_SNAPSHOT: CubbyValueSnapshot<never> = { value: undefined, meta: createMeta(false, false, undefined) }
