import { useSyncExternalStore } from 'react'
import { useCubbyContext } from './CubbyProvider.js'
import { CubbyHub, NO_KEYS } from '@cubby/client/bindings'
import type { RegisteredKeyUnder } from './Register.js'

/** Options of {@link useCubbyKeys}. */
export interface UseCubbyKeysOptions<TPrefix extends string> {
  /** Only keys that start with this. @default '' (every key) */
  prefix?: TPrefix
}

const subscribeNothing = (): (() => void) => () => {}
const noKeys = (): readonly string[] => NO_KEYS

/**
 * Lists the keys under a prefix in code point order (the server's), re-rendering only when a key under it
 * appears or goes: not when values change. Empty while loading and on the server.
 *
 * @example
 * ```ts
 * const keys = useCubbyKeys({ prefix: 'todo/' })
 * return keys.map((key) => <Todo key={key} id={key} />)
 * ```
 */
export function useCubbyKeys<TPrefix extends string = ''>(
  options: UseCubbyKeysOptions<TPrefix> = {},
): ReadonlyArray<RegisteredKeyUnder<TPrefix>> {
  const cubby = useCubbyContext()
  const watch = cubby ? CubbyHub.of(cubby).watchKeys(options.prefix ?? '') : undefined
  const keys = useSyncExternalStore(watch?.subscribe ?? subscribeNothing, watch?.getSnapshot ?? noKeys, noKeys)
  return keys as ReadonlyArray<RegisteredKeyUnder<TPrefix>>
}
