import { type Ref, onScopeDispose, shallowRef } from 'vue'
import { injectCubby } from './CubbyPlugin.js'
import { CubbyHub, type CubbyStatusSnapshot, INITIAL_STATUS } from '@cubby/client/bindings'

/**
 * The client's connection and sync state as a ref: `status` (`connecting` | `online` | `offline`), `loaded`,
 * `pendingCount`, `persistent`, `userId` and the latest background `error`.
 *
 * @example
 * ```ts
 * const state = useCubbyStatus()
 * const label = computed(() => `${state.value.status}, ${state.value.pendingCount} pending`)
 * ```
 */
export function useCubbyStatus(): Readonly<Ref<CubbyStatusSnapshot>> {
  const cubby = injectCubby()
  const state = shallowRef<CubbyStatusSnapshot>(INITIAL_STATUS)
  if (cubby) {
    const watch = CubbyHub.of(cubby).status
    state.value = watch.getSnapshot()
    onScopeDispose(watch.subscribe(() => void (state.value = watch.getSnapshot())))
  }
  return state
}
