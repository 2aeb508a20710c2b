import type { Readable, Writable } from 'svelte/store'
import { type CubbyStoreOptions, resolveCubby } from './cubbyContext.js'
import { CubbyHub, type CubbyMeta, LOADING_SNAPSHOT } from '@cubby/client/bindings'
import { readableOf } from './readableOf.js'
import type { CubbyValue, RegisteredKey, RegisteredSchema } from './Register.js'

/** A key's value as a writable Svelte store (`set` stores it), with its {@link CubbyMeta} as a readable `meta` store. */
export interface CubbyStore<TValue> extends Writable<TValue> {
  /** Whether the value is loaded, pending or synced, and why the last write failed. */
  readonly meta: Readable<CubbyMeta>
}

const sameMeta = (a: CubbyMeta, b: CubbyMeta): boolean =>
  a.status === b.status && a.loaded === b.loaded && a.pending === b.pending && a.error === b.error

/**
 * One key as a writable store that honours the Svelte store contract, so `$theme` reads it and
 * `$theme = 'dark'` stores it, with or without runes. It holds `initial` while loading (and on the server)
 * and whenever the key has none; a failed write shows in `meta`, never as a throw.
 *
 * @param key - The key; typed by the registered schema (see {@link Register}).
 * @param initial - The value to show when the key has none.
 * @param options - `{ cubby }` to use outside component initialisation.
 * @example
 * ```svelte
 * <script>
 *   const theme = cubby('theme', 'light')
 *   const meta = theme.meta
 * </script>
 * <button onclick={() => ($theme = $theme === 'dark' ? 'light' : 'dark')}>{$theme} ({$meta.status})</button>
 * ```
 */
export function cubby<TKey extends RegisteredKey, TInitial extends RegisteredSchema[TKey]>(
  key: TKey,
  initial: TInitial,
  options?: CubbyStoreOptions,
): CubbyStore<CubbyValue<TKey, TInitial>> {
  type TValue = CubbyValue<TKey, TInitial>
  const client = resolveCubby(options, 'cubby()')
  const watch = client ? CubbyHub.of(client).watchKey(key) : undefined
  const value = readableOf(watch, LOADING_SNAPSHOT, (s) => (s.value === undefined ? initial : s.value) as TValue)
  const set = (next: TValue): void => {
    if (watch) void watch.set(next)
    else console.warn(`cubby(): ${JSON.stringify(key)} was set without a Cubby; the write is dropped`)
  }
  return {
    subscribe: value.subscribe,
    set,
    update: (updater) => {
      const stored = watch?.getSnapshot().value as TValue | undefined
      set(updater(stored === undefined ? (initial as unknown as TValue) : stored))
    },
    meta: readableOf(watch, LOADING_SNAPSHOT, (s) => s.meta, sameMeta),
  }
}
