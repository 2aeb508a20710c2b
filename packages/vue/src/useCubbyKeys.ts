import { type MaybeRefOrGetter, type Ref, shallowRef, toValue, watch } from 'vue'
import { injectCubby } from './CubbyPlugin.js'
import { CubbyHub, NO_KEYS } from '@cubby/client/bindings'
import type { RegisteredKeyUnder } from './Register.js'

/** Options of {@link useCubbyKeys}. */
export interface UseCubbyKeysOptions<TPrefix extends string> {
  /** Only keys that start with this (a ref or getter is followed). @default '' (every key) */
  prefix?: MaybeRefOrGetter<TPrefix>
}

/**
 * The keys under a prefix in code point order (the server's), as a ref that changes only when a key under it
 * appears or goes: not when values change. Empty while loading.
 *
 * @example
 * ```ts
 * const keys = useCubbyKeys({ prefix: 'todo/' })
 * // <TodoItem v-for="key in keys" :key="key" :id="key" />
 * ```
 */
export function useCubbyKeys<TPrefix extends string = ''>(
  options: UseCubbyKeysOptions<TPrefix> = {},
): Readonly<Ref<ReadonlyArray<RegisteredKeyUnder<TPrefix>>>> {
  const cubby = injectCubby()
  const keys = shallowRef<readonly string[]>(NO_KEYS)
  if (cubby) {
    const hub = CubbyHub.of(cubby)
    watch(
      () => toValue(options.prefix) ?? '',
      (prefix, _previous, onCleanup) => {
        const keysWatch = hub.watchKeys(prefix)
        onCleanup(keysWatch.subscribe(() => void (keys.value = keysWatch.getSnapshot())))
        keys.value = keysWatch.getSnapshot()
      },
      { immediate: true },
    )
  }
  return keys as Readonly<Ref<ReadonlyArray<RegisteredKeyUnder<TPrefix>>>>
}
