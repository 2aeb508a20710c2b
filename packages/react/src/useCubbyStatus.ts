import { useSyncExternalStore } from 'react'
import { useCubbyContext } from './CubbyProvider.js'
import { CubbyHub, type CubbyStatusSnapshot, INITIAL_STATUS } from '@cubby/client/bindings'

const subscribeNothing = (): (() => void) => () => {}
const initialStatus = (): CubbyStatusSnapshot => INITIAL_STATUS

/**
 * The client's connection and sync state: `status` (`connecting` | `online` | `offline`), `loaded`,
 * `pendingCount`, `persistent`, `userId` and the latest background `error`.
 *
 * @example
 * ```ts
 * const { status, pendingCount } = useCubbyStatus()
 * return <span>{status}{pendingCount > 0 && `, ${pendingCount} pending`}</span>
 * ```
 */
export function useCubbyStatus(): CubbyStatusSnapshot {
  const cubby = useCubbyContext()
  const watch = cubby ? CubbyHub.of(cubby).status : undefined
  return useSyncExternalStore(watch?.subscribe ?? subscribeNothing, watch?.getSnapshot ?? initialStatus, initialStatus)
}
