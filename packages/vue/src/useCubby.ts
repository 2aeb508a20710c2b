import { type ComputedRef, type MaybeRefOrGetter, type WritableComputedRef, computed, shallowRef, toValue, watch } from 'vue'
import { injectCubby } from './CubbyPlugin.js'
import { CubbyHub, type CubbyMeta, type CubbyValueSnapshot, type KeyWatch, LOADING_SNAPSHOT } from '@cubby/client/bindings'
import type { CubbyValue, RegisteredKey, RegisteredSchema } from './Register.js'

/** A key's value as a writable ref (setting it stores it), with its {@link CubbyMeta} as `meta`. */
export interface CubbyRef<TValue> extends WritableComputedRef<TValue> {
  /** Whether the value is loaded, pending or synced, and why the last write failed. */
  readonly meta: ComputedRef<CubbyMeta>
}

/**
 * One key as a writable ref: reading gives the value (or `initial` while loading and when the key has none),
 * assigning stores it. Reactive across components, and across tabs and devices through the client.
 *
 * @param key - The key, or a ref or getter of it (the ref follows it).
 * @param initial - The value to show when the key has none.
 * @returns The value's ref; a failed write shows as `ref.meta.value.error`, never as a throw.
 * @example
 * ```ts
 * const theme = useCubby('theme', 'light')
 * theme.value = 'dark'
 * const saving = computed(() => theme.meta.value.pending)
 * ```
 */
export function useCubby<TKey extends RegisteredKey, TInitial extends RegisteredSchema[TKey]>(
  key: MaybeRefOrGetter<TKey>,
  initial: TInitial,
): CubbyRef<CubbyValue<TKey, TInitial>> {
  type TValue = CubbyValue<TKey, TInitial>
  const cubby = injectCubby()
  const snapshot = shallowRef<CubbyValueSnapshot<unknown>>(LOADING_SNAPSHOT)
  let current: KeyWatch | undefined
  if (cubby) {
    const hub = CubbyHub.of(cubby)
    // Stops with the component (or effect scope) that called it, which ends the subscription.
    watch(
      () => toValue(key),
      (next, _previous, onCleanup) => {
        const keyWatch = (current = hub.watchKey(next))
        snapshot.value = keyWatch.getSnapshot()
        onCleanup(keyWatch.subscribe(() => void (snapshot.value = keyWatch.getSnapshot())))
      },
      { immediate: true },
    )
  }
  const value = computed<TValue>({
    get: () => (snapshot.value.value === undefined ? initial : snapshot.value.value) as TValue,
    set: (next) => {
      if (current) void current.set(next)
      else console.warn(`useCubby: ${JSON.stringify(toValue(key))} was set before there is a Cubby; the write is dropped`)
    },
  })
  return Object.assign(value, { meta: computed(() => snapshot.value.meta) })
}
