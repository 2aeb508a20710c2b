import { useCallback, useEffect, useRef, useSyncExternalStore } from 'react'
import { useCubbyContext } from './CubbyProvider.js'
import { CubbyHub, type CubbyMeta, type CubbyValueSnapshot, LOADING_SNAPSHOT } from '@cubby/client/bindings'
import type { CubbyValue, RegisteredKey, RegisteredSchema } from './Register.js'

/** Sets a value, or derives it from the current one like React's `setState`. Never rejects: failures show in `meta.error`. */
export type CubbySetter<TValue> = (action: TValue | ((current: TValue) => TValue)) => Promise<void>

/** What {@link useCubby} returns: the value (or `initial`), its setter and its {@link CubbyMeta}. */
export type CubbyState<TValue> = [value: TValue, setValue: CubbySetter<TValue>, meta: CubbyMeta]

const subscribeNothing = (): (() => void) => () => {}
const loadingSnapshot = (): CubbyValueSnapshot<never> => LOADING_SNAPSHOT

/**
 * Reads and writes one key, re-rendering only when that key's value or state changes. Renders `initial` while
 * loading (and on the server) and whenever the key has no value.
 *
 * @param key - The key; typed by the registered schema (see {@link Register}).
 * @param initial - The value to show when the key has none.
 * @returns `[value, setValue, meta]`; `setValue` resolves once the write is durable locally.
 * @example
 * ```ts
 * const [theme, setTheme, meta] = useCubby('theme', 'light')
 * return <button onClick={() => setTheme((t) => (t === 'dark' ? 'light' : 'dark'))}>{theme} {meta.status}</button>
 * ```
 */
export function useCubby<TKey extends RegisteredKey, TInitial extends RegisteredSchema[TKey]>(
  key: TKey,
  initial: TInitial,
): CubbyState<CubbyValue<TKey, TInitial>> {
  type TValue = CubbyValue<TKey, TInitial>
  const cubby = useCubbyContext()
  const watch = cubby ? CubbyHub.of(cubby).watchKey(key) : undefined
  const snapshot = useSyncExternalStore(watch?.subscribe ?? subscribeNothing, watch?.getSnapshot ?? loadingSnapshot, loadingSnapshot)
  const initialRef = useRef(initial)
  useEffect(() => {
    initialRef.current = initial
  })
  const setValue = useCallback<CubbySetter<TValue>>(
    (action) => {
      if (!watch) {
        console.warn(`useCubby: ${JSON.stringify(key)} was set before the Cubby exists; the write is dropped`)
        return Promise.resolve()
      }
      const stored = watch.getSnapshot().value as TValue | undefined
      const current = stored === undefined ? (initialRef.current as unknown as TValue) : stored
      return watch.set(typeof action === 'function' ? (action as (current: TValue) => TValue)(current) : action)
    },
    [watch, key],
  )
  const value = (snapshot.value === undefined ? initial : snapshot.value) as TValue
  return [value, setValue, snapshot.meta]
}
