import type { Readable } from 'svelte/store'
import { type CubbyStoreOptions, resolveCubby } from './cubbyContext.js'
import { CubbyHub, NO_KEYS } from '@cubby/client/bindings'
import { readableOf } from './readableOf.js'
import type { RegisteredKeyUnder } from './Register.js'

/** Options of {@link cubbyKeys}. */
export interface CubbyKeysOptions<TPrefix extends string> extends CubbyStoreOptions {
  /** Only keys that start with this. @default '' (every key) */
  prefix?: TPrefix
}

/**
 * The keys under a prefix in code point order (the server's), as a readable store that changes only when a
 * key under it appears or goes: not when values change. Empty while loading.
 *
 * @example
 * ```svelte
 * <script>const todos = cubbyKeys({ prefix: 'todo/' })</script>
 * {#each $todos as key (key)}<Todo id={key} />{/each}
 * ```
 */
export function cubbyKeys<TPrefix extends string = ''>(
  options: CubbyKeysOptions<TPrefix> = {},
): Readable<ReadonlyArray<RegisteredKeyUnder<TPrefix>>> {
  const client = resolveCubby(options, 'cubbyKeys()')
  const watch = client ? CubbyHub.of(client).watchKeys(options.prefix ?? '') : undefined
  return readableOf(watch, NO_KEYS, (keys) => keys as ReadonlyArray<RegisteredKeyUnder<TPrefix>>)
}
